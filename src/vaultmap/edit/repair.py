"""Write a note's mojibake repair into the note (``vaultmap doctor --fix``).

The display repair (:mod:`vaultmap.parse.mojibake`) never touches a note. This module writes
exactly that repaired text back, through the same atomic compare-and-swap writer as every
status change (:func:`vaultmap.edit.atomic.rewrite_file`):

* only the damaged spans change; every other byte (line endings, BOM, trailing blanks) stays,
  and so do the permission bits;
* the bytes about to be replaced are first copied to ``.vaultmap/backup/`` (fsynced), named
  after the note and a hash of their content, so a retry after a concurrent edit backs up
  that version too and nothing is ever overwritten;
* only UTF-8 notes are rewritten: a note in a legacy code page could not hold the repaired
  characters (doctor reports it as "not valid UTF-8" instead).

Task keys hash the repaired text (docs/mojibake.md), so a repaired note keeps every key and
a sync afterwards finds every row.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from vaultmap.config import Settings
from vaultmap.edit import RECOVERY_FOLDER
from vaultmap.edit.atomic import rewrite_file
from vaultmap.errors import OutsideVaultError
from vaultmap.fs import UnsafePath, atomic_write, real_target_inside
from vaultmap.parse import detect_encoding, mojibake_plan, split_lines
from vaultmap.parse.mojibake import damaged_spans
from vaultmap.vault.paths import note_path, open_state_folder

BACKUP_FOLDER = "backup"


@dataclass(frozen=True, slots=True)
class LineRepair:
    """One line a repair changes: 1-based ``line`` and its text before and after."""

    line: int
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class NoteRepair:
    """What repairing one note does (or did): the spans, the lines, the new bytes."""

    path: str
    spans: int
    lines: tuple[LineRepair, ...]
    data: bytes  # the repaired note
    backup: Path | None = None  # where the original went (None for a dry run)


def plan_repair(data: bytes, path: str) -> NoteRepair | None:
    """The repaired bytes of a note, or None when there is nothing to repair (pure).

    None too for a note that is not UTF-8: its code page could not hold the repaired text.
    """
    encoding = detect_encoding(data)
    if encoding not in ("utf-8", "utf-8-sig"):
        return None
    plan = mojibake_plan(data, encoding)
    if plan is None:
        return None
    text = data.decode("utf-8")  # valid: detect_encoding said so
    spans = damaged_spans(text, plan)
    if not spans:
        return None
    pieces: list[bytes] = []
    changed: list[tuple[int, int]] = []  # byte spans of the original that change
    char_pos = byte_pos = 0
    for span in spans:
        byte_start = byte_pos + len(text[char_pos:span.start].encode("utf-8"))
        byte_end = byte_start + len(span.before.encode("utf-8"))
        pieces.append(data[byte_pos:byte_start])
        pieces.append(span.after.encode("utf-8"))
        changed.append((byte_start, byte_end))
        char_pos, byte_pos = span.end, byte_end
    pieces.append(data[byte_pos:])
    new = b"".join(pieces)
    return NoteRepair(path, len(spans), _changed_lines(data, new, changed), new)


def _changed_lines(old: bytes, new: bytes, changed: list[tuple[int, int]]) -> tuple[
        LineRepair, ...]:
    old_lines = split_lines(old)
    new_lines = split_lines(new)
    # Repairs never add or remove a line ending (they only replace non-ASCII characters).
    touched: list[int] = []
    index = 0
    for start, _end in changed:
        while index < len(old_lines) and old_lines[index][1] < start:
            index += 1
        if not touched or touched[-1] != index:
            touched.append(index)
    result = []
    for index in touched:
        if index >= len(old_lines) or index >= len(new_lines):
            continue
        os_, oe = old_lines[index]
        ns, ne = new_lines[index]
        result.append(LineRepair(index + 1, old[os_:oe].decode("utf-8", "replace"),
                                 new[ns:ne].decode("utf-8", "replace")))
    return tuple(result)


def _backup(settings: Settings, relative: str, data: bytes) -> Path:
    """Copy ``data`` to ``.vaultmap/backup/<note>.<hash>`` durably; an existing copy of the
    same bytes is kept as is. The copy never lands outside the vault: a linked ``.vaultmap/``
    or backup folder is refused like every other write (docs/architecture.md)."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    try:
        folder = open_state_folder(settings.state_dir)
        target = real_target_inside(settings.root,
                                    folder / BACKUP_FOLDER / f"{relative}.{digest}")
    except UnsafePath as unsafe:
        raise OutsideVaultError(f"{relative}: its backup {unsafe.reason}; nothing changed"
                                ) from None
    if target.is_file() and target.read_bytes() == data:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, data, new_mode=0o600)
    return target


def repair_note(settings: Settings, relative: str) -> NoteRepair | None:
    """Repair the mojibake of one note in place (atomic, compare-and-swap, backup first).

    ``relative`` is the note's vault-relative path. Returns what was done, or None when the
    note (as it is at the moment of writing) has nothing to repair. Raises the edit layer's
    errors (:class:`~vaultmap.errors.ReadOnlyNoteError`, ``NoteVanishedError``,
    ``NoteBusyError``) with nothing changed.
    """
    relative = note_path(settings, Path(relative))
    full = Path(os.path.abspath(settings.root)) / relative

    def transform(data: bytes) -> tuple[bytes | None, NoteRepair | None]:
        repair = plan_repair(data, relative)
        if repair is None:
            return None, None
        backup = _backup(settings, relative, data)
        return repair.data, NoteRepair(repair.path, repair.spans, repair.lines, repair.data,
                                       backup)

    return rewrite_file(full, transform, display=relative,
                        recovery_dir=settings.state_dir / RECOVERY_FOLDER, inside=settings.root)
