"""Benchmark the mojibake display repair and ``vaultmap doctor``.

Usage::

    .venv/bin/python benchmarks/bench_mojibake.py --quick     # small vaults, about a minute
    .venv/bin/python benchmarks/bench_mojibake.py             # 2,000-note vaults, 5,000 for doctor

Prints one Markdown table. Vaults come from ``generate.py`` (deterministic):

* ``clean``: as generated (ASCII text);
* ``clean, non-ASCII``: the same notes with accented words, curly quotes, dashes and emoji
  written correctly in task lines and headings (every note pays for the cheap check);
* ``mojibake``: those notes double-encoded (UTF-8 read as Windows-1252, saved as UTF-8, the
  undefined bytes dropped): every note needs the repair.

Rows:

* warm report, before / after: ``scan_vault`` with an up-to-date index, ``build_progress`` and
  the terminal report into a string, on the clean vaults, by the code before the repair was
  added (``--baseline``, default: the parent of the commit that added
  ``parse/mojibake.py``, extracted with ``git archive``) and by this checkout, each in child
  processes alternating round by round. Target: after / before < 1.05.
* the same as whole ``vaultmap report`` processes (imports included: ftfy is only imported
  when a note looks damaged).
* warm report of the mojibake vault against the clean non-ASCII one (this checkout).
  Target: < 2.
* cold scan of each (parsing everything; the repair runs here, once per note).
* ``doctor`` (every check; no Notion, no git) on a 5,000-note vault, cold and warm index.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import FIXED_MTIME_NS, generate_vault  # noqa: E402

# Words of the generated notes given a non-ASCII twin (written correctly).
_INTERNATIONAL = {
    b"review": "révision — “review”".encode(),
    b"draft": "brouillon ‘draft’ 🧩".encode(),
    b"budget": "Zoë’s budget…".encode(),
    b"garden": "jardín 🌱 garden".encode(),
    b"Python": "Python 1️⃣".encode(),
    b"plan": "plán ✅".encode(),
}
_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)


def double_encode(data: bytes) -> bytes:
    """UTF-8 read as Windows-1252 (undefined bytes dropped) and saved as UTF-8."""
    return "".join(bytes([b]).decode("cp1252") for b in data if b not in _UNDEFINED).encode()


def rewrite_tree(source: Path, target: Path, change: object) -> None:
    for path in sorted(source.rglob("*.md")):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(change(path.read_bytes()))  # type: ignore[operator]
        os.utime(out, ns=(FIXED_MTIME_NS, FIXED_MTIME_NS))


def international(data: bytes) -> bytes:
    for word, twin in _INTERNATIONAL.items():
        data = data.replace(b" " + word + b" ", b" " + twin + b" ")
    return data


def baseline_source(rev: str | None, into: Path) -> tuple[str, Path]:
    if rev is None:
        added = subprocess.run(
            ["git", "log", "--diff-filter=A", "--format=%H", "--",
             "src/vaultmap/parse/mojibake.py"],
            cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
        rev = f"{added[-1]}^"
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=REPO, capture_output=True,
                             check=True).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    short = subprocess.run(["git", "rev-parse", "--short", rev], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.strip()
    return short, into / "src"


# --------------------------------------------------------------------------- child side


def warm_report_times(root: Path, runs: int) -> list[float]:
    """Seconds of each warm report (scan with the index, roll-up, terminal render)."""
    from rich.console import Console

    from vaultmap.config import load_settings
    from vaultmap.progress import build_progress
    from vaultmap.report import ReportOptions, render_terminal
    from vaultmap.vault import scan_vault

    settings = load_settings(root)
    scan_vault(settings)  # make sure the index is there and current
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = scan_vault(settings)
        progress = build_progress(result.notes)
        console = Console(file=io.StringIO(), width=100, color_system=None)
        render_terminal(progress, ReportOptions(title=root.name), console)
        times.append(time.perf_counter() - started)
        del result, progress, console
    return times


def child_report(src: Path, root: Path, runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(root),
                          str(runs)], env=env, capture_output=True, text=True, check=True)
    answer = json.loads(out.stdout)
    # An editable install must not shadow the source the child was given.
    assert Path(answer["module"]).resolve().is_relative_to(src.resolve()), answer["module"]
    return float(answer["median"])


def process_report(src: Path, root: Path) -> float:
    """Wall time of a whole ``vaultmap report`` process (imports included) on a warm index."""
    env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "vaultmap.cli", "report", str(root)]
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- main


def cold_scan(root: Path) -> float:
    from vaultmap.config import load_settings
    from vaultmap.vault import scan_vault

    settings = load_settings(root)
    gc.collect()
    started = time.perf_counter()
    scan_vault(settings, use_index=False)
    return time.perf_counter() - started


def doctor_times(root: Path) -> tuple[float, float, int]:
    from vaultmap.config import load_settings
    from vaultmap.doctor import run_checks

    settings = load_settings(root)
    shutil.rmtree(settings.state_dir, ignore_errors=True)
    started = time.perf_counter()
    checks = run_checks(settings, environ={})
    cold = time.perf_counter() - started
    started = time.perf_counter()
    run_checks(settings, environ={})
    warm = time.perf_counter() - started
    return cold, warm, sum(not c.ok for c in checks)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the mojibake repair and doctor.")
    parser.add_argument("--quick", action="store_true", help="small vaults")
    parser.add_argument("--rounds", type=int, default=5, help="alternating child rounds")
    parser.add_argument("--baseline", default=None, help="git revision to compare against")
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        times = warm_report_times(Path(args.child[0]), int(args.child[1]))
        import vaultmap

        print(json.dumps({"median": statistics.median(times), "module": vaultmap.__file__}))
        return

    notes = 400 if args.quick else 2000
    doctor_notes = 1000 if args.quick else 5000
    runs = 3 if args.quick else 5
    with tempfile.TemporaryDirectory(prefix="vaultmap-moji-") as tmp:
        base = Path(tmp)
        rev, old_src = baseline_source(args.baseline, base / "baseline")
        new_src = REPO / "src"
        generate_vault(base / "clean-new", notes=notes, task_share=0.5, seed=3)
        shutil.copytree(base / "clean-new", base / "clean-old")
        rewrite_tree(base / "clean-new", base / "intl", international)
        rewrite_tree(base / "intl", base / "moji", lambda d: double_encode(international(d)))

        times: dict[str, list[float]] = {"before": [], "after": [], "intl": [], "moji": [],
                                         "process before": [], "process after": []}
        for _ in range(args.rounds):
            times["before"].append(child_report(old_src, base / "clean-old", runs))
            times["after"].append(child_report(new_src, base / "clean-new", runs))
            times["process before"].append(process_report(old_src, base / "clean-old"))
            times["process after"].append(process_report(new_src, base / "clean-new"))
            times["intl"].append(child_report(new_src, base / "intl", runs))
            times["moji"].append(child_report(new_src, base / "moji", runs))
        median = {name: statistics.median(values) for name, values in times.items()}

        sys.path.insert(0, str(new_src))
        colds = {name: statistics.median([cold_scan(base / name) for _ in range(runs)])
                 for name in ("intl", "moji")}
        generate_vault(base / "doctor", notes=doctor_notes, task_share=0.2, seed=5)
        doctor_cold, doctor_warm, doctor_failed = doctor_times(base / "doctor")
        rewrite_tree(base / "doctor", base / "doctor-moji",
                     lambda d: double_encode(international(d)))
        moji_cold, moji_warm, moji_failed = doctor_times(base / "doctor-moji")

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    print(f"baseline: {rev} · {notes} notes per report vault · {args.rounds} rounds × {runs} "
          f"runs · load {os.getloadavg()[0]:.2f}\n")
    print("| measure | median | ratio | target |")
    print("| --- | --- | --- | --- |")
    print(f"| warm report, clean, before ({rev}) | {ms(median['before'])} | 1.00 | |")
    print(f"| warm report, clean, after | {ms(median['after'])} | "
          f"{median['after'] / median['before']:.3f} | < 1.05 |")
    print(f"| `vaultmap report` process, clean, before | {ms(median['process before'])} | "
          "1.00 | |")
    print(f"| `vaultmap report` process, clean, after | {ms(median['process after'])} | "
          f"{median['process after'] / median['process before']:.3f} | < 1.05 |")
    print(f"| warm report, clean non-ASCII | {ms(median['intl'])} | 1.00 | |")
    print(f"| warm report, mojibake in every note | {ms(median['moji'])} | "
          f"{median['moji'] / median['intl']:.3f} | < 2 |")
    print(f"| cold scan, clean non-ASCII | {ms(colds['intl'])} | 1.00 | |")
    print(f"| cold scan, mojibake in every note | {ms(colds['moji'])} | "
          f"{colds['moji'] / colds['intl']:.2f} | (repair paid once, then indexed) |")
    print(f"| doctor, {doctor_notes} notes, cold index | {ms(doctor_cold)} | | "
          f"({doctor_failed} failed) |")
    print(f"| doctor, {doctor_notes} notes, warm index | {ms(doctor_warm)} | | |")
    print(f"| doctor, {doctor_notes} notes all mojibake, cold | {ms(moji_cold)} | | "
          f"({moji_failed} failed) |")
    print(f"| doctor, {doctor_notes} notes all mojibake, warm | {ms(moji_warm)} | | |")


if __name__ == "__main__":
    main()
