"""Property tests of the pure planner (hypothesis).

From an agreed state, both sides change at random (statuses, text, deletions, trash, new
tasks); the plan is applied to an in-memory model of both sides exactly as the runner would
(each action's ``entry`` becomes the base), then:

* planning again yields nothing (a plan is a fixpoint: no ping-pong, no leftovers);
* no status change is lost except as the policy says: a side that alone changed wins; when
  both changed to different types the policy's choice is on both sides afterwards;
* no row is duplicated and no task is left without its row (unless its row was trashed).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.model import DEFAULT_STATUS_MAP, StatusType, normalise_text
from vaultmap.sync.engine import (
    CreateRow,
    Forget,
    ImportRow,
    Plan,
    Policy,
    Record,
    Rekey,
    SetVaultStatus,
    TrashRow,
    Unlink,
    UpdateRow,
    choose,
    plan_sync,
)
from vaultmap.sync.remote import RemoteRow, TaskRecord
from vaultmap.sync.state import BaseEntry

VAULT_STATUSES = [" ", "x", "X", "/", "-", ">", "?"]
CANONICAL = {StatusType.TODO: " ", StatusType.DONE: "x", StatusType.DOING: "/",
             StatusType.CANCELLED: "-", StatusType.OTHER: "?"}
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
         "juliet", "kilo", "lima"]


def kind(char: str) -> StatusType:
    return DEFAULT_STATUS_MAP.type_of(char)


@dataclass
class Row:
    remote_id: str
    key: str | None
    status: str
    content: str
    trashed: bool = False

    def view(self) -> RemoteRow:
        return RemoteRow(self.remote_id, self.key, self.status, self.content,
                         content_hash="R" + self.content, trashed=self.trashed)


@dataclass
class World:
    vault: dict[str, TaskRecord]
    rows: dict[str, Row]
    base: dict[str, BaseEntry]
    next_id: int = 0
    touched: set[str] = field(default_factory=set)

    def new_row(self, record: TaskRecord) -> Row:
        self.next_id += 1
        row = Row(f"r{self.next_id}", record.key, CANONICAL[kind(record.status)],
                  record.content_hash())
        self.rows[row.remote_id] = row
        return row

    def plan(self, policy: Policy, complete: bool = True) -> Plan:
        if complete:
            rows = [r.view() for r in self.rows.values() if not r.trashed]
        else:
            # An incremental read: the rows edited since the last sync, trashed ones included.
            rows = [r.view() for r in self.rows.values() if r.remote_id in self.touched]
        self.touched.clear()
        return plan_sync(self.vault, rows, self.base, complete=complete, policy=policy)

    def apply(self, plan: Plan) -> None:
        """Execute as the runner does, every action succeeding."""
        for action in plan.actions:
            if isinstance(action, Rekey):
                if action.old_key is not None:
                    self.base.pop(action.old_key, None)
                self.base[action.key] = action.entry
            elif isinstance(action, Record | Unlink):
                self.base[action.key] = action.entry
            elif isinstance(action, Forget):
                self.base.pop(action.key, None)
            elif isinstance(action, SetVaultStatus):
                record = self.vault[action.key]
                assert record.status == action.expected
                self.vault[action.key] = replace(record, status=action.new)
                self.base[action.key] = action.entry
            elif isinstance(action, UpdateRow):
                row = self.rows[action.remote_id]
                row.status = CANONICAL[kind(action.record.status)]
                if action.content:
                    row.key, row.content = action.record.key, action.record.content_hash()
                self.base[action.key] = replace(action.entry, remote_status=row.status,
                                                remote_hash="R" + row.content)
            elif isinstance(action, CreateRow):
                row = self.new_row(action.record)
                self.base[action.key] = replace(action.entry, remote_id=row.remote_id,
                                                remote_status=row.status,
                                                remote_hash="R" + row.content)
            elif isinstance(action, TrashRow):
                self.rows[action.remote_id].trashed = True
                self.base.pop(action.key, None)
            else:
                assert isinstance(action, ImportRow)
                raise AssertionError("no unkeyed rows in this model")


def record(key: str, status: str, words: str, note: str = "n.md") -> TaskRecord:
    return TaskRecord(key=key, status=status, status_type=kind(status).value, text=words,
                      note=note)


def agreed_world(tasks: list[tuple[str, str]]) -> World:
    world = World({}, {}, {})
    for index, (status, words) in enumerate(tasks):
        key = f"k{index}"
        rec = record(key, status, words)
        world.vault[key] = rec
        row = world.new_row(rec)
        world.base[key] = BaseEntry(key, row.remote_id, status, row.status, rec.content_hash(),
                                    "R" + row.content, rec.note, normalise_text(rec.text), ())
    return world


task_st = st.tuples(st.sampled_from(VAULT_STATUSES),
                    st.lists(st.sampled_from(WORDS), min_size=2, max_size=4).map(" ".join))
change_st = st.tuples(
    st.sampled_from(["none", "status", "text", "delete", "none", "status"]),  # vault side
    st.sampled_from(["none", "status", "text", "trash", "none", "status"]),  # remote side
    st.sampled_from(VAULT_STATUSES),
    st.sampled_from(list(CANONICAL.values())),
)


@pytest.mark.slow
@settings(max_examples=examples(300), deadline=None)
@given(tasks=st.lists(task_st, min_size=1, max_size=12),
       changes=st.lists(change_st, min_size=12, max_size=12),
       new_tasks=st.lists(task_st, max_size=3),
       prefer=st.sampled_from(["done", "vault", "notion"]),
       incremental=st.booleans())
def test_plan_is_a_fixpoint_and_loses_no_status(
        tasks: list[tuple[str, str]], changes: list[tuple[str, str, str, str]],
        new_tasks: list[tuple[str, str]], prefer: str, incremental: bool) -> None:
    world = agreed_world(tasks)
    policy = Policy(prefer=prefer, guard_min=10**6)
    expected: dict[str, StatusType] = {}
    for index, (vault_change, remote_change, new_vault, new_remote) in enumerate(
            changes[:len(tasks)]):
        key = f"k{index}"
        rec = world.vault[key]
        row = world.rows[world.base[key].remote_id]
        before = kind(rec.status)
        vault_status, remote_status = rec.status, row.status
        if vault_change == "status":
            vault_status = new_vault
            world.vault[key] = replace(rec, status=new_vault)
        elif vault_change == "text":
            world.vault[key] = replace(rec, text=rec.text + " zulu")
        elif vault_change == "delete":
            del world.vault[key]
        if remote_change != "none":
            world.touched.add(row.remote_id)
        if remote_change == "status":
            remote_status = new_remote
            row.status = new_remote
        elif remote_change == "text":
            row.content += "-edited"
        elif remote_change == "trash":
            row.trashed = True
        if vault_change == "delete" or remote_change == "trash":
            continue
        v_changed = vault_status != rec.status
        r_changed = remote_status != world.base[key].remote_status
        if kind(vault_status) is kind(remote_status) or (v_changed and not r_changed):
            expected[key] = kind(vault_status)
        elif r_changed and not v_changed:
            expected[key] = kind(remote_status)
        elif v_changed and r_changed:
            side = choose(vault_status, remote_status, policy)
            expected[key] = kind(vault_status if side == "vault" else remote_status)
        else:
            expected[key] = before
    for offset, (status, words) in enumerate(new_tasks):
        key = f"new{offset}"
        world.vault[key] = record(key, status, words + " new", note="other.md")

    world.apply(world.plan(policy, complete=not incremental))
    again = world.plan(policy)
    assert again.empty, again.describe()

    for key, want in expected.items():
        # A kept task may have been re-keyed only if it vanished; these keys did not.
        entry = world.base[key]
        assert kind(world.vault[key].status) is want, key
        if entry.linked:
            assert kind(world.rows[entry.remote_id].status) is want, key
    live = [r for r in world.rows.values() if not r.trashed]
    assert len({r.key for r in live}) == len(live)  # no duplicates
    for key in world.vault:
        entry = world.base[key]
        if entry.linked:
            row = world.rows[entry.remote_id]
            assert not row.trashed and row.key == key
            # Text flows vault -> remote: an edit made in the remote is put back.
            assert row.content == world.vault[key].content_hash()


@settings(max_examples=examples(100), deadline=None)
@given(tasks=st.lists(task_st, min_size=1, max_size=10), seed=st.randoms())
def test_rebuilt_base_adopts_rows_without_duplicates(tasks: list[tuple[str, str]],
                                                     seed: object) -> None:
    world = agreed_world(tasks)
    world.base.clear()  # a lost state file: the rows carry the keys
    world.apply(world.plan(Policy(guard_min=10**6)))
    assert len([r for r in world.rows.values() if not r.trashed]) == len(tasks)
    assert world.plan(Policy()).empty
