"""The terminal and Markdown layouts at odd widths and with odd vaults: something sensible is
always printed, numbers are never cut, and the parts of a summary add up."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from vaultmap.parse import parse_note
from vaultmap.progress import Progress, build_progress
from vaultmap.report import ReportOptions, render_markdown, render_terminal
from vaultmap.report.terminal import make_console

NOTE = ("# Plan\n\n" + "".join(f"- [x] done {n}\n" for n in range(4))
        + "- [/] in progress\n" + "".join(f"- [ ] todo {n}\n" for n in range(14))
        + "- [-] dropped\n")


def _progress() -> Progress:
    note = parse_note(NOTE.encode(), "Projects/A rather long note name.md")
    return build_progress([note], today=date(2026, 1, 1))


def _terminal(width: int | None = None, by: str = "note", progress: Progress | None = None,
              ) -> str:
    out = io.StringIO()
    render_terminal(progress or _progress(), ReportOptions(by=by),  # type: ignore[arg-type]
                    make_console(out, color="never", width=width))
    return out.getvalue()


def test_columns_zero_still_prints_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "0")
    text = _terminal()
    assert "Overall" in text and "4/19" in text


@pytest.mark.parametrize("width", range(8, 41))
def test_no_number_is_ever_cut_at_any_width(width: int) -> None:
    text = _terminal(width)
    table = text[text.index("────"):]
    numbers = re.findall(r"\d+/\d+", table)
    assert numbers and set(numbers) == {"4/19"}, text
    header = text[:text.index("────")].splitlines()[-1].split()
    row = table.splitlines()[1]
    # A number column is shown whole or not at all: no "Op" header over an empty cell.
    assert header[-1] in ("Done", "Open"), header
    assert ("Open" in header) == row.rstrip().endswith(" 15"), text
    assert ("%" in header) == ("21%" in row), text


def test_the_overall_summary_adds_up() -> None:
    text = " ".join(_terminal(200).split())
    # 4 done + 15 open (1 of them in progress) = the 19 counted; the cancelled one aside.
    assert "4 of 19 done · 15 open (1 doing) · 1 cancelled" in text
    assert "4 of 19 done · 15 open (1 doing) · 1 cancelled" in render_markdown(
        _progress(), ReportOptions())


def test_by_tag_without_tags_says_so() -> None:
    assert "No tags in these notes" in _terminal(100, by="tag")
    assert "No tags in these notes" in render_markdown(_progress(), ReportOptions(by="tag"))


def test_notes_with_the_same_title_are_told_apart_by_their_folder() -> None:
    notes = [parse_note(b"- [ ] morning run\n- [x] stretch\n", "Journal/2024-12-21.md"),
             parse_note(b"- [ ] ship the release\n", "Work/Logs/2024-12-21.md"),
             parse_note(b"- [ ] plan\n", "Plan.md")]
    progress = build_progress(notes, today=date(2026, 1, 1))
    for by in ("note", "section"):
        text = _terminal(120, by=by, progress=progress)
        assert "Journal/2024-12-21" in text and "Logs/2024-12-21" in text, text
        markdown = render_markdown(progress, ReportOptions(by=by))  # type: ignore[arg-type]
        assert "Journal/2024-12-21" in markdown and "Logs/2024-12-21" in markdown
    assert "Plan/" not in _terminal(120, progress=progress)
