"""Benchmark vaultmap's vault scan against cmark-gfm and a bare stat walk, on the same files.

Usage::

    .venv/bin/python benchmarks/bench_scan.py            # full run (a few minutes)
    .venv/bin/python benchmarks/bench_scan.py --quick    # small vaults, under a minute
    .venv/bin/python benchmarks/bench_scan.py --runs 5 --jobs 2 --keep /tmp/vaults

For each vault profile (``realistic``: about 20% of notes hold tasks; ``dense``: every note
does) it generates a deterministic vault (``benchmarks/generate.py``) and measures, in one run
on the same files:

* ``stat walk``: ``os.walk`` plus ``os.stat`` of every Markdown file (the floor of any scan);
* ``cold scan``: ``scan_vault(use_index=False)`` with ``--jobs`` workers (default: all CPUs)
  and with one;
* ``warm scan``: ``scan_vault()`` with an up-to-date index (nothing changed);
* ``cmark-gfm``: read + ``cmarkgfm.github_flavored_markdown_to_html`` over every file.

Times are medians of ``--runs`` rounds, each round running every measure once (so a shared
machine's changing load hits them alike); MB/s is Markdown bytes over that time. Peak memory is
the peak RSS (``VmHWM``) of a fresh child process doing one scan; worker processes are shown
separately (the largest one's ``ru_maxrss``). The
"same answers" check counts tasks three ways: what the generator wrote, what the scan found
(gfm and obsidian flavour) and the checkboxes cmark-gfm renders. A last run measures peak
memory for 300,000 tasks (30,000 with ``--quick``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import VaultStats, generate_vault

import vaultmap.vault.walk as walk_module
from vaultmap.config import Settings, VaultSettings
from vaultmap.model import Flavor
from vaultmap.vault import ALWAYS_SKIPPED, scan_vault

MB = 1024 * 1024


@dataclass(frozen=True)
class Profile:
    name: str
    notes: int
    task_share: float
    tasks_per_note: int
    note_bytes: int = 4000
    crlf_share: float = 0.1


def settings(root: Path, flavor: Flavor = Flavor.OBSIDIAN) -> Settings:
    return Settings(root=root, vault=VaultSettings(flavor=flavor))


def stat_walk(root: Path) -> tuple[int, int]:
    """The floor: find every Markdown file and stat it. Returns (files, bytes)."""
    files = size = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ALWAYS_SKIPPED]
        for name in names:
            if name.lower().endswith((".md", ".markdown")):
                size += os.stat(os.path.join(folder, name)).st_size
                files += 1
    return files, size


def cmark_pass(root: Path, per_note: bool = False) -> dict[str, int]:
    """Read and render every note with cmark-gfm; the checkboxes it rendered (per note, or
    all under the key "")."""
    import cmarkgfm

    checkboxes: dict[str, int] = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ALWAYS_SKIPPED]
        for name in names:
            if name.lower().endswith((".md", ".markdown")):
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    text = handle.read().decode("utf-8", "replace")
                html = cmarkgfm.github_flavored_markdown_to_html(text)
                rel = os.path.relpath(path, root).replace(os.sep, "/") if per_note else ""
                checkboxes[rel] = checkboxes.get(rel, 0) + html.count('<input type="checkbox"')
    return checkboxes


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def parallel_capacity() -> float:
    """How many cores this machine gives us right now: the same busy loop twice, in a row and
    in two processes. Other work on a shared machine makes the cold scan's pool pointless."""
    from concurrent.futures import ProcessPoolExecutor

    loops = 5_000_000
    started = time.perf_counter()
    _spin(loops)
    _spin(loops)
    serial = time.perf_counter() - started
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [1, 1]))  # workers up before timing
        started = time.perf_counter()
        list(pool.map(_spin, [loops, loops]))
        parallel = time.perf_counter() - started
    return serial / parallel


def walk_only(root: Path) -> int:
    """The part of a warm scan that is not loading notes: the walk with its ignore rules."""
    walker = walk_module._Walker(settings(root), str(root))
    walker.walk(str(root), "")
    return len(walker.found)


def interleaved_medians(actions: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median wall time of each action, run in rounds (one of each per round); freeing an
    action's result is not part of its time."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            gc.collect()  # no measure pays for the garbage another one left
            started = time.perf_counter()
            result = action()
            times[name].append(time.perf_counter() - started)
            del result
    return {name: statistics.median(values) for name, values in times.items()}


def count_tasks(root: Path, flavor: Flavor, jobs: int | None) -> dict[str, int]:
    result = scan_vault(settings(root, flavor), use_index=False, jobs=jobs)
    return {note.path: len(note.tasks) for note in result.notes}


def child_scan(root: Path, mode: str, jobs: int | None) -> dict[str, float]:
    """One scan in a fresh interpreter: its time, tasks and peak memory."""
    command = [sys.executable, __file__, "--child", mode, str(root)]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux's ``ru_maxrss`` carries the parent's peak across fork + exec, which would charge the
    benchmark's own memory to the child; ``VmHWM`` belongs to the exec'd image alone.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(mode: str, root: Path, jobs: int | None) -> None:
    started = time.perf_counter()
    result = scan_vault(settings(root), use_index=(mode == "warm"), jobs=jobs)
    seconds = time.perf_counter() - started
    tasks = sum(len(note.tasks) for note in result.notes)
    print(json.dumps({
        "seconds": seconds,
        "tasks": tasks,
        "parsed": result.parsed,
        "reused": result.reused,
        "peak_mb": peak_rss_mb(),
        "workers_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }))


def mbps(size: int, seconds: float) -> str:
    return f"{size / MB / seconds:.1f}" if seconds > 0 else "-"


def bench_profile(profile: Profile, base: Path, runs: int, jobs: int | None) -> list[str]:
    root = base / profile.name
    stats: VaultStats = generate_vault(root, notes=profile.notes, note_bytes=profile.note_bytes,
                                       task_share=profile.task_share,
                                       tasks_per_note=profile.tasks_per_note,
                                       crlf_share=profile.crlf_share, seed=7)
    files, size = stat_walk(root)
    assert files == stats.notes and size == stats.bytes, (files, size, stats)

    first = scan_vault(settings(root), jobs=jobs)  # builds the index
    assert first.parsed == files, first.parsed
    # Not kept alive through the measures: a large live heap slows every cyclic-GC pass, and
    # it slowed the cmark-gfm baseline most (0.62 s alone vs 1.5 s beside two scans' notes),
    # which inflated our ratios against it.
    del first
    # Interleaved, round after round, so that a shared machine's changing load hits every
    # measure alike and the ratios stay fair.
    times = interleaved_medians({
        "stat": lambda: stat_walk(root),
        "cold": lambda: scan_vault(settings(root), use_index=False, jobs=jobs),
        "cold1": lambda: scan_vault(settings(root), use_index=False, jobs=1),
        "warm": lambda: scan_vault(settings(root), jobs=jobs),
        "walk": lambda: walk_only(root),
        "cmark": lambda: cmark_pass(root),
    }, runs)
    t_stat, t_cold, t_cold1 = times["stat"], times["cold"], times["cold1"]
    t_warm, t_walk, t_cmark = times["warm"], times["walk"], times["cmark"]
    warm = scan_vault(settings(root), jobs=jobs)
    assert warm.reused == files and warm.parsed == 0, (warm.parsed, warm.reused)

    cold_child = child_scan(root, "cold", jobs)
    warm_child = child_scan(root, "warm", jobs)
    obsidian_tasks = sum(len(note.tasks) for note in warm.notes)
    gfm_per_note = count_tasks(root, Flavor.GFM, jobs)
    cmark_per_note = cmark_pass(root, per_note=True)
    gfm_tasks, cmark_tasks = sum(gfm_per_note.values()), sum(cmark_per_note.values())
    notes_differing = sum(1 for rel in cmark_per_note.keys() | gfm_per_note.keys()
                          if cmark_per_note.get(rel) != gfm_per_note.get(rel))

    name = f"{profile.name} ({files} notes, {size / MB:.1f} MB, "
    name += f"{stats.notes_with_tasks} with tasks)"
    rows = [
        f"| {name} | stat walk | {t_stat * 1000:.0f} | {mbps(size, t_stat)} | 1.00x | | |",
        f"| | cold scan, {jobs} jobs | {t_cold * 1000:.0f} | {mbps(size, t_cold)} "
        f"| {t_cmark / t_cold:.0%} of cmark | {obsidian_tasks} "
        f"| {cold_child['peak_mb']:.0f} (+workers {cold_child['workers_peak_mb']:.0f}) |",
        f"| | cold scan, 1 job | {t_cold1 * 1000:.0f} | {mbps(size, t_cold1)} "
        f"| {t_cmark / t_cold1:.0%} of cmark | | |",
        f"| | warm scan | {t_warm * 1000:.0f} | {mbps(size, t_warm)} "
        f"| {t_warm / t_stat:.2f}x stat walk | {obsidian_tasks} "
        f"| {warm_child['peak_mb']:.0f} |",
        f"| | warm: its walk + stat part | {t_walk * 1000:.0f} | {mbps(size, t_walk)} "
        f"| {t_walk / t_stat:.2f}x stat walk | | |",
        f"| | cmark-gfm → HTML | {t_cmark * 1000:.0f} | {mbps(size, t_cmark)} | "
        f"| {cmark_tasks} | |",
    ]
    answers = (f"- {profile.name}: tasks written {stats.gfm_tasks} gfm / {stats.obsidian_tasks} "
               f"obsidian; found {gfm_tasks} gfm / {obsidian_tasks} obsidian; cmark-gfm renders "
               f"{cmark_tasks} checkboxes; notes whose gfm count differs from cmark-gfm's: "
               f"{notes_differing} -> "
               + ("same answers" if gfm_tasks == cmark_tasks == stats.gfm_tasks
                  and notes_differing == 0
                  and obsidian_tasks == stats.obsidian_tasks else "DIFFERENT"))
    return [*rows, "\x00" + answers]


def bench_memory(base: Path, tasks: int, jobs: int | None) -> str:
    root = base / "memory"
    per_note = 100
    stats = generate_vault(root, notes=tasks // per_note, note_bytes=2000, task_share=1.0,
                           tasks_per_note=per_note, crlf_share=0.1, seed=11)
    cold = child_scan(root, "cold", jobs)
    scan_vault(settings(root), jobs=jobs)  # build the index
    warm = child_scan(root, "warm", jobs)
    return (f"- memory: {stats.notes} notes, {stats.bytes / MB:.1f} MB, "
            f"{int(cold['tasks'])} tasks found (obsidian; {stats.obsidian_tasks} written): "
            f"cold scan {cold['seconds']:.1f} s, peak {cold['peak_mb']:.0f} MB "
            f"(+ workers {cold['workers_peak_mb']:.0f} MB each at most); warm scan "
            f"{warm['seconds']:.2f} s ({int(warm['reused'])} notes reused, {int(warm['parsed'])} "
            f"parsed), peak {warm['peak_mb']:.0f} MB (target <= 400 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the vault scan.")
    parser.add_argument("--quick", action="store_true", help="small vaults, under a minute")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes for the pooled rows (default: all CPUs)")
    parser.add_argument("--keep", type=Path, default=None, help="generate vaults here and keep")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], Path(args.child[1]), args.jobs)
        return
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    # Explicit, so the table measures the pool even where scan_vault's load-aware default
    # would not start one.
    jobs = args.jobs or os.cpu_count() or 1

    if args.quick:
        profiles = [Profile("realistic", 600, 0.2, 40), Profile("dense", 250, 1.0, 40)]
        memory_tasks = 30_000
    else:
        profiles = [Profile("realistic", 5000, 0.2, 40), Profile("dense", 2000, 1.0, 40)]
        memory_tasks = 300_000

    base = args.keep or Path(tempfile.mkdtemp(prefix="vaultmap-bench-"))
    if args.keep and base.exists():
        shutil.rmtree(base)
    started = time.perf_counter()
    try:
        print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, runs: {args.runs}, "
              f"mode: {'quick' if args.quick else 'full'}, load average before: "
              f"{os.getloadavg()[0]:.2f}, effective cores for two processes: "
              f"{parallel_capacity():.2f}\n")
        print("| vault | measure | median ms | MB/s | ratio | tasks | peak MB |")
        print("| --- | --- | ---: | ---: | --- | ---: | ---: |")
        notes: list[str] = []
        for profile in profiles:
            for row in bench_profile(profile, base, args.runs, jobs):
                if row.startswith("\x00"):
                    notes.append(row[1:])
                else:
                    print(row, flush=True)
        print()
        for line in notes:
            print(line)
        print(bench_memory(base, memory_tasks, jobs))
        print(f"\n(total {time.perf_counter() - started:.0f} s; load average after: "
              f"{os.getloadavg()[0]:.2f})")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
