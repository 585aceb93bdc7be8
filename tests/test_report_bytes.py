"""The terminal and Markdown reports print exactly the bytes pinned in
``tests/golden/report_bytes.json`` (see ``tests/terminal_golden.py``): every vault, shape,
width, colour on and off, and an ASCII-only console."""

from __future__ import annotations

import json

import pytest

from terminal_golden import GOLDEN, VAULTS, all_outputs, digest, progress_of, render
from vaultmap.report import ReportOptions


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("NO_COLOR", "FORCE_COLOR", "COLORTERM", "COLUMNS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def test_every_pinned_report_prints_the_same_bytes() -> None:
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))
    outputs = all_outputs()
    assert set(outputs) == set(pinned)
    changed = sorted(key for key, text in outputs.items() if digest(text) != pinned[key])
    shown = "\n".join(f"--- {key}\n{outputs[key]}" for key in changed[:2])
    assert not changed, f"{len(changed)} outputs changed: {changed[:20]}\n{shown}"


@pytest.mark.parametrize("vault", list(VAULTS))
def test_the_readable_copy_matches(vault: str) -> None:
    text = render(progress_of(vault), ReportOptions(title=f"{vault} vault"), "never", 80,
                  "utf-8")
    assert text == (GOLDEN.parent / f"{vault}-default-80.txt").read_text(encoding="utf-8")
