"""Issue references in task text, what an issue's state means, and where tasks are placed."""

from __future__ import annotations

import pytest

from vaultmap.config import GitHubSettings
from vaultmap.parse import parse_note
from vaultmap.sync.github.refs import IssueRef, find_ref, status_type_of_issue
from vaultmap.sync.github.remote import layout_of
from vaultmap.sync.github.store import Link


@pytest.mark.parametrize(("text", "default", "expected"), [
    ("fix login ada/roadmap#12", "", IssueRef("ada/roadmap", 12)),
    ("fix login #12", "ada/roadmap", IssueRef("ada/roadmap", 12)),
    ("fix login #12", "", None),  # no default repository: a bare number names nothing
    ("see https://github.com/ada/roadmap/issues/7 now", "", IssueRef("ada/roadmap", 7)),
    ("review https://github.com/ada/roadmap/pull/8", "x/y", IssueRef("ada/roadmap", 8)),
    ("first ada/one#1 then ada/two#2", "", IssueRef("ada/one", 1)),
    ("#3 before ada/two#2", "ada/one", IssueRef("ada/one", 3)),
    ("a #tag and a #12abc tag", "ada/one", None),
    ("https://example.com/ada/roadmap/issues/7", "", None),  # not a GitHub host
    ("path/to/file.md#12 is a heading link", "", None),
    ("issue&#12; entity", "ada/one", None),
    ("plain text", "ada/one", None),
])
def test_find_ref(text: str, default: str, expected: IssueRef | None) -> None:
    assert find_ref(text, default_repo=default) == expected


def test_an_enterprise_host_is_recognised_when_named() -> None:
    text = "see https://git.example.com/ada/roadmap/issues/4"
    assert find_ref(text) is None
    assert find_ref(text, hosts=("github.com", "git.example.com")) == IssueRef("ada/roadmap", 4)


@pytest.mark.parametrize(("issue", "kind"), [
    ({"state": "open", "state_reason": None}, "todo"),
    ({"state": "open", "state_reason": "reopened"}, "todo"),
    ({"state": "closed", "state_reason": "completed"}, "done"),
    ({"state": "closed", "state_reason": None}, "done"),
    ({"state": "closed", "state_reason": "not_planned"}, "cancelled"),
    ({"state": "closed", "state_reason": "duplicate"}, "cancelled"),
    ({"state": "closed", "pull_request": {"merged_at": "2026-01-01T00:00:00Z"}}, "done"),
    ({"state": "closed", "pull_request": {"merged_at": None}}, "cancelled"),
    ({"state": "open", "pull_request": {"merged_at": None}}, "todo"),
])
def test_issue_states(issue: dict[str, object], kind: str) -> None:
    assert status_type_of_issue(issue) == kind


def test_layout_places_checklist_tasks_by_the_longest_section_and_refs_elsewhere() -> None:
    note = parse_note(b"# Plan\n- [ ] top ada/x#1\n## Week 1\n- [ ] one\n  - [x] deeper\n"
                      b"## Week 2\n- [ ] two ada/x#2\n", "Plan.md")
    other = parse_note(b"- [ ] follow ada/x#3\n- [ ] nothing\n", "Other.md")
    whole = Link("Plan.md", (), "ada/x", 10, "m1", "Plan")
    week1 = Link("Plan.md", ("Plan", "Week 1"), "ada/x", 11, "m2", "Week 1")
    pending = Link("Other.md", (), "ada/x", 0, "m3", "Other")  # unanswered: not placed
    layout = layout_of([*note.tasks, *other.tasks], [whole, week1, pending], GitHubSettings())
    by_text = {p.text: p for p in layout.placements.values()}
    assert by_text["one"].link == week1 and by_text["deeper"].link == week1
    assert by_text["deeper"].depth == 1
    assert by_text["top ada/x#1"].link == whole  # in a checklist: not a follower of #1
    assert by_text["two ada/x#2"].link == whole
    assert by_text["follow ada/x#3"].ref == IssueRef("ada/x", 3)
    assert "nothing" not in by_text
    assert [by_text[t].key for t in ("one", "deeper")] == list(layout.order[("ada/x", 11)])
