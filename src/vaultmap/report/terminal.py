"""The terminal report, drawn with rich.

Colour and styles only reach a terminal: the caller builds the :class:`rich.console.Console`
(see :func:`make_console`), which writes plain text when the output is piped, when ``NO_COLOR``
is set or when asked to. Widths follow the console, so the report fits the terminal; a console
that cannot encode the bar characters gets ASCII ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Literal, NamedTuple

from rich import box
from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segments
from rich.style import Style
from rich.text import Text

from vaultmap.model import StatusType
from vaultmap.progress import Counts, FocusStep, Progress, TaskRef, percent_label
from vaultmap.report.common import (
    NO_TAGS,
    ReportOptions,
    Row,
    bar_cells,
    breakdown_row_count,
    breakdown_rows,
    counts_summary,
    labeller,
    note_namer,
    notes_with_tasks,
    plain,
    printable,
    section_trimmer,
)
from vaultmap.report.layout import Cell, Column, Lines, table_segments

if TYPE_CHECKING:
    from rich.table import Table

ColorMode = Literal["auto", "always", "never"]
MIN_WIDTH = 20  # the narrowest layout: every number column whole, names cut with an ellipsis


def make_console(file: IO[str] | None = None, *, color: ColorMode = "auto",
                 width: int | None = None) -> Console:
    """A console for the report: styled on a terminal, plain text everywhere else.

    ``NO_COLOR`` (any non-empty value, https://no-color.org) turns off every ANSI escape, styles
    included, unless ``color == "always"``; ``color == "never"`` does the same. ``auto`` styles
    only a terminal (rich also honours ``FORCE_COLOR``).
    """
    no_color = color == "never" or (color == "auto" and bool(os.environ.get("NO_COLOR")))
    console = Console(
        file=file,
        force_terminal=True if color == "always" else None,
        color_system=None if no_color else "auto",
        no_color=no_color,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        width=width,
    )
    # rich takes COLUMNS=0 (some CI runners set it) at its word and prints nothing: no width
    # means the usual 80; a tiny one is raised to the narrowest the report is laid out for.
    if console.width <= 0:
        console.width = 80
    elif console.width < MIN_WIDTH:
        console.width = MIN_WIDTH
    return console


class _Glyphs(NamedTuple):
    full: str
    empty: str
    separator: str
    ellipsis: str


_UNICODE = _Glyphs("█", "░", " › ", "…")
_ASCII = _Glyphs("#", "-", " > ", "...")


def _glyphs(console: Console) -> _Glyphs:
    try:
        "█░›…".encode(console.encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII
    return _UNICODE


def _style_for(counts: Counts) -> str:
    if not counts.counted:
        return "dim"
    if counts.done == counts.counted:
        return "green"
    if counts.done == 0:
        return "red"
    return "yellow"


def _bar(counts: Counts, width: int, glyphs: _Glyphs) -> Text:
    filled = bar_cells(counts, width)
    bar = Text(glyphs.full * filled, style=_style_for(counts))
    bar.append(glyphs.empty * (width - filled), style="dim")
    return bar


def _percent(counts: Counts) -> Text:
    return Text(percent_label(counts), style="bold " + _style_for(counts))


def render_terminal(progress: Progress, options: ReportOptions, console: Console) -> None:
    """Print the report: the overall bar, the ``--by`` breakdown, then the gaps.

    The table and the gap lists are laid out by hand (:mod:`vaultmap.report.layout`), byte
    for byte as rich would draw them, and printed through ``console`` in one go at the end.
    """
    out = Lines(console)
    _render(progress, options, console, out)
    out.flush()


def _render(progress: Progress, options: ReportOptions, console: Console, out: Lines) -> None:
    glyphs = _glyphs(console)
    width = console.width
    name = note_namer(progress)  # made once: the breakdown, Focus and the gaps all name notes
    trim = section_trimmer(progress)
    bar_width = max(8, min(30, width // 4))
    total = progress.counts

    title = Text(f"vaultmap · {printable(options.title)}", style="bold")
    if progress.today:
        title.append(f" · {progress.today.isoformat()}", style="dim")
    if progress.top_level_only:
        title.append(" · top-level tasks only", style="dim")
    out.print(title)

    summary = counts_summary(total) if total.total else ""
    percent = _percent(total)
    # Keep the overall line on one line: narrow its bar, then move the summary to a line of
    # its own rather than let it break in the middle.
    spare = width - (len("Overall  ") + 2 + percent.cell_len + 2 + len(summary))
    overall = Text("Overall  ")
    overall.append_text(_bar(total, max(8, min(bar_width, spare)), glyphs))
    overall.append("  ")
    overall.append_text(percent)
    if summary and spare >= 8:
        overall.append(f"  {summary}", style="dim")
    out.print(overall)
    if summary and spare < 8:
        out.padded(Text(summary, style="dim"), len("Overall  "))

    if progress.gaps.focus:
        focus = progress.gaps.focus
        steps = focus[:options.limit] if options.limit > 0 else focus
        for line in _focus_lines(steps, glyphs, width, name, trim):
            out.print(line)
        _more(out, len(focus), len(steps), glyphs)

    if not total.total:
        notes = len(progress.notes)
        out.print(Text(f"No tasks found in {notes} note{'s' if notes != 1 else ''}.",
                       style="dim"))
        return

    # Only the rows shown are made; the rest are counted.
    shown = breakdown_rows(progress, options, limit=options.max_rows, name=name)
    if shown:
        out.blank()
        _print_breakdown(out, shown, options, bar_width, glyphs,
                         labeller(progress, glyphs.separator, name=name, trim=trim))
        rows = (breakdown_row_count(progress, options)
                if options.max_rows > 0 and len(shown) == options.max_rows else len(shown))
        if len(shown) < rows:
            _aside(out, f"{glyphs.ellipsis} and {rows - len(shown)} more rows (narrow "
                            "with --depth, --by folder or a sub-folder; --rows 0 shows all)")
        hidden = len(progress.notes) - len(notes_with_tasks(progress))
        if hidden and options.by in ("note", "section", "folder"):
            _aside(out, f"({hidden} note{'s' if hidden != 1 else ''} without tasks "
                            "not shown)")
    elif options.by == "tag":
        out.blank()
        _aside(out, NO_TAGS)
    _print_gaps(progress, options, out, glyphs, name, trim)


def _row_text(row: Row, options: ReportOptions,
              label: Callable[[str, tuple[str, ...]], str]) -> Text:
    indent = "  " * row.level
    if row.kind == "tag":
        return Text(f"#{row.label}", style="cyan")
    if row.kind == "folder":
        return Text(f"{indent}{row.label}/", style="bold blue")
    if row.kind == "note":
        return Text(f"{indent}{row.label}", style="bold")
    if options.by == "section":
        return Text(label(row.path, row.section))
    return Text(f"{indent}{row.label}")


def _fit_path(label: str, width: int, glyphs: _Glyphs) -> str:
    """``note › heading › … › last heading`` shortened to ``width`` cells, the last heading
    kept whole where it can be: first the middle headings go, then the note's name is cut."""
    parts = label.split(glyphs.separator)
    if len(parts) < 2:
        return label
    note, last = parts[0], parts[-1]
    middle = [glyphs.ellipsis] if len(parts) > 2 else []
    shorter = glyphs.separator.join([note, *middle, last])
    if cell_len(shorter) <= width:
        return shorter
    tail = glyphs.separator.join(["", *middle, last])
    # Too little room even so: the note keeps a few letters and the table cuts the end of
    # the last heading, whose start is what tells the rows apart.
    room = max(4, width - cell_len(tail) - cell_len(glyphs.ellipsis))
    if cell_len(note) <= room:
        return shorter
    return set_cell_size(note, room).rstrip() + glyphs.ellipsis + tail


class _Breakdown(NamedTuple):
    """The breakdown's layout: what each column shows and how wide it may be."""

    header: str
    names: list[Text]
    name_width: int
    bar: int  # the bar's width; 0: no bar column
    numbers: dict[str, int]  # "%", "Done", "Open" -> its least width (some may be left out)


def _breakdown_layout(rows: list[Row], options: ReportOptions, bar_width: int,
                      glyphs: _Glyphs, width: int,
                      label: Callable[[str, tuple[str, ...]], str]) -> _Breakdown:
    headers = {"note": "Note / section", "section": "Section", "folder": "Folder / note",
               "tag": "Tag"}
    done_width = max(4, *(len(f"{r.counts.done}/{r.counts.counted}") for r in rows))
    open_width = max(4, *(len(str(r.counts.open)) for r in rows))
    pct_width = max(4, *(len(percent_label(r.counts)) for r in rows))
    names = [_row_text(row, options, label) for row in rows]
    # The numbers must never be cut. What is left goes to the names first (a cut name hides
    # the very heading you look for), then to the bar, which only repeats the percentage: it
    # shrinks down to 8 cells and, on a very narrow terminal, goes. Narrower still, whole
    # number columns go (Open, then %), never part of one: "4/1" would read as a number.
    gap = 3  # a column's padding and the rule between columns
    min_name = 6
    columns = {"%": pct_width, "Done": done_width, "Open": open_width}
    for dropped in ("Open", "%"):
        if min_name + sum(w + gap for w in columns.values()) <= width:
            break
        del columns[dropped]
    numbers = sum(w + gap for w in columns.values())
    longest = max(max(name.cell_len for name in names), len(headers[options.by]))
    spare = width - numbers
    bar = min(bar_width, max(8, width // 8, spare - longest - gap))
    show_bar = spare - bar - gap >= 12 + gap
    name_width = max(min_name, spare - (bar + gap if show_bar else 0) - 1)
    if options.by == "section":
        # "Note › Month › Week" cut at its end would hide the one heading that tells the rows
        # apart: shorten its middle and its note instead, keeping the last heading whole.
        names = [Text(_fit_path(name.plain, name_width, glyphs), style=name.style)
                 if name.cell_len > name_width else name for name in names]
    return _Breakdown(headers[options.by], names, name_width, bar if show_bar else 0,
                      columns)


def _print_breakdown(out: Lines, rows: list[Row], options: ReportOptions,
                     bar_width: int, glyphs: _Glyphs,
                     label: Callable[[str, tuple[str, ...]], str]) -> None:
    """The breakdown table: laid out by hand (:mod:`vaultmap.report.layout`), the same bytes
    as the rich table :func:`_breakdown_table` draws, which remains for the layouts the hand
    does not cover."""
    console = out.console
    layout = _breakdown_layout(rows, options, bar_width, glyphs, console.width, label)
    columns = [Column(layout.header, max_width=layout.name_width)]
    if layout.bar:
        columns.append(Column("Progress"))
    columns += [Column(header, justify="right", min_width=column_width)
                for header, column_width in layout.numbers.items()]
    get_style = console.get_style
    styles: dict[str, Style] = {}

    def style(name: str) -> Style:
        found = styles.get(name)
        if found is None:
            found = styles[name] = get_style(name)
        return found

    dim = style("dim")
    cells: list[list[Cell]] = []
    for name, row in zip(layout.names, rows, strict=True):
        c = row.counts
        name_style = name.style
        line = [Cell(name.plain, style(name_style) if isinstance(name_style, str) and name_style
                     else None)]
        if layout.bar:
            filled = bar_cells(c, layout.bar)
            base = style(_style_for(c))
            full, empty = glyphs.full * filled, glyphs.empty * (layout.bar - filled)
            runs = tuple(run for run in ((full, base), (empty, base + dim)) if run[0])
            line.append(Cell(full + empty, runs=runs))
        for header in layout.numbers:
            if header == "%":
                line.append(Cell(percent_label(c), style("bold " + _style_for(c))))
            elif header == "Done":
                line.append(Cell(f"{c.done}/{c.counted}"))
            else:
                line.append(Cell(str(c.open) if c.open else ""))
        cells.append(line)
    segments = table_segments(console, box.SIMPLE_HEAD, columns, cells, style("table.header"))
    out.print(_breakdown_table(rows, layout, glyphs) if segments is None
              else Segments(segments))


def _breakdown_table(rows: list[Row], layout: _Breakdown, glyphs: _Glyphs) -> Table:
    from rich.table import Table  # only where the hand layout does not apply

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
    table.add_column(layout.header, overflow="ellipsis", no_wrap=True,
                     max_width=layout.name_width)
    if layout.bar:
        table.add_column("Progress", no_wrap=True)
    for header, column_width in layout.numbers.items():
        table.add_column(header, justify="right", no_wrap=True, min_width=column_width)
    for name, row in zip(layout.names, rows, strict=True):
        c = row.counts
        cells: list[Text | str] = [name]
        if layout.bar:
            cells.append(_bar(c, layout.bar, glyphs))
        values: dict[str, Text | str] = {"%": _percent(c), "Done": f"{c.done}/{c.counted}",
                                         "Open": str(c.open) if c.open else ""}
        cells += [values[header] for header in layout.numbers]
        table.add_row(*cells)
    return table


_FOCUS = "Focus    "


def _focus_lines(steps: Sequence[FocusStep], glyphs: _Glyphs, width: int,
                 name: Callable[[str], str],
                 trim: Callable[[str, tuple[str, ...]], tuple[str, ...]]) -> list[Text]:
    """One line per roadmap note, never wrapped::

        Focus    Plan › Week 10: train a model
                 Garden › Build: pick a generator

    A line too long for ``width`` is cut with an ellipsis: first the task's text (down to a
    third of the room, where its start still says what it is), then the headings' middle
    and the note's name (:func:`_fit_path`), then the rest of the task's text."""
    room = max(width - len(_FOCUS), 8)
    lines: list[Text] = []
    for n, step in enumerate(steps):
        headings = [plain(t) for t in trim(step.path, step.section)]
        what = _what(step.task)
        keep = min(cell_len(what), max(10, room // 3))  # what the task's text keeps at least
        where = _focus_place(name(step.path), headings, max(4, room - len(": ") - keep),
                             glyphs)
        what = _cut(what, max(1, room - cell_len(where) - len(": ")), glyphs)
        line = Text(_FOCUS if n == 0 else " " * len(_FOCUS), style="bold", no_wrap=True,
                    overflow="ellipsis")
        line.append(where, style="blue")
        line.append(f": {what}")
        lines.append(line)
    return lines


def _focus_place(note: str, headings: list[str], width: int, glyphs: _Glyphs) -> str:
    """``note › heading › … › last heading`` in at most ``width`` cells: the middle headings
    go first, then the note's name and the last heading are cut, the name to a third."""
    full = glyphs.separator.join([note, *headings])
    if cell_len(full) <= width or not headings:
        return _cut(full, width, glyphs)
    middle = [glyphs.ellipsis] if len(headings) > 1 else []
    shorter = glyphs.separator.join([note, *middle, headings[-1]])
    if cell_len(shorter) <= width:
        return shorter
    note = _cut(note, min(cell_len(note), max(4, width // 3)), glyphs)
    head = glyphs.separator.join([note, *middle, ""])
    return head + _cut(headings[-1], max(1, width - cell_len(head)), glyphs)


def _cut(text: str, width: int, glyphs: _Glyphs) -> str:
    """``text`` in at most ``width`` cells, ending in an ellipsis when it had to be cut."""
    if cell_len(text) <= width:
        return text
    room = width - cell_len(glyphs.ellipsis)
    if room <= 0:
        return set_cell_size(glyphs.ellipsis, width)
    return set_cell_size(text, room).rstrip() + glyphs.ellipsis


def _what(task: TaskRef) -> str:
    return plain(task.display_description or task.display_text)


def _heading(out: Lines, text: str, count: int) -> None:
    out.blank()
    heading = Text(text, style="bold underline")
    heading.append(f" ({count})", style="dim")
    out.padded(heading, 0)


def _aside(out: Lines, text: str) -> None:
    """A dim note under a list, indented; it wraps under itself on a narrow terminal."""
    out.padded(Text(text, style="dim"), 2)


def _more(out: Lines, total: int, limit: int, glyphs: _Glyphs) -> None:
    if total > limit:
        _aside(out, f"{glyphs.ellipsis} and {total - limit} more (--limit N shows more, "
                        "--format json shows all)")


class _GapItem(NamedTuple):
    """One line of a gap list: the note it is in, a short label (the headings inside the note,
    or a count) and what it says."""

    path: str
    label: Text
    what: Text


def _print_gap_items(out: Lines, items: list[_GapItem],
                     name: Callable[[str], str]) -> None:
    """Print gap items grouped under their note, one item per line where it fits.

    Runs of items in the same note share one note line; each item then shows its label and
    its text side by side, the labels in a column as wide as the group's longest (capped at a
    third of the width). A label too long for that column gets a line of its own with the
    text below, so no phrase is ever broken across two interleaved columns; only the text of
    an item wraps, and it wraps under itself.
    """
    cap = max(12, out.width // 3)
    groups: list[list[_GapItem]] = []
    for item in items:
        if groups and groups[-1][0].path == item.path:
            groups[-1].append(item)
        else:
            groups.append([item])
    for group in groups:
        out.padded(Text(name(group[0].path), style="bold"), 2)
        column = max((item.label.cell_len for item in group if item.label.cell_len <= cap),
                     default=0)
        for item in group:
            if item.label.cell_len > column:
                out.padded(item.label, 4)
                out.padded(item.what, 6)
            elif column:
                out.beside(item.label, item.what, column, 4)
            else:
                out.padded(item.what, 4)


def _print_gaps(progress: Progress, options: ReportOptions, out: Lines,
                glyphs: _Glyphs, name: Callable[[str], str],
                trim: Callable[[str, tuple[str, ...]], tuple[str, ...]]) -> None:
    gaps = progress.gaps
    limit = max(options.limit, 1)

    def where(path: str, section: tuple[str, ...]) -> Text:
        return Text(glyphs.separator.join(plain(title) for title in trim(path, section)),
                    style="blue")

    def item(path: str, section: tuple[str, ...], what: Text) -> _GapItem:
        return _GapItem(path, where(path, section), what)

    if gaps.open_by_section:
        _heading(out, "Next up", len(gaps.open_by_section))
        items = []
        for gap in gaps.open_by_section[:limit]:
            what = Text()
            if gap.next.type is StatusType.DOING:
                what.append("doing: ", style="yellow")
            what.append(_what(gap.next))
            what.append(f"  ({len(gap.open)} open)", style="dim")
            items.append(item(gap.path, gap.section, what))
        _print_gap_items(out, items, name)
        _more(out, len(gaps.open_by_section), limit, glyphs)

    if gaps.overdue:
        _heading(out, "Overdue", len(gaps.overdue))
        items = []
        for overdue in gaps.overdue[:limit]:
            what = Text(_what(overdue.task))
            late = f"{overdue.days_late} day{'s' if overdue.days_late != 1 else ''} late"
            what.append(f"  due {overdue.due.isoformat()}, {late}", style="red")
            items.append(item(overdue.task.path, overdue.task.section, what))
        _print_gap_items(out, items, name)
        _more(out, len(gaps.overdue), limit, glyphs)

    if gaps.no_progress:
        _heading(out, "No progress yet", len(gaps.no_progress))
        # The count leads: it is short, so the headings get the rest of the line.
        items = [_GapItem(ref.path, Text(f"0 of {ref.counts.counted} done", style="dim"),
                          where(ref.path, ref.section))
                 for ref in gaps.no_progress[:limit]]
        _print_gap_items(out, items, name)
        _more(out, len(gaps.no_progress), limit, glyphs)

    if gaps.stalled:
        _heading(out, "Stalled", len(gaps.stalled))
        items = []
        for stalled in gaps.stalled[:limit]:
            what = Text(f"{stalled.counts.done} of {stalled.counts.counted} done", style="dim")
            what.append(f"  last progress {stalled.last_progress.isoformat()}, "
                        f"{stalled.days} days ago", style="yellow")
            items.append(item(stalled.path, stalled.section, what))
        _print_gap_items(out, items, name)
        _more(out, len(gaps.stalled), limit, glyphs)

    if gaps.parents_open:
        _heading(out, "Parents left open, all subtasks done", len(gaps.parents_open))
        items = []
        for task in gaps.parents_open[:limit]:
            what = Text(_what(task))
            what.append(f"  line {task.line}", style="dim")
            items.append(item(task.path, task.section, what))
        _print_gap_items(out, items, name)
        _more(out, len(gaps.parents_open), limit, glyphs)
