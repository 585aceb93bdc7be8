"""An in-memory remote for the sync tests: a small Notion as a test double of the *remote*.

``MemoryRemote`` is not a double of vaultmap's code: it stores less than a note can say (one
"other" status, like Notion's select), rounds edit times down to the minute, can fail any
call, can lose a create's answer after applying it, and can refuse every write (a write-back
that fails after the notes were edited). The vault side of the tests using it is real.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vaultmap.model import DEFAULT_STATUS_MAP, StatusType
from vaultmap.sync.remote import (
    AgreedStatus,
    ContentField,
    Remote,
    RemoteError,
    RemoteGoneError,
    RemoteRow,
    RemoteSnapshot,
    TaskRecord,
)

_CANONICAL = {StatusType.TODO: " ", StatusType.DONE: "x", StatusType.DOING: "/",
              StatusType.CANCELLED: "-", StatusType.OTHER: "?"}


class InjectedFailure(RemoteError):
    """A fault the test made the remote raise."""


@dataclass
class MemRow:
    remote_id: str
    key: str | None
    status: str
    text: str
    note: str
    section: tuple[str, ...]
    edited: datetime
    trashed: bool = False


class MemoryRemote(Remote):
    """A small Notion: rows with a Key, a status select, text; minute-rounded edit times."""

    name = "notion"
    LOOK_BACK = timedelta(minutes=2)

    def __init__(self, database: str = "") -> None:
        self.database = database  # the ``target``; "" like an adapter bound to nothing
        self.agreed_status: Callable[[str], AgreedStatus | None] = lambda remote_id: None
        self.bound_cache: dict[str, str] = {}  # what the runner handed to ``bind``
        self.to_cache: dict[str, str] = {}  # what ``cache`` hands the runner
        self.rows: dict[str, MemRow] = {}
        self.clock = datetime(2026, 5, 1, 9, 0, 0, tzinfo=UTC)
        self.requests = 0
        self.fail_rate = 0.0
        self.lose_answers = False  # a failing create/update is applied before it raises
        self.fail_writes = False  # every create, update and trash fails before it applies
        # Run once right before the next write applies (a person acting between the sync's
        # read and its write).
        self.before_write: list[Callable[[], None]] = []
        self.rng = random.Random(7)
        self.hidden: set[str] = set()  # rows a query does not show yet (index lag)
        self.reads: list[datetime | None] = []  # the ``since`` of every snapshot
        self.starts: list[datetime] = []  # the ``started_at`` of every snapshot
        self._ids = 0

    # -- helpers -----------------------------------------------------------------------------
    def tick(self, seconds: int = 20) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock.replace(second=0, microsecond=0)

    def _maybe_fail(self, before_apply: bool, *, write: bool = False) -> None:
        if write and before_apply and self.fail_writes:
            raise InjectedFailure("injected fault (HTTP 500 on every write)")
        if write and before_apply:
            hooks, self.before_write = self.before_write, []
            for hook in hooks:
                hook()
        if self.fail_rate and self.rng.random() < self.fail_rate and (
                before_apply or self.lose_answers):
            raise InjectedFailure("injected fault (HTTP 502)")

    @staticmethod
    def status_of(record_status: str) -> str:
        return _CANONICAL[DEFAULT_STATUS_MAP.type_of(record_status)]

    @staticmethod
    def hash_of(row: MemRow) -> str:
        material = "\x1f".join([row.key or "", row.text, row.note, "\x1e".join(row.section)])
        return hashlib.sha1(material.encode()).hexdigest()[:12]

    def view(self, row: MemRow) -> RemoteRow:
        return RemoteRow(remote_id=row.remote_id, key=row.key, status=row.status, text=row.text,
                         note=row.note, content_hash=self.hash_of(row), last_edited=row.edited,
                         trashed=row.trashed)

    def live(self) -> list[MemRow]:
        return [r for r in self.rows.values() if not r.trashed]

    # -- the Remote protocol -------------------------------------------------------------------
    @property
    def target(self) -> str:
        return self.database

    def bind(self, agreed_status: Callable[[str], AgreedStatus | None],
             cache: Mapping[str, str]) -> None:
        self.agreed_status = agreed_status
        self.bound_cache = dict(cache)

    def cache(self) -> dict[str, str]:
        return dict(self.to_cache)

    def snapshot(self, since: datetime | None, *,
                 include_trashed: bool = False) -> RemoteSnapshot:
        self.requests += 1
        self.reads.append(since)
        started = self.tick(1)
        self.starts.append(started)
        self._maybe_fail(True)
        if since is None:
            rows = [self.view(r) for r in self.rows.values()
                    if (include_trashed or not r.trashed) and r.remote_id not in self.hidden]
        else:
            # Edit times are rounded down to the minute, as Notion's are: look back as the
            # Notion adapter does (the runner passes the previous start as is).
            edge = since - self.LOOK_BACK
            rows = [self.view(r) for r in self.rows.values()
                    if r.edited >= edge and (include_trashed or not r.trashed)
                    and r.remote_id not in self.hidden]
        return RemoteSnapshot(rows=tuple(rows), complete=since is None, started_at=started,
                              requests=1)

    def find_by_key(self, key: str) -> RemoteRow | None:
        self.requests += 1
        self._maybe_fail(True)
        for row in self.live():
            if row.key == key:
                return self.view(row)
        return None

    def create(self, record: TaskRecord) -> RemoteRow:
        self.requests += 1
        self._maybe_fail(True, write=True)
        self._ids += 1
        row = MemRow(f"page-{self._ids}", record.key, self.status_of(record.status), record.text,
                     record.note, record.section, self.tick())
        self.rows[row.remote_id] = row
        self._maybe_fail(False)
        return self.view(row)

    def stored_form(self, record: TaskRecord) -> TaskRecord:
        return record

    def update(self, remote_id: str, record: TaskRecord, *, content: bool = True,
               status: bool = True, only: Collection[ContentField] | None = None) -> RemoteRow:
        self.requests += 1
        self._maybe_fail(True, write=True)
        row = self.rows.get(remote_id)
        if row is None or row.trashed:  # as the Notion adapter does
            raise RemoteGoneError(f"row {remote_id} is in the trash or gone",
                                  remote_id=remote_id, trashed=row is not None)
        if status:
            row.status = self.status_of(record.status)
        if content:
            fields = set(only) if only is not None else {"key", "text", "note", "section"}
            for name in ("key", "text", "note", "section"):
                if name in fields:
                    setattr(row, name, getattr(record, name))
        row.edited = self.tick()
        self._maybe_fail(False)
        return self.view(row)

    def trash(self, remote_id: str) -> None:
        self.requests += 1
        self._maybe_fail(True, write=True)
        self.rows[remote_id].trashed = True
        self.rows[remote_id].edited = self.tick()

    # -- what a person does in Notion ---------------------------------------------------------
    def person_sets_status(self, remote_id: str, status: str) -> None:
        self.rows[remote_id].status = status
        self.rows[remote_id].edited = self.tick()

    def person_retitles(self, remote_id: str, text: str) -> None:
        self.rows[remote_id].text = text
        self.rows[remote_id].edited = self.tick()

    def person_trashes(self, remote_id: str) -> None:
        self.rows[remote_id].trashed = True
        self.rows[remote_id].edited = self.tick()

    def person_restores(self, remote_id: str) -> None:
        """Take a row back out of the trash (Notion's "Restore")."""
        self.rows[remote_id].trashed = False
        self.rows[remote_id].edited = self.tick()

    def person_creates(self, text: str, status: str = " ") -> str:
        self._ids += 1
        row = MemRow(f"page-{self._ids}", None, status, text, "", (), self.tick())
        self.rows[row.remote_id] = row
        return row.remote_id

    def by_key(self, key: str) -> list[MemRow]:
        return [r for r in self.live() if r.key == key]
