"""The pure history roll-up: random histories against a direct count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.history import BlobSummary, CommitChanges, history_model, walk_history
from vaultmap.parse import parse_note

STATUSES = [" ", "x", "-", "/"]


def _note(statuses: list[str]) -> bytes:
    return b"# N\n" + b"".join(f"- [{s}] task {i}\n".encode() for i, s in enumerate(statuses))


history = st.lists(st.tuples(st.sampled_from(["a.md", "b.md", "c.md"]),
                             st.one_of(st.none(), st.lists(st.sampled_from(STATUSES),
                                                           max_size=6)),
                             st.integers(0, 3)), min_size=1, max_size=25)


@settings(max_examples=examples(60), deadline=None)
@given(history)
def test_the_last_period_matches_a_direct_count(steps: list[tuple[str, list[str] | None,
                                                                    int]]) -> None:
    blobs: dict[str, BlobSummary] = {}
    commits: list[CommitChanges] = []
    current: dict[str, list[str]] = {}
    when = datetime(2026, 11, 2, tzinfo=UTC)
    for n, (path, statuses, gap_days) in enumerate(steps):
        when += timedelta(days=gap_days)
        blob = None
        if statuses is not None:
            blob = f"blob{n}"
            blobs[blob] = BlobSummary.of(parse_note(_note(statuses), path))
            current[path] = statuses
        else:
            current.pop(path, None)
        commits.append(CommitChanges(f"c{n}", when, ((path, blob),)))
    points = walk_history(commits, blobs)
    model = history_model(points, vault="v", by="week")
    last = model["periods"][-1]
    every = [s for statuses in current.values() for s in statuses]
    assert last["commit"] == f"c{len(steps) - 1}"
    assert last["total"] == len(every)
    assert last["done"] == every.count("x")
    assert last["cancelled"] == every.count("-")
    assert last["open"] == len(every) - every.count("x") - every.count("-")
    # Every task done now became done in some period (the sum counts re-ticks again).
    assert sum(p["done_in_period"] for p in model["periods"]) >= last["done"]
    assert [p["period"] for p in model["periods"]] == sorted({p["period"]
                                                              for p in model["periods"]})
