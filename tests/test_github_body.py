"""The issue-body codec: render, parse back, edit one line, never touch text outside the block."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.sync.github.body import (
    MAX_BODY_CHARS,
    BlockTask,
    BodyTooLongError,
    arrange,
    check_size,
    has_marker,
    insert_task,
    parse_body,
    remove_task,
    render_block,
    set_task,
)

MARKER = "0123456789ab"

# Task text as a note holds it: one line, any printable characters, no surrounding spaces.
plain_texts = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                      max_size=40).map(lambda t: " ".join(t.split())).filter(bool)
# ... and the texts a random draw almost never makes: empty (`- [-] ` is a task), or the
# markup the block itself uses (a strike-through, an escape, a comment).
texts = st.one_of(
    plain_texts,
    st.just(""),
    st.builds(lambda a, b: f"{a}{b}", st.sampled_from(["~~", "\\", "(", "\\(", "<!--", "~"]),
              st.one_of(st.just(""), plain_texts, st.sampled_from(["~~", "\\", "-->"]))),
    plain_texts.map(lambda t: f"~~{t}~~"),
)
keys = st.one_of(
    st.text("0123456789abcdef", min_size=24, max_size=24),
    # A block id's key holds the note's path: a file name that is not valid UTF-8 reaches it
    # as lone surrogates (os.fsdecode), so surrogates are drawn too.
    st.builds(lambda n, b: f"block:{n}.md#^{b}",
              st.text(st.characters(blacklist_categories=("Cc",)), min_size=1, max_size=12)
              .filter(lambda t: t.strip() == t),
              st.text("abc-123", min_size=1, max_size=6)),
    st.builds(lambda i: f"id:{i}", st.text("abcdef-0123", min_size=1, max_size=8)),
)


@st.composite
def task_lists(draw: st.DrawFn) -> list[BlockTask]:
    count = draw(st.integers(0, 8))
    tasks: list[BlockTask] = []
    used: set[str] = set()
    depth = 0
    for _ in range(count):
        key = draw(keys.filter(lambda k: k not in used))
        used.add(key)
        depth = draw(st.integers(0, depth + 1)) if tasks else 0
        cancelled = draw(st.booleans())
        status = "x" if cancelled else draw(st.sampled_from([" ", "x"]))
        tasks.append(BlockTask(key, status, draw(texts), depth, cancelled))
    return tasks


surrounding = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) \
    .filter(lambda t: "vaultmap:" not in t)


@pytest.mark.slow
@settings(max_examples=examples(150), deadline=None)
@given(task_lists(), surrounding, surrounding, st.booleans())
def test_a_rendered_block_parses_back_to_the_same_tasks(tasks: list[BlockTask], before: str,
                                                        after: str, crlf: bool) -> None:
    block = render_block(MARKER, tasks).rstrip("\n")
    body = f"{before}\n{block}\n{after}"
    if crlf:  # as the web editor stores a body it saved
        body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    parsed = parse_body(body)
    assert parsed is not None
    assert parsed.marker == MARKER
    got = parsed.tasks()
    assert [(t.key, t.status, t.text, t.depth, t.cancelled) for t in got] == \
        [(t.key, t.status, t.text, t.depth, t.cancelled) for t in tasks]
    # The surroundings are carried over exactly, whatever their line endings, and a body
    # read and written without a change is the same text.
    assert parsed.render() == body
    assert parsed.before == body[: len(parsed.before)]
    assert body.endswith(parsed.after)


@pytest.mark.slow
@settings(max_examples=examples(100), deadline=None)
@given(task_lists().filter(lambda t: len(t) >= 1), surrounding, surrounding, st.data())
def test_a_status_edit_changes_one_line_and_nothing_outside(
        tasks: list[BlockTask], before: str, after: str, data: st.DataObject) -> None:
    body = f"{before}\r\n{render_block(MARKER, tasks).rstrip()}\r\n{after}"
    parsed = parse_body(body)
    assert parsed is not None
    target = data.draw(st.sampled_from(tasks))
    flipped = BlockTask(target.key, "x" if target.status == " " else " ", target.text)
    edited = set_task(parsed, target.key, flipped)
    assert edited is not None
    new_body = edited.render()
    assert new_body.startswith(parsed.before)
    assert new_body.endswith(parsed.after)
    again = parse_body(new_body)
    assert again is not None
    changed = [(a, b) for a, b in zip(parsed.tasks(), again.tasks(), strict=True) if a != b]
    assert len(changed) == 1
    assert changed[0][1].status == flipped.status
    assert changed[0][1].depth == target.depth  # indentation kept


def test_text_outside_the_block_is_never_touched() -> None:
    person = "Tracking issue.\r\n\r\n- [ ] a box a person typed  \r\n"
    tail = "\r\n\r\nThanks!  \r\n"
    body = person + render_block(MARKER, [BlockTask("k1", " ", "Write the parser")]) \
        .rstrip("\n") + tail
    parsed = parse_body(body)
    assert parsed is not None
    assert [t.key for t in parsed.tasks()] == ["k1"]  # the person's box is not ours
    edited = set_task(parsed, "k1", BlockTask("k1", "x", "Write the parser"))
    assert edited is not None
    out = edited.render()
    assert out.startswith(person) and out.endswith(tail)
    assert "- [x] Write the parser <!-- vm:k1 -->" in out


def test_cancelled_is_a_struck_tick_and_reads_back_as_cancelled() -> None:
    body = render_block(MARKER, [BlockTask("k", "-", "Drop Perl", cancelled=True)])
    assert "- [x] ~~Drop Perl~~ <!-- vm:k -->" in body
    parsed = parse_body(body)
    assert parsed is not None
    assert parsed.tasks()[0].cancelled


def test_text_that_would_open_a_comment_or_start_with_a_parenthesis_is_escaped() -> None:
    body = render_block(MARKER, [BlockTask("k", " ", "(optional) see <!-- here")])
    assert "\\(optional) see \\<!-- here" in body
    parsed = parse_body(body)
    assert parsed is not None
    assert parsed.tasks()[0].text == "(optional) see <!-- here"


@pytest.mark.parametrize("text", ["\\(", "\\", "\\\\(", "\\<!-- x", "a\\<!--", "\\*", "(\\"])
def test_text_that_starts_with_a_backslash_reads_back_as_written(text: str) -> None:
    # A task written as `\(` used to come back as `(`: the escape of a leading
    # parenthesis was not reversible when the text itself began with a backslash.
    parsed = parse_body(render_block(MARKER, [BlockTask("k", " ", text)]))
    assert parsed is not None
    assert parsed.tasks()[0].text == text


def test_keys_with_spaces_and_dashes_survive_the_comment() -> None:
    key = "block:Road map--2026.md#^week-1"
    body = render_block(MARKER, [BlockTask(key, " ", "Plan")])
    assert "--2026" not in body and " map" not in body.split("vm:")[1]
    parsed = parse_body(body)
    assert parsed is not None
    assert parsed.tasks()[0].key == key


def test_insert_goes_after_the_previous_task_and_its_children() -> None:
    tasks = [BlockTask("a", " ", "A"), BlockTask("a1", " ", "A1", 1), BlockTask("b", " ", "B")]
    parsed = parse_body(render_block(MARKER, tasks))
    assert parsed is not None
    added = insert_task(parsed, BlockTask("n", " ", "New", 0), "a")
    assert [t.key for t in added.tasks()] == ["a", "a1", "n", "b"]
    first = insert_task(parsed, BlockTask("f", " ", "First", 3), None)
    assert first.tasks()[0].key == "f" and first.tasks()[0].depth == 0


def test_remove_leaves_every_other_line_as_it_was() -> None:
    tasks = [BlockTask("z", " ", "Z"), BlockTask("a", " ", "A"), BlockTask("a1", " ", "A1", 1)]
    parsed = parse_body(render_block(MARKER, tasks))
    assert parsed is not None
    left = remove_task(parsed, "a")
    # As in the note: the child stays indented and now belongs to the item above.
    assert left.lines == (parsed.lines[0], parsed.lines[2])


def test_a_half_block_or_none_is_no_block() -> None:
    assert parse_body(None) is None
    assert parse_body("just text") is None
    assert parse_body(f"<!-- vaultmap:begin id={MARKER} -->\n- [ ] x\n") is None
    assert has_marker(render_block(MARKER, []), MARKER)
    assert not has_marker(render_block(MARKER, []), "ffffffffffff")


def test_a_body_over_the_limit_is_refused_before_sending() -> None:
    check_size("x" * MAX_BODY_CHARS, "Roadmap.md")
    with pytest.raises(BodyTooLongError, match="65,536"):
        check_size("x" * (MAX_BODY_CHARS + 1), "Roadmap.md")
    # An astral character may count twice: the stricter count is used.
    with pytest.raises(BodyTooLongError):
        check_size("😀" * (MAX_BODY_CHARS // 2 + 1), "Roadmap.md")


def test_a_reworded_line_keeps_its_row_id() -> None:
    parsed = parse_body(render_block(MARKER, [BlockTask("old", " ", "Plan")]))
    assert parsed is not None
    edited = set_task(parsed, "old", BlockTask("new", " ", "Plan well", row="old"))
    assert edited is not None
    (task,) = edited.tasks()
    assert (task.key, task.row_id, task.text) == ("new", "old", "Plan well")
    again = set_task(edited, "old", BlockTask("newer", "x", "Plan", row="old"))
    assert again is not None
    assert [(t.key, t.row_id) for t in again.tasks()] == [("newer", "old")]


def test_arrange_moves_lines_to_the_notes_order_and_nesting() -> None:
    tasks = [BlockTask("a", " ", "A"), BlockTask("b", "x", "B", 1), BlockTask("c", " ", "C", 1),
             BlockTask("d", " ", "D")]
    parsed = parse_body("Intro\r\n" + render_block(MARKER, tasks).replace("\n", "\r\n")
                        + "Outro")
    assert parsed is not None
    # A line typed on github.com travels with the task above it.
    typed = parsed.lines[2] + "  "  # trailing spaces: kept byte for byte
    parsed = parsed.__class__(parsed.marker, parsed.before,
                              (*parsed.lines[:2], typed, "  - [ ] typed there",
                               *parsed.lines[3:]), parsed.after, parsed.newline)
    same = arrange(parsed, ["a", "b", "c", "d"], {"a": 0, "b": 1, "c": 1, "d": 0})
    assert same is parsed
    moved = arrange(parsed, ["a", "b", "d", "c"], {"a": 0, "b": 1, "d": 0, "c": 1})
    assert [(t.key, t.depth) for t in moved.tasks()] == [("a", 0), ("b", 1), ("d", 0), ("c", 1)]
    assert moved.keyless_tasks() == ["  - [ ] typed there"]
    assert moved.lines.index("  - [ ] typed there") == moved.lines.index(typed) + 1
    assert moved.render().startswith("Intro\r\n") and moved.render().endswith("Outro")
    # Never deeper than one below the line before; applying it again changes nothing.
    deep = arrange(parsed, ["a", "b", "c", "d"], {"a": 3, "b": 5, "c": 1, "d": 0})
    assert [t.depth for t in deep.tasks()] == [0, 1, 1, 0]
    assert arrange(deep, ["a", "b", "c", "d"], {"a": 3, "b": 5, "c": 1, "d": 0}) is deep
    # Keys the order does not name (the note no longer has them) stay where they ride.
    assert arrange(parsed, [], {}) is parsed


@pytest.mark.parametrize(("text", "status", "cancelled"), [
    ("~~old plan~~", "x", False),  # a done task whose text is struck in the note itself
    ("~~old plan~~", " ", False),
    ("~~", "x", False),
    ("~~~~", "x", False),
    ("\\~~a~~", "x", False),
    ("", "x", True),  # `- [-] ` with no text is a cancelled task too
    ("", "x", False),
    ("~~", "x", True),
    ("~", "x", True),
    ("~~gone~~", "x", True),
    ("trailing \\", "x", True),
])
def test_strike_through_reads_back_only_for_a_cancelled_task(text: str, status: str,
                                                             cancelled: bool) -> None:
    # A done task whose text was `~~old plan~~` came back cancelled (the next sync would turn
    # its `[x]` into `[-]` in the note), and a cancelled task with no text came back done.
    parsed = parse_body(render_block(MARKER, [BlockTask("k", status, text, cancelled=cancelled)]))
    assert parsed is not None
    (task,) = parsed.tasks()
    assert (task.text, task.status, task.cancelled) == (text, status, cancelled)


@pytest.mark.parametrize("key", ["block:caf\udce9.md#^abc", "block:\udcff\udcfe/n.md#^x-1",
                                 "block:\ud800.md#^b", "id:a-b", "block:100%25 done.md#^c"])
def test_a_key_with_a_lone_surrogate_or_a_percent_reads_back_as_written(key: str) -> None:
    # A block id in a note whose file name is not valid UTF-8 gives a key holding lone
    # surrogates: rendering it raised UnicodeEncodeError.
    parsed = parse_body(render_block(MARKER, [BlockTask(key, " ", "t", row=key + "0")]))
    assert parsed is not None
    (task,) = parsed.tasks()
    assert (task.key, task.row) == (key, key + "0")
    assert render_block(MARKER, [BlockTask(key, " ", "t")]).split("vm:")[1].isascii()


@pytest.mark.parametrize("text", [
    "ends in a backslash \\", "\\", "a -->", "-->", "<!-- vm:other -->", "a <!-- vm:k2 --> b",
    "x | y", "[ ] nested box", "]", "# heading-like", "^block-like ^id", "nul\x00inside",
    "tab\tinside", "line\u2028separator", "crlf\r\ninside", "a" * 5000, "~", "~~x", "x~~",
    "(", "\\(", "\\~~x~~", "- [ ] fake task", "`code <!-- x`",
])
@pytest.mark.parametrize("cancelled", [False, True])
def test_edge_texts_read_back_as_their_normalised_form(text: str, cancelled: bool) -> None:
    # A body line holds one line: runs of blanks (tab, line breaks, U+2028) become one space;
    # everything else reads back exactly.
    task = BlockTask("k", "x", text, cancelled=cancelled)
    parsed = parse_body(render_block(MARKER, [task]))
    assert parsed is not None
    (got,) = parsed.tasks()
    assert (got.text, got.cancelled, got.key) == (" ".join(text.split()), cancelled, "k")
