"""What every report view shares: options, the rows of the ``--by`` views, bars, labels."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from itertools import islice
from typing import Literal

import msgspec

from vaultmap.display import printable as printable
from vaultmap.model import Note
from vaultmap.progress import Counts, FolderProgress, NoteProgress, Progress, Section

By = Literal["note", "section", "folder", "tag"]
BY_CHOICES: tuple[By, ...] = ("note", "section", "folder", "tag")


# Frozen msgspec Structs rather than dataclasses: no generated code to compile at import, and
# a C constructor for the hundreds of rows a breakdown makes. A changed copy is
# ``msgspec.structs.replace(options, ...)``.
class ReportOptions(msgspec.Struct, frozen=True):
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


class Row(msgspec.Struct, frozen=True, gc=False):
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


# The last answer of :func:`notes_with_tasks`: a report asks for the same progress's notes
# with tasks several times (rows, their count, the section trimmer, the hidden notes), and
# each asking walks every note of the vault.
_last_with_tasks: tuple[Progress, tuple[NoteProgress, ...]] | None = None


def notes_with_tasks(progress: Progress) -> tuple[NoteProgress, ...]:
    """``progress.notes_with_tasks``, worked out once per progress (the last one is kept)."""
    global _last_with_tasks
    last = _last_with_tasks
    if last is not None and last[0] is progress:
        return last[1]
    found = progress.notes_with_tasks
    _last_with_tasks = (progress, found)
    return found


def breakdown_rows(progress: Progress, options: ReportOptions, *, limit: int = 0,
                   name: Callable[[str], str] | None = None) -> list[Row]:
    """The rows of the ``--by`` view, in display order; things without tasks are left out.

    ``note``: each note, then its sections ``depth`` levels deep (0 = notes only).
    ``section``: every section down to ``depth`` levels (at least 1), each with its note.
    ``folder``: the folder tree; folders ``depth`` levels deep, then the notes they hold.
    ``tag``: every tag.

    ``limit``: only the first so many (0: all; :func:`breakdown_row_count` counts them all).
    ``name``: the :func:`note_namer` of ``progress``, when the caller has one already.
    """
    rows = _rows(progress, options, name)
    return list(islice(rows, limit)) if limit > 0 else list(rows)


def _rows(progress: Progress, options: ReportOptions,
          name: Callable[[str], str] | None) -> Iterator[Row]:
    depth = max(options.depth, 0)
    if options.by == "tag":
        yield from (Row("tag", printable(t.tag), t.tag, (), 0, t.counts) for t in progress.tags)
        return
    if options.by == "folder":
        yield from _folder_rows(progress.folders, 0, max(depth - 1, 0))
        return
    name = name or note_namer(progress)
    for note in notes_with_tasks(progress):
        # A heading that only titles the note ("# Bike Repair" in Bike Repair.md) would repeat
        # the note's own row with the same numbers: its subsections are shown in its place.
        shown = title_section(note) or note.root
        if options.by == "note":
            yield Row("note", name(note.path), note.path, (), 0, note.counts)
            if depth:
                yield from _section_rows(shown, note.path, 1, depth)
        elif shown.children:
            yield from _section_rows(shown, note.path, 0, max(depth, 1) - 1)
        else:
            yield Row("section", name(note.path), note.path, (), 0, note.counts)


def breakdown_row_count(progress: Progress, options: ReportOptions) -> int:
    """``len(breakdown_rows(progress, options))``, without making the rows."""
    depth = max(options.depth, 0)
    if options.by == "tag":
        return len(progress.tags)
    if options.by == "folder":
        return _count_folder_rows(progress.folders, 0, max(depth - 1, 0))
    count = 0
    for note in notes_with_tasks(progress):
        shown = title_section(note) or note.root
        if options.by == "note":
            count += 1 + (_count_section_rows(shown, 1, depth) if depth else 0)
        elif shown.children:
            count += _count_section_rows(shown, 0, max(depth, 1) - 1)
        else:
            count += 1
    return count


def _count_section_rows(section: Section, level: int, depth: int) -> int:
    count = len(section.children)
    if level < depth:
        for child in section.children:
            count += _count_section_rows(child, level + 1, depth)
    return count


def _count_folder_rows(folder: FolderProgress, level: int, depth: int) -> int:
    count = 0
    for sub in folder.folders:
        if sub.counts.total:
            count += 1
            if level < depth:
                count += _count_folder_rows(sub, level + 1, depth)
    return count + sum(1 for note in folder.notes if note.counts.total)


def note_namer(progress: Progress) -> Callable[[str], str]:
    """A function ``note path -> the name a report shows``: the note's title, with as many of
    its folders in front as tell it apart from other notes of the same title (two daily notes
    ``Journal/2024-12-21`` and ``Work/2024-12-21``), printable.

    Cheap to make and to call: a report names a few hundred of thousands of notes, so the
    names of a title's notes are worked out when one of them is first asked for."""
    by_title: dict[str, list[str]] = {}
    for note in progress.notes:
        path = note.path
        title = _title_of(path)
        group = by_title.get(title)
        if group is None:
            by_title[title] = [path]
        else:
            group.append(path)
    names: dict[str, str] = {}

    def name(path: str) -> str:
        found = names.get(path)
        if found:
            return found
        title = _title_of(path)
        paths = by_title.pop(title, None)  # each title's names are worked out once
        if paths is not None:
            names.update(_distinct_names(title, paths))
        return names.get(path) or note_title(path)

    return name


def _title_of(path: str) -> str:
    """:attr:`~vaultmap.progress.NoteProgress.title` of a note path."""
    file_name = path.rsplit("/", 1)[-1]
    stem, dot, _ext = file_name.rpartition(".")
    return stem if dot and stem else file_name


def _distinct_names(title: str, paths: list[str]) -> dict[str, str]:
    """The shown names of the notes of one title: as many folders in front as tell them
    apart."""
    if len(paths) == 1:
        return {paths[0]: printable(title)}
    shown = {path: title for path in paths}
    deepest = max(path.count("/") for path in paths)
    depth = 0
    while len(set(shown.values())) < len(paths) and depth < deepest:
        depth += 1
        shown = {path: "/".join([*path.split("/")[:-1][-depth:], title]) for path in paths}
    return {path: printable(shown_name) for path, shown_name in shown.items()}


NO_TAGS = ("No tags in these notes: tag a task (#tag) or a note (tags: in its front matter) "
           "to see progress per tag.")


MAX_DATE_WARNINGS = 10

#: At most this many scan warnings are listed one by one; past it, the first
#: :data:`SCAN_WARNINGS_WHEN_CUT` and a count of the rest (``-v`` lists them all).
MAX_SCAN_WARNINGS = 10
SCAN_WARNINGS_WHEN_CUT = 5


def scan_warning_lines(warnings: Sequence[str], repeated: Sequence[str] = (), *,
                       verbose: bool = False) -> list[str]:
    """The scan's warnings as a command prints them, one line each.

    ``verbose``: every one. Otherwise those not given before (``repeated`` are the warnings
    about notes unchanged since an earlier scan, which said them), summed up past
    :data:`MAX_SCAN_WARNINGS` (the first few and a count of the rest), then one line
    counting the repeated ones left out, so a vault with many broken front matters does not
    print hundreds of lines on every run.
    """
    if verbose:
        return list(warnings)
    left_out = Counter(repeated)
    fresh: list[str] = []
    for line in warnings:
        if left_out[line] > 0:
            left_out[line] -= 1
        else:
            fresh.append(line)
    skipped = len(warnings) - len(fresh)
    lines = fresh
    if len(fresh) > MAX_SCAN_WARNINGS:
        rest = len(fresh) - SCAN_WARNINGS_WHEN_CUT
        lines = [*fresh[:SCAN_WARNINGS_WHEN_CUT],
                 f"... and {rest} more warnings (-v lists them all)"]
    if skipped:
        lines.append(f"{skipped} {'warning' if skipped == 1 else 'warnings'} about unchanged "
                     "notes, given on an earlier run, not repeated (-v lists them)")
    return lines


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return len(text.strip()) == 10


def date_warnings(notes: Iterable[Note]) -> list[str]:
    """One line per open task whose due date is no calendar date (``📅 2024-02-31``): it is
    left out of Overdue, so the user hears why. At most :data:`MAX_DATE_WARNINGS` lines, then
    a count of the rest. Only open tasks are looked at: their fields are read for Overdue
    anyway, so a warm report pays nothing more (fields are parsed on first use)."""
    return bad_date_warnings((note.path, task.line, task.fields.due) for note in notes
                             for task in note.tasks if task.is_open and task.fields.due)


def bad_date_warnings(dues: Iterable[tuple[str, int, str]]) -> list[str]:
    """:func:`date_warnings` from (note path, line, due) of open tasks, in note order: the
    candidates a stored rollup keeps (``NoteRollup.odd_dues``), so a warm report warns
    without the tasks."""
    found = [f"{path}:{line}: 📅 {due} is not a date; the task is left out of Overdue"
             for path, line, due in dues if due and not _is_date(due)]
    if len(found) > MAX_DATE_WARNINGS:
        rest = len(found) - MAX_DATE_WARNINGS
        found = [*found[:MAX_DATE_WARNINGS], f"... and {rest} more due dates that are not dates"]
    return found


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
    for note in notes_with_tasks(progress):
        section = title_section(note)
        if section is not None:
            titles[note.path] = section.title

    def trim(path: str, section: tuple[str, ...]) -> tuple[str, ...]:
        if section and titles.get(path) == section[0]:
            return section[1:]
        return section

    return trim


def labeller(progress: Progress, separator: str = " › ", *,
             name: Callable[[str], str] | None = None,
             trim: Callable[[str, tuple[str, ...]], tuple[str, ...]] | None = None,
             ) -> Callable[[str, tuple[str, ...]], str]:
    """A function ``(note path, section path) -> "note › heading › heading"`` that leaves out a
    heading that only titles its note (see :func:`title_section`). ``name`` and ``trim``: the
    :func:`note_namer` and :func:`section_trimmer` of ``progress``, when the caller has them."""
    trim = trim or section_trimmer(progress)
    name = name or note_namer(progress)

    def label(path: str, section: tuple[str, ...]) -> str:
        return section_label(name(path), trim(path, section), separator)

    return label


def counts_summary(counts: Counts) -> str:
    """``"21 of 50 done · 29 open (3 doing) · 2 cancelled"``; zero parts are left out.

    The parts add up: done + open = the counted tasks ("open", as in the tables' Open column,
    is every task not done or cancelled, the ones in progress included).
    """
    if not counts.total:
        return "no tasks"
    parts = [f"{counts.done} of {counts.counted} done"]
    if counts.open:
        doing = f" ({counts.doing} doing)" if counts.doing else ""
        parts.append(f"{counts.open} open{doing}")
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


# Inline Markdown, matched in linear time: no inner class may hold the character that opens the
# construct again, so a run of "[[" or "[a](" costs each attempt one step, not the rest of the
# text (those runs took minutes with ``[^\]]*``). Emphasis is paired by a stack below, not by
# a lazy ``.+?`` that rescans the text for every opener.
_WIKI_LINK = re.compile(r"!?\[\[([^\[\]|#^]*)(?:[#^][^\[\]|]*)?(?:\|([^\[\]]*))?\]\]")
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\((?:[^()\[\]\s]|\([^()\[\]\s]*\))*\)")
_CODE = re.compile(r"`([^`]+)`")
_DELIMITER_RUN = re.compile(r"(\*+|_+)")

# The most characters of one text the report shows; the rest is cut with an ellipsis (JSON
# keeps everything). Longer input is cut before any work so a 9 MB task costs no more than
# a short one.
MAX_SHOWN = 300
ELLIPSIS = "…"


def _strip_emphasis(text: str) -> str:
    """Remove paired ``**``/``__``/``*``/``_`` delimiters in one pass (a stack per kind).

    The text is split into runs of one delimiter character; a run of 1 is emphasis, 2 strong,
    3 both, longer is kept as written (so ``"*" * 10**6`` is one step). A run opens when a
    non-space follows it and closes when a non-space precedes it; emphasis must also not
    touch a letter or digit on its outer side, so ``snake_case`` stays. Unpaired runs stay.
    """
    if "*" not in text and "_" not in text:
        return text
    parts = _DELIMITER_RUN.split(text)
    openers: dict[str, list[int]] = {}
    removed = [0] * len(parts)
    for index in range(1, len(parts), 2):
        run = parts[index]
        if len(run) > 3:
            continue
        before = parts[index - 1][-1:] or (parts[index - 2][-1:] if index >= 2 else "")
        after = (parts[index + 1][:1] if index + 1 < len(parts) else "") or (
            parts[index + 2][:1] if index + 2 < len(parts) else "")
        for mark in (run,) if len(run) < 3 else (run[:2], run[:1]):
            single = len(mark) == 1
            can_close = bool(before) and not before.isspace() and not (single and after.isalnum())
            can_open = bool(after) and not after.isspace() and not (single and before.isalnum())
            stack = openers.setdefault(mark, [])
            if can_close and stack:
                opener = stack.pop()
                removed[opener] += len(mark)
                removed[index] += len(mark)
            elif can_open:
                stack.append(index)
    if not any(removed):
        return text
    return "".join(part[removed[index]:] if index % 2 else part
                   for index, part in enumerate(parts))


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when it was cut."""
    if limit <= 0 or len(text) <= limit:
        return text
    return text[:limit - 1].rstrip() + ELLIPSIS


def plain(text: str, limit: int = MAX_SHOWN) -> str:
    """Inline Markdown reduced to what a reader sees: ``**Maths** [[Calc|calc]]`` ->
    ``Maths calc``, printable, at most ``limit`` characters (0: no limit). For display only;
    keys and JSON keep the text as written. Linear in the text's length.

    Every text a renderer shows passes here once, so a change to what is displayed (e.g.
    repairing mojibake) belongs in this one function.
    """
    if limit > 0 and len(text) > 4 * limit:
        text = text[:4 * limit]  # enough to fill ``limit`` after markup is removed
        cut = True
    else:
        cut = False
    text = printable(text)
    text = _WIKI_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _MD_LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _strip_emphasis(text)
    text = " ".join(text.split())
    shown = shorten(text, limit)
    if cut and not shown.endswith(ELLIPSIS):
        shown = shown.rstrip() + ELLIPSIS  # markup shrank it, but there was more
    return shown
