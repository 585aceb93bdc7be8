"""The merge driver on a big note, as git runs it, against git's own text merge.

Run: ``.venv/bin/python benchmarks/bench_merge.py [--tasks 4000] [--kb 1024] [--runs 7]``

A deterministic note of about ``--kb`` KB with ``--tasks`` tasks under headings and prose;
"ours" ticks 1% of the tasks and appends 10, "theirs" ticks another 1% (half of them next to
one of ours: git's line merge conflicts there) and rewords 10. Measured in one run, each
round running every row once so a shared machine's load hits them alike; medians:

- ``git merge-file`` on the same three files (the baseline: what git does without a driver);
- ``python -c pass`` (the interpreter's start, part of every driver run);
- the whole driver process, ``python -m vaultmap merge-driver O A B 7 note.md`` in a git
  work tree, exactly the command ``vaultmap git install`` registers;
- ``merge_note`` in process (the merge itself, without start-up).

It also lists the heavy modules a driver process imports (there should be none of rich,
click, notion_client, httpx, sqlite3).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HEAVY = ("rich", "click", "notion_client", "httpx", "sqlite3", "mistune", "git", "watchdog",
         "yaml")


def make_note(tasks: int, size: int) -> bytes:
    """About ``size`` bytes holding ``tasks`` tasks, deterministic."""
    filler = ("Some notes on why this matters, links to [[Reading List]] and a few thoughts "
              "to come back to later. ")
    per_task = max(0, size // max(tasks, 1) - 60)
    lines: list[str] = ["# Big roadmap\n", "\n"]
    for i in range(tasks):
        if i % 40 == 0:
            lines += [f"\n## Week {i // 40 + 1}\n", "\n"]
        lines.append(f"- [{'x' if i % 7 == 0 else ' '}] task number {i} of the plan #w{i % 9}\n")
        if i % 10 == 9:
            lines += ["\n", (filler * (per_task * 10 // len(filler) + 1))[:per_task * 10] + "\n",
                      "\n"]
    return "".join(lines).encode()


def edit_sides(base: bytes, tasks: int) -> tuple[bytes, bytes]:
    ours_lines = base.split(b"\n")
    theirs_lines = list(ours_lines)
    step = max(tasks // 40, 2)
    index = {line: n for n, line in enumerate(ours_lines) if line.startswith(b"- [")}
    task_lines = sorted(index.values())
    for k, n in enumerate(task_lines[::step]):
        ours_lines[n] = ours_lines[n].replace(b"- [ ]", b"- [x]", 1)
        # half of theirs' ticks sit on the next line (git conflicts), half far away
        m = n + 1 if k % 2 == 0 else task_lines[(task_lines.index(n) + step // 2) % len(task_lines)]
        if theirs_lines[m].startswith(b"- [ ]"):
            theirs_lines[m] = theirs_lines[m].replace(b"- [ ]", b"- [x]", 1)
    for k, n in enumerate(task_lines[step // 3::step * 4][:10]):
        theirs_lines[n] = theirs_lines[n] + b" (reworded)"
        del k
    ours = b"\n".join(ours_lines) + b"".join(b"- [ ] appended task %d\n" % i for i in range(10))
    return ours, b"\n".join(theirs_lines)


def _cpu() -> float:
    """CPU seconds of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(args: argparse.Namespace) -> None:
    base = make_note(args.tasks, args.kb * 1024)
    ours, theirs = edit_sides(base, args.tasks)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as tmp:
        repo = Path(tmp)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        for name, data in (("O", base), ("A0", ours), ("B", theirs)):
            (repo / name).write_bytes(data)
        # As installed for a user: bytecode cached (a machine may set PYTHONDONTWRITEBYTECODE;
        # the cache goes to a temporary folder, not into the source tree).
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GIT_") and k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(repo / "pycache")

        def fresh_a() -> None:
            shutil.copyfile(repo / "A0", repo / "A")

        def git_merge_file() -> None:
            subprocess.run(["git", "merge-file", "-q", "A", "O", "B"], cwd=repo, env=env,
                           check=False)

        def python_start() -> None:
            subprocess.run([python, "-c", "pass"], env=env, check=True)

        def driver() -> None:
            done = subprocess.run([python, "-m", "vaultmap", "merge-driver", "O", "A", "B", "7",
                                   "note.md"], cwd=repo, env=env, check=False)
            assert done.returncode in (0, 1), done.returncode

        from vaultmap.sync.git.merge import merge_note

        def in_process() -> None:
            merge_note(base, ours, theirs, path="note.md")

        rows: list[tuple[str, Callable[[], None]]] = [
            ("git merge-file (baseline)", git_merge_file), ("python -c pass", python_start),
            ("driver, whole process", driver), ("merge_note in process", in_process)]
        samples: dict[str, list[float]] = {name: [] for name, _ in rows}
        # CPU time (user + system; of the child for a process row): a shared machine's load
        # stretches the wall time of a longer run more than that of a short one.
        cpu: dict[str, list[float]] = {name: [] for name, _ in rows}
        fresh_a()
        driver()  # fills the bytecode cache
        for _ in range(args.runs):
            for name, action in rows:
                fresh_a()
                cpu_before = _cpu()
                started = time.perf_counter()
                action()
                samples[name].append(time.perf_counter() - started)
                cpu[name].append(_cpu() - cpu_before)

        fresh_a()
        driver()
        merged = (repo / "A").read_bytes()
        fresh_a()
        git_merge_file()
        git_result = (repo / "A").read_bytes()
        probe = ("import atexit, sys, runpy\n"
                 f"heavy = {HEAVY!r}\n"
                 "atexit.register(lambda: print(','.join(sorted(m for m in heavy "
                 "if m in sys.modules)) or '-'))\n"
                 "sys.argv = ['vaultmap', 'merge-driver', 'O', 'A', 'B', '7', 'note.md']\n"
                 "runpy.run_module('vaultmap', run_name='__main__')\n")
        fresh_a()
        imported = subprocess.run([python, "-c", probe], cwd=repo, env=env, capture_output=True,
                                  text=True, check=False).stdout.strip()

    baseline = median_ms(samples["git merge-file (baseline)"])
    cpu_baseline = median_ms(cpu["git merge-file (baseline)"])
    load = os.getloadavg()[0]
    print(f"note: {len(base) / 1024:.0f} KB, {base.count(b'- [')} tasks; runs: {args.runs}; "
          f"load average {load:.2f}")
    print()
    print("| row | median ms | × git merge-file | median CPU ms | × git merge-file |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, _ in rows:
        value = median_ms(samples[name])
        used = median_ms(cpu[name])
        print(f"| {name} | {value:.1f} | {value / baseline:.1f} | {used:.1f} | "
              f"{used / cpu_baseline:.1f} |")
    print()
    print(f"git merge-file left {git_result.count(b'<<<<<<<')} conflict hunks; the driver left "
          f"{merged.count(b'<<<<<<<')} and ticked {merged.count(b'- [x]')} tasks "
          f"(base {base.count(b'- [x]')}, ours {ours.count(b'- [x]')}, "
          f"theirs {theirs.count(b'- [x]')})")
    print(f"heavy modules imported by the driver process: {imported}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--tasks", type=int, default=4000)
    parser.add_argument("--kb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=7)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
