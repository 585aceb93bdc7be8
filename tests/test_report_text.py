"""What the renderers make of a task's text: linear on hostile input, cut when long (JSON
keeps everything), never read as Markdown or Dataview syntax when pasted."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultmap.parse import parse_note
from vaultmap.progress import Progress, build_progress
from vaultmap.report import ReportOptions, render_json, render_markdown, render_terminal
from vaultmap.report.common import MAX_SHOWN, plain, shorten
from vaultmap.report.markdown import inline
from vaultmap.report.terminal import make_console

HOSTILE = {
    "wiki": "[[" * 100_000,
    "bracket": "[" * 200_000,
    "star": "*" * 200_000,
    "strong pairs": "**a " * 50_000,
    "emphasis pairs": "*a " * 60_000,
    "link pairs": "[a](" * 50_000,
    "link text": "[a]" * 60_000,
    "underscores": "_a " * 60_000,
}


def _progress(text: str, heading: str = "H") -> Progress:
    note = parse_note(f"# {heading}\n\n- [ ] {text}\n- [x] done\n".encode(), "Hostile.md")
    return build_progress([note], today=date(2026, 1, 1))


@pytest.mark.timeout(60)  # each took minutes to hours while the regexes were quadratic
@pytest.mark.parametrize("name", list(HOSTILE))
def test_plain_is_linear_on_unclosed_markup(name: str) -> None:
    text = HOSTILE[name]
    shown = plain(text, limit=0)
    assert len(shown) <= len(text)
    assert plain(text).endswith("…") and len(plain(text)) <= MAX_SHOWN


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["wiki", "bracket", "strong pairs", "link pairs"])
def test_renderers_are_fast_on_unclosed_markup(name: str) -> None:
    progress = _progress(HOSTILE[name], heading=HOSTILE[name][:20_000])
    render_markdown(progress, ReportOptions())
    render_terminal(progress, ReportOptions(), make_console(io.StringIO(), color="never",
                                                            width=80))


def test_a_long_task_is_cut_in_the_report_and_whole_in_json() -> None:
    word = "a" * 2_000_000
    progress = _progress(word)
    options = ReportOptions()
    markdown = render_markdown(progress, options)
    assert len(markdown) < 5_000 and "a" * (MAX_SHOWN - 1) + "…" in markdown
    out = io.StringIO()
    render_terminal(progress, options, make_console(out, color="never", width=100))
    assert len(out.getvalue()) < 5_000 and "…" in out.getvalue()
    document = json.loads(render_json(progress, options))
    assert document["gaps"]["open_by_section"][0]["next"]["text"] == word


def test_plain_keeps_what_it_always_did() -> None:
    assert plain("**Maths** and [[Calculus|calc]] with `code`") == "Maths and calc with code"
    assert plain("***both*** __strong__ _em_ *em*") == "both strong em em"
    assert plain("**bold *em* more**") == "bold em more"
    assert plain("snake_case_name and 2*3*4 and a * b") == "snake_case_name and 2*3*4 and a * b"
    assert plain("[x](https://en.wikipedia.org/wiki/Foo_(bar)) y") == "x y"
    assert plain("[[Note#Heading]] [[Page^block|alias]]") == "Note alias"
    assert plain("unpaired **star and [[link") == "unpaired **star and [[link"


def test_shorten() -> None:
    assert shorten("abc", 3) == "abc"
    assert shorten("abcd", 3) == "ab…"
    assert shorten("abcd", 0) == "abcd"


def test_a_heading_ending_in_a_colon_is_no_dataview_field_in_markdown() -> None:
    note = parse_note(b"# Plan\n\n## March:\n\n- [ ] first\n- [x] second\n\n## Key:: value\n\n"
                      b"- [ ] third\n", "Plan.md")
    markdown = render_markdown(build_progress([note], today=date(2026, 1, 1)), ReportOptions())
    assert "::" not in markdown
    assert "March: first" in markdown


@pytest.mark.parametrize("text", ["50%%% done", "a%%%%b", "%%%", "ratio:::x", "a::::b", ":::"])
def test_a_run_of_percent_signs_or_colons_opens_no_comment_or_field(text: str) -> None:
    # "%%" was broken once per pair: "%%%" kept a "%%", which opened an Obsidian comment
    # hiding the rest of a note the report is pasted into (its tasks went uncounted); ":::"
    # kept a "::", a Dataview field.
    note = parse_note(f"# Plan\n\n- [ ] {text}\n".encode(), "Plan.md")
    markdown = render_markdown(build_progress([note], today=date(2026, 1, 1)), ReportOptions())
    assert "%%" not in markdown and "::" not in markdown
    pasted = parse_note(f"{markdown}\n- [ ] after the report\n".encode(), "Pasted.md")
    assert [t.text for t in pasted.tasks] == ["after the report"]


def test_a_pipe_in_a_tag_cannot_split_its_table_cell() -> None:
    note = parse_note(b"---\ntags: [\"a|b\"]\n---\n- [ ] one\n", "Plan.md")
    markdown = render_markdown(build_progress([note], today=date(2026, 1, 1)),
                               ReportOptions(by="tag"))
    (row,) = [line for line in markdown.splitlines() if "#a" in line]
    assert row.startswith("| `#a\\|b` |")


# Any text, rich in what Markdown, Obsidian and Dataview read as markup (runs of it too).
_markup_text = st.lists(st.one_of(
    st.sampled_from(["%", ":", "$", "|", "<", "<!--", "[", "]", "`", "\\", "#", "-", " ", "\t",
                     "\r\n", "\u2028", "^", "~", "="]).flatmap(
        lambda piece: st.integers(1, 4).map(lambda n: piece * n)),
    st.text(max_size=4)), max_size=10).map("".join)


@given(_markup_text)
def test_inline_text_opens_nothing_and_hides_nothing(text: str) -> None:
    shown = inline(text)
    assert "%%" not in shown and "::" not in shown and "$$" not in shown
    assert not any(c in shown for c in "\n\r\u2028\u2029")
    # In a bullet and in a table cell, before a task: no task of its own, and the task after
    # it is still read (no comment, math block or HTML block left open).
    note = f"- where: {shown}\n\n| {shown} | x |\n| :-- | --: |\n| {shown} | 1 |\n\n- [ ] after\n"
    assert [t.text for t in parse_note(note.encode("utf-8", "surrogatepass"), "R.md").tasks] \
        == ["after"]
