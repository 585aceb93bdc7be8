"""The terminal report's lines laid out by hand, byte for byte as rich lays them out, in a
fraction of the time.

A :class:`rich.table.Table` of a few hundred rows costs hundreds of milliseconds: every cell
passes through padding, measuring, wrapping and cropping objects. The report's breakdown is a
simple table (one line per row, nothing wraps, every cell one style or a bar), so
:func:`table_segments` computes the same column widths with the same rules and emits the same
segments (text and style runs) directly. Where the table is not that simple (a cell with a tab
or a line break, columns that do not fit the width, a legacy Windows console), it returns
``None`` and the caller lets rich draw the table. :class:`Lines` does the same for the gap
lists (an indented text, a label beside a text, wrapped or not) and prints everything it
collected in one call. ``tests/test_report_bytes.py`` pins the output against what rich
printed; rerun it after upgrading rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

from rich.box import Box
from rich.cells import cell_len, set_cell_size
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.segment import Segment, Segments
from rich.style import Style
from rich.text import Text

Justify = Literal["left", "right"]


class Cell(NamedTuple):
    """One cell: a text in one style, or runs of text each in its own style (a bar, whose
    runs fill the column exactly)."""

    text: str
    style: Style | None = None
    runs: tuple[tuple[str, Style], ...] = ()


class Column(NamedTuple):
    """A column as :meth:`rich.table.Table.add_column` takes it (``no_wrap``, overflow
    ``ellipsis``)."""

    header: str
    justify: Justify = "left"
    min_width: int | None = None
    max_width: int | None = None


def _truncate(text: str, width: int, pad: bool) -> str:
    """:meth:`rich.text.Text.truncate` with overflow ``ellipsis``."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    if pad and length < width:
        return text + " " * (width - length)
    return text


def _justified(text: str, width: int, justify: Justify) -> str:
    """The cell's text as :meth:`rich.text.Text.wrap` leaves it with ``no_wrap``: justified
    (``Lines.justify``), then truncated."""
    if justify == "left":
        text = _truncate(text, width, pad=True)
    else:
        text = _truncate(text.rstrip(), width, pad=False)
        short = width - cell_len(text)
        if short > 0:
            text = " " * short + text
    return _truncate(text, width, pad=False)


def _measure(text: str, pad: int, room: int) -> int:
    """The widest a padded cell wants to be (``Measurement.get`` of ``Padding(Text)``)."""
    if room - pad < 1:
        return room
    width = min(cell_len(text), room)
    return min((width if width >= 1 else 0) + pad, room)


def table_segments(console: Console, box: Box, columns: Sequence[Column],
                   rows: Sequence[Sequence[Cell]], header_style: Style,
                   border_style: Style | None = None) -> list[Segment] | None:
    """The segments rich prints for ``Table(box=box, pad_edge=False, show_edge=False,
    expand=False)`` with these columns (each ``no_wrap``, overflow ``ellipsis``) and rows,
    on ``console`` at its full width; ``None`` where this table is not one laid out here."""
    if console.legacy_windows or not columns or not rows:
        return None
    count = len(columns)
    for row in rows:
        for cell in row:
            if "\t" in cell.text or "\n" in cell.text:
                return None
    # Padding (0, 1) with pad_edge=False: no space before the first column, none after the
    # last; dividers between columns, no edges.
    pads = [(0 if index == 0 else 1, 0 if index == count - 1 else 1) for index in range(count)]
    room = console.width - (count - 1)
    if room < 1:
        return None
    widths: list[int] = []
    for index, column in enumerate(columns):
        pad = sum(pads[index])
        widest = max(_measure(column.header, pad, room),
                     *(_measure(row[index].text, pad, room) for row in rows))
        widest = min(widest, room)
        if column.min_width is not None:
            widest = max(widest, column.min_width + pad)
        if column.max_width is not None:
            widest = min(widest, column.max_width + pad)
        widths.append(widest or 1)
    if sum(widths) > room:
        return None  # rich would shrink columns: let it
    inner = [width - sum(pad) for width, pad in zip(widths, pads, strict=True)]
    if min(inner) < 1:
        return None
    # A bar fills its column exactly; anything else would be padded in its own style.
    if any(cell.runs and cell_len(cell.text) != inner[index]
           for row in rows for index, cell in enumerate(row)):
        return None
    table_box = box.substitute(console.options, safe=console.safe_box)
    out: list[Segment] = []
    append = out.append
    line = Segment.line()

    def emit(cells: Sequence[Cell], cell_style: Style | None, between: Segment) -> None:
        for index, cell in enumerate(cells):
            left, right = pads[index]
            size = inner[index]
            if index:
                append(between)
            if left:
                append(Segment(" " * left, cell_style))
            if cell.runs:
                for text, run_style in cell.runs:
                    append(Segment(text, cell_style + run_style if cell_style else run_style))
            else:
                text = _justified(cell.text, size, columns[index].justify)
                text_style = cell.style
                if cell_style is not None:
                    text_style = cell_style + text_style if text_style else cell_style
                append(Segment(text, text_style))
                short = size - cell_len(text)
                if short > 0:
                    append(Segment(" " * short, cell_style))
            if right:
                append(Segment(" " * right, cell_style))
        append(line)

    emit([Cell(column.header) for column in columns], header_style,
         Segment(table_box.head_vertical, border_style))
    append(Segment(table_box.get_row(widths, "head", edge=False), border_style))
    append(line)
    for number, row in enumerate(rows):
        between = table_box.foot_vertical if number == len(rows) - 1 else table_box.mid_vertical
        emit(row, None, Segment(between, border_style))
    return out


def _one_line(text: Text) -> bool:
    """A text laid out here: one line, no tab, and none of its own justify, overflow or
    no_wrap settings (the console's and the table's apply)."""
    plain = text.plain
    return ("\n" not in plain and "\t" not in plain and text.justify is None
            and text.overflow is None and text.no_wrap is None)


def _simple(text: Text) -> bool:
    """:func:`_one_line`, and at least one cell wide."""
    return _one_line(text) and text.cell_len >= 1


def line_segments(text: Text, console: Console, pad_to: int = 0) -> list[Segment]:
    """The segments of ``text`` on one line as rich prints it (its style and spans as runs),
    padded with spaces in its style to ``pad_to`` cells."""
    line = text.copy()
    if pad_to:
        line.truncate(pad_to, pad=True)
    return list(Text("\n").join([line]).render(console))


class Lines:
    """Output collected as segments and printed in one go.

    :meth:`padded` and :meth:`beside` take the lines the report prints most (an indented
    text, a label beside a text) and emit what rich's ``Padding`` and ``Table.grid`` print
    for them when they fit on one line; what does not fit (rich wraps it) goes through rich
    in its place, so the order and the bytes stay those of printing each through rich.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.width = console.width
        self._segments: list[Segment] = []

    def print(self, renderable: RenderableType = "") -> None:
        """Print ``renderable`` through rich, after what was collected."""
        self.flush()
        if renderable == "":
            self.console.print()
        else:
            self.console.print(renderable)

    def blank(self) -> None:
        self._segments.append(Segment.line())

    def padded(self, text: Text, indent: int) -> None:
        """``console.print(Padding(text, (0, 0, 0, indent), expand=False))``; with no indent,
        ``console.print(text)`` (which wraps without padding the lines)."""
        segments = self._segments
        if _simple(text) and text.cell_len + indent <= self.width:
            if indent:
                segments.append(Segment(" " * indent))
            segments += line_segments(text, self.console)
            segments.append(Segment.line())
        elif _simple(text) and indent and self.width - indent >= 1:
            # Padding takes the whole width and wraps the text in what is left (justify
            # "default", overflow "fold"), each line padded to it with plain spaces.
            room = self.width - indent
            for line in text.wrap(self.console, room, justify="default", overflow="fold"):
                segments.append(Segment(" " * indent))
                segments += line_segments(line, self.console)
                short = room - line.cell_len
                if short > 0:
                    segments.append(Segment(" " * short))
                segments.append(Segment.line())
        else:
            self.print(Padding(text, (0, 0, 0, indent), expand=False) if indent else text)

    def beside(self, label: Text, what: Text, column: int, indent: int) -> None:
        """``label`` in a column ``column`` cells wide, two spaces, then ``what``: a
        ``Table.grid(padding=(0, 2), pad_edge=False)`` of a ``no_wrap`` column of that width
        and a folding one, indented by ``indent``."""
        if not (_one_line(label) and label.cell_len <= column and _one_line(what)):
            self._grid(label, what, column, indent)
            return
        fits = indent + column + 2 + what.cell_len <= self.width
        if fits and (what.cell_len or not what.plain):  # an empty text prints nothing
            self._segments.append(Segment(" " * indent))
            self._segments += line_segments(label, self.console, pad_to=column)
            self._segments.append(Segment("  "))
            self._segments += line_segments(what, self.console)
            self._segments.append(Segment.line())
            return
        room = self.width - indent - column - 2
        if _simple(what) and room >= 1:
            # The grid takes the whole width; the text's column gets what the label's leaves
            # and wraps in it (justify "left": each line padded to the column in the text's
            # style); the label's column is blank below its first line.
            lines = what.wrap(self.console, room, justify="left", overflow="fold")
            for number, line in enumerate(lines):
                self._segments.append(Segment(" " * indent))
                if number == 0:
                    self._segments += line_segments(label, self.console, pad_to=column)
                    self._segments.append(Segment("  "))
                else:
                    self._segments.append(Segment(" " * (column + 2)))
                self._segments += line_segments(line, self.console)
                short = room - line.cell_len
                if short > 0:
                    self._segments.append(Segment(" " * short))
                self._segments.append(Segment.line())
            return
        self._grid(label, what, column, indent)

    def _grid(self, label: Text, what: Text, column: int, indent: int) -> None:
        from rich.table import Table  # only here (and with it fractions, decimal)

        grid = Table.grid(padding=(0, 2), pad_edge=False)
        grid.add_column(width=column, no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(label, what)
        self.print(Padding(grid, (0, 0, 0, indent), expand=False))

    def flush(self) -> None:
        if self._segments:
            self.console.print(Segments(self._segments))
            self._segments = []
