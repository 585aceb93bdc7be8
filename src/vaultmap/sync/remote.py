"""What the sync engine needs from a remote (Notion today; the interface is remote-agnostic).

The engine (pure planning) works on :class:`TaskRecord` (the vault side projected to what a
remote stores) and :class:`RemoteRow` (what the remote holds). An adapter implements
:class:`Remote`; the runner calls it. Adapters raise :class:`RemoteError` subclasses with
messages fit for a user (never containing a token).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from vaultmap.errors import VaultmapError


class RemoteError(VaultmapError):
    """A remote failed in a way a user must hear about (after retries were exhausted)."""

    exit_code = 4


class RemoteAuthError(RemoteError):
    """The token is missing, invalid, or the database is not shared with the integration."""

    exit_code = 5


class RemoteSchemaError(RemoteError):
    """The remote's schema cannot hold vaultmap's data (a property of the wrong type)."""

    exit_code = 6


class RemoteGoneError(RemoteError):
    """A row is in the remote's trash (``trashed``) or no longer exists: unlink it."""

    def __init__(self, message: str, *, remote_id: str = "", trashed: bool = False) -> None:
        super().__init__(message)
        self.remote_id = remote_id
        self.trashed = trashed


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A vault task as a remote stores it. Text flows vault -> remote; status flows both ways."""

    key: str
    status: str  # the status character
    status_type: str  # todo | doing | done | cancelled | other
    text: str  # inline Markdown of the description (fields stripped)
    note: str  # vault-relative note path
    section: tuple[str, ...] = ()
    due: str | None = None
    scheduled: str | None = None
    start: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    open_url: str = ""

    def content_hash(self) -> str:
        """Hash of everything that flows vault -> remote (not the status)."""
        import hashlib
        import json

        payload = json.dumps(
            [self.text, self.note, list(self.section), self.due, self.scheduled, self.start,
             self.priority, sorted(self.tags), self.open_url],
            ensure_ascii=False,
        )
        return hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class RemoteRow:
    """One row of the remote as last read."""

    remote_id: str  # Notion page id
    key: str | None  # the Key property; None for a row created by a person in Notion
    status: str  # status character the row maps to (see the adapter for Done/Status rules)
    text: str  # plain text of the title
    note: str = ""
    content_hash: str = ""  # hash of the vault->remote fields as the remote holds them now
    last_edited: datetime | None = None
    trashed: bool = False
    status_type: str = ""  # todo | doing | done | cancelled | other ("" if the remote can't say)


@dataclass(frozen=True, slots=True)
class RemoteSnapshot:
    """Rows read in one pass. ``complete`` is False for an incremental read (changed rows only)."""

    rows: tuple[RemoteRow, ...]
    complete: bool
    started_at: datetime
    requests: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


class Remote(Protocol):
    """A place task state is mirrored to."""

    name: str  # "notion"

    def snapshot(self, since: datetime | None) -> RemoteSnapshot:
        """All rows (``since`` None) or the rows edited at or after ``since``."""
        ...

    def find_by_key(self, key: str) -> RemoteRow | None:
        """The live row carrying ``key``: how a create whose answer was lost is detected."""
        ...

    def create(self, record: TaskRecord) -> RemoteRow:
        ...

    def update(self, remote_id: str, record: TaskRecord, *, content: bool = True) -> RemoteRow:
        """Write the status (and, when ``content``, the text and other fields) of a row."""
        ...

    def trash(self, remote_id: str) -> None:
        ...
