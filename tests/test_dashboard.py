"""Live dashboards: the Markdown report between ``<!-- vaultmap:report -->`` markers.

Real files in a temporary vault, the real CLI, a real daemon subprocess; the parser reads the
notes back to show the region adds no task and moves no key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from daemon_proc import DaemonProcess, wait_for
from vaultmap.cli import main
from vaultmap.config import load_settings
from vaultmap.daemon.loop import Daemon
from vaultmap.dashboard import fill_regions, region_options, update_dashboards
from vaultmap.parse import parse_note
from vaultmap.parse.regions import report_regions
from vaultmap.report.common import ReportOptions

OPEN = "<!-- vaultmap:report -->"
CLOSE = "<!-- /vaultmap:report -->"
PLAN = "# Plan\n\n## Build\n\n- [ ] write the parser\n- [x] pick a name\n- [ ] ship it\n"
DASHBOARD = f"# Dashboard\n\nSome words of mine.\n\n{OPEN}\n{CLOSE}\n\n## Later\n\n- [ ] tidy up\n"
# A report whose text looks like everything a note can hold: tasks, headings, a quote.
HOSTILE = "## Heading in the report\n\n- [ ] a task in the report\n> - [x] quoted\n"


def _tasks(data: bytes) -> list[tuple[str, str, tuple[str, ...], str]]:
    note = parse_note(data, "Dashboard.md")
    return [(t.text, t.status, t.section, t.key) for t in note.tasks]


def _vault(tmp_path: Path) -> Path:
    vault = tmp_path / "Vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text("")
    (vault / "Plan.md").write_text(PLAN)
    (vault / "Dashboard.md").write_bytes(DASHBOARD.encode())
    return vault


def _region(data: bytes) -> bytes:
    region = report_regions(data, _split(data))[0]
    return data[region.start:region.end]


def _split(data: bytes) -> list[tuple[int, int]]:
    from vaultmap.parse import split_lines

    return split_lines(data)


# ------------------------------------------------------------------------ the pure pieces

@pytest.mark.parametrize(("prefix", "eol", "encoding"), [
    (b"", b"\n", "utf-8"),
    (b"", b"\r\n", "utf-8"),
    (b"\xef\xbb\xbf", b"\r\n", "utf-8"),
    (b"", b"\r", "utf-8"),
    (b"", b"\n", "cp1252"),
])
def test_only_the_region_changes_in_the_notes_own_line_endings_and_encoding(
        prefix: bytes, eol: bytes, encoding: str) -> None:
    text = ("# Caf\u00e9 plan\n\n- [ ] first \u00e0 faire\n\n"
            f"{OPEN.replace('report', 'report  by=section')}\nold text\n{CLOSE}   \n"
            "## After\n- [x] second\n").replace("\n", eol.decode())
    data = prefix + text.encode(encoding)
    before_region = data[:data.index(b"old text")]
    after_region = data[data.index(b"<!-- /vaultmap"):]
    new = fill_regions(data, lambda options: "## Progress \u2593\u2591\n\n- ok \u00e9\n")
    assert new.startswith(before_region) and new.endswith(after_region)
    written = new[len(before_region):len(new) - len(after_region)]
    # The region's own line endings are the note's, with nothing else in them.
    assert written.count(eol) == 5 and written.replace(eol, b"").count(b"\n") == 0
    assert written.replace(eol, b"").count(b"\r") == 0
    if encoding == "cp1252":
        assert written.decode("cp1252") == (
            "\n## Progress #-\n\n- ok \u00e9\n\n".replace("\n", eol.decode()))
    else:
        assert written.decode("utf-8") == (
            "\n## Progress \u2593\u2591\n\n- ok \u00e9\n\n".replace("\n", eol.decode()))
    assert fill_regions(new, lambda options: "## Progress \u2593\u2591\n\n- ok \u00e9\n") == new
    assert [t[:3] for t in _tasks(new)] == [t[:3] for t in _tasks(data)]


def test_a_region_hides_its_tasks_and_headings_and_moves_no_key() -> None:
    empty = DASHBOARD.encode()
    filled = fill_regions(empty, lambda _options: HOSTILE)
    assert b"a task in the report" in filled
    # The same tasks, with the same sections and keys: the region is not the note's.
    assert _tasks(filled) == _tasks(empty)
    assert [t[0] for t in _tasks(filled)] == ["tidy up"]
    assert _tasks(filled)[0][2] == ("Dashboard", "Later")
    # Without the markers the same text would be tasks: the region is what hides them.
    plain = filled.replace(OPEN.encode(), b"").replace(CLOSE.encode(), b"")
    assert "a task in the report" in [t[0] for t in _tasks(plain)]


def test_markers_in_code_indented_or_unclosed_are_no_region() -> None:
    shown = f"```markdown\n{OPEN}\n- [ ] in a fence\n{CLOSE}\n```\n"
    indented = f"- item\n  {OPEN}\n  - [ ] nested\n  {CLOSE}\n"
    unclosed = f"{OPEN}\n- [ ] after an opening alone\n"
    for text in (shown, indented, unclosed):
        data = text.encode()
        assert report_regions(data, _split(data)) == []
        assert fill_regions(data, lambda _options: HOSTILE) == data
    assert [t[0] for t in _tasks(unclosed.encode())] == ["after an opening alone"]


def test_marker_options() -> None:
    base = ReportOptions()
    options = region_options("by=section depth=3 limit=4 rows=7", base)
    assert (options.by, options.depth, options.limit, options.max_rows) == ("section", 3, 4, 7)
    for bad in ("by=week", "depth=-1", "limit=0", "colour=red", "depth"):
        with pytest.raises(ValueError):
            region_options(bad, base)


# ------------------------------------------------------------------------ the vault and the CLI

def test_update_writes_the_report_once_and_it_counts_nothing_of_its_own(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    settings = load_settings(vault)
    before = _tasks((vault / "Dashboard.md").read_bytes())
    first = update_dashboards(settings)
    assert first.written == ["Dashboard.md"] and not first.problems
    data = (vault / "Dashboard.md").read_bytes()
    region = _region(data).decode()
    assert "## Progress of Vault" in region and "1 of 4 done" in region
    assert re.search(r"\[.\]", region.replace("\\[", "").replace("\\]", "")) is None
    assert data.startswith(DASHBOARD.split(CLOSE)[0].encode())
    assert data.endswith((CLOSE + "\n\n## Later\n\n- [ ] tidy up\n").encode())
    assert _tasks(data) == before  # same text, status, section and key
    # A second update finds the report in place: nothing written, the file untouched.
    stat = (vault / "Dashboard.md").stat()
    second = update_dashboards(settings)
    assert second.written == [] and second.unchanged == ["Dashboard.md"]
    assert (vault / "Dashboard.md").stat().st_mtime_ns == stat.st_mtime_ns
    # The dashboard does not count itself: the totals are the notes' own.
    report = CliRunner().invoke(main, ["report", "--format", "json", str(vault)])
    assert json.loads(report.stdout)["totals"]["total"] == 4


def test_cli_update_dashboards_and_a_bad_option(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    (vault / "Other.md").write_text(f"{OPEN.replace('report', 'report by=week')}\nmine\n{CLOSE}\n")
    result = CliRunner().invoke(main, ["report", "--update-dashboards", str(vault)])
    assert result.exit_code == 1
    assert "Dashboard.md: report updated" in result.stdout
    assert "Other.md: line 1: by='week'" in result.stderr and "Traceback" not in result.output
    assert (vault / "Other.md").read_text() == f"<!-- vaultmap:report by=week -->\nmine\n{CLOSE}\n"
    (vault / "Other.md").unlink()
    again = CliRunner().invoke(main, ["report", "--update-dashboards", str(vault)])
    assert again.exit_code == 0 and "0 updated, 1 up to date" in again.stdout


def test_the_daemon_waits_while_the_dashboard_is_being_edited(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    (vault / ".vaultmap.toml").write_text("[daemon]\nquiet_period = 2\n")
    now = [1000.0]
    daemon = Daemon(vault, clock=lambda: now[0])
    daemon.dirty.mark("Dashboard.md")  # the user is typing in it
    daemon.step()
    assert (vault / "Dashboard.md").read_bytes() == DASHBOARD.encode()
    assert daemon.dashboards_due
    now[0] += 2.5
    daemon.step()
    assert b"## Progress of Vault" in (vault / "Dashboard.md").read_bytes()
    assert not daemon.dashboards_due


# ------------------------------------------------------------------------ a real daemon

def test_daemon_keeps_the_dashboard_current_without_a_loop(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    (vault / ".vaultmap.toml").write_text("[daemon]\nquiet_period = 0.3\nlog_level = \"debug\"\n")
    dashboard = vault / "Dashboard.md"
    daemon = DaemonProcess(vault, {})
    try:
        wait_for(lambda: b"1 of 4 done" in dashboard.read_bytes(), what="the first report")
        daemon.wait_ready(cycles=0)
        (vault / "Plan.md").write_text(PLAN.replace("[ ] ship", "[x] ship"))
        wait_for(lambda: b"2 of 4 done" in dashboard.read_bytes(), what="the updated report")
        written = dashboard.read_bytes()
        # Its own write comes back as events: it is recognised, nothing is written again.
        wait_for(lambda: daemon.status().get("queued", 1) == 0 and " changed: " in daemon.log()
                 and daemon.log().count("dashboards: report updated") >= 2,
                 what="the daemon to settle")
        mtime = dashboard.stat().st_mtime_ns
        updates = daemon.log().count("dashboards: report updated")
        # A few more passes: no further write, and the dashboard never counts as a change.
        touched = (vault / "Plan.md")
        touched.write_text(PLAN.replace("[ ] ship", "[x] ship"))  # a save that changes nothing
        wait_for(lambda: daemon.status().get("queued", 1) == 0, what="the echo to drain")
        assert daemon.log().count("dashboards: report updated") == updates == 2
        assert dashboard.stat().st_mtime_ns == mtime and dashboard.read_bytes() == written
        assert "changed: Dashboard.md" not in daemon.log()
        assert [t.text for t in parse_note(written, "Dashboard.md").tasks] == ["tidy up"]
        assert daemon.terminate() < 5.0
    finally:
        daemon.close()


def test_without_a_region_a_change_costs_no_dashboard_update(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    dashboard = vault / "Dashboard.md"
    dashboard.write_text("# Dashboard\n")  # no markers anywhere in the vault
    (vault / ".vaultmap.toml").write_text("[daemon]\nquiet_period = 1\n")
    now = [1000.0]
    daemon = Daemon(vault, clock=lambda: now[0])
    daemon.step()  # the first pass looks at the whole vault once
    assert not daemon.dashboards_due and not daemon.dashboards_seen
    (vault / "Plan.md").write_text(PLAN.replace("[ ] ship", "[x] ship"))
    daemon._want_dashboards(["Plan.md"], False)
    assert not daemon.dashboards_due  # a note without markers: no vault-wide update
    daemon._want_dashboards([], True)
    assert daemon.dashboards_due  # a rescan or a merge: look at the whole vault
    daemon.dashboards_due = False
    dashboard.write_bytes(DASHBOARD.encode())  # now it has them
    daemon.dirty.mark("Dashboard.md")
    now[0] += 1.5
    daemon.step()
    assert b"2 of 4 done" in dashboard.read_bytes() and daemon.dashboards_seen


def test_cli_update_dashboards_refuses_report_options(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    result = CliRunner().invoke(main, ["report", "--update-dashboards", "--format", "json",
                                       str(vault)])
    assert result.exit_code == 2 and "takes no --format" in result.stderr
    assert (vault / "Dashboard.md").read_bytes() == DASHBOARD.encode()


def test_a_region_after_front_matter_is_found_by_writer_and_parser_alike() -> None:
    data = (f"---\ntags: [plan]\n---\n{OPEN}\n- [ ] hidden\n{CLOSE}\n- [ ] shown\n").encode()
    assert [t[0] for t in _tasks(data)] == ["shown"]
    new = fill_regions(data, lambda _options: "## Report\n")
    assert new == data.replace(b"- [ ] hidden\n", b"\n## Report\n\n")
    assert parse_note(new, "n.md").dashboards == 1 and [t[0] for t in _tasks(new)] == ["shown"]


def test_two_refreshed_dashboards_merge_cleanly_and_a_tick_still_merges() -> None:
    from vaultmap.sync.git.merge import merge_note

    base = fill_regions(DASHBOARD.encode(), lambda _o: "## Progress\n\n10% on Monday\n")
    ours = fill_regions(base, lambda _o: "## Progress\n\n20% on the laptop\n")
    theirs = fill_regions(base, lambda _o: "## Progress\n\n30% on the phone\n").replace(
        b"- [ ] tidy up", b"- [x] tidy up")
    merged = merge_note(base, ours, theirs, path="Dashboard.md")
    assert not merged.conflicts
    assert merged.data == ours.replace(b"- [ ] tidy up", b"- [x] tidy up")
