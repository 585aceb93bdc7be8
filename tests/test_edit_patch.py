"""The pure byte layer of vaultmap.edit: only status bytes (and done dates) ever change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.config import EditSettings, Settings, VaultSettings
from vaultmap.edit import set_statuses
from vaultmap.edit.patch import (
    StatusChange,
    append_lines,
    line_ending,
    plan_status_changes,
    status_problem,
)
from vaultmap.model import DEFAULT_STATUS_MAP, Flavor, Note, StatusType
from vaultmap.parse import parse_note

DAY = date(2025, 3, 14)
STAMP = " ✅ 2025-03-14".encode()


def _parse(data: bytes, flavor: Flavor = Flavor.OBSIDIAN, path: str = "n.md") -> Note:
    return parse_note(data, path, flavor=flavor, statuses=DEFAULT_STATUS_MAP)


def _set_all(data: bytes, new: str | dict[int, str], *, flavor: Flavor = Flavor.OBSIDIAN,
             done_date: date | None = None) -> bytes:
    """Set every task (or, given a dict, the task on each line) and check all were applied."""
    note = _parse(data, flavor)
    changes = [
        StatusChange(t.key, t.status, new if isinstance(new, str) else new[t.line], line=t.line)
        for t in note.tasks
    ]
    out, results = plan_status_changes(data, note, changes, DEFAULT_STATUS_MAP,
                                       done_date=done_date)
    assert all(r.applied for r in results), results
    return out


def _assume_single_char_statuses(note: Note) -> None:
    # A note that is not UTF-8 is decoded with a legacy codec, where a UTF-8 status sequence
    # reads as several characters; such a status cannot be written back as one character.
    assume(all(len(t.status) == 1 for t in note.tasks))


def _without_statuses(data: bytes, note: Note) -> bytes:
    """The note's bytes with every status character cut out."""
    out = bytearray()
    pos = 0
    for task in sorted(note.tasks, key=lambda t: t.offset):
        out += data[pos:task.offset]
        pos = task.offset + task.status_len
    return bytes(out + data[pos:])


# --- examples ---------------------------------------------------------------------------------


def test_only_the_status_byte_changes_in_a_crlf_note_with_bom_and_quotes() -> None:
    data = "\ufeff# Plan\r\n- [ ] one  \r\n\t- [ ] two\t\r\n> - [ ] quoted\r\n".encode()
    out = _set_all(data, "x")
    assert out == "\ufeff# Plan\r\n- [x] one  \r\n\t- [x] two\t\r\n> - [x] quoted\r\n".encode()


def test_a_multi_byte_status_may_change_the_length_of_that_one_character() -> None:
    data = "- [→] forwarded\n- [ ] next\n".encode()
    out = _set_all(data, "x")
    assert out == b"- [x] forwarded\n- [x] next\n"
    back = _set_all(out, {1: "→", 2: " "})
    assert back == data


def test_a_change_is_refused_when_the_status_is_not_the_expected_one() -> None:
    data = b"- [x] already done\n"
    note = _parse(data)
    task = note.tasks[0]
    out, results = plan_status_changes(
        data, note, [StatusChange(task.key, " ", "x")], DEFAULT_STATUS_MAP)
    assert out == data
    assert not results[0].applied
    assert results[0].reason == "status is [x], expected [ ]"


def test_an_unknown_key_is_reported_and_other_changes_still_apply() -> None:
    data = b"- [ ] a\n- [ ] b\n"
    note = _parse(data)
    changes = [StatusChange("k:missing", " ", "x"), StatusChange(note.tasks[1].key, " ", "x")]
    out, results = plan_status_changes(data, note, changes, DEFAULT_STATUS_MAP)
    assert out == b"- [ ] a\n- [x] b\n"
    assert [r.applied for r in results] == [False, True]
    assert results[0].reason is not None and "not found" in results[0].reason


def test_changes_to_one_task_apply_in_order() -> None:
    data = b"- [ ] a\n"
    key = _parse(data).tasks[0].key
    changes = [StatusChange(key, " ", "/"), StatusChange(key, "/", "x"),
               StatusChange(key, " ", "-")]
    out, results = plan_status_changes(data, _parse(data), changes, DEFAULT_STATUS_MAP)
    assert out == b"- [x] a\n"
    assert [r.applied for r in results] == [True, True, False]


def test_a_shared_key_is_resolved_by_line_or_refused() -> None:
    data = b"- [ ] a ^same\n- [ ] b ^same\n"
    note = _parse(data)
    assert note.tasks[0].key == note.tasks[1].key
    key = note.tasks[0].key
    out, results = plan_status_changes(data, note, [StatusChange(key, " ", "x", line=2)],
                                       DEFAULT_STATUS_MAP)
    assert out == b"- [ ] a ^same\n- [x] b ^same\n"
    out, results = plan_status_changes(data, note, [StatusChange(key, " ", "x")],
                                       DEFAULT_STATUS_MAP)
    assert out == data
    assert results[0].reason is not None and "several tasks" in results[0].reason


@pytest.mark.parametrize("bad", ["", "xx", "]", "[", "\n", "\r", "\x00"])
def test_impossible_status_characters_are_refused(bad: str) -> None:
    assert status_problem(bad) is not None
    data = b"- [ ] a\n"
    note = _parse(data)
    out, results = plan_status_changes(data, note, [StatusChange(note.tasks[0].key, " ", bad)],
                                       DEFAULT_STATUS_MAP)
    assert out == data and not results[0].applied


def test_non_ascii_status_is_refused_in_a_note_that_is_not_utf8() -> None:
    data = b"- [ ] caf\xe9\n"  # cp1252 bytes, not UTF-8
    note = _parse(data)
    key = note.tasks[0].key
    out, results = plan_status_changes(data, note, [StatusChange(key, " ", "→")],
                                       DEFAULT_STATUS_MAP)
    assert out == data and not results[0].applied
    out, results = plan_status_changes(data, note, [StatusChange(key, " ", "x")],
                                       DEFAULT_STATUS_MAP)
    assert out == b"- [x] caf\xe9\n" and results[0].applied


# --- done dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"- [ ] write report\n", b"- [x] write report" + STAMP + b"\n"),
        (b"- [ ] write report ^rep-1\n", b"- [x] write report" + STAMP + b" ^rep-1\n"),
        (b"- [ ] hard break  \r\n", b"- [x] hard break" + STAMP + b"  \r\n"),
        (b"- [ ] due \xf0\x9f\x93\x85 2025-04-01\r", b"- [x] due \xf0\x9f\x93\x85 2025-04-01"
         + STAMP + b"\r"),
        (b"> - [ ] in a quote", b"> - [x] in a quote" + STAMP),
        (b"- [ ]\n", b"- [x]" + STAMP + b"\n"),
    ],
)
def test_done_date_is_added_and_removed_again(before: bytes, after: bytes) -> None:
    done = _set_all(before, "x", done_date=DAY)
    assert done == after
    assert _set_all(done, " ", done_date=DAY) == before


def test_an_existing_done_date_is_kept_and_no_second_one_added() -> None:
    data = "- [ ] old ✅ 2020-01-01\n".encode()
    assert _set_all(data, "x", done_date=DAY) == "- [x] old ✅ 2020-01-01\n".encode()


def test_undone_removes_only_the_trailing_done_field_not_a_check_mark_in_the_text() -> None:
    data = "- [x] ship ✅ the thing ✅ 2024-02-02 #work\n".encode()
    assert _set_all(data, " ", done_date=DAY) == "- [ ] ship ✅ the thing #work\n".encode()


def test_no_date_without_the_option_and_none_between_two_done_statuses() -> None:
    assert _set_all(b"- [ ] a\n", "x") == b"- [x] a\n"
    assert _set_all(b"- [x] a\n", "X", done_date=DAY) == b"- [X] a\n"


def test_no_done_date_is_written_into_a_note_that_is_not_utf8() -> None:
    data = b"- [ ] r\xe9sum\xe9\n"
    assert _set_all(data, "x", done_date=DAY) == b"- [x] r\xe9sum\xe9\n"


# --- append -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", b"- [ ] new\n"),
        (b"a\r\nb\r\n", b"a\r\nb\r\n- [ ] new\r\n"),
        (b"a\rb", b"a\rb\r- [ ] new\r"),
        (b"\xef\xbb\xbfa\n", b"\xef\xbb\xbfa\n- [ ] new\n"),
        (b"no ending", b"no ending\n- [ ] new\n"),
    ],
)
def test_append_keeps_line_endings_and_bom(data: bytes, expected: bytes) -> None:
    assert append_lines(data, ["- [ ] new"], "utf-8") == expected


def test_append_refuses_line_breaks_and_unencodable_text() -> None:
    with pytest.raises(ValueError):
        append_lines(b"", ["a\nb"], "utf-8")
    with pytest.raises(ValueError):
        append_lines(b"x\n", ["→"], None)


def test_line_ending_is_the_most_used_one() -> None:
    assert line_ending(b"a\r\nb\r\nc\n") == b"\r\n"
    assert line_ending(b"a\rb\rc\n") == b"\r"
    assert line_ending(b"abc") == b"\n"


# --- property-based ---------------------------------------------------------------------------

_WORDS = st.sampled_from(
    ["Learn", "NumPy", "Bayesâ€™", "café", "日本語", "**bold**", "[[Link]]", "#tag",
     "📅 2025-01-02", "^blk-1", "🆔 abc", "x", "[ ]", "`code`", "  ", "\t", "â€œquoteâ€\x9d", "✅"])
_TEXT = st.lists(_WORDS, max_size=5).map(" ".join)
_STATUS = st.sampled_from([" ", " ", "x", "X", "/", "-", ">", "?", "→"])
_PREFIX = st.sampled_from(["", "", "  ", "\t", "\t\t", "    ", "> ", ">", "> > ", "1. ", "- "])
_MARKER = st.sampled_from(["-", "*", "+", "1.", "2)", "10."])


@st.composite
def _task_line(draw: st.DrawFn) -> str:
    trailing = draw(st.sampled_from(["", "", "  ", " ", "\t"]))
    return (f"{draw(_PREFIX)}{draw(_MARKER)} [{draw(_STATUS)}]"
            f"{draw(st.sampled_from([' ', ' ', chr(9)]))}{draw(_TEXT)}{trailing}")


_OTHER_LINE = st.one_of(
    st.just(""),
    _TEXT,
    st.sampled_from(["# Roadmap", "## Week 3: *Pandas*", "```", "~~~python", "---",
                     "<!-- note -->", "%%", "> [!todo] Callout", "- plain item", "\t- plain",
                     "    indented code", "title: x", "| a | b |"]),
)
_ENDINGS = st.sampled_from(["\n", "\r\n", "\r", "mixed"])


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(_task_line(), _task_line(), _OTHER_LINE), max_size=25))
    ending = draw(_ENDINGS)
    out = []
    for line in lines:
        end = draw(st.sampled_from(["\n", "\r\n", "\r"])) if ending == "mixed" else ending
        out.append(line.encode("utf-8") + end.encode())
    data = b"".join(out)
    if draw(st.booleans()) and data:
        data = data.rstrip(b"\r\n")  # no final line ending
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.booleans()):
        data = data.replace(b"caf\xc3\xa9", b"caf\xe9")  # some invalid UTF-8
    return data


_FLAVORS = st.sampled_from([Flavor.GFM, Flavor.OBSIDIAN])


@settings(max_examples=examples(200), deadline=None)
@given(data=documents(), flavor=_FLAVORS)
def test_property_done_changes_exactly_the_status_bytes_and_back_restores(
        data: bytes, flavor: Flavor) -> None:
    before = _parse(data, flavor)
    _assume_single_char_statuses(before)
    done = _set_all(data, "x", flavor=flavor)
    after = _parse(done, flavor)
    # The parser finds the same tasks at the same lines, all done now ...
    assert [t.line for t in after.tasks] == [t.line for t in before.tasks]
    assert all(t.status == "x" for t in after.tasks)
    assert [t.key for t in after.tasks] == [t.key for t in before.tasks]
    # ... and apart from the status characters not one byte differs.
    assert _without_statuses(done, after) == _without_statuses(data, before)
    # Setting each task back to its old status gives the original bytes.
    restored = _set_all(done, {t.line: t.status for t in before.tasks}, flavor=flavor)
    assert restored == data


@settings(max_examples=examples(200), deadline=None)
@given(data=documents(), flavor=_FLAVORS)
def test_property_done_dates_come_and_go_without_touching_anything_else(
        data: bytes, flavor: Flavor) -> None:
    data = data.replace("✅".encode(), b"ok")  # a task that already carries ✅ keeps it
    before = _parse(data, flavor)
    _assume_single_char_statuses(before)
    done = _set_all(data, "x", flavor=flavor, done_date=DAY)
    after = _parse(done, flavor)
    assert [t.line for t in after.tasks] == [t.line for t in before.tasks]
    utf8 = True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = False
    newly_done = sum(DEFAULT_STATUS_MAP.type_of(t.status) is not StatusType.DONE
                     for t in before.tasks)
    assert done.count(STAMP) == (newly_done if utf8 else 0)
    assert _without_statuses(done, after).replace(STAMP, b"") == _without_statuses(data, before)
    restored = _set_all(done, {t.line: t.status for t in before.tasks}, flavor=flavor,
                        done_date=DAY)
    assert restored == data


@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=documents(), flavor=_FLAVORS)
def test_property_through_real_files(tmp_path: Path, data: bytes, flavor: Flavor) -> None:
    note = tmp_path / "note.md"
    note.write_bytes(data)
    vault = Settings(root=tmp_path, vault=VaultSettings(flavor=flavor),
                     edit=EditSettings(done_date=False))
    before = _parse(data, flavor, "note.md")
    _assume_single_char_statuses(before)
    results = set_statuses(vault, Path("note.md"),
                           [StatusChange(t.key, t.status, "x", line=t.line) for t in before.tasks])
    assert all(r.applied for r in results)
    done = note.read_bytes()
    assert _without_statuses(done, _parse(done, flavor, "note.md")) == _without_statuses(
        data, before)
    set_statuses(vault, Path("note.md"),
                 [StatusChange(t.key, "x", t.status, line=t.line) for t in before.tasks])
    assert note.read_bytes() == data
