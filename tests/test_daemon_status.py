"""``vaultmap daemon status [--format text|json]``: the same facts in both forms, with a real
daemon subprocess against the fake Notion, after it stopped, and when none ever ran."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from daemon_proc import FAST_NOTION, NotionDaemons, notion_daemons, wait_for, write_vault
from vaultmap.cli import main

CONFIG = FAST_NOTION + """
[daemon]
quiet_period = 0.3
notion_poll = 0.5
"""

PLAN = "# Plan\n\n- [ ] write the parser\n- [x] buy a domain\n"
DASHBOARD = "# Board\n\n<!-- vaultmap:report -->\n<!-- /vaultmap:report -->\n"
KEYS = {"schema", "vault", "running", "pid", "started", "updated", "stopped_cleanly", "remotes",
        "queued", "waiting", "cycles", "dashboards", "last_error"}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[NotionDaemons]:
    vault = write_vault(tmp_path / "Vault", CONFIG,
                        {"Plan.md": PLAN.encode(), "Board.md": DASHBOARD.encode()})
    with notion_daemons(vault) as fleet:
        yield fleet


def _status(vault: Path, *options: str) -> Result:
    return CliRunner().invoke(main, ["daemon", "status", *options, str(vault)])


def _json(vault: Path) -> dict[str, Any]:
    result = _status(vault, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict) and set(data) == KEYS, data
    return data


def test_running_daemon_json_and_text_say_the_same(env: NotionDaemons) -> None:
    daemon = env.start()
    daemon.wait_ready()
    data = wait_for(lambda: (d := _json(env.vault))["remotes"].get("notion", {}).get(
        "last_sync") and d["dashboards"].get("Board.md", {}).get("refreshed") and d,
        what="a sync and a dashboard refresh in the status")
    assert data["schema"] == "vaultmap.daemon-status/1"
    assert data["vault"] == str(env.vault.resolve())
    assert data["running"] is True and data["pid"] == daemon.proc.pid
    assert data["started"].startswith("20") and data["stopped_cleanly"] is None
    assert data["remotes"]["notion"]["paused"] is None
    assert data["remotes"]["notion"]["last_error"] is None
    assert isinstance(data["queued"], int) and isinstance(data["waiting"], list)
    assert data["cycles"] >= 1 and data["last_error"] is None
    assert data["dashboards"]["Board.md"]["error"] is None
    text = _status(env.vault)
    assert text.exit_code == 0
    assert f"daemon: running (pid {daemon.proc.pid}, since {data['started']})" in text.stdout
    assert "notion: last sync 20" in text.stdout and "queued: " in text.stdout
    assert "Board.md: refreshed 20" in text.stdout
    # Stopped cleanly: the last daemon's facts stay, nothing is queued in a daemon not there.
    assert daemon.terminate() < 5.0
    after = _json(env.vault)
    assert after["running"] is False and after["pid"] is None and after["started"] is None
    assert after["stopped_cleanly"] is True and after["updated"]
    assert after["queued"] is None and after["waiting"] is None
    assert after["remotes"]["notion"]["last_sync"]
    text = _status(env.vault)
    assert text.exit_code == 0
    assert text.stdout.startswith(f"daemon: not running (last seen {after['updated']})")
    assert "queued" not in text.stdout


def test_a_failing_remote_shows_its_own_error_in_both_forms(env: NotionDaemons) -> None:
    token = "ntn_wrong_token_1234567890"
    daemon = env.start(token=token)
    data = wait_for(lambda: (d := _json(env.vault))["remotes"].get("notion", {}).get(
        "paused") and d, what="notion paused")
    notion = data["remotes"]["notion"]
    assert notion["last_error"] == notion["paused"] and notion["last_sync"] is None
    assert data["last_error"] and "notion" in data["last_error"]
    text = _status(env.vault).stdout
    assert f"notion: last sync never; PAUSED: {notion['paused']}" in text
    assert token not in json.dumps(data) + text + daemon.log()
    assert daemon.terminate() < 5.0


def test_a_remote_retrying_after_a_network_failure_says_why(env: NotionDaemons) -> None:
    daemon = env.start()
    daemon.wait_ready()
    env.fake.inject("500", times=1000)  # every request, every attempt, for a while
    data = wait_for(lambda: (d := _json(env.vault))["remotes"]["notion"]["last_error"] and d,
                    what="the failure in the status")
    notion = data["remotes"]["notion"]
    assert notion["paused"] is None and notion["last_sync"]
    assert f"; failing: {notion['last_error']}" in _status(env.vault).stdout
    # It heals: the next good sync clears the remote's error (the daemon's last one stays).
    env.fake.clear_faults()
    wait_for(lambda: _json(env.vault)["remotes"]["notion"]["last_error"] is None,
             what="the error cleared by a good sync")
    assert "; failing:" not in _status(env.vault).stdout
    assert daemon.terminate() < 5.0


def test_no_daemon_ever_ran(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "Vault", CONFIG, {"Plan.md": PLAN.encode()})
    data = _json(vault)
    assert data == {"schema": "vaultmap.daemon-status/1", "vault": str(vault.resolve()),
                    "running": False, "pid": None, "started": None, "updated": None,
                    "stopped_cleanly": None, "remotes": {}, "queued": None, "waiting": None,
                    "cycles": None, "dashboards": {}, "last_error": None}
    text = _status(vault)
    assert text.exit_code == 0 and text.stdout == "daemon: not running\n"


def test_bad_input_exit_codes_are_those_of_the_text_form(tmp_path: Path) -> None:
    missing = _status(tmp_path / "missing", "--format", "json")
    assert missing.exit_code == 2 and missing.stdout == ""
    broken = write_vault(tmp_path / "Broken", "[daemon\n", {"Plan.md": PLAN.encode()})
    for options in ((), ("--format", "json")):
        result = _status(broken, *options)
        assert result.exit_code == 3 and result.stdout == "", result.output
        assert "Traceback" not in result.output
