"""Report rendering on hostile task text: time per renderer as the text grows.

Run: ``.venv/bin/python benchmarks/bench_render.py [--sizes 5000,10000,20000]``

Each case is one note holding one task whose text is a pathological run (``[[`` or ``[`` or
``*`` with nothing closing it, ``**a `` repeated, or one long word). The JSON renderer is the
baseline measured in the same run (it does no inline Markdown work): the table shows the
median of 3 runs in ms for terminal and Markdown, and their ratio to JSON. Linear renderers keep
the ratio flat as the size doubles; quadratic ones multiply it by about 4 per doubling. The
report cuts long texts, so its cost stays flat; "uncut ms" is ``plain(text, limit=0)`` (what
``vaultmap tasks`` into a pipe does), which must grow linearly.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from datetime import date

from vaultmap.parse import parse_note
from vaultmap.progress import build_progress
from vaultmap.report import ReportOptions, render_json, render_markdown, render_terminal
from vaultmap.report.common import plain
from vaultmap.report.terminal import make_console

CASES: dict[str, Callable[[int], str]] = {
    "[[ unclosed": lambda n: "[[" * (n // 2),
    "[ unclosed": lambda n: "[" * n,
    "* unclosed": lambda n: "*" * n,
    "**a repeated": lambda n: "**a " * (n // 4),
    "[a]( repeated": lambda n: "[a](" * (n // 4),
    "one word": lambda n: "a" * n,
}


def _median(action: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,10000,20000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print(f"{'case':<15} {'chars':>8} {'json ms':>8} {'term ms':>8} {'md ms':>8} "
          f"{'term/json':>9} {'md/json':>8} {'uncut ms':>9}")
    for name, make in CASES.items():
        for size in sizes:
            text = f"# H\n\n- [ ] {make(size)}\n- [x] done\n".encode()
            note = parse_note(text, "Hostile.md")
            progress = build_progress([note], today=date(2026, 1, 1))
            options = ReportOptions()
            base = _median(lambda: render_json(progress, options))  # noqa: B023
            term = _median(lambda: render_terminal(
                progress, options,  # noqa: B023
                make_console(io.StringIO(), color="never", width=100)))
            md = _median(lambda: render_markdown(progress, options))  # noqa: B023
            uncut = _median(lambda: plain(note.tasks[0].text, limit=0))  # noqa: B023
            print(f"{name:<15} {size:>8} {base:>8.1f} {term:>8.1f} {md:>8.1f} "
                  f"{term / base:>9.1f} {md / base:>8.1f} {uncut:>9.1f}")


if __name__ == "__main__":
    main()
