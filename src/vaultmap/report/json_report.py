"""The JSON report, schema ``vaultmap.report/1``, and the JSON form of one task.

The schema is documented field by field in ``docs/report-schema.md`` (keep the two in step).
Within a schema version fields are only ever added; a removed or re-typed field bumps the
version. Every object that holds numbers holds a *counts* object, so a consumer needs one
reader for all of them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from vaultmap import __version__
from vaultmap.fs import source_stamp
from vaultmap.progress import (
    Counts,
    FolderProgress,
    NoteProgress,
    NoteRollup,
    Progress,
    RollupSummariser,
    Section,
    SectionGap,
    SectionRef,
    TaskRef,
    percent_label,
)
from vaultmap.report.common import ReportOptions

if TYPE_CHECKING:
    from vaultmap.model import Note, Task

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


def _gap_dict(gap: SectionGap) -> dict[str, Any]:
    return {"path": gap.path, "section": list(gap.section), "line": gap.line,
            "open": len(gap.open_lines), "open_lines": list(gap.open_lines),
            "next": task_ref(gap.next)}


def _no_progress_dict(ref: SectionRef, counts: _CountsForm) -> dict[str, Any]:
    return {"path": ref.path, "section": list(ref.section), "line": ref.line,
            "counts": counts(ref.counts)}


def report_dict(progress: Progress, options: ReportOptions) -> dict[str, Any]:
    """The whole report as plain JSON-ready data (schema ``vaultmap.report/1``)."""
    return _report_data(progress, options, counts_dict)


def _report_data(progress: Progress, options: ReportOptions, counts: _CountsForm,
                 parts: Sequence[NoteJson] | None = None) -> dict[str, Any]:
    """:func:`report_dict`, each counts object made by ``counts`` (a dict, or encoded JSON);
    with ``parts`` (each note's :class:`NoteJson`, in the order of ``progress.notes``), the
    notes and the gaps they hold are spliced in already encoded."""
    gaps = progress.gaps
    spliced = _spliced(progress, parts) if parts is not None else None
    if spliced is not None:
        notes, open_by_section, no_progress, overdue, parents_open = spliced
    else:
        notes = [_note_dict(n, counts) for n in progress.notes]
        open_by_section = [_gap_dict(g) for g in gaps.open_by_section]
        no_progress = [_no_progress_dict(r, counts) for r in gaps.no_progress]
        overdue = [{"task": task_ref(o.task), "due": o.due.isoformat(),
                    "days_late": o.days_late} for o in gaps.overdue]
        parents_open = [task_ref(t) for t in gaps.parents_open]
    return {
        "schema": SCHEMA,
        "vaultmap": __version__,
        "vault": {"name": options.title, "root": options.root},
        "today": progress.today.isoformat() if progress.today else None,
        "options": {"by": options.by, "depth": options.depth,
                    "top_level_only": progress.top_level_only},
        "totals": counts(progress.counts),
        "notes": notes,
        "folders": _folder_dict(progress.folders, counts),
        "tags": [{"tag": t.tag, "notes": t.notes, "counts": counts(t.counts)}
                 for t in progress.tags],
        "gaps": {
            "open_by_section": open_by_section,
            "no_progress": no_progress,
            "overdue": overdue,
            "parents_open": parents_open,
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


class NoteJson(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One note's share of the JSON report, already encoded (compact JSON), so a warm
    ``report --format json`` splices it instead of building and encoding it again. Made from
    the note's rollup alone (:func:`note_json`): nothing in it depends on the options or the
    day. A list part holds the note's items joined by commas, spliced into the report's list.
    """

    path: str
    note: bytes  # the note's object in "notes"
    open_by_section: bytes
    no_progress: bytes
    parents_open: bytes
    dated: tuple[tuple[int, bytes], ...]  # (line, task_ref) of each dated open task


def note_json(rollup: NoteRollup) -> NoteJson:
    """The :class:`NoteJson` of one note's rollup."""
    encode = msgspec.json.encode
    return NoteJson(
        rollup.note.path,
        encode(_note_dict(rollup.note, counts_dict)),
        b",".join(encode(_gap_dict(gap)) for gap in rollup.open_by_section),
        b",".join(encode(_no_progress_dict(ref, counts_dict)) for ref in rollup.no_progress),
        b",".join(encode(task_ref(task)) for task in rollup.parents_open),
        tuple((task.line, encode(task_ref(task))) for task, _due in rollup.dated))


def _spliced(progress: Progress, parts: Sequence[NoteJson]) -> tuple[list[Any], ...] | None:
    """The notes and note-made gap lists of the report from ``parts``, or None when they
    are not the parts of ``progress``'s notes."""
    if len(parts) != len(progress.notes) or any(
            part.path != note.path for part, note in zip(parts, progress.notes, strict=True)):
        return None
    dated = {(part.path, line): ref for part in parts for line, ref in part.dated}
    overdue: list[Any] = []
    for item in progress.gaps.overdue:
        ref = dated.get((item.task.path, item.task.line))
        if ref is None:
            return None
        overdue.append(msgspec.Raw(b'{"task":%b,"due":"%b","days_late":%d}' % (
            ref, item.due.isoformat().encode(), item.days_late)))
    raw = msgspec.Raw
    return ([raw(part.note) for part in parts],
            [raw(part.open_by_section) for part in parts if part.open_by_section],
            [raw(part.no_progress) for part in parts if part.no_progress],
            overdue,
            [raw(part.parents_open) for part in parts if part.parents_open])


class ReportSummary(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """What the report keeps in the index for one note: its rollup, and its share of the
    JSON report as MessagePack bytes of a :class:`NoteJson` (read only by the JSON report;
    MessagePack nil when it could not be made)."""

    rollup: NoteRollup
    json: msgspec.Raw

    def json_part(self) -> NoteJson | None:
        """The decoded :class:`NoteJson`, or None."""
        part: NoteJson | None = _note_json_decoder().decode(self.json)
        return part


class ReportSummariser(msgspec.Struct, frozen=True):
    """:class:`~vaultmap.progress.RollupSummariser` plus each note's :class:`NoteJson`: the
    summary ``vaultmap report`` keeps in the index (``scan_vault(settings,
    summarise=ReportSummariser(top))``)."""

    top_level_only: bool = False

    @property
    def tag(self) -> str:
        """The rollup's tag and this module's code (an edited JSON form is made anew)."""
        return f"{RollupSummariser(self.top_level_only).tag} json:{_JSON_STAMP}"

    def __call__(self, note: Note, /) -> ReportSummary:
        rollup = RollupSummariser(self.top_level_only)(note)
        try:
            part = msgspec.msgpack.encode(note_json(rollup))
        except UnicodeEncodeError:  # a lone surrogate (an undecodable file name)
            part = _NIL
        return ReportSummary(rollup, msgspec.Raw(part))

    def encode(self, summary: object, /) -> bytes:
        """A summary as bytes for the index."""
        return msgspec.msgpack.encode(summary)

    def decode(self, data: bytes, /) -> ReportSummary:
        """A summary from :meth:`encode`'s bytes; raises for anything else."""
        summary: ReportSummary = _summary_decoder().decode(data)
        if summary.rollup.top_level_only != self.top_level_only:
            raise msgspec.DecodeError("a rollup made with another top_level_only")
        return summary


@functools.cache
def _summary_decoder() -> msgspec.msgpack.Decoder[ReportSummary]:
    return msgspec.msgpack.Decoder(ReportSummary)


@functools.cache
def _note_json_decoder() -> msgspec.msgpack.Decoder[NoteJson | None]:
    return msgspec.msgpack.Decoder(NoteJson | None)


_NIL = msgspec.msgpack.encode(None)


_JSON_STAMP = source_stamp(__file__)


def render_json(progress: Progress, options: ReportOptions, *, pretty: bool = True,
                parts: Sequence[NoteJson] | None = None) -> str:
    """The JSON report as text, ending in a newline: indented for people when ``pretty``,
    else compact. The same text as :func:`dumps` of :func:`report_dict`, written by msgspec
    (several times faster than the json module on a big vault's report). ``parts``: each
    note's :class:`NoteJson` (kept in the index), in the order of ``progress.notes``."""
    return render_json_bytes(progress, options, pretty=pretty, parts=parts).decode()


def render_json_bytes(progress: Progress, options: ReportOptions, *, pretty: bool = True,
                      parts: Sequence[NoteJson] | None = None) -> bytes:
    """:func:`render_json` as UTF-8 bytes, ready to write (no text decoded and encoded
    again: a big vault's report is megabytes)."""
    try:
        encoded = msgspec.json.encode(_report_data(progress, options, _counts_json, parts))
    except UnicodeEncodeError:  # a lone surrogate: only the json module's escapes carry it
        return dumps(report_dict(progress, options), pretty=pretty).encode()  # ASCII
    if pretty:
        # The json module's layout with indent=2 (tests/test_report_json_text.py compares).
        encoded = msgspec.json.format(encoded, indent=2)
    # The same escapes as below, made in the UTF-8 bytes; the (slow) search only runs when
    # the start of such a character is there at all (most reports: none).
    if any(lead in encoded for lead in _CONTROL_LEADS):
        encoded = _TERMINAL_CONTROL_UTF8.sub(_escape_utf8, encoded)
    return encoded + b"\n"


def dumps(data: object, *, pretty: bool = True) -> str:
    """JSON text that keeps readable characters, escaping all of them only when some text holds
    an undecodable byte (a lone surrogate), which no UTF-8 output could carry."""
    import json  # only here: the reports themselves are encoded by msgspec

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


_CONTROL_LEADS = (b"\x7f", b"\xc2", b"\xe2\x80", b"\xe2\x81")


def _escape_utf8(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(match.group().decode())
