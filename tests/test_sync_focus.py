"""A focused plan (the daemon's: only the notes that changed) is the full plan.

From an agreed state spread over several notes, the vault changes in some notes (statuses,
text, deletions, a task moved to another note, new tasks) and rows change in the remote (an
incremental read holds the rows edited since). Planned with ``focus`` naming the changed notes,
and given only the base entries the runner reads for it (the entries of the rows' ids and keys,
then of the scoped notes), the plan must be the full plan, action for action, including the
guard, notices and conflicts.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.model import DEFAULT_STATUS_MAP, StatusType, normalise_text
from vaultmap.sync.engine import Focus, Plan, Policy, close_scope, plan_sync, scope_notes
from vaultmap.sync.remote import RemoteRow, TaskRecord
from vaultmap.sync.state import BaseEntry

NOTES = ["a.md", "b.md", "c.md", "d.md"]
STATUSES = [" ", "x", "/", "-"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
CANONICAL = {StatusType.TODO: " ", StatusType.DONE: "x", StatusType.DOING: "/",
             StatusType.CANCELLED: "-", StatusType.OTHER: "?"}


def record(key: str, status: str, text: str, note: str) -> TaskRecord:
    return TaskRecord(key=key, status=status,
                      status_type=DEFAULT_STATUS_MAP.type_of(status).value, text=text, note=note)


def row_of(rec: TaskRecord, remote_id: str, *, status: str | None = None, content: str = "",
           trashed: bool = False, key: str | None = "") -> RemoteRow:
    return RemoteRow(remote_id, rec.key if key == "" else key,
                     status if status is not None else rec.status, rec.text,
                     note=rec.note, content_hash=content or rec.content_hash(), trashed=trashed)


def agreed(tasks: list[tuple[int, str, str]]) -> tuple[dict[str, TaskRecord],
                                                        dict[str, BaseEntry],
                                                        dict[str, RemoteRow]]:
    vault: dict[str, TaskRecord] = {}
    base: dict[str, BaseEntry] = {}
    rows: dict[str, RemoteRow] = {}
    for index, (note, status, text) in enumerate(tasks):
        key = f"k:{NOTES[note]}:{index}"
        rec = record(key, status, f"{text} {index}", NOTES[note])
        vault[key] = rec
        rows[key] = row_of(rec, f"r{index}")
        base[key] = BaseEntry(key, f"r{index}", status, status, rec.content_hash(),
                              rec.content_hash(), rec.note, normalise_text(rec.text), ())
    return vault, base, rows


def runner_base(base: dict[str, BaseEntry], vault: dict[str, TaskRecord],
                rows: list[RemoteRow], changed: frozenset[str]) -> dict[str, BaseEntry]:
    """What the runner reads: the entries the rows name, then the entries of the scope's
    notes and of its tasks' keys, widening the scope until no key leads out of it."""
    ids = {r.remote_id for r in rows}
    keys = {r.key for r in rows if r.key}
    read = {k: e for k, e in base.items() if k in keys or e.remote_id in ids}
    notes = scope_notes(changed, rows, read, vault)
    while True:
        read |= {k: e for k, e in base.items()
                 if e.note in notes or (k in vault and vault[k].note in notes)}
        wider = close_scope(notes, read, vault)
        if wider == notes:
            return read
        notes = wider


def same_plan(focused: Plan, full: Plan) -> None:
    assert focused.describe() == full.describe()
    assert focused.actions == full.actions
    assert focused.notices == full.notices
    assert focused.conflicts == full.conflicts
    assert focused.guard == full.guard


task_st = st.tuples(st.integers(0, len(NOTES) - 1), st.sampled_from(STATUSES),
                    st.sampled_from(WORDS))
change_st = st.tuples(
    st.sampled_from(["none", "none", "status", "text", "delete", "move", "id-moved-to",
                     "id-moved-from"]),
    st.sampled_from(["none", "none", "status", "text", "trash", "nokey"]),
    st.sampled_from(STATUSES), st.sampled_from(STATUSES), st.integers(0, len(NOTES) - 1))


@pytest.mark.slow
@settings(max_examples=examples(300), deadline=None)
@given(tasks=st.lists(task_st, min_size=1, max_size=14),
       changes=st.lists(change_st, min_size=14, max_size=14),
       new_tasks=st.lists(task_st, max_size=3),
       prefer=st.sampled_from(["done", "vault", "notion"]),
       guard_min=st.sampled_from([2, 10**6]))
def test_focused_plan_is_the_full_plan(tasks: list[tuple[int, str, str]],
                                       changes: list[tuple[str, str, str, str, int]],
                                       new_tasks: list[tuple[int, str, str]], prefer: str,
                                       guard_min: int) -> None:
    vault, base, all_rows = agreed(tasks)
    policy = Policy(prefer=prefer, guard_min=guard_min)  # type: ignore[arg-type]
    changed: set[str] = set()
    touched: list[RemoteRow] = []
    for (vault_change, remote_change, new_vault, new_remote, to_note), key in zip(
            changes, list(vault), strict=False):
        rec = vault[key]
        row = all_rows[key]
        if vault_change == "status":
            vault[key] = replace(rec, status=new_vault,
                                 status_type=DEFAULT_STATUS_MAP.type_of(new_vault).value)
        elif vault_change == "text":
            vault[key] = replace(rec, text=rec.text + " zulu")
        elif vault_change == "delete":
            del vault[key]
        elif vault_change == "move":
            # A task cut from one note and pasted into another: a new content key there;
            # both notes changed.
            del vault[key]
            moved = replace(rec, key=f"{key}@{NOTES[to_note]}", note=NOTES[to_note])
            vault[moved.key] = moved
            changed.add(moved.note)
        elif vault_change.startswith("id-moved") and NOTES[to_note] != rec.note:
            # A task with an explicit id (the key is vault-wide) now in another note, and
            # only one of the two notes saved since the last sync (a copy pasted first, the
            # original deleted later: the saves fall into different syncs).
            vault[key] = replace(rec, note=NOTES[to_note])
            if vault_change == "id-moved-to":
                changed.add(NOTES[to_note])
        if vault_change not in ("none", "id-moved-to"):
            changed.add(rec.note)
        if remote_change == "status":
            touched.append(replace(row, status=CANONICAL[DEFAULT_STATUS_MAP.type_of(new_remote)]))
        elif remote_change == "text":
            touched.append(replace(row, content_hash=row.content_hash + "-edited"))
        elif remote_change == "trash":
            touched.append(replace(row, trashed=True))
        elif remote_change == "nokey":
            touched.append(replace(row, key=None))  # a person cleared the row's Key
    for offset, (note, status, text) in enumerate(new_tasks):
        key = f"k:new:{offset}"
        vault[key] = record(key, status, f"{text} new {offset}", NOTES[note])
        changed.add(NOTES[note])

    full = plan_sync(vault, touched, base, complete=False, policy=policy)
    focus = Focus(frozenset(changed), linked_total=sum(e.linked for e in base.values()),
                  vault_size=len(vault))
    # Given the whole base, or only what the runner reads, the plan is the same.
    same_plan(plan_sync(vault, touched, base, complete=False, policy=policy, focus=focus), full)
    partial = runner_base(base, vault, touched, focus.notes)
    same_plan(plan_sync(vault, touched, partial, complete=False, policy=policy, focus=focus),
              full)


def test_the_guard_counts_the_whole_base_in_a_focused_plan() -> None:
    tasks = [(0, " ", "alpha")] * 12 + [(1, " ", "bravo")] * 8
    vault, base, _ = agreed(tasks)
    emptied = {k: r for k, r in vault.items() if r.note != "a.md"}  # 12 of 20 tasks deleted
    focus = Focus(frozenset({"a.md"}), linked_total=20, vault_size=len(emptied))
    only_a = {k: e for k, e in base.items() if e.note == "a.md"}
    plan = plan_sync({}, [], only_a, complete=False, focus=focus)
    assert plan.guard is not None and "12 of 20 synced tasks vanished" in plan.guard
    # A small loss against the whole base is no mass deletion, even if it empties the note.
    small = plan_sync({}, [], only_a, complete=False,
                      focus=Focus(frozenset({"a.md"}), linked_total=200, vault_size=188))
    assert small.guard is None and len(small.actions) == 12
