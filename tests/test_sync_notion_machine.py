"""The sync state machine against the fake Notion: real adapter, real HTTP, real notes.

Smaller than the in-memory machine (HTTP costs time) but it covers what only the real adapter
has: a status held in two properties (Done and Status) that a person changes one at a time
(so the two disagree), minute-rounded edit times, incremental queries with trashed rows, and
injected faults: HTTP errors, a status write-back that fails after the note was written, a
sync state file that disappears between two syncs, and a person editing a row between the
sync's read and its write. Whatever happens, a tick made in Notion is never lost.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from fake_notion import FakeNotion, fast_options, new_database
from vaultmap.config import NotionSettings, Settings
from vaultmap.model import DEFAULT_STATUS_MAP
from vaultmap.sync.notion import NotionRemote
from vaultmap.sync.remote import RemoteError
from vaultmap.sync.runner import read_vault, run_sync
from vaultmap.sync.state import StateStore

WORDS = ["plan", "write", "test", "ship", "read", "fix"]
NOTES = ["A.md", "sub/B.md"]
TASK = re.compile(r"^- \[(.)\] ")
TYPE_OF_ROW = {"Todo": " ", "Doing": "/", "Done": "x", "Cancelled": "-"}


class NotionSyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="vm-notion-"))
        for n, note in enumerate(NOTES):
            path = self.root / note
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("# Tasks\n" + "".join(f"- [ ] {WORDS[i]} item {n}{i}\n"
                                                  for i in range(3)))
        self.fake = FakeNotion(fault_kinds=("429", "409", "500", "502", "503", "504", "529",
                                            "drop", "drop_after"))
        self.fake.start()
        setup = NotionRemote(self.fake.token, base_url=self.fake.base_url,
                             options=fast_options())
        database = setup.create_database(self.fake.add_page(), "Tasks")
        setup.close()
        self.settings = Settings(root=self.root, notion=NotionSettings(
            database_id=database, inbox="Inbox.md", guard_min=10**6))
        self.database = database
        self.serial = 0
        # Rows ticked in Notion since the last convergence, and notes a person edited since:
        # a tick on a task whose note nobody touched must reach the note.
        self.ticked: dict[str, bool] = {}
        self.touched: set[str] = set()

    def teardown(self) -> None:
        self.fake.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def remote(self) -> NotionRemote:
        return NotionRemote(self.fake.token, database_id=self.database,
                            base_url=self.fake.base_url, options=fast_options(max_attempts=3),
                            vault_name=self.root.name)

    def sync(self, **options: bool) -> object:
        with self.remote() as remote:
            return run_sync(self.settings, remote, force=True, **options)

    def lines(self, note: str) -> list[str]:
        return (self.root / note).read_text().splitlines()

    def save(self, note: str, lines: list[str]) -> None:
        self.touched.add(note)
        (self.root / note).write_text("\n".join(lines) + "\n")

    # -- the vault ---------------------------------------------------------------------------
    @rule(note=st.sampled_from(NOTES), word=st.sampled_from(WORDS))
    def add_task(self, note: str, word: str) -> None:
        self.serial += 1
        self.save(note, [*self.lines(note), f"- [ ] {word} new {self.serial}"])

    @rule(note=st.sampled_from(NOTES), pick=st.integers(0, 20),
          status=st.sampled_from([" ", "x", "/", "-", ">"]))
    def set_status_in_note(self, note: str, pick: int, status: str) -> None:
        lines = self.lines(note)
        found = [i for i, line in enumerate(lines) if TASK.match(line)]
        if found:
            i = found[pick % len(found)]
            lines[i] = lines[i][:3] + status + lines[i][4:]
            self.save(note, lines)

    @rule(note=st.sampled_from(NOTES), pick=st.integers(0, 20))
    def reword_or_delete(self, note: str, pick: int) -> None:
        lines = self.lines(note)
        found = [i for i, line in enumerate(lines) if TASK.match(line)]
        if found:
            i = found[pick % len(found)]
            if pick % 2:
                lines[i] += " again"
            else:
                del lines[i]
            self.save(note, lines)

    # -- a person in Notion ------------------------------------------------------------------
    def live_rows(self) -> list[dict[str, object]]:
        return self.fake.table(self.database)

    def tick(self, row_id: str, done: bool) -> None:
        """Tick Done only, as people do: Done and Status then disagree."""
        self.fake.tick(row_id, done)
        self.ticked[row_id] = done

    @rule(pick=st.integers(0, 20), done=st.booleans())
    def tick_in_notion(self, pick: int, done: bool) -> None:
        rows = self.live_rows()
        if rows:
            self.tick(str(rows[pick % len(rows)]["_id"]), done)

    @rule(pick=st.integers(0, 20), option=st.sampled_from(["Todo", "Doing", "Done",
                                                           "Cancelled"]))
    def choose_status_in_notion(self, pick: int, option: str) -> None:
        rows = self.live_rows()
        if rows:
            row_id = str(rows[pick % len(rows)]["_id"])
            self.fake.set_select(row_id, "Status", option)
            self.ticked.pop(row_id, None)

    @rule(pick=st.integers(0, 20))
    def trash_in_notion(self, pick: int) -> None:
        rows = self.live_rows()
        if rows:
            row_id = str(rows[pick % len(rows)]["_id"])
            self.fake.trash_row(row_id)
            self.ticked.pop(row_id, None)

    @rule(word=st.sampled_from(WORDS))
    def create_in_notion(self, word: str) -> None:
        self.serial += 1
        self.fake.add_row(self.database, {"Task": f"{word} from notion {self.serial}"})

    # -- faults between and inside syncs ------------------------------------------------------
    @rule()
    def state_file_disappears(self) -> None:
        for path in self.settings.state_dir.glob("sync.sqlite*"):
            path.unlink()

    @rule()
    def write_back_fails_after_the_note_was_written(self) -> None:
        # Every row write fails: notes are edited first, so they change and the rows do not.
        self.fake.inject("500", route="PATCH /v1/pages/{id}", times=1000)
        self.fake.inject("500", route="POST /v1/pages", times=1000)
        try:
            self.sync()
        except RemoteError:
            pass
        finally:
            self.fake.clear_faults()

    @rule(pick=st.integers(0, 20))
    def tick_between_read_and_write(self, pick: int) -> None:
        rows = self.live_rows()
        if not rows:
            return
        row_id = str(rows[pick % len(rows)]["_id"])
        hit: list[str] = []

        def person_ticks(path: str, body: object) -> None:
            hit.append(path)
            self.tick(row_id, True)

        self.fake.before("PATCH /v1/pages/{id}", person_ticks)
        try:
            self.sync()
        finally:
            if not hit:  # the sync wrote nothing: the person ticks after it
                self.fake.clear_before()
                self.tick(row_id, True)

    # -- syncing -----------------------------------------------------------------------------
    @rule(seed=st.integers(0, 10_000))
    def sync_through_faults(self, seed: int) -> None:
        self.fake._random.seed(seed)
        self.fake.fault_rate = 0.3
        try:
            self.sync()
        except RemoteError:
            pass
        finally:
            self.fake.clear_faults()

    @rule(full=st.booleans())
    def sync_converges(self, full: bool) -> None:
        first = self.sync(full=full)
        if not first.ok:  # type: ignore[attr-defined]
            self.sync(full=True)
        again = self.sync()
        assert again.plan.empty, again.plan.describe()  # type: ignore[attr-defined]
        self.check_mirror()

    def check_mirror(self) -> None:
        vault = read_vault(self.settings).records
        with StateStore.open(self.settings.state_dir, "notion") as state:
            base = state.entries()
        inbox = [r.text for r in vault.values() if r.note == "Inbox.md"]
        assert len(inbox) == len(set(inbox)), "a row was imported twice"
        rows = {str(r["_id"]): r for r in self.live_rows()}
        keys = [r["Key"] for r in rows.values()]
        assert len(keys) == len(set(keys)), "duplicate rows"
        for key, record in vault.items():
            entry = base[key]
            if not entry.linked:
                continue
            row = rows[entry.remote_id]
            assert row["Key"] == key and row["Note"] == record.note
            kind = DEFAULT_STATUS_MAP.type_of(record.status)
            assert row["Done"] is (kind.value == "done"), (record, row)
            if row["Status"] in TYPE_OF_ROW:
                assert DEFAULT_STATUS_MAP.type_of(TYPE_OF_ROW[str(row["Status"])]) is kind
            else:
                assert row["Status"] == "Other" and kind.value == "other"
        linked = {e.remote_id for e in base.values() if e.linked}
        with StateStore.open(self.settings.state_dir, "notion") as state:
            kept = {c.key for c in state.conflicts() if not c.vault_status}
        stray = {i for i, r in rows.items() if i not in linked and r["Key"] not in kept}
        assert not stray, "a live row is not linked to any task"
        for row_id, done in self.ticked.items():
            row = rows.get(row_id)
            if not done or row is None or row["Note"] in self.touched:
                continue
            record = vault.get(str(row["Key"]))
            if record is not None:
                assert DEFAULT_STATUS_MAP.type_of(record.status).value == "done", (
                    "a tick made in Notion was lost", record, row)
        self.ticked.clear()
        self.touched.clear()


NotionSyncMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_notion_sync_machine = pytest.mark.slow(NotionSyncMachine.TestCase)


def test_incremental_sync_asks_notion_from_two_minutes_before_the_last_start(
        tmp_path: Path) -> None:
    (tmp_path / "Plan.md").write_text("- [ ] one\n- [ ] two\n")
    with FakeNotion() as fake:
        with new_database(fake) as setup:
            database = setup.database_id
        s = Settings(root=tmp_path, notion=NotionSettings(database_id=database))

        def sync() -> None:
            with NotionRemote(fake.token, database_id=database, base_url=fake.base_url,
                              options=fast_options()) as remote:
                assert run_sync(s, remote).ok

        sync()
        with StateStore.open(s.state_dir, "notion") as state:
            last = state.last_sync_start
        assert last is not None
        (row,) = [r for r in fake.table(database) if r["Task"] == "one"]
        fake.tick(str(row["_id"]))  # in the same (rounded) minute as the last start, likely
        fake.log.clear()
        sync()
        edges = {body["filter"]["last_edited_time"]["on_or_after"]
                 for method, path, body in fake.log
                 if method == "POST" and path.endswith("/query") and body.get("filter")
                 and "timestamp" in body["filter"]}
        # The runner passes the last start as is; only the adapter looks back (2 minutes,
        # for Notion's minute-rounded edit times), so the window is not widened twice.
        expected = (last - timedelta(minutes=2)).astimezone(UTC)
        assert edges == {expected.strftime("%Y-%m-%dT%H:%M:%S.000Z")}, (edges, last)
    assert (tmp_path / "Plan.md").read_text() == "- [x] one\n- [ ] two\n"
