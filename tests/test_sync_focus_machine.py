"""The runner's state machine, synced the daemon's way: the vault's tasks kept in memory
(:class:`~vaultmap.daemon.tasks.VaultTasks`, real files re-read note by note), plans focused on
the notes saved since the last sync that ended well, idle polls that skip the trashed rows.
After every round it must converge exactly as a sync that scans and plans everything does.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

import runner_machine as runner_tests
from hypothesis_budget import examples
from vaultmap.daemon.tasks import VaultTasks
from vaultmap.sync.engine import ImportRow, SetVaultStatus, Unlink
from vaultmap.sync.remote import RemoteError
from vaultmap.sync.runner import SyncReport, run_sync


class FocusedSyncMachine(runner_tests.SyncMachine):
    """Every sync as the daemon makes it; a full sync only checks the result."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks = VaultTasks(self.settings)
        self.changed: set[str] | None = None  # None: the next sync plans every key
        self.local_change = True
        self.focused_syncs = 0
        self.last_idle = False
        self.trash_unread = False  # an idle poll skipped the rows trashed in the remote

    def save(self, note: str, lines: list[str]) -> None:
        super().save(note, lines)
        self.saved(note)

    def saved(self, note: str) -> None:
        """What the watcher and the daemon's loop do for a saved (or deleted) note."""
        if not self.tasks.stale:
            self.tasks.update([note])
        if self.changed is not None:
            self.changed.add(note)
        self.local_change = True

    def lines(self, note: str) -> list[str]:
        path = self.root / note
        return path.read_text().splitlines() if path.exists() else []

    # What the daemon meets beyond the runner machine's edits: explicit ids (vault-wide keys,
    # so a copy in another note shares its key), whole notes deleted, rows restored.
    @rule(note=st.sampled_from(runner_tests.NOTES),
          words=st.lists(st.sampled_from(runner_tests.WORDS), min_size=1, max_size=3),
          status=st.sampled_from(runner_tests.STATUSES))
    def add_task_with_id(self, note: str, words: list[str], status: str) -> None:
        self.serial += 1
        self.save(note, [*self.lines(note),
                         f"- [{status}] {' '.join(words)} {self.serial} 🆔 t{self.serial}"])

    @rule(src=st.sampled_from(runner_tests.NOTES), dst=st.sampled_from(runner_tests.NOTES),
          pick=st.integers(0, 50))
    def copy_task(self, src: str, dst: str, pick: int) -> None:
        found = self.task_lines(src)
        if found and src != dst:
            line = self.lines(src)[found[pick % len(found)]]
            self.save(dst, [*self.lines(dst), line])

    @rule(note=st.sampled_from(runner_tests.NOTES))
    def delete_note(self, note: str) -> None:
        (self.root / note).unlink(missing_ok=True)
        self.saved(note)

    @rule(pick=st.integers(0, 50))
    def restore_in_remote(self, pick: int) -> None:
        live_keys = {r.key for r in self.remote.live() if r.key}
        # Not a second live row for a key (a person could, and the sync would say so; the
        # machine's invariant is about rows the sync makes).
        trashed = [r for r in self.remote.rows.values()
                   if r.trashed and r.key and r.key not in live_keys]
        if trashed:
            self.remote.person_restores(trashed[pick % len(trashed)].remote_id)

    def daemon_sync(self, *, read_trashed: bool | None = None) -> SyncReport:
        if self.tasks.stale:
            self.tasks.rescan()
            self.changed = None
        changed = self.changed
        idle = changed is not None and not changed and not self.local_change
        self.last_idle = idle and read_trashed is None
        reads_trashed = not idle if read_trashed is None else read_trashed
        self.changed = None
        try:
            report = run_sync(self.settings, self.remote, force=True,
                              vault=self.tasks.snapshot(), changed=changed,
                              read_trashed=reads_trashed)
        except RemoteError:
            # Notes may have been written before the failure: the daemon's watcher sees
            # them as changes (their hash is not one it wrote); here, read everything.
            self.tasks.stale = True
            raise
        self.focused_syncs += report.focused
        written = sorted({a.note for a in report.plan.actions if isinstance(a, SetVaultStatus)}
                         | {a.inbox for a in report.plan.actions if isinstance(a, ImportRow)})
        self.tasks.update(written)
        if report.ok:
            self.changed = set(written)
            self.local_change = False
            self.trash_unread = not reads_trashed
            self.nothing_left_for_a_full_plan()
        return report

    def nothing_left_for_a_full_plan(self) -> None:
        """Right after a sync that ended well, a sync that reads every row and plans every
        key finds nothing to do: a focused plan left nothing out. Only the rows trashed in
        the remote that idle polls did not read may still be unlinked."""
        full = run_sync(self.settings, self.remote, dry_run=True, full=True)
        allowed = (Unlink,) if self.trash_unread else ()
        assert all(isinstance(a, allowed) for a in full.plan.actions), full.plan.describe()

    @rule(seed=st.integers(0, 1000))
    def sync_through_faults(self, seed: int) -> None:
        self.remote.rng.seed(seed)
        self.remote.fail_rate, self.remote.lose_answers = 0.3, True
        try:
            self.daemon_sync()
        except RemoteError:
            pass
        finally:
            self.remote.fail_rate, self.remote.lose_answers = 0.0, False

    @rule()
    def idle_poll(self) -> None:
        self.daemon_sync()

    @rule(full=st.booleans())
    def sync_converges(self, full: bool) -> None:
        first = self.daemon_sync()
        first_was_idle = self.last_idle  # the next call sets it for itself
        self.last_plans = list(first.plan.actions)
        late = self.daemon_sync(read_trashed=True)
        if first.ok:
            # A sync that ended well leaves nothing to do, except what an idle poll (which
            # skips the trashed rows) leaves for the next sync that reads them: unlinks.
            allowed = (Unlink,) if first_was_idle else ()
            assert all(isinstance(a, allowed) for a in late.plan.actions), \
                late.plan.describe()
        again = self.daemon_sync(read_trashed=True)
        assert again.plan.empty, again.plan.describe()
        assert again.ok
        # A sync that scans the vault and plans every key finds nothing left either.
        everything = run_sync(self.settings, self.remote, force=True, full=full)
        assert everything.plan.empty, everything.plan.describe()
        self.check_mirror()


# Fewer examples than the runner's machine: each round here syncs four times and asks a full
# plan after every sync, and the runner's machine already covers the planning itself. Random
# examples in CI (a dozen: seconds); a campaign sets VAULTMAP_FOCUS_EXAMPLES (thousands), e.g.
#   VAULTMAP_FOCUS_EXAMPLES=3000 python -m pytest tests/test_sync_focus_machine.py --timeout=0
FocusedSyncMachine.TestCase.settings = settings(
    runner_tests.MACHINE_SETTINGS,
    max_examples=int(os.environ.get("VAULTMAP_FOCUS_EXAMPLES") or examples(12)),
    stateful_step_count=25,
    database=None)
test_focused_sync_machine = pytest.mark.slow(FocusedSyncMachine.TestCase)


def test_focused_machine_fixed_run_plans_focused() -> None:
    """A fixed run of the machine (no randomness): it converges, and its syncs were
    focused ones (not silently planning everything)."""
    machine = FocusedSyncMachine()
    try:
        machine.sync_converges(False)
        machine.set_status_in_note("A.md", 1, "x")
        machine.move_task("A.md", "B.md", 2)
        machine.set_status_in_remote(3, "x")
        machine.trash_in_remote(0)
        machine.idle_poll()
        machine.create_in_remote(["plan", "ship"])
        machine.reword("sub/C.md", 0, "test")
        machine.sync_converges(False)
        machine.delete_task("B.md", 0)
        machine.sync_through_faults(3)
        machine.time_passes(3)
        machine.sync_converges(True)
        assert machine.focused_syncs >= 4
    finally:
        machine.teardown()
