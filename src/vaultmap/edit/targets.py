"""Turning what a user typed (``PATH:LINE``, a task key, ``--match TEXT``) into tasks.

Resolution only reads; the write (and its compare-and-swap) happens in
:func:`vaultmap.edit.set_statuses`, which finds every task again by key just before writing.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vaultmap.config import Settings
from vaultmap.edit import descendants, parse_for_edit
from vaultmap.errors import AmbiguousTargetError, EditError, TargetNotFoundError, VaultmapError
from vaultmap.fs import Unreadable, read_regular, text_problem
from vaultmap.model import Note, Task
from vaultmap.vault import scan_vault
from vaultmap.vault.paths import note_path, resolve_note
from vaultmap.vault.read import NOTE_SIZE_LIMIT

KEY_PREFIXES = ("k:", "id:", "block:")
_LINE_TARGET = re.compile(r"^(?P<path>.+):(?P<line>[1-9][0-9]*)$")
_MAX_LISTED = 20


@dataclass(frozen=True, slots=True)
class Target:
    """One task to change, with the parsed note it was found in."""

    path: str  # vault-relative POSIX path
    task: Task
    note: Note


def describe(path: str, task: Task) -> str:
    """``path:line  [s]  text``: how a task is shown in lists and messages."""
    return f"{path}:{task.line}  [{task.status}]  {task.display_text}"


def _read_note(settings: Settings, full: Path, relative: str) -> bytes:
    """The bytes of a note named by the user; a one-line error for anything that is not one.

    Read through the one safe reader (:func:`vaultmap.fs.read_regular`): a FIFO or a device
    named like a note is refused instead of hanging the command.
    """
    try:
        data, _ = read_regular(full, settings.vault.max_note_bytes, NOTE_SIZE_LIMIT)
    except Unreadable as unreadable:
        if unreadable.kind == "missing":
            raise TargetNotFoundError(f"{relative}: no such note") from None
        if unreadable.kind == "folder":
            raise TargetNotFoundError(f"{relative}: is a folder, not a note") from None
        if unreadable.kind == "special":
            raise TargetNotFoundError(f"{relative}: not a regular file, not a note") from None
        raise EditError(f"{relative}: {unreadable.reason}") from None
    problem = text_problem(data)
    if problem is not None:
        # The vault scan skips such files too: there is no task in them to change.
        raise TargetNotFoundError(f"{relative}: {problem}, not a note")
    return data


class _Notes:
    """Parsed notes, read at most once per command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: dict[str, Note] = {}
        self._scanned = False

    def one(self, relative: str) -> Note:
        note = self._cache.get(relative)
        if note is None:
            full = Path(os.path.abspath(self.settings.root)) / relative
            data = _read_note(self.settings, full, relative)
            note = parse_for_edit(self.settings, data, relative)
            self._cache[relative] = note
        return note

    def all(self) -> list[Note]:
        if not self._scanned:
            result = scan_vault(self.settings)
            for note in result.notes:
                self._cache.setdefault(note.path, note)
            self._scanned = True
        return [self._cache[path] for path in sorted(self._cache)]


def _ambiguous(what: str, hits: Sequence[Target]) -> AmbiguousTargetError:
    listed = [f"  {describe(hit.path, hit.task)}" for hit in hits[:_MAX_LISTED]]
    if len(hits) > _MAX_LISTED:
        listed.append(f"  ... and {len(hits) - _MAX_LISTED} more")
    return AmbiguousTargetError(
        f"{what} matches {len(hits)} tasks; name one as PATH:LINE, or pass --all to change "
        "them all. Nothing changed.\n" + "\n".join(listed))


def _by_line(notes: _Notes, settings: Settings, raw_path: str, line: int, cwd: Path) -> Target:
    # One base: PATH is absolute or relative to the vault root, as `vaultmap tasks` prints it.
    try:
        relative = note_path(settings, Path(raw_path))
    except VaultmapError:
        raise TargetNotFoundError(f"{raw_path}: not inside the vault {settings.root}") from None
    try:
        note = notes.one(relative)
    except TargetNotFoundError:
        here = Path(os.path.abspath(cwd / raw_path))
        if not Path(raw_path).is_absolute() and here.is_file():
            try:
                hint = note_path(settings, here)
            except VaultmapError:
                raise TargetNotFoundError(
                    f"{relative}: no such note in the vault {settings.root} (a PATH is "
                    "relative to the vault root)") from None
            raise TargetNotFoundError(
                f"{relative}: no such note; a PATH is relative to the vault root, as "
                f"`vaultmap tasks` prints it: {hint}:{line}") from None
        raise
    for task in note.tasks:
        if task.line == line:
            return Target(relative, task, note)
    raise TargetNotFoundError(f"{relative}:{line}: no task on that line")


def _names_a_file(settings: Settings, raw_path: str) -> bool:
    """Whether a ``k:...:12``-like target names a note (vault-relative or absolute)."""
    try:
        return os.path.lexists(resolve_note(settings, raw_path)[0])
    except VaultmapError:
        return False


def _by_key(notes: _Notes, key: str) -> list[Target]:
    if key.startswith("block:") and "#^" in key:
        # A block id is unique within its note, and the key names the note: read just that one.
        relative = key[len("block:"):key.rindex("#^")]
        pool = [notes.one(relative)]
    else:
        pool = notes.all()
    return [Target(note.path, task, note) for note in pool for task in note.tasks
            if task.key == key]


# A user's --regex may backtrack for minutes ("(a+)+$" on a long task): each pattern gets this
# many seconds for the whole vault, after which it is refused in one line.
REGEX_SECONDS = 2.0


def _matcher(pattern: str, regex: bool) -> Callable[[str], bool]:
    if regex:
        import regex as regex_module  # the re dialect with a timeout; only --regex needs it

        try:
            compiled = regex_module.compile(pattern)
        except regex_module.error as exc:
            raise EditError(f"--regex {pattern!r}: {exc}") from None
        deadline = time.monotonic() + REGEX_SECONDS

        def search(text: str) -> bool:
            try:
                left = max(deadline - time.monotonic(), 0.001)
                return compiled.search(text, timeout=left) is not None
            except TimeoutError:
                raise EditError(f"--regex {pattern!r}: gave up after {REGEX_SECONDS:g}s (the "
                                "pattern backtracks too much; simplify it)") from None

        return search
    needle = pattern.casefold()
    return lambda text: needle in text.casefold()


def resolve_targets(
    settings: Settings,
    specs: Sequence[str],
    matches: Sequence[str] = (),
    *,
    regex: bool = False,
    all_matches: bool = False,
    with_children: bool = False,
    cwd: Path | None = None,
) -> list[Target]:
    """The tasks named by ``specs`` (``PATH:LINE`` or keys) and ``matches`` (substring/regex).

    ``PATH`` is absolute or relative to the vault root (as ``vaultmap tasks`` prints it);
    ``cwd`` (default: the current folder) only serves a hint when a path from there was
    meant. A ``--match`` is case-insensitive unless ``regex``. A key
    or match that names several tasks raises :class:`AmbiguousTargetError` (exit 2) listing
    them, unless ``all_matches``. Each task appears once, in the order first named; with
    ``with_children`` each target's nested tasks follow it.
    """
    notes = _Notes(settings)
    here = cwd if cwd is not None else Path.cwd()
    found: list[Target] = []
    for spec in specs:
        line_target = _LINE_TARGET.match(spec)
        is_key = spec.startswith(KEY_PREFIXES)
        if line_target and not (is_key and not _names_a_file(settings, line_target["path"])):
            found.append(_by_line(notes, settings, line_target["path"], int(line_target["line"]),
                                  here))
        elif is_key:
            hits = _by_key(notes, spec)
            if not hits:
                raise TargetNotFoundError(f"{spec}: no task has this key")
            if len(hits) > 1 and not all_matches:
                raise _ambiguous(f"key {spec}", hits)
            found.extend(hits)
        else:
            raise TargetNotFoundError(
                f"{spec!r}: not a target; give PATH:LINE, a task key or --match TEXT")
    for pattern in matches:
        accepts = _matcher(pattern, regex)
        hits = [Target(note.path, task, note) for note in notes.all() for task in note.tasks
                if accepts(task.text)
                or (task.repaired_text is not None and accepts(task.repaired_text))]
        if not hits:
            raise TargetNotFoundError(f"--match {pattern!r}: no task matches")
        if len(hits) > 1 and not all_matches:
            raise _ambiguous(f"--match {pattern!r}", hits)
        found.extend(hits)

    ordered: list[Target] = []
    seen: set[tuple[str, int]] = set()
    for target in found:
        family = [target]
        if with_children:
            family += [Target(target.path, child, target.note)
                       for child in descendants(target.note, target.task)]
        for member in family:
            ident = (member.path, member.task.offset)
            if ident not in seen:
                seen.add(ident)
                ordered.append(member)
    return ordered
