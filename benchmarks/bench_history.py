"""``vaultmap history`` over a long git history: cold (empty cache), then warm (the cache),
against a bare ``git log --name-only`` of the same range, in one run.

Run: ``.venv/bin/python benchmarks/bench_history.py [--notes 500] [--commits 1000] [--runs 5]``

The repository is built with ``git fast-import`` (deterministic: same arguments, same bytes):
a first commit adds NOTES notes of 20 tasks under 4 headings; each further commit ticks one
task of one note (a few also add a task). Every measure runs once per round, so a shared
machine's changing load hits them alike; the table shows medians and ratios to ``git log``.

Target: warm ``vaultmap history`` within 3x the ``git log --name-only``.

Python processes run with their bytecode cached (in a temporary ``PYTHONPYCACHEPREFIX``, warmed
before the first round), as an installed vaultmap runs: a ``PYTHONDONTWRITEBYTECODE`` in the
environment would otherwise make every run compile vaultmap's sources again. One row shows that
case (``--no-bytecode-row`` leaves it out). The start-up rows (``--version``, ``--help`` and a
``report`` of the same vault) show what every command pays.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vaultmap.config import load_settings
from vaultmap.history import history_model
from vaultmap.sync.git.history import CACHE_NAME, read_history

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
NO_BYTECODE_ENV = {**ENV, "PYTHONDONTWRITEBYTECODE": "1"}


def note_text(number: int, done: set[int]) -> bytes:
    lines = [f"# Note {number}\n"]
    for heading in range(4):
        lines.append(f"\n## Part {heading}\n\n")
        for task in range(5):
            index = heading * 5 + task
            mark = "x" if index in done else " "
            lines.append(f"- [{mark}] task {index} of note {number} #bench\n")
    return "".join(lines).encode()


def build(repo: Path, notes: int, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=ENV)
    rng = random.Random(10)
    done: list[set[int]] = [set() for _ in range(notes)]
    stream: list[bytes] = []
    when = 1_780_000_000

    def commit(mark: int, files: dict[str, bytes]) -> None:
        message = f"commit {mark}\n".encode()
        stream.append(f"commit refs/heads/main\nmark :{mark}\n"
                      f"committer Bench <bench@example.invalid> {when + mark * 3600} +0000\n"
                      f"data {len(message)}\n".encode() + message)
        if mark > 1:
            stream.append(f"from :{mark - 1}\n".encode())
        for path, data in files.items():
            stream.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        stream.append(b"\n")

    commit(1, {f"Notes/note{n:04}.md": note_text(n, done[n]) for n in range(notes)})
    for mark in range(2, commits + 1):
        n = rng.randrange(notes)
        done[n].add(rng.randrange(20))
        commit(mark, {f"Notes/note{n:04}.md": note_text(n, done[n])})
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(stream),
                   check=True, env=ENV)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True, env=ENV)


CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None, *,
          row: str | None = None) -> float:
    """Wall time of one run; its CPU time (user + system, children included) goes to
    ``CPU[row]``: on a shared machine the wall time grows with the load, the CPU time little."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, env=env or ENV, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    if row is not None:
        CPU.setdefault(row, []).append(_children_cpu() - cpu)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-bytecode-row", action="store_true",
                        help="leave out the run without cached bytecode")
    args = parser.parse_args()
    vaultmap = str(Path(sys.executable).parent / "vaultmap")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "vault"
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        NO_BYTECODE_ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache-unused")
        built = time.perf_counter()
        build(repo, args.notes, args.commits)
        print(f"repository: {args.notes} notes, {args.commits} commits "
              f"(built in {time.perf_counter() - built:.1f} s); load {os.getloadavg()[0]:.2f}")
        cache = repo / ".vaultmap" / CACHE_NAME
        settings = load_settings(repo)
        names = ["git log --name-only", "python -c pass", "vaultmap history, cold",
                 "vaultmap history, warm", "vaultmap history, warm, no bytecode cache",
                 "read_history + history_model, warm (in process)",
                 "vaultmap --version", "vaultmap --help", "vaultmap report (500 notes)"]
        if args.no_bytecode_row:
            names.remove("vaultmap history, warm, no bytecode cache")
        rows: dict[str, list[float]] = {k: [] for k in names}
        for argv in (["--version"], ["--help"], ["report", "."], ["history", "."]):
            timed([vaultmap, *argv], repo)  # fills the bytecode cache
        for _ in range(args.runs):
            rows["git log --name-only"].append(timed(
                ["git", "log", "--name-only", "--format=%H", "HEAD"], repo,
                row="git log --name-only"))
            rows["python -c pass"].append(timed([sys.executable, "-c", "pass"], repo,
                                                row="python -c pass"))
            if cache.exists():
                cache.unlink()
            for row in ("vaultmap history, cold", "vaultmap history, warm"):
                rows[row].append(timed([vaultmap, "history", "."], repo, row=row))
            if not args.no_bytecode_row:
                row = "vaultmap history, warm, no bytecode cache"
                rows[row].append(timed([vaultmap, "history", "."], repo, NO_BYTECODE_ENV,
                                       row=row))
            for row, argv in (("vaultmap --version", ["--version"]),
                              ("vaultmap --help", ["--help"]),
                              ("vaultmap report (500 notes)", ["report", "."])):
                rows[row].append(timed([vaultmap, *argv], repo, row=row))
            start = time.perf_counter()
            history = read_history(settings)
            history_model(history.points, vault="vault", by="week")
            rows["read_history + history_model, warm (in process)"].append(
                time.perf_counter() - start)
            assert history.commits_read == 0 and history.blobs_parsed == 0
        base = statistics.median(rows["git log --name-only"])
        cpu_base = statistics.median(CPU["git log --name-only"])
        print(f"load average after the rounds: {os.getloadavg()[0]:.2f}\n")
        print("| measure | median wall | × git log | median CPU | × git log |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, values in rows.items():
            median = statistics.median(values)
            cpu = f"{statistics.median(CPU[name]) * 1000:.0f} ms" if name in CPU else "-"
            cpu_ratio = (f"{statistics.median(CPU[name]) / cpu_base:.1f}" if name in CPU
                         else "-")
            print(f"| {name} | {median * 1000:.0f} ms | {median / base:.1f} | {cpu} | "
                  f"{cpu_ratio} |")
        shutil.rmtree(repo / ".vaultmap", ignore_errors=True)


if __name__ == "__main__":
    main()
