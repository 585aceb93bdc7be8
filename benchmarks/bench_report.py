"""How long a warm ``vaultmap report`` takes, as a user runs it, against a stat-walk process.

Usage::

    .venv/bin/python benchmarks/bench_report.py                  # 5,000 notes, 20% with tasks
    .venv/bin/python benchmarks/bench_report.py --quick          # 1,000 notes
    .venv/bin/python benchmarks/bench_report.py --runs 7
    .venv/bin/python benchmarks/bench_report.py --before main    # also the code of main
    .venv/bin/python benchmarks/bench_report.py --before /tmp/old/src   # or of a src folder

Every measure is a fresh process (``vaultmap`` is a command: its imports count), output to
``/dev/null``, on the same generated vault. "Warm" runs have an up-to-date index (nothing
changed since the last run); "cold" runs pass ``--no-index`` (every note parsed). The baseline
is a process that walks the vault and stats every Markdown file, measured in the same run,
interleaved with the others so a shared machine's changing load hits all of them alike. It
prints one Markdown table of medians and ratios, of wall time and of CPU time (user + system
of the process: on a busy machine the steadier of the two), with the load average before and
after.

``--before REV`` (a git revision of this repository) checks REV out into a temporary
``git worktree`` and runs the same reports with that code (``PYTHONPATH`` pointing at its
``src``, same interpreter and libraries) in the same rounds, on its own copy of the vault
(each version keeps its own index), so "before" and "after" come from one run. ``--before``
also takes the ``src`` folder of another checkout.

Python processes run with their bytecode cached (in a temporary ``PYTHONPYCACHEPREFIX``,
filled by a first untimed run), as an installed vaultmap runs: a ``PYTHONDONTWRITEBYTECODE`` in
the environment would otherwise make every run compile vaultmap's sources (and rich's, click's)
again. One row shows that case for the warm report (``--no-bytecode-row`` leaves it out). The
``vaultmap --version`` row is the start-up every command pays (Python, click, vaultmap.cli);
the ``python -c pass`` row is the interpreter alone, the floor under every other row; the
"imports of a warm report" row is what a warm terminal report imports, without its work.

The "one note changed" row edits one note (one status byte) before each of its runs: what
a user ticking boxes between reports sees (the kept answer of the last report cannot serve).

Goals: warm ``vaultmap report`` within 4x the stat-walk process, warm ``--format json``
within 8x.
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
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate_vault

REPO = Path(__file__).resolve().parent.parent

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

# (row name, arguments after `report VAULT`, warm); every row also gets --no-history where the
# version has it (older versions had no history to skip).
REPORTS: tuple[tuple[str, list[str], bool], ...] = (
    ("report", [], True),
    (ONE_CHANGED := "report (one note changed)", [], True),
    ("report (no bytecode cache)", [], True),
    ("report --format json", ["--format", "json"], True),
    ("report (cold, --no-index)", ["--no-index"], False),
    ("report --format json (cold)", ["--format", "json", "--no-index"], False),
)


NO_BYTECODE = "(no bytecode cache)"
# The floor of every start-up: the interpreter alone (site, encodings), nothing imported.
PYTHON_FLOOR = "python -c pass"
# The start-up of a warm terminal report: what it imports before and after its scan, without
# the scan (the modules exist in older versions too).
REPORT_IMPORTS = "imports of a warm report"
REPORT_IMPORTS_CODE = ("import vaultmap.cli, vaultmap.cli.report_cmds, vaultmap.report.terminal, "
                       "vaultmap.vault.scan")


class NoteEditor:
    """Before each run of the "one note changed" row: one status byte of one note with tasks
    flipped (the size kept), as a user ticking a box between two reports does; its mtime
    set a few seconds back (a trusted edit, not one within the same mtime tick)."""

    def __init__(self, vault: Path) -> None:
        with_tasks = sorted(path for path in vault.rglob("*.md") if b"- [ ] " in
                            path.read_bytes())
        self.note = with_tasks[len(with_tasks) // 2]
        self.edits = 0

    def __call__(self) -> None:
        data = self.note.read_bytes()
        old, new = (b"- [ ] ", b"- [x] ") if self.edits % 2 == 0 else (b"- [x] ", b"- [ ] ")
        self.note.write_bytes(data.replace(old, new, 1))
        self.edits += 1
        when = time.time_ns() - 10_000_000_000
        os.utime(self.note, ns=(when, when))

# What the installed `vaultmap` command runs (pip's console script), for any version on
# PYTHONPATH; `python -m vaultmap.cli` would add runpy's import to every measure.
ENTRY_POINT = ("import sys; from vaultmap.cli import main; sys.argv[0] = 'vaultmap'; "
               "sys.exit(main())")


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@contextmanager
def source_of(before: str, base: Path) -> Iterator[Path]:
    """The ``src`` folder of ``before``: a folder as given, or a git revision checked out into
    a temporary worktree (removed afterwards)."""
    if Path(before).is_dir():
        yield Path(before).resolve()
        return
    tree = base / "before-tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(tree),
                    before], check=True)
    try:
        yield tree / "src"
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       check=False)


def has_option(command: list[str], env: dict[str, str] | None, option: str) -> bool:
    helped = subprocess.run([*command, "report", "--help"], capture_output=True, text=True,
                            env=env, check=False)
    return option in helped.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 notes instead of 5,000")
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--before", metavar="REV|SRC",
                        help="a git revision (or src folder) of an older vaultmap to compare")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold rows")
    parser.add_argument("--no-bytecode-row", action="store_true",
                        help="leave out the warm report without cached bytecode")
    args = parser.parse_args()
    notes = 1000 if args.quick else 5000
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vaultmap-bench-report-") as base_name:
        base = Path(base_name)
        root = base / "vault"
        stats = generate_vault(root, notes=notes, note_bytes=7000, task_share=0.2)
        (root / ".obsidian").mkdir(exist_ok=True)
        versions = {"": (REPO / "src", root)}
        before: AbstractContextManager[Path | None] = (
            nullcontext() if args.before is None else source_of(args.before, base))
        with before as old_src:
            if old_src is not None:
                old_root = base / "vault-before"
                shutil.copytree(root, old_root)  # copy2: same bytes and mtimes
                versions["before: "] = (old_src, old_root)
            commands: dict[str, list[str]] = {
                "stat walk (process)": [sys.executable, "-c", STAT_WALK, str(root)],
                PYTHON_FLOOR: [sys.executable, "-c", "pass"]}
            envs: dict[str, dict[str, str]] = {}
            before_run: dict[str, NoteEditor] = {}
            cached = {key: value for key, value in os.environ.items()
                      if key != "PYTHONDONTWRITEBYTECODE"}
            cached["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
            envs[PYTHON_FLOOR] = cached
            for prefix, (src, vault) in versions.items():
                env = {**cached, "PYTHONPATH": str(src)}
                no_bytecode = {**env, "PYTHONDONTWRITEBYTECODE": "1",
                               "PYTHONPYCACHEPREFIX": str(base / "pycache-unused")}
                run = [sys.executable, "-c", ENTRY_POINT]
                history = ["--no-history"] if has_option(run, env, "--no-history") else []
                commands[f"{prefix}vaultmap --version"] = [*run, "--version"]
                envs[f"{prefix}vaultmap --version"] = env
                commands[f"{prefix}{REPORT_IMPORTS}"] = [sys.executable, "-c",
                                                        REPORT_IMPORTS_CODE]
                envs[f"{prefix}{REPORT_IMPORTS}"] = env
                for name, extra, warm in REPORTS:
                    if (args.no_cold and not warm) or (args.no_bytecode_row
                                                      and NO_BYTECODE in name):
                        continue
                    label = f"{prefix}vaultmap {name}"
                    target = vault
                    if name == ONE_CHANGED:
                        # A copy of its own: the edits must not disturb the other rows.
                        target = vault.with_name(vault.name + "-edited")
                        shutil.copytree(vault, target)
                        before_run[label] = NoteEditor(target)
                    commands[label] = [*run, "report", str(target), *extra, *history]
                    envs[label] = no_bytecode if NO_BYTECODE in name else env
            # Build the indexes, fill the bytecode cache; warm everything once.
            for name, command in commands.items():
                if name in before_run:
                    before_run[name]()
                timed(command, envs.get(name))
            times: dict[str, list[float]] = {name: [] for name in commands}
            cpu: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, command in commands.items():
                    if name in before_run:
                        before_run[name]()  # untimed
                    wall, used = timed(command, envs.get(name))
                    times[name].append(wall)
                    cpu[name].append(used)
    medians = {name: statistics.median(values) for name, values in times.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    floor = medians["stat walk (process)"]
    cpu_floor = cpu_medians["stat walk (process)"]
    load_after = os.getloadavg()
    print(f"vault: {stats.notes} notes ({stats.notes_with_tasks} with tasks), "
          f"{stats.bytes / 1e6:.1f} MB, {stats.obsidian_tasks} tasks; {args.runs} rounds; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
          f"({os.cpu_count()} CPUs)\n")
    # CPU time (user + system) is what a busy shared machine disturbs least: wall times there
    # include waiting for a core, which the short stat walk suffers from the most.
    print("| one process each | median ms | vs stat walk | CPU ms | CPU vs stat walk | goal |")
    print("| --- | --: | --: | --: | --: | --: |")
    goals = {"vaultmap report": "4x", "vaultmap report --format json": "8x"}
    for name, value in medians.items():
        used = cpu_medians[name]
        print(f"| {name} | {value * 1000:.0f} | {value / floor:.1f}x | {used * 1000:.0f} | "
              f"{used / cpu_floor:.1f}x | {goals.get(name, '')} |")


if __name__ == "__main__":
    main()
