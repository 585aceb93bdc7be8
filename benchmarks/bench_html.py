"""Benchmark the HTML report: page size and render time on generated vaults.

Usage::

    .venv/bin/python benchmarks/bench_html.py            # 5,000 realistic + 2,000 dense notes
    .venv/bin/python benchmarks/bench_html.py --quick    # small vaults, seconds

For each profile (the same as ``bench_scan.py``: ``realistic``, about 20% of notes hold
tasks; ``dense``, every note does) it scans the vault once, builds the report model, then
times, alternately in each round, the JSON report (the baseline: the same model written as
compact JSON) and the HTML page. It prints one Markdown table: medians, the HTML/JSON time
ratio, the sizes, and how many breakdown rows the page holds (every note, and the sections
that fit under the 2 MB limit). Target: a 5,000-note vault's page under 2 MB.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_vault

from vaultmap.config import load_settings
from vaultmap.progress import build_progress
from vaultmap.report import ReportOptions, report_dict
from vaultmap.report.html import MAX_PAGE_BYTES, note_tree, render_html, walk
from vaultmap.report.json_report import dumps
from vaultmap.vault import scan_vault

MB = 1_000_000


@dataclass(frozen=True)
class Profile:
    name: str
    notes: int
    task_share: float
    tasks_per_note: int = 40


def bench(profile: Profile, base: Path, runs: int) -> list[str]:
    root = base / profile.name
    generate_vault(root, notes=profile.notes, task_share=profile.task_share,
                   tasks_per_note=profile.tasks_per_note)
    result = scan_vault(load_settings(root), use_index=False)
    progress = build_progress(result.notes, today=date(2026, 11, 22))
    report = report_dict(progress, ReportOptions(title=root.name, root=str(root)))
    timings: dict[str, list[float]] = {"json": [], "html": []}
    page = text = ""
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        text = dumps(report, pretty=False)
        timings["json"].append(time.perf_counter() - started)
        gc.collect()
        started = time.perf_counter()
        page = render_html(report)
        timings["html"].append(time.perf_counter() - started)
    json_ms = statistics.median(timings["json"]) * 1000
    html_ms = statistics.median(timings["html"]) * 1000
    page_bytes = len(page.encode("utf-8"))
    every_row = sum(1 for _ in walk(note_tree(report)))
    shown = page.count('class="n ') + page.count('class="n"')
    notes = sum(1 for n in report["notes"] if n["counts"]["total"])
    verdict = "under 2 MB" if page_bytes < 2 * MB else "OVER 2 MB"
    return [
        f"| {profile.name} | {profile.notes} | {notes} | {report['totals']['total']} "
        f"| {json_ms:.0f} | {html_ms:.0f} | {html_ms / json_ms:.1f}x "
        f"| {len(text.encode()) / MB:.2f} | {page_bytes / MB:.2f} ({verdict}) "
        f"| {shown} of {every_row} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the HTML report.")
    parser.add_argument("--quick", action="store_true", help="small vaults, seconds")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    profiles = ([Profile("realistic", 600, 0.2), Profile("dense", 250, 1.0)] if args.quick
                else [Profile("realistic", 5000, 0.2), Profile("dense", 2000, 1.0)])
    base = Path(tempfile.mkdtemp(prefix="vaultmap-bench-html-"))
    try:
        print(f"runs: {max(args.runs, 1)}, page limit: {MAX_PAGE_BYTES / MB:.1f} MB\n")
        print("| vault | notes | with tasks | tasks | JSON ms | HTML ms | HTML / JSON "
              "| JSON MB | page MB | rows shown |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for profile in profiles:
            for line in bench(profile, base, max(args.runs, 1)):
                print(line, flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
