"""Progress over time: pure aggregation of per-commit task counts (no git, no I/O).

The git layer (:mod:`vaultmap.sync.git.history`) reads the commits and summarises each note
version (blob) once; this module walks those summaries in commit order and rolls them up:

* :func:`walk_history` -> one :class:`CommitPoint` per commit: the vault's totals after it,
  the tasks that became done in it, and the sections where that happened;
* :func:`history_model` -> the ``vaultmap.history/1`` dict (``vaultmap history --format json``,
  the HTML report's burn-up chart; docs/history-schema.md);
* :func:`last_progress` -> the day each section last had a task done, for the report's
  "Stalled" gap (:func:`vaultmap.progress.with_history`).

A task "became done" when a done task with its heading path and description appears in a
commit that did not have it before, counted per commit over the whole vault, so a task moved
to another note or a renamed note does not count again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

import msgspec

from vaultmap.model import Note, StatusType, normalise_text

SCHEMA = "vaultmap.history/1"
By = Literal["day", "week"]
DoneItem = tuple[tuple[str, ...], str]  # (heading path, normalised description)


# The values below are frozen msgspec Structs, not dataclasses: `vaultmap report` imports this
# module, and a dataclass generates and compiles its methods at import.
class BlobSummary(msgspec.Struct, frozen=True):
    """What one version of one note holds: its counts and its done tasks."""

    total: int = 0
    done: int = 0
    cancelled: int = 0
    done_items: tuple[DoneItem, ...] = ()

    @classmethod
    def of(cls, note: Note) -> BlobSummary:
        done = [t for t in note.tasks if t.type is StatusType.DONE]
        cancelled = sum(1 for t in note.tasks if t.type is StatusType.CANCELLED)
        items = tuple((t.section, normalise_text(t.description or t.text)) for t in done)
        return cls(len(note.tasks), len(done), cancelled, items)

    def as_json(self) -> list[Any]:
        return [self.total, self.done, self.cancelled, [[list(s), d] for s, d in self.done_items]]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> BlobSummary:
        """The inverse of :meth:`as_json`. ``ValueError`` for anything :meth:`as_json` does
        not make (a cache edited or damaged): counts that are not whole numbers from 0 up, or
        more done and cancelled tasks than tasks, a heading path that is not a list of text."""
        total, done, cancelled, items = data
        if not (is_count(total) and is_count(done) and is_count(cancelled)
                and done + cancelled <= total and isinstance(items, list)
                and len(items) == done):
            raise ValueError("not a summary of a note")
        return cls(total, done, cancelled,
                   tuple((text_tuple(section), _text(text)) for section, text in items))


def is_count(value: object) -> bool:
    """Whether ``value`` is a count as vaultmap writes one: an ``int`` (not a bool) from 0 up
    to far more tasks than a vault holds."""
    return type(value) is int and 0 <= value <= _COUNT_MAX


def text_tuple(value: object) -> tuple[str, ...]:
    """A JSON list of text as a tuple; ``ValueError`` for anything else (a bare string would
    otherwise become a tuple of its characters)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a list of text")
    return tuple(value)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


_COUNT_MAX = 2**40


EMPTY = BlobSummary()


class CommitChanges(msgspec.Struct, frozen=True):
    """One commit: when, and the vault notes it changed (``None``: deleted)."""

    sha: str
    when: datetime  # committer date, in the commit's own offset
    changes: tuple[tuple[str, str | None], ...]  # (vault-relative path, blob id)


class CommitPoint(msgspec.Struct, frozen=True):
    """The vault (or one note) right after a commit."""

    sha: str
    when: datetime
    total: int
    done: int
    cancelled: int
    newly_done: int  # tasks that became done in this commit
    progressed: tuple[tuple[str, tuple[str, ...]], ...]  # (path, section) where that happened


def walk_history(commits: Iterable[CommitChanges], summaries: Mapping[str, BlobSummary], *,
                 note: str | None = None) -> list[CommitPoint]:
    """Totals after each commit, oldest first. ``note`` limits everything to one path.

    A blob missing from ``summaries`` (unreadable) counts as an empty note."""
    current: dict[str, BlobSummary] = {}
    total = done = cancelled = 0
    points: list[CommitPoint] = []
    for commit in commits:
        removed: Counter[DoneItem] = Counter()
        added: Counter[DoneItem] = Counter()
        arrived: list[tuple[str, BlobSummary]] = []  # (path, new version) with done tasks
        touched = False
        for path, blob in commit.changes:
            if note is not None and path != note:
                continue
            touched = True
            old = current.pop(path, EMPTY)
            new = summaries.get(blob, EMPTY) if blob is not None else EMPTY
            if blob is not None:
                current[path] = new
            total += new.total - old.total
            done += new.done - old.done
            cancelled += new.cancelled - old.cancelled
            if old.done_items:
                removed.update(old.done_items)
            if new.done_items:
                added.update(new.done_items)
                arrived.append((path, new))
        if note is not None and not touched:
            continue
        fresh = added - removed if added else added
        progressed: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if fresh:
            where: dict[DoneItem, str] = {}  # the first note, in commit order, holding it
            for path, new in arrived:
                for item in new.done_items:
                    if item in fresh:
                        where.setdefault(item, path)
            progressed = tuple(sorted({(where[item], item[0]) for item in fresh}))
        points.append(CommitPoint(commit.sha, commit.when, total, done, cancelled,
                                  sum(fresh.values()), progressed))
    return points


def period_of(day: date, by: By) -> tuple[str, date, date]:
    """The label, first and last day of the period holding ``day``."""
    if by == "day":
        return day.isoformat(), day, day
    year, week, weekday = day.isocalendar()
    start = day - timedelta(days=weekday - 1)
    return f"{year}-W{week:02d}", start, start + timedelta(days=6)


def percent(done: int, total: int, cancelled: int) -> float | None:
    counted = total - cancelled
    return round(done * 100 / counted, 1) if counted > 0 else None


def history_model(points: Sequence[CommitPoint], *, vault: str, by: By = "week",
                  note: str | None = None, since: date | None = None) -> dict[str, Any]:
    """The ``vaultmap.history/1`` dict: one entry per period that has a commit.

    Each period shows the state after its last commit and the tasks done during it. Periods
    that end before ``since`` are left out (the totals still count everything before)."""
    periods: list[dict[str, Any]] = []
    for point in points:
        label, start, end = period_of(point.when.date(), by)
        if since is not None and end < since:
            continue
        if not periods or periods[-1]["period"] != label:
            periods.append({"period": label, "start": start.isoformat(), "end": end.isoformat(),
                            "done_in_period": 0})
        entry = periods[-1]
        entry.update({"commit": point.sha, "total": point.total, "done": point.done,
                      "cancelled": point.cancelled,
                      "open": point.total - point.done - point.cancelled,
                      "percent": percent(point.done, point.total, point.cancelled)})
        entry["done_in_period"] += point.newly_done
    keys = ("period", "start", "end", "commit", "total", "done", "cancelled", "open",
            "percent", "done_in_period")
    return {"schema": SCHEMA, "vault": vault, "by": by, "note": note,
            "periods": [{k: p[k] for k in keys} for p in periods]}


def last_progress(points: Iterable[CommitPoint]) -> dict[tuple[str, tuple[str, ...]], date]:
    """The date each (note, section) last had a task become done."""
    out: dict[tuple[str, tuple[str, ...]], date] = {}
    for point in points:
        for where in point.progressed:
            out[where] = point.when.date()
    return out
