"""The daemon's focused Notion sync sees every note another remote's sync wrote: a real
``vaultmap daemon`` subprocess, the fake Notion and the fake GitHub over real HTTP on
127.0.0.1, deadlines and polling throughout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from daemon_proc import DaemonProcess, wait_for
from fake_github import FakeGitHub
from fake_notion import FakeNotion
from vaultmap.cli import main
from vaultmap.config import load_settings

CONFIG = """\
[notion]
requests_per_second = 0
timeout = 5
backoff = 0.001
max_attempts = 3

[github]
write_interval = 0
backoff = 0.001

[daemon]
quiet_period = 0.3
notion_poll = 0.5
github_poll = 0.3
log_level = "debug"
"""

PLAN = "# Plan\n\n- [ ] write the parser\n  - [ ] pick a grammar\n- [x] buy a domain\n"


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[Path, FakeNotion, FakeGitHub, dict[str, str]]]:
    vault = tmp_path / "Vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(CONFIG)
    (vault / "Plan.md").write_bytes(PLAN.encode())
    with FakeNotion() as notion, FakeGitHub() as github:
        github.add_repo("ada/plan")
        token = github.token
        env = {"NOTION_TOKEN": notion.token, "VAULTMAP_NOTION_BASE_URL": notion.base_url,
               "GITHUB_TOKEN": token, "GH_TOKEN": token, "GH_ENTERPRISE_TOKEN": token,
               "GITHUB_ENTERPRISE_TOKEN": token, "VAULTMAP_GITHUB_API_URL": github.api_url}
        runner = CliRunner()
        for args in (["notion", "init", "--parent", notion.add_page("Home"), str(vault)],
                     ["github", "publish", str(vault / "Plan.md"), "--repo", "ada/plan"]):
            result = runner.invoke(main, args, env=env, catch_exceptions=False)
            assert result.exit_code == 0, result.output
        yield vault, notion, github, env


@pytest.mark.slow
def test_a_box_ticked_on_github_reaches_notion_at_the_next_focused_sync(
        both: tuple[Path, FakeNotion, FakeGitHub, dict[str, str]]) -> None:
    """The GitHub sync writes the tick into the note; the daemon takes that write as its
    own (its hash), so no watcher event says the note changed. The Notion sync must still
    plan the note: before, the tick waited for the hourly full plan."""
    vault, notion, github, env = both
    database = load_settings(vault).notion.database_id

    def rows() -> dict[str, dict[str, Any]]:
        return {r["Task"]: r for r in notion.table(database)}

    # Notion's edit times are to the minute, so every read looks two minutes back: the rows
    # the first sync creates (10 minutes ago, by Notion's clock) fall out of the window
    # after two reads, and a later sync reads only what changed since.
    notion.clock.advance(-600)
    daemon = DaemonProcess(vault, env)
    try:
        daemon.wait_ready()
        assert not rows()["pick a grammar"]["Done"]
        notion.clock.advance(600)
        synced = daemon.log().count("notion: synced")
        wait_for(lambda: daemon.log().count("notion: synced") >= synced + 2,
                 what="two more Notion polls")
        github.web_tick("ada/plan", 1, "pick a grammar")
        ticked = PLAN.replace("[ ] pick", "[x] pick").encode()
        wait_for(lambda: (vault / "Plan.md").read_bytes() == ticked,
                 what="the github.com tick in the note")
        wait_for(lambda: rows()["pick a grammar"]["Done"], what="the tick in Notion")
        assert len(notion.table(database)) == 3
        assert daemon.terminate() < 5.0
    finally:
        daemon.close()
