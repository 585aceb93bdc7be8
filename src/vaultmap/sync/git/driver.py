"""The merge driver git runs for notes: ``vaultmap merge-driver %O %A %B %L %P``.

git writes the base, ours and theirs versions of a note to temporary files, runs the driver in
the top folder of the work tree and expects the merged result in ``%A``: exit 0 for a clean
merge, non-zero for a conflict (markers in ``%A``). ``%L`` is the conflict marker size and
``%P`` the note's path in the repository.

The driver must never break git's merge. Any unexpected error (an unreadable config, a bug)
puts ``%A`` back as git gave it, runs ``git merge-file`` on the three files exactly as git's
own text merge would have, and exits with its answer (0 clean, 1 conflict), never above 128;
the reason goes to ``.vaultmap/merge-driver.log``. Each merge also appends one JSON line to
``.vaultmap/git-merges.jsonl`` (the note, its conflict lines and what the merge decided on its
own, such as a ticked task kept although the other side deleted it), which ``vaultmap sync
--git`` and ``vaultmap status`` report.

It imports only what a merge needs (the parser, the settings, re-matching): no click, no rich,
no Notion client, no SQLite (``benchmarks/bench_merge.py`` measures the whole process).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

USAGE = "usage: vaultmap merge-driver BASE CURRENT OTHER [MARKER_SIZE] [PATH]"
LOG_NAME = "merge-driver.log"
RECORD_NAME = "git-merges.jsonl"
_LOG_LIMIT = 512 * 1024  # bytes; the log is rotated to .1 beyond this
_RECORDS_MAX_BYTES = 16 * 1024 * 1024  # years of merges; past this it is not our record
_STATE_DIR = ".vaultmap"  # vaultmap.config.STATE_DIR, named here so a fallback needs no import
_CONFIG_NAME = ".vaultmap.toml"


@dataclass(frozen=True, slots=True)
class DriverArgs:
    base: Path
    current: Path
    other: Path
    marker_size: int
    path: str  # the note's path in the repository, POSIX separators


def main(argv: Sequence[str]) -> int:
    """Run the driver on ``argv`` (what follows ``merge-driver``); returns the exit code."""
    # One merge, then the process ends: the cyclic collector would only rescan the parsed
    # tasks again and again (10-30% of a big note's merge), and nothing here forms cycles.
    gc.disable()
    if len(argv) < 3 or len(argv) > 5:
        print(f"vaultmap: {USAGE}", file=sys.stderr)
        return 2
    marker = argv[3] if len(argv) > 3 else "7"
    args = DriverArgs(Path(argv[0]), Path(argv[1]), Path(argv[2]),
                      int(marker) if marker.isdigit() and 0 < int(marker) < 1000 else 7,
                      argv[4] if len(argv) > 4 else Path(argv[1]).name)
    root = Path.cwd()  # git runs merge drivers in the top folder of the work tree
    original = _Original()
    try:
        return _merge(root, args, original)
    except BaseException as error:  # nothing may escape into git's merge
        reason = f"{type(error).__name__}: {error}".strip().splitlines()[0][:300]
        _log(root, args.path, f"task-aware merge failed ({reason}); fell back to git's text "
                              "merge")
        return _fallback(args, original.data)


@dataclass(slots=True)
class _Original:
    """``%A`` as git gave it, once read: what a failed merge puts back before git's own."""

    data: bytes | None = None


def _merge(root: Path, args: DriverArgs, original: _Original) -> int:
    from vaultmap.config import load_settings
    from vaultmap.sync.git.merge import MergeResult, merge_note

    vault = _vault_root(root, args.path)
    settings = load_settings(vault)
    # Sizes before contents: a version over the cap is never read into memory (the scan
    # skips such a note too); git's text merge, which streams it, is what it gets.
    largest = max(os.stat(name).st_size for name in (args.base, args.current, args.other))
    if largest > settings.vault.max_note_bytes:
        _log(root, args.path, f"{largest} bytes is over [vault] max_note_mb; used git's text "
                              "merge")
        return _fallback(args, None)
    try:
        current = original.data = args.current.read_bytes()
    except OSError as error:
        _log(root, args.path, f"cannot read {args.current}: {error.strerror}")
        return 1
    base = args.base.read_bytes()
    other = args.other.read_bytes()
    note_path = _relative(root / args.path, vault)
    git_directory = _git_dir(root)
    rebasing = git_directory is not None and (
        (git_directory / "rebase-merge").is_dir() or (git_directory / "rebase-apply").is_dir())

    def merge(conflict_style: str) -> MergeResult:
        return merge_note(
            base, current, other, path=note_path, prefer=settings.git.prefer,
            flavor=settings.vault.flavor, statuses=settings.statuses,
            ours_is_local=not rebasing, marker_size=args.marker_size,
            conflict_style=conflict_style,
            labels=("ours (upstream)", "base", "theirs (local)") if rebasing
            else ("ours", "base", "theirs"))

    result = merge("merge")
    if result.conflicts:
        # Only markers need the user's merge.conflictStyle: a clean merge (the common case,
        # one process per note) spares the `git config` process that reads it.
        style = _conflict_style(root)
        if style != "merge":
            result = merge(style)
    with open(args.current, "wb") as handle:  # git's own temporary copy of the note
        handle.write(result.data)
    state = _state_dir(vault)
    if result.notes or result.conflicts:
        _record(state, {
            "time": _now(), "path": args.path, "rebase": rebasing,
            "conflicts": [[hunk.start_line, hunk.end_line] for hunk in result.conflicts],
            "notes": list(result.notes)})
    for line in result.notes:
        _log(root, args.path, line, state)
    if result.conflicts:
        lines = ", ".join(f"{h.start_line}-{h.end_line}" for h in result.conflicts)
        _log(root, args.path, f"conflict left for the user at lines {lines}", state)
        return 1
    return 0


def _fallback(args: DriverArgs, current: bytes | None) -> int:
    """git's own text merge of the three files into ``%A``: 0 clean, 1 conflict. ``current``
    is ``%A`` as git gave it, put back first when it was read (None: never read, so never
    written either)."""
    try:
        if current is not None:
            with open(args.current, "wb") as handle:
                handle.write(current)
        env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
        done = subprocess.run(
            ["git", "merge-file", "-q", f"--marker-size={args.marker_size}", "-L", "ours",
             "-L", "base", "-L", "theirs", str(args.current), str(args.base), str(args.other)],
            capture_output=True, env=env, check=False)
        return 0 if done.returncode == 0 else 1
    except BaseException:  # still never crash git's merge
        return 1


# --------------------------------------------------------------------------- where things are


def _vault_root(root: Path, path: str) -> Path:
    """The folder of the note's vault: the nearest one up from the note, within the work
    tree, that has a ``.vaultmap.toml`` (or ``.obsidian/``); else the work tree's top."""
    folder = (root / path).parent
    while True:
        if (folder / _CONFIG_NAME).is_file() or (folder / ".obsidian").is_dir():
            return folder
        if folder == root or root not in folder.parents:
            return root
        folder = folder.parent


def _relative(note: Path, vault: Path) -> str:
    try:
        return note.relative_to(vault).as_posix()
    except ValueError:
        return note.name


def _git_dir(root: Path) -> Path | None:
    """The git directory of the work tree at ``root``, read without running git."""
    from_env = os.environ.get("GIT_DIR")
    if from_env:
        return (root / from_env).resolve()
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    try:  # a linked worktree or submodule: ".git" is a file "gitdir: <path>"
        text = dot_git.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if text.startswith("gitdir:"):
        return (root / text[len("gitdir:"):].strip()).resolve()
    return None


def _conflict_style(root: Path) -> str:
    """The user's ``merge.conflictStyle`` (merge, diff3 or zdiff3), so our markers look like
    the ones git would have written."""
    try:
        done = subprocess.run(["git", "config", "--get", "merge.conflictStyle"], cwd=root,
                              capture_output=True, check=False)
    except OSError:
        return "merge"
    style = done.stdout.decode("utf-8", "replace").strip().lower()
    return style if style in ("diff3", "zdiff3") else "merge"


def _state_dir(vault: Path) -> Path | None:
    """``VAULT/.vaultmap`` (created, ignoring itself for git), or None when it, or one of the
    driver's files in it, is a symbolic link (a vault from elsewhere could point it anywhere)
    or it cannot be made."""
    from vaultmap.fs import UnsafePath, private_folder, refuse_links

    try:
        state = private_folder(vault, _STATE_DIR)
        refuse_links(state, (".gitignore", LOG_NAME, LOG_NAME + ".1", RECORD_NAME))
        if not os.path.lexists(state / ".gitignore"):
            _append(state / ".gitignore", "# vaultmap's local state: never committed\n*\n",
                    exclusive=True)
    except (OSError, UnsafePath):
        return None
    return state


def _append(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Append ``text`` to ``path`` (created if missing), never through a symbolic link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | (os.O_EXCL if exclusive else 0), 0o666)
    try:
        from vaultmap.fs import write_all

        write_all(fd, text.encode("utf-8", "replace"))
    finally:
        os.close(fd)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _log(root: Path, path: str, message: str, state: Path | None = None) -> None:
    """One line in ``.vaultmap/merge-driver.log``; a log that cannot be written is skipped."""
    try:
        if state is None:
            state = _state_dir(_vault_root(root, path))
        if state is None:
            return
        log = state / LOG_NAME
        if log.is_file() and not log.is_symlink() and log.stat().st_size > _LOG_LIMIT:
            log.replace(state / (LOG_NAME + ".1"))
        _append(log, f"{_now()} {_one_line(path)}: {_one_line(message)}\n")
    except OSError:
        pass


def _record(state: Path | None, entry: dict[str, object]) -> None:
    if state is None:
        return
    with contextlib.suppress(OSError):
        _append(state / RECORD_NAME, json.dumps(entry, ensure_ascii=False) + "\n")


def _one_line(text: str) -> str:
    """``text`` with line breaks and other control characters made visible, so a note path
    or an error message cannot forge or break log lines."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def read_merge_records(state_dir: Path, *, since: float = 0.0) -> list[dict[str, object]]:
    """The merges the driver recorded in ``state_dir`` (``.vaultmap/``), oldest first, each
    ``{"time", "path", "rebase", "conflicts": [[start, end], ...], "notes": [...]}``;
    ``since`` (a POSIX time) skips older ones. A damaged line is skipped."""
    import calendar  # here, not at the top: every merge-driver process would pay for it

    from vaultmap.fs import Unreadable, read_regular

    try:  # a FIFO or a device in its place must not hang or exhaust memory
        data, _ = read_regular(state_dir / RECORD_NAME, _RECORDS_MAX_BYTES)
        lines = data.decode("utf-8").splitlines()
    except (Unreadable, UnicodeDecodeError):
        return []
    records: list[dict[str, object]] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, or nested past Python's stack
            continue
        if not isinstance(entry, dict):
            continue
        try:
            when = float(calendar.timegm(time.strptime(str(entry.get("time")),
                                                       "%Y-%m-%dT%H:%M:%SZ")))
        except ValueError:
            when = 0.0
        if when >= since:
            records.append(entry)
    return records
