"""What a live-dashboard update costs the daemon per note change, before and after it kept
each note's rollup in memory, against the warm scan every sync pays anyway.

Usage::

    .venv/bin/python benchmarks/bench_dashboard.py            # 5,000 notes, 20% with tasks
    .venv/bin/python benchmarks/bench_dashboard.py --quick    # 1,000 notes
    .venv/bin/python benchmarks/bench_dashboard.py --runs 7

On one generated vault with an up-to-date index, in one process, each round measures:

- warm scan: ``scan_vault`` with nothing changed (the baseline: a daemon sync reads the vault
  this way too);
- before, per tick: what the daemon did for every note change until now: scan the vault, roll
  every note up (``build_progress``), render, write the region (one task ticked or unticked
  before each run, so the region is written every time);
- ``report --update-dashboards`` after a tick: the scan with the rollups stored in the index,
  merged;
- after, per tick: the daemon now (:class:`vaultmap.daemon.dashboards.LiveDashboards`): the
  changed note read and rolled up alone, the kept rollups merged, render, write;
- after, a save that alters no rollup (words added below the tasks): nothing rendered;
- parse of the dashboard note with and without its markers (what hiding a region costs).

It prints one Markdown table of medians and their ratio to the warm scan, and the speed-up of
"after" over "before" per tick.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate_vault

from vaultmap.config import Settings, load_settings
from vaultmap.daemon.dashboards import LiveDashboards
from vaultmap.dashboard import DashboardReport, update_dashboards, write_dashboards
from vaultmap.parse import parse_note
from vaultmap.progress import build_progress
from vaultmap.vault import scan_vault

DASHBOARD = ("# Dashboard\n\nMy week at a glance.\n\n<!-- vaultmap:report by=folder depth=1 -->\n"
             "<!-- /vaultmap:report -->\n\n## Inbox\n\n- [ ] sort the inbox\n")


def _time(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _before(settings: Settings) -> DashboardReport:
    """The daemon's dashboard update before it kept rollups: the whole vault rolled up."""
    result = scan_vault(settings)
    progress = build_progress(result.notes, today=date.today(),
                              top_level_only=settings.report.top_level_only)
    return write_dashboards(settings, progress, [n.path for n in result.notes if n.dashboards])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 notes instead of 5,000")
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args()
    notes = 1000 if args.quick else 5000
    with tempfile.TemporaryDirectory() as temp:
        vault = Path(temp) / "Vault"
        stats = generate_vault(vault, notes=notes)
        (vault / ".vaultmap.toml").write_text("")
        dashboard = vault / "Dashboard.md"
        dashboard.write_text(DASHBOARD)
        settings = load_settings(vault)
        scan_vault(settings)  # the index, made once
        update_dashboards(settings)  # the region, filled once
        live = LiveDashboards(settings)
        assert live.refresh() is not None  # the daemon's first pass: a full fill
        tick = next(p for p in sorted(vault.rglob("*.md")) if _ticks_a_task(p.read_bytes()))
        rel = tick.relative_to(vault).as_posix()
        original = tick.read_bytes()
        filled = dashboard.read_bytes()
        bare = filled.replace(b"<!-- vaultmap:report by=folder depth=1 -->", b"").replace(
            b"<!-- /vaultmap:report -->", b"")
        flips = [0]

        def flip() -> None:
            flips[0] += 1
            tick.write_bytes(original.replace(b"- [ ] ", b"- [x] ", 1) if flips[0] % 2
                             else original)

        def after() -> DashboardReport | None:
            live.changed([rel])
            return live.refresh()

        rows: dict[str, list[float]] = {name: [] for name in (
            "warm scan (baseline)", "before: per tick (scan, roll up all, render, write)",
            "report --update-dashboards after a tick", "after: per tick (1 note, merge, render, "
            "write)", "after: a save that alters no rollup", "parse the dashboard note",
            "parse it without markers")}
        names = list(rows)
        for _ in range(args.runs):
            rows[names[0]].append(_time(lambda: scan_vault(settings)))
            flip()
            rows[names[1]].append(_time(lambda: _check_written(_before(settings))))
            flip()
            rows[names[2]].append(_time(lambda: _check_written(update_dashboards(settings))))
            flip()
            rows[names[3]].append(_time(lambda: _check_written(after())))
            tick.write_bytes(tick.read_bytes() + b"\nA thought.\n")  # no rollup changes
            rows[names[4]].append(_time(lambda: _check_nothing(after())))
            rows[names[5]].append(
                _time(lambda: parse_note(dashboard.read_bytes(), "Dashboard.md")))
            rows[names[6]].append(_time(lambda: parse_note(bare, "Dashboard.md")))
        tick.write_bytes(original)
    print(f"{notes:,} notes ({stats.notes_with_tasks:,} with tasks, "
          f"{stats.obsidian_tasks:,} tasks), median of {args.runs} rounds\n")
    print("| measure | median ms | x warm scan |")
    print("| --- | --: | --: |")
    base = statistics.median(rows[names[0]])
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.2f} | {median / base:.2f} |")
    before, now = statistics.median(rows[names[1]]), statistics.median(rows[names[3]])
    print(f"\nper tick: before {before * 1000:.0f} ms, after {now * 1000:.1f} ms "
          f"({before / now:.0f}x faster)")


def _check_written(report: DashboardReport | None) -> None:
    assert report is not None and report.written == ["Dashboard.md"], report


def _ticks_a_task(data: bytes) -> bool:
    """Whether the first ``- [ ] `` of a note is a task (not in code or a comment)."""
    ticked = data.replace(b"- [ ] ", b"- [x] ", 1)
    done = [t.status for t in parse_note(data, "n.md").tasks].count("x")
    return ticked != data and [t.status for t in parse_note(ticked, "n.md").tasks].count(
        "x") == done + 1


def _check_nothing(report: DashboardReport | None) -> None:
    assert report is None, report


if __name__ == "__main__":
    main()
