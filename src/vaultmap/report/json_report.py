"""The JSON report, schema ``vaultmap.report/1``, and the JSON form of one task.

The schema is documented field by field in ``docs/report-schema.md`` (keep the two in step).
Within a schema version fields are only ever added; a removed or re-typed field bumps the
version. Every object that holds numbers holds a *counts* object, so a consumer needs one
reader for all of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from vaultmap import __version__
from vaultmap.progress import (
    Counts,
    FolderProgress,
    NoteProgress,
    Progress,
    Section,
    TaskRef,
    percent_label,
)
from vaultmap.report.common import ReportOptions

if TYPE_CHECKING:
    from vaultmap.model import Task

SCHEMA = "vaultmap.report/1"


def counts_dict(counts: Counts) -> dict[str, Any]:
    """The counts object: every status type, the sums, the percent and the label shown."""
    # A big vault's report holds tens of thousands of counts objects, most of them alike
    # (every note without tasks): each distinct one is worked out once per process.
    key = (counts.todo, counts.doing, counts.done, counts.cancelled, counts.other)
    known = _COUNTS_DICTS.get(key)
    if known is None:
        percent = counts.percent
        known = _COUNTS_DICTS[key] = {
            "todo": counts.todo,
            "doing": counts.doing,
            "done": counts.done,
            "cancelled": counts.cancelled,
            "other": counts.other,
            "total": counts.total,
            "counted": counts.counted,
            "open": counts.open,
            "percent": None if percent is None else round(percent, 2),
            "label": percent_label(counts),
        }
    return known.copy()  # a caller may change its copy


_COUNTS_DICTS: dict[tuple[int, int, int, int, int], dict[str, Any]] = {}


def _counts_json(counts: Counts) -> msgspec.Raw:
    """:func:`counts_dict` already encoded, spliced as is into the JSON text: the tens of
    thousands of counts objects of a big vault's report are a few hundred distinct ones."""
    known = _COUNTS_JSON.get(counts)  # Counts is frozen: hashed and compared by value
    if known is None:
        known = _COUNTS_JSON[counts] = msgspec.Raw(msgspec.json.encode(counts_dict(counts)))
    return known


_COUNTS_JSON: dict[Counts, msgspec.Raw] = {}
_CountsForm = Callable[[Counts], Any]


def task_dict(task: Task, *, note_tags: tuple[str, ...] = ()) -> dict[str, Any]:
    """Everything known about one task, as ``vaultmap tasks --json`` prints it."""
    f = task.fields
    return {
        "path": task.path,
        "line": task.line,
        "offset": task.offset,
        "status": task.status,
        "type": task.type.value,
        "text": task.text,
        "description": f.description,
        "section": list(task.section),
        "display_text": task.display_text,
        "display_description": task.display_description,
        "display_section": list(task.display_section),
        "depth": task.depth,
        "parent_line": task.parent_line,
        "in_quote": task.in_quote,
        "tags": list(f.tags),
        "note_tags": list(note_tags),
        "links": list(f.links),
        "fields": {
            "due": f.due,
            "scheduled": f.scheduled,
            "start": f.start,
            "created": f.created,
            "done": f.done,
            "cancelled": f.cancelled,
            "priority": f.priority,
            "recurrence": f.recurrence,
            "on_completion": f.on_completion,
            "id": f.id,
            "depends_on": list(f.depends_on),
            "block_id": f.block_id,
            "dataview": dict(f.dataview),
        },
        "key": task.key,
    }


def task_ref(task: TaskRef) -> dict[str, Any]:
    """The short form of a task used inside the report's gaps."""
    return {
        "path": task.path,
        "line": task.line,
        "status": task.status,
        "type": task.type.value,
        "text": task.text,
        "description": task.description,
        "section": list(task.section),
        "display_text": task.display_text,
        "display_description": task.display_description,
        "display_section": list(task.display_section),
        "due": task.due,
        "key": task.key,
    }


def _section_dict(section: Section, counts: _CountsForm) -> dict[str, Any]:
    return {
        "title": section.title,
        "path": list(section.path),
        "level": section.level,
        "line": section.line,
        "counts": counts(section.counts),
        "own": counts(section.own),
        "sections": [_section_dict(c, counts) for c in section.children],
    }


def _note_dict(note: NoteProgress, counts: _CountsForm) -> dict[str, Any]:
    return {
        "path": note.path,
        "title": note.title,
        "tags": list(note.tags),
        "counts": counts(note.counts),
        "own": counts(note.root.own),
        "sections": [_section_dict(c, counts) for c in note.root.children],
    }


def _folder_dict(folder: FolderProgress, counts: _CountsForm) -> dict[str, Any]:
    return {
        "path": folder.path,
        "name": folder.name,
        "counts": counts(folder.counts),
        "folders": [_folder_dict(f, counts) for f in folder.folders],
        "notes": [n.path for n in folder.notes],
    }


def report_dict(progress: Progress, options: ReportOptions) -> dict[str, Any]:
    """The whole report as plain JSON-ready data (schema ``vaultmap.report/1``)."""
    return _report_data(progress, options, counts_dict)


def _report_data(progress: Progress, options: ReportOptions,
                 counts: _CountsForm) -> dict[str, Any]:
    """:func:`report_dict`, each counts object made by ``counts`` (a dict, or encoded JSON)."""
    gaps = progress.gaps
    return {
        "schema": SCHEMA,
        "vaultmap": __version__,
        "vault": {"name": options.title, "root": options.root},
        "today": progress.today.isoformat() if progress.today else None,
        "options": {"by": options.by, "depth": options.depth,
                    "top_level_only": progress.top_level_only},
        "totals": counts(progress.counts),
        "notes": [_note_dict(n, counts) for n in progress.notes],
        "folders": _folder_dict(progress.folders, counts),
        "tags": [{"tag": t.tag, "notes": t.notes, "counts": counts(t.counts)}
                 for t in progress.tags],
        "gaps": {
            "open_by_section": [
                {"path": g.path, "section": list(g.section), "line": g.line,
                 "open": len(g.open_lines), "open_lines": list(g.open_lines),
                 "next": task_ref(g.next)}
                for g in gaps.open_by_section
            ],
            "no_progress": [
                {"path": r.path, "section": list(r.section), "line": r.line,
                 "counts": counts(r.counts)}
                for r in gaps.no_progress
            ],
            "overdue": [
                {"task": task_ref(o.task), "due": o.due.isoformat(), "days_late": o.days_late}
                for o in gaps.overdue
            ],
            "parents_open": [task_ref(t) for t in gaps.parents_open],
            # Only with git history (docs/report-schema.md).
            **({"stalled": [
                {"path": s.path, "section": list(s.section), "line": s.line,
                 "counts": counts(s.counts), "last_progress": s.last_progress.isoformat(),
                 "days": s.days}
                for s in gaps.stalled],
                "focus": [{"path": f.path, "section": list(f.section), "task": task_ref(f.task)}
                          for f in gaps.focus]} if gaps.history else {}),
        },
        "warnings": list(options.warnings),
    }


def render_json(progress: Progress, options: ReportOptions, *, pretty: bool = True) -> str:
    """The JSON report as text, ending in a newline: indented for people when ``pretty``,
    else compact. The same text as :func:`dumps` of :func:`report_dict`, written by msgspec
    (several times faster than the json module on a big vault's report)."""
    try:
        encoded = msgspec.json.encode(_report_data(progress, options, _counts_json))
    except UnicodeEncodeError:  # a lone surrogate: only the json module's escapes carry it
        return dumps(report_dict(progress, options), pretty=pretty)
    if pretty:
        # The json module's layout with indent=2 (tests/test_report_render.py compares them).
        encoded = msgspec.json.format(encoded, indent=2)
    # The same escapes as below, made in the UTF-8 bytes: one pass over a third of the
    # memory the text takes (a report with an emoji is four bytes a character as a str).
    return _TERMINAL_CONTROL_UTF8.sub(_escape_utf8, encoded).decode() + "\n"


def dumps(data: object, *, pretty: bool = True) -> str:
    """JSON text that keeps readable characters, escaping all of them only when some text holds
    an undecodable byte (a lone surrogate), which no UTF-8 output could carry."""
    # Python's C encoder only runs without indent: compact output is the fast path.
    layout: dict[str, Any] = {"indent": 2} if pretty else {"separators": (",", ":")}
    text = json.dumps(data, ensure_ascii=False, **layout)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, ensure_ascii=True, **layout)
    # JSON escapes C0 controls itself but not DEL, C1 (8-bit CSI/OSC) or bidi overrides, which
    # a terminal would act on: written as \u escapes they read back as the same text.
    return _TERMINAL_CONTROL.sub(_escape, text) + "\n"


_TERMINAL_CONTROL = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


# _TERMINAL_CONTROL's characters as UTF-8: DEL, C1 (C2 80-9F), U+202A-202E and U+2028-2029
# (E2 80 A8-AE), U+2066-2069 (E2 81 A6-A9).
_TERMINAL_CONTROL_UTF8 = re.compile(
    rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]")


def _escape_utf8(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(match.group().decode())
