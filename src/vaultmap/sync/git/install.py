"""``vaultmap git install`` / ``uninstall``: register the merge driver with a repository.

Install writes two things:

- ``merge.vaultmap.name`` and ``merge.vaultmap.driver`` in the repository's own config; the
  driver command names this interpreter by its absolute path
  (``/abs/python -m vaultmap merge-driver %O %A %B %L %P``), so it works when ``vaultmap``
  is not on PATH at merge time (a GUI, obsidian-git);
- one ``<pattern> merge=vaultmap`` line per note extension of the vault, between two comment
  lines that mark the block as vaultmap's, in ``.git/info/attributes`` (this clone only), or,
  with ``shared``, in the vault's ``.gitattributes`` for the user to commit. A clone without
  the driver configured silently falls back to git's text merge, so sharing is safe.

Uninstall removes exactly that: our block's lines (a line a user added inside the block
stays), the file if install created it and nothing else is left, and the ``merge.vaultmap``
config section.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vaultmap.errors import GitRepositoryError
from vaultmap.fs import (
    MAX_CONFIG_BYTES,
    Unreadable,
    UnsafePath,
    atomic_write,
    read_regular,
    real_target_inside,
)
from vaultmap.sync.git.repo import find_repo_root, git_dir, run_git

DRIVER = "vaultmap"
DRIVER_LABEL = "vaultmap task-aware merge of notes"
BLOCK_BEGIN = "# vaultmap: merge notes task by task (remove with `vaultmap git uninstall`)"
BLOCK_END = "# vaultmap: end"
# The end marker when install had to end the user's last line with a line break (the file
# did not end with one): uninstall takes that break away again, so the file is as it was.
BLOCK_END_ADDED_BREAK = "# vaultmap: end (a line break was added above the block)"
_NEEDS_QUOTES = set(' \t"\\')


@dataclass(frozen=True, slots=True)
class InstallReport:
    """What install (or uninstall) changed; paths are absolute."""

    repository: Path
    attributes: tuple[Path, ...]
    config_changed: bool
    patterns: tuple[str, ...] = ()


def driver_command(python: str | None = None) -> str:
    """The shell command git runs for a merge (git passes it to ``sh -c``)."""
    return f"{shlex.quote(python or sys.executable)} -m vaultmap merge-driver %O %A %B %L %P"


def attribute_patterns(vault: Path, repository: Path, extensions: Sequence[str], *,
                       shared: bool) -> list[str]:
    """The gitattributes patterns that select the vault's notes.

    In the vault's own ``.gitattributes`` a bare ``*.md`` applies below the vault only. In
    ``.git/info/attributes`` a vault that is a subfolder gets an anchored ``/sub/**/*.md``
    (C-quoted when the folder's name needs it) so notes outside it keep git's merge.
    """
    folder = vault.resolve().relative_to(repository.resolve()).as_posix()
    patterns = []
    for extension in extensions:
        suffix = extension if extension.startswith(".") else f".{extension}"
        pattern = f"*{suffix}" if shared or folder == "." else f"/{folder}/**/*{suffix}"
        if any(ch in _NEEDS_QUOTES for ch in pattern):
            pattern = '"' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '"'
        patterns.append(pattern)
    return patterns


def _block(patterns: Sequence[str], end: str = BLOCK_END) -> list[str]:
    return [BLOCK_BEGIN, *(f"{pattern} merge={DRIVER}" for pattern in patterns), end]


def _ours(line: str) -> bool:
    return line.endswith(f" merge={DRIVER}")


def _without_block(lines: list[bytes]) -> tuple[list[bytes], bool]:
    """``lines`` (each with its own line ending) without our block's own lines; whether there
    was a block. Every other line is kept byte for byte; a line break install had to add to
    the user's last line (the block's end marker says so) is taken away again."""
    kept: list[bytes] = []
    inside = found = False
    before = 0  # how many lines were kept when our block began
    for raw in lines:
        line = raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
        if line == BLOCK_BEGIN and not inside:
            inside = found = True
            before = len(kept)
            continue
        if inside and line in (BLOCK_END, BLOCK_END_ADDED_BREAK):
            inside = False
            if line == BLOCK_END_ADDED_BREAK and before and before == len(kept):
                kept[-1] = kept[-1].rstrip(b"\r\n")
            continue
        if inside and _ours(line):
            continue
        kept.append(raw)
    return kept, found


def _read_lines(path: Path) -> tuple[list[bytes], str, bool]:
    """The file's lines (each with its line ending, as bytes), its line ending, and whether it
    existed. A FIFO, a device or a huge file in its place (a cloned repository can carry any
    of them) is refused with one line."""
    try:
        data, _ = read_regular(path, MAX_CONFIG_BYTES)
    except Unreadable as unreadable:
        if unreadable.kind == "missing" and not path.is_symlink():
            return [], "\n", False
        raise GitRepositoryError(f"{path}: {unreadable.reason}") from None
    eol = "\r\n" if b"\r\n" in data else "\n"
    return data.splitlines(keepends=True), eol, True


def _where_to_write(path: Path, inside: Path) -> Path:
    """The real file a write to ``path`` lands on, refused when a symbolic link leads it out
    of ``inside`` (the repository for ``.gitattributes``, the git directory for
    ``info/attributes``)."""
    try:
        return real_target_inside(inside, path)
    except UnsafePath as unsafe:
        raise GitRepositoryError(f"{path}: {unsafe.reason}; nothing was written") from None


def _write_lines(path: Path, lines: Sequence[bytes]) -> None:
    try:
        atomic_write(path, b"".join(lines))
    except OSError as error:
        raise GitRepositoryError(f"{path}: cannot write ({error.strerror})") from None


def install(vault: Path, extensions: Sequence[str], *, shared: bool = False,
            python: str | None = None) -> InstallReport:
    """Register the driver for ``vault``'s notes (idempotent: a second install replaces the
    block it wrote). Raises :class:`~vaultmap.errors.GitRepositoryError` outside a work
    tree."""
    repository = find_repo_root(vault)
    run_git(["config", "--local", f"merge.{DRIVER}.name", DRIVER_LABEL], repository)
    run_git(["config", "--local", f"merge.{DRIVER}.driver", driver_command(python)], repository)
    if shared:
        target = _where_to_write(vault / ".gitattributes", repository)
    else:
        target = _where_to_write(git_dir(repository) / "info" / "attributes",
                                 git_dir(repository))
        target.parent.mkdir(parents=True, exist_ok=True)
    patterns = attribute_patterns(vault, repository, extensions, shared=shared)
    lines, eol, _ = _read_lines(target)
    lines, _ = _without_block(lines)
    end = BLOCK_END
    if lines and not lines[-1].endswith((b"\n", b"\r")):
        lines[-1] += eol.encode("ascii")
        end = BLOCK_END_ADDED_BREAK
    block = [(line + eol).encode("utf-8", "surrogateescape") for line in _block(patterns, end)]
    _write_lines(target, [*lines, *block])
    return InstallReport(repository, (target,), True, tuple(patterns))


def uninstall(vault: Path) -> InstallReport:
    """Remove what :func:`install` added, from both possible attribute files and the config;
    nothing a user wrote."""
    repository = find_repo_root(vault)
    changed: list[Path] = []
    for place, inside in ((git_dir(repository) / "info" / "attributes", git_dir(repository)),
                          (vault / ".gitattributes", repository)):
        _, _, existed = _read_lines(place)
        if not existed:
            continue
        target = _where_to_write(place, inside)
        lines, _, existed = _read_lines(target)
        if not existed:
            continue
        kept, found = _without_block(lines)
        if not found:
            continue
        changed.append(target)
        if kept:
            _write_lines(target, kept)
        else:
            target.unlink()
    driver = run_git(["config", "--local", "--get", f"merge.{DRIVER}.driver"], repository,
                     check=False)
    config_changed = driver.ok and "merge-driver" in driver.text
    if config_changed:
        run_git(["config", "--local", "--remove-section", f"merge.{DRIVER}"], repository)
    return InstallReport(repository, tuple(changed), config_changed)
