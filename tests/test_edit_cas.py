"""Property: whatever the user saves while vaultmap writes, the note ends up as the user's last
save with our change applied on top of it (or, when reported not applied, untouched): no user
edit is ever lost, and what set_statuses reports is what happened."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.edit import ChangeResult, StatusChange
from vaultmap.edit.atomic import rewrite_file
from vaultmap.edit.patch import plan_status_changes
from vaultmap.model import DEFAULT_STATUS_MAP
from vaultmap.parse import parse_note

Edit = Callable[[bytes], bytes]


def _append(text: bytes) -> Edit:
    return lambda data: data + text


def _prepend(text: bytes) -> Edit:
    return lambda data: text + data


def _set_first_status(char: bytes) -> Edit:
    def edit(data: bytes) -> bytes:
        at = data.index(b"[") + 1
        return data[:at] + char + data[at + 1:]

    return edit


def _retype_last_line(data: bytes) -> bytes:
    return data[:-1] + (b"!" if data[-1:] != b"!" else b"?")


_EDITS = st.one_of(
    st.sampled_from([b"appended line\n", b"- [ ] new task\n", b"x", b"\r\n"]).map(_append),
    st.sampled_from([b"Typed on top.\n\n", b"\n"]).map(_prepend),
    st.sampled_from([b" ", b"x", b"/", b"-"]).map(_set_first_status),
    st.just(_retype_last_line),
)
_DOCS = st.sampled_from([
    b"- [ ] first\n- [x] second\n",
    b"Intro\n\n- [ ] first\n\t- [ ] child\nend\n",
    b"- [/] first\r\n- [ ] second\r\n",
])


@settings(max_examples=examples(150), deadline=None)
@given(doc=_DOCS, edits=st.lists(_EDITS, max_size=6), in_place=st.lists(st.booleans(),
                                                                        min_size=6, max_size=6))
def test_property_concurrent_saves_are_never_overwritten(
        doc: bytes, edits: list[Edit], in_place: list[bool]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        note_file = Path(folder) / "n.md"
        note_file.write_bytes(doc)
        task = parse_note(doc, "n.md").tasks[0]
        new = "x" if task.status != "x" else " "
        change = StatusChange(task.key, task.status, new)
        user_versions = [doc]
        pending = list(enumerate(edits))

        def transform(data: bytes) -> tuple[bytes | None, list[ChangeResult]]:
            note = parse_note(data, "n.md")
            out, results = plan_status_changes(data, note, [change], DEFAULT_STATUS_MAP)
            if pending:  # the user saves while we work
                index, edit = pending.pop(0)
                saved = edit(note_file.read_bytes())
                if in_place[index]:
                    with open(note_file, "r+b") as handle:  # an editor overwriting in place
                        handle.write(saved)
                        handle.truncate()
                else:
                    note_file.write_bytes(saved)
                user_versions.append(saved)
            return (None if out == data else out), results

        results = rewrite_file(note_file, transform, display="n.md")

        # Never a user edit lost: the note is the user's last save, or that save with our change.
        last = user_versions[-1]
        on_top, _ = plan_status_changes(last, parse_note(last, "n.md"), [change],
                                        DEFAULT_STATUS_MAP)
        final = note_file.read_bytes()
        assert final in (last, on_top)
        if results[0].applied:
            # Reported applied: our change is in the final note, on top of the last save.
            assert final == on_top != last
            found = [t for t in parse_note(final, "n.md").tasks if t.key == task.key]
            assert [t.status for t in found] == [new]
        else:
            # Reported not applied (the status was not the expected one when we read the
            # note): nothing of ours was written.
            assert final == last
