"""The parser's fast paths give exactly the answers of the plain forms they replace.

Each reference below is the straightforward form the fast path stands for (the code as first
written). Keys are persisted by sync, so ``task_key`` and ``normalise_text`` must never drift.
"""

from __future__ import annotations

import gc
import hashlib
import re
import sys
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.model import (
    DEFAULT_STATUS_MAP,
    Flavor,
    Heading,
    StatusMap,
    StatusType,
    Task,
    TaskFields,
    hashed_key,
    key_prefix,
    new_heading,
    new_task,
    new_task_fields,
    normalise_text,
    task_key,
)
from vaultmap.parse import (
    ParseCache,
    _no_task_possible,
    detect_encoding,
    parse_note,
    split_lines,
)
from vaultmap.parse.blocks import scan
from vaultmap.parse.fields import _parse_fields, parse_task_text

_WHITESPACE = re.compile(r"\s+")


def reference_normalise(text: str) -> str:
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def reference_key(path: str, section: tuple[str, ...], description: str, ordinal: int,
                  explicit_id: str | None = None, block_id: str | None = None) -> str:
    if explicit_id:
        return f"id:{explicit_id}"
    if block_id:
        return f"block:{path}#^{block_id}"
    material = "\x1f".join((path, "\x1e".join(section), reference_normalise(description),
                            str(ordinal)))
    digest = hashlib.blake2b(material.encode("utf-8", "surrogatepass"), digest_size=10)
    return "k:" + digest.hexdigest()


# Text that exercises NFKC (ligatures, full-width forms, combining marks), case folding (ß,
# final sigma, Kelvin sign), every kind of whitespace and lone surrogates.
_TRICKY = "ﬁＡＢｃé\u0301ßΣςKÅǅⅫ²İ" + "".join(
    chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
tricky_text = st.text(alphabet=st.sampled_from(_TRICKY) | st.characters(), max_size=40)


@pytest.mark.slow
def test_every_whitespace_character_normalises_as_the_regex_did() -> None:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        text = f"a{char}{char}b {char}"
        assert normalise_text(text) == reference_normalise(text), hex(code)


@settings(max_examples=examples(500))
@given(tricky_text)
def test_normalise_text_matches_the_reference(text: str) -> None:
    assert normalise_text(text) == reference_normalise(text)


@settings(max_examples=examples(300), deadline=None)  # the first call may import the repair code
@given(st.text(max_size=20), st.lists(st.text(max_size=10), max_size=3), tricky_text,
       st.integers(0, 1000), st.none() | st.text(max_size=5), st.none() | st.text(max_size=5))
def test_task_key_matches_the_reference(path: str, section: list[str], description: str,
                                        ordinal: int, explicit_id: str | None,
                                        block_id: str | None) -> None:
    expected = reference_key(path, tuple(section), description, ordinal, explicit_id, block_id)
    assert task_key(path=path, section=tuple(section), description=description, ordinal=ordinal,
                    explicit_id=explicit_id, block_id=block_id) == expected
    if not explicit_id and not block_id:
        fast = hashed_key(key_prefix(path, tuple(section)), normalise_text(description), ordinal)
        assert fast == expected


def test_keys_of_text_with_lone_surrogates_match_the_reference() -> None:
    # A path decoded with surrogateescape carries lone surrogates: hashed as surrogatepass.
    for path, description in (("caf\udce9.md", "x"), ("a.md", "half \ud83d pair"),
                              ("\ud83d", "\ude00")):
        assert task_key(path=path, section=("\udcff",), description=description, ordinal=1) \
            == reference_key(path, ("\udcff",), description, 1)


def test_known_key_is_unchanged() -> None:
    # Pinned: a persisted key must read the same in every later version.
    key = task_key(path="Projects/Plan.md", section=("Plan", "Week 1"),
                   description="Write  the ﬁrst DRAFT ", ordinal=2)
    assert key == reference_key("Projects/Plan.md", ("Plan", "Week 1"),
                                "Write  the ﬁrst DRAFT ", 2)


def test_builders_make_equal_objects() -> None:
    field_values = TaskFields(description="d", tags=("#a",), due="2024-01-01", id="x")
    assert new_task_fields(*(getattr(field_values, f) for f in TaskFields.__struct_fields__)) \
        == field_values
    task = Task(path="a.md", line=3, offset=9, status="x", type=StatusType.DONE, text="t",
                fields=field_values, section=("H",), depth=1, parent_line=2, key="id:x",
                status_len=1, in_quote=True)
    built = new_task(*(getattr(task, f) for f in Task.__struct_fields__))
    assert type(built) is Task
    assert built == task and repr(built) == repr(task)
    names = TaskFields.__struct_fields__
    built_fields = new_task_fields(*(getattr(field_values, f) for f in names))
    assert type(built_fields) is TaskFields and built_fields == field_values
    with pytest.raises(AttributeError):  # still frozen
        built.line = 4  # type: ignore[misc]
    with pytest.raises(AttributeError):
        built_fields.due = ""  # type: ignore[misc]
    heading = new_heading(2, "Plan", 7)
    assert type(heading) is Heading and heading == Heading(2, "Plan", 7)
    assert repr(heading) == repr(Heading(2, "Plan", 7))


def reference_tasks(data: bytes, path: str, flavor: Flavor, statuses: StatusMap) -> list[Task]:
    """Tasks built the plain way from the scanner's raw tasks (the parser's first form)."""
    encoding = detect_encoding(data)
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    # The notes tested here have no front matter: the scan starts at line 1.
    result = scan(data, split_lines(data), 1, obsidian=flavor is Flavor.OBSIDIAN,
                  decode=lambda raw: raw.decode(codec, "replace"))
    tasks: list[Task] = []
    seen: dict[tuple[tuple[str, ...], str], int] = {}
    for raw in result.tasks:
        if raw.cancelled:
            continue
        status = data[raw.status_offset:raw.status_offset + raw.status_len].decode(codec,
                                                                                  "replace")
        text = data[raw.text_start:raw.text_end].decode(codec, "replace")
        task_fields = parse_task_text(text)
        identity = (raw.section, reference_normalise(task_fields.description))
        ordinal = seen.get(identity, 0)
        seen[identity] = ordinal + 1
        tasks.append(Task(
            path=path, line=raw.line, offset=raw.status_offset, status=status,
            type=statuses.type_of(status), text=text, fields=task_fields, section=raw.section,
            depth=raw.depth, parent_line=raw.parent_line,
            key=reference_key(path, raw.section, task_fields.description, ordinal,
                              task_fields.id, task_fields.block_id),
            status_len=raw.status_len, in_quote=raw.in_quote))
    return tasks


_LINE_PARTS = st.sampled_from([
    "- [ ] ", "- [x] ", "* [X] ", "+ [/] ", "1. [-] ", "  - [?] ", "    - [ ] ", "\t- [ ] ",
    "> - [ ] ", "- [é] ", "- [😀] ", "# ", "## Week ", "```", "", "text ", "same task",
    "Same  TASK", "ＳＡＭＥ task", "#tag ", "[[Link|alias]] ", "📅 2024-01-02 ", "⏫ ",
    "🆔 abc ", "^blk-1", "[due:: 2024-01-01] ", "ﬁle ", "\u00a0", "\u3000", "\x1c",
])
_NOTE = st.lists(st.lists(_LINE_PARTS, max_size=6).map("".join), max_size=25)


@settings(max_examples=examples(300), deadline=None)
@given(_NOTE, st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from(list(Flavor)),
       st.booleans())
def test_tasks_match_the_plain_construction(lines: list[str], newline: str, flavor: Flavor,
                                            latin1: bool) -> None:
    text = newline.join(lines)
    data = text.encode("latin-1", "replace") if latin1 else text.encode("utf-8")
    statuses = StatusMap({" ": StatusType.TODO, "x": StatusType.DONE, "é": StatusType.DOING})
    for status_map in (DEFAULT_STATUS_MAP, statuses):
        note = parse_note(data, "n.md", flavor=flavor, statuses=status_map)
        assert list(note.tasks) == reference_tasks(data, "n.md", flavor, status_map)


@pytest.mark.slow
@settings(max_examples=examples(200), deadline=None)
@given(st.lists(_NOTE, min_size=1, max_size=4), st.sampled_from(list(Flavor)))
def test_a_shared_parse_cache_changes_no_answer(versions: list[list[str]],
                                                flavor: Flavor) -> None:
    # The merge parses several versions of one note (and of other paths, in another merge)
    # through one cache: every note must be what a parse without it gives.
    cache = ParseCache()
    for index, lines in enumerate([*versions, *versions]):
        data = "\n".join(lines).encode("utf-8")
        path = "n.md" if index % 3 else "other.md"
        assert parse_note(data, path, flavor=flavor, cache=cache) == \
            parse_note(data, path, flavor=flavor)


_FIELD_TEXT = st.lists(st.sampled_from([
    "plain", "words ", " ", "\t", "#tag", "#a/b", "^blk", " ^id-1", "[[Note|alias]]", "[[x]]",
    "📅 2024-01-02", "⏫", "🔺", "✅ 2023-12-32", "⏳2024-02-02", "🔁 every week", "🆔 abc",
    "⛔ abc,def", "🏁 keep", "[due:: 2024-01-01]", "(priority:: high)", "[k:: v]", "::", "é",
    "\ufe0f", "ﬁ", "\u00a0", "(", ")", "[", "]", ",",
]), max_size=10).map("".join)


@settings(max_examples=examples(500))
@given(_FIELD_TEXT | st.text(max_size=30))
def test_field_fast_paths_match_the_full_grammar(text: str) -> None:
    # The fast path (no field can be there) and the positional construction give what the
    # full grammar gives, and a plain keyword-built TaskFields equals it.
    found = parse_task_text(text)
    assert found == _parse_fields(text)
    rebuilt = TaskFields(**{f: getattr(found, f) for f in TaskFields.__struct_fields__})
    assert rebuilt == found and repr(rebuilt) == repr(found)


_INDENT = st.sampled_from(["", " ", "   ", "\t", "  \t", "> ", ">  ", "> - ", "- "])
_MARKER = st.sampled_from(["- ", "- ", "* ", "+ ", "1. ", "2) ", "-  ", "-\t", "-", ""])
_BODY = st.sampled_from([
    "[ ] task", "[x] done", "[X] ", "[/] doing", "[-] no", "[?] q", "[ ]", "[é] accent",
    "[😀] emoji", "[] none", "[ ]x", "[ ] ", "[ ]\tt", "[]] odd", "plain", "text", "# Head",
    "## Sub #", "===", "---", "***", "", "```", "~~~", "````", "``` x", "```` \t",
    " ```", "~~~~~", "code", "| a | b |", "| --- | --- |",
    "<div>", "</div>", "%%", "$$", "[ref]: /url", "[!note] callout", ">",
])


def _nest(width: int, steps: list[tuple[int, str, str, str]]) -> list[str]:
    """Lines whose nesting level walks up and down (deep lists happen), with odd indents."""
    lines = []
    level = 0
    for change, odd_indent, marker, body in steps:
        level = max(0, level + change)
        lines.append(" " * (level * width) + odd_indent + marker + body)
    return lines


_STEP = st.tuples(st.sampled_from([-2, -1, 0, 1, 1, 1]),
                  st.sampled_from(["", "", "", "", "", "", "", "", ""]) | _INDENT,
                  st.sampled_from(["- ", "- ", "- ", "- ", "* "]) | _MARKER,
                  st.sampled_from(["[ ] task", "[x] done", "[/] doing"]) | _BODY)
_NESTED = st.builds(_nest, st.sampled_from([2, 3, 4]), st.lists(_STEP, max_size=30))
# Top-level blocks (fences, tables, quotes, headings) between task lines.
_FLAT = st.lists(st.sampled_from([
    "```", "``` x", "~~~", "````", " ```", "- [ ] task", "  - [x] sub", "> - [ ] quoted", "> q",
    "", "| a | b |", "| --- | --- |", "|-|-|", "text", "# H", "===", "<div>", "    - [ ] code?",
]), max_size=30)
_MARKDOWN = _NESTED | _FLAT


@pytest.mark.slow
@settings(max_examples=examples(1000), deadline=None)
@given(_MARKDOWN, st.booleans(), st.booleans())
@example(["| a | b |", "| --- | --- |", "===", "- [ ] row or task"], True, False)
@example(["```", "``` x", "- [ ] code", "```", "- [ ] task"], True, False)
@example(["> - [ ] q", "", "- [ ] t", "", "| a |", "|-|", "", "  - [ ] u"], False, False)
@example(["- [ ] task", "-", " - [ ] task"], False, False)  # an empty item's content column
def test_scanner_fast_path_matches_the_faithful_port(lines: list[str], obsidian: bool,
                                                     bom: bool) -> None:
    data = ("\ufeff" if bom else "").encode() + "\n".join(lines).encode("utf-8")
    spans = split_lines(data)
    fast = scan(data, spans, 1, obsidian=obsidian, decode=bytes.decode)
    faithful = scan(data, spans, 1, obsidian=obsidian, decode=bytes.decode, fast=False)
    assert fast == faithful


def test_parse_note_leaves_the_garbage_collector_as_it_found_it() -> None:
    data = b"# T\n- [ ] one\n  - [x] two\n"
    assert gc.isenabled()
    assert len(parse_note(data, "n.md").tasks) == 2
    assert gc.isenabled()
    with pytest.raises(AttributeError):  # a caller's bug: the collector is still restored
        parse_note(None, "n.md")  # type: ignore[arg-type]
    assert gc.isenabled()
    gc.disable()
    try:
        assert len(parse_note(data, "n.md").tasks) == 2
        assert not gc.isenabled()
    finally:
        gc.enable()



@pytest.mark.slow
@settings(max_examples=examples(400), deadline=None)
@given(_MARKDOWN, st.booleans())
def test_prefilter_skips_only_notes_without_tasks(lines: list[str], obsidian: bool) -> None:
    data = "\n".join(lines).encode("utf-8")
    if _no_task_possible(data, 0):
        assert scan(data, split_lines(data), 1, obsidian=obsidian, decode=bytes.decode).tasks == []
