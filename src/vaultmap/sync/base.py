"""The value types of the sync base: what both sides agreed on, per task, per remote.

Plain frozen values shared by the pure planner (:mod:`vaultmap.sync.engine`) and the SQLite
store that keeps them (:mod:`vaultmap.sync.state`); nothing here does I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Literal

Side = Literal["vault", "remote"]
PendingKind = Literal["create", "import"]


@dataclass(frozen=True, slots=True)
class BaseEntry:
    """The agreed state of one task with one remote.

    ``vault_status`` and ``remote_status`` are kept apart because a remote may store a status
    with less detail than a note (Notion has one "Other" for every custom character): each
    side's change is detected against what that side itself showed last time.
    An entry with an empty ``remote_id`` is *unlinked*: its row was trashed in the remote, and
    the task must not be pushed again until a row with its key comes back.
    """

    key: str
    remote_id: str
    vault_status: str
    remote_status: str
    vault_hash: str
    remote_hash: str
    note: str
    description: str  # normalised description, for re-matching
    section: tuple[str, ...] = ()
    # The row's raw status fields as agreed (RemoteRow.status_fields): tells the remote which
    # of them a person changed since.
    remote_fields: str = ""

    @property
    def linked(self) -> bool:
        return bool(self.remote_id)

    def unlinked(self) -> BaseEntry:
        """This entry with its row forgotten (the task stays known, so it is not re-created)."""
        return replace(self, remote_id="", remote_status="", remote_hash="", remote_fields="")


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    """A status changed differently on both sides; ``chosen`` is what the policy kept. The
    sync state's record of a planned :class:`~vaultmap.sync.engine.Conflict`."""

    key: str
    note: str
    description: str
    vault_status: str
    remote_status: str
    chosen: Side
    at: str  # ISO time of the sync that met it

    @property
    def kept_status(self) -> str:
        return kept_status(self.vault_status, self.remote_status, self.chosen)


def kept_status(vault_status: str, remote_status: str, chosen: Side) -> str:
    """The status the policy kept in a conflict."""
    return vault_status if chosen == "vault" else remote_status


@dataclass(frozen=True, slots=True)
class OverwriteRecord:
    """A field a person changed in the remote that a sync put back from the note (text flows
    vault -> remote only); kept until acknowledged, like conflicts."""

    key: str
    note: str
    description: str
    field: str  # the user-facing name of the field ("Title", "Due", ...)
    remote_value: str  # what the person had written
    vault_value: str  # what the note holds (and the remote holds again)
    at: str


@dataclass(frozen=True, slots=True)
class SentCreate:
    """What a create sent: once its row is found, the state both sides started from.

    A create whose answer was lost leaves no base entry; without this, the row found later
    could only be compared with the vault as it is now, and a change a person made to the
    row in between would look like no change at all.
    """

    status: str  # the vault's status character, as sent
    content_hash: str  # ``TaskRecord.content_hash()`` of the record sent


@dataclass(frozen=True, slots=True)
class PendingOp:
    """An action that was started but may not have finished (a create whose answer was lost).

    ``detail`` is the note of a create (with what was sent, see :meth:`for_create`) or the
    line text of an import.
    """

    key: str
    op: PendingKind
    remote_id: str
    detail: str

    @classmethod
    def for_create(cls, key: str, note: str, sent: SentCreate) -> PendingOp:
        """A pending create that remembers the status and content it sent."""
        detail = json.dumps({"note": note, "status": sent.status, "hash": sent.content_hash},
                            ensure_ascii=False)
        return cls(key, "create", "", detail)

    @property
    def sent(self) -> SentCreate | None:
        """What a create sent; None for an import or a create noted by an older vaultmap
        (whose detail is the bare note path)."""
        if self.op != "create":
            return None
        try:
            value = json.loads(self.detail)
        except (ValueError, RecursionError):  # read back from the state file: any text
            return None
        if not isinstance(value, dict):
            return None
        status, content_hash = value.get("status"), value.get("hash")
        if not isinstance(status, str) or not isinstance(content_hash, str) or not status:
            return None
        return SentCreate(status, content_hash)
