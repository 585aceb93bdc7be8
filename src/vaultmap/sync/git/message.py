"""Commit messages that name the task changes (pure).

The subject counts what happened to tasks since ``HEAD`` across the committed notes, e.g.
``vaultmap: 3 done, 1 reopened, 2 added (2 notes)``; a commit that changes no task says
``vaultmap: notes edited (N)``. The body lists the changes per note. Tasks are matched
between the two versions of a note by key, then by the sync engine's re-matching (so a
reworded task that was also ticked counts as done, not as one removed and one added).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from vaultmap.display import printable
from vaultmap.model import DEFAULT_STATUS_MAP, Flavor, StatusMap, StatusType, Task, normalise_text
from vaultmap.parse import parse_note
from vaultmap.sync.identity import Candidate, rematch

# The order in which the subject names the kinds of change.
KINDS = ("done", "reopened", "cancelled", "started", "changed", "added", "removed")


@dataclass(frozen=True, slots=True)
class NoteChange:
    """One changed file of the commit: its bytes in ``HEAD`` and now (None: absent)."""

    path: str  # vault-relative
    old: bytes | None
    new: bytes | None
    is_note: bool = True


@dataclass(slots=True)
class NoteTaskChanges:
    path: str
    items: dict[str, list[str]] = field(default_factory=dict)  # kind -> task descriptions

    def add(self, kind: str, description: str) -> None:
        self.items.setdefault(kind, []).append(description)


def _kind(old: Task, new: Task) -> str | None:
    if old.status == new.status:
        return None
    if new.type is StatusType.DONE:
        return "done"
    if new.type is StatusType.CANCELLED:
        return "cancelled"
    if old.type in (StatusType.DONE, StatusType.CANCELLED):
        return "reopened"
    if new.type is StatusType.DOING:
        return "started"
    return "changed"


def task_changes(change: NoteChange, *, flavor: Flavor = Flavor.OBSIDIAN,
                 statuses: StatusMap = DEFAULT_STATUS_MAP) -> NoteTaskChanges:
    """What happened to the tasks of one note between its two versions."""
    out = NoteTaskChanges(change.path)
    if not change.is_note:
        return out
    old_tasks = parse_note(change.old, change.path, flavor=flavor, statuses=statuses).tasks \
        if change.old is not None else ()
    new_tasks = parse_note(change.new, change.path, flavor=flavor, statuses=statuses).tasks \
        if change.new is not None else ()
    old_by_key = {t.key: t for t in old_tasks}
    new_by_key = {t.key: t for t in new_tasks}
    vanished = [t for k, t in old_by_key.items() if k not in new_by_key]
    appeared = [t for k, t in new_by_key.items() if k not in old_by_key]
    pairs = rematch([_candidate(t) for t in vanished], [_candidate(t) for t in appeared])
    paired_old = set(pairs.values())
    for task in new_tasks:
        old_key = task.key if task.key in old_by_key else pairs.get(task.key)
        if old_key is None:
            out.add("added", task.display_description or task.display_text)
            continue
        kind = _kind(old_by_key[old_key], task)
        if kind is not None:
            out.add(kind, task.display_description or task.display_text)
    for task in vanished:
        if task.key not in paired_old:
            out.add("removed", task.display_description or task.display_text)
    return out


def _candidate(task: Task) -> Candidate:
    return Candidate(task.key, task.path, task.section, normalise_text(task.description),
                     task.status)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def summary(per_note: Sequence[NoteTaskChanges], changed_files: int) -> str:
    """``3 done, 1 reopened, 2 added (2 notes)`` or ``notes edited (N)``."""
    totals = {kind: sum(len(n.items.get(kind, ())) for n in per_note) for kind in KINDS}
    parts = [f"{totals[kind]} {kind}" for kind in KINDS if totals[kind]]
    if not parts:
        return f"notes edited ({changed_files})"
    notes = sum(1 for n in per_note if n.items)
    return ", ".join(parts) + f" ({_plural(notes, 'note')})"


def commit_message(changes: Sequence[NoteChange], *, template: str = "vaultmap: {summary}",
                   flavor: Flavor = Flavor.OBSIDIAN, statuses: StatusMap = DEFAULT_STATUS_MAP,
                   now: datetime | None = None, host: str | None = None) -> str:
    """The whole commit message: the subject from ``template``, a blank line, the body."""
    per_note = [task_changes(c, flavor=flavor, statuses=statuses) for c in changes]
    when = now or datetime.now().astimezone()
    subject = (template.replace("{summary}", summary(per_note, len(changes)))
               .replace("{host}", host if host is not None else socket.gethostname())
               .replace("{date}", when.date().isoformat()))
    body: list[str] = []
    for note in per_note:
        if not note.items:
            continue
        body.append(f"{printable(note.path)}:")
        for kind in KINDS:
            for description in note.items.get(kind, ()):
                body.append(f"  {kind}: {_one_line(description)}")
    edited = [printable(c.path) for c, n in zip(changes, per_note, strict=True) if not n.items]
    if edited:
        body.append("edited: " + ", ".join(edited))
    return subject + "\n\n" + "\n".join(body) + "\n"


def _one_line(text: str, limit: int = 100) -> str:
    # `git log` shows the message raw: no control character from a note reaches a terminal.
    text = printable(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
