"""Progress roll-ups: parsed notes in, a progress model out. Pure: no files, no clock.

Counting rules:

* Every task has a status type: todo, doing, done, cancelled or other. Todo, doing and other are
  *open*. ``percent = done / (all - cancelled)``: cancelled tasks are shown but leave the
  denominator, so dropping a task never lowers progress. When nothing is left to count the
  percent is ``None`` and reads "no tasks" (or "all cancelled"), never NaN or 0 %.
* Nested tasks count as tasks. With ``top_level_only`` only depth-0 tasks count.
* A heading section includes its subsections; a folder includes its subfolders; a tag collects
  the tasks that carry it, either on their own line or through the note's front-matter tags.
  Tags are compared without their ``#`` and without case (``#Work`` and front-matter ``work``
  are one tag); the first spelling seen is the one shown.

Gaps (what is left, where to go next):

* ``open_by_section``: the open tasks of each innermost section, in document order.
* The *next task* of a section is the first open task, in document order, that has no open
  child task of its own (you cannot finish a parent before its children), preferring a task
  already in progress (``doing``) over one not started: work you started comes first.
* ``no_progress``: sections (and whole notes) that hold countable tasks but none done. Only the
  outermost such section is listed; its subsections are implied.
* ``overdue``: open tasks whose ``📅`` due date is before ``today``. ``today`` is passed in; a
  malformed date (``2023-12-32``) is never overdue (the parser keeps it for other checks).
* ``parents_open``: open tasks whose child tasks are all closed (done or cancelled, at least one
  done): usually a box someone forgot to tick.

With history (git), :func:`with_history` adds two answers to "where am I stuck?":

* ``stalled``: sections that were started (some of their own tasks done, some open) but had no
  task done in the last ``stalled_days`` days, with the date of their last progress.
* ``focus``: for each roadmap note (a note whose tasks sit under two or more headings), its
  current step: the next task of its first unfinished section, in note order.

Usage::

    progress = build_progress(notes, today=date(2026, 11, 22))
    progress.counts.percent          # 42.5, or None when nothing counts
    progress.notes[0].root.children  # the heading tree of the first note
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import msgspec

from vaultmap.fs import source_stamp
from vaultmap.model import Note, StatusType, Task

__all__ = [
    "Counts",
    "FocusStep",
    "FolderProgress",
    "Gaps",
    "NoteProgress",
    "NoteRollup",
    "OverdueTask",
    "Progress",
    "RollupSummariser",
    "Section",
    "SectionGap",
    "SectionRef",
    "StalledSection",
    "TagProgress",
    "TaskRef",
    "build_progress",
    "merge_rollups",
    "normalise_tag",
    "note_rollup",
    "percent_label",
    "with_history",
]


class _Value(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The base of this module's values: frozen, compared by value, invisible to the cyclic
    garbage collector (they form no cycles) and stored compactly in the index as arrays
    (:class:`RollupSummariser`)."""


class Counts(_Value, frozen=True):
    """How many tasks of each status type; adds up with ``+``."""

    todo: int = 0
    doing: int = 0
    done: int = 0
    cancelled: int = 0
    other: int = 0

    @classmethod
    def of(cls, tasks: Iterable[Task]) -> Counts:
        """Count tasks by their status type."""
        # A plain loop: a Counter per section (tens of thousands on a big vault) costs several
        # times more.
        tally = _ZERO_TALLY.copy()
        for task in tasks:
            tally[task.type] += 1
        return cls(tally[StatusType.TODO], tally[StatusType.DOING], tally[StatusType.DONE],
                   tally[StatusType.CANCELLED], tally[StatusType.OTHER])

    @classmethod
    def of_tally(cls, tally: Mapping[StatusType, int]) -> Counts:
        """Counts from a status-type -> number mapping (missing types are 0)."""
        return cls(todo=tally.get(StatusType.TODO, 0), doing=tally.get(StatusType.DOING, 0),
                   done=tally.get(StatusType.DONE, 0),
                   cancelled=tally.get(StatusType.CANCELLED, 0),
                   other=tally.get(StatusType.OTHER, 0))

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.todo + other.todo, self.doing + other.doing, self.done + other.done,
                      self.cancelled + other.cancelled, self.other + other.other)

    @property
    def total(self) -> int:
        """Every task, cancelled ones included."""
        return self.todo + self.doing + self.done + self.cancelled + self.other

    @property
    def counted(self) -> int:
        """The denominator of the percent: every task except cancelled ones."""
        return self.total - self.cancelled

    @property
    def open(self) -> int:
        """Work left: todo, doing and other."""
        return self.todo + self.doing + self.other

    @property
    def percent(self) -> float | None:
        """``100 * done / counted``, or ``None`` when nothing counts (never NaN)."""
        if self.counted == 0:
            return None
        return 100.0 * self.done / self.counted

    @property
    def percent_floor(self) -> int | None:
        """The percent rounded down, so 199 of 200 reads 99 %, never a premature 100 %."""
        if self.counted == 0:
            return None
        return (100 * self.done) // self.counted


_ZERO_TALLY: dict[StatusType, int] = dict.fromkeys(StatusType, 0)
_NO_COUNTS = Counts()


def percent_label(counts: Counts) -> str:
    """``"42%"``, or ``"no tasks"`` / ``"all cancelled"`` when there is nothing to measure."""
    floor = counts.percent_floor
    if floor is not None:
        return f"{floor}%"
    return "all cancelled" if counts.cancelled else "no tasks"


class TaskRef(_Value, frozen=True):
    """What a report shows of one task (a gap's next task, an overdue or a parent left open):
    its place and its words, not the task itself, so stored rollups hold no :class:`Task`.
    Reads like a :class:`~vaultmap.model.Task` for these attributes."""

    path: str
    line: int
    status: str
    type: StatusType
    text: str
    description: str
    section: tuple[str, ...]
    key: str
    due: str | None = None
    # As on Task: the mojibake-repaired forms, or None where they read as written.
    repaired_text: str | None = None
    repaired_description: str | None = None
    repaired_section: tuple[str, ...] | None = None

    @classmethod
    def of(cls, task: Task) -> TaskRef:
        """The reference to ``task``."""
        return cls(task.path, task.line, task.status, task.type, task.text,
                   task.fields.description, task.section, task.key, task.fields.due,
                   task.repaired_text, task.repaired_description, task.repaired_section)

    @property
    def display_text(self) -> str:
        """The task's text as a person should read it (mojibake repaired)."""
        return self.text if self.repaired_text is None else self.repaired_text

    @property
    def display_description(self) -> str:
        """:attr:`description` as a person should read it."""
        return self.description if self.repaired_description is None \
            else self.repaired_description

    @property
    def display_section(self) -> tuple[str, ...]:
        """:attr:`section` as a person should read it."""
        return self.section if self.repaired_section is None else self.repaired_section

    @property
    def is_open(self) -> bool:
        return self.type.is_open


class Section(_Value, frozen=True):
    """One heading section of a note, with its subsections.

    The root section of a note has ``title == ""``, ``level == 0`` and ``line == 0``; its own
    tasks are the ones before the first heading. Sections holding no task (themselves or below)
    are left out of the tree. A section holds counts, not its tasks (the note has them).
    """

    title: str
    path: tuple[str, ...]  # heading texts, outermost first; () for the root
    level: int  # the heading level (1-6); 0 for the root
    line: int  # the heading's line; 0 for the root
    counts: Counts  # this section and all its subsections
    own: Counts  # tasks directly under this heading, not in a subsection
    children: tuple[Section, ...] = ()

    def walk(self) -> Iterable[Section]:
        """This section and every subsection, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()


class NoteProgress(_Value, frozen=True):
    """The progress of one note."""

    path: str
    counts: Counts
    root: Section
    tags: tuple[str, ...]  # the note's front-matter tags, normalised (no '#')

    @property
    def title(self) -> str:
        """The file name without its Markdown extension, as Obsidian shows it."""
        name = self.path.rsplit("/", 1)[-1]
        stem, dot, _ext = name.rpartition(".")
        return stem if dot and stem else name


class FolderProgress(_Value, frozen=True):
    """A folder with everything below it; ``path == ""`` is the vault itself."""

    path: str
    name: str
    counts: Counts
    folders: tuple[FolderProgress, ...] = ()
    notes: tuple[NoteProgress, ...] = ()

    def walk(self) -> Iterable[FolderProgress]:
        """This folder and every subfolder, depth first."""
        yield self
        for folder in self.folders:
            yield from folder.walk()


class TagProgress(_Value, frozen=True):
    """The tasks that carry one tag (on their line or through their note's front matter)."""

    tag: str  # as first seen, without '#'
    counts: Counts
    notes: int  # how many notes hold such tasks


class SectionRef(_Value, frozen=True):
    """Points at a section of a note; ``section == ()`` is the whole note."""

    path: str
    section: tuple[str, ...]
    line: int
    counts: Counts


class SectionGap(_Value, frozen=True):
    """The open tasks directly under one section, and the one to do next."""

    path: str
    section: tuple[str, ...]
    line: int  # the heading's line; 0 before the first heading
    open_lines: tuple[int, ...]  # the lines of the open tasks, in document order
    next: TaskRef

    @property
    def open(self) -> tuple[int, ...]:
        """:attr:`open_lines`: ``len(gap.open)`` is how many tasks are open there."""
        return self.open_lines


class OverdueTask(_Value, frozen=True):
    task: TaskRef
    due: date
    days_late: int


class StalledSection(_Value, frozen=True):
    """A started section with no task done since ``last_progress``."""

    path: str
    section: tuple[str, ...]
    line: int
    counts: Counts  # the section's own tasks
    last_progress: date
    days: int  # since last_progress


class FocusStep(_Value, frozen=True):
    """The current step of a roadmap note."""

    path: str
    section: tuple[str, ...]
    task: TaskRef


class Gaps(_Value, frozen=True):
    """What is left and where to go next; see the module docstring for each rule."""

    open_by_section: tuple[SectionGap, ...] = ()
    no_progress: tuple[SectionRef, ...] = ()
    overdue: tuple[OverdueTask, ...] = ()
    parents_open: tuple[TaskRef, ...] = ()
    history: bool = False  # stalled and focus were computed (the vault has git history)
    stalled: tuple[StalledSection, ...] = ()
    focus: tuple[FocusStep, ...] = ()


class Progress(_Value, frozen=True):
    """Everything a report shows, computed once from the notes."""

    counts: Counts
    notes: tuple[NoteProgress, ...]  # every note, sorted by path (also those without tasks)
    folders: FolderProgress
    tags: tuple[TagProgress, ...]  # sorted by tag, case-insensitively
    gaps: Gaps
    today: date | None
    top_level_only: bool

    @property
    def notes_with_tasks(self) -> tuple[NoteProgress, ...]:
        return tuple(n for n in self.notes if n.counts.total)


def normalise_tag(tag: str) -> str:
    """A tag without its leading ``#`` and surrounding space: ``"#a/b "`` -> ``"a/b"``."""
    return tag.strip().lstrip("#").strip()


# --- building -------------------------------------------------------------------------------


class _SectionBuilder:
    __slots__ = ("children", "level", "line", "parent", "path", "tasks", "title")

    def __init__(self, title: str, path: tuple[str, ...], level: int, line: int,
                 parent: _SectionBuilder | None = None) -> None:
        self.title = title
        self.path = path
        self.level = level
        self.line = line
        self.tasks: list[Task] = []
        self.children: list[_SectionBuilder] = []
        self.parent = parent

    def walk(self) -> Iterable[_SectionBuilder]:
        """This section and every subsection, in document order (as :meth:`Section.walk`)."""
        yield self
        for child in self.children:
            yield from child.walk()

    def child(self, title: str, level: int, line: int) -> _SectionBuilder:
        node = _SectionBuilder(title, (*self.path, title), level, line, parent=self)
        self.children.append(node)
        return node

    def freeze(self) -> Section:
        children = tuple(c for c in (b.freeze() for b in self.children) if c.counts.total)
        own = Counts.of(self.tasks)
        total = own
        for child in children:
            total = total + child.counts
        return Section(self.title, self.path, self.level, self.line, total, own, children)


def _section_tree(note: Note, tasks: Sequence[Task]) -> _SectionBuilder:
    """Build a note's heading tree and hang each task under its section.

    The headings give the tree (and tell apart two sections with the same title); the task's
    own ``section`` is the truth about where it belongs, so a task whose preceding heading does
    not match its section path (a heading the parser did not count, say) still lands right.
    Titles and paths are display text: a double-encoded note's headings repaired, as every
    view shows them (the tasks keep their raw ``text`` and ``section``).
    """
    root = _SectionBuilder("", (), 0, 0)
    ordered: list[_SectionBuilder] = []  # one per heading, in line order
    by_path: dict[tuple[str, ...], list[_SectionBuilder]] = {}
    current = root
    for heading in sorted(note.headings, key=lambda h: h.line):
        while current is not root and current.level >= heading.level:
            assert current.parent is not None
            current = current.parent
        current = current.child(heading.display_text, heading.level, heading.line)
        ordered.append(current)
        by_path.setdefault(current.path, []).append(current)
    lines = [node.line for node in ordered]

    for task in tasks:
        index = bisect.bisect_left(lines, task.line) - 1
        node: _SectionBuilder | None = ordered[index] if index >= 0 else root
        while node is not None and node.path != task.display_section:
            node = node.parent
        if node is None:
            node = _find_or_make(root, by_path, task)
        node.tasks.append(task)
    return root


def _find_or_make(root: _SectionBuilder, by_path: dict[tuple[str, ...], list[_SectionBuilder]],
                  task: Task) -> _SectionBuilder:
    """The last section with the task's path before it, made (without a line) if none is."""
    section = task.display_section
    before = [n for n in by_path.get(section, ()) if n.line <= task.line]
    if before:
        return before[-1]
    node = root
    for depth, title in enumerate(section, start=1):
        found = [c for c in node.children if c.title == title]
        node = found[-1] if found else node.child(title, depth, 0)
        by_path.setdefault(node.path, []).append(node)
    return node


def _folder_tree(notes: Sequence[NoteProgress]) -> FolderProgress:
    """The folder tree of ``notes`` (sorted by path): each folder's notes in that order, its
    subfolders by name (case-insensitively first), its counts those of everything below."""
    direct: dict[str, list[NoteProgress]] = {"": []}
    subfolders: dict[str, list[str]] = {"": []}
    for note in notes:
        folder = note.path.rpartition("/")[0]
        members = direct.get(folder)
        if members is None:
            # The folder and each ancestor not yet known become their parents' subfolders.
            new: list[str] = []
            child = folder
            while child not in subfolders:
                new.append(child)
                child = child.rpartition("/")[0]
            for known in new:
                subfolders[known] = []
                direct.setdefault(known, [])
            for known in new:
                subfolders[known.rpartition("/")[0]].append(known)
            members = direct[folder]
        members.append(note)

    def build(path: str) -> FolderProgress:
        names = subfolders[path]
        names.sort(key=_folder_order)
        folders = tuple(build(name) for name in names)
        members = direct[path]
        counts = _sum_counts([*(f.counts for f in folders), *(n.counts for n in members)])
        return FolderProgress(path, path.rpartition("/")[2], counts, folders, tuple(members))

    return build("")


def _folder_order(path: str) -> tuple[str, str]:
    name = path.rpartition("/")[2]
    return name.casefold(), name


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OPEN = frozenset(t for t in StatusType if t.is_open)


@functools.lru_cache(maxsize=4096)
def _parse_date(text: str | None) -> date | None:
    if not text or not _DATE.fullmatch(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _next_task(open_tasks: Sequence[Task], has_open_child: set[int]) -> Task:
    actionable = [t for t in open_tasks if t.line not in has_open_child] or list(open_tasks)
    for task in actionable:
        if task.type is StatusType.DOING:
            return task
    return actionable[0]


def _note_gaps(note: NoteProgress, tree: _SectionBuilder, counted: Sequence[Task],
               every: Sequence[Task], gaps: _GapLists) -> None:
    open_child_parents = {t.parent_line for t in counted
                          if t.type in _OPEN and t.parent_line is not None}
    # The builders, not the frozen sections, hold the tasks; sections without tasks (left out
    # of the frozen tree) have no open task either, so the order is the frozen tree's.
    for section in tree.walk():
        open_tasks = [t for t in section.tasks if t.type in _OPEN]
        if open_tasks:
            gaps.open_by_section.append(SectionGap(
                note.path, section.path, section.line, tuple(t.line for t in open_tasks),
                TaskRef.of(_next_task(open_tasks, open_child_parents))))
    _no_progress(note.path, note.root, gaps.no_progress)

    # Overdue depends on the day: each open task with a calendar due date is kept with it,
    # and the merge keeps those due before ``today``.
    for task in counted:
        if task.type not in _OPEN or not task.fields.due:
            continue
        due = _parse_date(task.fields.due)
        if due is not None:
            gaps.dated.append((TaskRef.of(task), due))

    children: dict[int, list[Task]] = {}
    for task in every:
        if task.parent_line is not None:
            children.setdefault(task.parent_line, []).append(task)
    for task in counted:
        kids = children.get(task.line, ())
        if kids and task.type in _OPEN and all(k.type not in _OPEN for k in kids) \
                and any(k.type is StatusType.DONE for k in kids):
            gaps.parents_open.append(TaskRef.of(task))


def _no_progress(path: str, section: Section, out: list[SectionRef]) -> None:
    if section.counts.counted and section.counts.done == 0:
        out.append(SectionRef(path, section.path, section.line, section.counts))
        return  # its subsections have no progress either: the outermost one says it all
    for child in section.children:
        _no_progress(path, child, out)


class _GapLists:
    __slots__ = ("dated", "no_progress", "open_by_section", "parents_open")

    def __init__(self) -> None:
        self.open_by_section: list[SectionGap] = []
        self.no_progress: list[SectionRef] = []
        self.dated: list[tuple[TaskRef, date]] = []
        self.parents_open: list[TaskRef] = []


class NoteRollup(_Value, frozen=True):
    """One note's share of a :class:`Progress`, from :func:`note_rollup`; independent of the
    day and of every other note, so it can be kept while the note is unchanged and merged
    with the others by :func:`merge_rollups`."""

    note: NoteProgress
    open_by_section: tuple[SectionGap, ...]
    no_progress: tuple[SectionRef, ...]
    dated: tuple[tuple[TaskRef, date], ...]  # open tasks with a calendar due date, and it
    parents_open: tuple[TaskRef, ...]
    # (tag key, first spelling in this note, counts of this note's tasks carrying it), in the
    # order the tags are first met: the note's front-matter tags, then the tasks' own.
    tags: tuple[tuple[str, str, Counts], ...]
    top_level_only: bool
    # (line, due) of each open task (nested ones too) whose due date reads as no calendar
    # date, in the note's task order: what the report warns about without the tasks.
    odd_dues: tuple[tuple[int, str], ...] = ()


def note_rollup(note: Note, *, top_level_only: bool = False) -> NoteRollup:
    """Roll one note up: its section tree with counts, its gaps and its tag tallies."""
    every = sorted(note.tasks, key=_document_order)
    counted = [t for t in every if t.depth == 0] if top_level_only else every
    note_tags = _unique_tags(note.tags)
    odd_dues = tuple((t.line, t.fields.due) for t in note.tasks
                     if t.fields.due and t.type in _OPEN and _parse_date(t.fields.due) is None)
    if not counted:  # most notes of a vault: the tree of an empty note is its bare root
        empty = NoteProgress(note.path, _NO_COUNTS, _EMPTY_ROOT, tuple(note_tags.values()))
        return NoteRollup(empty, (), (), (), (), (), top_level_only, odd_dues)
    tree = _section_tree(note, counted)
    progress = NoteProgress(note.path, Counts.of(counted), tree.freeze(),
                            tuple(note_tags.values()))
    gaps = _GapLists()
    _note_gaps(progress, tree, counted, every, gaps)

    # A front-matter tag covers every task of the note; a task's own tags add to that.
    tag_names: dict[str, str] = {}
    tag_tally: dict[str, Counter[StatusType]] = {}
    if counted:
        note_tally = Counter(t.type for t in counted)
        for key, spelling in note_tags.items():
            tag_names[key] = spelling
            tag_tally[key] = note_tally
    for task in counted:
        if not task.fields.tags:
            continue
        for key, spelling in _unique_tags(task.fields.tags).items():
            if key in note_tags:
                continue
            tag_names.setdefault(key, spelling)
            tag_tally.setdefault(key, Counter())[task.type] += 1
    return NoteRollup(
        progress, tuple(gaps.open_by_section), tuple(gaps.no_progress), tuple(gaps.dated),
        tuple(gaps.parents_open),
        tuple((key, tag_names[key], Counts.of_tally(tally)) for key, tally in tag_tally.items()),
        top_level_only, odd_dues)


_EMPTY_ROOT = Section("", (), 0, 0, _NO_COUNTS, _NO_COUNTS)


class RollupSummariser(msgspec.Struct, frozen=True):
    """:func:`note_rollup` as a summary a vault scan keeps in its index with each note
    (``scan_vault(settings, summarise=RollupSummariser())``), so a warm report merges the
    stored rollups (:func:`merge_rollups`) instead of rolling every note up again.

    A rollup holds counts and :class:`TaskRef` values, never a :class:`Task`: it is stored as
    MessagePack apart from the note, and a warm report reads it without the note's tasks.
    """

    top_level_only: bool = False

    @property
    def tag(self) -> str:
        """Names the rollup and this module's code: an edited or upgraded roll-up is made
        anew, never served from an index written by the old one."""
        return _ROLLUP_TAGS[self.top_level_only]

    def __call__(self, note: Note, /) -> NoteRollup:
        return note_rollup(note, top_level_only=self.top_level_only)

    def encode(self, summary: object, /) -> bytes:
        """A rollup as bytes for the index."""
        return _rollup_codec().encode(summary)

    def decode(self, data: bytes, /) -> NoteRollup:
        """A rollup from :meth:`encode`'s bytes; raises ``msgspec.DecodeError`` (a
        ``ValueError``) for anything else, a planted or damaged entry included."""
        rollup: NoteRollup = _rollup_decoder().decode(data)
        if rollup.top_level_only != self.top_level_only:
            raise msgspec.DecodeError("a rollup made with another top_level_only")
        return rollup


@functools.cache
def _rollup_codec() -> msgspec.msgpack.Encoder:
    return msgspec.msgpack.Encoder()


@functools.cache
def _rollup_decoder() -> msgspec.msgpack.Decoder[NoteRollup]:
    # Typed: the bytes can only ever become these values (no code runs, whatever they hold).
    return msgspec.msgpack.Decoder(NoteRollup)


_ROLLUP_TAGS = {flag: f"progress.note_rollup/2 top_level_only={flag} {source_stamp(__file__)}"
                for flag in (False, True)}


def _document_order(task: Task) -> tuple[int, int]:
    return task.line, task.offset


def _rollup_path(rollup: NoteRollup) -> str:
    return rollup.note.path


def _sum_counts(parts: Iterable[Counts]) -> Counts:
    todo = doing = done = cancelled = other = 0
    for part in parts:
        todo += part.todo
        doing += part.doing
        done += part.done
        cancelled += part.cancelled
        other += part.other
    return Counts(todo, doing, done, cancelled, other)


def merge_rollups(rollups: Iterable[NoteRollup], *, today: date | None = None,
                  top_level_only: bool = False) -> Progress:
    """The whole vault's :class:`Progress` from its notes' rollups (any order; each made with
    the same ``top_level_only``): totals, the folder tree, tags and gaps, with ``today``
    deciding what is overdue."""
    ordered = sorted(rollups, key=_rollup_path)
    open_by_section: list[SectionGap] = []
    no_progress: list[SectionRef] = []
    overdue: list[OverdueTask] = []
    parents_open: list[TaskRef] = []
    tag_counts: dict[str, Counts] = {}
    tag_names: dict[str, str] = {}
    tag_notes: dict[str, int] = {}
    for rollup in ordered:
        if rollup.top_level_only != top_level_only:
            raise ValueError("a rollup made with another top_level_only")
        # Most notes of a vault hold no task: nothing of theirs to gather but their tags.
        if rollup.open_by_section:
            open_by_section += rollup.open_by_section
        if rollup.no_progress:
            no_progress += rollup.no_progress
        if rollup.parents_open:
            parents_open += rollup.parents_open
        if today is not None and rollup.dated:
            overdue += [OverdueTask(task, due, (today - due).days)
                        for task, due in rollup.dated if due < today]
        for key, spelling, counts in rollup.tags:
            tag_names.setdefault(key, spelling)
            before = tag_counts.get(key)
            tag_counts[key] = counts if before is None else before + counts
            tag_notes[key] = tag_notes.get(key, 0) + 1
    notes = tuple(rollup.note for rollup in ordered)
    tags = tuple(TagProgress(tag_names[k], tag_counts[k], tag_notes[k])
                 for k in sorted(tag_counts, key=lambda k: (k, tag_names[k])))
    gaps = Gaps(
        open_by_section=tuple(open_by_section),
        no_progress=tuple(no_progress),
        overdue=tuple(sorted(overdue, key=lambda o: (o.due, o.task.path, o.task.line))),
        parents_open=tuple(parents_open),
    )
    total = _sum_counts(note.counts for note in notes)
    return Progress(total, notes, _folder_tree(notes), tags, gaps, today, top_level_only)


def build_progress(notes: Iterable[Note], *, today: date | None = None,
                   top_level_only: bool = False) -> Progress:
    """Roll the notes' tasks up per note, section, folder and tag, and find the gaps.

    ``today`` decides what is overdue (``None``: nothing is). With ``top_level_only`` only
    tasks at depth 0 count, everywhere. The same as merging each note's :func:`note_rollup`.
    """
    return merge_rollups((note_rollup(note, top_level_only=top_level_only) for note in notes),
                         today=today, top_level_only=top_level_only)


def _unique_tags(tags: Iterable[str]) -> dict[str, str]:
    """Case-insensitive key -> first spelling, for tags with or without ``#``."""
    out: dict[str, str] = {}
    for raw in tags:
        name = normalise_tag(raw)
        if name:
            out.setdefault(name.casefold(), name)
    return out


def with_history(progress: Progress,
                 last_progress: Mapping[tuple[str, tuple[str, ...]], date], *,
                 today: date, stalled_days: int) -> Progress:
    """``progress`` with the ``stalled`` and ``focus`` gaps (module docstring).

    ``last_progress`` maps (note, heading path) to the day a task there last became done,
    from the history; a started section missing from it has progress not yet committed,
    so it is not stalled."""
    stalled: list[StalledSection] = []
    focus: list[FocusStep] = []
    first_gap: dict[str, SectionGap] = {}
    for gap in progress.gaps.open_by_section:
        first_gap.setdefault(gap.path, gap)
    for note in progress.notes:
        sections_with_tasks = 0
        for section in note.root.walk():
            if not section.own.total:
                continue
            sections_with_tasks += 1
            if not (section.own.done and section.own.open):
                continue
            when = last_progress.get((note.path, section.path))
            if when is not None and (today - when).days > stalled_days:
                stalled.append(StalledSection(note.path, section.path, section.line,
                                              section.own, when, (today - when).days))
        step = first_gap.get(note.path)
        if sections_with_tasks >= 2 and step is not None:
            focus.append(FocusStep(note.path, step.section, step.next))
    stalled.sort(key=lambda s: (s.last_progress, s.path, s.line))
    gaps = msgspec.structs.replace(progress.gaps, history=True, stalled=tuple(stalled),
                                   focus=tuple(focus))
    return msgspec.structs.replace(progress, gaps=gaps)
