"""The daemon's live dashboards kept from per-note rollups in memory: the text is exactly what
``vaultmap report --update-dashboards`` writes, a change that alters no rollup renders and
writes nothing, and ``daemon status`` shows the dashboards it keeps.

The in-process daemon (:class:`vaultmap.daemon.loop.Daemon`) runs with a clock the test moves
and paths the test marks, as the watcher would; the status test runs a real daemon.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner

from daemon_proc import FAST_NOTION, DaemonFleet, notion_daemons, wait_for, write_vault
from vaultmap.cli import main
from vaultmap.daemon.dashboards import REFILL_EVERY
from vaultmap.daemon.loop import Daemon

OPEN = "<!-- vaultmap:report -->"
CLOSE = "<!-- /vaultmap:report -->"
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
NOTES = {
    "Plan.md": "# Plan\n\n## Build\n\n- [ ] write the parser #code\n- [x] pick a name\n"
               f"- [ ] ship it 📅 {YESTERDAY}\n",
    "Areas/Home.md": "---\ntags: [home]\n---\n# Home\n\n- [/] paint the fence\n"
                     "  - [x] buy paint\n  - [ ] sand it\n- [-] build a shed\n",
    "Areas/Garden/Beds.md": "# Beds\n\n- [ ] dig\n",
    "Dashboard.md": f"# Dashboard\n\nWords of mine.\n\n{OPEN}\n{CLOSE}\n\n## Later\n\n"
                    "- [ ] tidy up\n- [x] water plants\n",
    "By folder.md": f"<!-- vaultmap:report by=folder depth=1 -->\n{CLOSE}\n",
    "Empty.md": "no tasks here\n",
}
QUIET = 1.0


class Clocked:
    """An in-process daemon whose quiet period passes when the test says so."""

    def __init__(self, vault: Path) -> None:
        self.vault = vault
        self.now = 1000.0
        self.daemon = Daemon(vault, clock=lambda: self.now)
        self.daemon.step()  # the first pass fills the regions from a full scan

    def save(self, rel: str, text: str | None) -> None:
        """Write (or with None, delete) a note, then let the quiet period pass and step."""
        path = self.vault / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.daemon.dirty.mark(rel)
        self.now += QUIET + 0.5
        self.daemon.step()


def _vault(tmp_path: Path) -> Path:
    return write_vault(tmp_path / "Vault", f"[daemon]\nquiet_period = {QUIET}\n",
                       {rel: text.encode() for rel, text in NOTES.items()})


def _regions(vault: Path) -> dict[str, bytes]:
    return {rel: (vault / rel).read_bytes() for rel in ("Dashboard.md", "By folder.md")}


def _cli_writes_nothing(vault: Path) -> None:
    """``report --update-dashboards`` finds every region holding what it would write."""
    before = _regions(vault)
    result = CliRunner().invoke(main, ["report", "--update-dashboards", str(vault)])
    assert result.exit_code == 0, result.output
    assert "0 updated, 2 up to date" in result.stdout, result.stdout
    assert _regions(vault) == before


def test_incremental_dashboards_equal_what_the_cli_writes(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    clocked = Clocked(vault)
    first = _regions(vault)
    assert b"## Progress of Vault" in first["Dashboard.md"]
    _cli_writes_nothing(vault)
    edits: list[tuple[str, str | None]] = [
        ("Plan.md", NOTES["Plan.md"].replace("[ ] write", "[x] write")),  # a tick
        ("Areas/Home.md", NOTES["Areas/Home.md"].replace("[ ] sand", "[x] sand")),  # subtask
        ("Areas/Garden/Beds.md", None),  # a note deleted: its folder goes
        ("Notes/New.md", "# New\n\n- [ ] a new task #code\n"),  # a note and a folder added
        ("Dashboard.md", (vault / "Dashboard.md").read_text().replace(
            "- [ ] tidy up", "- [x] tidy up\n- [ ] sweep")),  # the dashboard's own tasks
        ("Plan.md", "# Plan renamed\n\n" + NOTES["Plan.md"]),  # a heading above the tasks
    ]
    seen = {first["Dashboard.md"]}
    for rel, text in edits:
        clocked.save(rel, text)
        _cli_writes_nothing(vault)
        seen.add((vault / "Dashboard.md").read_bytes())
    assert len(seen) == len(edits) + 1  # every edit changed the report, and it followed


def test_a_change_that_alters_no_rollup_renders_nothing(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    clocked = Clocked(vault)
    dashboards = clocked.daemon.dashboards
    stamps = {rel: (vault / rel).stat().st_mtime_ns for rel in _regions(vault)}
    # Words after the last task: the note's rollup is the same, so is the report.
    (vault / "Plan.md").write_text(NOTES["Plan.md"] + "\nSome thoughts.\n")
    dashboards.changed(["Plan.md"])
    assert dashboards.due
    assert dashboards.refresh() is None  # nothing merged, rendered or compared
    assert not dashboards.due
    # A tick alters a rollup: the regions are rendered; the one whose text moved is written.
    (vault / "Plan.md").write_text(NOTES["Plan.md"].replace("[ ] write", "[x] write"))
    dashboards.changed(["Plan.md"])
    report = dashboards.refresh()
    assert report is not None and sorted(report.written) == ["By folder.md", "Dashboard.md"]
    # The next day the same rollups render again (what is overdue moves with the day).
    tomorrow = date.today() + timedelta(days=1)
    again = dashboards.refresh(today=tomorrow) if dashboards.due else None
    assert again is None  # nothing changed: not even due
    dashboards.changed(["Empty.md"])
    later = dashboards.refresh(today=tomorrow)
    assert later is not None and "Dashboard.md" in later.written  # "1 day" became "2 days"
    assert stamps != {rel: (vault / rel).stat().st_mtime_ns for rel in _regions(vault)}
    clocked.daemon.step()


def test_a_dashboard_edited_by_hand_is_filled_again(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    clocked = Clocked(vault)
    filled = (vault / "By folder.md").read_bytes()
    # The user wipes the region's text: no rollup changes, the region is filled again.
    clocked.save("By folder.md", f"<!-- vaultmap:report by=folder depth=1 -->\n{CLOSE}\n")
    assert (vault / "By folder.md").read_bytes() == filled


def test_without_regions_no_rollup_is_kept(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "Vault", f"[daemon]\nquiet_period = {QUIET}\n",
                        {"Plan.md": NOTES["Plan.md"].encode()})
    clocked = Clocked(vault)
    assert clocked.daemon.dashboards.rollups == {} and not clocked.daemon.dashboards_seen
    clocked.save("Plan.md", NOTES["Plan.md"].replace("[ ] write", "[x] write"))
    assert clocked.daemon.dashboards.rollups == {} and not clocked.daemon.dashboards_due
    clocked.save("Dashboard.md", NOTES["Dashboard.md"])  # a note gains the markers
    assert b"3 of 5 done" in (vault / "Dashboard.md").read_bytes()
    assert clocked.daemon.dashboards_seen and len(clocked.daemon.dashboards.rollups) == 2


def test_a_change_the_watcher_missed_is_in_the_report_within_the_hour(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    clocked = Clocked(vault)
    before = (vault / "Dashboard.md").read_bytes()
    (vault / "Plan.md").write_text(NOTES["Plan.md"].replace("[ ] write", "[x] write"))
    clocked.now += 60
    clocked.daemon.step()  # no event came: the kept rollups still say what they said
    assert (vault / "Dashboard.md").read_bytes() == before
    clocked.now += REFILL_EVERY
    clocked.daemon.step()
    assert (vault / "Dashboard.md").read_bytes() != before
    _cli_writes_nothing(vault)


def test_a_failed_refresh_waits_for_the_next_change(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    clocked = Clocked(vault)
    dashboards = clocked.daemon.dashboards
    dashboards.changed([], everything=True)
    dashboards.failed("the vault could not be read")
    assert not dashboards.due  # not tried again on every pass of the loop
    assert clocked.daemon.status()["dashboards"]["Dashboard.md"]["error"] == \
        "the vault could not be read"
    clocked.save("Plan.md", NOTES["Plan.md"].replace("[ ] write", "[x] write"))
    assert not dashboards.due
    assert clocked.daemon.status()["dashboards"]["Dashboard.md"]["error"] is None


# ------------------------------------------------------------------------ a real daemon

def _status(vault: Path) -> str:
    result = CliRunner().invoke(main, ["daemon", "status", str(vault)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_daemon_status_shows_the_dashboards_it_keeps(tmp_path: Path) -> None:
    notes = {rel: text.encode() for rel, text in NOTES.items()}
    notes["Broken.md"] = f"<!-- vaultmap:report by=week -->\n{CLOSE}\n".encode()
    vault = write_vault(tmp_path / "Vault", "[daemon]\nquiet_period = 0.3\n", notes)
    fleet = DaemonFleet(vault)
    try:
        daemon = fleet.start()

        def dashboards() -> dict[str, dict[str, str | None]]:
            return daemon.status().get("dashboards") or {}

        wait_for(lambda: dashboards().get("Dashboard.md", {}).get("refreshed"),
                 what="the first fill")
        state = dashboards()
        assert sorted(state) == ["Broken.md", "By folder.md", "Dashboard.md"]
        assert state["Broken.md"]["error"] is not None and "by='week'" in state["Broken.md"][
            "error"]
        assert state["By folder.md"]["error"] is None
        first = state["Dashboard.md"]["refreshed"]
        text = _status(vault)
        assert "dashboards: 3 note(s) with a report region" in text
        assert f"    Dashboard.md: refreshed {first}" in text
        assert "    Broken.md: refreshed not yet; last error: Broken.md: line 1: by='week'" in text
        # The region is removed from a note: it is no dashboard any more.
        (vault / "By folder.md").write_text("gone\n")
        wait_for(lambda: "By folder.md" not in dashboards(), what="the dashboard dropped")
        on_disk = json.loads((vault / ".vaultmap" / "daemon.json").read_text())
        assert sorted(on_disk["dashboards"]) == ["Broken.md", "Dashboard.md"]
        assert "By folder.md" not in _status(vault)
        assert daemon.terminate() < 5.0
    finally:
        fleet.close()


def test_a_tick_from_notion_reaches_the_dashboard_as_the_cli_would_write_it(
        tmp_path: Path) -> None:
    notes = {rel: NOTES[rel].encode() for rel in ("Plan.md", "Dashboard.md")}
    vault = write_vault(tmp_path / "Vault", FAST_NOTION + "\n[daemon]\nquiet_period = 0.3\n"
                        "notion_poll = 0.5\n", notes)
    dashboard = vault / "Dashboard.md"
    with notion_daemons(vault) as fleet:
        daemon = fleet.start()
        daemon.wait_ready()
        wait_for(lambda: b"2 of 5 done" in dashboard.read_bytes(), what="the first report")
        fleet.fake.tick(fleet.rows()["tidy up"]["_id"])
        wait_for(lambda: b"3 of 5 done" in dashboard.read_bytes(), what="Notion's tick")
        wait_for(lambda: daemon.status().get("queued", 1) == 0, what="the echoes to drain")
        assert daemon.terminate() < 5.0
    written = dashboard.read_bytes()
    result = CliRunner().invoke(main, ["report", "--update-dashboards", str(vault)])
    assert result.exit_code == 0 and "0 updated, 1 up to date" in result.stdout, result.output
    assert dashboard.read_bytes() == written
