"""The task-aware merge of one note (vaultmap.sync.git.merge.merge_note), as a function.

The same scenarios run through real git in tests/test_git_driver.py; here each rule is pinned
on bytes, including the byte-level promises (line endings, BOM, legacy encodings).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vaultmap.model import Flavor
from vaultmap.sync.git.merge import MergeResult, merge_note

BASE = (b"# Groceries\n\n- [ ] Milk\n- [ ] Eggs\n- [ ] Bread\n- [ ] Call dentist\n"
        b"- [ ] Pay rent\n\nNotes: buy organic.\n")


def edit(data: bytes, *pairs: tuple[bytes, bytes]) -> bytes:
    for old, new in pairs:
        assert data.count(old) == 1, old
        data = data.replace(old, new)
    return data


def merged(ours: bytes, theirs: bytes, base: bytes = BASE, **options: object) -> MergeResult:
    result = merge_note(base, ours, theirs, **options)  # type: ignore[arg-type]
    return result


def test_adjacent_ticks_both_land() -> None:
    result = merged(edit(BASE, (b"[ ] Milk", b"[x] Milk")), edit(BASE, (b"[ ] Eggs", b"[x] Eggs")))
    assert result.clean
    assert result.data == edit(BASE, (b"[ ] Milk", b"[x] Milk"), (b"[ ] Eggs", b"[x] Eggs"))


def test_tick_lands_on_the_reworded_task() -> None:
    result = merged(edit(BASE, (b"[ ] Call dentist", b"[x] Call dentist")),
                    edit(BASE, (b"Call dentist", b"Call dentist at 9am")))
    assert result.clean
    assert result.data == edit(BASE, (b"[ ] Call dentist", b"[x] Call dentist at 9am"))


def test_tick_follows_a_move_within_the_note_and_an_indent() -> None:
    moved = edit(BASE, (b"- [ ] Pay rent\n", b""),
                 (b"# Groceries\n", b"# Groceries\n- [ ] Pay rent\n"))
    result = merged(moved, edit(BASE, (b"[ ] Pay rent", b"[x] Pay rent")))
    assert result.clean
    assert result.data == moved.replace(b"[ ] Pay rent", b"[x] Pay rent")
    indented = edit(BASE, (b"- [ ] Eggs", b"    - [ ] Eggs"))
    result = merged(edit(BASE, (b"[ ] Eggs", b"[x] Eggs")), indented)
    assert result.clean and result.data == indented.replace(b"[ ] Eggs", b"[x] Eggs")


def test_tick_follows_a_move_under_another_heading() -> None:
    base = b"# A\n- [ ] one\n- [ ] two\n\n# B\n- [ ] three\n"
    moved = b"# A\n- [ ] one\n\n# B\n- [ ] three\n- [ ] two\n"
    result = merged(moved, base.replace(b"[ ] two", b"[x] two"), base)
    assert result.clean and result.data == moved.replace(b"[ ] two", b"[x] two")


def test_both_append_keeps_both_ours_first_once_each() -> None:
    ours = edit(BASE, (b"Pay rent\n", b"Pay rent\n- [ ] Butter\n- [ ] Jam\n"))
    theirs = edit(BASE, (b"Pay rent\n", b"Pay rent\n- [ ] Jam\n- [ ] Tea\n"))
    result = merged(ours, theirs)
    assert result.clean
    assert result.data == edit(BASE, (b"Pay rent\n",
                                      b"Pay rent\n- [ ] Butter\n- [ ] Jam\n- [ ] Tea\n"))


def test_both_insert_prose_at_one_place_is_a_conflict() -> None:
    ours = edit(BASE, (b"Pay rent\n", b"Pay rent\nSome prose.\n"))
    theirs = edit(BASE, (b"Pay rent\n", b"Pay rent\n- [ ] Jam\n"))
    assert not merged(ours, theirs).clean


def test_same_task_changed_on_both_sides_follows_prefer() -> None:
    ours = edit(BASE, (b"[ ] Milk", b"[-] Milk"))
    theirs = edit(BASE, (b"[ ] Milk", b"[x] Milk"))
    done = merged(ours, theirs)
    assert done.clean and b"- [x] Milk" in done.data and done.notes
    assert b"- [-] Milk" in merged(ours, theirs, prefer="local").data
    assert b"- [x] Milk" in merged(ours, theirs, prefer="remote").data
    # While a rebase replays local commits, git's ours is the upstream: local is theirs.
    assert b"- [x] Milk" in merged(ours, theirs, prefer="local", ours_is_local=False).data
    assert b"- [-] Milk" in merged(ours, theirs, prefer="remote", ours_is_local=False).data
    # Equal rank under "done": the local side wins.
    doing_a = edit(BASE, (b"[ ] Milk", b"[/] Milk"))
    doing_b = edit(BASE, (b"[ ] Milk", b"[?] Milk"))
    other_a = edit(BASE, (b"[ ] Milk", b"[>] Milk"))
    other_b = edit(BASE, (b"[ ] Milk", b"[<] Milk"))
    assert b"- [>] Milk" in merged(other_a, other_b).data
    assert b"- [<] Milk" in merged(other_a, other_b, ours_is_local=False).data
    assert b"- [/] Milk" in merged(doing_a, doing_b).data  # doing (2) outranks other (1)


def test_tick_against_deletion_keeps_the_ticked_task_and_says_so() -> None:
    result = merged(edit(BASE, (b"[ ] Bread", b"[x] Bread")), edit(BASE, (b"- [ ] Bread\n", b"")))
    assert result.clean
    assert result.data == edit(BASE, (b"[ ] Bread", b"[x] Bread"))
    assert any("Bread" in note and "deleted" in note for note in result.notes)
    # The other way round, and an untouched task's deletion still wins.
    result = merged(edit(BASE, (b"- [ ] Bread\n", b""), (b"- [ ] Milk\n", b"")),
                    edit(BASE, (b"[ ] Bread", b"[x] Bread")))
    assert result.data == edit(BASE, (b"[ ] Bread", b"[x] Bread"), (b"- [ ] Milk\n", b""))


def test_genuine_conflict_marks_that_hunk_only() -> None:
    ours = edit(BASE, (b"Call dentist", b"Call the dentist"), (b"[ ] Milk", b"[x] Milk"),
                (b"buy organic", b"buy fresh"))
    theirs = edit(BASE, (b"Call dentist", b"Phone dentist (9am)"), (b"[ ] Eggs", b"[x] Eggs"))
    result = merged(ours, theirs)
    assert not result.clean
    assert result.data == (b"# Groceries\n\n- [x] Milk\n- [x] Eggs\n- [ ] Bread\n"
                           b"<<<<<<< ours\n- [ ] Call the dentist\n=======\n"
                           b"- [ ] Phone dentist (9am)\n>>>>>>> theirs\n"
                           b"- [ ] Pay rent\n\nNotes: buy fresh.\n")
    assert [(h.start_line, h.end_line) for h in result.conflicts] == [(6, 10)]


def test_conflict_style_marker_size_and_labels() -> None:
    ours = edit(BASE, (b"buy organic", b"buy fresh"))
    theirs = edit(BASE, (b"buy organic", b"buy cheap"))
    result = merged(ours, theirs, marker_size=9, conflict_style="diff3",
                    labels=("mine", "old", "yours"))
    assert b"<<<<<<<<< mine\nNotes: buy fresh.\n||||||||| old\nNotes: buy organic.\n" \
           b"=========\nNotes: buy cheap.\n>>>>>>>>> yours\n" in result.data


def test_setext_underlines_and_marker_like_lines_are_not_mistaken_for_markers() -> None:
    base = b"Title\n=======\n\n- [ ] a\n- [ ] b\n\n<<<<<<< not a marker\n"
    result = merged(base.replace(b"[ ] a", b"[x] a"), base.replace(b"[ ] b", b"[x] b"), base)
    assert result.clean
    assert result.data == base.replace(b"[ ] a", b"[x] a").replace(b"[ ] b", b"[x] b")


def test_bytes_crlf_bom_trailing_spaces_and_no_final_newline() -> None:
    base = b"\xef\xbb\xbf# Plan\r\n- [ ] one  \r\n- [ ] two\n- [ ] three\t\r\n- [ ] four"
    ours = base.replace(b"[ ] one", b"[x] one").replace(b"[ ] three", b"[x] three")
    theirs = base.replace(b"[ ] two", b"[x] two").replace(b"[ ] four", b"[/] four")
    result = merged(ours, theirs, base)
    assert result.clean
    assert result.data == (b"\xef\xbb\xbf# Plan\r\n- [x] one  \r\n- [x] two\n- [x] three\t\r\n"
                           b"- [/] four")


def test_cp1252_note_merges_bytes_exactly() -> None:
    base = "# Caf\u00e9\r\n- [ ] cr\u00e8me\r\n- [ ] th\u00e9\r\n".encode("cp1252")
    ours = base.replace(b"[ ] cr", b"[x] cr")
    theirs = base.replace(b"[ ] th", b"[x] th")
    result = merged(ours, theirs, base)
    assert result.clean
    assert result.data == "# Caf\u00e9\r\n- [x] cr\u00e8me\r\n- [x] th\u00e9\r\n".encode("cp1252")


def test_multibyte_status_characters() -> None:
    base = b"- [ ] a\n- [ ] b\n"
    result = merged("- [✓] a\n- [ ] b\n".encode(), "- [ ] a\n- [→] b\n".encode(), base)
    assert result.clean and result.data == "- [✓] a\n- [→] b\n".encode()


def test_identity_merges_return_the_same_bytes() -> None:
    for data in (BASE, b"", b"\xff\xfe odd bytes\r", b"- [x] only\r\n"):
        assert merge_note(data, data, data).data == data


def test_tasks_in_quotes_and_callouts_and_gfm_flavour() -> None:
    base = b"> [!todo] Plan\n> - [ ] a\n> - [ ] b\n"
    result = merged(base.replace(b"[ ] a", b"[x] a"), base.replace(b"[ ] b", b"[x] b"), base)
    assert result.data == b"> [!todo] Plan\n> - [x] a\n> - [x] b\n"
    plain = b"- [ ] a\n- [ ] b\n"
    result = merged(b"- [x] a\n- [ ] b\n", b"- [ ] a\n- [x] b\n", plain, flavor=Flavor.GFM)
    assert result.data == b"- [x] a\n- [x] b\n"


def test_note_added_on_both_sides_unites_its_tasks() -> None:
    result = merged(b"# Ideas\n- [ ] A\n", b"# Ideas\n- [ ] B\n", b"")
    assert result.clean and result.data == b"# Ideas\n- [ ] A\n- [ ] B\n"


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError):
        merge_note(BASE, BASE, BASE, prefer="vault")


def test_git_prefer_setting(tmp_path: Path) -> None:
    from vaultmap.config import load_settings
    from vaultmap.errors import ConfigError

    assert load_settings(tmp_path).git.prefer == "done"
    (tmp_path / ".vaultmap.toml").write_text('[git]\nprefer = "remote"\n')
    assert load_settings(tmp_path).git.prefer == "remote"
    (tmp_path / ".vaultmap.toml").write_text('[git]\nprefer = "notion"\n')
    with pytest.raises(ConfigError, match=r"\[git\] prefer must be"):
        load_settings(tmp_path)


def test_conflict_lines_count_a_restored_task_above_them() -> None:
    ours = edit(BASE, (b"[ ] Milk", b"[x] Milk"), (b"buy organic", b"buy fresh"))
    theirs = edit(BASE, (b"- [ ] Milk\n", b""), (b"buy organic", b"buy cheap"))
    result = merged(ours, theirs)
    lines = result.data.split(b"\n")
    assert [(h.start_line, h.end_line) for h in result.conflicts] == [(9, 13)]
    assert lines[2] == b"- [x] Milk"
    assert lines[8].startswith(b"<<<<<<< ") and lines[12].startswith(b">>>>>>> ")
    # A user's own marker-like line does not count as a conflict.
    base = b"<<<<<<< quoted\n" + BASE
    result = merged(base.replace(b"buy organic", b"buy fresh"),
                    base.replace(b"buy organic", b"buy cheap"), base)
    assert [(h.start_line, h.end_line) for h in result.conflicts] == [(10, 14)]
