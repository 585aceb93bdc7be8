"""How long a warm ``vaultmap report`` takes, as a user runs it, against a stat-walk process.

Usage::

    .venv/bin/python benchmarks/bench_report.py            # 5,000 notes, 20% with tasks
    .venv/bin/python benchmarks/bench_report.py --quick    # 1,000 notes
    .venv/bin/python benchmarks/bench_report.py --runs 7
    .venv/bin/python benchmarks/bench_report.py --before /tmp/old/src   # also an older vaultmap

Every measure is a fresh process (``vaultmap`` is a command: its imports count), output to
``/dev/null``, on the same generated vault with an up-to-date index ("warm": nothing changed
since the last run). The baseline is a process that walks the vault and stats every Markdown
file, measured in the same run, interleaved with the others so a shared machine's changing
load hits all of them alike. It prints one Markdown table of medians and ratios. With
``--before SRC`` (the ``src`` folder of another checkout, e.g. from ``git archive``) the same
reports of that version run in the same rounds, on their own copy of the vault (each version
keeps its own index).

Goals: warm ``vaultmap report`` within 4x the stat-walk process, warm
``--format json`` within 8x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate_vault

STAT_WALK = r"""
import os, sys
n = 0
for folder, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if d not in {".obsidian", ".trash", ".git", ".vaultmap"}]
    for name in files:
        if name.endswith((".md", ".markdown")):
            os.stat(os.path.join(folder, name))
            n += 1
print(n)
"""


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 notes instead of 5,000")
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--before", type=Path, help="src folder of an older vaultmap to compare")
    args = parser.parse_args()
    notes = 1000 if args.quick else 5000
    vaultmap = str(Path(sys.executable).parent / "vaultmap")
    with tempfile.TemporaryDirectory(prefix="vaultmap-bench-report-") as base:
        root = Path(base) / "vault"
        stats = generate_vault(root, notes=notes, note_bytes=7000, task_share=0.2)
        (root / ".obsidian").mkdir(exist_ok=True)
        envs: dict[str, dict[str, str]] = {}
        commands = {
            "stat walk (process)": [sys.executable, "-c", STAT_WALK, str(root)],
            "vaultmap report": [vaultmap, "report", str(root), "--no-history"],
            "vaultmap report --format json": [vaultmap, "report", str(root), "--format", "json",
                                              "--no-history"],
            "vaultmap tasks --json": [vaultmap, "tasks", str(root), "--json"],
        }
        if args.before is not None:
            old_root = Path(base) / "vault-before"
            generate_vault(old_root, notes=notes, note_bytes=7000, task_share=0.2)
            (old_root / ".obsidian").mkdir(exist_ok=True)
            old = [sys.executable, "-m", "vaultmap.cli"]
            env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
            for name, extra in (("report", []), ("report --format json", ["--format", "json"])):
                label = f"before: vaultmap {name}"
                # (no --no-history: older versions had no history to skip)
                commands[label] = [*old, "report", str(old_root), *extra]
                envs[label] = env
        for name, command in commands.items():  # build the index; warm everything once
            timed(command, envs.get(name))
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(timed(command, envs.get(name)))
        medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["stat walk (process)"]
    load = os.getloadavg()[0]
    print(f"vault: {stats.notes} notes ({stats.notes_with_tasks} with tasks), "
          f"{stats.bytes / 1e6:.1f} MB, {stats.obsidian_tasks} tasks; "
          f"{args.runs} rounds; load {load:.1f}\n")
    print("| warm, one process each | median ms | vs stat walk | goal |")
    print("| --- | --: | --: | --: |")
    goals = {"vaultmap report": "4x", "vaultmap report --format json": "8x"}
    for name, value in medians.items():
        print(f"| {name} | {value * 1000:.0f} | {value / floor:.1f}x | {goals.get(name, '')} |")


if __name__ == "__main__":
    main()
