"""The terminal report, drawn with rich.

Colour and styles only reach a terminal: the caller builds the :class:`rich.console.Console`
(see :func:`make_console`), which writes plain text when the output is piped, when ``NO_COLOR``
is set or when asked to. Widths follow the console, so the report fits the terminal; a console
that cannot encode the bar characters gets ASCII ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Literal

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from vaultmap.model import StatusType, Task
from vaultmap.progress import Counts, Progress, percent_label
from vaultmap.report.common import (
    ReportOptions,
    Row,
    bar_cells,
    breakdown_rows,
    counts_summary,
    labeller,
    plain,
    printable,
)

ColorMode = Literal["auto", "always", "never"]


def make_console(file: IO[str] | None = None, *, color: ColorMode = "auto",
                 width: int | None = None) -> Console:
    """A console for the report: styled on a terminal, plain text everywhere else.

    ``NO_COLOR`` (any non-empty value, https://no-color.org) turns off every ANSI escape, styles
    included, unless ``color == "always"``; ``color == "never"`` does the same. ``auto`` styles
    only a terminal (rich also honours ``FORCE_COLOR``).
    """
    no_color = color == "never" or (color == "auto" and bool(os.environ.get("NO_COLOR")))
    return Console(
        file=file,
        force_terminal=True if color == "always" else None,
        color_system=None if no_color else "auto",
        no_color=no_color,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        width=width,
    )


@dataclass(frozen=True, slots=True)
class _Glyphs:
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
    """Print the report: the overall bar, the ``--by`` breakdown, then the gaps."""
    glyphs = _glyphs(console)
    width = console.width
    bar_width = max(8, min(30, width // 4))
    total = progress.counts

    title = Text(f"vaultmap · {printable(options.title)}", style="bold")
    if progress.today:
        title.append(f" · {progress.today.isoformat()}", style="dim")
    if progress.top_level_only:
        title.append(" · top-level tasks only", style="dim")
    console.print(title)

    summary = counts_summary(total)
    percent = _percent(total)
    # Keep the overall line on one line: narrow its bar before letting the summary wrap.
    spare = width - (len("Overall  ") + 2 + percent.cell_len + 2 + len(summary))
    overall = Text("Overall  ")
    overall.append_text(_bar(total, max(8, min(bar_width, spare)), glyphs))
    overall.append("  ")
    overall.append_text(percent)
    overall.append(f"  {summary}", style="dim")
    console.print(overall)

    if not total.total:
        notes = len(progress.notes)
        console.print(Text(f"No tasks found in {notes} note{'s' if notes != 1 else ''}.",
                           style="dim"))
        return

    rows = breakdown_rows(progress, options)
    if rows:
        console.print()
        shown = rows[:options.max_rows] if options.max_rows > 0 else rows
        console.print(_breakdown_table(shown, options, bar_width, glyphs, width,
                                       labeller(progress, glyphs.separator)))
        if len(shown) < len(rows):
            console.print(Text(f"  {glyphs.ellipsis} and {len(rows) - len(shown)} more rows "
                               "(narrow with --depth, --by folder or a sub-folder; --rows 0 "
                               "shows all)", style="dim"))
        hidden = len(progress.notes) - len(progress.notes_with_tasks)
        if hidden and options.by in ("note", "section", "folder"):
            console.print(Text(f"  ({hidden} note{'s' if hidden != 1 else ''} without tasks "
                               "not shown)", style="dim"))
    _print_gaps(progress, options, console, glyphs)


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


def _breakdown_table(rows: list[Row], options: ReportOptions, bar_width: int,
                     glyphs: _Glyphs, width: int,
                     label: Callable[[str, tuple[str, ...]], str]) -> Table:
    headers = {"note": "Note / section", "section": "Section", "folder": "Folder / note",
               "tag": "Tag"}
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
    done_width = max(len(f"{r.counts.done}/{r.counts.counted}") for r in rows)
    open_width = max(4, *(len(str(r.counts.open)) for r in rows))
    # The name column gives way first: the numbers must never be cut.
    pct_width = max(4, *(len(percent_label(r.counts)) for r in rows))
    name_width = max(12, width - bar_width - pct_width - max(done_width, 4) - open_width - 13)
    table.add_column(headers[options.by], overflow="ellipsis", no_wrap=True,
                     max_width=name_width)
    table.add_column("Progress", no_wrap=True)
    table.add_column("%", justify="right", no_wrap=True, min_width=pct_width)
    table.add_column("Done", justify="right", no_wrap=True, min_width=max(done_width, 4))
    table.add_column("Open", justify="right", no_wrap=True, min_width=open_width)
    for row in rows:
        c = row.counts
        table.add_row(_row_text(row, options, label), _bar(c, bar_width, glyphs), _percent(c),
                      f"{c.done}/{c.counted}", str(c.open) if c.open else "")
    return table


def _what(task: Task) -> str:
    return plain(task.fields.description or task.text)


def _heading(console: Console, text: str, count: int) -> None:
    console.print()
    heading = Text(text, style="bold underline")
    heading.append(f" ({count})", style="dim")
    console.print(heading)


def _more(console: Console, total: int, limit: int, glyphs: _Glyphs) -> None:
    if total > limit:
        console.print(Text(f"  {glyphs.ellipsis} and {total - limit} more "
                           "(--limit N shows more, --format json shows all)", style="dim"))


def _gap_grid(console: Console) -> Table:
    """Two columns, where and what, each wrapping inside its own column."""
    grid = Table.grid(padding=(0, 2), pad_edge=False)
    grid.add_column(style="blue", max_width=max(16, console.width * 2 // 5), overflow="fold")
    grid.add_column(overflow="fold")
    return grid


def _print_gaps(progress: Progress, options: ReportOptions, console: Console,
                glyphs: _Glyphs) -> None:
    gaps = progress.gaps
    limit = max(options.limit, 1)
    label = labeller(progress, glyphs.separator)

    def where(path: str, section: tuple[str, ...]) -> str:
        return label(path, section)

    if gaps.open_by_section:
        _heading(console, "Next up", len(gaps.open_by_section))
        grid = _gap_grid(console)
        for gap in gaps.open_by_section[:limit]:
            what = Text()
            if gap.next.type is StatusType.DOING:
                what.append("doing: ", style="yellow")
            what.append(_what(gap.next))
            what.append(f"  ({len(gap.open)} open)", style="dim")
            grid.add_row(where(gap.path, gap.section), what)
        console.print(Padding(grid, (0, 0, 0, 2), expand=False))
        _more(console, len(gaps.open_by_section), limit, glyphs)

    if gaps.overdue:
        _heading(console, "Overdue", len(gaps.overdue))
        grid = _gap_grid(console)
        for item in gaps.overdue[:limit]:
            what = Text(_what(item.task))
            late = f"{item.days_late} day{'s' if item.days_late != 1 else ''} late"
            what.append(f"  due {item.due.isoformat()}, {late}", style="red")
            grid.add_row(where(item.task.path, item.task.section), what)
        console.print(Padding(grid, (0, 0, 0, 2), expand=False))
        _more(console, len(gaps.overdue), limit, glyphs)

    if gaps.no_progress:
        _heading(console, "No progress yet", len(gaps.no_progress))
        grid = _gap_grid(console)
        for ref in gaps.no_progress[:limit]:
            grid.add_row(where(ref.path, ref.section),
                         Text(f"0 of {ref.counts.counted} done", style="dim"))
        console.print(Padding(grid, (0, 0, 0, 2), expand=False))
        _more(console, len(gaps.no_progress), limit, glyphs)

    if gaps.parents_open:
        _heading(console, "Parents left open, all subtasks done", len(gaps.parents_open))
        grid = _gap_grid(console)
        for task in gaps.parents_open[:limit]:
            what = Text(_what(task))
            what.append(f"  line {task.line}", style="dim")
            grid.add_row(where(task.path, task.section), what)
        console.print(Padding(grid, (0, 0, 0, 2), expand=False))
        _more(console, len(gaps.parents_open), limit, glyphs)
