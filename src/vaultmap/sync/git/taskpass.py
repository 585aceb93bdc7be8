"""The vault-level task pass after a merge: a task moved to another note on one side and
ticked on the other.

A per-file merge driver sees each note alone: in the note the task left, it sees a tick on one
side against a deletion on the other and keeps the ticked task (a change wins over a
deletion); in the note it moved to, it sees only the move, unticked. Across the whole vault
the two are one task. This pass finds such pairs with the sync engine's re-matching
(:func:`vaultmap.sync.identity.rematch`: same description in another note) and plans, in the
merged vault, the tick on the moved task and the removal of the copy the driver kept, so the
tick lands on the moved task once. Pure: notes in, :class:`MovedTick` plans out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vaultmap.model import Note, Task, normalise_text
from vaultmap.sync.identity import Candidate, rematch

Notes = Mapping[str, Note]  # vault-relative path -> parsed note (absent: no such note)


@dataclass(frozen=True, slots=True)
class MovedTick:
    """In the merged vault: give ``target_key`` (in ``target_note``) the status ``status``
    (it has ``expected``), and drop the kept copy ``source_key`` from ``source_note``."""

    description: str
    target_note: str
    target_key: str
    expected: str
    status: str
    source_note: str
    source_key: str | None  # None: the driver did not keep a copy there


def _tasks(notes: Notes) -> dict[str, Task]:
    return {t.key: t for note in notes.values() for t in note.tasks}


def _candidate(task: Task) -> Candidate:
    return Candidate(task.key, task.path, task.section, normalise_text(task.description),
                     task.status)


def _moves(base: dict[str, Task], side: dict[str, Task]) -> dict[str, str]:
    """old key -> new key for the tasks ``side`` moved to another note."""
    vanished = [_candidate(t) for k, t in base.items() if k not in side]
    appeared = [_candidate(t) for k, t in side.items() if k not in base]
    pairs = rematch(vanished, appeared)
    return {old: new for new, old in pairs.items() if base[old].path != side[new].path}


def plan_moved_ticks(base: Notes, local: Notes, remote: Notes, merged: Notes) -> list[MovedTick]:
    """The fixes the merged vault needs (see the module docstring)."""
    base_tasks, merged_tasks = _tasks(base), _tasks(merged)
    sides = (_tasks(local), _tasks(remote))
    plans: list[MovedTick] = []
    for changed, mover in (sides, sides[::-1]):
        for old_key, new_key in _moves(base_tasks, mover).items():
            before, ticked = base_tasks[old_key], changed.get(old_key)
            moved = mover[new_key]
            if ticked is None or ticked.status == before.status:
                continue  # the other side did not change the status of the task
            if moved.status != before.status:
                continue  # both changed it: the merge's policy decided in the new note
            target = merged_tasks.get(new_key)
            if target is None or target.status == ticked.status:
                continue
            kept = merged_tasks.get(old_key)
            keep_copy = kept is not None and kept.path == before.path \
                and kept.status == ticked.status
            plans.append(MovedTick(moved.description or moved.text, target.path, new_key,
                                   target.status, ticked.status, before.path,
                                   old_key if keep_copy else None))
    return plans


def remove_task_line(data: bytes, task: Task, note: Note) -> bytes | None:
    """``data`` without the line of ``task``, or None when the line has children (a line
    below it indented deeper) and removing it would change more than the task."""
    if any(t.parent_line == task.line for t in note.tasks):
        return None
    start = data.rfind(b"\n", 0, task.offset) + 1
    newline = data.find(b"\n", task.offset)
    end = len(data) if newline < 0 else newline + 1
    following = data[end:data.find(b"\n", end) + 1 if data.find(b"\n", end) >= 0 else len(data)]
    if following.strip():
        ours = len(data[start:task.offset]) - len(data[start:task.offset].lstrip())
        theirs = len(following) - len(following.lstrip())
        if theirs > ours:
            return None
    return data[:start] + data[end:]
