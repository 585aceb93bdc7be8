"""The in-memory sync state machine the daemon's focused-sync machine builds on
(``tests/test_sync_focus_machine.py``): edit the vault and an in-memory remote at random, sync,
demand convergence. The engine's parameterised machine is ``tests/test_sync_machine.py``."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hypothesis_budget import examples
from memory_remote import MemoryRemote
from test_sync_runner import make_settings, write
from vaultmap.model import DEFAULT_STATUS_MAP
from vaultmap.sync.remote import RemoteError
from vaultmap.sync.runner import read_vault, run_sync
from vaultmap.sync.state import StateStore

WORDS = ["plan", "write", "test", "ship", "read", "fix", "call", "review"]
STATUSES = [" ", "x", "/", "-", ">"]
NOTES = ["A.md", "B.md", "sub/C.md"]
TASK_LINE = re.compile(r"^- \[(.)\] (.*)$")


STATS: Counter[str] = Counter()


class SyncMachine(RuleBasedStateMachine):
    """Edit both sides at random, sync (sometimes through a fault storm), demand convergence."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="vm-sync-"))
        for n, note in enumerate(NOTES):
            write(self.root, note, "# Tasks\n" + "".join(
                f"- [ ] {WORDS[(n + i) % len(WORDS)]} the {WORDS[i]} part {n}{i}\n"
                for i in range(4)))
        self.settings = make_settings(self.root, inbox="Inbox.md", guard_min=1000)
        self.remote = MemoryRemote()
        self.serial = 0
        self.last_plans: list[object] = []
        self.stats = STATS

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # vault edits (a person typing in the editor: plain file writes)
    def lines(self, note: str) -> list[str]:
        return (self.root / note).read_text().splitlines()

    def save(self, note: str, lines: list[str]) -> None:
        (self.root / note).write_text("\n".join(lines) + "\n")

    def task_lines(self, note: str) -> list[int]:
        return [i for i, line in enumerate(self.lines(note)) if TASK_LINE.match(line)]

    @rule(note=st.sampled_from(NOTES),
          words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
          status=st.sampled_from(STATUSES))
    def add_task(self, note: str, words: list[str], status: str) -> None:
        self.serial += 1
        self.save(note, [*self.lines(note), f"- [{status}] {' '.join(words)} {self.serial}"])

    @rule(note=st.sampled_from(NOTES), pick=st.integers(0, 50), status=st.sampled_from(STATUSES))
    def set_status_in_note(self, note: str, pick: int, status: str) -> None:
        found = self.task_lines(note)
        if found:
            lines = self.lines(note)
            i = found[pick % len(found)]
            lines[i] = lines[i][:3] + status + lines[i][4:]
            self.save(note, lines)

    @rule(note=st.sampled_from(NOTES), pick=st.integers(0, 50), word=st.sampled_from(WORDS))
    def reword(self, note: str, pick: int, word: str) -> None:
        found = self.task_lines(note)
        if found:
            lines = self.lines(note)
            lines[found[pick % len(found)]] += f" {word}"
            self.save(note, lines)

    @rule(note=st.sampled_from(NOTES), pick=st.integers(0, 50))
    def delete_task(self, note: str, pick: int) -> None:
        found = self.task_lines(note)
        if found:
            lines = self.lines(note)
            del lines[found[pick % len(found)]]
            self.save(note, lines)

    @rule(src=st.sampled_from(NOTES), dst=st.sampled_from(NOTES), pick=st.integers(0, 50))
    def move_task(self, src: str, dst: str, pick: int) -> None:
        found = self.task_lines(src)
        if found and src != dst:
            lines = self.lines(src)
            line = lines.pop(found[pick % len(found)])
            self.save(src, lines)
            self.save(dst, [*self.lines(dst), line])

    @rule(note=st.sampled_from(NOTES), word=st.sampled_from(WORDS))
    def add_heading(self, note: str, word: str) -> None:
        self.save(note, [*self.lines(note), f"## {word}"])

    # remote edits (a person in Notion)
    @rule(pick=st.integers(0, 50), status=st.sampled_from([" ", "x", "/", "-", "?"]))
    def set_status_in_remote(self, pick: int, status: str) -> None:
        rows = self.remote.live()
        if rows:
            self.remote.person_sets_status(rows[pick % len(rows)].remote_id, status)

    @rule(pick=st.integers(0, 50), status=st.sampled_from(["x", "-", "/"]))
    def set_status_in_remote_then_sync(self, pick: int, status: str) -> None:
        # A person's change alone in a round: it must reach the note (most random rounds
        # mix it with other edits, so this path would otherwise be met only now and then).
        rows = [r for r in self.remote.live() if r.key]
        if rows:
            self.remote.person_sets_status(rows[pick % len(rows)].remote_id, status)
            self.sync_converges(False)

    @rule(pick=st.integers(0, 50))
    def retitle_in_remote(self, pick: int) -> None:
        rows = [r for r in self.remote.live() if r.key]
        if rows:
            row = rows[pick % len(rows)]
            self.remote.person_retitles(row.remote_id, row.text + " (edited)")

    @rule(pick=st.integers(0, 50))
    def trash_in_remote(self, pick: int) -> None:
        rows = self.remote.live()
        if rows:
            self.remote.person_trashes(rows[pick % len(rows)].remote_id)

    @rule(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
    def create_in_remote(self, words: list[str]) -> None:
        self.serial += 1
        self.remote.person_creates(f"{' '.join(words)} r{self.serial}")

    @rule(minutes=st.integers(0, 5))
    def time_passes(self, minutes: int) -> None:
        self.remote.tick(60 * minutes)

    @rule(seed=st.integers(0, 1000))
    def sync_through_faults(self, seed: int) -> None:
        self.remote.rng.seed(seed)
        self.remote.fail_rate, self.remote.lose_answers = 0.3, True
        try:
            report = run_sync(self.settings, self.remote, force=True)
            self.stats.update(k for k, v in report.done.items() if v)
        except RemoteError:
            pass
        finally:
            self.remote.fail_rate, self.remote.lose_answers = 0.0, False

    @precondition(lambda self: True)
    @rule(full=st.booleans())
    def sync_converges(self, full: bool) -> None:
        first = run_sync(self.settings, self.remote, force=True, full=full)
        self.last_plans = list(first.plan.actions)
        if not first.ok:
            # A row trashed while we pushed to it: the next full read settles it.
            run_sync(self.settings, self.remote, force=True, full=True)
        again = run_sync(self.settings, self.remote, force=True)
        assert again.plan.empty, again.plan.describe()
        assert again.ok
        self.check_mirror()

    def check_mirror(self) -> None:
        vault = read_vault(self.settings).records
        with StateStore.open(self.settings.state_dir, "notion") as state:
            base = state.entries()
        for key, record in vault.items():
            entry = base[key]  # every task is known to the base
            rows = self.remote.by_key(key)
            if not entry.linked:
                assert not rows or all(r.remote_id != entry.remote_id for r in rows)
                continue
            assert len(rows) == 1, (key, rows)
            row = rows[0]
            assert row.remote_id == entry.remote_id
            assert DEFAULT_STATUS_MAP.type_of(row.status) is DEFAULT_STATUS_MAP.type_of(
                record.status)
            assert (row.text, row.note) == (record.text, record.note)
        inbox = [r.text for r in vault.values() if r.note == "Inbox.md"]
        assert len(inbox) == len(set(inbox)), "a row was imported twice"
        linked_ids = [e.remote_id for e in base.values() if e.linked]
        assert len(linked_ids) == len(set(linked_ids))
        with StateStore.open(self.settings.state_dir, "notion") as state:
            # A row whose task was deleted from the note while its status changed is kept
            # and reported as a conflict, never trashed.
            kept = {c.key for c in state.conflicts() if not c.vault_status}
        for row in self.remote.live():
            assert row.key is not None  # the inbox took every person-made row
            if row.key in kept:
                continue
            assert row.remote_id in linked_ids, row  # no stray rows are left behind
        self.stats.update(type(a).__name__ for a in self.last_plans)

    @invariant()
    def no_duplicate_rows_for_a_task(self) -> None:
        keys = [r.key for r in self.remote.live() if r.key]
        assert len(keys) == len(set(keys)), sorted(keys)


MACHINE_SETTINGS = settings(
    max_examples=examples(40), stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
SyncMachine.TestCase.settings = MACHINE_SETTINGS
