"""Live dashboards: the Markdown report kept up to date inside a note.

A note opts in with two marker lines (``docs/daemon.md``)::

    <!-- vaultmap:report by=section depth=2 -->
    <!-- /vaultmap:report -->

:func:`update_dashboards` (run by ``vaultmap report --update-dashboards``) writes the report
between them; the daemon keeps every note's rollup in memory and calls :func:`write_dashboards`
with the merge of them after a change that alters one (``docs/daemon.md``). The rules:

- Only the bytes between the two marker lines change; the region's line endings are those of
  the opening marker's line, and text is written in the note's encoding (a legacy-encoded note
  gets ``#``/``-`` bars and character references for what its codec cannot hold).
- The write goes through the compare-and-swap edit path (:func:`vaultmap.edit.atomic.
  rewrite_file`), computed again from the bytes on disk at the moment of writing.
- The Markdown report holds no checkbox, and the parser reads a region as blank lines
  (``vaultmap.parse.regions``): the dashboard never counts itself and never adds a task.
- A region that already holds the report is not written: updating twice writes once, so the
  daemon's own write does not come back as a change (it recognises it by content hash too).

This module sits beside ``sync``: it uses the vault scan, the progress roll-up, the Markdown
renderer and the edit path, and is used by the daemon and the CLI.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import cast

import msgspec

from vaultmap.config import Settings
from vaultmap.edit import RECOVERY_FOLDER
from vaultmap.edit.atomic import rewrite_file
from vaultmap.errors import EditError, VaultmapError
from vaultmap.parse import detect_encoding, note_report_regions
from vaultmap.parse.regions import MARKER, ReportRegion
from vaultmap.progress import (
    NoteRollup,
    Progress,
    RollupSummariser,
    merge_rollups,
    note_rollup,
)
from vaultmap.report.common import By, ReportOptions
from vaultmap.report.markdown import render_markdown
from vaultmap.vault import read_note, scan_vault

OPTION_NAMES = ("by", "depth", "limit", "rows")
_BYS = ("note", "section", "folder", "tag")
# Bars in a note whose encoding cannot hold the block characters (they sit in code spans,
# where a character reference would show as written).
_LEGACY_BARS = str.maketrans({"\u2593": "#", "\u2591": "-"})


@dataclass
class DashboardReport:
    """What one update did: notes written, notes left as they were, and why some were not."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # being edited: the next update writes
    problems: list[str] = field(default_factory=list)  # one line each, naming the note
    failed: dict[str, str] = field(default_factory=dict)  # note -> its problems, one line
    hashes: dict[str, str] = field(default_factory=dict)  # SHA-256 of each note written
    found: int = 0  # notes with a report region

    def summary(self) -> str:
        """One line: ``dashboards: 1 updated, 2 up to date``."""
        parts = [f"{len(self.written)} updated", f"{len(self.unchanged)} up to date"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} being edited (next time)")
        if self.problems:
            parts.append(f"{len(self.problems)} not updated")
        return "dashboards: " + ", ".join(parts)


def may_hold_regions(data: bytes) -> bool:
    """Whether a note's bytes may hold a report region: a substring test, no parse."""
    return data.find(MARKER) >= 0


def region_options(text: str, base: ReportOptions) -> ReportOptions:
    """The report options written in an opening marker (``by=section depth=2``) over ``base``.

    Raises :class:`ValueError` with a one-line reason for an unknown name or a bad value.
    """
    options = base
    for token in text.split():
        name, equals, value = token.partition("=")
        if not equals or name not in OPTION_NAMES:
            raise ValueError(f"unknown report option {token!r} (known: "
                             f"{', '.join(n + '=' for n in OPTION_NAMES)})")
        if name == "by":
            if value not in _BYS:
                raise ValueError(f"by={value!r}: use one of {', '.join(_BYS)}")
            options = msgspec.structs.replace(options, by=cast(By, value))
            continue
        if not value.isdigit() or (name == "limit" and int(value) < 1):
            raise ValueError(f"{name}={value!r}: a whole number"
                             + (" from 1" if name == "limit" else ""))
        number = int(value)
        if name == "depth":
            options = msgspec.structs.replace(options, depth=number)
        elif name == "limit":
            options = msgspec.structs.replace(options, limit=number)
        else:
            options = msgspec.structs.replace(options, max_rows=number)
    return options


def region_bytes(markdown: str, eol: bytes, encoding: str) -> bytes:
    """The bytes that go between two markers: a blank line, the report, a blank line.

    Line endings are ``eol``; the text is encoded for the note (``detect_encoding``'s name).
    """
    lines = markdown.rstrip("\n").split("\n")
    text = "\n" + "\n".join(lines) + "\n\n"
    if encoding in ("utf-8", "utf-8-sig"):
        raw = text.encode("utf-8")
    else:
        raw = text.translate(_LEGACY_BARS).encode(encoding, errors="xmlcharrefreplace")
    return raw.replace(b"\n", eol) if eol != b"\n" else raw


def _eol_of(data: bytes, lines: list[tuple[int, int]], region: ReportRegion) -> bytes:
    end = lines[region.open_line][1]
    eol = data[end:region.start]
    return eol if eol in (b"\n", b"\r\n", b"\r") else b"\n"


def fill_regions(data: bytes, render: Callable[[str], str]) -> bytes:
    """``data`` with each report region holding ``render(options of its marker)``.

    Pure: every byte outside the regions stays, and the markers themselves stay as written.
    ``render`` may raise :class:`ValueError` (a bad option): that region keeps its content.
    """
    lines, regions = note_report_regions(data)
    if not regions:
        return data
    encoding = detect_encoding(data)
    out: list[bytes] = []
    position = 0
    for region in regions:
        try:
            content = region_bytes(render(region.options), _eol_of(data, lines, region),
                                   encoding)
        except ValueError:
            continue
        out.append(data[position:region.start])
        out.append(content)
        position = region.end
    out.append(data[position:])
    return b"".join(out)


def _problems(data: bytes, render: Callable[[str], str], rel: str) -> list[str]:
    found: list[str] = []
    for region in note_report_regions(data)[1]:
        try:
            render(region.options)
        except ValueError as error:
            found.append(f"{rel}: line {region.open_line + 1}: {error}; this report region "
                         "was left as it was")
    return found


def update_dashboards(
    settings: Settings,
    *,
    today: date | None = None,
    editing: Callable[[str], bool] | None = None,
) -> DashboardReport:
    """Write the current Markdown report into every report region of the vault.

    ``editing(note)``: True for a note the user is typing in (the daemon's quiet period);
    it is skipped, and the change that ends the typing brings the next update. One bad note
    raises nothing: its problem is in the report and the other notes are updated.
    """
    rollups, dashboards = vault_rollups(settings)
    if not dashboards:
        return DashboardReport()
    progress = merge_rollups(rollups.values(), today=today or date.today(),
                             top_level_only=settings.report.top_level_only)
    return write_dashboards(settings, progress, dashboards, editing=editing)


def vault_rollups(settings: Settings) -> tuple[dict[str, NoteRollup], list[str]]:
    """Every note's rollup (by note path) and the notes that hold a report region.

    A scan through the index: unchanged notes' rollups come from it, as for ``report``.
    """
    result = scan_vault(settings, summarise=RollupSummariser(settings.report.top_level_only))
    rollups = {note.path: summary for note, summary in zip(result.notes, result.summaries,
                                                            strict=True)
               if isinstance(summary, NoteRollup)}
    return rollups, [note.path for note in result.notes if note.dashboards]


def note_dashboard_rollup(settings: Settings, rel: str) -> tuple[NoteRollup, bool] | None:
    """One note read again: its rollup and whether it holds a report region; None when it is
    gone or cannot be read (a scan would leave it out too)."""
    try:
        note, _ = read_note(settings, Path(rel))
    except VaultmapError:
        return None
    return note_rollup(note, top_level_only=settings.report.top_level_only), \
        bool(note.dashboards)


def write_dashboards(
    settings: Settings,
    progress: Progress,
    notes: Iterable[str],
    *,
    editing: Callable[[str], bool] | None = None,
) -> DashboardReport:
    """Write ``progress`` as the Markdown report into the report regions of ``notes``
    (vault-relative paths), skipping the ones ``editing`` says are being typed in."""
    base = ReportOptions(depth=settings.report.depth,
                         title=settings.root.name or str(settings.root), root=str(settings.root))
    render = _renderer(progress, base)
    notes = list(notes)
    report = DashboardReport(found=len(notes))
    for rel in notes:
        if editing is not None and editing(rel):
            report.skipped.append(rel)
            continue
        _write_one(settings, settings.root / rel, rel, render, report)
    return report


def _renderer(progress: Progress, base: ReportOptions) -> Callable[[str], str]:
    rendered: dict[str, str] = {}

    def render(options: str) -> str:
        key = " ".join(options.split())
        if key not in rendered:
            rendered[key] = render_markdown(progress, region_options(key, base))
        return rendered[key]

    return render


def _write_one(settings: Settings, full: Path, rel: str, render: Callable[[str], str],
               report: DashboardReport) -> None:
    def transform(data: bytes) -> tuple[bytes | None, tuple[bytes, bool, list[str]]]:
        new = fill_regions(data, render)
        return (None if new == data else new), (new, new != data, _problems(data, render, rel))

    try:
        new, changed, problems = rewrite_file(
            full, transform, display=rel, recovery_dir=settings.state_dir / RECOVERY_FOLDER,
            inside=settings.root)
    except EditError as error:
        problem = str(error) if rel in str(error) else f"{rel}: {error}"
        report.problems.append(problem)
        report.failed[rel] = problem
        return
    report.problems.extend(problems)
    if problems:
        report.failed[rel] = "; ".join(problems)
    if changed:
        report.written.append(rel)
        report.hashes[rel] = hashlib.sha256(new).hexdigest()
    elif not problems:
        report.unchanged.append(rel)


__all__ = ["DashboardReport", "fill_regions", "may_hold_regions", "note_dashboard_rollup",
           "region_bytes", "region_options", "update_dashboards", "vault_rollups",
           "write_dashboards"]
