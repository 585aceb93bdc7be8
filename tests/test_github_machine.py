"""The sync state machine with GitHub as the remote: real adapter, real HTTP, real notes.

Two notes are published as checklist issues and a third holds tasks naming issues. Rules edit
the notes, tick boxes and edit bodies "on github.com", close and reopen named issues, and sync
through injected faults (rate limits, server errors, lost answers); every sync must converge:
a second sync plans nothing, each published task is in its issue's block exactly once with
the note's checkbox, and text people wrote outside the block survives.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fake_github import FakeGitHub
from vaultmap.config import GitHubSettings, NotionSettings, Settings
from vaultmap.model import DEFAULT_STATUS_MAP
from vaultmap.sync.github.body import parse_body
from vaultmap.sync.github.http import GitHubClient, GitHubOptions
from vaultmap.sync.github.publish import publish
from vaultmap.sync.github.remote import GitHubRemote, layout_of
from vaultmap.sync.github.store import GitHubStore
from vaultmap.sync.remote import RemoteError
from vaultmap.sync.runner import SyncReport, read_vault, run_sync
from vaultmap.vault import scan_vault

WORDS = ["plan", "write", "test", "ship", "read", "fix"]
NOTES = ["A.md", "sub/B.md"]
REPO = "ada/plan"
TASK = re.compile(r"^(\s*)- \[(.)\] ")
PERSON = "Written by a person.\r\n\r\n"
FAST = GitHubOptions(timeout=5.0, max_attempts=3, backoff=0.001, backoff_max=0.01,
                     write_interval=0.0, secondary_wait=0.0)


class GitHubSyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="vm-github-"))
        for n, note in enumerate(NOTES):
            path = self.root / note
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("# Tasks\n" + "".join(f"- [ ] {WORDS[i]} item {n}{i}\n"
                                                  for i in range(3)) + "  - [x] nested\n")
        self.fake = FakeGitHub()
        self.fake.start()
        self.fake.add_repo(REPO)
        self.issues = [self.fake.add_issue(REPO, f"bug {n}") for n in range(3)]
        (self.root / "Refs.md").write_text("".join(f"- [ ] follow {REPO}#{n}\n"
                                                   for n in self.issues))
        self.settings = Settings(root=self.root, notion=NotionSettings(guard_min=10**6),
                                 github=GitHubSettings(write_interval=0.0))
        self.serial = 0
        with GitHubStore.open(self.settings.state_dir) as store, self.client(store) as client:
            for note in NOTES:
                publish(self.settings, client, store, str(self.root / note), repo=REPO)
        self.checklists = {note: n + 1 + len(self.issues) for n, note in enumerate(NOTES)}
        for number in self.checklists.values():
            self.fake.web_edit(REPO, number, PERSON + (self.fake.issue(REPO, number).body
                                                       or ""))

    def teardown(self) -> None:
        self.fake.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self, store: GitHubStore) -> GitHubClient:
        return GitHubClient(self.fake.token, api_url=self.fake.api_url, options=FAST,
                            etags=store, sleep=lambda seconds: None)

    def sync(self, **options: bool) -> SyncReport:
        with GitHubStore.open(self.settings.state_dir) as store, self.client(store) as client:
            links = store.links()
            tasks = [t for note in scan_vault(self.settings).notes for t in note.tasks]
            layout = layout_of(tasks, links, self.settings.github)
            remote = GitHubRemote(client, links, layout, self.settings.github,
                                  self.settings.statuses)
            return run_sync(self.settings, remote, force=True,
                            select=layout.covers, **options)

    def lines(self, note: str) -> list[str]:
        return (self.root / note).read_text().splitlines()

    def save(self, note: str, lines: list[str]) -> None:
        (self.root / note).write_text("\n".join(lines) + "\n")

    # -- the vault ---------------------------------------------------------------------------
    @rule(note=st.sampled_from(NOTES), word=st.sampled_from(WORDS), nested=st.booleans())
    def add_task(self, note: str, word: str, nested: bool) -> None:
        self.serial += 1
        indent = "  " if nested else ""
        self.save(note, [*self.lines(note), f"{indent}- [ ] {word} new {self.serial}"])

    @rule(note=st.sampled_from([*NOTES, "Refs.md"]), pick=st.integers(0, 20),
          status=st.sampled_from([" ", "x", "/", "-", ">"]))
    def set_status_in_note(self, note: str, pick: int, status: str) -> None:
        lines = self.lines(note)
        found = [i for i, line in enumerate(lines) if TASK.match(line)]
        if found:
            i = found[pick % len(found)]
            at = lines[i].index("[") + 1
            lines[i] = lines[i][:at] + status + lines[i][at + 1:]
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

    # -- people on github.com ----------------------------------------------------------------
    @rule(note=st.sampled_from(NOTES), pick=st.integers(0, 20), checked=st.booleans())
    def tick_on_github(self, note: str, pick: int, checked: bool) -> None:
        number = self.checklists[note]
        parsed = parse_body(self.fake.issue(REPO, number).body)
        assert parsed is not None
        tasks = parsed.tasks()
        if tasks:
            self.fake.web_tick(REPO, number, tasks[pick % len(tasks)].text, checked)

    @rule(pick=st.integers(0, 2), reason=st.sampled_from(["completed", "not_planned", None]))
    def close_or_reopen(self, pick: int, reason: str | None) -> None:
        if reason is None:
            self.fake.reopen(REPO, self.issues[pick])
        else:
            self.fake.close(REPO, self.issues[pick], reason)

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

    @rule()
    def sync_converges(self) -> None:
        first = self.sync()
        if not first.ok:
            self.sync()
        again = self.sync()
        assert again.plan.empty, again.plan.describe()
        self.check_mirror()

    @invariant()
    def person_text_survives(self) -> None:
        for number in self.checklists.values():
            assert (self.fake.issue(REPO, number).body or "").startswith(PERSON)
        assert len(self.fake.issues(REPO)) == len(self.issues) + len(NOTES)

    def check_mirror(self) -> None:
        vault = read_vault(self.settings).records
        for note, number in self.checklists.items():
            parsed = parse_body(self.fake.issue(REPO, number).body)
            assert parsed is not None
            lines = {t.key: t for t in parsed.tasks()}
            assert len(lines) == len(parsed.tasks()), "a task is twice in the body"
            in_note = {k: r for k, r in vault.items() if r.note == note}
            if not in_note:
                continue  # a note emptied of tasks looks moved: its lines are left alone
            assert set(lines) == set(in_note)
            for key, record in in_note.items():
                kind = DEFAULT_STATUS_MAP.type_of(record.status).value
                line = lines[key]
                assert (line.status == "x") is (kind in ("done", "cancelled")), (record, line)
                assert line.cancelled is (kind == "cancelled")


GitHubSyncMachine.TestCase.settings = settings(
    max_examples=10, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_github_sync_machine = GitHubSyncMachine.TestCase
