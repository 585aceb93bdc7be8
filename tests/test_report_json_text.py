"""The JSON report's text: written by msgspec (fast), it is byte for byte what the json module
writes of the same report data (indented and compact), escapes and all, on ordinary and
hostile notes; a lone surrogate still comes out as the json module's ASCII escapes; each
note's pre-encoded share (kept in the index) spliced in gives the very same text."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest

from report_fixtures import NOTES, make_vault
from vaultmap.config import load_settings
from vaultmap.model import Note
from vaultmap.parse import parse_note
from vaultmap.progress import Progress, build_progress, merge_rollups
from vaultmap.report import ReportOptions, render_json, report_dict
from vaultmap.report.json_report import ReportSummariser, ReportSummary
from vaultmap.vault import scan_vault

TEMPLATE = Path(__file__).resolve().parent.parent / "vault-template"

# What a terminal would act on and JSON leaves alone: DEL, C1, bidi overrides, line separators.
_CONTROL = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def stdlib_json(data: Any, *, pretty: bool) -> str:
    """The report text as the json module writes it (the spelling before msgspec)."""
    layout: dict[str, Any] = {"indent": 2} if pretty else {"separators": (",", ":")}
    text = json.dumps(data, ensure_ascii=False, **layout)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, ensure_ascii=True, **layout)
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


HOSTILE = {
    "Hostile/Zoë’s plan.md": (
        "---\ntags: [Work, \"#ünï\", x\u202ey]\n---\n"
        "# Zoë’s \u202e plan \u2066isolate\u2069\n"
        "- [ ] a \x7f del \x85 nel \u2028 line sep 📅 2024-02-31 #tag\n"
        "- [x] done ✅ 2024-01-01 \"quoted\" back\\\\slash\n"
        "  - [/] child\ttab \x1b[31mred\x1b[0m\n"
        "## Ã©tÃ© mojibake\n"
        "- [?] other 📅 2024-01-05\n"
        "- [-] cancelled 🔺\n"
    ),
    "日本/ノート.md": "# 見出し\n- [ ] タスク 📅 2026-11-01\n- [x] 完了\n",
    "Empty.md": "no tasks at all\n",
}


def progress_of(texts: dict[str, str], top_level_only: bool = False) -> Progress:
    notes = [parse_note(text.encode(), path) for path, text in texts.items()]
    return build_progress(notes, today=date(2026, 11, 22), top_level_only=top_level_only)


def assert_same_text(progress: Progress) -> None:
    for by in ("note", "section", "folder", "tag"):
        options = ReportOptions(by=by, depth=2, title="v\x9b", root="/r",  # type: ignore[arg-type]
                                warnings=("w \u2028", "plain"))
        data = report_dict(progress, options)
        for pretty in (True, False):
            assert render_json(progress, options, pretty=pretty) == stdlib_json(data,
                                                                                pretty=pretty)


@pytest.mark.parametrize("top_level_only", [False, True])
def test_the_fixture_and_hostile_notes_read_as_the_json_module_writes(
        top_level_only: bool) -> None:
    assert_same_text(progress_of(NOTES, top_level_only))
    assert_same_text(progress_of(HOSTILE, top_level_only))


def test_the_template_vault_and_the_report_vault_read_as_the_json_module_writes(
        tmp_path: Path) -> None:
    make_vault(tmp_path / "vault")
    for root in (TEMPLATE, tmp_path / "vault"):
        notes = scan_vault(load_settings(root), use_index=False).notes
        assert notes
        assert_same_text(build_progress(notes, today=date(2026, 11, 22)))


def test_a_lone_surrogate_falls_back_to_ascii_escapes() -> None:
    # A file name that is no UTF-8 reaches the report as a lone surrogate (os.fsdecode).
    base = parse_note(b"- [ ] a task\n", "x.md")
    odd = Note(path="bad\udcffname.md", tasks=tuple(
        msgspec.structs.replace(task, path="bad\udcffname.md") for task in base.tasks))
    progress = build_progress([odd, parse_note("- [x] é\n".encode(), "é.md")])
    options = ReportOptions()
    for pretty in (True, False):
        text = render_json(progress, options, pretty=pretty)
        assert text == stdlib_json(report_dict(progress, options), pretty=pretty)
        assert "\\udcff" in text and "\\u00e9" in text and text.isascii()
        json.loads(text)


def summaries_of(texts: dict[str, str], top_level_only: bool = False) -> list[ReportSummary]:
    summariser = ReportSummariser(top_level_only)
    made = [summariser(parse_note(text.encode(), path)) for path, text in sorted(texts.items())]
    # As the index keeps them: encoded, then read back.
    return [summariser.decode(summariser.encode(summary)) for summary in made]


@pytest.mark.parametrize("top_level_only", [False, True])
@pytest.mark.parametrize("today", [date(2024, 1, 4), date(2026, 11, 22), None])
def test_spliced_note_parts_give_the_same_text(top_level_only: bool, today: date | None) -> None:
    texts = {**NOTES, **HOSTILE}
    summaries = summaries_of(texts, top_level_only)
    progress = merge_rollups([s.rollup for s in summaries], today=today,
                             top_level_only=top_level_only)
    assert progress == build_progress(
        [parse_note(text.encode(), path) for path, text in texts.items()], today=today,
        top_level_only=top_level_only)
    parts = [s.json_part() for s in summaries]
    assert all(part is not None for part in parts)
    options = ReportOptions(by="folder", depth=1, title="v", root="/r")
    for pretty in (True, False):
        spliced = render_json(progress, options, pretty=pretty,
                              parts=[p for p in parts if p is not None])
        assert spliced == render_json(progress, options, pretty=pretty)
        assert spliced == stdlib_json(report_dict(progress, options), pretty=pretty)


def test_parts_of_other_notes_are_not_spliced() -> None:
    summaries = summaries_of(NOTES)
    progress = merge_rollups([s.rollup for s in summaries[1:]])
    parts = [p for p in (s.json_part() for s in summaries) if p is not None]
    options = ReportOptions()
    # One part too many, or the right number for other notes: built from the progress instead.
    assert render_json(progress, options, parts=parts) == render_json(progress, options)
    assert render_json(progress, options, parts=parts[:-1]) == render_json(progress, options)
