"""The parser: exact byte positions, structure, encodings, flavours, front matter, robustness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.model import Flavor, Note, StatusType, TaskFields
from vaultmap.parse import detect_encoding, parse_note, split_lines


def assert_positions(data: bytes, note: Note) -> None:
    """Every task's offset is the status between '[' and ']' on its reported line."""
    lines = split_lines(data)
    for task in note.tasks:
        start, end = lines[task.line - 1]
        assert start < task.offset < end
        assert data[task.offset - 1:task.offset] == b"["
        status = data[task.offset:task.offset + task.status_len]
        assert data[task.offset + task.status_len:task.offset + task.status_len + 1] == b"]"
        assert status.decode(note.encoding if note.encoding != "utf-8-sig" else "utf-8") == (
            task.status
        )


def tasks_of(text: str | bytes, flavor: Flavor = Flavor.OBSIDIAN) -> list[tuple[int, str, str]]:
    data = text.encode() if isinstance(text, str) else text
    note = parse_note(data, "n.md", flavor=flavor)
    assert_positions(data, note)
    return [(t.line, t.status, t.text) for t in note.tasks]


def test_simple_tasks_offsets_and_types() -> None:
    data = b"# Plan\n- [ ] write\n- [x] done\n* [/] half\n1. [-] dropped\n"
    note = parse_note(data, "plan.md")
    assert [(t.line, t.status, t.type) for t in note.tasks] == [
        (2, " ", StatusType.TODO), (3, "x", StatusType.DONE),
        (4, "/", StatusType.DOING), (5, "-", StatusType.CANCELLED),
    ]
    assert note.tasks[0].offset == data.index(b"[ ]") + 1
    assert note.tasks[0].text == "write"
    assert note.tasks[0].section == ("Plan",)
    assert note.size == len(data)
    assert len(note.sha256) == 64
    assert_positions(data, note)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_line_endings(eol: bytes) -> None:
    data = eol.join([b"# A", b"", b"- [ ] one", b"  - [x] two", b"", b"text", b"- [ ] three"])
    note = parse_note(data, "n.md")
    assert [(t.line, t.status) for t in note.tasks] == [(3, " "), (4, "x"), (7, " ")]
    assert_positions(data, note)


def test_mixed_line_endings() -> None:
    data = b"- [ ] a\r\n- [x] b\r- [ ] c\n\r\n- [ ] d"
    note = parse_note(data, "n.md")
    assert [t.line for t in note.tasks] == [1, 2, 3, 5]
    assert_positions(data, note)


def test_bom_on_first_line() -> None:
    data = b"\xef\xbb\xbf- [ ] first\n- [x] second\n"
    note = parse_note(data, "n.md")
    assert note.encoding == "utf-8-sig"
    assert [(t.line, t.offset) for t in note.tasks] == [(1, 6), (2, 18)]
    assert_positions(data, note)


def test_cp1252_file_is_read_and_decoded_for_display() -> None:
    data = "# Café\n- [ ] réviser le thème\n- [x] déjà fait\n".encode("cp1252")
    note = parse_note(data, "fr.md")
    assert note.encoding == "cp1252"
    assert [t.text for t in note.tasks] == ["réviser le thème", "déjà fait"]
    assert note.tasks[0].section == ("Café",)
    assert_positions(data, note)


def test_stray_bytes_in_utf8_text_keep_offsets() -> None:
    # UTF-8 text with one stray byte (0x81 is undefined in cp1252 too): latin-1 display.
    data = "- [ ] naïve\n".encode() + b"- [ ] bad \x81 byte\n- [x] after\n"
    note = parse_note(data, "n.md")
    assert note.encoding == "latin-1"
    assert [t.line for t in note.tasks] == [1, 2, 3]
    assert_positions(data, note)


def test_mojibake_utf8_is_kept_as_written() -> None:
    # "Ã©" is what "é" looks like after a wrong decode: it is valid UTF-8 and stays as is.
    data = "- [ ] cafÃ© list\n".encode()
    note = parse_note(data, "n.md")
    assert note.encoding == "utf-8"
    assert note.tasks[0].text == "cafÃ© list"


def test_detect_encoding() -> None:
    assert detect_encoding(b"plain") == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfx") == "utf-8-sig"
    assert detect_encoding("é".encode("cp1252")) == "cp1252"


def test_multibyte_status_in_obsidian() -> None:
    data = "- [✓] ticked\n- [é] accent\n".encode()
    note = parse_note(data, "n.md")
    assert [(t.status, t.status_len) for t in note.tasks] == [("✓", 3), ("é", 2)]
    assert note.tasks[0].type is StatusType.OTHER
    assert_positions(data, note)


def test_gfm_accepts_only_space_x_and_capital_x() -> None:
    text = "- [ ] a\n- [x] b\n- [X] c\n- [/] d\n- [ ]\n- [ ]\te\n"
    assert [(line, s) for line, s, _ in tasks_of(text, Flavor.GFM)] == [
        (1, " "), (2, "x"), (3, "X"), (6, " ")
    ]
    assert [line for line, _, _ in tasks_of(text)] == [1, 2, 3, 4, 5, 6]


def test_not_tasks() -> None:
    text = (
        "```\n- [ ] fenced\n```\n"
        "~~~~\n- [ ] tilde\n~~~\n- [ ] still fenced\n~~~~\n"
        "\n    - [ ] indented code\n\n"
        "<div>\n- [ ] html block\n</div>\n\n"
        "<!--\n- [ ] comment\n-->\n"
        "- [x]no space\n"
        "- text [ ] later\n"
        "-\n  [ ] box on the next line\n"
        "[ ] no marker\n"
        "- [ ] real\n"
    )
    assert tasks_of(text) == [(24, " ", "real")]


def test_unclosed_fence_hides_the_rest() -> None:
    assert tasks_of("- [ ] a\n```\n- [ ] b\n- [ ] c\n") == [(1, " ", "a")]


def test_quotes_and_callouts_in_obsidian_only() -> None:
    text = "> [!todo] Week\n> - [ ] in callout\n> > - [x] deeper\n>- [ ] tight\n"
    note = parse_note(text.encode(), "n.md")
    assert [(t.line, t.in_quote) for t in note.tasks] == [(2, True), (3, True), (4, True)]
    assert parse_note(text.encode(), "n.md", flavor=Flavor.GFM).tasks != ()  # spec: in quotes
    assert_positions(text.encode(), note)


def test_callout_header_is_not_a_paragraph_in_obsidian() -> None:
    text = "> [!todo]- Week 2\n> 2) [ ] numbered from two\n> ---\n> - [x] after a rule\n"
    assert [(line, status) for line, status, _ in tasks_of(text)] == [(2, " "), (4, "x")]
    # CommonMark (gfm): the header line is a paragraph that "2)" cannot interrupt.
    assert [line for line, _, _ in tasks_of(text, Flavor.GFM)] == [4]


def test_obsidian_comments_and_math_hide_tasks() -> None:
    text = (
        "%%\n- [ ] hidden in comment\n%%\n"
        "- [ ] visible %% inline comment %%\n"
        "$$\n- [ ] in math\n$$\n"
        "- [ ] after\n"
    )
    assert [line for line, _, _ in tasks_of(text)] == [4, 8]
    assert [line for line, _, _ in tasks_of(text, Flavor.GFM)] == [2, 4, 6, 8]


def test_obsidian_delimiters_inside_code_spans_do_not_hide() -> None:
    text = "Type `%%` to start a comment and `$$` for math.\n\n- [ ] still a task\n"
    assert [line for line, _, _ in tasks_of(text)] == [3]


def test_heading_inside_obsidian_comment_is_not_a_section() -> None:
    note = parse_note(b"# A\n%%\n# Hidden\n%%\n- [ ] t\n", "n.md")
    assert [h.text for h in note.headings] == ["A"]
    assert note.tasks[0].section == ("A",)


def test_headings_atx_setext_and_sections() -> None:
    text = (
        "# Month 1\n"
        "## Week 1 ##\n- [ ] a\n\n"
        "Week 2\n------\n- [ ] b\n\n"
        "Top\n===\n- [ ] c\n"
        "- item\n  # inside item is no section\n  - [ ] d\n"
        "> # quoted heading\n- [ ] e\n"
    )
    note = parse_note(text.encode(), "n.md")
    assert [(h.level, h.text, h.line) for h in note.headings] == [
        (1, "Month 1", 1), (2, "Week 1", 2), (2, "Week 2", 5), (1, "Top", 9)
    ]
    assert [t.section for t in note.tasks] == [
        ("Month 1", "Week 1"), ("Month 1", "Week 2"), ("Top",), ("Top",), ("Top",)
    ]


def test_tables_and_link_definitions_do_not_make_headings() -> None:
    text = (
        "# Top\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n---\n- [ ] under top\n\n"
        "[ref]: https://example.com 'title'\n===\n- [ ] still under top\n"
    )
    note = parse_note(text.encode(), "n.md")
    assert [h.text for h in note.headings] == ["Top"]
    assert [t.section for t in note.tasks] == [("Top",), ("Top",)]


def test_setext_heading_under_item_is_not_a_task() -> None:
    # The item's first block is a heading, not a paragraph (spec); cmark-gfm says task.
    assert tasks_of("- [ ] foo\n  ---\n- [ ] bar\n") == [(3, " ", "bar")]


def test_lazy_line_is_never_a_setext_underline() -> None:
    # mistune's bug: '===' under a lazy continuation line made the task disappear.
    assert tasks_of("* [ ] a\nSet\n===\n") == [(1, " ", "a")]


def test_parent_and_depth() -> None:
    text = (
        "- [ ] parent\n"
        "  - [ ] child\n"
        "    - plain item\n"
        "      - [x] grandchild\n"
        "- [ ] second top\n"
        "\t- [ ] tab child\n"
        "1. ordered\n"
        "   1. [ ] under ordered\n"
    )
    note = parse_note(text.encode(), "n.md")
    assert [(t.line, t.depth, t.parent_line) for t in note.tasks] == [
        (1, 0, None), (2, 1, 1), (4, 3, 3), (5, 0, None), (6, 1, 5), (8, 1, 7)
    ]


def test_same_line_nesting_is_a_task() -> None:
    note = parse_note(b"- - [ ] nested\n1. - [x] also\n", "n.md", flavor=Flavor.GFM)
    assert [(t.line, t.depth, t.parent_line) for t in note.tasks] == [(1, 1, 1), (2, 1, 2)]


def test_front_matter_tags_and_never_tasks() -> None:
    data = (
        b"---\ntitle: Plan\ntags: [work, '#deep']\ntodo: |\n  - [ ] not a task\n---\n"
        b"- [ ] real\n"
    )
    note = parse_note(data, "n.md")
    assert note.frontmatter["title"] == "Plan"
    assert note.tags == ("work", "deep")
    assert [t.line for t in note.tasks] == [7]
    assert note.warnings == ()


@pytest.mark.parametrize(
    ("yaml_tags", "expected"),
    [
        ("tags: a, b  c", ("a", "b", "c")),
        ("tag: solo", ("solo",)),
        ("tags:\n  - x\n  - '#y'", ("x", "y")),
        ("tags: '#one #two'", ("one", "two")),
    ],
)
def test_front_matter_tag_forms(yaml_tags: str, expected: tuple[str, ...]) -> None:
    data = f"---\n{yaml_tags}\n---\n- [ ] t\n".encode()
    assert parse_note(data, "n.md").tags == expected


def test_broken_yaml_is_a_warning_and_region_still_hidden() -> None:
    data = b"---\ntitle: [unclosed\n- [ ] inside\n---\n- [ ] after\n"
    note = parse_note(data, "n.md")
    assert len(note.warnings) == 1 and "YAML" in note.warnings[0]
    assert [t.line for t in note.tasks] == [5]
    assert note.frontmatter == {}


def test_front_matter_must_start_on_line_one() -> None:
    data = b"\n---\na: 1\n---\n- [ ] t\n"
    note = parse_note(data, "n.md")
    assert note.frontmatter == {}
    assert [t.line for t in note.tasks] == [5]


def test_keys_stable_when_lines_added_above() -> None:
    base = b"# S\n- [ ] same\n- [ ] same\n- [ ] other\n"
    moved = b"intro\n\n# S\nnew text\n\n- [x] new task\n- [ ] same\n- [ ] same\n- [ ] other\n"
    keys = [t.key for t in parse_note(base, "n.md").tasks]
    moved_keys = [t.key for t in parse_note(moved, "n.md").tasks]
    assert len(set(keys)) == 3  # identical siblings differ by ordinal
    assert moved_keys[1:] == keys


def test_empty_and_whitespace_input() -> None:
    for data in (b"", b"\n", b"   \r\n\t\n", b"\xef\xbb\xbf"):
        note = parse_note(data, "n.md")
        assert note.tasks == () and note.warnings == ()


def test_deep_nesting_warns_and_does_not_crash() -> None:
    # 10,000 levels by indentation would be a 100 MB file; 1,000 make the point.
    lines = [" " * (2 * i) + "- [ ] level" for i in range(1_000)]
    data = "\n".join(lines).encode()
    note = parse_note(data, "deep.md")
    assert note.warnings and "nesting" in note.warnings[0]
    assert 0 < len(note.tasks) < 1_000
    assert_positions(data, note)


@pytest.mark.parametrize(
    "data",
    [
        b"- " * 10_000 + b"[ ] x\n- [ ] y\n",
        b">" * 10_000 + b" - [ ] x\n",
        b"1. - " * 5_000 + b"[ ] x\n",
        b"> - " * 5_000 + b"[ ] x\n",
        b"".join(b"> " * i + b"- [ ] q\n" for i in range(200)),
    ],
)
def test_deep_nesting_on_one_line_and_in_quotes(data: bytes) -> None:
    note = parse_note(data, "deep.md")
    assert note.warnings and "nesting" in note.warnings[0]
    assert_positions(data, note)


_TOKENS = [
    b"- ", b"* ", b"1. ", b"2) ", b"> ", b"[ ] ", b"[x] ", b"[\xc3\xa9] ", b"[\x81] ",
    b"[\xe2\x9c] ", b"\t", b"  ", b"```", b"~~~", b"<div>", b"<!--", b"-->", b"%%", b"$$",
    b"# ", b"---", b"===", b"\r\n", b"\n", b"\r", b"\xef\xbb\xbf", b"text", b"\x00", b"`%%`",
    b"> [!todo] ", b"|a|b|", b"[!x]", b"\xff\xfe",
]


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=60).map(b"".join))
def test_any_bytes_parse_without_error_and_positions_hold(data: bytes) -> None:
    for flavor in (Flavor.OBSIDIAN, Flavor.GFM):
        note = parse_note(data, "r.md", flavor=flavor)
        assert not any("could not parse" in warning for warning in note.warnings)
        assert_positions(data, note)


def test_a_failing_field_parser_costs_one_task_not_the_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import vaultmap.parse as parse_module

    real = parse_module.parse_task_text

    def flaky(text: str) -> TaskFields:
        if "boom" in text:
            raise ValueError("boom")
        return real(text)

    monkeypatch.setattr(parse_module, "parse_task_text", flaky)
    note = parse_note(b"- [ ] fine\n- [x] boom here\n", "n.md")
    assert [(t.line, t.description) for t in note.tasks] == [(1, "fine"), (2, "boom here")]
    assert len(note.warnings) == 1 and note.warnings[0].startswith("line 2:")


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf---\r\ntags: a\r\n---\r\n- [ ] x\r\n",
        b"---\rtags: [a]\r---\r- [x] x",
        b"--- \ntags: a\n---  \n\n- [ ] x\n",
    ],
)
def test_front_matter_with_bom_and_line_endings(data: bytes) -> None:
    note = parse_note(data, "n.md")
    assert note.tags == ("a",)
    assert [t.line for t in note.tasks] == [4 if b"\n\n" not in data else 5]
    assert_positions(data, note)
