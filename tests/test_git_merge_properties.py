"""Properties of the task-aware merge (hypothesis): identities byte for byte, and for random
independent edits on two sides every status change survives (or follows the policy) and every
added task appears exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.model import DEFAULT_STATUS_MAP, StatusType
from vaultmap.parse import parse_note
from vaultmap.sync.git.merge import merge_note

# The documented order of prefer = "done", written out independently of the code.
FINISHED_ORDER = {StatusType.DONE: 4, StatusType.CANCELLED: 3, StatusType.DOING: 2,
                  StatusType.OTHER: 1, StatusType.TODO: 0}

STATUSES = [" ", "x", "/", "-", "?"]
WORDS = ["plan", "write", "read", "call", "fix", "ship", "test", "draw"]
PROPERTY_SETTINGS = settings(max_examples=examples(60), deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Line:
    kind: str  # task | prose | heading | blank
    text: str
    status: str = " "
    indent: str = ""
    eol: str = "\n"

    def render(self) -> str:
        if self.kind == "task":
            return f"{self.indent}- [{self.status}] {self.text}{self.eol}"
        if self.kind == "heading":
            return f"## {self.text}{self.eol}"
        if self.kind == "prose":
            return f"{self.text}{self.eol}"
        return self.eol


def render(lines: list[Line], bom: bool) -> bytes:
    return ("\ufeff" if bom else "").encode() + "".join(x.render() for x in lines).encode()


@st.composite
def notes(draw: st.DrawFn) -> tuple[list[Line], bool]:
    count = draw(st.integers(min_value=1, max_value=14))
    crlf = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    lines: list[Line] = []
    for i in range(count):
        kind = draw(st.sampled_from(["task", "task", "task", "prose", "heading", "blank"]))
        eol = draw(st.sampled_from(["\n", "\r\n"])) if crlf == "mixed" else crlf
        word = draw(st.sampled_from(WORDS))
        text = f"{word} item {i}" + draw(st.sampled_from(["", "  ", " #tag"]))
        lines.append(Line(kind, text, draw(st.sampled_from(STATUSES)), "", eol))
    return lines, draw(st.booleans())


def copy(lines: list[Line]) -> list[Line]:
    return [Line(x.kind, x.text, x.status, x.indent, x.eol) for x in lines]


def statuses_by_text(data: bytes) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for task in parse_note(data, "n.md").tasks:
        found.setdefault(task.description.strip(), []).append(task.status)
    return found


@PROPERTY_SETTINGS
@given(notes(), st.data())
def test_identities_hold_byte_for_byte(note: tuple[list[Line], bool], data: st.DataObject) -> None:
    lines, bom = note
    base = render(lines, bom)
    edited = copy(lines)
    for line in edited:
        if line.kind == "task" and data.draw(st.booleans()):
            line.status = data.draw(st.sampled_from(STATUSES))
        if data.draw(st.integers(0, 5)) == 0:
            line.text += " more"
    x = render(edited, bom)
    assert merge_note(base, x, base).data == x
    assert merge_note(base, base, x).data == x
    assert merge_note(base, x, x).data == x
    assert merge_note(base, base, base).data == base


@PROPERTY_SETTINGS
@given(notes(), st.data(), st.sampled_from(["done", "local", "remote"]))
def test_independent_status_changes_and_insertions(
        note: tuple[list[Line], bool], data: st.DataObject, prefer: str) -> None:
    lines, bom = note
    base = render(lines, bom)
    sides = []
    added: list[str] = []
    for side in ("ours", "theirs"):
        edited = copy(lines)
        for line in edited:
            if line.kind == "task" and data.draw(st.integers(0, 2)) == 0:
                line.status = data.draw(st.sampled_from(STATUSES))
        for n in range(data.draw(st.integers(0, 3))):
            where = data.draw(st.integers(0, len(edited)))
            text = f"new {side} {n}"
            added.append(text)
            edited.insert(where, Line("task", text, data.draw(st.sampled_from(STATUSES))))
        sides.append(edited)
    ours, theirs = sides
    result = merge_note(base, render(ours, bom), render(theirs, bom), path="n.md",
                        prefer=prefer)
    assert result.clean, result.data
    merged = statuses_by_text(result.data)
    for text in added:
        assert len(merged.get(text, [])) == 1, (text, result.data)
    ours_by = {x.text.strip(): x.status for x in ours if x.kind == "task"}
    theirs_by = {x.text.strip(): x.status for x in theirs if x.kind == "task"}
    for line in lines:
        if line.kind != "task":
            continue
        key = line.text.strip()
        mine, yours = ours_by[key], theirs_by[key]
        if mine == yours or yours == line.status:
            want = mine
        elif mine == line.status:
            want = yours
        elif prefer == "local":
            want = mine
        elif prefer == "remote":
            want = yours
        else:
            rank = FINISHED_ORDER
            type_of = DEFAULT_STATUS_MAP.type_of
            want = yours if rank[type_of(yours)] > rank[type_of(mine)] else mine
        assert merged[key] == [want], (key, result.data)


@PROPERTY_SETTINGS
@given(notes(), st.data())
def test_status_changes_follow_rewords_moves_and_indents(
        note: tuple[list[Line], bool], data: st.DataObject) -> None:
    lines, bom = note
    base = render(lines, bom)
    ours = copy(lines)  # rewords, indents and one move
    for line in ours:
        if line.kind == "task" and data.draw(st.integers(0, 3)) == 0:
            line.text = line.text.rstrip() + " (reworded)"
        if line.kind == "task" and data.draw(st.integers(0, 4)) == 0:
            line.indent = "  "
    if len(ours) > 1:
        item = ours.pop(data.draw(st.integers(0, len(ours) - 1)))
        ours.insert(data.draw(st.integers(0, len(ours))), item)
    theirs = copy(lines)  # status changes only
    for line in theirs:
        if line.kind == "task" and data.draw(st.booleans()):
            line.status = data.draw(st.sampled_from(STATUSES))
    result = merge_note(base, render(ours, bom), render(theirs, bom), path="n.md")
    assert result.clean
    expected = copy(ours)
    status_of = {x.text.strip(): x.status for x in theirs if x.kind == "task"}
    for line in expected:
        if line.kind == "task":
            line.status = status_of[line.text.replace(" (reworded)", "").strip()]
    assert result.data == render(expected, bom)
