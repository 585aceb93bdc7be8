"""What the focused-sync machine found, and the cases of the same kind, as plain tests.

A focused sync (the daemon's: the notes saved since the last sync that ended well, see
``docs/daemon.md``) must never do what a sync planning every key would not, and must leave
nothing for it to do. Each test replays a short sequence with real notes, the daemon's
in-memory tasks (:class:`~vaultmap.daemon.tasks.VaultTasks`) and the in-memory remote, and
after every focused sync asks a full plan (a dry run) whether anything is left.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import msgspec
import pytest

from memory_remote import MemoryRemote
from test_sync_focus_machine import FocusedSyncMachine
from test_sync_runner import make_settings, write
from vaultmap.config import Settings
from vaultmap.daemon.tasks import VaultTasks
from vaultmap.errors import SyncGuardError
from vaultmap.sync.engine import CreateRow, Forget, TrashRow
from vaultmap.sync.runner import SyncReport, run_sync
from vaultmap.sync.state import StateStore


class Daemonish:
    """The daemon's Notion sync without the watcher: saved notes are named by the test."""

    def __init__(self, settings: Settings, remote: MemoryRemote) -> None:
        self.settings = settings
        self.remote = remote
        self.tasks = VaultTasks(settings)
        self.tasks.rescan()

    def quiet(self) -> None:
        """Time passes with nothing changed and one idle poll: the next read window holds
        only what happens after this (the remote's rows of earlier syncs fall out of it)."""
        self.remote.tick(300)
        self.focused()
        self.remote.tick(300)

    def save(self, note: str, text: str) -> None:
        write(self.settings.root, note, text)
        self.tasks.update([note])

    def delete(self, note: str) -> None:
        (self.settings.root / note).unlink()
        self.tasks.update([note])

    def focused(self, *changed: str, force: bool = True) -> SyncReport:
        report = run_sync(self.settings, self.remote, force=force,
                          vault=self.tasks.snapshot(), changed=set(changed))
        assert report.focused, "the sync planned every key: nothing focused was tested"
        assert report.ok, report.failures
        return report

    def left_for_a_full_plan(self) -> list[str]:
        return run_sync(self.settings, self.remote, dry_run=True, full=True).plan.describe()


@pytest.fixture
def vault_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="vm-focus-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _rows_with_key(remote: MemoryRemote, key: str) -> list[str]:
    return [r.remote_id for r in remote.live() if r.key == key]


def test_a_task_moved_after_its_row_was_trashed_stays_unlinked() -> None:
    """The machine's finding. A task whose row was trashed in Notion is moved to another
    note: the sync re-matches it and unlinks it under its new key. A later focused sync of
    the old note alone read that entry (it still named the old note), did not find its task
    there and forgot it, so the next full plan created a row for the task again: a row the
    user had trashed came back as a new one."""
    machine = FocusedSyncMachine()
    try:
        machine.sync_converges(False)
        machine.time_passes(5)  # the rows of the first sync fall out of the read window
        trashed = next(r for r in machine.remote.rows.values()
                       if r.text.startswith("plan the plan part 00"))
        machine.remote.person_trashes(trashed.remote_id)
        machine.move_task("A.md", "sub/C.md", 0)
        machine.daemon_sync()
        machine.time_passes(5)
        machine.set_status_in_note("A.md", 0, "x")  # only A.md changes now
        report = machine.daemon_sync()
        assert report.focused
        assert not [a for a in report.plan.actions if isinstance(a, Forget)], \
            report.plan.describe()
        full = run_sync(machine.settings, machine.remote, dry_run=True, full=True)
        assert full.plan.empty, full.plan.describe()
        with StateStore.open(machine.settings.state_dir, "notion") as state:
            moved = [e for e in state.entries().values()
                     if e.description == "plan the plan part 00"]
        assert len(moved) == 1 and not moved[0].linked
        assert moved[0].note == "sub/C.md"  # the base names the note the task is in
        assert not [r for r in machine.remote.live() if r.text.startswith("plan the plan")]
    finally:
        machine.teardown()


def test_an_explicit_id_pasted_into_an_earlier_note_keeps_its_row(vault_root: Path) -> None:
    """A task with an explicit id is copied into a note that sorts first (that note now owns
    the key, as a scan decides): the focus on that note alone must find the key's entry
    (which names the other note) and move the row, not create a second row with the key;
    deleting the copy again must not trash the row of the task still in the other note."""
    settings = make_settings(vault_root)
    write(vault_root, "Plan.md", "# Plan\n- [ ] ship it 🆔 ship1\n- [ ] write docs\n")
    write(vault_root, "Other.md", "# Other\n- [ ] read\n")
    remote = MemoryRemote()
    run_sync(settings, remote, force=True)
    daemon = Daemonish(settings, remote)
    daemon.quiet()
    daemon.save("0 Inbox.md", "- [x] ship it 🆔 ship1\n")
    report = daemon.focused("0 Inbox.md")
    assert not [a for a in report.plan.actions if isinstance(a, CreateRow)], \
        report.plan.describe()
    assert len(_rows_with_key(remote, "id:ship1")) == 1
    assert daemon.left_for_a_full_plan() == []
    daemon.quiet()
    daemon.delete("0 Inbox.md")
    report = daemon.focused("0 Inbox.md")
    assert not [a for a in report.plan.actions if isinstance(a, TrashRow)], \
        report.plan.describe()
    assert len(_rows_with_key(remote, "id:ship1")) == 1
    assert daemon.left_for_a_full_plan() == []
    row = next(r for r in remote.live() if r.key == "id:ship1")
    assert row.note == "Plan.md"


def test_an_explicit_id_moved_in_two_syncs_is_planned_as_a_full_plan_would(
        vault_root: Path) -> None:
    """Paste first (into a note after the owner: a shadowed duplicate), cut later: when the
    cut lands, the key's task is in the other note, which the focus must take in."""
    settings = make_settings(vault_root)
    write(vault_root, "Plan.md", "# Plan\n- [ ] ship it 🆔 ship1\n- [ ] write docs\n")
    write(vault_root, "Z.md", "# Z\n- [ ] read\n")
    remote = MemoryRemote()
    run_sync(settings, remote, force=True)
    daemon = Daemonish(settings, remote)
    daemon.quiet()
    daemon.save("Z.md", "# Z\n- [ ] read\n- [ ] ship it 🆔 ship1\n")
    daemon.focused("Z.md")
    assert daemon.left_for_a_full_plan() == []
    daemon.quiet()
    daemon.save("Plan.md", "# Plan\n- [ ] write docs\n")
    report = daemon.focused("Plan.md")
    assert not [a for a in report.plan.actions if isinstance(a, TrashRow)], \
        report.plan.describe()
    assert daemon.left_for_a_full_plan() == []
    assert [r.note for r in remote.live() if r.key == "id:ship1"] == ["Z.md"]


def test_the_guard_of_a_focused_sync_leaves_out_unreadable_notes_as_a_full_one_does(
        vault_root: Path) -> None:
    """The guard's denominator is the synced tasks the sync can see: a note that cannot be
    read (here: grown past the size limit) is set aside by a full plan, and must be by a
    focused plan too, or a focused sync would trash rows a full one refuses to."""
    settings = make_settings(vault_root, guard_min=4)
    settings = msgspec.structs.replace(
        settings, vault=msgspec.structs.replace(settings.vault, max_note_bytes=4096))
    write(vault_root, "Big.md", "".join(f"- [ ] big task {i}\n" for i in range(6)))
    write(vault_root, "Work.md", "".join(f"- [ ] work task {i}\n" for i in range(6)))
    remote = MemoryRemote()
    run_sync(settings, remote, force=True)
    daemon = Daemonish(settings, remote)
    daemon.quiet()
    daemon.save("Big.md", "x" * 5000 + "\n" + "".join(f"- [ ] big task {i}\n"
                                                        for i in range(6)))
    daemon.focused("Big.md")  # unreadable now: its rows are left alone
    daemon.quiet()
    daemon.save("Work.md", "- [ ] work task 0\n- [ ] work task 1\n")  # 4 of 6 deleted
    full = run_sync(settings, remote, dry_run=True, full=True)
    assert full.plan.guard is not None and "4 of 6" in full.plan.guard
    with pytest.raises(SyncGuardError):
        daemon.focused("Work.md", force=False)
    assert len(remote.live()) == 12  # nothing trashed


def test_a_folder_that_cannot_be_listed_makes_the_sync_plan_everything(
        vault_root: Path) -> None:
    """Entries under a folder the walk could not list are set aside by prefix; a focused
    read of the base by note cannot find them, so the sync plans every key meanwhile."""
    settings = make_settings(vault_root)
    write(vault_root, "Plan.md", "- [ ] one\n")
    write(vault_root, "Locked/Secret.md", "- [ ] two\n")
    remote = MemoryRemote()
    run_sync(settings, remote, force=True)
    daemon = Daemonish(settings, remote)
    daemon.quiet()
    snapshot = daemon.tasks.snapshot()
    records = {k: r for k, r in snapshot.records.items() if r.note != "Locked/Secret.md"}
    locked = replace(snapshot, records=records, unreadable=("Locked/",),
                     by_note={n: k for n, k in (snapshot.by_note or {}).items()
                              if n != "Locked/Secret.md"})
    report = run_sync(settings, remote, vault=locked, changed={"Plan.md"})
    assert not report.focused
    assert report.plan.empty, report.plan.describe()
    assert len(remote.live()) == 2


def test_a_row_restored_from_the_trash_after_its_task_was_deleted_is_kept_as_an_orphan(
        vault_root: Path) -> None:
    """Found by the focused machine, but no focus is needed: a row trashed in Notion (its
    task unlinked), restored from the trash, while its task was deleted from the note. The
    row was reported as a duplicate of another row and its unlinked entry forgotten, so no
    sync (until a full read) said anything of the row again. It is a row whose key no task
    carries: kept, never trashed, put on record once and reported as such."""
    settings = make_settings(vault_root)
    write(vault_root, "Plan.md", "- [ ] keep me\n- [ ] drop me\n")
    remote = MemoryRemote()
    run_sync(settings, remote, force=True)
    dropped = next(r for r in remote.live() if r.text == "drop me")
    remote.person_trashes(dropped.remote_id)
    run_sync(settings, remote, force=True)  # unlinks the task
    remote.person_restores(dropped.remote_id)
    write(vault_root, "Plan.md", "- [ ] keep me\n")
    report = run_sync(settings, remote, force=True)
    assert [n.kind for n in report.plan.notices] == ["orphan"], report.plan.notices
    assert [(c.key, c.vault_status) for c in report.plan.conflicts] == [(dropped.key, "")]
    with StateStore.open(settings.state_dir, "notion") as state:
        assert {c.key for c in state.conflicts() if not c.vault_status} == {dropped.key}
    assert not remote.rows[dropped.remote_id].trashed  # never trashed by us
    again = run_sync(settings, remote, force=True, full=True)
    assert again.plan.empty and not again.plan.conflicts, again.plan.describe()


def test_a_row_restored_from_the_trash_after_its_task_was_reworded_is_linked_again(
        vault_root: Path) -> None:
    """The same restore, but the task was reworded meanwhile (its key changed): the row is
    re-matched to it and synced again, like any row whose key no task carries; its old
    unlinked entry goes with the move."""
    settings = make_settings(vault_root)
    write(vault_root, "Plan.md", "- [ ] keep me\n- [ ] write the report\n")
    remote = MemoryRemote()
    run_sync(settings, remote, force=True)
    restored = next(r for r in remote.live() if r.text == "write the report")
    remote.person_trashes(restored.remote_id)
    run_sync(settings, remote, force=True)
    remote.person_restores(restored.remote_id)
    write(vault_root, "Plan.md", "- [ ] keep me\n- [ ] write the report today\n")
    report = run_sync(settings, remote, force=True)
    assert not [n for n in report.plan.notices if n.kind == "duplicate"], report.plan.notices
    assert report.ok
    row = remote.rows[restored.remote_id]
    assert not row.trashed and row.text == "write the report today"
    with StateStore.open(settings.state_dir, "notion") as state:
        entries = state.entries()
    assert row.key in entries and entries[row.key].remote_id == row.remote_id
    assert len(entries) == 2  # no unlinked entry left behind under the old key
    assert len(remote.live()) == 2
    assert run_sync(settings, remote, force=True, full=True).plan.empty


def test_an_entry_an_older_vaultmap_filed_under_another_note_is_filed_again(
        vault_root: Path) -> None:
    """A base from before the fix may hold an unlinked entry that names the note its task
    left. A full plan (the daemon's first sync is one) files it under its task's note, once;
    a focused sync of a later move of that task then re-matches it instead of creating a
    row for a task whose row the user trashed."""
    settings = make_settings(vault_root)
    write(vault_root, "A.md", "- [ ] alpha task\n")
    write(vault_root, "B.md", "- [ ] bravo task\n")
    remote = MemoryRemote()
    run_sync(settings, remote, force=True)
    trashed = next(r for r in remote.live() if r.text == "bravo task")
    remote.person_trashes(trashed.remote_id)
    run_sync(settings, remote, force=True)  # unlinked
    with StateStore.open(settings.state_dir, "notion") as state:
        entry = next(e for e in state.entries().values() if e.description == "bravo task")
        state.put(replace(entry, note="A.md"))  # as the old re-match left it
    full = run_sync(settings, remote, force=True)
    assert full.plan.describe() == ["record B.md: 'bravo task'"]
    assert run_sync(settings, remote, force=True, full=True).plan.empty
    daemon = Daemonish(settings, remote)
    daemon.quiet()
    daemon.save("B.md", "")
    daemon.save("C.md", "- [ ] bravo task\n")
    report = daemon.focused("B.md", "C.md")
    assert not [a for a in report.plan.actions if isinstance(a, CreateRow)], \
        report.plan.describe()
    assert daemon.left_for_a_full_plan() == []
    assert len(remote.live()) == 1
