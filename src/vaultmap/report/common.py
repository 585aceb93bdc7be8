"""What every report view shares: options, the rows of the ``--by`` views, bars, labels."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from vaultmap.display import printable as printable
from vaultmap.progress import Counts, FolderProgress, NoteProgress, Progress, Section

By = Literal["note", "section", "folder", "tag"]
BY_CHOICES: tuple[By, ...] = ("note", "section", "folder", "tag")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """How a report is shaped. The numbers never depend on these; only what is shown does.

    ``by``: the breakdown (``note`` also shows each note's sections to ``depth`` levels,
    ``section`` lists sections alone, ``folder`` is the folder tree to ``depth`` levels,
    ``tag`` the tags). ``limit``: the most items a gap list shows in the terminal and Markdown
    (JSON always holds everything). ``max_rows``: the most breakdown rows they show (0: all);
    a big vault's tree is better narrowed than scrolled. ``title``: the vault's name.
    ``warnings``: the scan's.
    """

    by: By = "note"
    depth: int = 2
    limit: int = 10
    max_rows: int = 200
    title: str = "vault"
    root: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a breakdown: a note, section, folder or tag at some indent level."""

    kind: Literal["note", "section", "folder", "tag"]
    label: str  # its own name (a heading's text, a note's title, a folder's name, a tag)
    path: str  # the note or folder path ("" for the vault); the tag for tags
    section: tuple[str, ...]  # the heading path for sections
    level: int  # indent level in a tree view
    counts: Counts


def _section_rows(section: Section, path: str, level: int, depth: int) -> Iterator[Row]:
    for child in section.children:
        yield Row("section", plain(child.title), path, child.path, level, child.counts)
        if level < depth:
            yield from _section_rows(child, path, level + 1, depth)


def _folder_rows(folder: FolderProgress, level: int, depth: int) -> Iterator[Row]:
    for sub in folder.folders:
        if not sub.counts.total:
            continue
        yield Row("folder", printable(sub.name), sub.path, (), level, sub.counts)
        if level < depth:
            yield from _folder_rows(sub, level + 1, depth)
    for note in folder.notes:
        if note.counts.total:
            yield Row("note", printable(note.title), note.path, (), level, note.counts)


def breakdown_rows(progress: Progress, options: ReportOptions) -> list[Row]:
    """The rows of the ``--by`` view, in display order; things without tasks are left out.

    ``note``: each note, then its sections ``depth`` levels deep (0 = notes only).
    ``section``: every section down to ``depth`` levels (at least 1), each with its note.
    ``folder``: the folder tree; folders ``depth`` levels deep, then the notes they hold.
    ``tag``: every tag.
    """
    depth = max(options.depth, 0)
    if options.by == "tag":
        return [Row("tag", printable(t.tag), t.tag, (), 0, t.counts) for t in progress.tags]
    if options.by == "folder":
        return list(_folder_rows(progress.folders, 0, max(depth - 1, 0)))
    rows: list[Row] = []
    for note in progress.notes_with_tasks:
        # A heading that only titles the note ("# Bike Repair" in Bike Repair.md) would repeat
        # the note's own row with the same numbers: its subsections are shown in its place.
        shown = title_section(note) or note.root
        if options.by == "note":
            rows.append(Row("note", printable(note.title), note.path, (), 0, note.counts))
            if depth:
                rows.extend(_section_rows(shown, note.path, 1, depth))
        elif shown.children:
            rows.extend(_section_rows(shown, note.path, 0, max(depth, 1) - 1))
        else:
            rows.append(Row("section", printable(note.title), note.path, (), 0, note.counts))
    return rows


def title_section(note: NoteProgress) -> Section | None:
    """The note's title heading: its only top-level section when no task comes before it."""
    root = note.root
    if len(root.children) == 1 and not root.own.total:
        return root.children[0]
    return None


def section_trimmer(progress: Progress) -> Callable[[str, tuple[str, ...]], tuple[str, ...]]:
    """A function ``(note path, section path) -> section path`` without a first heading that
    only titles its note (see :func:`title_section`)."""
    titles: dict[str, str] = {}
    for note in progress.notes_with_tasks:
        section = title_section(note)
        if section is not None:
            titles[note.path] = section.title

    def trim(path: str, section: tuple[str, ...]) -> tuple[str, ...]:
        if section and titles.get(path) == section[0]:
            return section[1:]
        return section

    return trim


def labeller(progress: Progress, separator: str = " › ") -> Callable[[str, tuple[str, ...]], str]:
    """A function ``(note path, section path) -> "note › heading › heading"`` that leaves out a
    heading that only titles its note (see :func:`title_section`)."""
    trim = section_trimmer(progress)

    def label(path: str, section: tuple[str, ...]) -> str:
        return section_label(note_title(path), trim(path, section), separator)

    return label


def counts_summary(counts: Counts) -> str:
    """``"21 of 50 done · 3 doing · 26 open · 2 cancelled"``; zero parts are left out."""
    if not counts.total:
        return "no tasks"
    parts = [f"{counts.done} of {counts.counted} done"]
    if counts.doing:
        parts.append(f"{counts.doing} doing")
    if counts.open:
        parts.append(f"{counts.open} open")
    if counts.cancelled:
        parts.append(f"{counts.cancelled} cancelled")
    return " · ".join(parts)


def bar_cells(counts: Counts, width: int) -> int:
    """How many of ``width`` cells a bar fills; full only when everything is done."""
    if not counts.counted or width <= 0:
        return 0
    filled = (counts.done * width) // counts.counted
    if counts.done and not filled:
        return 1  # show that something is done, even 1 of 1000
    return filled


def text_bar(counts: Counts, width: int = 10, full: str = "▓", empty: str = "░") -> str:
    """A bar of plain characters, e.g. ``▓▓▓░░░░░░░``; empty cells only when nothing counts."""
    filled = bar_cells(counts, width)
    return full * filled + empty * (width - filled)


def section_label(note_title: str, section: tuple[str, ...], separator: str = " › ") -> str:
    """``"plan › Month 1 › Week 2"``; just the note when the section is the whole note."""
    return separator.join((note_title, *(plain(title) for title in section)))


def note_title(path: str) -> str:
    """The file name of a note path without its extension, safe to print."""
    name = path.rsplit("/", 1)[-1]
    stem, dot, _ext = name.rpartition(".")
    return printable(stem if dot and stem else name)


_WIKI_LINK = re.compile(r"!?\[\[([^\]|#^]*)(?:[#^][^\]|]*)?(?:\|([^\]]*))?\]\]")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*_])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*_])")
_CODE = re.compile(r"`([^`]+)`")


def plain(text: str) -> str:
    """Inline Markdown reduced to what a reader sees: ``**Maths** [[Calc|calculus]]`` ->
    ``Maths calculus``. For display only; keys and JSON keep the text as written."""
    text = printable(text)
    text = _WIKI_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _MD_LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\2", text)
    return " ".join(text.split())
