"""``vaultmap daemon`` end to end: a real daemon subprocess, the fake Notion over real HTTP,
real file-system events made the way editors save, deadlines and polling throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon_proc import FAST_NOTION, NotionDaemons, notion_daemons, wait_for, write_vault
from gitsync_repos import GIT_ENV, Clone, clone, git, make_origin

CONFIG = FAST_NOTION + """
[daemon]
quiet_period = 0.3
notion_poll = 1.0
log_level = "debug"
"""

PLAN = "# Plan\n\n- [ ] write the parser\n- [ ] pick a name\n- [x] buy a domain\n"


Env = NotionDaemons


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with notion_daemons(write_vault(tmp_path / "Vault", CONFIG, {"Plan.md": PLAN.encode()})
                        ) as fleet:
        yield fleet


def test_tick_both_ways_status_and_sigterm(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    assert set(env.rows()) == {"write the parser", "pick a name", "buy a domain"}
    # A tick saved in place reaches Notion.
    note = env.vault / "Plan.md"
    note.write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
    wait_for(lambda: env.done_in_notion("write the parser"), what="the tick in Notion")
    # A tick in Notion reaches the note, changing one byte and nothing else.
    env.fake.tick(env.rows()["pick a name"]["_id"])
    expected = PLAN.replace("[ ] write", "[x] write").replace("[ ] pick", "[x] pick").encode()
    wait_for(lambda: note.read_bytes() == expected, what="the Notion tick in the note")
    status = env.cli("daemon", "status", str(env.vault))
    assert f"running (pid {daemon.proc.pid}" in status.output
    assert "notion: last sync 20" in status.output
    took = daemon.terminate()
    assert took < 5.0 and daemon.proc.returncode == 0
    assert "not running" in env.cli("daemon", "status", str(env.vault)).output
    assert env.fake.token not in daemon.log() + daemon.output()
    assert len(env.fake.table(env.database_id)) == 3  # no duplicate row along the way


def test_editor_save_patterns_are_one_change_each(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    note = env.vault / "Plan.md"
    # vim / VS Code / Obsidian: write a temporary file, rename it onto the note.
    temp = env.vault / ".Plan.md.swp~"
    temp.write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
    os.replace(temp, note)
    wait_for(lambda: env.done_in_notion("write the parser"), what="temp+rename save")
    # git checkout / some editors: delete, then create.
    note.unlink()
    note.write_bytes(PLAN.replace("[ ] pick", "[x] pick").encode())
    wait_for(lambda: env.done_in_notion("pick a name")
             and not env.done_in_notion("write the parser"), what="delete+create save")
    # A burst of 1,000 saves is coalesced into a handful of syncs, ending in the last state.
    env.fake.reset_counts()
    for index in range(1000):
        text = PLAN if index % 2 else PLAN.replace("[x] buy", "[ ] buy")
        note.write_bytes(text.encode())
    final = PLAN.replace("[x] buy", "[-] buy")
    note.write_bytes(final.encode())
    wait_for(lambda: env.rows()["buy a domain"]["Status"] == "Cancelled", what="burst")
    updates = env.fake.count("PATCH /v1/pages/{id}")
    assert updates <= 5, updates
    assert note.read_bytes() == final.encode()
    assert len(env.fake.table(env.database_id)) == 3
    daemon.terminate()


def test_own_writes_and_ignored_folders_cause_no_sync(env: Env) -> None:
    daemon = env.start()
    status = daemon.wait_ready()
    env.fake.tick(env.rows()["pick a name"]["_id"])
    note = env.vault / "Plan.md"
    wait_for(lambda: b"[x] pick" in note.read_bytes(), what="the Notion tick")
    # Files the daemon must not follow: its own state, git's and Obsidian's folders,
    # a file that is not a note.
    for rel in (".obsidian/plan.md", ".git/x.md", ".vaultmap/x.md", "image.png"):
        (env.vault / rel).parent.mkdir(exist_ok=True)
        (env.vault / rel).write_text("- [ ] not a note\n")
    # Wait for several polls: the log never says a note changed (its own write is an echo).
    cycles = status["cycles"]
    wait_for(lambda: daemon.status().get("cycles", 0) >= cycles + 4, what="more polls")
    changed_lines = [line for line in daemon.log().splitlines() if " changed: " in line]
    assert changed_lines == [], changed_lines
    assert "not a note" not in str(env.rows())
    daemon.terminate()


@pytest.mark.slow
def test_second_instance_refused_and_kill_restart_converges(env: Env) -> None:
    first = env.start()
    first.wait_ready()
    second = env.start()
    second.proc.wait(timeout=20)
    assert second.proc.returncode == 20
    assert f"pid {first.proc.pid}" in second.output()
    assert "Traceback" not in second.output()
    # kill -9, change the note while no daemon runs, start again: the stale lock is taken
    # over and the change arrives once.
    first.kill()
    note = env.vault / "Plan.md"
    note.write_bytes((PLAN + "- [x] a task added while down\n").encode())
    third = env.start()
    third.wait_ready()
    wait_for(lambda: env.done_in_notion("a task added while down"), what="catch-up")
    rows = env.fake.table(env.database_id)
    assert len(rows) == 4 and len({r["Task"] for r in rows}) == 4
    third.terminate()


def test_bad_token_pauses_notion_and_status_says_so(env: Env) -> None:
    daemon = env.start(token="ntn_wrong_token_1234567890")
    wait_for(lambda: daemon.status().get("paused", {}).get("notion"), what="notion paused")
    result = env.cli("daemon", "status", str(env.vault))
    assert "PAUSED" in result.output
    assert daemon.proc.poll() is None  # the daemon goes on
    assert "ntn_wrong_token_1234567890" not in daemon.log() + result.output
    daemon.terminate()


@pytest.mark.slow
def test_network_faults_while_editing_converge(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    env.fake.inject("500", times=4)
    env.fake.inject("drop", times=2)
    note = env.vault / "Plan.md"
    note.write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
    env.fake.inject("429", times=5)
    note.write_bytes(PLAN.replace("[ ] write", "[x] write").replace("[ ] pick", "[/] pick")
                     .encode())
    wait_for(lambda: env.done_in_notion("write the parser")
             and env.rows()["pick a name"]["Status"] == "Doing", timeout=40, what="converge")
    assert len(env.fake.table(env.database_id)) == 3
    daemon.terminate()


def test_stop_command_and_print_service(env: Env) -> None:
    unit = env.cli("daemon", "--print-service", "systemd", str(env.vault)).output
    assert f"{sys.executable} -m vaultmap daemon {env.vault.resolve()}" in unit
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit
    plist = env.cli("daemon", "--print-service", "launchd", str(env.vault)).output
    assert f"<string>{env.vault.resolve()}</string>" in plist
    daemon = env.start()
    daemon.wait_ready()
    result = env.cli("daemon", "stop", str(env.vault))
    assert result.exit_code == 0 and f"stopped (pid {daemon.proc.pid})" in result.output
    # `stop` returns once the daemon let go of its lock; the interpreter then exits, within
    # the 5 s the daemon has to stop (a loaded machine needs more than 1 s for that).
    assert daemon.proc.wait(timeout=5) == 0
    assert env.cli("daemon", "stop", str(env.vault)).output.strip() == "daemon: not running"


def test_sighup_reloads_the_config(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    config = env.vault / ".vaultmap.toml"
    config.write_text(config.read_text().replace("notion_poll = 1.0", "notion_poll = 0.2"))
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "config reloaded" in daemon.log(), what="reload")
    assert daemon.proc.poll() is None
    daemon.terminate()


def test_one_notion_connection_serves_every_poll_until_a_reload(env: Env) -> None:
    # A deadline shorter than the test: it holds for each sync, not for the client's life.
    config = env.vault / ".vaultmap.toml"
    config.write_text(config.read_text().replace("max_attempts = 3", "max_attempts = 3\n"
                                                 "deadline = 1.5"))
    daemon = env.start()
    first = daemon.wait_ready()["cycles"]
    opened = env.fake.connections
    # Polls a second apart, and a tick to send: all over the connection already open.
    (env.vault / "Plan.md").write_bytes(PLAN.replace("[ ] pick", "[x] pick").encode())
    wait_for(lambda: env.done_in_notion("pick a name"), what="the tick")
    wait_for(lambda: daemon.status().get("cycles", 0) >= first + 4, what="four more syncs")
    assert env.fake.connections == opened
    assert "gave up" not in daemon.log() and daemon.status().get("last_error") is None
    # A reload makes a new client (the token or the database may have changed).
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: env.fake.connections > opened, what="a new connection after SIGHUP")
    assert daemon.terminate() < 5.0


def test_not_a_vault_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "vaultmap", "daemon", "status",
                             str(tmp_path / "missing")], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr


GIT_DAEMON = """\
[git]
enabled = true
lock_timeout = 1.0
timeout = 20

[daemon]
quiet_period = 0.3
notion_poll = 1.0
git_commit_after = 0.5
git_interval = 1.0
"""


def _phone_and_laptop(tmp_path: Path) -> tuple[Path, Clone, Clone]:
    """A bare origin with the plan, and two clones of it; the laptop's daemon gets Notion,
    git and fast schedules (its config committed and pushed)."""
    bare = make_origin(tmp_path, {"Plan.md": PLAN})
    phone = clone(bare, tmp_path, "phone")
    laptop = clone(bare, tmp_path, "laptop")
    # clone() wrote its own config; the laptop's daemon gets Notion + git + fast schedules.
    (laptop.vault / ".vaultmap.toml").write_text(CONFIG.split("[daemon]")[0] + GIT_DAEMON)
    laptop.commit_all("laptop: daemon config")
    laptop.git("push", "-q")
    return bare, phone, laptop


@pytest.mark.slow
def test_git_schedule_commits_pushes_and_pulls_into_notion(tmp_path: Path) -> None:
    bare, other, mine = _phone_and_laptop(tmp_path)
    with notion_daemons(mine.vault) as e:
        fake = e.fake
        mine.commit_all("laptop: database id")  # the config is the user's own business
        daemon = e.start(**{k: v for k, v in GIT_ENV.items() if v})
        daemon.wait_ready()
        # A tick saved on the laptop is committed and pushed by the daemon.
        mine.write("Plan.md", PLAN.replace("[ ] write", "[x] write"))
        wait_for(lambda: "[x] write" in git(tmp_path, "--git-dir", str(bare), "show",
                                            "main:Plan.md"), timeout=30, what="the push")
        wait_for(lambda: e.done_in_notion("write the parser"), what="Notion")
        # A tick pushed from the phone reaches the laptop's note and Notion.
        other.git("pull", "-q", "--no-rebase", "--no-edit")
        other.write("Plan.md", other.read("Plan.md").replace("[ ] pick", "[x] pick"))
        other.commit_all("phone: tick")
        other.git("push", "-q")
        wait_for(lambda: "[x] pick" in mine.read("Plan.md"), timeout=30, what="the pull")
        wait_for(lambda: e.done_in_notion("pick a name"), timeout=30, what="pull->Notion")
        assert mine.read("Plan.md") == PLAN.replace("[ ] write", "[x] write").replace(
            "[ ] pick", "[x] pick")
        assert len(fake.table(e.database_id)) == 3
        assert daemon.terminate() < 5.0


def test_sync_while_the_daemon_runs_says_so_and_works(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    (env.vault / "Plan.md").write_bytes(PLAN.replace("[ ] pick", "[x] pick").encode())
    result = env.cli("sync", str(env.vault))
    assert result.exit_code == 0, result.output
    assert f"a daemon (pid {daemon.proc.pid}) syncs this vault too" in result.stderr
    wait_for(lambda: env.done_in_notion("pick a name"), what="the tick")
    assert len(env.fake.table(env.database_id)) == 3
    daemon.terminate()


@pytest.mark.slow
def test_sigkill_during_a_create_then_restart_makes_no_duplicate(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    # The create is applied by Notion, its answer delayed: the daemon is killed waiting.
    env.fake.inject("slow", route="POST /v1/pages", delay=30)
    note = env.vault / "Plan.md"
    note.write_bytes((PLAN + "- [ ] a new task\n").encode())
    wait_for(lambda: "a new task" in env.rows(), what="the create to reach the fake")
    daemon.kill()
    env.fake.clear_faults()
    again = env.start()
    again.wait_ready()
    wait_for(lambda: again.status().get("last_sync", {}).get("notion"), what="a sync")
    rows = env.fake.table(env.database_id)
    assert sorted(r["Task"] for r in rows) == sorted(
        ["write the parser", "pick a name", "buy a domain", "a new task"])
    assert note.read_bytes() == (PLAN + "- [ ] a new task\n").encode()
    again.terminate()


@pytest.mark.slow
def test_git_conflict_pauses_git_and_notion_goes_on(tmp_path: Path) -> None:
    bare, other, mine = _phone_and_laptop(tmp_path)
    # The phone rewrites a task's text; the laptop will rewrite the same line differently.
    other.git("pull", "-q", "--no-rebase", "--no-edit")
    other.write("Plan.md", other.read("Plan.md").replace("buy a domain", "buy example.org"))
    other.commit_all("phone: reword")
    other.git("push", "-q")
    with notion_daemons(mine.vault) as e:
        mine.write("Plan.md", PLAN.replace("buy a domain", "buy example.net"))
        mine.commit_all("laptop: reword and database id")
        daemon = e.start(**{k: v for k, v in GIT_ENV.items() if v})
        wait_for(lambda: daemon.status().get("paused", {}).get("git"), timeout=30,
                 what="git paused")
        assert "<<<<<<<" not in mine.read("Plan.md")
        assert not (mine.path / ".git" / "MERGE_HEAD").exists()
        # Notion goes on: a tick still arrives.
        mine.write("Plan.md", mine.read("Plan.md").replace("[ ] pick", "[x] pick"))
        wait_for(lambda: e.done_in_notion("pick a name"), what="Notion while git paused")
        # Nothing of the laptop's side was pushed over the phone's.
        assert "buy example.org" in git(tmp_path, "--git-dir", str(bare), "show",
                                        "main:Plan.md")
        assert daemon.proc.poll() is None
        assert daemon.terminate() < 5.0
