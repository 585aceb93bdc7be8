"""The daemon keeps a published checklist in step: a real ``vaultmap daemon`` subprocess, the
fake GitHub over real HTTP on 127.0.0.1, deadlines and polling throughout."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from daemon_proc import DaemonFleet, wait_for, write_vault
from fake_github import FakeGitHub
from vaultmap.cli import main
from vaultmap.daemon.loop import RESCAN_EVERY, Daemon
from vaultmap.sync.github.body import parse_body

CONFIG = """\
[github]
write_interval = 0
backoff = 0.001

[daemon]
quiet_period = 0.3
github_poll = 0.3
log_level = "debug"
"""

PLAN = "# Plan\n\n- [ ] write the parser\n  - [ ] pick a grammar\n- [x] buy a domain\n"


@dataclass(kw_only=True)
class Env(DaemonFleet):
    fake: FakeGitHub

    def env(self, token: str | None = None) -> dict[str, str]:
        # Every token variable (the test machine may have its own, and the daemon inherits
        # the environment): whichever the client picks for the fake's host is this one.
        token = token or self.fake.token
        return {"GITHUB_TOKEN": token, "GH_TOKEN": token, "GH_ENTERPRISE_TOKEN": token,
                "GITHUB_ENTERPRISE_TOKEN": token, "VAULTMAP_GITHUB_API_URL": self.fake.api_url}

    def cli(self, *args: str) -> Result:
        result = CliRunner().invoke(main, list(args), env=self.env(), catch_exceptions=False)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def boxes(self) -> dict[str, str]:
        parsed = parse_body(self.fake.issue("ada/plan", 1).body)
        assert parsed is not None
        return {task.text: task.status for task in parsed.tasks()}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    vault = write_vault(tmp_path / "Vault", CONFIG, {"Plan.md": PLAN.encode()})
    with FakeGitHub() as fake:
        fake.add_repo("ada/plan")
        e = Env(vault, fake=fake)
        e.cli("github", "publish", str(vault / "Plan.md"), "--repo", "ada/plan")
        try:
            yield e
        finally:
            e.close()


def test_the_daemon_ticks_both_ways_with_github(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    note = env.vault / "Plan.md"
    # A box ticked on "github.com" (the web editor saves CRLF) changes one byte in the note.
    env.fake.web_tick("ada/plan", 1, "pick a grammar")
    ticked = PLAN.replace("[ ] pick", "[x] pick").encode()
    wait_for(lambda: note.read_bytes() == ticked, what="the github.com tick in the note")
    # A tick saved in the note reaches the body.
    note.write_bytes(ticked.replace(b"[ ] write", b"[x] write"))
    wait_for(lambda: env.boxes()["write the parser"] == "x", what="the note's tick on GitHub")
    assert env.boxes() == {"write the parser": "x", "pick a grammar": "x", "buy a domain": "x"}
    status = env.cli("daemon", "status", str(env.vault)).stdout
    assert "github: last sync 20" in status and "PAUSED" not in status
    assert daemon.terminate() < 5.0 and daemon.proc.returncode == 0
    assert env.fake.token not in daemon.log() + daemon.output()
    assert len(env.fake.issues("ada/plan")) == 1


def test_idle_polls_cost_no_rate_limit(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    env.fake.reset_counts()
    opened = env.fake.connections
    wait_for(lambda: env.fake.count("GET /repos/{o}/{r}/issues/{n}") >= 3,
             what="three polls of the issue")
    assert env.fake.units_used == 0  # every poll answered 304
    assert env.fake.connections == opened  # one client, its connection kept, for every poll
    assert env.fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 0
    daemon.terminate()


def test_a_bad_token_pauses_github_with_one_line(env: Env) -> None:
    wrong = "ghp_wrongtoken1234567890"
    daemon = env.start(token=wrong)
    wait_for(lambda: daemon.status().get("paused", {}).get("github"), what="github paused")
    status = env.cli("daemon", "status", str(env.vault)).stdout
    assert "github:" in status and "PAUSED" in status and "401" in status
    # Paused: no more tries (polls are 0.3 s apart), so the log says it once.
    requests = env.fake.total_requests
    # The daemon goes on (it sees a saved note), and a paused GitHub is not asked about it.
    (env.vault / "Other.md").write_text("- [ ] still watched\n")
    wait_for(lambda: "changed: Other.md" in daemon.log() or None,
             what="the daemon still stepping after the pause")
    assert daemon.log().count("github: paused") == 1
    assert env.fake.total_requests == requests
    assert daemon.proc.poll() is None
    assert wrong not in daemon.log() + daemon.output() + status
    daemon.terminate()


def test_a_note_published_while_the_daemon_runs_is_picked_up(env: Env) -> None:
    env.cli("github", "unlink", str(env.vault / "Plan.md"))
    daemon = env.start()
    wait_for(lambda: "only watches" in daemon.log(), what="a daemon with no remote")
    env.cli("github", "publish", str(env.vault / "Plan.md"), "--repo", "ada/plan", "--issue",
            "1")
    wait_for(lambda: "github" in (daemon.status().get("last_sync") or {}),
             what="GitHub among the daemon's remotes")
    env.fake.web_tick("ada/plan", 1, "pick a grammar")
    note = env.vault / "Plan.md"
    wait_for(lambda: b"[x] pick a grammar" in note.read_bytes(), what="the tick in the note")
    assert note.read_bytes() == PLAN.replace("[ ] pick", "[x] pick").encode()
    assert daemon.log().count("a note was published") == 1
    daemon.terminate()


def test_a_box_ticked_on_github_updates_the_dashboard(env: Env) -> None:
    dashboard = env.vault / "Dashboard.md"
    dashboard.write_text("<!-- vaultmap:report -->\n<!-- /vaultmap:report -->\n")
    daemon = env.start()
    daemon.wait_ready()
    wait_for(lambda: b"1 of 3 done" in dashboard.read_bytes(), what="the first report")
    env.fake.web_tick("ada/plan", 1, "pick a grammar")
    wait_for(lambda: b"2 of 3 done" in dashboard.read_bytes(), what="the tick in the report")
    daemon.terminate()


def test_a_github_poll_plans_from_the_tasks_in_memory(env: Env, monkeypatch: pytest.MonkeyPatch,
                                                      request: pytest.FixtureRequest) -> None:
    # The in-process daemon with a clock the test moves: what a poll sees is what the
    # daemon knows (the saves the watcher reported), not a fresh scan of the vault.
    for name, value in env.env().items():
        monkeypatch.setenv(name, value)
    now = [1000.0]
    daemon = Daemon(env.vault, clock=lambda: now[0])
    # Driven by step(), not run(): close its kept client as run() does on the way out,
    # or the fake's thread serving that connection outlives the test.
    request.addfinalizer(daemon.close_clients)
    daemon.step()  # the first sync: a full scan
    assert daemon.remotes["github"].last_sync and env.boxes()["write the parser"] == " "
    note = env.vault / "Plan.md"
    # A save the watcher never reported: an idle poll reads no note, so GitHub keeps " ".
    note.write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
    env.fake.reset_counts()
    now[0] += 1.0
    daemon.step()
    assert env.boxes()["write the parser"] == " "
    assert env.fake.count("GET /repos/{o}/{r}/issues/{n}") == 1  # the poll ran
    # A reported save reaches GitHub from memory (that note alone read again) ...
    note.write_bytes(PLAN.replace("[ ] pick", "[x] pick").encode())
    daemon.dirty.mark("Plan.md")
    now[0] += 1.0
    daemon.step()
    assert env.boxes() == {"write the parser": " ", "pick a grammar": "x", "buy a domain": "x"}
    # ... and the hourly full scan catches a save the watcher missed.
    note.write_bytes(PLAN.replace("[ ] write", "[x] write").replace("[ ] pick", "[x] pick")
                     .encode())
    now[0] += 1.0
    daemon.step()
    assert env.boxes()["write the parser"] == " "
    now[0] += RESCAN_EVERY
    daemon.step()
    assert env.boxes()["write the parser"] == "x"
    assert len(env.fake.issues("ada/plan")) == 1
