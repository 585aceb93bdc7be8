"""The memo of ``vaultmap report``: its last answer, served while nothing it came from changed.

A warm report whose notes are all unchanged since the last run (the walk's stamp: every
note's path, size, modification and change times and inode), asked the same way (every option, the
day, the settings), by the same code (every vaultmap source file, rich, msgspec, Python),
on the same output (a terminal's size, colours and encoding: the whole environment but its
secrets) and, with history, at the same git HEAD, prints what the last one printed: stdout
and the warnings alike, byte for byte, without reading the index or importing a renderer.
Any difference in any of these makes another key, and the report is worked out anew (and
kept for next time). A report is kept only when the scan was *settled* (no note changed
too close to the scan to trust its stamp, :attr:`vaultmap.vault.ScanResult.settled`), and
never with ``--no-index``. See ``docs/architecture.md`` (start-up and the warm report).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from vaultmap import __version__
from vaultmap.config import Settings
from vaultmap.errors import VaultmapError
from vaultmap.fs import source_stamp

if TYPE_CHECKING:
    from vaultmap.vault.walk import VaultWalk

_KEY_FORMAT = "vaultmap.report-memo/1"
# Variables that can hold credentials never enter the key (they do not change a report).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASS|KEY|AUTH|CREDENTIAL|COOKIE|SESSION", re.I)
# Set by shells for each command (the program run, the folder before the last cd, the
# nesting depth): nothing a report depends on, and they would make every run another key.
_SHELL_BOOKKEEPING = frozenset({"_", "OLDPWD", "SHLVL"})
# The memo file per kind of answer: a terminal report and a JSON one are both kept.
MEMO_KINDS = ("terminal", "json", "markdown")


def memo_name(fmt: str) -> str:
    """The memo's name (:func:`vaultmap.vault.memo.memo_file_name`) for a report format."""
    return f"report.{fmt}"


def history_state(settings: Settings) -> object:
    """What a report's history answers (Stalled, Focus) come from: a string when there is no
    history to read (no git at all, or not a work tree: the report goes without, every
    time), else the repository and its HEAD commit; None when git cannot tell (the report
    is then not kept)."""
    if not _maybe_git(settings.root):
        return "no git"
    from vaultmap.sync.git.vaultrepo import open_repo_at_head

    try:
        repo, head = open_repo_at_head(settings)
    except VaultmapError as error:  # not a work tree after all: the report has no history
        return f"no repository: {error}"
    except OSError:
        return None
    return (str(repo.git_dir), repo.prefix, head)


def report_key(settings: Settings, walk: VaultWalk, request: Iterable[object],
               history: object) -> str | None:
    """The memo key of one report: None when this report is not to be kept. ``request`` is
    everything the command line asked; ``history`` its :func:`history_state` (or "off")."""
    if history is None:
        return None
    parts = (
        _KEY_FORMAT, __version__, walk.stamp, repr(settings), tuple(request), history,
        _code_stamp(), _outside(),
    )
    try:
        data = msgspec.msgpack.encode(parts)
    except (UnicodeEncodeError, TypeError):
        data = repr(parts).encode("utf-8", "backslashreplace")
    return hashlib.blake2b(data, digest_size=20).hexdigest()


# What makes git find a repository elsewhere than by a .git at or above the folder (other
# GIT_* variables, GIT_EDITOR say, do not).
_GIT_DISCOVERY = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
                  "GIT_DISCOVERY_ACROSS_FILESYSTEM")


def _maybe_git(root: Path) -> bool:
    """Whether git could see a repository at ``root`` (a ``.git`` there or above it, or git
    pointed elsewhere by its environment); False spares a git process."""
    if any(name in os.environ for name in _GIT_DISCOVERY):
        return True
    folder = root.absolute()
    return any(os.path.lexists(place / ".git") for place in (folder, *folder.parents))


def _outside() -> tuple[object, ...]:
    """What a terminal (or a pipe) and the environment make of the same report: rich reads
    the environment (colour, width, ``NO_COLOR``...) and the terminal's size and encoding."""
    environment = tuple(sorted((name, value) for name, value in os.environ.items()
                               if name not in _SHELL_BOOKKEEPING
                               and not _SECRET_NAME.search(name)))
    streams: list[object] = []
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        tty: object = None
        size: object = None
        try:
            tty = stream.isatty()  # as rich and the JSON report's layout ask
            if tty:
                size = tuple(os.get_terminal_size(stream.fileno()))
        except (AttributeError, ValueError, OSError):
            pass
        streams.append((tty, size, getattr(stream, "encoding", None),
                        getattr(stream, "errors", None)))
    return (sys.platform, sys.version, environment, tuple(streams))


@functools.cache
def _code_stamp() -> str:
    """Every vaultmap source file's size and modification time, and those of the libraries
    that shape a report's bytes (rich, msgspec, click): an edit or an upgrade makes another
    key."""
    stamps = [source_tree_stamp(Path(__file__).resolve().parent.parent)]
    for library in ("rich", "msgspec", "click"):
        # An upgrade rewrites the package's files, its __init__ among them.
        spec = importlib.util.find_spec(library)
        origin = spec.origin if spec is not None else None
        stamps.append(f"{library}={source_stamp(origin) if origin else '?'}")
    return "\n".join(stamps)


def source_tree_stamp(folder: Path) -> str:
    """A digest of the name, size and modification time of every source file (Python,
    templates) under ``folder``."""
    stamps: list[str] = []
    stack = [str(folder)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__":
                            stack.append(entry.path)
                    elif entry.name.endswith((".py", ".html", ".css", ".js", ".j2", ".toml")):
                        stamps.append(f"{entry.path}={source_stamp(entry.path)}")
        except OSError:
            stamps.append(f"{current}=?")
    return hashlib.blake2b("\n".join(stamps).encode("utf-8", "backslashreplace"),
                           digest_size=20).hexdigest()


def write_console_text(text: str) -> None:
    """Write a terminal report to stdout as rich does (``Console._write_buffer``: the text,
    then a flush); a closed pipe ends the command as rich's ``on_broken_pipe`` does."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(1) from None
