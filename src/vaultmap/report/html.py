"""The HTML report: one self-contained page (CSS and SVG inline, no script, nothing fetched).

It renders the very data ``--format json`` writes (:func:`vaultmap.report.report_dict`), plus,
when the vault has a git history, the ``vaultmap.history/1`` dict of ``vaultmap history``. It
never recounts: every number on the page is a number of those two dicts; the only arithmetic
here turns them into bar widths, chart coordinates and the colour of the treemap tile that
stands for many small notes. ::

    from vaultmap.report import ReportOptions, report_dict
    from vaultmap.report.html import render_html
    page = render_html(report_dict(progress, ReportOptions(title="Notes")), history=None)

Note text is untrusted: the template engine escapes every value (autoescape on), the page's
Content-Security-Policy allows no script and no request of any kind, and text of either
direction is isolated with ``<bdi>`` so a right-to-left heading cannot reorder its row. The
same function serves ``vaultmap report --format html`` and the daemon's live dashboard
(``refresh_seconds``). The page layout is described in ``docs/html-report.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

import jinja2

from vaultmap.report.common import plain, printable

HISTORY_SCHEMA = "vaultmap.history/1"

Json = Mapping[str, Any]

# --------------------------------------------------------------------------- text and links


def shown_text(item: Json, field_name: str) -> str:
    """What a person reads for ``item[field_name]``: its display (repaired) text when the report
    carries one (``display_text`` …), reduced like the terminal's to what a reader sees
    (:func:`plain`)."""
    value = item.get(f"display_{field_name}")
    if not isinstance(value, str):
        value = item.get(field_name)
    return plain(value) if isinstance(value, str) else ""


def shown_section(task: Json) -> Sequence[str]:
    """A task's heading path as a person reads it (repaired when the report carries that)."""
    section: Sequence[str] = task.get("display_section") or task.get("section") or ()
    return section


def obsidian_url(vault: str, path: str) -> str:
    """``obsidian://open?vault=…&file=…`` for a note, every part percent-encoded."""
    # A file name that is not valid UTF-8 holds its bytes as surrogates: encode them back.
    return (f"obsidian://open?vault={quote(vault, safe='', errors='surrogateescape')}"
            f"&file={quote(path, safe='', errors='surrogateescape')}")


def vault_name(report: Json) -> str:
    """The vault's name as Obsidian knows it: the root folder's name (the report's own name can
    be ``vault/sub`` when a folder inside the vault was reported)."""
    root = str(report.get("vault", {}).get("root") or "")
    name = root.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or str(report.get("vault", {}).get("name") or "vault")


# --------------------------------------------------------------------------- counts and bars


def _width(part: int, whole: int) -> str:
    """A CSS percentage, one decimal; a part above zero never draws as nothing."""
    if not whole or part <= 0:
        return "0%"
    share = 100 * part / whole
    return f"{max(share, 0.8):.1f}%"


@dataclass(frozen=True, slots=True)
class Bar:
    """One progress bar and its numbers, all taken from a report's counts object."""

    counts: Json

    @property
    def done(self) -> int:
        return int(self.counts["done"])

    @property
    def doing(self) -> int:
        return int(self.counts["doing"])

    @property
    def open(self) -> int:
        return int(self.counts["open"])

    @property
    def cancelled(self) -> int:
        return int(self.counts["cancelled"])

    @property
    def counted(self) -> int:
        return int(self.counts["counted"])

    @property
    def total(self) -> int:
        return int(self.counts["total"])

    @property
    def label(self) -> str:
        return str(self.counts["label"])

    @property
    def done_width(self) -> str:
        return _width(self.done, self.counted)

    @property
    def doing_width(self) -> str:
        return _width(self.doing, self.counted)

    @property
    def tone(self) -> str:
        """The row's state in a word; a complete row is also ticked in text (✓), so colour is
        never the only sign of it."""
        if not self.counted:
            return "none"
        if self.done == self.counted:
            return "complete"
        return "started" if self.done or self.doing else "not-started"


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Node:
    """A row of the breakdown: a note or a heading section, with its subsections."""

    kind: str  # "note" or "section"
    label: str
    path: str  # the note's vault path, as shown (undecodable bytes as U+FFFD)
    section: tuple[str, ...]
    line: int
    level: int  # 0 for a note
    bar: Bar
    url: str
    children: tuple[Node, ...] = ()
    is_open: bool = False  # shown unfolded: its children are within the report's depth
    hidden: int = 0  # subsections left out to keep a big vault's page small


def shown_sections(note: Json) -> Sequence[Json]:
    """A note's sections as the terminal report shows them: a first heading that only titles
    the note (its one top-level section, with no task before it) gives way to its subsections."""
    sections: Sequence[Json] = note.get("sections", ())
    if len(sections) == 1 and not note["own"]["total"]:
        inner: Sequence[Json] = sections[0].get("sections", ())
        return inner
    return sections


def _count_sections(sections: Sequence[Json]) -> int:
    return sum(1 + _count_sections(s.get("sections", ())) for s in sections)


def _section_node(section: Json, note_path: str, url: str, level: int, depth: int,
                  max_level: int | None) -> Node:
    inner: Sequence[Json] = section.get("sections", ())
    cut = max_level is not None and level >= max_level
    children = () if cut else tuple(
        _section_node(child, note_path, url, level + 1, depth, max_level) for child in inner)
    return Node("section", shown_text(section, "title"), note_path, tuple(section["path"]),
                int(section.get("line") or 0), level, Bar(section["counts"]), url, children,
                is_open=bool(children) and level < depth,
                hidden=_count_sections(inner) if cut else 0)


def note_tree(report: Json, max_level: int | None = None) -> list[Node]:
    """Every note with tasks, in the report's order (by path, as the terminal lists them), each
    with its heading tree; rows deeper than the report's depth start folded.

    ``max_level``: leave out sections below this level (a row then says how many it holds);
    None keeps the whole tree. Notes are never left out.
    """
    depth = int(report.get("options", {}).get("depth", 2))
    vault = vault_name(report)
    nodes: list[Node] = []
    for note in report.get("notes", ()):
        if not note["counts"]["total"]:
            continue
        url = obsidian_url(vault, note["path"])
        sections = shown_sections(note)
        cut = max_level is not None and max_level <= 0
        children = () if cut else tuple(
            _section_node(s, note["path"], url, 1, depth, max_level) for s in sections)
        nodes.append(Node("note", shown_text(note, "title") or printable(note["path"]),
                          printable(note["path"]), (), 0, 0, Bar(note["counts"]), url, children,
                          is_open=bool(children) and depth > 0,
                          hidden=_count_sections(sections) if cut else 0))
    return nodes


def tree_levels(nodes: Sequence[Node]) -> int:
    """How many section levels the deepest note has."""
    return max((node.level for node in walk(nodes)), default=0)


# --------------------------------------------------------------------------- treemap


@dataclass(frozen=True, slots=True)
class Tile:
    """One rectangle of the treemap, in the SVG's user units."""

    x: float
    y: float
    w: float
    h: float
    label: str
    detail: str  # the full name and numbers, for the tooltip
    bar: Bar
    parent: bool  # a note's frame, drawn under its sections

    @property
    def shade(self) -> int:
        """0-10: tenths done; -1 when nothing counts."""
        return -1 if not self.bar.counted else (self.bar.done * 10) // self.bar.counted

    @property
    def fits_label(self) -> bool:
        return self.w >= 46 and self.h >= 26

    @property
    def short_label(self) -> str:
        per_char = 8.5 if self.parent else 7.5  # a note's frame label is bold
        room = max(int(self.w / per_char) - 1, 3)
        return self.label if len(self.label) <= room else self.label[:room - 1] + "…"


def squarify(values: Sequence[float], x: float, y: float, w: float,
             h: float) -> list[tuple[float, float, float, float]]:
    """Rectangles for ``values`` (sorted large to small) filling the box, close to square
    (Bruls, Huijsing and van Wijk's squarified treemap)."""
    total = sum(values)
    if total <= 0 or w <= 0 or h <= 0:
        return [(x, y, 0.0, 0.0) for _ in values]
    scale = w * h / total
    areas = [v * scale for v in values]
    out: list[tuple[float, float, float, float]] = []
    start = 0
    while start < len(areas):
        side = min(w, h)
        row = [areas[start]]
        end = start + 1

        def worst(items: list[float], side: float = side) -> float:
            s = sum(items)
            return max(max(side * side * a / (s * s), (s * s) / (side * side * a))
                       for a in items if a > 0) if s > 0 else math.inf

        while end < len(areas) and worst([*row, areas[end]]) <= worst(row):
            row.append(areas[end])
            end += 1
        strip = sum(row)
        if w >= h:  # lay the row as a column on the left
            thick = strip / h if h else 0.0
            cy = y
            for a in row:
                size = a / thick if thick else 0.0
                out.append((x, cy, thick, size))
                cy += size
            x, w = x + thick, w - thick
        else:  # as a row along the top
            thick = strip / w if w else 0.0
            cx = x
            for a in row:
                size = a / thick if thick else 0.0
                out.append((cx, y, size, thick))
                cx += size
            y, h = y + thick, h - thick
        start = end
    return out


TREEMAP_WIDTH = 960.0
TREEMAP_HEIGHT = 340.0
TREEMAP_NOTES = 40  # the largest notes drawn; the rest share one tile


PHONE_WIDTH = 360.0  # a second, taller treemap for narrow screens: labels stay readable
PHONE_HEIGHT = 540.0


def treemap(nodes: Sequence[Node], width: float = TREEMAP_WIDTH,
            height: float = TREEMAP_HEIGHT) -> list[Tile]:
    """The heading tree as tiles: notes sized by their task count, each divided into its top
    sections; the smallest notes beyond :data:`TREEMAP_NOTES` share one tile."""
    ranked = sorted(nodes, key=lambda n: (-n.bar.total, n.path))
    big, rest = ranked[:TREEMAP_NOTES], ranked[TREEMAP_NOTES:]
    entries: list[tuple[float, Node | None]] = [(float(n.bar.total), n) for n in big]
    if rest:
        entries.append((float(sum(n.bar.total for n in rest)), None))
    boxes = squarify([e[0] for e in entries], 0, 0, width, height)
    tiles: list[Tile] = []
    for (value, node), (x, y, w, h) in zip(entries, boxes, strict=True):
        if node is None:
            # Sums for the colour of one tile; each note's own numbers are in the table.
            summed = {key: sum(int(n.bar.counts[key]) for n in rest)
                      for key in ("done", "doing", "open", "cancelled", "counted", "total")}
            label = f"{len(rest)} more notes"
            tiles.append(Tile(x, y, w, h, label, f"{label}: {int(value)} tasks",
                              Bar({**summed, "label": ""}), parent=False))
            continue
        detail = f"{node.label} ({node.path}): {_summary(node.bar)}"
        parts = [c for c in node.children if c.bar.total]
        if not parts or h < 40 or w < 40:
            tiles.append(Tile(x, y, w, h, node.label, detail, node.bar, parent=False))
            continue
        tiles.append(Tile(x, y, w, h, node.label, detail, node.bar, parent=True))
        head = 16.0  # room for the note's name above its sections
        parts.sort(key=lambda c: -c.bar.total)
        values = [float(c.bar.total) for c in parts]
        rest_own = node.bar.total - sum(c.bar.total for c in parts)
        inner = squarify(values + ([float(rest_own)] if rest_own > 0 else []),
                         x + 1, y + head, w - 2, h - head - 1)
        for child, (cx, cy, cw, ch) in zip(parts, inner, strict=False):
            tiles.append(Tile(cx, cy, cw, ch, child.label,
                              f"{node.label} › {child.label}: {_summary(child.bar)}",
                              child.bar, parent=False))
    return tiles


def _summary(bar: Bar) -> str:
    """``"21 of 50 done · 3 doing · 26 open · 2 cancelled"`` from a counts object."""
    c = bar.counts
    if not c.get("total"):
        return "no tasks"
    parts = [f"{c['done']} of {c['counted']} done"]
    for key in ("doing", "open", "cancelled"):
        if c.get(key):
            parts.append(f"{c[key]} {key}")
    return " · ".join(parts)


# --------------------------------------------------------------------------- history charts


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y_total: float
    y_done: float
    period: Json


@dataclass(frozen=True, slots=True)
class HistoryChart:
    """Burn-up (total and done per period) and done-per-period bars, in SVG user units."""

    by: str
    periods: Sequence[Json]
    points: list[Point]
    bars: list[tuple[float, float, float, Json]]  # x, y, height, period
    bar_width: float
    ticks: list[tuple[float, int]]  # y, value
    bar_ticks: list[tuple[float, int]]
    labels: list[tuple[float, str]]  # x, period label (thinned to fit)
    width: float = 560.0
    height: float = 260.0
    left: float = 44.0
    bottom: float = 226.0
    top: float = 14.0
    total_line: str = ""
    done_line: str = ""


def _nice_ticks(top: int, count: int = 4) -> list[int]:
    if top <= 0:
        return [0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), 10 * magnitude)
    step = max(int(step), 1)
    return list(range(0, top + step, step))


def history_chart(history: Json | None) -> HistoryChart | None:
    """The charts' geometry, or None when there is no history to draw."""
    if not history or history.get("schema") != HISTORY_SCHEMA or not history.get("periods"):
        return None
    periods: Sequence[Json] = history["periods"]
    width, height, left, right, top, bottom = 560.0, 250.0, 40.0, 10.0, 14.0, 218.0
    span = width - left - right
    count = len(periods)
    step = span / count
    xs = [left + step * (i + 0.5) for i in range(count)]
    ticks = _nice_ticks(max(int(p.get("total") or 0) for p in periods))
    high = max(ticks[-1], 1)

    def y(value: float, high: float = high) -> float:
        return bottom - (bottom - top) * value / high

    points = [Point(x, y(float(p.get("total") or 0)), y(float(p.get("done") or 0)), p)
              for x, p in zip(xs, periods, strict=True)]
    bar_ticks = _nice_ticks(max(int(p.get("done_in_period") or 0) for p in periods))
    bar_high = max(bar_ticks[-1], 1)
    bar_width = max(min(step * 0.7, 40.0), 1.0)
    bars = []
    for x, p in zip(xs, periods, strict=True):
        h = (bottom - top) * float(p.get("done_in_period") or 0) / bar_high
        bars.append((x - bar_width / 2, bottom - h, h, p))
    every = max(1, math.ceil(count / 8))
    # At most about 8 labels under the axis; every point keeps its own tooltip and table row.
    labels = [(x, str(p.get("period", "")))
              for i, (x, p) in enumerate(zip(xs, periods, strict=True)) if i % every == 0]
    return HistoryChart(
        by=str(history.get("by") or "period"), periods=periods, points=points, bars=bars,
        bar_width=bar_width, ticks=[(y(t), t) for t in ticks],
        bar_ticks=[(bottom - (bottom - top) * t / bar_high, t) for t in bar_ticks],
        labels=labels, width=width, height=height, left=left, bottom=bottom, top=top,
        total_line=" ".join(f"{pt.x:.1f},{pt.y_total:.1f}" for pt in points),
        done_line=" ".join(f"{pt.x:.1f},{pt.y_done:.1f}" for pt in points))


# --------------------------------------------------------------------------- gaps


@dataclass(frozen=True, slots=True)
class GapItem:
    """One line of a gap list: where (note and headings), what, a link and a badge."""

    path: str
    line: int
    where: str
    what: str
    url: str
    badge: str = ""


@dataclass(frozen=True, slots=True)
class GapList:
    key: str
    title: str
    explain: str
    items: list[GapItem]
    total: int


def _where(report_notes: Mapping[str, Json], path: str, section: Sequence[str]) -> str:
    """``note › heading › heading`` without a heading that only titles its note."""
    note = report_notes.get(path)
    trimmed = list(section)
    if note is not None and trimmed and len(note.get("sections", ())) == 1 \
            and not note["own"]["total"] and note["sections"][0]["title"] == trimmed[0]:
        trimmed = trimmed[1:]
    title = shown_text(note, "title") if note is not None else ""
    name = title or printable(path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    return " › ".join([name, *(plain(t) for t in trimmed)])


def gap_lists(report: Json, limit: int) -> list[GapList]:
    """The four gap lists of the report, each cut to ``limit`` items (the JSON has all)."""
    gaps: Json = report.get("gaps", {})
    vault = vault_name(report)
    notes = {n["path"]: n for n in report.get("notes", ())}
    limit = max(limit, 1)

    def item(path: str, line: int, section: Sequence[str], what: str, badge: str = "") -> GapItem:
        return GapItem(printable(path), line, _where(notes, path, section), what,
                       obsidian_url(vault, path), badge)

    nexts = [item(g["path"], int(g["next"]["line"]), g["section"],
                  shown_text(g["next"], "description") or shown_text(g["next"], "text"),
                  ("doing · " if g["next"]["type"] == "doing" else "") + f"{g['open']} open")
             for g in gaps.get("open_by_section", ())[:limit]]
    overdue = [item(o["task"]["path"], int(o["task"]["line"]), shown_section(o["task"]),
                    shown_text(o["task"], "description") or shown_text(o["task"], "text"),
                    f"due {o['due']} · {o['days_late']} day{'s' if o['days_late'] != 1 else ''}"
                    " late")
               for o in gaps.get("overdue", ())[:limit]]
    stalled = [item(r["path"], int(r["line"]), r["section"],
                    f"0 of {r['counts']['counted']} done", "")
               for r in gaps.get("no_progress", ())[:limit]]
    parents = [item(t["path"], int(t["line"]), shown_section(t),
                    shown_text(t, "description") or shown_text(t, "text"), "subtasks closed")
               for t in gaps.get("parents_open", ())[:limit]]
    lists = [
        GapList("next", "Next up", "the next task in each section with open tasks", nexts,
                len(gaps.get("open_by_section", ()))),
        GapList("overdue", "Overdue", "open tasks past their due date, oldest first", overdue,
                len(gaps.get("overdue", ()))),
        GapList("no-progress", "No progress yet",
                "sections with tasks to do and none done", stalled,
                len(gaps.get("no_progress", ()))),
        GapList("parents-open", "Parents left open",
                "open tasks whose subtasks are all closed", parents,
                len(gaps.get("parents_open", ()))),
    ]
    # Only a report made with git history has these two (docs/report-schema.md).
    if "focus" in gaps:
        focus = [item(f["path"], int(f["task"]["line"]), f["section"],
                      shown_text(f["task"], "description") or shown_text(f["task"], "text"),
                      "current step")
                 for f in gaps["focus"][:limit]]
        lists.insert(0, GapList("focus", "Focus", "the current step of each roadmap note",
                                focus, len(gaps["focus"])))
    if "stalled" in gaps:
        stalled_items = [
            item(g["path"], int(g["line"]), g["section"],
                 f"{g['counts']['done']} of {g['counts']['counted']} done",
                 f"nothing done for {g['days']} days (last {g['last_progress']})")
            for g in gaps["stalled"][:limit]]
        lists.append(GapList("stalled", "Stalled",
                             "started sections where nothing was done lately",
                             stalled_items, len(gaps["stalled"])))
    return lists


# --------------------------------------------------------------------------- the page


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vaultmap.report", "templates"),
        autoescape=True,  # note text is untrusted: every value is escaped, in HTML and SVG
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    return env


def _number(value: float) -> str:
    """A coordinate with at most one decimal: small pages, same drawing."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def walk(nodes: Sequence[Node]) -> Iterator[Node]:
    """Every node, depth first, in display order."""
    for node in nodes:
        yield node
        yield from walk(node.children)


MAX_PAGE_BYTES = 1_900_000  # a 5,000-note vault's page stays under 2 MB


def render_html(report: Json, history: Json | None = None, *, limit: int = 10,
                refresh_seconds: int | None = None,
                max_bytes: int | None = MAX_PAGE_BYTES) -> str:
    """The whole page for a ``vaultmap.report/1`` dict and an optional history dict.

    ``limit``: the most items each gap list shows (the JSON holds all). ``refresh_seconds``:
    for a live dashboard, the page reloads itself that often (a meta refresh, no script).
    ``max_bytes``: when the page with every section would be bigger, the deepest section levels
    are left out, first those below the report's depth, until it fits; every note stays, and
    a row whose subsections were left out says how many it has (None: never leave any out).
    """
    nodes = note_tree(report)
    page = _render(report, history, nodes, limit, refresh_seconds)
    if max_bytes is None:
        return page
    depth = int(report.get("options", {}).get("depth", 2))
    level = max(min(tree_levels(nodes) - 1, depth), 0)  # the first level that drops rows
    while len(page.encode("utf-8", "surrogatepass")) > max_bytes:
        page = _render(report, history, note_tree(report, max_level=level), limit,
                       refresh_seconds, cut=True)
        if level == 0:
            break  # notes alone: the smallest page that leaves nothing out of the list
        level -= 1
    return page


def _render(report: Json, history: Json | None, nodes: list[Node], limit: int,
            refresh_seconds: int | None, *, cut: bool = False) -> str:
    template = _environment().get_template("report.html.j2")
    title = printable(str(report.get("vault", {}).get("name") or "vault"))
    return template.render(
        report=report,
        title=title,
        vault=vault_name(report),
        totals=Bar(report["totals"]),
        nodes=nodes,
        cut=cut,
        tiles=treemap(nodes),
        treemap_width=TREEMAP_WIDTH,
        treemap_height=TREEMAP_HEIGHT,
        phone_tiles=treemap(nodes, PHONE_WIDTH, PHONE_HEIGHT),
        phone_width=PHONE_WIDTH,
        phone_height=PHONE_HEIGHT,
        chart=history_chart(history),
        gaps=gap_lists(report, limit),
        hidden_notes=sum(1 for n in report.get("notes", ()) if not n["counts"]["total"]),
        refresh_seconds=refresh_seconds,
        warnings=[printable(w) for w in report.get("warnings", ())],
    )


__all__ = ["HISTORY_SCHEMA", "obsidian_url", "render_html", "shown_text", "squarify",
           "treemap", "vault_name"]
