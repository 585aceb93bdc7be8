"""Pure byte edits: bytes in, bytes out. No files, no clock.

Everything here works on a note's raw bytes and the :class:`~vaultmap.model.Note` the parser made
of those bytes. The only bytes that ever change are the status character of a task (between its
``[`` and ``]``) and, when asked, a Tasks-plugin done date (`` ✅ YYYY-MM-DD``) on the task's
first line. Line endings, BOM, invalid UTF-8, tabs, quote prefixes, markers and trailing spaces
are never touched, because nothing else is ever rewritten.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from vaultmap.model import Note, StatusMap, StatusType, Task

DONE_SIGN = "✅"
_DONE_SIGN_UTF8 = DONE_SIGN.encode("utf-8")
# A done date as the Tasks plugin reads it: whitespace, ✅ (maybe with the U+FE0F variation
# selector), optional spaces, a date-shaped value. Only matched on the task's own first line.
_DONE_DATE = re.compile(
    rb"[ \t]+" + re.escape(_DONE_SIGN_UTF8)
    + rb"(?:\xef\xb8\x8f)?[ \t]*\d{4}-\d{2}-\d{2}(?=[ \t]|$)"
)
# A trailing block id (` ^abc-1`) must stay last on the line (Tasks and Obsidian both need it
# there), so a done date goes in front of it.
_TRAILING_BLOCK_ID = re.compile(rb"[ \t]+\^[A-Za-z0-9-]+$")
_TRAILING_BLANKS = re.compile(rb"[ \t]*$")


@dataclass(frozen=True, slots=True)
class StatusChange:
    """Set the task with ``key`` from status ``expected`` to status ``new`` (one character each).

    ``line`` (1-based) is only a tie-breaker for the rare key shared by several tasks of one note
    (a duplicated block id or 🆔); a unique key wins even if the task has moved to another line.
    """

    key: str
    expected: str
    new: str
    line: int | None = None


# What became of one status change: written, or why not. "status_changed": the task no longer
# has the expected status (someone else changed it); "encoding": the new status (or done date)
# cannot be written in the note's encoding; "misplaced": the bytes are not where the parser put
# the task; "not_found" / "ambiguous_key": the key names no task, or several.
Verdict = Literal["applied", "bad_status", "not_found", "ambiguous_key", "status_changed",
                  "encoding", "misplaced"]


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What happened to one :class:`StatusChange`. ``reason`` says why it was not applied;
    ``verdict`` says it as a value a caller can act on (the CLI's exit code follows it)."""

    key: str
    applied: bool
    reason: str | None = None
    verdict: Verdict = "applied"


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    end: int
    replacement: bytes


def status_problem(char: str) -> str | None:
    """Why ``char`` cannot be written as a status, or ``None`` when it can."""
    if len(char) != 1:
        return f"a status is exactly one character, not {char!r}"
    if char in "[]" or unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
        return f"{char!r} cannot be a status character"
    return None


def note_codec(data: bytes, note: Note) -> str | None:
    """The codec to encode new text for this note with, or ``None`` when only ASCII is safe.

    A note the parser decoded with a legacy codec (cp1252 ...) keeps that codec. A note that
    claims UTF-8 but is not valid UTF-8 gets ASCII only: guessing would risk mojibake.
    """
    if not note.encoding.lower().replace("_", "-").startswith("utf-8"):
        return note.encoding
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def _encode(text: str, codec: str | None) -> bytes | None:
    try:
        return text.encode(codec or "ascii")
    except (UnicodeEncodeError, LookupError):
        return None


def line_end(data: bytes, pos: int) -> int:
    """Offset of the first ``\\r`` or ``\\n`` at or after ``pos`` (``len(data)`` if none)."""
    lf = data.find(b"\n", pos)
    limit = len(data) if lf < 0 else lf
    cr = data.find(b"\r", pos, limit)  # bounded: a note without CR is not scanned to its end
    return cr if cr >= 0 else limit


def _done_date_edit(data: bytes, task: Task, *, add: date | None) -> _Edit | None:
    """Add (``add`` given) or remove the done date on the task's first line."""
    tail_start = task.offset + task.status_len + 1  # just after the closing bracket
    tail_end = line_end(data, tail_start)
    tail = data[tail_start:tail_end]
    found = list(_DONE_DATE.finditer(tail))
    if add is None:
        if not found:
            return None
        last = found[-1]  # Tasks reads fields from the end: the last one is the field
        return _Edit(tail_start + last.start(), tail_start + last.end(), b"")
    if found:
        return None  # already carries a done date: keep the user's
    content_end = _TRAILING_BLANKS.search(tail)
    insert_at = content_end.start() if content_end else len(tail)
    block = _TRAILING_BLOCK_ID.search(tail[:insert_at])
    if block:
        insert_at = block.start()
    stamp = b" " + _DONE_SIGN_UTF8 + b" " + add.isoformat().encode("ascii")
    return _Edit(tail_start + insert_at, tail_start + insert_at, stamp)


def _find_task(tasks_by_key: dict[str, list[Task]], change: StatusChange) -> Task | ChangeResult:
    candidates = tasks_by_key.get(change.key, [])
    if not candidates:
        return ChangeResult(change.key, False,
                            "task not found in the note (edited, moved or deleted)", "not_found")
    if len(candidates) == 1:
        return candidates[0]
    if change.line is not None:
        for task in candidates:
            if task.line == change.line:
                return task
    lines = ", ".join(str(t.line) for t in candidates)
    return ChangeResult(change.key, False, f"key is shared by several tasks (lines {lines})",
                        "ambiguous_key")


def plan_status_changes(
    data: bytes,
    note: Note,
    changes: Sequence[StatusChange],
    statuses: StatusMap,
    *,
    done_date: date | None = None,
) -> tuple[bytes, list[ChangeResult]]:
    """Apply ``changes`` to ``data`` (parsed as ``note``); return the new bytes and one result each.

    Changes are applied in order, so a later change of the same task sees the status an earlier
    one set. A change is applied only when its task is found by key and currently has the
    ``expected`` status. With ``done_date`` given, a task that becomes done gets
    `` ✅ <done_date>`` on its first line (before a trailing block id) and a task that stops
    being done loses its done date. Nothing else changes.
    """
    tasks_by_key: dict[str, list[Task]] = {}
    for task in note.tasks:
        tasks_by_key.setdefault(task.key, []).append(task)
    codec = note_codec(data, note)
    current: dict[int, str] = {}  # task offset -> status after the changes so far
    targets: dict[int, Task] = {}
    results: list[ChangeResult] = []
    for change in changes:
        problem = status_problem(change.new)
        found = _find_task(tasks_by_key, change)
        if problem is not None:
            results.append(ChangeResult(change.key, False, problem, "bad_status"))
            continue
        if isinstance(found, ChangeResult):
            results.append(found)
            continue
        task = found
        now = current.get(task.offset, task.status)
        if now != change.expected:
            results.append(ChangeResult(
                change.key, False, f"status is [{now}], expected [{change.expected}]",
                "status_changed"))
            continue
        if _encode(change.new, codec) is None:
            results.append(ChangeResult(
                change.key, False, f"[{change.new}] cannot be written in this note's encoding",
                "encoding"))
            continue
        if data[task.offset - 1:task.offset] != b"[" or data[
                task.offset + task.status_len:task.offset + task.status_len + 1] != b"]":
            results.append(ChangeResult(
                change.key, False, "the task is not where the parser put it; nothing changed",
                "misplaced"))
            continue
        current[task.offset] = change.new
        targets[task.offset] = task
        results.append(ChangeResult(change.key, True, None, "applied"))

    edits: list[_Edit] = []
    for offset, task in targets.items():
        final = current[offset]
        if final == task.status:
            continue
        encoded = _encode(final, codec)
        assert encoded is not None  # checked above
        edits.append(_Edit(offset, offset + task.status_len, encoded))
        if done_date is None or codec != "utf-8":
            continue  # ✅ cannot be written into a note that is not UTF-8
        was_done = statuses.type_of(task.status) is StatusType.DONE
        is_done = statuses.type_of(final) is StatusType.DONE
        if was_done != is_done:
            date_edit = _done_date_edit(data, task, add=done_date if is_done else None)
            if date_edit is not None:
                edits.append(date_edit)
    return apply_edits(data, edits), results


def apply_edits(data: bytes, edits: Sequence[_Edit]) -> bytes:
    """Splice non-overlapping edits into ``data`` (any order given; applied back to front)."""
    out = bytearray(data)
    last_start = len(data) + 1
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        if edit.end > last_start:
            raise ValueError("overlapping edits")
        out[edit.start:edit.end] = edit.replacement
        last_start = edit.start
    return bytes(out)


def line_ending(data: bytes) -> bytes:
    """The line ending this note uses most (``\\n`` for a note without one)."""
    crlf = data.count(b"\r\n")
    lf = data.count(b"\n") - crlf
    cr = data.count(b"\r") - crlf
    best = max((crlf, b"\r\n"), (lf, b"\n"), (cr, b"\r"), key=lambda pair: pair[0])
    return best[1] if best[0] > 0 else b"\n"


def append_lines(data: bytes, lines: Sequence[str], codec: str | None) -> bytes:
    """``data`` with ``lines`` appended, each ended with the note's own line ending.

    A last line without an ending gets one first, so the new lines never glue onto it. A BOM
    stays where it is (at the start). Raises ``ValueError`` for a line holding a line break or
    text the note's encoding cannot hold.
    """
    if not lines:
        return data
    ending = line_ending(data)
    chunks: list[bytes] = []
    if data and not data.endswith((b"\n", b"\r")):
        chunks.append(ending)
    for line in lines:
        if "\n" in line or "\r" in line:
            raise ValueError(f"a line to append holds a line break: {line!r}")
        encoded = _encode(line, codec)
        if encoded is None:
            raise ValueError(f"cannot write {line!r} in this note's encoding")
        chunks.append(encoded + ending)
    return data + b"".join(chunks)
