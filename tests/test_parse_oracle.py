"""The gfm flavour against cmark-gfm (GitHub's parser), and each place we knowingly differ.

Agreement is judged on ``(marker line, checked)``. cmark-gfm's tasklist extension has quirks
where it departs from the GFM spec; the generator avoids the ones it can, the comparison
filters the rest, and every quirk has its own test below saying what each side answers.
"""

from __future__ import annotations

import re

import pytest
from cmarkgfm.cmark import Options, markdown_to_html_with_extensions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmark_oracle import oracle_tasks
from hypothesis_budget import examples
from vaultmap.model import Flavor
from vaultmap.parse import _no_task_possible, parse_note, split_lines
from vaultmap.parse.blocks import scan

# cmark-gfm's tasklist scanner runs on the raw physical line from column 0: only lines of
# this shape can be its tasks (quirk a: no quotes, no same-line nesting, no BOM).
CMARK_TASK_LINE = re.compile(rb"[ \t]*(?:[-+*]|[0-9]+.)[ \t]+\[[ xX]\][ \t]")


def ours_for_oracle(text: str) -> list[tuple[int, bool]]:
    """Our gfm tasks, seen the way cmark-gfm's scanner can see them.

    A task whose paragraph became a setext heading still counts here (cmark-gfm decides at
    the marker line, quirk c); tasks on lines its scanner cannot match are left out (quirk a).
    """
    data = text.encode()
    lines = split_lines(data)
    result = scan(data, lines, 1, obsidian=False, decode=lambda b: b.decode())
    found = []
    for task in result.tasks:
        start, end = lines[task.line - 1]
        if CMARK_TASK_LINE.match(data, start, end):
            found.append((task.line, data[task.status_offset] in b"xX"))
    return found


def oracle_on_task_lines(text: str) -> list[tuple[int, bool]]:
    """The oracle's tasks as decided on their own marker line.

    cmark-gfm can hang a checkbox on an enclosing item from a later lazy line (quirk g), and
    so also flip an earlier task's "checked". What it decides from the document up to and
    including the marker line is what the spec's rule speaks about.
    """
    data = text.encode()
    lines = split_lines(data)
    found = []
    for line, _ in oracle_tasks(text):
        start, end = lines[line - 1]
        if not CMARK_TASK_LINE.match(data, start, end):
            continue
        prefix = data[:lines[line][0]] if line < len(lines) else data
        decided = dict(oracle_tasks(prefix.decode()))
        if line in decided:
            found.append((line, decided[line]))
    return found


def gfm_lines(text: str) -> list[tuple[int, bool]]:
    note = parse_note(text.encode(), "t.md", flavor=Flavor.GFM)
    return [(t.line, t.status != " ") for t in note.tasks]


# ---------------------------------------------------------------------------------------
# Generated documents

_LEAD = st.sampled_from(["", "", "", " ", "  ", "   ", "    ", "\t", "     ", "      ", " \t"])
_PIECE = st.sampled_from(
    ["- ", "* ", "+ ", "1. ", "2) ", "-\t", "10. ", "> ", ">", "  ", "   ", "    ", "\t", " ",
     "- - ", "1.  ", "-    "]
)
# No "[x]" after the box (quirk b) and no box followed by blanks only (quirk f).
_TEXT = st.sampled_from(
    ["[ ] a", "[x] b", "[X] c", "[ ]", "[x]\td", "[/] e", "text f", "", "[ ]x", "[  ] g",
     "[ ]  two spaces", "[X]\t\ttabs"]
)
_SPECIAL = st.sampled_from(
    ["```", "~~~", "````", "``` py", "```a`b", "<div>", "</div>", "<!--", "-->", "<pre>",
     "</pre>", "<span>", "<span>x", "# h", "## h2 ##", "#no", "---", "===", "***", "- - -",
     "", "", "", "para", "    code", "<?php", "?>", "<a href=\"x\">", "</details>",
     "<![CDATA[", "]]>", "<!DOCTYPE", "<script>", "</script>", "2. two", "1) one",
     "| a | b |", "|---|---|", "a | b", "--- | ---", ":-", "| x |", "|-|", "- | -", "<textarea>",
     "<!a"]
)
_LINE = st.one_of(
    st.tuples(_LEAD, _SPECIAL).map("".join),
    st.tuples(_LEAD, st.lists(_PIECE, max_size=3).map("".join), _TEXT).map("".join),
)
_EOL = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = draw(st.lists(_LINE, min_size=1, max_size=14))
    if draw(st.booleans()):
        eol = draw(_EOL)
        return eol.join(lines) + draw(st.sampled_from(["", eol]))
    return "".join(line + draw(_EOL) for line in lines)


@pytest.mark.slow
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_gfm_agrees_with_cmark_gfm(text: str) -> None:
    assert ours_for_oracle(text) == oracle_on_task_lines(text)


@pytest.mark.slow
@settings(max_examples=examples(300), deadline=None)
@given(documents())
def test_positions_prefilter_and_flavours(text: str) -> None:
    data = text.encode()
    obsidian = parse_note(data, "t.md")
    gfm = parse_note(data, "t.md", flavor=Flavor.GFM)
    for note in (obsidian, gfm):
        lines = split_lines(data)
        for task in note.tasks:
            start, end = lines[task.line - 1]
            assert start < task.offset < end
            assert data[task.offset - 1] == ord("[")
            assert data[task.offset + task.status_len] == ord("]")
    # Obsidian accepts more (statuses, empty boxes), never fewer.
    assert {t.line for t in gfm.tasks} <= {t.line for t in obsidian.tasks}
    # The pre-filter only ever skips notes the full parse finds empty.
    if _no_task_possible(data, 0):
        lines = split_lines(data)
        assert scan(data, lines, 1, obsidian=True, decode=bytes.decode).tasks == []


def test_prefilter_sees_through_fenced_code_only() -> None:
    fenced = b"# T\n```\n- [ ] looks like a task\n```\ntext\n~~~~\n- [x] again\n"
    assert _no_task_possible(fenced, 0)
    # An indented fence may sit in a list item that a later line leaves: parse it.
    item = b"- a\n  ```\n- [ ] real\n  ```\n"
    assert not _no_task_possible(item, 0)
    assert [t.line for t in parse_note(item, "n.md").tasks] == [3]
    # HTML could hide the fence: parse it.
    html = b"<pre>\n```\n</pre>\n- [ ] real\n"
    assert not _no_task_possible(html, 0)
    assert [t.line for t in parse_note(html, "n.md").tasks] == [4]
    assert not _no_task_possible(b"```\n- [ ] a\n```\n- [ ] b\n", 0)


# ---------------------------------------------------------------------------------------
# CommonMark spec-style examples (lists, quotes, code, HTML) where everyone agrees

SPEC_STYLE = [
    # list items: content column, indentation, interruption
    ("- [ ] one\n\n two\n", [(1, False)]),
    ("- [ ] one\n\n  two\n", [(1, False)]),
    (" -    [x] one\n\n     two\n", [(1, True)]),
    ("-     [ ] five spaces: indented code in the item\n", []),
    ("1.  [ ] A paragraph\n    with two lines.\n\n        indented code\n\n    > A quote.\n",
     [(1, False)]),
    ("- [ ] foo\n\n\n  bar\n", [(1, False)]),
    ("1. [ ] a\n\n   2. [x] b\n\n      3. [ ] c\n", [(1, False), (3, True), (5, False)]),
    # "    - e" is a lazy continuation of d's paragraph, not an item (spec example 312)
    ("- [ ] a\n - [ ] b\n  - [x] c\n   - [ ] d\n    - [ ] e\n",
     [(1, False), (2, False), (3, True), (4, False)]),
    ("- [ ] a\n- [x] b\n\n- [ ] c\n", [(1, False), (2, True), (4, False)]),
    ("The number of windows in my house is\n14.  [ ] not a list\n", []),
    ("The number of windows in my house is\n1.  [ ] a list\n", [(2, False)]),
    ("- [ ] foo\n- [ ] bar\n+ [x] baz\n", [(1, False), (2, False), (3, True)]),
    ("-\tfoo\n\n  - [ ] tab nested\n", [(3, False)]),
    ("*\t[x] tab after marker\n", [(1, True)]),
    ("  - [ ] foo\n\n\tbar\n", [(1, False)]),
    ("- a\n  - [ ] b\n\n    c\n- [x] d\n", [(2, False), (5, True)]),
    ("* [ ] a\n*\n\n* [x] c\n", [(1, False), (4, True)]),
    # block quotes end lists; lazy continuation never opens a task
    ("- [ ] a\n> quote\n- [x] c\n", [(1, False), (3, True)]),
    ("> quote\n- [ ] after quote\n", [(2, False)]),
    ("- [ ] a\nlazy [x] text\n", [(1, False)]),
    # code hides tasks; fences end with their container
    ("```\n- [ ] in fence\n```\n- [x] out\n", [(4, True)]),
    ("- ```\n  - [ ] in fence\n- [ ] out\n", [(3, False)]),
    ("    - [ ] indented code\n- [x] real\n", [(2, True)]),
    ("   ```\n- [ ] unclosed fence at indent 3\n", []),
    ("``` a`b\n- [ ] backtick info: not a fence\n", [(2, False)]),
    ("~~~ a`b\n- [ ] tilde fence\n~~~\n", []),
    ("```\n- [ ] x\n   ```\n- [ ] closed by an indented fence\n", [(4, False)]),
    ("````\n- [ ] x\n```\n- [ ] short closer does not close\n", []),
    # HTML blocks
    ("<div>\n- [ ] in html\n\n- [x] after blank\n", [(4, True)]),
    ("<!-- c\n\n- [ ] still in comment\n-->\n- [ ] after\n", [(5, False)]),
    ("<script>\n\n- [ ] in script\n</script>\n- [ ] after\n", [(5, False)]),
    ("<span>\n- [ ] type 7\n\n- [x] after\n", [(4, True)]),
    ("para\n<span>\n- [ ] type 7 cannot interrupt a paragraph\n", [(3, False)]),
    ("<a href=\"x\"\n- [ ] not a complete tag\n", [(2, False)]),
    ("- <div>\n  - [ ] html in item\n- [ ] next item\n", [(3, False)]),
    ("<textarea>\n\n- [ ] in textarea\n</textarea>\n- [x] after\n", [(5, True)]),
    ("<!a\n- [ ] lowercase after <! is not HTML\n", [(2, False)]),
    ("<DIV>\n- [ ] in html\n", []),
    # GFM tables are not paragraphs: "2." may follow, "---" is a rule
    ("| a |\n|---|\n2. [ ] after a table\n", [(3, False)]),
    ("a | b\n--- | ---\nrow\n- [x] after rows\n", [(4, True)]),
    ("| a | b |\n|---|\n2. [ ] cell counts differ: no table\n", []),
    # headings and breaks around items
    ("# h\n- [ ] a\n## h2\n- [x] b\n", [(2, False), (4, True)]),
    ("- [ ] a\n***\n- [ ] b\n", [(1, False), (3, False)]),
    ("- [ ] a\n---\n", [(1, False)]),
    ("* [ ] a\nSet\n===\n", [(1, False)]),
]


@pytest.mark.parametrize(("markdown", "expected"), SPEC_STYLE)
def test_spec_style_examples(markdown: str, expected: list[tuple[int, bool]]) -> None:
    assert oracle_tasks(markdown) == expected
    assert gfm_lines(markdown) == expected
    assert gfm_lines(markdown.replace("\n", "\r\n")) == expected


# ---------------------------------------------------------------------------------------
# Documented deviations: we follow the spec, cmark-gfm does not

DEVIATIONS = [
    # (a) tasks in block quotes and callouts: github.com renders them, cmark-gfm does not
    ("> - [ ] quoted\n", [(1, False)], []),
    ("> [!todo]\n> - [x] callout\n", [(2, True)], []),
    # (a) a nested list on the same line
    ("- - [ ] nested\n", [(1, False)], []),
    ("1. - [x] nested\n", [(1, True)], []),
    # (a) a BOM on line 1
    ("\ufeff- [ ] after BOM\n", [(1, False)], []),
    # (b) "checked" is the box character, not any "[x]" later in the line
    ("- [ ] c [x] later\n", [(1, False)], [(1, True)]),
    # (c) a setext heading under an item: the first block is not a paragraph
    ("- [ ] foo\n  ---\n", [], [(1, False)]),
    ("- [ ] # Foo\n- [x] Bar\n  ---\n  baz\n", [(1, False)], [(1, False), (2, True)]),
    # (c) likewise a table as the item's first block
    ("- [ ] a | b\n  --- | ---\n", [], [(1, False)]),
    # (f) an item whose text is empty keeps "[ ]" as paragraph text; the next line continues
    # that paragraph ("2)" cannot interrupt it), while cmark-gfm consumes the box
    ("10. [ ] \n      2) [x] b\n", [(1, False)], [(1, False), (2, True)]),
    # (g) cmark-gfm hangs a checkbox on an enclosing item from a later lazy line
    ("* >[/] e\n      2)    [ ] a\n", [], [(1, False)]),
]


@pytest.mark.parametrize(("markdown", "ours", "theirs"), DEVIATIONS)
def test_documented_deviation(
    markdown: str, ours: list[tuple[int, bool]], theirs: list[tuple[int, bool]]
) -> None:
    assert gfm_lines(markdown) == ours
    assert oracle_tasks(markdown) == theirs


# ---------------------------------------------------------------------------------------
# Block quotes and callouts (obsidian): cmark-gfm cannot judge them, so check by
# metamorphosis: a quote's content is parsed like a document of its own.


def _quoted(text: str, prefix: str) -> str:
    lines = re.split(r"(\r\n|\r|\n)", text)
    return "".join(part if index % 2 else prefix + part for index, part in enumerate(lines))


@settings(max_examples=examples(200), deadline=None)
@given(documents().filter(lambda text: "\t" not in text), st.sampled_from(["> ", ">> ", "> > "]))
def test_quoted_document_has_the_same_tasks(text: str, prefix: str) -> None:
    plain = [(t.line, t.status, t.text) for t in parse_note(text.encode(), "t.md").tasks]
    quoted_note = parse_note(_quoted(text, prefix).encode(), "t.md")
    assert [(t.line, t.status, t.text) for t in quoted_note.tasks] == plain
    assert all(t.in_quote for t in quoted_note.tasks)
    callout = f"> [!todo] Tasks\n{_quoted(text, '> ')}"
    shifted = [(line + 1, status, body) for line, status, body in plain]
    assert [(t.line, t.status, t.text) for t in parse_note(callout.encode(), "t.md").tasks] == (
        shifted
    )


@settings(max_examples=examples(150), deadline=None)
@given(documents())
def test_flipping_a_status_byte_changes_exactly_that_task(text: str) -> None:
    data = text.encode()
    before = parse_note(data, "t.md").tasks
    for task in before:
        if task.status not in (" ", "x"):
            continue
        new = b"x" if task.status == " " else b" "
        flipped = data[:task.offset] + new + data[task.offset + 1:]
        after = parse_note(flipped, "t.md").tasks
        assert [(t.line, t.offset) for t in after] == [(t.line, t.offset) for t in before]
        changed = [(a.line, a.status) for a, b in zip(after, before, strict=True)
                   if a.status != b.status]
        assert changed == [(task.line, new.decode())]


# ---------------------------------------------------------------------------------------
# Headings (they make the section paths): without lists every heading is top level, so
# ours must be exactly cmark-gfm's.

_HEADING_TAG = re.compile(r'<h(\d) data-sourcepos="(\d+):')
_HEADING_LINE = st.sampled_from(
    ["#", "# a #", "#\ta", "  ## b ##  ", "Setext", "---", "===", "a", "  ===  ", "\\# no",
     "####### seven", "#5", "", "", "```", "~~~", "<div>", "    # code", "***", "text",
     "# a\\#", "#    ", "=", "--", "  -- ", "[x]: /url", "[x]: /url 'title'", "| a | b |",
     "|---|---|", "a | b", ":-", "> # quoted", "> text", "%%"]
)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(_HEADING_LINE, min_size=1, max_size=12).map("\n".join))
def test_top_level_headings_agree_with_cmark_gfm(text: str) -> None:
    html = markdown_to_html_with_extensions(
        text, options=Options.CMARK_OPT_SOURCEPOS,
        extensions=["table", "autolink", "tagfilter", "strikethrough", "tasklist"],
    )
    theirs = [(int(line), int(level)) for level, line in _HEADING_TAG.findall(html)]
    data = text.encode()
    # Headings inside block quotes are not sections: leave the quoted ones out of theirs.
    lines = split_lines(data)
    quoted = {n for n, (s, e) in enumerate(lines, start=1) if data[s:e].startswith(b">")}
    theirs = [(line, level) for line, level in theirs if line not in quoted]
    result = scan(data, split_lines(data), 1, obsidian=False, decode=bytes.decode)
    assert [(h.line, h.level) for h in result.headings] == theirs



@pytest.mark.parametrize(("text", "depth"), [
    ("- [ ] task\n-\n - [ ] task\n", 0),  # cmark-gfm: three items of one list
    ("- [ ] task\n -\n  - [ ] task\n", 0),
    ("- [ ] a\n-\n  - [ ] b\n", 1),  # indented to the empty item's content: its child
])
def test_a_line_after_an_empty_item_nests_as_cmark_nests_it(text: str, depth: int) -> None:
    data = text.encode()
    for fast in (True, False):
        tasks = scan(data, split_lines(data), 1, obsidian=False, decode=bytes.decode,
                     fast=fast).tasks
        assert [t.line for t in tasks] == [line for line, _ in oracle_tasks(text)]
        assert tasks[-1].depth == depth, fast
