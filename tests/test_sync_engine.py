"""The pure planner, the re-matcher and the state store, case by case."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vaultmap.sync.engine import (
    CreateRow,
    Forget,
    ImportRow,
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
from vaultmap.sync.identity import Candidate, rematch
from vaultmap.sync.remote import RemoteRow, TaskRecord
from vaultmap.sync.runner import describe_conflicts
from vaultmap.sync.state import BaseEntry, ConflictRecord, PendingOp, SentCreate, StateStore


def rec(key: str, status: str = " ", text: str = "write tests", note: str = "a.md",
        section: tuple[str, ...] = ("Plan",)) -> TaskRecord:
    return TaskRecord(key=key, status=status, status_type="", text=text, note=note,
                      section=section)


def agreed(record: TaskRecord, remote_id: str, remote_status: str | None = None) -> BaseEntry:
    """The base entry and row of a task both sides agree on."""
    from vaultmap.model import normalise_text

    return BaseEntry(key=record.key, remote_id=remote_id, vault_status=record.status,
                     remote_status=record.status if remote_status is None else remote_status,
                     vault_hash=record.content_hash(), remote_hash="h-" + record.key,
                     note=record.note, description=normalise_text(record.text),
                     section=record.section)


def row_of(entry: BaseEntry, status: str | None = None, **changes: object) -> RemoteRow:
    row = RemoteRow(remote_id=entry.remote_id, key=entry.key,
                    status=entry.remote_status if status is None else status,
                    text=entry.description, note=entry.note, content_hash=entry.remote_hash)
    return replace(row, **changes)  # type: ignore[arg-type]


def kinds(plan: object) -> list[str]:
    return [type(a).__name__ for a in plan.actions]  # type: ignore[attr-defined]


def test_nothing_changed_plans_nothing() -> None:
    r = rec("k1")
    b = agreed(r, "p1")
    plan = plan_sync({"k1": r}, [row_of(b)], {"k1": b}, complete=True)
    assert plan.empty and not plan.notices and plan.guard is None


def test_new_task_is_created() -> None:
    plan = plan_sync({"k1": rec("k1")}, [], {}, complete=True)
    assert kinds(plan) == ["CreateRow"]
    action = plan.actions[0]
    assert isinstance(action, CreateRow) and action.record.key == "k1"


def test_tick_in_note_updates_row_status_only() -> None:
    r = rec("k1")
    b = agreed(r, "p1")
    plan = plan_sync({"k1": replace(r, status="x")}, [row_of(b)], {"k1": b}, complete=True)
    (action,) = plan.actions
    assert isinstance(action, UpdateRow)
    assert action.status and not action.content and action.record.status == "x"
    assert action.entry.vault_status == "x"


def test_tick_in_remote_changes_the_note() -> None:
    r = rec("k1")
    b = agreed(r, "p1")
    plan = plan_sync({"k1": r}, [row_of(b, "x")], {"k1": b}, complete=True)
    # A row whose status reads the same in every field needs no write: nothing is sent
    # that a person could be changing meanwhile.
    (action,) = plan.actions
    assert isinstance(action, SetVaultStatus)
    assert (action.note, action.expected, action.new) == ("a.md", " ", "x")
    assert action.entry.vault_status == "x" and action.entry.remote_status == "x"


def test_tick_in_remote_with_fields_that_disagree_is_written_back_once() -> None:
    r = rec("k1")
    b = replace(agreed(r, "p1"), remote_fields="[false, \"Todo\"]")
    row = row_of(b, "x", status_fields="[true, \"Todo\"]", settled=False)
    plan = plan_sync({"k1": r}, [row], {"k1": b}, complete=True)
    action, normalise = plan.actions
    assert isinstance(action, SetVaultStatus) and action.new == "x"
    # Recorded as read: a write-back that fails leaves a base that reads the row the same.
    assert action.entry.remote_fields == "[true, \"Todo\"]"
    # The row a person half changed gets the agreed status written back (Done and Status
    # agree again), and nothing else.
    assert isinstance(normalise, UpdateRow) and normalise.status and not normalise.content
    assert normalise.record.status == "x"


def test_same_type_change_only_updates_base() -> None:
    r = rec("k1", "x")
    b = agreed(r, "p1")
    plan = plan_sync({"k1": replace(r, status="X")}, [row_of(b)], {"k1": b}, complete=True)
    (action,) = plan.actions
    assert isinstance(action, Record) and action.entry.vault_status == "X"


@pytest.mark.parametrize(("prefer", "vault", "remote", "kept"), [
    ("done", "x", "-", "x"),
    ("done", "-", "x", "x"),
    ("done", "/", "-", "-"),
    ("done", " ", "/", "/"),
    ("vault", " ", "x", " "),
    ("notion", "x", " ", " "),
])
def test_conflict_follows_policy(prefer: str, vault: str, remote: str, kept: str) -> None:
    r = rec("k1", "?")
    b = agreed(r, "p1")
    plan = plan_sync({"k1": replace(r, status=vault)}, [row_of(b, remote)], {"k1": b},
                     complete=True, policy=Policy(prefer=prefer))
    (conflict,) = plan.conflicts
    assert conflict.kept_status == kept
    if kept == vault:
        (action,) = plan.actions
        assert isinstance(action, UpdateRow) and action.record.status == kept
    else:
        # The note takes the row's status; the row already shows it: nothing is written.
        (action,) = plan.actions
        assert isinstance(action, SetVaultStatus) and action.new == kept


def test_both_changed_to_the_same_type_is_no_conflict() -> None:
    r = rec("k1")
    b = agreed(r, "p1")
    plan = plan_sync({"k1": replace(r, status="x")}, [row_of(b, "X")], {"k1": b},
                     complete=True)
    assert not plan.conflicts
    assert kinds(plan) == ["Record"]  # both already agree: only the base learns it
    entry = plan.actions[0].entry  # type: ignore[union-attr]
    assert (entry.vault_status, entry.remote_status) == ("x", "X")


def test_choose_ranks_done_over_cancelled_over_doing_over_todo() -> None:
    policy = Policy()
    assert choose("x", "-", policy) == "vault"
    assert choose("-", "x", policy) == "remote"
    assert choose(" ", "/", policy) == "remote"
    assert choose("/", " ", policy) == "vault"
    assert choose("?", "!", policy) == "vault"  # equal rank: the vault wins


def test_text_change_pushes_content_and_remote_text_edit_is_put_back() -> None:
    r = rec("id:1")
    b = agreed(r, "p1")
    plan = plan_sync({"id:1": replace(r, text="write more tests")}, [row_of(b)], {"id:1": b},
                     complete=True)
    (action,) = plan.actions
    assert isinstance(action, UpdateRow) and action.content and not action.status
    plan = plan_sync({"id:1": r}, [row_of(b, content_hash="edited in notion")], {"id:1": b},
                     complete=True)
    (action,) = plan.actions
    assert isinstance(action, UpdateRow) and action.content


def test_deleted_task_trashes_its_row() -> None:
    r = rec("k1")
    b = agreed(r, "p1")
    plan = plan_sync({}, [row_of(b)], {"k1": b}, complete=True)
    assert kinds(plan) == ["TrashRow"]
    assert plan.guard is not None  # the vault is empty: the guard speaks
    keep = rec("k2", text="other")
    plan = plan_sync({"k2": keep}, [row_of(b), row_of(agreed(keep, "p2"))],
                     {"k1": b, "k2": agreed(keep, "p2")}, complete=True)
    assert kinds(plan) == ["TrashRow"] and plan.guard is None


def test_row_trashed_in_remote_unlinks_and_never_recreates() -> None:
    r = rec("k1")
    b = agreed(r, "p1")
    keep = rec("k2", text="other")
    kb = agreed(keep, "p2")
    plan = plan_sync({"k1": r, "k2": keep}, [row_of(b, trashed=True), row_of(kb)],
                     {"k1": b, "k2": kb}, complete=True)
    (action,) = plan.actions
    assert isinstance(action, Unlink) and not action.entry.linked
    assert [n.kind for n in plan.notices] == ["unlinked"]
    # Next round: the unlinked entry keeps the task from being created again.
    base = {"k1": action.entry, "k2": kb}
    assert plan_sync({"k1": r, "k2": keep}, [row_of(kb)], base, complete=True).empty
    # The row comes back from the trash: it is linked again.
    plan = plan_sync({"k1": r, "k2": keep}, [row_of(b), row_of(kb)], base, complete=True)
    assert [n.kind for n in plan.notices] == ["relinked"]
    # The row's content cannot be compared with the vault's without a base: it is re-sent.
    (action,) = plan.actions
    assert isinstance(action, UpdateRow) and action.content and action.entry.linked


def test_incremental_snapshot_assumes_unseen_rows_unchanged() -> None:
    r1, r2 = rec("k1"), rec("k2", text="second")
    b1, b2 = agreed(r1, "p1"), agreed(r2, "p2")
    plan = plan_sync({"k1": r1, "k2": r2}, [row_of(b2, "x")], {"k1": b1, "k2": b2},
                     complete=False)
    assert {a.key for a in plan.actions} == {"k2"}
    assert kinds(plan) == ["SetVaultStatus"]


def test_lost_create_is_adopted_not_duplicated() -> None:
    r = rec("k1")
    row = RemoteRow(remote_id="p9", key="k1", status=" ", text="write tests", note="a.md",
                    content_hash="whatever")
    plan = plan_sync({"k1": replace(r, status="x")}, [replace(row, status=" ")], {},
                     complete=False, pending_creates={"k1"})
    (action,) = plan.actions
    assert isinstance(action, UpdateRow) and action.remote_id == "p9"
    assert action.record.status == "x" and not plan.conflicts


def lost_create_row(record: TaskRecord, status: str, content_hash: str = "") -> RemoteRow:
    return RemoteRow(remote_id="p9", key=record.key, status=status, text=record.text,
                     note=record.note, content_hash=content_hash or record.content_hash())


def test_lost_create_row_changed_in_the_remote_reaches_the_note() -> None:
    r = rec("k1")
    plan = plan_sync({"k1": r}, [lost_create_row(r, "x")], {}, complete=True,
                     pending_creates={"k1"}, sent={"k1": SentCreate(" ", r.content_hash())})
    (edit,) = plan.actions
    assert isinstance(edit, SetVaultStatus) and (edit.expected, edit.new) == (" ", "x")
    assert edit.entry.vault_status == edit.entry.remote_status == "x"
    assert not plan.conflicts


def test_lost_create_row_changed_on_both_sides_is_a_conflict() -> None:
    r = rec("k1", status="-")
    plan = plan_sync({"k1": r}, [lost_create_row(r, "x")], {}, complete=True,
                     pending_creates={"k1"}, sent={"k1": SentCreate(" ", r.content_hash())})
    (conflict,) = plan.conflicts
    assert (conflict.vault_status, conflict.remote_status, conflict.chosen) == ("-", "x",
                                                                                "remote")
    assert [a.new for a in plan.actions if isinstance(a, SetVaultStatus)] == ["x"]


def test_lost_create_row_changed_only_in_the_vault_is_pushed() -> None:
    r = rec("k1", status="x")
    plan = plan_sync({"k1": r}, [lost_create_row(r, " ")], {}, complete=True,
                     pending_creates={"k1"}, sent={"k1": SentCreate(" ", r.content_hash())})
    (update,) = plan.actions
    assert isinstance(update, UpdateRow) and update.record.status == "x" and update.status
    assert not update.content and not plan.conflicts


def test_lost_create_row_unchanged_is_only_recorded() -> None:
    # A custom character the remote shows as its own "other" character is no change.
    r = rec("k1", status="?")
    statuses = Policy().statuses
    shown = "!" if statuses.type_of("!") is statuses.type_of("?") else "?"
    plan = plan_sync({"k1": r}, [lost_create_row(r, shown)], {}, complete=True,
                     pending_creates={"k1"}, sent={"k1": SentCreate("?", r.content_hash())})
    (record,) = plan.actions
    assert isinstance(record, Record) and record.entry.remote_id == "p9"
    assert (record.entry.vault_status, record.entry.remote_status) == ("?", shown)


def test_lost_create_row_with_other_content_gets_the_vault_text_back() -> None:
    r = rec("k1")
    plan = plan_sync({"k1": r}, [lost_create_row(r, " ", content_hash="retitled")], {},
                     complete=True, pending_creates={"k1"},
                     sent={"k1": SentCreate(" ", r.content_hash())})
    (update,) = plan.actions
    assert isinstance(update, UpdateRow) and update.content and update.record.status == " "


def test_pending_create_keeps_what_it_sent(tmp_path: Path) -> None:
    sent = SentCreate("/", "hash-1")
    with StateStore.open(tmp_path / ".vaultmap", "notion") as state:
        state.begin(PendingOp.for_create("k1", "notes/a \"b\".md", sent))
        state.begin(PendingOp("k2", "create", "", "old.md"))  # an older vaultmap's note
    with StateStore.open(tmp_path / ".vaultmap", "notion") as state:
        first, second = state.pending()
    assert first.sent == sent and second.sent is None
    assert PendingOp("k3", "import", "p1", "{}").sent is None


def test_reworded_task_keeps_its_row() -> None:
    old = rec("k-old", text="write the parser tests")
    b = agreed(old, "p1")
    new = rec("k-new", text="write the parser tests today")
    plan = plan_sync({"k-new": new}, [row_of(b)], {"k-old": b}, complete=True)
    assert kinds(plan) == ["Rekey", "UpdateRow"]
    rekey, update = plan.actions
    assert isinstance(rekey, Rekey) and rekey.old_key == "k-old"
    assert isinstance(update, UpdateRow) and update.remote_id == "p1" and update.content


def test_moved_to_other_note_keeps_row_and_status_change() -> None:
    old = rec("k-old", text="ship it", note="a.md")
    b = agreed(old, "p1")
    new = rec("k-new", status="x", text="ship it", note="b/renamed.md", section=())
    plan = plan_sync({"k-new": new}, [row_of(b)], {"k-old": b}, complete=True)
    assert kinds(plan) == ["Rekey", "UpdateRow"]
    update = plan.actions[1]
    assert isinstance(update, UpdateRow) and update.status and update.record.status == "x"


def test_unkeyed_row_goes_to_inbox_or_is_reported() -> None:
    row = RemoteRow(remote_id="p5", key=None, status=" ", text="call the bank")
    plan = plan_sync({}, [row], {}, complete=True)
    assert plan.empty and [n.kind for n in plan.notices] == ["no-key"]
    plan = plan_sync({}, [row], {}, complete=True, policy=Policy(inbox="Inbox.md"))
    (action,) = plan.actions
    assert isinstance(action, ImportRow) and action.inbox == "Inbox.md"


def test_orphan_row_is_left_alone_and_duplicates_reported() -> None:
    r = rec("k1")
    b = agreed(r, "p1")
    orphan = RemoteRow(remote_id="p7", key="k-gone", status=" ", text="zzz unrelated")
    dup = replace(row_of(b), remote_id="p8")
    plan = plan_sync({"k1": r}, [row_of(b), orphan, dup], {"k1": b}, complete=True)
    assert plan.empty
    assert sorted(n.kind for n in plan.notices) == ["duplicate", "orphan"]


def test_guard_on_mass_vault_loss_and_empty_remote() -> None:
    records = {f"k{i}": rec(f"k{i}", text=f"task number {i}") for i in range(12)}
    base = {k: agreed(r, f"p{k}") for k, r in records.items()}
    rows = [row_of(e) for e in base.values()]
    kept = dict(list(records.items())[:5])
    plan = plan_sync(kept, rows, base, complete=True)
    assert plan.guard and "7 of 12" in plan.guard
    plan = plan_sync(dict(list(records.items())[:6]), rows, base, complete=True)
    assert plan.guard is None  # exactly half is allowed
    plan = plan_sync(records, [], base, complete=True)
    assert plan.guard and "no rows" in plan.guard
    small = {k: base[k] for k in list(base)[:3]}
    plan = plan_sync({}, rows[:3], small, complete=True)
    assert plan.guard and "no tasks" in plan.guard


def test_vanished_task_with_vanished_row_is_forgotten() -> None:
    r = rec("k1")
    b = agreed(r, "p1")
    keep = rec("k2", text="other")
    kb = agreed(keep, "p2")
    plan = plan_sync({"k2": keep}, [row_of(kb)], {"k1": b, "k2": kb}, complete=True)
    assert [type(a) for a in plan.actions] == [Forget]


def test_trash_ordering_after_updates() -> None:
    r1, r2 = rec("k1"), rec("k2", text="gone soon")
    b1, b2 = agreed(r1, "p1"), agreed(r2, "p2")
    keep = {f"z{i}": rec(f"z{i}", text=f"filler {i}") for i in range(3)}
    base = {"k1": b1, "k2": b2, **{k: agreed(v, k) for k, v in keep.items()}}
    rows = [row_of(e) for e in base.values()]
    plan = plan_sync({"k1": replace(r1, status="x"), **keep}, rows, base, complete=True)
    assert [type(a) for a in plan.actions] == [UpdateRow, TrashRow]


# -- identity ------------------------------------------------------------------------------


def test_rematch_passes() -> None:
    vanished = [
        Candidate("o1", "a.md", ("H1",), "buy oat milk"),
        Candidate("o2", "a.md", ("H1",), "call the plumber about the leak"),
        Candidate("o3", "old.md", (), "renew passport"),
        Candidate("o4", "a.md", (), "something completely different"),
    ]
    appeared = [
        Candidate("n1", "a.md", ("H2",), "buy oat milk"),  # moved under another heading
        Candidate("n2", "a.md", ("H1",), "call the plumber about the kitchen leak"),  # reworded
        Candidate("n3", "new.md", (), "renew passport"),  # note renamed
        Candidate("n4", "b.md", (), "water the plants"),  # genuinely new
    ]
    assert rematch(vanished, appeared) == {"n1": "o1", "n2": "o2", "n3": "o3"}


def test_rematch_prefers_same_section_among_identical_texts() -> None:
    vanished = [Candidate("o1", "a.md", ("A",), "review"),
                Candidate("o2", "a.md", ("B",), "review")]
    appeared = [Candidate("n2", "a.md", ("B",), "review")]
    assert rematch(vanished, appeared) == {"n2": "o2"}


def test_rematch_is_one_to_one() -> None:
    vanished = [Candidate("o1", "a.md", (), "review the draft")]
    appeared = [Candidate("n1", "a.md", (), "review the draft"),
                Candidate("n2", "a.md", (), "review the drafts")]
    assert rematch(vanished, appeared) == {"n1": "o1"}


# -- state store -----------------------------------------------------------------------------


def test_state_round_trip_and_isolation_per_remote(tmp_path: Path) -> None:
    entry = BaseEntry("k1", "p1", "x", "x", "vh", "rh", "a.md", "write tests", ("A", "B › C"))
    with StateStore.open(tmp_path / ".vaultmap", "notion") as state:
        state.put(entry)
        state.put(replace(entry, key="k2"), drop_key="k1")
        state.add_conflict(ConflictRecord("k2", "a.md", "t", " ", "x", "remote", "now"))
        op = PendingOp("k3", "create", "", "")
        state.begin(op)
        from datetime import UTC, datetime

        state.finish_sync(datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
    with StateStore.open(tmp_path / ".vaultmap", "notion") as state:
        assert state.entries() == {"k2": replace(entry, key="k2")}
        assert [c.key for c in state.conflicts()] == ["k2"]
        assert state.pending() == [op]
        assert state.sync_count == 1 and state.last_sync_start is not None
        assert state.clear_conflicts() == 1 and not state.conflicts()
    with StateStore.open(tmp_path / ".vaultmap", "other") as state:
        assert state.entries() == {} and state.sync_count == 0


def test_state_damaged_or_old_is_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / ".vaultmap"
    folder.mkdir()
    (folder / "sync.sqlite").write_bytes(b"this is not a database" * 100)
    with StateStore.open(folder, "notion") as state:
        assert state.entries() == {} and "damaged" in state.notes[0]
    assert (folder / "sync.sqlite.damaged").exists()
    import sqlite3

    (folder / "sync.sqlite").unlink()
    db = sqlite3.connect(folder / "sync.sqlite")
    db.execute("CREATE TABLE base (key TEXT)")
    db.execute("PRAGMA user_version=0")
    db.commit()
    db.close()
    with StateStore.open(folder, "notion") as state:
        assert "old format" in state.notes[0]
        state.put(BaseEntry("k", "p", " ", " ", "", "", "a.md", "t"))
        assert list(state.entries()) == ["k"]


def test_state_from_newer_vaultmap_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from vaultmap.sync.state import StateError

    folder = tmp_path / ".vaultmap"
    folder.mkdir()
    db = sqlite3.connect(folder / "sync.sqlite")
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(StateError, match="newer vaultmap"):
        StateStore.open(folder, "notion")


def test_renaming_a_big_note_is_no_mass_deletion() -> None:
    old = {f"o{i}": rec(f"o{i}", text=f"step {i} of the plan", note="Plan.md") for i in range(15)}
    base = {k: agreed(r, f"p{k}") for k, r in old.items()}
    rows = [row_of(e) for e in base.values()]
    renamed = {f"n{i}": rec(f"n{i}", text=f"step {i} of the plan", note="Plans/2026.md")
               for i in range(15)}
    plan = plan_sync(renamed, rows, base, complete=True)
    assert plan.guard is None
    assert plan.counts["Rekey"] == 15 and plan.counts["UpdateRow"] == 15
    assert "TrashRow" not in plan.counts and "CreateRow" not in plan.counts
    rekeys = {a.old_key: a.key for a in plan.actions if isinstance(a, Rekey)}
    assert rekeys == {f"o{i}": f"n{i}" for i in range(15)}


def test_a_row_the_remote_holds_is_not_trashed_and_stays_in_the_base() -> None:
    # A remote may hold rows as they are whatever the vault says (GitHub: the lines of a
    # published note that shows no tasks, moved maybe): their tasks are missing, not gone.
    gone, kept = rec("k1"), rec("k2", text="other", note="b.md")
    base = {"k1": agreed(gone, "p1"), "k2": agreed(kept, "p2")}
    rows = [row_of(base["k1"]), row_of(base["k2"])]
    plan = plan_sync({"k2": kept}, rows, base, complete=True, held=["p1"])
    assert plan.empty and plan.guard is None and not plan.notices
    # Not held: the row of the deleted task goes to the trash, as ever.
    assert kinds(plan_sync({"k2": kept}, rows, base, complete=True)) == ["TrashRow"]
    # A vault with no tasks at all still trips the guard, held rows or not.
    assert plan_sync({}, rows, base, complete=True, held=["p1"]).guard is not None


def test_a_key_and_note_that_are_not_valid_utf8_are_kept_exactly_in_the_base(
        tmp_path: Path) -> None:
    # A note whose file name is not valid UTF-8 has a path (and a block id's key) holding lone
    # surrogates; SQLite could not bind them and every sync of the vault stopped there.
    key, note = "block:caf\udce9.md#^abc", "caf\udce9.md"
    entry = BaseEntry(key, "p1", " ", " ", "h1", "h2", note, "hello")
    plain = BaseEntry("k:66626bab5f3e6c8d6031", "p2", "x", "x", "h3", "h4", "ok.md", "fine")
    with StateStore.open(tmp_path / ".vaultmap", "notion") as state:
        state.put(entry)
        state.put(plain)
        state.begin(PendingOp.for_create(key + "2", note, SentCreate(" ", "h5")))
    with StateStore.open(tmp_path / ".vaultmap", "notion") as state:
        assert state.entries() == {key: entry, plain.key: plain}
        assert state.entries_for(keys=[key]) == {key: entry}
        assert state.entries_for(notes=[note]) == {key: entry}
        (pending,) = state.pending()
        assert (pending.key, pending.sent) == (key + "2", SentCreate(" ", "h5"))
        state.forget(key)
        assert state.entries() == {plain.key: plain}


def test_a_planned_conflict_is_recorded_with_every_fact_and_reads_back(tmp_path: Path) -> None:
    # The planner's Conflict has no time (a pure plan has no clock); the record adds it.
    base = {"k1": BaseEntry("k1", "p1", " ", " ", "vh", "rh", "a.md", "pay rent", ())}
    vault = {"k1": TaskRecord("k1", "/", "doing", "pay rent", "a.md")}
    rows = [RemoteRow("p1", "k1", "x", "pay rent", "a.md", "rh")]
    plan = plan_sync(vault, rows, base, complete=True)
    (conflict,) = plan.conflicts
    assert (conflict.vault_status, conflict.remote_status, conflict.chosen) == ("/", "x",
                                                                                "remote")
    record = conflict.recorded("2026-01-02T03:04:00+00:00")
    with StateStore.open(tmp_path / ".vaultmap", "notion") as state:
        state.add_conflict(record)
    with StateStore.open(tmp_path / ".vaultmap", "notion") as state:
        (read,) = state.conflicts()
    assert read == record and read.kept_status == conflict.kept_status == "x"
    assert [getattr(read, name) for name in ("key", "note", "description", "vault_status",
                                             "remote_status", "chosen")] == \
        [getattr(conflict, name) for name in ("key", "note", "description", "vault_status",
                                              "remote_status", "chosen")]
    (line,) = describe_conflicts([read], "Notion")
    assert line.endswith("kept the Notion ([x])")
