"""The task-line grammar (parse.fields): Tasks-plugin fields, Dataview fields, tags, links."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.model import TaskFields
from vaultmap.parse.fields import _RECURRENCE_RULE, _parse_fields, parse_task_text

# (id, text after "[c] ", expected TaskFields attributes). Numbers name the tricky cases of the
# Tasks plugin's syntax we collected (dates, recurrence, priorities); the inputs are ours.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("empty", "", {"description": ""}),
    ("only-spaces", "   \t ", {"description": ""}),
    ("plain", "Call the bakery about Friday", {"description": "Call the bakery about Friday"}),
    ("plain-trailing-spaces", "Call the bakery  ", {"description": "Call the bakery"}),
    # 1: the 🗓 alias for due, done and created dates, any order.
    ("c1-aliases", "Tidy the shed 🗓 2021-09-12 ✅ 2021-06-20 ➕ 2023-03-07",
     {"description": "Tidy the shed", "due": "2021-09-12", "done": "2021-06-20",
      "created": "2023-03-07", "start": None}),
    ("due-alias-calendar", "Pay rent 📆 2026-02-01",
     {"description": "Pay rent", "due": "2026-02-01"}),
    ("scheduled-alias-hourglass", "Plan week ⌛ 2026-01-05",
     {"description": "Plan week", "scheduled": "2026-01-05"}),
    # 5: a field emoji inside the description stays there.
    ("c5-inner-emoji", "Mark the ✅ column 🗓 2021-09-12 ✅ 2021-06-20",
     {"description": "Mark the ✅ column", "due": "2021-09-12", "done": "2021-06-20",
      "start": None}),
    # 6: block id last, trailing spaces ignored.
    ("c6-block-id", "Mark the ✅ column 🗓 2021-09-12 ✅ 2021-06-20 ^keep-me  ",
     {"description": "Mark the ✅ column", "due": "2021-09-12", "done": "2021-06-20",
      "block_id": "keep-me"}),
    # 7: tags between fields are consumed and move to the end of the description.
    ("c7-tags-between", "Fix the gate 📅 2021-09-12 #garden ⏫ #home/outside_jobs",
     {"description": "Fix the gate #garden #home/outside_jobs",
      "tags": ("#garden", "#home/outside_jobs"), "due": "2021-09-12", "priority": "high"}),
    # 8: many tags mixed with every kind of date, a priority and a recurrence.
    ("c8-wobble",
     "Paint ⏫  #t1 ✅ 2022-07-02 #t2  📅 2022-07-03 #t3 ⏳ 2022-07-04 #t4 🛫 2022-07-05 #t5"
     "  🔁 every day  #t6 #t7 #t8 #t9 #t10",
     {"description": "Paint #t1 #t2 #t3 #t4 #t5 #t6 #t7 #t8 #t9 #t10",
      "tags": tuple(f"#t{i}" for i in range(1, 11)), "done": "2022-07-02",
      "due": "2022-07-03", "scheduled": "2022-07-04", "start": "2022-07-05",
      "priority": "high", "recurrence": "every day"}),
    # 9: no space, or several spaces, between emoji and value.
    ("c9-no-space",
     "Paint ✅2022-07-01 📅2022-07-02 ⏳2022-07-03 🛫2022-07-04 ➕2022-07-05 🔁every day",
     {"description": "Paint", "done": "2022-07-01", "due": "2022-07-02",
      "scheduled": "2022-07-03", "start": "2022-07-04", "created": "2022-07-05",
      "recurrence": "every day"}),
    ("c9-three-spaces", "Paint ✅   2022-07-01 📅   2022-07-02 🔁   every week",
     {"description": "Paint", "done": "2022-07-01", "due": "2022-07-02",
      "recurrence": "every week"}),
    # 11: '#' inside a URL is not a tag; the recurrence rule keeps its words.
    ("c11-url-fragment",
     "Export [feeds](https://example.org/reader/#opml) #ctx/pc_home 🔁 every 4 weeks on Sunday"
     " ⏳ 2022-05-15 #ctx/more",
     {"description": "Export [feeds](https://example.org/reader/#opml) #ctx/pc_home #ctx/more",
      "tags": ("#ctx/pc_home", "#ctx/more"), "scheduled": "2022-05-15",
      "recurrence": "every 4 weeks on Sunday"}),
    # 12: a lone '#' is not a tag.
    ("c12-lone-hash", "count the # of beans #kitchen",
     {"description": "count the # of beans #kitchen", "tags": ("#kitchen",)}),
    # 15: an invalid recurrence rule is consumed but gives no recurrence; the due date parses.
    ("c15-invalid-rule", "water 🔁 whenever it rains 📅 2022-06-17",
     {"description": "water", "recurrence": None, "due": "2022-06-17"}),
    ("recurrence-when-done", "Back up laptop 🔁 every week when done",
     {"description": "Back up laptop", "recurrence": "every week when done"}),
    # 16: hidden U+FE0F after the emoji.
    ("c16-vs16-priority", "Call mum ⏫\ufe0f", {"description": "Call mum", "priority": "high"}),
    ("c16-vs16-scheduled", "Call mum ⏳\ufe0f 2024-11-18",
     {"description": "Call mum", "scheduled": "2024-11-18"}),
    ("c16-vs16-depends", "Call mum ⛔\ufe0f F12345",
     {"description": "Call mum", "depends_on": ("F12345",)}),
    ("vs16-calendar", "Visit 🗓\ufe0f 2026-05-05 🆔\ufe0f v1",
     {"description": "Visit", "due": "2026-05-05", "id": "v1"}),
    # 17: depends-on with spaces around commas; an invalid id stays in the description.
    ("c17-depends-spaces", "Ship ⛔ ab , CD ,  EF  ,    GK",
     {"description": "Ship", "depends_on": ("ab", "CD", "EF", "GK")}),
    ("c17-bad-id", "Ship 🆔 A*bcd0f", {"description": "Ship 🆔 A*bcd0f", "id": None}),
    ("id-and-depends", "Deploy 🆔 dep-2 ⛔ build_1,test-1",
     {"description": "Deploy", "id": "dep-2", "depends_on": ("build_1", "test-1")}),
    # 18: Dataview fields, both bracket forms; mismatched, unbracketed, wrong-case stay text.
    ("c18-dataview-square", "Sort the mail [due::2021-08-22] [priority:: high]",
     {"description": "Sort the mail", "due": "2021-08-22", "priority": "high",
      "dataview": {"due": "2021-08-22", "priority": "high"}}),
    ("c18-dataview-round", "Sort the mail (due::2021-08-22) (priority:: high)",
     {"description": "Sort the mail", "due": "2021-08-22", "priority": "high"}),
    ("c18-dataview-mismatched", "Sort the mail [due::2021-08-22) (priority:: high]",
     {"description": "Sort the mail [due::2021-08-22) (priority:: high]", "due": None,
      "priority": None}),
    ("c18-dataview-unbracketed", "Sort the mail due:: 2021-08-22",
     {"description": "Sort the mail due:: 2021-08-22", "due": None, "dataview": {}}),
    ("c18-dataview-wrong-case", "Sort the mail [dependson:: F12345]",
     {"description": "Sort the mail [dependson:: F12345]", "depends_on": (),
      "dataview": {"dependson": "F12345"}}),
    # 19: text after a field stops parsing: the date is text.
    ("c19-field-mid-line", "Renew 📅 2021-04-09 then tell Sam",
     {"description": "Renew 📅 2021-04-09 then tell Sam", "due": None}),
    # 20: dates are matched by shape and kept as written.
    ("c20-invalid-date", "Do stuff 📅  2023-12-32",
     {"description": "Do stuff", "due": "2023-12-32"}),
    # 28: Dataview's own inline-field edge cases.
    ("c28-nested-open", "[[[[hello:: 16]]", {"dataview": {"hello": "16"}}),
    ("c28-bracket-value", "x [key:: [value]]", {"dataview": {"key": "[value]"}}),
    ("c28-escaped", "Hello? [key! :: \\[value]", {"dataview": {"key!": "\\[value"}}),
    # Dataview variants read by Tasks.
    ("dataview-all-keys",
     "All [priority:: lowest] [completion:: 2026-01-02] [cancelled:: 2026-01-03]"
     " [start:: 2026-01-04] [created:: 2026-01-05] [scheduled:: 2026-01-06]"
     " [repeat:: every month] [onCompletion:: delete] [id:: a1] [dependsOn:: b2, c3]",
     {"description": "All", "priority": "lowest", "done": "2026-01-02",
      "cancelled": "2026-01-03", "start": "2026-01-04", "created": "2026-01-05",
      "scheduled": "2026-01-06", "recurrence": "every month", "on_completion": "delete",
      "id": "a1", "depends_on": ("b2", "c3")}),
    ("dataview-spaces", "Mow [  due::   2026-06-01   ]",
     {"description": "Mow", "due": "2026-06-01"}),
    ("dataview-trailing-comma", "Mow [due:: 2026-06-01],",
     {"description": "Mow", "due": "2026-06-01"}),
    ("dataview-trailing-comma-spaced", "Mow (due:: 2026-06-01) , ",
     {"description": "Mow", "due": "2026-06-01"}),
    ("dataview-mixed-with-emoji", "Mow [due:: 2026-06-01] ⏬ #yard",
     {"description": "Mow #yard", "due": "2026-06-01", "priority": "lowest",
      "tags": ("#yard",)}),
    ("dataview-unknown-key-stays", "Estimate the roof [hours:: 3] 📅 2026-06-01",
     {"description": "Estimate the roof [hours:: 3]", "due": "2026-06-01",
      "dataview": {"hours": "3"}}),
    ("dataview-midline", "Ask (who:: Ana) about [topic:: tiles] soon",
     {"description": "Ask (who:: Ana) about [topic:: tiles] soon",
      "dataview": {"who": "Ana", "topic": "tiles"}}),
    ("dataview-first-wins", "x [k:: one] [k:: two]", {"dataview": {"k": "one"}}),
    ("dataview-bad-priority", "x [priority:: urgent]",
     {"description": "x [priority:: urgent]", "priority": None}),
    # Priorities.
    ("priority-highest", "a 🔺", {"description": "a", "priority": "highest"}),
    ("priority-medium", "a 🔼", {"description": "a", "priority": "medium"}),
    ("priority-low", "a 🔽", {"description": "a", "priority": "low"}),
    ("priority-lowest", "a ⏬", {"description": "a", "priority": "lowest"}),
    ("priority-leftmost-wins", "a 🔽 ⏫", {"description": "a", "priority": "low"}),
    ("due-leftmost-wins", "a 📅 2026-01-01 📅 2026-02-02", {"due": "2026-01-01"}),
    ("cancelled", "Drop it ❌ 2026-03-03", {"description": "Drop it", "cancelled": "2026-03-03"}),
    ("on-completion-keep", "Review 🏁 Keep", {"description": "Review", "on_completion": "keep"}),
    ("on-completion-other", "Review 🏁 archive",
     {"description": "Review", "on_completion": None}),
    ("glued-to-text", "Review📅2026-01-01", {"description": "Review", "due": "2026-01-01"}),
    # A tag glued to a field: Tasks' pass order decides (priority before tags).
    ("tag-glued-priority", "#ab⏫", {"description": "#ab", "tags": ("#ab",), "priority": "high"}),
    ("only-tag", "#inbox", {"description": "#inbox", "tags": ("#inbox",)}),
    # Tags.
    ("tag-url-not-tag", "Read https://example.org/page#section now",
     {"tags": ()}),
    ("tag-digits-and-dot", "Budget #12.34 and #q3,", {"tags": ("#12", "#q3")}),
    ("tag-duplicates-once", "x #a #b #a", {"tags": ("#a", "#b")}),
    ("tag-unicode", "Lire #français", {"tags": ("#français",)}),
    ("tag-after-tab", "Lire\t#later", {"tags": ("#later",)}),
    ("tag-in-wikilink-heading", "See [[Plan#Risks]]", {"tags": (), "links": ("Plan#Risks",)}),
    # Links: alias dropped, heading kept, embeds included, no duplicates.
    ("links", "Read [[Deep Work|the book]], ![[cover.png]] and [[Deep Work]] [[Plan#^b1]]",
     {"links": ("Deep Work", "cover.png", "Plan#^b1")}),
    ("link-escaped-pipe", "| [[Table Note\\|alias]] |", {"links": ("Table Note",)}),
    ("link-empty", "[[ ]] [[]]", {"links": ()}),
    # Block ids.
    ("block-id-needs-space", "Ship it^abc", {"description": "Ship it^abc", "block_id": None}),
    ("block-id-invalid-char", "Ship it ^ab_c", {"description": "Ship it ^ab_c", "block_id": None}),
    ("block-id-only-in-text", "^abc", {"description": "^abc", "block_id": None}),
    ("block-id-before-field", "Ship ^abc 📅 2026-01-01",
     {"description": "Ship ^abc", "block_id": None, "due": "2026-01-01"}),
    ("block-id-with-fields", "Ship #rel 📅 2026-01-01 ⏫ ^rel-1",
     {"description": "Ship #rel", "block_id": "rel-1", "due": "2026-01-01",
      "priority": "high", "tags": ("#rel",)}),
    # Text decoded from a non-UTF-8 file keeps its surrogate escapes.
    ("surrogate-escapes", "caf\udce9 #men\udcfc 📅 2026-01-01",
     {"description": "caf\udce9 #men\udcfc", "tags": ("#men\udcfc",), "due": "2026-01-01"}),
    ("nbsp-is-not-a-field-space", "Pay\u00a0📅\u00a02026-01-01",
     {"description": "Pay\u00a0📅\u00a02026-01-01", "due": None}),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in CASES],
                         ids=[name for name, _, _ in CASES])
def test_grammar_table(text: str, expected: dict[str, Any]) -> None:
    fields = parse_task_text(text)
    for attribute, value in expected.items():
        actual = getattr(fields, attribute)
        if attribute == "dataview":
            actual = dict(actual)
        assert actual == value, f"{attribute}: {actual!r} != {value!r}"


def test_default_fields_are_empty() -> None:
    fields = parse_task_text("Just text")
    assert fields == TaskFields(description="Just text")
    assert dict(fields.dataview) == {}


@pytest.mark.parametrize("trailing_tags", [19, 20])
def test_due_date_behind_up_to_twenty_tags_is_read(trailing_tags: int) -> None:
    tags = " ".join(f"#t{i}" for i in range(trailing_tags))
    fields = parse_task_text(f"Pack 📅 2026-01-01 {tags}")
    assert fields.due == "2026-01-01"
    assert len(fields.tags) == trailing_tags


def test_tasks_gives_up_after_twenty_one_passes() -> None:
    # Tasks strips one trailing tag per pass and stops after 21 passes; so does vaultmap.
    tags = " ".join(f"#t{i}" for i in range(21))
    fields = parse_task_text(f"Pack 📅 2026-01-01 {tags}")
    assert fields.due is None
    assert fields.description.startswith("Pack 📅 2026-01-01 #t0")
    assert len(fields.tags) == 21


def test_long_line_with_many_tags_is_linear_enough() -> None:
    # Guards against quadratic work on a pathological line (a pasted tag cloud).
    text = "x " + " ".join(f"#tag{i}" for i in range(50_000)) + " [k:: v]"
    fields = parse_task_text(text)
    assert len(fields.tags) == 50_000
    assert dict(fields.dataview) == {"k": "v"}


@pytest.mark.parametrize("text", [
    "[" * 40_000 + "k:: v",  # every '[' reaches the same far "::"
    "(" * 40_000 + "k:: v",
    "[a " * 20_000 + ":: never closed",  # every opener tries the same unclosed value
    "x [[" + "a" * 80_000,
])
def test_pathological_lines_finish_quickly(text: str) -> None:
    import time

    started = time.process_time()
    parse_task_text(text)
    assert time.process_time() - started < 2.0  # quadratic work would take minutes


def test_inline_fields_found_after_many_failed_openers() -> None:
    fields = parse_task_text("[" * 1000 + "[k:: v] and (j:: w)")
    assert dict(fields.dataview) == {"k": "v", "j": "w"}


# Property tests -------------------------------------------------------------------------------

FRAGMENTS = [
    "📅", "📆", "🗓", "⏳", "⌛", "🛫", "➕", "✅", "❌", "🔁", "🏁", "🆔", "⛔",
    "🔺", "⏫", "🔼", "🔽", "⏬", "\ufe0f", "2026-01-31", "every day", "when done", "keep",
    "#tag", "#a/b", "#", "^blk", " ^id-1", "[due:: 2026-02-02]", "(priority:: high)",
    "[k:: v]", "::", "[[Note|alias]]", "![[img.png]]", "https://x.org/#frag", ",", " ",
    "  ", "\t", "[", "]", "(", ")", "\\", "abc", "é", "\udcff",
]
texty = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=14).map(
    "".join)


def _is_head_plus_moved_tags(description: str, text: str) -> bool:
    """description == a prefix of the stripped text (right-stripped), then moved tags.

    The moved tags are tags stripped from between fields; each is a piece of the text that
    starts with '#', and they follow the head joined by single spaces.
    """
    base = text.strip()
    for cut in range(len(base), -1, -1):
        head = base[:cut].rstrip()
        if not description.startswith(head):
            continue
        rest = description[len(head):]
        if not rest:
            return True
        if head and not rest.startswith(" "):
            continue
        tokens = rest.strip().split(" ")
        if all(token.startswith("#") and token in text for token in tokens):
            return True
    return False


def _is_subsequence(small: str, big: str) -> bool:
    remaining = iter(big)
    return all(char in remaining for char in small)


@pytest.mark.slow
@settings(max_examples=examples(400), deadline=None)
@given(texty)
@example("")
@example("#a 📅 2026-01-01 #b")
@example("x ^id 📅 2026-01-01 ^id")
def test_description_is_a_head_of_the_text_plus_moved_tags(text: str) -> None:
    fields = parse_task_text(text)
    description = fields.description
    assert description == description.strip()
    assert _is_head_plus_moved_tags(description, text), (description, text)
    # Nothing is reordered: without whitespace the description is a subsequence of the text.
    assert _is_subsequence("".join(description.split()), "".join(text.split()))
    for tag in fields.tags:
        assert tag in description
    for link in fields.links:
        assert link in text
    if fields.block_id is not None:
        assert text.rstrip().endswith(" ^" + fields.block_id)


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(st.text(), st.text(st.characters(exclude_categories=())), texty))
def test_never_raises_and_fast_path_agrees(text: str) -> None:
    # Any code point, lone surrogates (undecodable bytes) included.
    assert parse_task_text(text) == _parse_fields(text)


DATE = st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10)
IDS = st.from_regex(r"[a-zA-Z0-9_-]{1,8}", fullmatch=True)
EMOJI_FIELDS: dict[str, tuple[list[str], st.SearchStrategy[str]]] = {
    "due": (["📅", "📆", "🗓"], DATE),
    "scheduled": (["⏳", "⌛"], DATE),
    "start": (["🛫"], DATE),
    "created": (["➕"], DATE),
    "done": (["✅"], DATE),
    "cancelled": (["❌"], DATE),
    "id": (["🆔"], IDS),
}


@settings(max_examples=examples(150), deadline=None)
@given(
    description=st.from_regex(r"[A-Za-z][A-Za-z ]{0,20}[A-Za-z]", fullmatch=True),
    chosen=st.sets(st.sampled_from(sorted(EMOJI_FIELDS))),
    data=st.data(),
)
def test_emoji_fields_in_any_order_are_read_back(description: str, chosen: set[str],
                                                 data: st.DataObject) -> None:
    expected: dict[str, str] = {}
    parts: list[str] = []
    for name in sorted(chosen):
        emojis, values = EMOJI_FIELDS[name]
        emoji = data.draw(st.sampled_from(emojis))
        selector = data.draw(st.sampled_from(["", "\ufe0f"]))
        spaces = data.draw(st.sampled_from(["", " ", "  "]))
        value = data.draw(values)
        expected[name] = value
        parts.append(f"{emoji}{selector}{spaces}{value}")
    parts = data.draw(st.permutations(parts))
    priority = data.draw(st.sampled_from(["", "🔺", "⏫", "🔼", "🔽", "⏬"]))
    if priority:
        parts.insert(data.draw(st.integers(0, len(parts))), priority)
    fields = parse_task_text(" ".join([description, *parts]))
    assert fields.description == description
    for name, value in expected.items():
        assert getattr(fields, name) == value
    words = {"🔺": "highest", "⏫": "high", "🔼": "medium", "🔽": "low", "⏬": "lowest"}
    assert fields.priority == (words[priority] if priority else None)


# A literal port of Tasks' DefaultTaskSerializer.deserialize (and its Dataview twin), slow and
# simple: each regex anchored at the end, searched, cut, trimmed; passes in Tasks' order. It
# carries this module's documented choices (a tag stops at any whitespace; both field forms
# are read; recurrence and on-completion validated). The fast parser must agree with it.
_ORACLE_DATE = r"([0-9]{4}-[0-9]{2}-[0-9]{2})"


def _oracle_emoji(symbols: str, value: str) -> Any:
    import re

    return re.compile(f"(?:{symbols})\ufe0f?" + (f" *{value}" if value else "") + r"\Z")


def _oracle_dataview(inner: str) -> Any:
    import re

    return re.compile(r"(?:(?=[^\]]+\])\[|(?=[^)]+\))\() *" + inner + r" *[)\]](?: *,)?\Z")


_ORACLE_IDS = r"[a-zA-Z0-9-_]+"
_ORACLE_STEPS: list[tuple[str, Any, Any]] = [
    ("priority", _oracle_emoji("(🔺|⏫|🔼|🔽|⏬)", ""),
     _oracle_dataview("priority:: *(highest|high|medium|low|lowest)")),
    ("done", _oracle_emoji("✅", _ORACLE_DATE), _oracle_dataview("completion:: *" + _ORACLE_DATE)),
    ("cancelled", _oracle_emoji("❌", _ORACLE_DATE),
     _oracle_dataview("cancelled:: *" + _ORACLE_DATE)),
    ("due", _oracle_emoji("📅|📆|🗓", _ORACLE_DATE), _oracle_dataview("due:: *" + _ORACLE_DATE)),
    ("scheduled", _oracle_emoji("⏳|⌛", _ORACLE_DATE),
     _oracle_dataview("scheduled:: *" + _ORACLE_DATE)),
    ("start", _oracle_emoji("🛫", _ORACLE_DATE), _oracle_dataview("start:: *" + _ORACLE_DATE)),
    ("created", _oracle_emoji("➕", _ORACLE_DATE), _oracle_dataview("created:: *" + _ORACLE_DATE)),
    ("recurrence", _oracle_emoji("🔁", "([a-zA-Z0-9, !]+)"),
     _oracle_dataview("repeat:: *([a-zA-Z0-9, !]+)")),
    ("on_completion", _oracle_emoji("🏁", "([a-zA-Z]+)"),
     _oracle_dataview("onCompletion:: *([a-zA-Z]+)")),
    ("tag", None, None),
    ("id", _oracle_emoji("🆔", f"({_ORACLE_IDS})"), _oracle_dataview(f"id:: *({_ORACLE_IDS})")),
    ("depends_on", _oracle_emoji("⛔", f"({_ORACLE_IDS}( *, *{_ORACLE_IDS} *)*)"),
     _oracle_dataview(f"dependsOn:: *({_ORACLE_IDS}( *, *{_ORACLE_IDS} *)*)")),
]


def _oracle(text: str) -> dict[str, Any]:
    import re

    line = text.strip()
    found: dict[str, Any] = {"block_id": None}
    block = re.search(r" \^([a-zA-Z0-9-]+)\Z", line)
    if block:
        found["block_id"] = block.group(1)
        line = line[:block.start()].strip()
    trailing_tags = ""
    runs = 0
    while True:
        matched = False
        for name, emoji, dataview in _ORACLE_STEPS:
            if name == "tag":
                tag = re.search(r'(^|\s)#[^\s!@#$%^&*(),.?":{}|<>]+\Z', line)
                if tag:
                    line = line[:tag.start()].strip()
                    trailing_tags = " ".join(filter(None, [tag.group(0).strip(), trailing_tags]))
                    matched = True
                continue
            for regex in (emoji, dataview):
                match = regex.search(line)
                if match:
                    if name == "priority" and regex is emoji:
                        found[name] = {"🔺": "highest", "⏫": "high", "🔼": "medium",
                                       "🔽": "low", "⏬": "lowest"}[match.group(1)]
                    else:
                        found[name] = match.group(1).strip()
                    line = line[:match.start()].strip()
                    matched = True
        runs += 1
        if not (matched and runs <= 20):
            break
    found["description"] = (line + " " + trailing_tags).strip() if trailing_tags else line
    # Which rules rrule accepts is this module's heuristic (tested in the table), not Tasks'.
    if "recurrence" in found and not _RECURRENCE_RULE.match(found["recurrence"]):
        found["recurrence"] = None
    if "on_completion" in found:
        word = found["on_completion"].lower()
        found["on_completion"] = word if word in ("keep", "delete") else None
    if "depends_on" in found:
        found["depends_on"] = tuple(d for d in found["depends_on"].replace(" ", "").split(",")
                                    if d)
    return found


ORACLE_FRAGMENTS = [
    "📅", "🗓", "⏳", "⌛", "🛫", "➕", "✅", "❌", "🔁", "🏁", "🆔", "⛔",
    "🔺", "⏫", "🔽", "\ufe0f", "2026-01-31", "1999-12-32", "every day", "every week",
    "when done", "keep", "delete", "abc", "a-1", "x_y", ",", " , ", "#tag", "#a/b", "#", "^b1",
    " ^b-2", "[due:: 2026-02-02]", "(due::2026-03-03)", "[priority:: high]", "(priority:: low)",
    "[repeat:: every month]", "[id:: q1]", "(dependsOn:: q1, q2)", "[onCompletion:: keep]",
    "[due:: 2026-02-02)", "[k:: v]", "[[Note]]", " ", "  ", "\t", "x", "!",
]


@settings(max_examples=examples(500), deadline=None)
@given(st.lists(st.sampled_from(ORACLE_FRAGMENTS), max_size=16).map("".join))
@example("#ab📅2021-01-01🔁 every day")
@example("Pack 📅 2026-01-01 " + " ".join(f"#t{i}" for i in range(21)))
def test_agrees_with_a_literal_port_of_the_tasks_parser(text: str) -> None:
    expected = _oracle(text)
    fields = parse_task_text(text)
    assert fields.description == expected["description"]
    assert fields.block_id == expected["block_id"]
    for name in ("priority", "done", "cancelled", "due", "scheduled", "start", "created",
                 "recurrence", "on_completion", "id"):
        assert getattr(fields, name) == expected.get(name), name
    assert fields.depends_on == expected.get("depends_on", ())
