"""Parsed notes carry the repaired display text of a double-encoded note; bytes stay as read."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from mojibake_notes import ABOUT_ENCODINGS, ROADMAP, damaged, double_encode
from vaultmap.config import load_settings
from vaultmap.parse import parse_note
from vaultmap.vault import scan_vault


@pytest.mark.parametrize("drop", [True, False], ids=["dropped-bytes", "kept-bytes"])
def test_damaged_note_parses_to_the_same_tasks_with_repaired_display_text(drop: bool) -> None:
    clean = parse_note(ROADMAP.encode(), "Plan.md")
    data = damaged(drop_undefined=drop)
    note = parse_note(data, "Plan.md")
    assert note.mojibake > 0
    assert [t.line for t in note.tasks] == [t.line for t in clean.tasks]
    assert [t.key for t in note.tasks] == [t.key for t in clean.tasks]
    assert [t.display_text for t in note.tasks] == [t.text for t in clean.tasks]
    assert [t.display_description for t in note.tasks] == [t.description for t in clean.tasks]
    assert [t.display_section for t in note.tasks] == [t.section for t in clean.tasks]
    assert [h.display_text for h in note.headings] == [h.text for h in clean.headings]
    for task in note.tasks:  # the raw text is what the bytes say; positions stay exact
        assert task.text.encode() in data
        assert data[task.offset - 1:task.offset] == b"["
    assert note.tasks[0].text != note.tasks[0].display_text


def test_clean_note_has_no_repaired_fields() -> None:
    note = parse_note(ROADMAP.encode(), "Plan.md")
    assert note.mojibake == 0
    assert all(t.repaired_text is None and t.repaired_description is None
               and t.repaired_section is None for t in note.tasks)
    assert all(h.repaired_text is None for h in note.headings)


def test_note_about_encodings_is_shown_as_written() -> None:
    note = parse_note(ABOUT_ENCODINGS.encode(), "Encodings.md")
    assert note.mojibake == 0
    assert "Ã©" in note.tasks[0].display_text
    assert [t.display_text for t in note.tasks] == [t.text for t in note.tasks]


def test_cp1252_note_reads_correctly_and_needs_no_repair() -> None:
    data = "# Café\n- [ ] Réunion “lundi” — 10 h\n".encode("cp1252")
    note = parse_note(data, "Legacy.md")
    assert note.encoding == "cp1252"
    assert note.mojibake == 0
    assert note.tasks[0].display_text == "Réunion “lundi” — 10 h"


def test_task_under_a_damaged_heading_in_a_crlf_note() -> None:
    text = "# " + double_encode("Zoë’s list") + "\r\n- [ ] a\r\n"
    note = parse_note(text.encode(), "z.md")
    assert note.tasks[0].display_section == ("Zoë’s list",)
    assert note.tasks[0].section == (double_encode("Zoë’s list"),)


def test_the_index_carries_the_repaired_text(tmp_path: Path) -> None:
    note = tmp_path / "Plan.md"
    note.write_bytes(damaged())
    hour_ago = time.time_ns() - 3600 * 1_000_000_000  # an older file is trusted by the index
    os.utime(note, ns=(hour_ago, hour_ago))
    settings = load_settings(tmp_path)
    cold = scan_vault(settings)
    warm = scan_vault(settings)
    assert warm.reused == 1 and warm.parsed == 0
    assert warm.notes == cold.notes
    assert warm.notes[0].tasks[0].display_text == "Read “Fluent Python” — chapter 1"
    assert warm.notes[0].mojibake == cold.notes[0].mojibake > 0


def test_reports_and_task_lists_show_the_repaired_text(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vaultmap.cli import main

    data = damaged()
    (tmp_path / "Plan.md").write_bytes(data)
    runner = CliRunner()

    def out(*args: str) -> str:
        result = runner.invoke(main, [*args, str(tmp_path)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    for text in (out("report"), out("report", "--format", "markdown"), out("tasks")):
        assert "Read “Fluent Python” — chapter 1" in text
        assert "Week 1️⃣: Basics" in text
        assert "â€" not in text and "ðŸ" not in text
    report = json.loads(out("report", "--format", "json"))
    (top,) = report["notes"][0]["sections"]
    assert top["title"] == "🧩 Skill 1 — Python"  # section titles are display text
    assert [s["title"] for s in top["sections"]] == ["Week 1️⃣: Basics", "Week 2️⃣: Next"]
    next_up = report["gaps"]["open_by_section"][0]["next"]  # a task keeps both forms
    assert next_up["display_text"] == "Read “Fluent Python” — chapter 1"
    assert next_up["text"] == double_encode(next_up["display_text"])
    tasks = json.loads(out("tasks", "--json"))
    first = tasks[0]
    assert first["text"] == double_encode("Read “Fluent Python” — chapter 1")
    assert first["display_text"] == "Read “Fluent Python” — chapter 1"
    assert first["display_section"] == ["🧩 Skill 1 — Python", "Week 1️⃣: Basics"]
    assert first["section"] == [double_encode("🧩 Skill 1 — Python"),
                                double_encode("Week 1️⃣: Basics")]
    assert (tmp_path / "Plan.md").read_bytes() == data  # showing never writes


_CLEAN_LINE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn", "Zl", "Zp")),
    min_size=1, max_size=30,
).filter(lambda t: not t.isascii())


@settings(max_examples=examples(150), deadline=None)
@given(_CLEAN_LINE, st.sampled_from(["\n", "\r\n"]))
def test_property_fix_restores_the_original_bytes_and_keys(text: str, newline: str) -> None:
    import ftfy
    from ftfy.badness import is_bad

    from vaultmap.edit.repair import plan_repair
    from vaultmap.parse.mojibake import might_be_damaged

    assume(not might_be_damaged(text) and not is_bad(text) and ftfy.fix_encoding(text) == text)
    original = f"# {text}{newline}- [ ] {text}{newline}- [x] plain{newline}".encode()
    data = double_encode(original.decode(), drop_undefined=False).encode()
    repair = plan_repair(data, "n.md")
    assert repair is not None
    assert repair.data == original
    clean, fixed = parse_note(original, "n.md"), parse_note(repair.data, "n.md")
    damaged_note = parse_note(data, "n.md")
    assert [t.key for t in damaged_note.tasks] == [t.key for t in clean.tasks]
    assert [(t.line, t.key, t.text) for t in fixed.tasks] == [
        (t.line, t.key, t.display_text) for t in damaged_note.tasks]
