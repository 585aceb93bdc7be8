"""The daemon under kills, signals and a big ``git pull``: a real daemon subprocess, the fake
Notion over real HTTP, real git repositories. A kill lands inside a note write through the
edit path's test hold (``VAULTMAP_DEBUG_HOLD_WRITE``: the daemon stops between writing the new
content and renaming it over the note, and says so in a file), never by timing."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon_proc import FAST_NOTION, NotionDaemons, notion_daemons, wait_for, write_vault
from vaultmap.edit.atomic import HOLD_ENV
from vaultmap.parse import parse_note

CONFIG = FAST_NOTION + """
[daemon]
quiet_period = 0.3
notion_poll = 0.5
log_level = "debug"
"""

PLAN = "# Plan\r\n\r\n- [ ] write the parser\r\n- [ ] pick a name\r\n- [x] buy a domain\r\n"
TICKED = PLAN.replace("[ ] pick", "[x] pick")


Env = NotionDaemons


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with notion_daemons(write_vault(tmp_path / "Vault", CONFIG, {"Plan.md": PLAN.encode()})
                        ) as fleet:
        yield fleet


def _held_write(flag: Path, vault: Path) -> Path:
    """Wait until the daemon holds a note write; the temporary file it is about to rename."""
    wait_for(lambda: flag.exists() and flag.read_text(), what="the daemon inside a note write")
    temp = Path(flag.read_text())
    assert temp.parent == vault.resolve() and temp.exists()
    return temp


def _tasks(vault: Path) -> list[tuple[str, str]]:
    note = parse_note((vault / "Plan.md").read_bytes(), "Plan.md")
    return [(t.text, t.status) for t in note.tasks]


@pytest.mark.slow
def test_sigkill_inside_a_note_write_then_restart(env: Env, tmp_path: Path) -> None:
    flag = tmp_path / "hold"
    daemon = env.start(**{HOLD_ENV: str(flag)})
    daemon.wait_ready()
    env.fake.tick(env.rows()["pick a name"]["_id"])
    temp = _held_write(flag, env.vault)
    assert temp.read_bytes() == TICKED.encode()  # the new content is written ...
    assert (env.vault / "Plan.md").read_bytes() == PLAN.encode()  # ... the note not yet
    daemon.kill()
    assert (env.vault / "Plan.md").read_bytes() == PLAN.encode()  # the kill damaged nothing
    flag.unlink()
    again = env.start()
    again.wait_ready()
    wait_for(lambda: (env.vault / "Plan.md").read_bytes() == TICKED.encode(),
             what="the Notion tick after the restart")
    rows = env.fake.table(env.database_id)
    assert sorted(r["Task"] for r in rows) == ["buy a domain", "pick a name", "write the parser"]
    assert env.rows()["pick a name"]["Done"] and not env.rows()["write the parser"]["Done"]
    # The left-over temporary file is no note: the vault still has exactly its three tasks.
    assert _tasks(env.vault) == [("write the parser", " "), ("pick a name", "x"),
                                 ("buy a domain", "x")]
    listed = env.cli("tasks", str(env.vault)).output
    assert listed.count("[") == 3 and "vaultmap-tmp" not in listed
    assert again.terminate() < 5.0


def test_sigterm_inside_a_note_write_finishes_it_records_and_exits(env: Env,
                                                                   tmp_path: Path) -> None:
    flag = tmp_path / "hold"
    daemon = env.start(**{HOLD_ENV: str(flag)})
    daemon.wait_ready()
    env.fake.tick(env.rows()["pick a name"]["_id"])
    _held_write(flag, env.vault)
    start = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    flag.unlink()  # the write goes on: SIGTERM lets it finish
    daemon.proc.wait(timeout=5)
    assert time.monotonic() - start < 5.0 and daemon.proc.returncode == 0
    assert (env.vault / "Plan.md").read_bytes() == TICKED.encode()
    assert daemon.status().get("stopped") is True
    # The state was recorded: a new daemon finds nothing to do on either side.
    mtime = (env.vault / "Plan.md").stat().st_mtime_ns
    env.fake.reset_counts()
    again = env.start()
    again.wait_ready()
    assert env.fake.count("PATCH /v1/pages/{id}") == 0 and env.fake.count("POST /v1/pages") == 0
    assert (env.vault / "Plan.md").stat().st_mtime_ns == mtime
    assert len(env.fake.table(env.database_id)) == 3
    assert again.terminate() < 5.0


@pytest.mark.slow
def test_sigkill_during_a_status_push_then_restart(env: Env) -> None:
    daemon = env.start()
    daemon.wait_ready()
    # Notion applies the update, its answer is late: the daemon is killed waiting for it.
    env.fake.inject("slow", route="PATCH /v1/pages/{id}", delay=30)
    (env.vault / "Plan.md").write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
    wait_for(lambda: env.rows()["write the parser"]["Done"], what="the update to reach Notion")
    daemon.kill()
    env.fake.clear_faults()
    env.fake.reset_counts()
    again = env.start()
    again.wait_ready()
    wait_for(lambda: again.status().get("last_sync", {}).get("notion"), what="a sync")
    assert env.fake.count("POST /v1/pages") == 0  # no duplicate row
    assert env.fake.count("PATCH /v1/pages/{id}") <= 1  # at most the one unconfirmed update
    assert sorted(env.rows()) == ["buy a domain", "pick a name", "write the parser"]
    assert env.rows()["write the parser"]["Done"] and not env.rows()["pick a name"]["Done"]
    assert (env.vault / "Plan.md").read_bytes() == PLAN.replace("[ ] write", "[x] write").encode()
    assert again.terminate() < 5.0


def test_sighup_reload_takes_a_new_remote_into_the_loop(env: Env) -> None:
    config = env.vault / ".vaultmap.toml"
    with_notion = config.read_text()
    config.write_text("\n".join(line for line in with_notion.splitlines()
                                if not line.startswith("database_id")) + "\n")
    daemon = env.start()
    daemon.wait_ready(cycles=0)
    assert daemon.status().get("last_sync") == {}  # watching only
    env.fake.reset_counts()
    (env.vault / "Plan.md").write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
    wait_for(lambda: " changed: Plan.md" in daemon.log(), what="the change seen")
    assert env.fake.total_requests == 0
    config.write_text(with_notion)
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: (env.rows().get("write the parser") or {}).get("Done"),
             what="Notion after the reload")
    wait_for(lambda: (daemon.status().get("last_sync") or {}).get("notion"),
             what="the status to show Notion")
    assert daemon.proc.poll() is None
    assert daemon.terminate() < 5.0


NOTES = 200


def _note(index: int, ticked: bool) -> str:
    mark = "x" if ticked else " "
    return (f"# Week {index}\n\n- [{mark}] read chapter {index}\n"
            f"- [ ] exercise {index}\n")


@pytest.mark.slow
def test_git_pull_rewriting_200_notes_while_the_daemon_runs(tmp_path: Path) -> None:
    from gitsync_repos import GIT_ENV, clone, make_origin

    files = {f"Weeks/W{i:03}.md": _note(i, False) for i in range(NOTES)}
    bare = make_origin(tmp_path, files)
    phone = clone(bare, tmp_path, "phone")
    laptop = clone(bare, tmp_path, "laptop")
    (laptop.vault / ".vaultmap.toml").write_text(CONFIG)
    with notion_daemons(laptop.vault) as e:
        fake = e.fake
        daemon = e.start(**{k: v for k, v in GIT_ENV.items() if v})
        daemon.wait_ready(timeout=120)
        assert len(fake.table(e.database_id)) == 2 * NOTES
        # The phone ticks one task in every note; the laptop's user pulls while the
        # daemon runs: git rewrites 200 notes under it.
        phone.git("pull", "-q", "--no-rebase", "--no-edit")
        for i in range(NOTES):
            phone.write(f"Weeks/W{i:03}.md", _note(i, True))
        phone.commit_all("phone: read everything")
        phone.git("push", "-q")
        fake.reset_counts()
        laptop.git("pull", "-q", "--no-rebase", "--no-edit")
        wait_for(lambda: sum(1 for r in fake.table(e.database_id) if r["Done"]) == NOTES,
                 timeout=120, what="200 ticks in Notion")
        wait_for(lambda: daemon.status().get("queued", 1) == 0
                 and "notion" not in daemon.status().get("waiting", ["notion"]),
                 timeout=60, what="the daemon to settle")
        # Exactly the real changes went out: one update per ticked task, no create.
        assert fake.count("PATCH /v1/pages/{id}") == NOTES
        assert fake.count("POST /v1/pages") == 0
        rows = fake.table(e.database_id)
        assert len(rows) == 2 * NOTES and len({r["Task"] for r in rows}) == 2 * NOTES
        # No note damaged: every note is byte for byte what git checked out.
        for i in range(NOTES):
            assert laptop.read_bytes(f"Weeks/W{i:03}.md") == _note(i, True).encode()
        assert laptop.git("status", "--porcelain", "--", "Weeks").strip() == ""
        assert daemon.terminate() < 5.0
