"""The sync state machine, run against every remote: real notes, real runner, real state.

A person edits notes (adds, ticks, rewords, deletes and moves tasks, adds headings) and acts
in the remote (sets a row's status, also between the sync's read and its write); syncs run
through fault storms, writes that all fail after the notes were edited, and a state file
that disappears; a vault that suddenly looks empty must not be mirrored as mass deletion.
Whenever a sync is asked to converge, a second sync must plan nothing, and:

* every task is known to the base; each linked task has exactly one row, with its key, its
  note and its status (as the remote can show it); no row is left that no task owns, save
  the rows kept on purpose (a task deleted while its row changed);
* no row is imported twice, no two tasks share a row;
* a status a person set in the remote is in the note, unless a person edited that note too
  (no tick lost);
* and after every sync, notes differ from what the person wrote only in status characters
  (the inbox only grows).

Each remote is a driver in ``machine_drivers.py`` (with its own extra rules); the drivers are
the parameters of :func:`test_sync_machine`. ``VAULTMAP_MACHINE_EXAMPLES`` (and
``VAULTMAP_MACHINE_STEPS``) raise the example counts for a long campaign.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hypothesis_budget import examples as scaled
from machine_drivers import (
    DRIVERS,
    STATUS_TYPES,
    WORDS,
    Driver,
    MemoryDriver,
    MirrorRow,
    type_of,
)
from vaultmap.sync.remote import RemoteError
from vaultmap.sync.runner import SyncGuardError, SyncReport, read_vault
from vaultmap.sync.state import StateStore

NOTE_STATUSES = [" ", "x", "/", "-", ">"]
TASK_LINE = re.compile(r"^(\s*)- \[(.)\] ")
STATUS_AT = re.compile(r"^([ \t]*(?:>[ \t]*)*[-*+] \[).", re.M)
NOTE = st.integers(0, 5)  # which of the driver's notes (modulo their number)
STATS: Counter[str] = Counter()


def masked(text: str) -> str:
    """The text with every task's status character hidden (what a sync may change)."""
    return STATUS_AT.sub(lambda m: m.group(1) + "\x00", text)


class SyncMachine(RuleBasedStateMachine):
    """See the module docstring. ``driver_type`` is set per remote (:func:`machine_for`)."""

    driver_type: ClassVar[type[Driver]]

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix=f"vm-{self.driver_type.name}-"))
        self.driver = self.driver_type(self.root)
        for note, text in self.driver.seed().items():
            path = self.root / note
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.driver.setup()
        self.notes = self.driver.notes
        self.written = {self.rel(p): p.read_text() for p in self.root.rglob("*.md")}
        self.serial = 0
        # Row id -> the status type a person last set there, and the notes a person edited,
        # since the last convergence: a status set in the remote on a task whose note nobody
        # touched must reach the note.
        self.remote_statuses: dict[str, str] = {}
        self.touched: set[str] = set()

    def teardown(self) -> None:
        self.driver.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- the vault: a person typing in the editor (plain file writes) ------------------------
    def lines(self, note: str) -> list[str]:
        path = self.root / note
        return path.read_text().splitlines() if path.exists() else []

    def save(self, note: str, lines: list[str]) -> None:
        self.touched.add(note)
        path = self.root / note
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n"
        path.write_text(text)
        self.written[note] = text

    def task_lines(self, note: str) -> list[int]:
        return [i for i, line in enumerate(self.lines(note)) if TASK_LINE.match(line)]

    def change_status_in_note(self, note: str, pick: int, status: str) -> None:
        found = self.task_lines(note)
        if found:
            lines = self.lines(note)
            i = found[pick % len(found)]
            at = lines[i].index("[") + 1
            lines[i] = lines[i][:at] + status + lines[i][at + 1:]
            self.save(note, lines)

    def note(self, which: int) -> str:
        return self.notes[which % len(self.notes)]

    @rule(which=NOTE, words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
          status=st.sampled_from(NOTE_STATUSES), nested=st.booleans())
    def add_task(self, which: int, words: list[str], status: str, nested: bool) -> None:
        note = self.note(which)
        self.serial += 1
        indent = "  " if nested else ""
        self.save(note, [*self.lines(note), f"{indent}- [{status}] {' '.join(words)} "
                                             f"{self.serial}"])

    @rule(which=NOTE, pick=st.integers(0, 50), status=st.sampled_from(NOTE_STATUSES))
    def set_status_in_note(self, which: int, pick: int, status: str) -> None:
        self.change_status_in_note(self.note(which), pick, status)

    @rule(which=NOTE, pick=st.integers(0, 50), word=st.sampled_from(WORDS))
    def reword(self, which: int, pick: int, word: str) -> None:
        note = self.note(which)
        found = self.task_lines(note)
        if found:
            lines = self.lines(note)
            lines[found[pick % len(found)]] += f" {word}"
            self.save(note, lines)

    @rule(which=NOTE, pick=st.integers(0, 50))
    def delete_task(self, which: int, pick: int) -> None:
        note = self.note(which)
        found = self.task_lines(note)
        if found:
            lines = self.lines(note)
            del lines[found[pick % len(found)]]
            self.save(note, lines)

    @rule(src_which=NOTE, dst_which=NOTE, pick=st.integers(0, 50))
    def move_task(self, src_which: int, dst_which: int, pick: int) -> None:
        src, dst = self.note(src_which), self.note(dst_which)
        found = self.task_lines(src)
        if found and src != dst:
            lines = self.lines(src)
            line = lines.pop(found[pick % len(found)])
            self.save(src, lines)
            self.save(dst, [*self.lines(dst), line])

    @rule(which=NOTE, word=st.sampled_from(WORDS))
    def add_heading(self, which: int, word: str) -> None:
        note = self.note(which)
        self.save(note, [*self.lines(note), f"## {word}"])

    # -- the remote: a person there ----------------------------------------------------------
    def pick_row(self, pick: int, *, keyed: bool = False) -> MirrorRow | None:
        rows = [r for r in self.driver.mirror() if r.key or not keyed]
        return rows[pick % len(rows)] if rows else None

    def person_sets(self, row: MirrorRow, status_type: str) -> None:
        shown = self.driver.set_status(row, status_type)
        if shown is not None:
            self.remote_statuses[row.remote_id] = shown

    @rule(pick=st.integers(0, 50), status_type=st.sampled_from(STATUS_TYPES))
    def set_status_in_remote(self, pick: int, status_type: str) -> None:
        row = self.pick_row(pick)
        if row is not None:
            self.person_sets(row, status_type)

    @rule(pick=st.integers(0, 50), status_type=st.sampled_from(["done", "cancelled", "doing"]))
    def set_status_in_remote_then_sync(self, pick: int, status_type: str) -> None:
        # A person's change alone in a round: it must reach the note (most random rounds
        # mix it with other edits, so this path would otherwise be met only now and then).
        row = self.pick_row(pick, keyed=True)
        if row is not None:
            self.person_sets(row, status_type)
            self.sync_converges(False)

    @rule(pick=st.integers(0, 50), status_type=st.sampled_from(["done", "cancelled", "doing"]),
          fault=st.sampled_from(["state lost", "writes fail", "storm"]), seed=st.integers(0, 99))
    def set_status_in_remote_then_fault(self, pick: int, status_type: str, fault: str,
                                        seed: int) -> None:
        # The faults that once undid a tick made in the remote, each right after one: the
        # state file lost before the sync saw it, the write-back failing after the note took
        # it, a sync through a fault storm; then the syncs must converge on it.
        row = self.pick_row(pick, keyed=True)
        if row is None:
            return
        self.person_sets(row, status_type)
        if fault == "state lost":
            self.state_file_disappears()
        elif fault == "writes fail":
            self.write_back_fails_after_the_note_was_written()
        else:
            self.sync_through_faults(seed)
        self.sync_converges(False)

    @rule(pick=st.integers(0, 50), status_type=st.sampled_from(["done", "todo"]))
    def set_status_between_read_and_write(self, pick: int, status_type: str) -> None:
        row = self.pick_row(pick)
        if row is None:
            return
        landed = self.driver.between_read_and_write(row, status_type)
        try:
            self.sync()
        finally:
            shown = landed()
            if shown is not None:
                self.remote_statuses[row.remote_id] = shown
            else:  # the sync wrote nothing (or the row left): the person acts after it
                self.person_sets(row, status_type)

    # -- faults between and inside syncs ------------------------------------------------------
    @rule()
    def state_file_disappears(self) -> None:
        for path in self.driver.settings.state_dir.glob("sync.sqlite*"):
            path.unlink()

    @rule()
    def write_back_fails_after_the_note_was_written(self) -> None:
        with self.driver.failing_writes():
            self.sync(tolerate=True)

    @rule(seed=st.integers(0, 10_000))
    def sync_through_faults(self, seed: int) -> None:
        with self.driver.fault_storm(seed):
            report = self.sync(tolerate=True)
        if report is not None:
            STATS.update(k for k, v in report.done.items() if v)

    def linked_in_base(self) -> int:
        if not (self.driver.settings.state_dir / "sync.sqlite").exists():
            return 0
        with StateStore.open(self.driver.settings.state_dir, self.driver.state_name) as state:
            return sum(1 for e in state.entries().values() if e.linked)

    @rule()
    def vault_looks_empty(self) -> None:
        # An unmounted folder: every note is gone at once. Without --force the sync refuses
        # (nothing is mirrored as mass deletion); with the notes back, nothing was lost.
        if not self.linked_in_base():
            return
        aside = Path(tempfile.mkdtemp(prefix="vm-aside-"))
        moved = [p for p in self.root.rglob("*.md")]
        before = sorted(self.driver.mirror(), key=lambda r: r.remote_id)
        try:
            for path in moved:
                target = aside / self.rel(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                path.rename(target)
            with pytest.raises(SyncGuardError):
                self.driver.sync(force=False)
            assert not list(self.root.rglob("*.md")), "a sync wrote a note into an empty vault"
            assert sorted(self.driver.mirror(), key=lambda r: r.remote_id) == before
        finally:
            for path in moved:
                (aside / self.rel(path)).rename(path)
            shutil.rmtree(aside, ignore_errors=True)

    # -- syncing -----------------------------------------------------------------------------
    def sync(self, *, full: bool = False, tolerate: bool = False) -> SyncReport | None:
        """One sync (forced: the guard has its own rule); ``tolerate`` a remote that fails."""
        try:
            return self.driver.sync(full=full)
        except RemoteError:
            if not tolerate:
                raise
            return None
        finally:
            self.notes_intact()

    @precondition(lambda self: True)
    @rule(full=st.booleans())
    def sync_converges(self, full: bool) -> None:
        first = self.sync(full=full)
        assert first is not None
        STATS.update(type(a).__name__ for a in first.plan.actions)
        if not first.ok:
            # A row trashed while we pushed to it: the next full read settles it.
            self.sync(full=True)
        again = self.sync()
        assert again is not None
        assert again.plan.empty, again.plan.describe()
        assert again.ok, again.failures
        self.check_mirror()

    # -- invariants ----------------------------------------------------------------------------
    def notes_intact(self) -> None:
        """Notes differ from what the person wrote in status characters only; the inbox
        (which the sync appends to) only grows."""
        inbox = self.driver.inbox
        for path in self.root.rglob("*.md"):
            note = self.rel(path)
            now = path.read_text()
            was = self.written.get(note)
            if was is None:
                assert note == inbox, f"a sync made the note {note}"
            elif note == inbox:
                assert masked(now).startswith(masked(was)), (note, was, now)
            else:
                assert masked(now) == masked(was), (note, was, now)
            self.written[note] = now
        for note in self.written:
            assert (self.root / note).exists(), f"{note} is gone"

    @invariant()
    def no_two_rows_for_a_task(self) -> None:
        if self.driver.transient_duplicates:
            return  # checked when the syncs converge (check_mirror)
        keys = [r.key for r in self.driver.mirror() if r.key]
        assert len(keys) == len(set(keys)), sorted(keys)

    def check_mirror(self) -> None:
        driver = self.driver
        vault = {k: r for k, r in read_vault(driver.settings).records.items()
                 if driver.covers(r)}
        with StateStore.open(driver.settings.state_dir, driver.state_name) as state:
            base = state.entries()
            # A row whose task was deleted from the note while its status changed is kept
            # and put on record, never trashed.
            kept = {c.key for c in state.conflicts() if not c.vault_status}
        rows = driver.mirror()
        by_key: dict[str, list[MirrorRow]] = {}
        for row in rows:
            if row.key:
                by_key.setdefault(row.key, []).append(row)
        for key, record in vault.items():
            entry = base[key]  # every task is known to the base
            if not entry.linked or not driver.mirrors_row_of(entry.remote_id):
                continue
            found = by_key.get(key, [])
            assert len(found) == 1, (key, found)
            (row,) = found
            assert row.remote_id == entry.remote_id, (row, entry)
            assert row.agrees, row
            assert row.status_type == driver.shown(type_of(record.status)), (record, row)
            assert driver.same_content(record, row), (record, row)
        if driver.inbox:
            inbox = [r.text for r in vault.values() if r.note == driver.inbox]
            assert len(inbox) == len(set(inbox)), "a row was imported twice"
        linked = [e.remote_id for e in base.values() if e.linked]
        assert len(linked) == len(set(linked)), "two tasks share a row"
        for row in rows:
            if driver.inbox:
                assert row.key is not None, row  # the inbox took every person-made row
            if row.key in kept:
                continue
            assert row.remote_id in linked, row  # no stray rows are left behind
        for remote_id, status_type in self.remote_statuses.items():
            ticked = next((r for r in rows if r.remote_id == remote_id), None)
            if status_type != "done" or ticked is None or ticked.note in self.touched:
                continue
            task = vault.get(ticked.key or "")
            if task is not None:
                assert type_of(task.status) == "done", (
                    "a tick made in the remote was lost", task, ticked)
        self.remote_statuses.clear()
        self.touched.clear()


def machine_for(driver: type[Driver]) -> type[SyncMachine]:
    """The machine for one remote: the shared rules plus the driver's own."""
    name = f"{driver.__name__.removesuffix('Driver')}SyncMachine"
    return type(name, (driver.rules, SyncMachine), {"driver_type": driver})


MACHINES = {driver.name: machine_for(driver) for driver in DRIVERS}


def machine_settings(driver: type[Driver]) -> settings:
    """The driver's example counts (scaled by a deep profile), or the campaign's
    (``VAULTMAP_MACHINE_EXAMPLES``)."""
    examples = int(os.environ.get("VAULTMAP_MACHINE_EXAMPLES") or scaled(driver.examples))
    steps = int(os.environ.get("VAULTMAP_MACHINE_STEPS") or driver.steps)
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@pytest.mark.parametrize("driver", DRIVERS, ids=[d.name for d in DRIVERS])
def test_sync_machine(driver: type[Driver]) -> None:
    # New random examples every run.
    run_state_machine_as_test(MACHINES[driver.name], settings=machine_settings(driver))


@pytest.mark.slow
def test_machine_exercised_every_action() -> None:
    # The in-memory machine, derandomized: a fixed run (so this check never flakes, and it
    # does not depend on running after test_sync_machine in the same process) whose
    # convergence is checked as ever and which must reach every kind of action the planner
    # makes.
    STATS.clear()
    run_state_machine_as_test(MACHINES[MemoryDriver.name], settings=settings(
        machine_settings(MemoryDriver), derandomize=True))
    assert {"CreateRow", "UpdateRow", "SetVaultStatus", "TrashRow", "Unlink", "Rekey",
            "ImportRow"} <= set(STATS), STATS
