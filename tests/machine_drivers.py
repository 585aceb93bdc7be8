"""The remotes under the sync state machine (``test_sync_machine.py``): one driver each.

A driver sets its remote up beside a fresh vault, syncs with it, acts in it as a person
would (sets a row's status, acts between the sync's read and its write), makes it fail
(a fault storm, writes that all fail), and reads it back as :class:`MirrorRow` values the
machine's invariants are checked on. What only one remote has (Notion's two status columns,
GitHub's closed issues and the text people write around the checklist) are extra rules of
that remote, in the mixin named by :attr:`Driver.rules`.

Adding a remote: a new driver (and its rules mixin) here, and one line in ``DRIVERS``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from fake_github import FakeGitHub
from fake_http import FakeServer
from fake_notion import FakeNotion, fast_options
from memory_remote import MemoryRemote
from vaultmap.config import GitHubSettings, NotionSettings, Settings
from vaultmap.model import DEFAULT_STATUS_MAP
from vaultmap.sync.github.body import encode_key, parse_body
from vaultmap.sync.github.http import GitHubClient, GitHubOptions
from vaultmap.sync.github.publish import publish
from vaultmap.sync.github.remote import GitHubRemote, layout_of
from vaultmap.sync.github.store import GitHubStore
from vaultmap.sync.notion import NotionRemote
from vaultmap.sync.remote import TaskRecord
from vaultmap.sync.runner import SyncReport, run_sync
from vaultmap.vault import scan_vault

WORDS = ["plan", "write", "test", "ship", "read", "fix", "call", "review"]
STATUS_TYPES = ["todo", "doing", "done", "cancelled", "other"]
CHAR_OF_TYPE = {"todo": " ", "doing": "/", "done": "x", "cancelled": "-", "other": "?"}


def type_of(char: str) -> str:
    return DEFAULT_STATUS_MAP.type_of(char).value


@dataclass(frozen=True, slots=True)
class MirrorRow:
    """A live row as the remote holds it, read straight from the remote's store."""

    remote_id: str
    key: str | None
    status_type: str  # as the remote shows it
    text: str
    note: str
    agrees: bool = True  # the row's own status fields agree (Notion: Done and Status)


def seed_note(n: int, count: int, *, nested: bool = False) -> str:
    lines = [f"- [ ] {WORDS[(n + i) % len(WORDS)]} the {WORDS[i]} part {n}{i}"
             for i in range(count)]
    if nested:
        lines.append("  - [x] nested")
    return "# Tasks\n" + "".join(line + "\n" for line in lines)


class Driver:
    """One remote under the machine (see the module docstring)."""

    name: ClassVar[str]
    state_name: ClassVar[str]  # the remote's name in the sync state
    notes: ClassVar[tuple[str, ...]]  # the notes the rules edit (all mirrored)
    inbox: ClassVar[str] = ""  # where rows made in the remote land ("" none)
    rules: ClassVar[type] = object  # the mixin holding this remote's own rules
    examples: ClassVar[int] = 10
    steps: ClassVar[int] = 15
    # A sync cut short may leave a task two rows for a while, healed by the next sync
    # (GitHub moves a line to its new place before removing the old one).
    transient_duplicates: ClassVar[bool] = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = Settings(root=root)

    def seed(self) -> dict[str, str]:
        """The notes the vault starts with."""
        return {note: seed_note(n, 3) for n, note in enumerate(self.notes)}

    def setup(self) -> None:
        """Start the remote (the seed notes are written)."""

    def close(self) -> None:
        """Stop the remote."""

    def sync(self, *, full: bool = False, force: bool = True) -> SyncReport:
        raise NotImplementedError

    def mirror(self) -> list[MirrorRow]:
        raise NotImplementedError

    def covers(self, record: TaskRecord) -> bool:
        """Whether this remote mirrors the task (GitHub: only published ones)."""
        return True

    def mirrors_row_of(self, remote_id: str) -> bool:
        """Whether a linked row is one :meth:`mirror` shows (GitHub: not a named issue)."""
        return True

    def shown(self, status_type: str) -> str:
        """The status type the remote shows for a note's status type."""
        return status_type

    def same_content(self, record: TaskRecord, row: MirrorRow) -> bool:
        return (row.text, row.note) == (record.text, record.note)

    def current(self, row: MirrorRow) -> MirrorRow | None:
        """The row as the remote holds it now (None: gone)."""
        return next((r for r in self.mirror() if r.remote_id == row.remote_id), None)

    def set_status(self, row: MirrorRow, status_type: str) -> str | None:
        """A person sets the row's status (as the remote holds it now); the type the remote
        then shows (None: the row is gone, or the remote cannot say it)."""
        raise NotImplementedError

    def between_read_and_write(self, row: MirrorRow,
                               status_type: str) -> Callable[[], str | None]:
        """Arm a person's status change to land after the next sync read the remote and
        before it writes; returns a check: the type the remote then showed, None when it did
        not land (the person then acts after the sync)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def fault_storm(self, seed: int) -> Iterator[None]:
        raise NotImplementedError
        yield

    @contextlib.contextmanager
    def failing_writes(self) -> Iterator[None]:
        """Every row write fails (the notes are edited first, so they change)."""
        raise NotImplementedError
        yield


# -- in memory --------------------------------------------------------------------------------


class MemoryRules:
    """A person in the in-memory remote: retitles, trashes and creates rows; time passes;
    the remote answers with no rows at all."""

    driver: MemoryDriver

    @rule(pick=st.integers(0, 50))
    def retitle_in_remote(self, pick: int) -> None:
        rows = [r for r in self.driver.remote.live() if r.key]
        if rows:
            row = rows[pick % len(rows)]
            self.driver.remote.person_retitles(row.remote_id, row.text + " (edited)")

    @rule(pick=st.integers(0, 50))
    def trash_in_remote(self, pick: int) -> None:
        rows = self.driver.remote.live()
        if rows:
            self.driver.trash(rows[pick % len(rows)].remote_id)

    @rule(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
    def create_in_remote(self, words: list[str]) -> None:
        self.driver.serial += 1
        self.driver.remote.person_creates(f"{' '.join(words)} r{self.driver.serial}")

    @rule(minutes=st.integers(0, 5))
    def time_passes(self, minutes: int) -> None:
        self.driver.remote.tick(60 * minutes)


class MemoryDriver(Driver):
    name = "memory"
    state_name = "notion"
    notes = ("A.md", "B.md", "sub/C.md")
    inbox = "Inbox.md"
    rules = MemoryRules
    examples = 40
    steps = 30

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.settings = Settings(root=root, notion=NotionSettings(
            database_id="db", inbox=self.inbox, guard_min=10**6))
        self.remote = MemoryRemote()
        self.serial = 0
        self.trashed: set[str] = set()

    def seed(self) -> dict[str, str]:
        return {note: seed_note(n, 4) for n, note in enumerate(self.notes)}

    def sync(self, *, full: bool = False, force: bool = True) -> SyncReport:
        return run_sync(self.settings, self.remote, force=force, full=full)

    def mirror(self) -> list[MirrorRow]:
        return [MirrorRow(r.remote_id, r.key, type_of(r.status), r.text, r.note)
                for r in self.remote.live()]

    def trash(self, remote_id: str) -> None:
        self.remote.person_trashes(remote_id)

    def set_status(self, row: MirrorRow, status_type: str) -> str | None:
        if self.current(row) is None:
            return None
        self.remote.person_sets_status(row.remote_id, CHAR_OF_TYPE[status_type])
        return status_type

    def between_read_and_write(self, row: MirrorRow,
                               status_type: str) -> Callable[[], str | None]:
        shown: list[str | None] = []
        self.remote.before_write.append(lambda: shown.append(self.set_status(row, status_type)))

        def landed() -> str | None:
            self.remote.before_write.clear()
            return shown[0] if shown else None

        return landed

    @contextlib.contextmanager
    def fault_storm(self, seed: int) -> Iterator[None]:
        self.remote.rng.seed(seed)
        self.remote.fail_rate, self.remote.lose_answers = 0.3, True
        try:
            yield
        finally:
            self.remote.fail_rate, self.remote.lose_answers = 0.0, False

    @contextlib.contextmanager
    def failing_writes(self) -> Iterator[None]:
        self.remote.fail_writes = True
        try:
            yield
        finally:
            self.remote.fail_writes = False


# -- a remote that is a fake server on 127.0.0.1 (Notion's, GitHub's) -------------------------


class FakeServerDriver(Driver):
    """A driver whose remote is a :class:`fake_http.FakeServer`: the fault storm, the failing
    writes and the person acting inside a sync are defined once, over its fault and hook
    API; a subclass names its write routes."""

    fake: FakeServer
    write_routes: tuple[str, ...] = ()  # the requests that create or change a row

    @contextlib.contextmanager
    def fault_storm(self, seed: int) -> Iterator[None]:
        self.fake.reseed(seed)
        self.fake.fault_rate = 0.3
        try:
            yield
        finally:
            self.fake.clear_faults()

    @contextlib.contextmanager
    def failing_writes(self) -> Iterator[None]:
        for route in self.write_routes:
            self.fake.inject("500", route=route, times=1000)
        try:
            yield
        finally:
            self.fake.clear_faults()

    def person_acts(self, row: MirrorRow, status_type: str, *, before: str,
                    after: str | None = None) -> Callable[[], str | None]:
        """A person sets ``row`` to ``status_type`` just before the next ``before`` request
        (the first one after an ``after`` request, when given); returns the check of
        :meth:`Driver.between_read_and_write`."""
        shown: list[str | None] = []

        def person(path: str, body: Any) -> None:
            shown.append(self.set_status(row, status_type))

        def arm(path: str, body: Any) -> None:
            self.fake.before(before, person)

        if after is None:
            self.fake.before(before, person)
        else:
            self.fake.before(after, arm)

        def landed() -> str | None:
            self.fake.clear_before()
            return shown[0] if shown else None

        return landed


# -- Notion (the fake, over real HTTP) ---------------------------------------------------------

NOTION_TYPE_OF_OPTION = {"Todo": "todo", "Doing": "doing", "Done": "done",
                         "Cancelled": "cancelled", "Other": "other"}
NOTION_OPTION_OF_TYPE = {v: k for k, v in NOTION_TYPE_OF_OPTION.items()}


class NotionRules:
    """A person in Notion: chooses a Status option (the Done box stays as it was), trashes
    rows, makes rows."""

    driver: NotionDriver
    remote_statuses: dict[str, str]

    @rule(pick=st.integers(0, 20), option=st.sampled_from(sorted(NOTION_TYPE_OF_OPTION)))
    def choose_status_in_notion(self, pick: int, option: str) -> None:
        rows = self.driver.mirror()
        if rows:
            row = rows[pick % len(rows)]
            self.driver.fake.set_select(row.remote_id, "Status", option)
            # Done and Status now disagree unless they happened to agree: what the row
            # says is not one status, so it is no tick to follow.
            self.remote_statuses.pop(row.remote_id, None)

    @rule(pick=st.integers(0, 20))
    def trash_in_notion(self, pick: int) -> None:
        rows = self.driver.mirror()
        if rows:
            self.driver.trash(rows[pick % len(rows)].remote_id)

    @rule(word=st.sampled_from(WORDS))
    def create_in_notion(self, word: str) -> None:
        self.driver.serial += 1
        self.driver.fake.add_row(self.driver.database,
                                 {"Task": f"{word} from notion {self.driver.serial}"})


class NotionDriver(FakeServerDriver):
    name = "notion"
    state_name = "notion"
    notes = ("A.md", "sub/B.md")
    inbox = "Inbox.md"
    rules = NotionRules
    fake: FakeNotion
    write_routes = ("PATCH /v1/pages/{id}", "POST /v1/pages")
    examples = 20
    steps = 20

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.fake = FakeNotion(fault_kinds=("429", "409", "500", "502", "503", "504", "529",
                                            "drop", "drop_after"))
        self.database = ""
        self.serial = 0

    def setup(self) -> None:
        self.fake.start()
        setup = NotionRemote(self.fake.token, base_url=self.fake.base_url,
                             options=fast_options())
        self.database = setup.create_database(self.fake.add_page(), "Tasks")
        setup.close()
        self.settings = Settings(root=self.root, notion=NotionSettings(
            database_id=self.database, inbox=self.inbox, guard_min=10**6))

    def close(self) -> None:
        self.fake.stop()

    def sync(self, *, full: bool = False, force: bool = True) -> SyncReport:
        with NotionRemote(self.fake.token, database_id=self.database,
                          base_url=self.fake.base_url, options=fast_options(max_attempts=3),
                          vault_name=self.root.name) as remote:
            return run_sync(self.settings, remote, force=force, full=full)

    def mirror(self) -> list[MirrorRow]:
        out = []
        for row in self.fake.table(self.database):
            kind = NOTION_TYPE_OF_OPTION.get(str(row["Status"]), "todo")
            out.append(MirrorRow(str(row["_id"]), str(row["Key"]) if row["Key"] else None,
                                 kind, str(row["Task"]), str(row["Note"] or ""),
                                 agrees=row["Done"] is (kind == "done")))
        return out

    def same_content(self, record: TaskRecord, row: MirrorRow) -> bool:
        return row.note == record.note  # the title is Notion's rich text of the task

    def trash(self, remote_id: str) -> None:
        self.fake.trash_row(remote_id)

    def set_status(self, row: MirrorRow, status_type: str) -> str | None:
        """Done ticked or unticked alone, as people do (Done and Status then disagree);
        other statuses through the Status select."""
        if self.current(row) is None:
            return None
        if status_type in ("done", "todo"):
            self.fake.tick(row.remote_id, status_type == "done")
        else:
            self.fake.set_select(row.remote_id, "Status", NOTION_OPTION_OF_TYPE[status_type])
        return status_type

    def between_read_and_write(self, row: MirrorRow,
                               status_type: str) -> Callable[[], str | None]:
        return self.person_acts(row, status_type, before="PATCH /v1/pages/{id}")


# -- GitHub (the fake, over real HTTP) ---------------------------------------------------------

REPO = "ada/plan"
PERSON = "Written by a person.\r\n\r\n"
GITHUB_FAST = GitHubOptions(timeout=5.0, max_attempts=3, backoff=0.001, backoff_max=0.01,
                            write_interval=0.0, secondary_wait=0.0)
GITHUB_ROW = re.compile(r"^(?P<repo>[^#]+)#(?P<number>[0-9]+):")


class GitHubRules:
    """People on github.com: close and reopen the issues a note's tasks name; tick tasks
    naming an issue in the note. Text people wrote around each checklist must survive."""

    driver: GitHubDriver
    change_status_in_note: Callable[[str, int, str], None]  # the machine's

    @rule(pick=st.integers(0, 2), reason=st.sampled_from(["completed", "not_planned", None]))
    def close_or_reopen(self, pick: int, reason: str | None) -> None:
        number = self.driver.named[pick]
        if reason is None:
            self.driver.fake.reopen(REPO, number)
        else:
            self.driver.fake.close(REPO, number, reason)

    @rule(pick=st.integers(0, 20), status=st.sampled_from([" ", "x", "/", "-", ">"]))
    def set_status_of_a_task_naming_an_issue(self, pick: int, status: str) -> None:
        self.change_status_in_note("Refs.md", pick, status)

    @invariant()
    def person_text_survives(self) -> None:
        for number in self.driver.checklists.values():
            assert (self.driver.fake.issue(REPO, number).body or "").startswith(PERSON)
        # No issue was made twice.
        assert len(self.driver.fake.issues(REPO)) == len(self.driver.named) + len(
            self.driver.checklists)


class GitHubDriver(FakeServerDriver):
    name = "github"
    state_name = "github"
    notes = ("A.md", "sub/B.md")
    rules = GitHubRules
    fake: FakeGitHub
    write_routes = ("PATCH /repos/{o}/{r}/issues/{n}", "POST /repos/{o}/{r}/issues")
    examples = 10
    steps = 15
    transient_duplicates = True

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.settings = Settings(root=root, notion=NotionSettings(guard_min=10**6),
                                 github=GitHubSettings(write_interval=0.0))
        self.fake = FakeGitHub()
        self.named: list[int] = []
        self.checklists: dict[str, int] = {}

    def seed(self) -> dict[str, str]:
        return {note: seed_note(n, 3, nested=True) for n, note in enumerate(self.notes)}

    def client(self, store: GitHubStore) -> GitHubClient:
        return GitHubClient(self.fake.token, api_url=self.fake.api_url, options=GITHUB_FAST,
                            etags=store, sleep=lambda seconds: None)

    def setup(self) -> None:
        self.fake.start()
        self.fake.add_repo(REPO)
        self.named = [self.fake.add_issue(REPO, f"bug {n}") for n in range(3)]
        (self.root / "Refs.md").write_text("".join(f"- [ ] follow {REPO}#{n}\n"
                                                   for n in self.named))
        with GitHubStore.open(self.settings.state_dir) as store, self.client(store) as client:
            for note in self.notes:
                published = publish(self.settings, client, store, str(self.root / note),
                                    repo=REPO)
                self.checklists[note] = published.link.number
        for number in self.checklists.values():
            self.fake.web_edit(REPO, number, PERSON + (self.fake.issue(REPO, number).body
                                                       or ""))

    def close(self) -> None:
        self.fake.stop()

    def sync(self, *, full: bool = False, force: bool = True) -> SyncReport:
        with GitHubStore.open(self.settings.state_dir) as store, self.client(store) as client:
            links = store.links()
            tasks = [t for note in scan_vault(self.settings).notes for t in note.tasks]
            layout = layout_of(tasks, links, self.settings.github)
            remote = GitHubRemote(client, links, layout, self.settings.github,
                                  self.settings.statuses)
            self.layout = layout
            return run_sync(self.settings, remote, force=force, full=full,
                            select=layout.covers)

    def covers(self, record: TaskRecord) -> bool:
        with GitHubStore.open(self.settings.state_dir) as store:
            links = store.links()
        tasks = [t for note in scan_vault(self.settings).notes for t in note.tasks]
        return layout_of(tasks, links, self.settings.github).covers(record)

    def mirrors_row_of(self, remote_id: str) -> bool:
        return not remote_id.startswith("ref:")

    def shown(self, status_type: str) -> str:
        return status_type if status_type in ("done", "cancelled") else "todo"

    def mirror(self) -> list[MirrorRow]:
        out = []
        for note, number in self.checklists.items():
            parsed = parse_body(self.fake.issue(REPO, number).body)
            assert parsed is not None, "the checklist block is gone"
            for task in parsed.tasks():
                kind = "cancelled" if task.cancelled else "done" if task.status == "x" else "todo"
                out.append(MirrorRow(f"{REPO}#{number}:{task.row_id}", task.key, kind,
                                     task.text, note))
        return out

    def set_status(self, row: MirrorRow, status_type: str) -> str | None:
        """A box ticked or unticked on github.com (GitHub knows no other status)."""
        now = self.current(row)
        if now is None:
            return None  # the line is gone
        row = now  # its key changes with a rewording
        number = self.checklists[row.note]
        checked = status_type in ("done", "cancelled")
        if row.status_type == "cancelled" or (row.status_type == "done") is checked:
            return None  # the box already shows it (or a struck line a click cannot change)
        assert row.key is not None
        self.fake.web_tick(REPO, number, f"<!-- vm:{encode_key(row.key)} ", checked)
        return "done" if checked else "todo"

    def between_read_and_write(self, row: MirrorRow,
                               status_type: str) -> Callable[[], str | None]:
        # GitHub takes a body whole and has no conditional write, so a box ticked between
        # the fresh read of a body and its write is lost by any client; what vaultmap
        # promises is that a tick made after the sync's first read and before that fresh
        # read is kept. The tick lands at the first read after the sync's first write.
        return self.person_acts(row, status_type, before="GET /repos/{o}/{r}/issues/{n}",
                                after="PATCH /repos/{o}/{r}/issues/{n}")


DRIVERS: tuple[type[Driver], ...] = (MemoryDriver, NotionDriver, GitHubDriver)
