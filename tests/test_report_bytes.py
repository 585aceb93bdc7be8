"""The terminal and Markdown reports print exactly the bytes pinned in
``tests/golden/report_bytes.json`` (see ``tests/terminal_golden.py``): every vault, shape,
width, colour on and off, and an ASCII-only console."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from terminal_golden import (
    GOLDEN,
    SHAPES,
    VAULTS,
    WIDTHS,
    all_outputs,
    digest,
    progress_of,
    render,
)
from vaultmap.report import ReportOptions, breakdown_rows
from vaultmap.report.common import breakdown_row_count


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("NO_COLOR", "FORCE_COLOR", "COLORTERM", "COLUMNS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def _check(widths: tuple[int, ...]) -> None:
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))
    outputs = all_outputs(widths)
    assert set(outputs) <= set(pinned)
    changed = sorted(key for key, text in outputs.items() if digest(text) != pinned[key])
    shown = "\n".join(f"--- {key}\n{outputs[key]}" for key in changed[:2])
    assert not changed, f"{len(changed)} outputs changed: {changed[:20]}\n{shown}"


def test_pinned_reports_at_two_widths_print_the_same_bytes() -> None:
    _check((40, 120))


@pytest.mark.slow
def test_every_pinned_report_prints_the_same_bytes() -> None:
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert len(all_outputs()) == len(pinned)
    _check(WIDTHS)


@pytest.mark.parametrize("vault", list(VAULTS))
def test_the_readable_copy_matches(vault: str) -> None:
    text = render(progress_of(vault), ReportOptions(title=f"{vault} vault"), "never", 80,
                  "utf-8")
    assert text == (GOLDEN.parent / f"{vault}-default-80.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("vault", list(VAULTS))
def test_the_row_count_is_the_number_of_rows(vault: str) -> None:
    progress = progress_of(vault)
    for _shape, fields in SHAPES:
        options = ReportOptions(**fields)  # type: ignore[arg-type]
        rows = breakdown_rows(progress, options)
        assert breakdown_row_count(progress, options) == len(rows)
        assert breakdown_rows(progress, options, limit=3) == rows[:3]


def test_a_warm_terminal_report_imports_only_what_it_uses(tmp_path: Path) -> None:
    """The warm ``report`` path: no parser, no Markdown or HTML renderer, no rich table, no
    history, browser, template engine or remote code, no worker pool (``multiprocessing``) and
    no ``json`` module (msgspec encodes) (docs/architecture.md, "Start-up")."""
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / "Plan.md").write_text("# Plan\n\n## Week 1\n- [x] read\n- [ ] write\n",
                                   encoding="utf-8")
    os.utime(vault / "Plan.md", (1_704_067_200, 1_704_067_200))  # old: the index trusts it
    cold = subprocess.run([sys.executable, "-m", "vaultmap.cli", "report", str(vault)],
                          capture_output=True, text=True, timeout=60)  # builds the index
    assert cold.returncode == 0, cold.stderr
    probe = ("import sys\n"
             "from vaultmap.cli import main\n"
             "try:\n"
             f"    main(['report', {str(vault)!r}, '--no-history'])\n"
             "except SystemExit:\n"
             "    pass\n"
             "print('LOADED', sorted(m for m in sys.modules if m.startswith(("
             "'vaultmap.parse', 'vaultmap.sync', 'vaultmap.edit', 'vaultmap.history', "
             "'vaultmap.report.markdown', "
             "'vaultmap.report.html', 'rich.table', 'webbrowser', 'jinja2', 'mistune', "
             "'yaml', 'sqlite3', 'notion_client', 'httpx', 'fractions', 'multiprocessing', "
             "'concurrent', 'json', 'tomllib', 'difflib', 'pathspec'))))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout, proc.stdout
