"""What the sync engine needs from a remote (Notion today; the interface is remote-agnostic).

The engine (pure planning) works on :class:`TaskRecord` (the vault side projected to what a
remote stores) and :class:`RemoteRow` (what the remote holds). An adapter implements
:class:`Remote`; the runner calls it. Adapters raise :class:`RemoteError` subclasses with
messages fit for a user (never containing a token).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

# The remote errors live with every other user-facing error (and its exit code) in errors.py.
from vaultmap.errors import RemoteAuthError as RemoteAuthError
from vaultmap.errors import RemoteError as RemoteError
from vaultmap.errors import RemoteGoneError as RemoteGoneError
from vaultmap.errors import RemoteSchemaError as RemoteSchemaError
from vaultmap.errors import RemoteUnavailableError as RemoteUnavailableError

DISPLAY_NAMES = {"github": "GitHub"}


def display_name(name: str) -> str:
    """A remote's name as a user reads it ("notion" -> "Notion", "github" -> "GitHub")."""
    return DISPLAY_NAMES.get(name, name.title())


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

    def differing_fields(self, other: TaskRecord) -> tuple[ContentField, ...]:
        """The content fields (and the key) whose values differ from ``other``'s."""
        return tuple(name for name in CONTENT_FIELDS
                     if _comparable(self, name) != _comparable(other, name))

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


ContentField = Literal["key", "text", "note", "section", "due", "scheduled", "start",
                       "priority", "tags", "open_url"]
# Every field of a TaskRecord that flows vault -> remote (the status flows both ways).
CONTENT_FIELDS: tuple[ContentField, ...] = ("key", "text", "note", "section", "due",
                                            "scheduled", "start", "priority", "tags",
                                            "open_url")


def _comparable(record: TaskRecord, name: str) -> object:
    value = getattr(record, name)
    return tuple(sorted(value)) if name == "tags" else value


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
    # The raw fields the remote keeps a status in, as one opaque string (Notion: the Done
    # checkbox and the Status option). Recorded in the base, so the next read can tell which
    # of them a person changed. "" when the remote keeps the status in one field.
    status_fields: str = ""
    # False when those fields disagree (Done ticked, Status still "Todo"): the agreed status
    # is written back once, so the row reads the same to people and to the next sync.
    settled: bool = True
    # The row's content as a record (what the remote holds now), when the remote can say:
    # lets a write send only the fields that differ and name what a person changed.
    fields: TaskRecord | None = None


@dataclass(frozen=True, slots=True)
class RemoteSnapshot:
    """Rows read in one pass. ``complete`` is False for an incremental read (changed rows only)."""

    rows: tuple[RemoteRow, ...]
    complete: bool
    started_at: datetime
    requests: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    # True when reading stopped early (the remote kept failing): ``rows`` holds what was read.
    # Planned like an incremental read (a row not seen is not taken for gone), and the sync
    # does not count as complete, so the same window is read again next time.
    partial: bool = False
    # Rows the remote keeps as they are whatever the vault says (GitHub: the lines of a
    # published note that has no tasks now, more likely moved than emptied): their base
    # entries stay, so they are settled once the vault shows the note again.
    held: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgreedStatus:
    """What the base holds for one row: the status character both sides agreed on and the
    row's status fields as they were then (:attr:`RemoteRow.status_fields`)."""

    status: str
    fields: str = ""


class Remote(Protocol):
    """A place task state is mirrored to.

    Besides reading and writing rows, a remote takes part in two pieces of bookkeeping the
    runner keeps in the sync state: :attr:`target` (what the remote points at, so a relinked
    database is noticed) and :meth:`bind` / :meth:`cache` (what the base knows goes in, what
    the remote wants remembered between syncs comes out).
    """

    name: str  # "notion"

    @property
    def target(self) -> str:
        """What the remote points at (the Notion database id); "" when not bound to one.

        The base belongs to one target: when it changes, the rows the base knows are not
        the ones the remote holds.
        """
        ...

    def bind(self, agreed_status: Callable[[str], AgreedStatus | None],
             cache: Mapping[str, str]) -> None:
        """Hand the remote what the base knows, before a snapshot is taken.

        ``agreed_status(remote_id)`` is what both sides agreed on at the last sync (None for
        a row the base does not know); ``cache`` is what :meth:`cache` returned at an earlier
        sync against the same :attr:`target` (empty the first time).
        """
        ...

    def cache(self) -> dict[str, str]:
        """Values worth keeping until the next sync against the same :attr:`target` (Notion:
        the data source id, which saves one request per sync). Empty values are not kept."""
        ...

    def snapshot(self, since: datetime | None, *,
                 include_trashed: bool = False) -> RemoteSnapshot:
        """All live rows (``since`` None) or the rows edited at or after ``since``.

        ``since`` is the ``started_at`` of an earlier snapshot, passed as is: a remote whose
        edit times are coarse (Notion rounds them to the minute) looks back far enough itself.
        With ``include_trashed`` the rows trashed in the same window are returned too.
        """
        ...

    def find_by_key(self, key: str) -> RemoteRow | None:
        """The live row carrying ``key``: how a create whose answer was lost is detected."""
        ...

    def create(self, record: TaskRecord) -> RemoteRow:
        """Add a row for ``record``."""
        ...

    def update(self, remote_id: str, record: TaskRecord, *, content: bool = True,
               status: bool = True,
               only: Collection[ContentField] | None = None) -> RemoteRow:
        """Write a row: its status when ``status``; its content fields when ``content``
        (only the fields named in ``only``, when given). Nothing else is sent, so a change a
        person makes meanwhile to another field is not overwritten."""
        ...

    def trash(self, remote_id: str) -> None:
        """Move a row to the remote's trash (a row already trashed or gone is fine)."""
        ...

    def stored_form(self, record: TaskRecord) -> TaskRecord:
        """``record`` as :attr:`RemoteRow.fields` reads it back once written (Notion writes
        wiki links as plain text); ``record`` itself for a remote that stores it verbatim.
        Lets a write send only the fields that really differ."""
        ...
