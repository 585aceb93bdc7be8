"""The renderers: JSON schema fields, Markdown that adds no tasks, a terminal view without ANSI
when asked, and the same numbers in every format."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from report_fixtures import ANSI, NOTES
from vaultmap.parse import parse_note
from vaultmap.progress import Counts, Progress, build_progress
from vaultmap.report import (
    ReportOptions,
    bar_cells,
    breakdown_rows,
    counts_summary,
    render_json,
    render_markdown,
    render_terminal,
    text_bar,
)
from vaultmap.report.common import plain
from vaultmap.report.markdown import inline
from vaultmap.report.terminal import make_console


def progress_of_fixture(top_level_only: bool = False) -> Progress:
    notes = [parse_note(text.encode(), path) for path, text in NOTES.items()]
    return build_progress(notes, today=date(2026, 11, 22), top_level_only=top_level_only)


def terminal_text(progress: Progress, options: ReportOptions, *, color: str = "never",
                  width: int = 100) -> str:
    buffer = io.StringIO()
    render_terminal(progress, options, make_console(buffer, color=color,  # type: ignore[arg-type]
                                                    width=width))
    return buffer.getvalue()


# --- bars and labels ------------------------------------------------------------------------


def test_bars_fill_by_done_over_counted() -> None:
    assert text_bar(Counts(done=1, todo=1), 10) == "▓" * 5 + "░" * 5
    assert text_bar(Counts(done=3), 4) == "▓▓▓▓"
    assert text_bar(Counts(), 4) == "░░░░"
    assert bar_cells(Counts(done=1, todo=999), 10) == 1  # a start shows
    assert bar_cells(Counts(done=999, todo=1), 10) == 9  # never full before it is done
    assert text_bar(Counts(cancelled=2), 3) == "░░░"


def test_counts_summary() -> None:
    assert counts_summary(Counts()) == "no tasks"
    # The parts add up: 2 done + 2 open (1 of them doing) = the 4 counted.
    assert counts_summary(Counts(todo=1, doing=1, done=2, cancelled=1)) == (
        "2 of 4 done · 2 open (1 doing) · 1 cancelled")
    assert counts_summary(Counts(doing=3)) == "0 of 3 done · 3 open (3 doing)"


def test_plain_reduces_inline_markdown_for_display() -> None:
    assert plain("**Maths** and [[Calculus|calc]] with `code`") == "Maths and calc with code"
    assert plain("[[Note#Heading]] _it_ [site](https://x.org)") == "Note it site"
    assert plain("snake_case_name stays") == "snake_case_name stays"


# --- JSON -----------------------------------------------------------------------------------


def test_json_schema_fields() -> None:
    progress = progress_of_fixture()
    data = json.loads(render_json(progress, ReportOptions(title="fixture", root="/v")))
    assert data["schema"] == "vaultmap.report/1"
    assert set(data) == {"schema", "vaultmap", "vault", "today", "options", "totals", "notes",
                         "folders", "tags", "gaps", "warnings"}
    assert data["vault"] == {"name": "fixture", "root": "/v"}
    assert data["today"] == "2026-11-22"
    assert data["options"] == {"by": "note", "depth": 2, "top_level_only": False}
    totals = data["totals"]
    assert totals == {"todo": 5, "doing": 1, "done": 5, "cancelled": 1, "other": 1, "total": 13,
                      "counted": 12, "open": 7, "percent": 41.67, "label": "41%"}

    notes = {n["path"]: n for n in data["notes"]}
    assert set(notes) == set(NOTES)
    month1 = notes["Roadmap/Month 1.md"]
    assert month1["title"] == "Month 1"
    assert month1["tags"] == ["learning", "Python"]
    assert set(month1) == {"path", "title", "tags", "counts", "own", "sections"}
    top = month1["sections"][0]
    assert set(top) == {"title", "path", "level", "line", "counts", "own", "sections"}
    assert (top["title"], top["level"], top["line"]) == ("Month 1", 1, 4)
    week2 = top["sections"][1]
    assert week2["path"] == ["Month 1", "Week 2: Data"]
    assert (week2["counts"]["done"], week2["counts"]["counted"]) == (2, 4)
    assert notes["Inbox.md"]["counts"]["label"] == "no tasks"
    assert notes["Inbox.md"]["counts"]["percent"] is None

    folders = data["folders"]
    assert folders["path"] == "" and folders["notes"] == ["Inbox.md"]
    assert [f["name"] for f in folders["folders"]] == ["Projects", "Roadmap"]
    assert folders["folders"][1]["counts"]["done"] == 4

    tags = {t["tag"]: t for t in data["tags"]}
    assert tags["home"]["counts"]["total"] == 2
    assert tags["learning"]["counts"]["total"] == 8
    assert tags["practice"]["notes"] == 1


def test_json_gaps() -> None:
    gaps = json.loads(render_json(progress_of_fixture(), ReportOptions()))["gaps"]
    assert set(gaps) == {"open_by_section", "no_progress", "overdue", "parents_open"}
    nexts = {tuple(g["section"]): g["next"]["description"] for g in gaps["open_by_section"]}
    assert nexts[("Month 1", "Week 2: Data")] == "Learn list comprehensions"  # doing first
    assert nexts[("Month 1", "Week 1: Basics")] == "Read the style guide"
    first = gaps["open_by_section"][0]
    assert set(first) == {"path", "section", "line", "open", "open_lines", "next"}
    week2 = next(g for g in gaps["open_by_section"]
                 if g["section"] == ["Month 1", "Week 2: Data"])
    assert (week2["open"], week2["open_lines"]) == (2, [12, 13])
    assert set(first["next"]) == {"path", "line", "status", "type", "text", "description",
                                  "section", "display_text", "display_description",
                                  "display_section", "due", "key"}
    assert [(r["path"], r["section"]) for r in gaps["no_progress"]] == [
        ("Projects/Garden.md", ["Garden | beds", "Soil | compost"]), ("Roadmap/Month 2.md", [])]
    assert gaps["overdue"] == [{
        "task": gaps["overdue"][0]["task"], "due": "2026-11-01", "days_late": 21}]
    assert gaps["overdue"][0]["task"]["description"] == "Read the style guide"
    assert [t["description"] for t in gaps["parents_open"]] == ["Parse a CSV file"]


def test_json_and_terminal_show_the_same_numbers() -> None:
    progress = progress_of_fixture()
    data = json.loads(render_json(progress, ReportOptions()))
    text = terminal_text(progress, ReportOptions())
    assert f"{data['totals']['label']}  5 of 12 done" in text
    for note in data["notes"]:
        if note["counts"]["total"]:
            c = note["counts"]
            assert f"{c['done']}/{c['counted']}" in text


def test_json_keeps_undecodable_text_as_valid_json() -> None:
    note = parse_note(b"- [ ] caf\xe9 au lait\n", "legacy.md")
    text = render_json(build_progress([note]), ReportOptions())
    text.encode("utf-8")  # never raises: undecodable bytes come out escaped
    assert json.loads(text)["totals"]["todo"] == 1


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_has_heading_table_and_no_tasks_when_pasted_into_a_note() -> None:
    progress = progress_of_fixture()
    for by in ("note", "section", "folder", "tag"):
        text = render_markdown(progress, ReportOptions(by=by, title="fixture"))  # type: ignore[arg-type]
        assert text.startswith("## Progress of fixture (2026-11-22)\n")
        assert "**41%**" in text
        assert "| --: |" in text
        pasted = parse_note(text.encode(), "pasted.md")
        assert pasted.tasks == (), (by, [t.text for t in pasted.tasks])
        assert "[ ]" not in text and "[x]" not in text


def test_markdown_lists_every_gap_and_escapes_table_cells() -> None:
    text = render_markdown(progress_of_fixture(), ReportOptions())
    for heading in ("### Next up", "### Overdue", "### No progress yet",
                    "### Parents left open"):
        assert heading in text
    assert "Read the style guide (due 2026-11-01, 21 days late)" in text
    assert "Soil \\| compost" in text  # a pipe in a heading cannot split a table cell
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == 3 for line in rows[2:] if "\\|" not in line)


def test_markdown_tags_are_code_not_tags() -> None:
    text = render_markdown(progress_of_fixture(), ReportOptions(by="tag"))
    assert "| `#home` |" in text
    assert parse_note(text.encode(), "p.md").tasks == ()


def test_markdown_gap_limit_says_how_many_more() -> None:
    text = render_markdown(progress_of_fixture(), ReportOptions(limit=1))
    assert "- … and 3 more" in text  # 4 sections with open tasks, 1 shown


def test_inline_escapes_what_could_become_markup() -> None:
    assert inline("a | b") == "a \\| b"
    assert inline("[ ] x") == "\\[ \\] x"
    assert "%%" not in inline("hide %% this")
    assert inline("#tag") == "\\#tag"


# --- terminal -------------------------------------------------------------------------------


def test_terminal_report_shows_bars_breakdown_and_gaps() -> None:
    text = terminal_text(progress_of_fixture(), ReportOptions(title="fixture"))
    assert ANSI.search(text) is None
    assert "vaultmap · fixture · 2026-11-22" in text
    assert "41%" in text and "█" in text and "░" in text
    for expected in ("Month 1", "Week 2: Data", "Soil | compost", "Next up", "Overdue",
                     "No progress yet", "Parents left open", "doing: Learn list comprehensions",
                     "Read the style guide", "21 days late", "Parse a CSV file"):
        assert expected in text, expected
    assert "Inbox" not in text  # notes without tasks are counted, not listed
    assert "1 note without tasks not shown" in text


def test_terminal_depth_zero_shows_notes_only() -> None:
    text = terminal_text(progress_of_fixture(), ReportOptions(depth=0))
    table = text.split("Next up")[0]
    assert "Month 1" in table and "Week 1: Basics" not in table


@pytest.mark.parametrize("by,present,absent", [
    ("folder", ["Roadmap/", "Projects/"], ["Week 1"]),
    ("tag", ["#home", "#learning", "#practice"], ["Roadmap/"]),
    ("section", ["Month 1 › Week 1: Basics", "Month 2 › Week 5", "Garden › Soil | compost"],
     ["Roadmap/", "Month 1 › Month 1"]),
])
def test_terminal_by_views(by: str, present: list[str], absent: list[str]) -> None:
    text = terminal_text(progress_of_fixture(), ReportOptions(by=by, depth=3))  # type: ignore[arg-type]
    table = text.split("Next up")[0]
    for item in present:
        assert item in table, item
    for item in absent:
        assert item not in table, item


def test_terminal_colour_only_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    progress = progress_of_fixture()
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert ANSI.search(terminal_text(progress, ReportOptions(), color="always"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ANSI.search(terminal_text(progress, ReportOptions(), color="auto")) is None
    assert ANSI.search(terminal_text(progress, ReportOptions(), color="never")) is None


def test_terminal_fits_the_width_without_cutting_numbers() -> None:
    for width in (50, 80, 160):
        text = terminal_text(progress_of_fixture(), ReportOptions(), width=width)
        assert max(len(line) for line in text.splitlines()) <= width
        assert "4/7" in text  # Month 1: 4 done of 7 counted, never cut


def test_terminal_empty_vault_reads_no_tasks() -> None:
    text = terminal_text(build_progress([]), ReportOptions())
    assert "no tasks" in text and "No tasks found in 0 notes." in text
    assert "nan" not in text.lower()


def test_top_level_only_view() -> None:
    progress = progress_of_fixture(top_level_only=True)
    assert progress.counts.total == 11  # the two nested CSV subtasks leave
    assert "top-level tasks only" in terminal_text(progress, ReportOptions())


def test_breakdown_rows_skip_empty_folders_and_respect_depth() -> None:
    rows = breakdown_rows(progress_of_fixture(), ReportOptions(by="folder", depth=1))
    assert [(r.kind, r.label, r.level) for r in rows] == [
        ("folder", "Projects", 0), ("folder", "Roadmap", 0)]
    rows = breakdown_rows(progress_of_fixture(), ReportOptions(by="folder", depth=2))
    assert ("note", "Garden", 1) in [(r.kind, r.label, r.level) for r in rows]


def test_breakdown_is_capped_and_says_how_much_is_hidden() -> None:
    progress = progress_of_fixture()
    all_rows = len(breakdown_rows(progress, ReportOptions()))
    text = terminal_text(progress, ReportOptions(max_rows=2))
    assert f"and {all_rows - 2} more rows" in text
    markdown = render_markdown(progress, ReportOptions(max_rows=2))
    assert f"| … and {all_rows - 2} more | | | |" in markdown
    assert "more rows" not in terminal_text(progress, ReportOptions(max_rows=0))


def test_a_heading_that_only_titles_its_note_is_not_repeated() -> None:
    progress = progress_of_fixture()
    table = terminal_text(progress, ReportOptions()).split("Next up")[0]
    names = [line.strip().split("  ")[0] for line in table.splitlines()[4:]]
    assert names.count("Month 1") == 1  # the note's row, not again as its "# Month 1" heading
    assert "Week 1: Basics" in names
    rows = breakdown_rows(progress, ReportOptions(by="note", depth=1))
    month1 = [(r.kind, r.label, r.level) for r in rows if r.path == "Roadmap/Month 1.md"]
    assert month1 == [("note", "Month 1", 0), ("section", "Week 1: Basics", 1),
                      ("section", "Week 2: Data", 1)]
    gaps = render_markdown(progress, ReportOptions())
    assert "- Month 1 › Week 2: Data: Parse a CSV file" in gaps
    # A note whose only heading holds the tasks is one row in the section view.
    one = build_progress([parse_note(b"# Shopping\n- [ ] milk\n", "Shopping.md")])
    assert [(r.label, r.section) for r in breakdown_rows(one, ReportOptions(by="section"))] == [
        ("Shopping", ())]


def test_escape_codes_in_notes_never_reach_the_output() -> None:
    hostile = parse_note(b"# Evil \x1b]0;title\x07\n- [ ] red \x1b[31mtext\n- [x] ok\n",
                         "Esc\x1b[2J/bad\x1b[1mname.md")
    progress = build_progress([hostile], today=date(2026, 11, 22))
    for by in ("note", "section", "folder", "tag"):
        text = terminal_text(progress, ReportOptions(by=by))  # type: ignore[arg-type]
        assert "\x1b" not in text and "\x07" not in text, by
        assert "red \ufffd[31mtext" in text
        assert "\x1b" not in render_markdown(progress, ReportOptions(by=by))  # type: ignore[arg-type]
    assert "\\u001b" in render_json(progress, ReportOptions())  # JSON escapes, keeps the text


def test_undecodable_bytes_print_as_replacement_characters() -> None:
    note = parse_note(b"# Caf\xe9\n- [ ] cr\xe8me\n", "legacy.md")
    text = terminal_text(build_progress([note]), ReportOptions())
    text.encode("utf-8")  # never raises
    assert "legacy" in text
