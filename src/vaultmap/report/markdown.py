"""The Markdown report: a block a person can paste into a note.

It must never add tasks to the vault it describes, so it holds no checkboxes: progress is
written as ``▓░`` bars and percentages, lists are plain bullets that start with text, tags are
shown in code spans (so Obsidian does not index them as tags) and nothing in a task's text can
open a table cell, a comment or a list item.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from vaultmap.progress import Progress, TaskRef, percent_label
from vaultmap.report.common import (
    NO_TAGS,
    ReportOptions,
    Row,
    breakdown_row_count,
    breakdown_rows,
    counts_summary,
    labeller,
    plain,
    printable,
    text_bar,
)

_INDENT = "\u2003"  # an em space: indents a table cell without Markdown reading it as code
_HEADERS = {"note": "Note", "section": "Section", "folder": "Folder", "tag": "Tag"}


# "%%" opens an Obsidian comment and "::" makes Dataview read the line as a field: a
# zero-width space goes between every two of them in a row ("%%%" holds two pairs).
_PAIRED = re.compile(r"([%:])(?=\1)")


def inline(text: str) -> str:
    """Text made safe inside a table cell or a bullet: no cell breaks, comments or markup."""
    text = " ".join(printable(text).split())
    text = _PAIRED.sub("\\1\u200b", text)
    for raw, safe in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), ("[", "\\["),
                      ("]", "\\]"), ("`", "\\`"), ("*", "\\*"), ("_", "\\_"), ("#", "\\#"),
                      ("$", "\\$")):
        text = text.replace(raw, safe)
    return text


def _tag_cell(tag: str) -> str:
    """A tag as a code span in a table cell (so Obsidian does not index it as a tag): a
    backtick would end the span, and a pipe splits the cell even inside one unless escaped."""
    return "`#" + printable(tag).replace("`", "").replace("|", "\\|") + "`"


def _row_name(row: Row, by: str, label: Callable[[str, tuple[str, ...]], str]) -> str:
    if row.kind == "tag":
        return _tag_cell(row.label)
    if row.kind == "folder":
        return _INDENT * row.level + inline(row.label) + "/"
    if row.kind == "note":
        return _INDENT * row.level + f"**{inline(row.label)}**"
    if by == "section":
        return inline(label(row.path, row.section))
    return _INDENT * row.level + inline(row.label)


def _bar(counts_percent: str, bar: str) -> str:
    return f"`{bar}` {counts_percent}"


def render_markdown(progress: Progress, options: ReportOptions) -> str:
    """The report as Markdown: a heading, the overall bar, a table per ``--by``, the gaps."""
    out: list[str] = []
    total = progress.counts
    dated = f" ({progress.today.isoformat()})" if progress.today else ""
    out.append(f"## Progress of {inline(options.title)}{dated}")
    out.append("")
    out.append(f"**{percent_label(total)}** `{text_bar(total, 20)}` {counts_summary(total)}"
               + (" (top-level tasks only)" if progress.top_level_only else ""))
    out.append("")

    label = labeller(progress)  # made once: the breakdown, Focus and the gaps all name notes
    if progress.gaps.focus:
        steps = [f"{inline(label(f.path, f.section))}: "
                 f"{inline(plain(f.task.description or f.task.text))}"
                 for f in progress.gaps.focus]
        out.append("**Focus:** " + " · ".join(steps))
        out.append("")
    # Only the rows shown are made; the rest are counted.
    shown = breakdown_rows(progress, options, limit=options.max_rows)
    if shown:
        out.append(f"| {_HEADERS[options.by]} | Progress | Done | Open |")
        out.append("| :-- | :-- | --: | --: |")
        rows = (breakdown_row_count(progress, options)
                if options.max_rows > 0 and len(shown) == options.max_rows else len(shown))
        for row in shown:
            c = row.counts
            out.append(f"| {_row_name(row, options.by, label)} | "
                       f"{_bar(percent_label(c), text_bar(c, 10))} | "
                       f"{c.done}/{c.counted} | {c.open} |")
        if len(shown) < rows:
            out.append(f"| … and {rows - len(shown)} more | | | |")
        out.append("")
    elif options.by == "tag":
        out += [inline(NO_TAGS), ""]

    out.extend(_gaps(progress, options, label))
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def _block(title: str, items: list[str], total: int, limit: int) -> list[str]:
    """A gap list: heading, at most ``limit`` bullets, and how many more there are."""
    if not total:
        return []
    more = [f"- … and {total - limit} more"] if total > limit else []
    return [f"### {title}", "", *items[:limit], *more, ""]


def _gaps(progress: Progress, options: ReportOptions,
          label: Callable[[str, tuple[str, ...]], str]) -> list[str]:
    gaps = progress.gaps
    limit = max(options.limit, 1)

    def where(path: str, section: tuple[str, ...]) -> str:
        # "March:" followed by ": text" would read "March:: text", a Dataview field.
        return inline(label(path, section)).rstrip(":")

    def what(task: TaskRef) -> str:
        return inline(plain(task.display_description or task.display_text))

    next_up = [f"- {where(g.path, g.section)}: {what(g.next)} ({len(g.open)} open)"
               for g in gaps.open_by_section[:limit]]
    overdue = [f"- {where(o.task.path, o.task.section)}: {what(o.task)} "
               f"(due {o.due.isoformat()}, {o.days_late} days late)"
               for o in gaps.overdue[:limit]]
    untouched = [f"- {where(r.path, r.section)}: 0 of {r.counts.counted} done"
                 for r in gaps.no_progress[:limit]]
    stalled = [f"- {where(s.path, s.section)}: {s.counts.done} of {s.counts.counted} done, "
               f"last progress {s.last_progress.isoformat()} ({s.days} days ago)"
               for s in gaps.stalled[:limit]]
    parents = [f"- {where(t.path, t.section)}: {what(t)} (line {t.line})"
               for t in gaps.parents_open[:limit]]
    return [
        *_block("Next up", next_up, len(gaps.open_by_section), limit),
        *_block("Overdue", overdue, len(gaps.overdue), limit),
        *_block("No progress yet", untouched, len(gaps.no_progress), limit),
        *_block("Stalled", stalled, len(gaps.stalled), limit),
        *_block("Parents left open (all their subtasks are done)", parents,
                len(gaps.parents_open), limit),
    ]
