"""progress.py: counts, percent edge cases, roll-ups per note/section/folder/tag, and every gap."""

from __future__ import annotations

import math
from datetime import date

import pytest

from vaultmap.model import DEFAULT_STATUS_MAP, Heading, Note, Task, TaskFields, task_key
from vaultmap.parse import parse_note
from vaultmap.progress import Counts, build_progress, normalise_tag, percent_label


def task(line: int, status: str = " ", text: str = "", *, path: str = "n.md",
         section: tuple[str, ...] = (), depth: int = 0, parent: int | None = None,
         due: str | None = None, tags: tuple[str, ...] = ()) -> Task:
    description = text or f"task on line {line}"
    return Task(path=path, line=line, offset=line * 10, status=status,
                type=DEFAULT_STATUS_MAP.type_of(status), text=description,
                fields=TaskFields(description=description, due=due, tags=tags),
                section=section, depth=depth, parent_line=parent,
                key=task_key(path=path, section=section, description=description, ordinal=0))


def note(path: str, tasks: list[Task], headings: tuple[Heading, ...] = (),
         tags: tuple[str, ...] = ()) -> Note:
    return Note(path=path, tasks=tuple(tasks), headings=headings, tags=tags)


# --- counts and percent ---------------------------------------------------------------------


def test_percent_is_done_over_all_but_cancelled() -> None:
    counts = Counts(todo=1, doing=1, done=2, cancelled=4, other=0)
    assert counts.total == 8
    assert counts.counted == 4
    assert counts.open == 2
    assert counts.percent == 50.0
    assert percent_label(counts) == "50%"


def test_zero_of_zero_reads_no_tasks_never_nan() -> None:
    empty = Counts()
    assert empty.percent is None
    assert empty.percent_floor is None
    assert percent_label(empty) == "no tasks"
    progress = build_progress([note("empty.md", [])])
    assert progress.counts.percent is None
    assert not any(isinstance(v, float) and math.isnan(v) for v in (progress.counts.percent,))


def test_only_cancelled_tasks_read_all_cancelled() -> None:
    counts = Counts(cancelled=3)
    assert counts.percent is None
    assert percent_label(counts) == "all cancelled"


def test_percent_never_rounds_up_to_a_premature_hundred() -> None:
    counts = Counts(todo=1, done=199)
    assert counts.percent == pytest.approx(99.5)
    assert percent_label(counts) == "99%"
    assert percent_label(Counts(done=3)) == "100%"
    assert percent_label(Counts(todo=999, done=1)) == "0%"


def test_other_statuses_count_as_open() -> None:
    counts = Counts.of([task(1, "?"), task(2, ">"), task(3, "x")])
    assert counts.other == 2
    assert counts.open == 2
    assert percent_label(counts) == "33%"


def test_counts_add_up() -> None:
    assert Counts(1, 2, 3, 4, 5) + Counts(5, 4, 3, 2, 1) == Counts(6, 6, 6, 6, 6)


# --- roll-ups -------------------------------------------------------------------------------


def test_nested_tasks_count_unless_top_level_only() -> None:
    tasks = [task(1, " "), task(2, "x", depth=1, parent=1), task(3, "x", depth=1, parent=1)]
    everything = build_progress([note("a.md", tasks)])
    assert (everything.counts.done, everything.counts.counted) == (2, 3)
    top = build_progress([note("a.md", tasks)], top_level_only=True)
    assert (top.counts.done, top.counts.counted) == (0, 1)
    assert top.top_level_only


def test_section_includes_its_subsections_and_keeps_own_counts() -> None:
    headings = (Heading(1, "Plan", 1), Heading(2, "Week 1", 3), Heading(2, "Week 2", 6),
                Heading(3, "Extra", 8))
    tasks = [
        task(2, "x", section=("Plan",)),
        task(4, "x", section=("Plan", "Week 1")),
        task(5, " ", section=("Plan", "Week 1")),
        task(7, "-", section=("Plan", "Week 2")),
        task(9, " ", section=("Plan", "Week 2", "Extra")),
    ]
    progress = build_progress([note("p.md", tasks, headings)])
    plan = progress.notes[0].root.children[0]
    assert plan.title == "Plan"
    assert plan.counts == Counts(todo=2, done=2, cancelled=1)
    assert plan.own == Counts(done=1)
    week1, week2 = plan.children
    assert (week1.title, week1.line, week1.counts.done, week1.counts.total) == ("Week 1", 3, 1, 2)
    assert week2.counts == Counts(todo=1, cancelled=1)
    assert week2.children[0].path == ("Plan", "Week 2", "Extra")
    assert progress.notes[0].counts == plan.counts


def test_sections_with_the_same_title_stay_apart_and_empty_ones_are_pruned() -> None:
    headings = (Heading(2, "Notes", 1), Heading(2, "Empty", 3), Heading(2, "Notes", 5))
    tasks = [task(2, "x", section=("Notes",)), task(6, " ", section=("Notes",)),
             task(7, " ", section=("Notes",))]
    root = build_progress([note("d.md", tasks, headings)]).notes[0].root
    assert [(c.title, c.line, c.counts.total) for c in root.children] == [
        ("Notes", 1, 1), ("Notes", 5, 2)]


def test_tasks_before_the_first_heading_belong_to_the_note_root() -> None:
    progress = build_progress([note("r.md", [task(1, "x"), task(3, " ", section=("H",))],
                                    (Heading(1, "H", 2),))])
    root = progress.notes[0].root
    assert root.own == Counts(done=1)
    assert root.counts == Counts(todo=1, done=1)


def test_a_task_whose_section_disagrees_with_the_headings_follows_its_own_section() -> None:
    # The parser may not count a heading (inside a quote, say); the task's section decides.
    headings = (Heading(1, "A", 1), Heading(2, "B", 3))
    tasks = [task(4, " ", section=("A",)), task(5, "x", section=("Z",))]
    root = build_progress([note("s.md", tasks, headings)]).notes[0].root
    by_path = {s.path: s for s in root.walk()}
    assert by_path[("A",)].own == Counts(todo=1)
    assert by_path[("Z",)].own == Counts(done=1)


def test_folder_includes_its_subfolders() -> None:
    notes = [
        note("top.md", [task(1, "x", path="top.md")]),
        note("Work/plan.md", [task(1, " ", path="Work/plan.md")]),
        note("Work/Deep/more.md", [task(1, "x", path="Work/Deep/more.md"),
                                    task(2, "-", path="Work/Deep/more.md")]),
        note("Empty/none.md", []),
    ]
    folders = build_progress(notes).folders
    assert folders.path == ""
    assert folders.counts == Counts(todo=1, done=2, cancelled=1)
    names = [f.name for f in folders.folders]
    assert names == ["Empty", "Work"]
    work = folders.folders[1]
    assert work.counts == Counts(todo=1, done=1, cancelled=1)
    assert [n.path for n in work.notes] == ["Work/plan.md"]
    assert work.folders[0].path == "Work/Deep"
    assert work.folders[0].counts.percent == 100.0
    assert [f.path for f in folders.walk()] == ["", "Empty", "Work", "Work/Deep"]


def test_tags_join_task_tags_and_front_matter_tags_case_insensitively() -> None:
    notes = [
        note("a.md", [task(1, "x", path="a.md", tags=("#Work",)),
                      task(2, " ", path="a.md", tags=("#home", "#work"))]),
        note("b.md", [task(1, "x", path="b.md"), task(2, " ", path="b.md", tags=("#urgent",))],
             tags=("work",)),
    ]
    tags = {t.tag: t for t in build_progress(notes).tags}
    assert set(tags) == {"Work", "home", "urgent"}
    assert tags["Work"].counts == Counts(todo=2, done=2)  # the front-matter tag covers b.md
    assert tags["Work"].notes == 2
    assert tags["urgent"].counts == Counts(todo=1)
    assert tags["home"].notes == 1


def test_normalise_tag() -> None:
    assert normalise_tag("#a/b ") == "a/b"
    assert normalise_tag("plain") == "plain"
    assert normalise_tag("#") == ""


# --- gaps -----------------------------------------------------------------------------------


def test_open_tasks_by_section_in_document_order() -> None:
    headings = (Heading(1, "A", 1), Heading(1, "B", 4))
    tasks = [task(2, " ", section=("A",)), task(3, "x", section=("A",)),
             task(5, "/", section=("B",)), task(6, "?", section=("B",))]
    gaps = build_progress([note("g.md", tasks, headings)]).gaps
    assert [(g.section, list(g.open_lines)) for g in gaps.open_by_section] == [
        (("A",), [2]), (("B",), [5, 6])]


def test_next_task_prefers_doing_then_first_open_leaf() -> None:
    plain = build_progress([note("n.md", [task(1, "x"), task(2, " "), task(3, " ")])]).gaps
    assert plain.open_by_section[0].next.line == 2
    doing = build_progress([note("n.md", [task(1, " "), task(2, "/"), task(3, " ")])]).gaps
    assert doing.open_by_section[0].next.line == 2
    # A parent with open children is not actionable: its first open child is next.
    nested = [task(1, " "), task(2, "x", depth=1, parent=1), task(3, " ", depth=1, parent=1)]
    assert build_progress([note("n.md", nested)]).gaps.open_by_section[0].next.line == 3


def test_no_progress_lists_the_outermost_section_without_done_tasks() -> None:
    headings = (Heading(1, "Road", 1), Heading(2, "Month 1", 2), Heading(2, "Month 2", 4),
                Heading(3, "Week 5", 5))
    tasks = [task(3, "x", section=("Road", "Month 1")),
             task(6, " ", section=("Road", "Month 2", "Week 5")),
             task(7, "/", section=("Road", "Month 2", "Week 5"))]
    untouched = note("u.md", [task(1, " ", path="u.md")])
    only_cancelled = note("c.md", [task(1, "-", path="c.md")])
    gaps = build_progress([note("r.md", tasks, headings), untouched, only_cancelled]).gaps
    assert [(r.path, r.section) for r in gaps.no_progress] == [
        ("r.md", ("Road", "Month 2")), ("u.md", ())]
    assert gaps.no_progress[0].line == 4


def test_overdue_uses_the_injected_today_and_skips_bad_dates_and_closed_tasks() -> None:
    tasks = [task(1, " ", due="2026-11-20"), task(2, "x", due="2026-01-01"),
             task(3, " ", due="2026-11-22"), task(4, " ", due="2023-12-32"),
             task(5, "/", due="2026-10-01"), task(6, " ")]
    gaps = build_progress([note("o.md", tasks)], today=date(2026, 11, 22)).gaps
    assert [(o.task.line, o.days_late) for o in gaps.overdue] == [(5, 52), (1, 2)]
    assert build_progress([note("o.md", tasks)]).gaps.overdue == ()  # no today: nothing late


def test_parents_left_open_whose_children_are_all_done() -> None:
    tasks = [
        task(1, " "), task(2, "x", depth=1, parent=1), task(3, "-", depth=1, parent=1),
        task(4, " "), task(5, "x", depth=1, parent=4), task(6, " ", depth=1, parent=4),
        task(7, "x"), task(8, "x", depth=1, parent=7),
        task(9, " "), task(10, "-", depth=1, parent=9),
        task(11, " "),
    ]
    gaps = build_progress([note("p.md", tasks)]).gaps
    assert [t.line for t in gaps.parents_open] == [1]
    # Counting only top-level tasks still sees the children that close a parent.
    top = build_progress([note("p.md", tasks)], top_level_only=True).gaps
    assert [t.line for t in top.parents_open] == [1]


def test_with_the_parser() -> None:
    data = (
        b"---\ntags: [study]\n---\n# Month 1\n## Week 1\n- [x] read #ml\n- [ ] write\n"
        b"## Week 2\n- [-] skip\n- [/] build\n# Month 2\n- [ ] later\n"
    )
    parsed = parse_note(data, "road.md")
    progress = build_progress([parsed])
    assert progress.counts == Counts(todo=2, doing=1, done=1, cancelled=1)
    month1 = progress.notes[0].root.children[0]
    assert month1.title == "Month 1"
    assert [c.title for c in month1.children] == ["Week 1", "Week 2"]
    assert month1.counts.percent == pytest.approx(100 / 3)
    assert [(g.section, g.next.text) for g in progress.gaps.open_by_section] == [
        (("Month 1", "Week 1"), "write"), (("Month 1", "Week 2"), "build"),
        (("Month 2",), "later")]


# --- properties over generated notes --------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hypothesis_budget import examples  # noqa: E402
from vaultmap.model import Flavor  # noqa: E402
from vaultmap.progress import Section  # noqa: E402
from vaultmap.report import ReportOptions, render_markdown  # noqa: E402

_LINE = st.one_of(
    st.tuples(st.just("heading"), st.integers(1, 4), st.sampled_from(["Plan", "Week", "A|B"])),
    st.tuples(st.just("task"), st.integers(0, 2), st.sampled_from([" ", "x", "/", "-", "?"])),
    st.tuples(st.just("text"), st.just(0), st.just("")),
)


def _document(lines: list[tuple[str, int, str]]) -> bytes:
    out, depth = [], 0
    for number, (kind, level, value) in enumerate(lines):
        if kind == "heading":
            out.append(f"{'#' * level} {value} {number}\n\n")
            depth = 0
        elif kind == "task":
            depth = min(level, depth + 1)  # nest at most one level deeper than the last item
            out.append("  " * depth + f"- [{value}] task {number} #t{number % 3}\n")
        else:
            out.append("\nsome prose\n\n")
            depth = 0
    return "".join(out).encode()


def _sections(section: Section) -> list[Section]:
    return list(section.walk())


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.lists(_LINE, max_size=25), min_size=1, max_size=4), st.booleans())
def test_roll_ups_add_up_on_any_notes(docs: list[list[tuple[str, int, str]]],
                                      top_level_only: bool) -> None:
    notes = [parse_note(_document(lines), f"F{i % 2}/n{i}.md") for i, lines in enumerate(docs)]
    progress = build_progress(notes, today=date(2026, 11, 22), top_level_only=top_level_only)
    total = Counts()
    open_seen: list[tuple[str, int]] = []
    for note, summary in zip(sorted(notes, key=lambda n: n.path), progress.notes, strict=True):
        counted = [t for t in note.tasks if t.depth == 0 or not top_level_only]
        assert summary.counts == Counts.of(counted)
        own_sum = Counts()
        for section in _sections(summary.root):
            own_sum = own_sum + section.own
            children = Counts()
            for child in section.children:
                children = children + child.counts
            assert section.counts == section.own + children
            assert section.counts.total > 0 or section is summary.root
        assert own_sum == summary.counts
        total = total + summary.counts
    assert progress.counts == total == progress.folders.counts
    assert progress.counts.percent is None or 0 <= progress.counts.percent <= 100
    open_lines = {(t.path, t.line) for n in notes for t in n.tasks
                  if t.is_open and (t.depth == 0 or not top_level_only)}
    for gap in progress.gaps.open_by_section:
        assert gap.next.line in gap.open_lines and gap.next.is_open
        assert all((gap.path, line) in open_lines for line in gap.open_lines)
        open_seen.extend((gap.path, line) for line in gap.open_lines)
    assert len(open_seen) == len(set(open_seen)) == progress.counts.open
    for tag in progress.tags:
        assert 0 < tag.counts.total <= progress.counts.total
    pasted = render_markdown(progress, ReportOptions(max_rows=0, limit=1000))
    assert parse_note(pasted.encode(), "p.md", flavor=Flavor.OBSIDIAN).tasks == ()
