"""Byte-exact status changes with atomic, compare-and-swap writes.

This package is the one place where vaultmap writes a user's notes. Sync, the daemon and the CLI
all go through :func:`set_statuses` and :func:`append_tasks`::

    from vaultmap.edit import StatusChange, set_statuses

    results = set_statuses(settings, Path("Projects/Roadmap.md"),
                           [StatusChange(key=task.key, expected=" ", new="x")])
    for result in results:
        if not result.applied:
            print(result.key, result.reason)

The promises:

1. Only the status character changes (plus a `` ✅ YYYY-MM-DD`` done date when
   ``[edit] done_date = true``). Every other byte stays, permission bits included.
2. The note is replaced atomically (temporary file, fsync, rename, fsync of the folder); it
   keeps its mode, owner (when allowed), ``user.*`` extended attributes and ACLs. A symlinked
   note is written at its target and the link stays a link, but only when that target is
   inside the vault's real path: nothing is ever written outside the vault
   (:class:`~vaultmap.errors.OutsideVaultError`).
3. Compare-and-swap: a note that changed since it was read is read and parsed again, and each
   change is applied only if its task is still there (by key) with the expected status.
4. A read-only note (no write bit in its mode; enforced even for root), a vanished note and a
   note that never stops changing are refused with a one-line :class:`~vaultmap.errors.EditError`.

Known limits (deliberate):

- A note with several hard links is replaced under this name only (the usual price of atomic
  replace-by-rename; a symlinked note is fine).
- A program that keeps the note open for writing for a long time (a logger holding an append
  descriptor) keeps writing to the replaced file. vaultmap waits up to 2 s for writers to
  close and carries over what they wrote; anything later is theirs to lose. Waiting uses Linux
  file leases (we must own the note or be root); elsewhere the carry-over is best effort.
- The done date and non-ASCII status characters are only written into notes whose encoding
  can hold them (UTF-8; a cp1252 note takes cp1252 status characters but no ✅).

The pure byte functions live in :mod:`vaultmap.edit.patch`, the file handling in
:mod:`vaultmap.edit.atomic`, target resolution for the CLI in :mod:`vaultmap.edit.targets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from vaultmap.config import Settings
from vaultmap.edit.atomic import rewrite_file
from vaultmap.edit.patch import (
    ChangeResult,
    StatusChange,
    append_lines,
    note_codec,
    plan_status_changes,
    status_problem,
)
from vaultmap.errors import (
    EditError,
    NoteEncodingError,
    NoteVanishedError,
    OutsideVaultError,
    VaultReadError,
)
from vaultmap.fs import Unreadable, UnsafePath, read_regular, real_target_inside
from vaultmap.model import Note, Task
from vaultmap.parse import parse_note
from vaultmap.vault.paths import resolve_note

RECOVERY_FOLDER = "recovered"


def _full_path(settings: Settings, note: Path) -> tuple[Path, str]:
    """The note's absolute path and vault-relative name; ``note`` is absolute or relative to
    the vault root (the one rule of :func:`vaultmap.vault.paths.resolve_note`)."""
    try:
        full, relative = resolve_note(settings, note)
    except VaultReadError:
        raise EditError(f"{note}: not inside the vault {settings.root}") from None
    if not relative:
        raise EditError(f"{note}: is the vault folder, not a note")
    return Path(full), relative


def parse_for_edit(settings: Settings, data: bytes, relative: str) -> Note:
    """Parse ``data`` the way the vault does (same flavour and status map)."""
    return parse_note(data, relative, flavor=settings.vault.flavor, statuses=settings.statuses)


def _done_date(settings: Settings, done_date: date | None) -> date | None:
    if not settings.edit.done_date:
        return None
    return done_date if done_date is not None else date.today()


def set_statuses(
    settings: Settings,
    note: Path,
    changes: Sequence[StatusChange],
    *,
    done_date: date | None = None,
) -> list[ChangeResult]:
    """Apply ``changes`` to one note in one atomic write; return one result per change.

    ``note`` is absolute or relative to the vault root. A change is applied only when the task
    with its key is in the note with the ``expected`` status; otherwise its result says why and
    the other changes still go ahead. When ``[edit] done_date`` is on, a task that becomes done
    gets `` ✅ <done_date>`` (default: today) and a task that stops being done loses it.

    Raises :class:`~vaultmap.errors.NoteVanishedError`,
    :class:`~vaultmap.errors.ReadOnlyNoteError` or :class:`~vaultmap.errors.NoteBusyError`
    (nothing changed) and :class:`~vaultmap.errors.EditError` for other I/O failures.
    """
    full, relative = _full_path(settings, note)
    stamp = _done_date(settings, done_date)

    def transform(data: bytes) -> tuple[bytes | None, list[ChangeResult]]:
        parsed = parse_for_edit(settings, data, relative)
        new, results = plan_status_changes(data, parsed, changes, settings.statuses,
                                           done_date=stamp)
        return (None if new == data else new), results

    if not changes:
        return []
    return rewrite_file(full, transform, display=relative,
                        recovery_dir=settings.state_dir / RECOVERY_FOLDER, inside=settings.root)


def append_tasks(settings: Settings, note: Path, lines: Sequence[str]) -> None:
    """Append ``lines`` (each one Markdown line, no line break) to a note in one atomic write.

    Keeps the note's line-ending style and BOM, ends an unterminated last line first, and
    creates the note (and its folders, inside the vault) when it does not exist yet. Same
    atomic and compare-and-swap rules as :func:`set_statuses`.
    """
    full, relative = _full_path(settings, note)
    if not lines:
        return
    for line in lines:
        if "\n" in line or "\r" in line:
            raise EditError(f"{relative}: a line to append holds a line break")

    def transform(data: bytes) -> tuple[bytes | None, None]:
        codec = note_codec(data, parse_for_edit(settings, data, relative)) if data else "utf-8"
        try:
            return append_lines(data, lines, codec), None
        except ValueError:
            raise NoteEncodingError(f"{relative}: the lines cannot be written in this note's "
                                    "encoding; nothing changed") from None

    try:
        # Judged before any folder is made: a new inbox under a linked folder must not create
        # folders (or the note) outside the vault.
        real_target_inside(settings.root, full)
    except UnsafePath as unsafe:
        raise OutsideVaultError(f"{relative}: {unsafe.reason}; nothing changed") from None
    folder = full.parent
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EditError(f"{relative}: cannot create its folder ({exc.strerror})") from None
    rewrite_file(full, transform, display=relative, create=True,
                 recovery_dir=settings.state_dir / RECOVERY_FOLDER, inside=settings.root)


@dataclass(frozen=True, slots=True)
class Preview:
    """What :func:`preview_statuses` would write, without writing it."""

    path: str
    before: bytes
    after: bytes
    results: list[ChangeResult]
    encoding: str


def preview_statuses(
    settings: Settings,
    note: Path,
    changes: Sequence[StatusChange],
    *,
    done_date: date | None = None,
) -> Preview:
    """The bytes :func:`set_statuses` would write now (for ``--dry-run``); changes nothing."""
    full, relative = _full_path(settings, note)
    try:
        data, _ = read_regular(full, settings.vault.max_note_bytes, "note size limit")
    except Unreadable as unreadable:
        if unreadable.kind == "missing":
            raise NoteVanishedError(f"{relative}: the note no longer exists") from None
        raise EditError(f"{relative}: {unreadable.reason}") from None
    parsed = parse_for_edit(settings, data, relative)
    after, results = plan_status_changes(data, parsed, changes, settings.statuses,
                                         done_date=_done_date(settings, done_date))
    return Preview(relative, data, after, results, note_codec(data, parsed) or "utf-8")


def descendants(note: Note, parent: Task) -> list[Task]:
    """The tasks nested under ``parent`` (children, grandchildren ...), in file order.

    A task belongs to the subtree while it follows ``parent`` with a greater depth and no
    heading or shallower-or-equal task comes between. When the parser reports parent lines, a
    task whose parent item starts before ``parent`` is outside the subtree too.
    """
    heading_lines = {h.line for h in note.headings}
    found: list[Task] = []
    for task in note.tasks:
        if task.line <= parent.line:
            continue
        if task.depth <= parent.depth:
            break
        if any(parent.line < line < task.line for line in heading_lines):
            break
        if task.parent_line is not None and task.parent_line < parent.line:
            break
        found.append(task)
    return found


__all__ = [
    "ChangeResult",
    "Preview",
    "StatusChange",
    "append_tasks",
    "descendants",
    "preview_statuses",
    "set_statuses",
    "status_problem",
]
