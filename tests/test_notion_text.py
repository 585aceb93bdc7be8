"""Inline Markdown -> Notion rich text (and back), and the Done/Status rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fake_notion import FakeNotion, new_database, record
from vaultmap.model import StatusMap, StatusType
from vaultmap.sync.notion import NotionRemote
from vaultmap.sync.notion.status import status_type_from
from vaultmap.sync.notion.text import (
    markdown_from_rich_text,
    plain_text,
    rich_text_from_markdown,
    utf16_len,
)
from vaultmap.sync.remote import AgreedStatus


def _styles(items: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...], str | None]]:
    out = []
    for item in items:
        notes = item.get("annotations", {})
        on = tuple(k for k in ("bold", "italic", "strikethrough", "code") if notes.get(k))
        link = item["text"]["link"]
        out.append((item["text"]["content"], on, link["url"] if link else None))
    return out


def test_formatting_becomes_annotations() -> None:
    items = rich_text_from_markdown(
        "Buy **milk**, *eggs* and ~~bread~~ with `code` see [site](https://example.org/x)")
    assert _styles(items) == [
        ("Buy ", (), None), ("milk", ("bold",), None), (", ", (), None),
        ("eggs", ("italic",), None), (" and ", (), None), ("bread", ("strikethrough",), None),
        (" with ", (), None), ("code", ("code",), None), (" see ", (), None),
        ("site", (), "https://example.org/x")]


def test_nested_formatting_combines() -> None:
    assert _styles(rich_text_from_markdown("***both*** and **bold [link](http://a.b)**")) == [
        ("both", ("bold", "italic"), None), (" and ", (), None), ("bold ", ("bold",), None),
        ("link", ("bold",), "http://a.b")]


@pytest.mark.parametrize(("markdown", "plain"), [
    ("See [[Project Plan]]", "See Project Plan"),
    ("See [[Project Plan|the plan]] now", "See the plan now"),
    ("See [[Notes/Week 10#Goals]]", "See Notes/Week 10 > Goals"),
    ("Embed ![[diagram.png]]", "Embed diagram.png"),
    ("Code keeps `[[raw]]`", "Code keeps [[raw]]"),
    ("A [relative](notes/a.md) link", "A relative link"),
    ("Escaped \\*stars\\*", "Escaped *stars*"),
    ("# not a heading", "# not a heading"),
    ("- not a list", "- not a list"),
    ("<b>html</b> stays", "<b>html</b> stays"),
    ("", ""),
])
def test_plain_text_of_special_forms(markdown: str, plain: str) -> None:
    assert plain_text(rich_text_from_markdown(markdown)) == plain


def test_links_notion_would_refuse_lose_only_the_link() -> None:
    items = rich_text_from_markdown(f"[a](notes/a.md) [b](https://x.y/{'p' * 2100})")
    assert all(item["text"]["link"] is None for item in items)


def test_long_text_is_split_into_items_of_at_most_2000() -> None:
    text = "a" * 4500
    items = rich_text_from_markdown(text)
    assert [len(i["text"]["content"]) for i in items] == [2000, 2000, 500]
    assert plain_text(items) == text


def test_split_counts_utf16_and_never_cuts_a_pair() -> None:
    text = "a" * 1999 + "😀" + "b"
    items = rich_text_from_markdown(text)
    assert [i["text"]["content"] for i in items] == ["a" * 1999, "😀b"]
    assert all(utf16_len(i["text"]["content"]) <= 2000 for i in items)


def test_over_100_items_drops_formatting_then_cuts() -> None:
    busy = " ".join(["**b** i"] * 80)  # 160 styled runs
    items = rich_text_from_markdown(busy)
    assert len(items) == 1 and plain_text(items) == " ".join(["b i"] * 80)
    huge = "x" * (100 * 2000 + 10)
    items = rich_text_from_markdown(huge)
    assert len(items) == 100 and plain_text(items).endswith("…")
    assert utf16_len(plain_text(items)) == 100 * 2000


@pytest.mark.parametrize("markdown", [
    "Buy milk", "Buy **milk** now", "*a* and ~~b~~", "use `x = 1`", "[site](https://e.org)",
    "Call Ann & Bob (re: plan) at 10:30 #home 🙂", "a_b_c and 2*3", "[**bold link**](https://e.org)",
])
def test_markdown_round_trips(markdown: str) -> None:
    assert markdown_from_rich_text(rich_text_from_markdown(markdown)) == markdown


@pytest.mark.parametrize("markdown", ["**[bold link](https://e.org)**", "price: $5 [note] <x>",
                                      "__strong__ and _em_"])
def test_other_spellings_render_to_an_equivalent_form(markdown: str) -> None:
    again = rich_text_from_markdown(markdown_from_rich_text(rich_text_from_markdown(markdown)))
    assert _styles(again) == _styles(rich_text_from_markdown(markdown))


_word = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8)
_style = st.sampled_from(["{}", "**{}**", "*{}*", "~~{}~~", "`{}`", "***{}***", "**~~{}~~**",
                          "[{}](https://e.org/p)"])


@given(st.lists(st.tuples(_word, _style), min_size=1, max_size=8))
def test_words_in_any_style_round_trip(runs: list[tuple[str, str]]) -> None:
    # The common case, generated: styled words separated by spaces come back byte for byte,
    # so a row written from a vault task hashes like that task.
    markdown = " ".join(style.format(word) for word, style in runs)
    assert markdown_from_rich_text(rich_text_from_markdown(markdown)) == markdown


def _code(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": text, "link": None},
             "annotations": {"code": True}}]


@pytest.mark.parametrize("text", ["a``b", " a ", "``", " `a` ", "a```b`", "`", "a`", " ", "  ",
                                  " a", "x ` y"])
def test_a_code_span_renders_to_markdown_that_reads_back_as_the_same_code(text: str) -> None:
    # `a``b` was fenced with `` and so closed early, and " a " lost its spaces (a parser
    # strips one from each side of a span that has both).
    again = rich_text_from_markdown(markdown_from_rich_text(_code(text)))
    assert _styles(again) == [(text, ("code",), None)]


# Task text without line breaks, rich in the characters Markdown reads as markup.
_marked_text = st.text(st.sampled_from(list("ab `*_~[]()<>\\!#|:%&;-")), min_size=1, max_size=16)


@given(_marked_text)
def test_plain_and_code_text_read_back_as_written(text: str) -> None:
    plain = [{"type": "text", "text": {"content": text, "link": None}}]
    assert _styles(rich_text_from_markdown(markdown_from_rich_text(plain))) == [(text, (), None)]
    assert _styles(rich_text_from_markdown(markdown_from_rich_text(_code(text)))) == \
        [(text, ("code",), None)]


# ------------------------------------------------------------------ through the fake server

@pytest.fixture
def remote() -> Iterator[tuple[FakeNotion, NotionRemote]]:
    with FakeNotion() as fake, new_database(fake) as bound:
        yield fake, bound


def test_a_long_formatted_task_is_accepted_by_notion(
        remote: tuple[FakeNotion, NotionRemote]) -> None:
    fake, adapter = remote
    text = "**Start** " + "word " * 900 + "[end](https://e.org)"
    row = adapter.create(record("k:long", text, section=("S" * 2500,)))
    items = fake.rich_text(row.remote_id, "Task")
    assert len(items) > 2 and all(len(i["text"]["content"]) <= 2000 for i in items)
    assert items[0]["annotations"]["bold"] and items[-1]["href"] == "https://e.org"
    assert fake.values(row.remote_id)["Section"] == "S" * 2500
    assert row.text == plain_text(rich_text_from_markdown(text))


def test_bad_dates_and_commas_in_tags_are_made_acceptable(
        remote: tuple[FakeNotion, NotionRemote]) -> None:
    fake, adapter = remote
    row = adapter.create(record("k:1", due="2023-12-32", scheduled="2026-02-28",
                                tags=("a,b", "x" * 150, "")))
    values = fake.values(row.remote_id)
    assert values["Due"] is None and values["Scheduled"] == "2026-02-28"
    assert values["Tags"] == ["a b", "x" * 100]


# ------------------------------------------------------------------ the Done / Status rule

T = StatusType


@pytest.mark.parametrize(("done", "status", "agreed", "expected"), [
    # consistent pairs mean what they say
    (False, "Todo", None, T.TODO), (False, "Doing", None, T.DOING), (True, "Done", None, T.DONE),
    (False, "Cancelled", None, T.CANCELLED), (False, "Other", None, T.OTHER),
    # no Status (or an unknown one): the box decides
    (True, None, None, T.DONE), (False, None, None, T.TODO), (True, "Blocked", None, T.DONE),
    # no Done column: the Status decides
    (None, "Doing", None, T.DOING), (None, None, None, T.TODO),
    # disagreement without history: the more finished wins
    (True, "Todo", None, T.DONE), (True, "Doing", None, T.DONE),
    (True, "Cancelled", None, T.DONE), (False, "Done", None, T.DONE),
    # with history, the side a person changed wins
    (True, "Todo", T.TODO, T.DONE),          # ticked the box
    (False, "Done", T.DONE, T.TODO),         # unticked the box
    (True, "Doing", T.DONE, T.DOING),        # chose Doing on a done row
    (False, "Done", T.TODO, T.DONE),         # chose Done without ticking
    (True, "Cancelled", T.CANCELLED, T.DONE),  # ticked a cancelled row
    (True, "Cancelled", T.DONE, T.CANCELLED),  # cancelled a done row
    (True, "Doing", T.TODO, T.DONE),         # both changed: the more finished
])
def test_status_rule(done: bool | None, status: str | None, agreed: StatusType | None,
                     expected: StatusType) -> None:
    assert status_type_from(done, status, agreed) is expected


def test_agreed_characters_are_kept_when_the_type_did_not_change() -> None:
    statuses = StatusMap({" ": T.TODO, "x": T.DONE, "X": T.DONE, "?": T.OTHER, "!": T.OTHER})
    with FakeNotion() as fake:
        agreed: dict[str, AgreedStatus] = {}
        with new_database(fake, statuses=statuses, agreed_status=agreed.get) as adapter:
            upper = adapter.create(record("k:1", status="X"))
            bang = adapter.create(record("k:2", status="!"))
            assert (upper.status, bang.status) == ("x", "?")  # no history: canonical chars
            agreed.update({upper.remote_id: AgreedStatus("X"), bang.remote_id: AgreedStatus("!")})
            rows = {r.remote_id: r for r in adapter.snapshot(None).rows}
            assert (rows[upper.remote_id].status, rows[bang.remote_id].status) == ("X", "!")
            fake.tick(bang.remote_id)  # a person ticks the "!" task
            fake.tick(upper.remote_id, False)  # and unticks the "X" one
            rows = {r.remote_id: r for r in adapter.snapshot(None).rows}
            assert (rows[upper.remote_id].status, rows[bang.remote_id].status) == (" ", "x")
