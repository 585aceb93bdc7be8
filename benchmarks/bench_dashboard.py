"""What a live-dashboard update costs the daemon, against the warm scan every sync pays anyway.

Usage::

    .venv/bin/python benchmarks/bench_dashboard.py            # 5,000 notes, 20% with tasks
    .venv/bin/python benchmarks/bench_dashboard.py --quick    # 1,000 notes
    .venv/bin/python benchmarks/bench_dashboard.py --runs 7

On one generated vault with an up-to-date index, in one process, each round measures:

- warm scan: ``scan_vault`` with nothing changed (the baseline: a daemon sync reads the vault
  this way too);
- update, report current: ``update_dashboards`` with one report region already holding the
  current report (scan, roll-up, render, compare: nothing written);
- update after a tick: one task ticked in a note, then ``update_dashboards`` (the region is
  written through the compare-and-swap edit path);
- parse of the dashboard note with and without its markers (what hiding a region costs).

It prints one Markdown table of medians and their ratio to the warm scan.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate_vault

from vaultmap.config import load_settings
from vaultmap.dashboard import update_dashboards
from vaultmap.parse import parse_note
from vaultmap.vault import scan_vault

DASHBOARD = ("# Dashboard\n\nMy week at a glance.\n\n<!-- vaultmap:report by=folder depth=1 -->\n"
             "<!-- /vaultmap:report -->\n\n## Inbox\n\n- [ ] sort the inbox\n")


def _time(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


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
        tick = next(p for p in sorted(vault.rglob("*.md")) if b"- [ ] " in p.read_bytes())
        original = tick.read_bytes()
        filled = dashboard.read_bytes()
        bare = filled.replace(b"<!-- vaultmap:report by=folder depth=1 -->", b"").replace(
            b"<!-- /vaultmap:report -->", b"")
        rows: dict[str, list[float]] = {name: [] for name in (
            "warm scan (baseline)", "update, report current", "update after a tick",
            "parse the dashboard note", "parse it without markers")}
        for round_number in range(args.runs):
            rows["warm scan (baseline)"].append(_time(lambda: scan_vault(settings)))
            rows["update, report current"].append(_time(lambda: update_dashboards(settings)))
            ticked = original.replace(b"- [ ] ", b"- [x] ", 1) if round_number % 2 == 0 \
                else original
            tick.write_bytes(ticked)
            rows["update after a tick"].append(_time(lambda: update_dashboards(settings)))
            rows["parse the dashboard note"].append(
                _time(lambda: parse_note(dashboard.read_bytes(), "Dashboard.md")))
            rows["parse it without markers"].append(
                _time(lambda: parse_note(bare, "Dashboard.md")))
        tick.write_bytes(original)
    print(f"{notes:,} notes ({stats.notes_with_tasks:,} with tasks, "
          f"{stats.obsidian_tasks:,} tasks), median of {args.runs} rounds\n")
    print("| measure | median ms | x warm scan |")
    print("| --- | --: | --: |")
    base = statistics.median(rows["warm scan (baseline)"])
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.2f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
