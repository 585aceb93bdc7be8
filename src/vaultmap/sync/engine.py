"""Pure three-way planning: (vault records, remote rows, base) -> actions.

Nothing here reads a file, sends a request or looks at a clock; the runner does that and
passes the results in. For every task key each side is compared with the base, the state both
sides agreed on at the last sync:

=====================  ==========================================================
vault / remote          action
=====================  ==========================================================
unchanged / unchanged   nothing
changed / unchanged     status and content vault -> remote (``UpdateRow``)
unchanged / changed     status remote -> vault (``SetVaultStatus``); content that a
                        person changed in the remote is put back from the vault,
                        because text flows vault -> remote only
changed / changed       same status type: no conflict; different: the policy
                        decides and the conflict is logged (``Plan.conflicts``)
new / (no row)          ``CreateRow``
new / row with its key  adopt the row (a lost create answer, or a rebuilt base); for
                        a lost create answer what was sent is the base, so a
                        change a person made to the row since is a remote change
gone / present          ``TrashRow`` (the row goes to the remote's trash)
present / trashed       ``Unlink``: the note is never touched; the base keeps an
                        unlinked entry so the task is not pushed again
(none) / row w/o key    ``ImportRow`` into the inbox note, or a notice
=====================  ==========================================================

Statuses are compared *within* a side by character and *across* sides by type, because a
remote may store less detail than a note (one "Other" for every custom character). A row whose
status a person changed always gets the agreed status written back (one status-only update):
Notion holds a status in two properties (Done and Status), and a row left half changed would
read differently at the next sync.

An *incremental* snapshot (``complete=False``) holds only rows edited since the last sync; a
linked row missing from it is taken as unchanged, a trashed one in it is gone. A *complete*
snapshot holds every live row; a linked row missing from it is gone.

Conflict policy ``prefer``: ``"done"`` (default) keeps the more finished status, ranked
done > cancelled > doing > other > todo (a finished task is the stronger claim: someone did
the work; among closed statuses "done" beats "cancelled" because it records the achievement);
on equal rank the vault wins. ``"vault"`` and ``"notion"`` always keep that side.

A key that vanished and a key that appeared in one round are first re-matched
(:mod:`vaultmap.sync.identity`), so a reworded or moved task keeps its row.

The guard (vdirsyncer's "storage empty" rule): when a side lost more than ``guard_ratio`` of
at least ``guard_min`` synced tasks, or has none left at all, the plan carries a ``guard``
message and the runner refuses to execute it without ``--force``.

A *focused* plan (``focus``, for the daemon) plans only the notes that changed since a sync
that left every key in agreement, plus every note a row of the (incremental) snapshot touches:
the rest of the vault is known to agree with the base, so it would plan nothing. The rule for
identity across notes: a task moved from one note to another is two changed notes (both are in
the focus, so re-matching sees the key vanish from one and appear in the other); a row's key,
its base entry and its task pull their notes into the scope, so an adoption, a rekey or a lost
create is planned as in a full plan; and a key links notes: the scope takes in every note that
shares a key with it (a task whose entry names another note, an entry whose task is in
another note: an explicit id lives wherever it is pasted), so no task is created, trashed or
forgotten for want of its other half (:func:`close_scope`). A re-matched entry names the note
its task is in now, so entries are filed where their tasks are. The guard still counts
against the whole base and vault (``Focus.linked_total`` and ``Focus.vault_size``). See
:func:`scope_notes` and ``docs/daemon.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from functools import lru_cache
from typing import ClassVar, Literal, TypeAlias

from vaultmap.model import DEFAULT_STATUS_MAP, StatusMap, Task, normalise_text
from vaultmap.sync.base import BaseEntry, ConflictRecord, SentCreate, Side, kept_status
from vaultmap.sync.identity import Candidate, rematch
from vaultmap.sync.remote import ContentField, RemoteRow, TaskRecord, display_name

Prefer = Literal["done", "vault", "notion"]
NoticeKind = Literal["unlinked", "orphan", "no-key", "duplicate", "kept-row", "bad-status",
                     "relinked", "overwritten"]
# What a person sees for a content field a remote holds (one line per overwritten field).
FIELD_LABELS: Mapping[str, str] = {
    "key": "Key", "text": "Title", "note": "Note", "section": "Section", "due": "Due",
    "scheduled": "Scheduled", "start": "Start", "priority": "Priority", "tags": "Tags",
    "open_url": "Open link",
}


@dataclass(frozen=True, slots=True)
class Policy:
    """The knobs of planning, taken from ``[notion]`` settings."""

    prefer: Prefer = "done"
    statuses: StatusMap = DEFAULT_STATUS_MAP
    guard_ratio: float = 0.5
    guard_min: int = 10
    inbox: str = ""  # vault-relative note for rows made in the remote; "" = report them
    remote_name: str = "notion"


# -- actions ------------------------------------------------------------------------------
# Each action knows its phase (the order of execution), its label (the summary's word) and
# its mark (the plan listing's first column); the runner dispatches on the type with an
# exhaustive ``match``. Actions that end in the base carry ``entry``: the base entry to record
# once it succeeded (for remote writes the runner takes the remote side from the answer).


class Phase(IntEnum):
    """When an action runs: base-only bookkeeping, then note edits, then remote writes."""

    BASE = 0
    NOTE = 1
    UPDATE = 2
    CREATE = 3
    TRASH = 4
    IMPORT = 5


@dataclass(frozen=True, slots=True)
class Rekey:
    """Move a base entry to the task's new key (reworded / moved task); base only."""

    phase: ClassVar[Phase] = Phase.BASE
    label: ClassVar[str] = "re-matched"
    mark: ClassVar[str] = "="

    old_key: str | None  # None: the row was an orphan (its key was not in the base)
    entry: BaseEntry

    @property
    def key(self) -> str:
        return self.entry.key

    def describe(self) -> str:
        return f"re-match {self.entry.note}: {self.entry.description!r} keeps its row"


@dataclass(frozen=True, slots=True)
class Record:
    """Both sides already agree; only the base learns the new state."""

    phase: ClassVar[Phase] = Phase.BASE
    label: ClassVar[str] = "recorded"
    mark: ClassVar[str] = "."

    entry: BaseEntry

    @property
    def key(self) -> str:
        return self.entry.key

    def describe(self) -> str:
        return f"record {self.entry.note}: {self.entry.description!r}"


@dataclass(frozen=True, slots=True)
class Forget:
    """The task and its row are both gone (or the row is kept apart): drop the key."""

    phase: ClassVar[Phase] = Phase.BASE
    label: ClassVar[str] = "forgotten"
    mark: ClassVar[str] = "."

    key: str
    note: str
    description: str

    def describe(self) -> str:
        return f"forget {self.note}: {self.description!r}"


@dataclass(frozen=True, slots=True)
class Unlink:
    """The row was trashed in the remote: keep the note as it is, stop syncing the task."""

    phase: ClassVar[Phase] = Phase.BASE
    label: ClassVar[str] = "unlinked"
    mark: ClassVar[str] = "x"

    key: str
    entry: BaseEntry  # the unlinked entry

    def describe(self) -> str:
        return (f"unlink {self.entry.note}: {self.entry.description!r} "
                "(its row was trashed; the note is not changed)")


@dataclass(frozen=True, slots=True)
class SetVaultStatus:
    """Change one status character in a note (through the byte-exact edit API)."""

    phase: ClassVar[Phase] = Phase.NOTE
    label: ClassVar[str] = "note edit(s)"
    mark: ClassVar[str] = "*"

    key: str
    note: str
    expected: str  # the status character the note must still hold
    new: str
    entry: BaseEntry

    def describe(self) -> str:
        return f"note {self.note}: [{self.expected}] -> [{self.new}] {self.entry.description!r}"


@dataclass(frozen=True, slots=True)
class CreateRow:
    """Create a row for a task the remote does not have yet."""

    phase: ClassVar[Phase] = Phase.CREATE
    label: ClassVar[str] = "created"
    mark: ClassVar[str] = "+"

    key: str
    record: TaskRecord
    entry: BaseEntry

    def describe(self) -> str:
        return f"create row [{self.record.status}] {self.record.note}: {self.record.text!r}"


@dataclass(frozen=True, slots=True)
class Overwrite:
    """A content field a person changed in the remote that the note's value replaces."""

    field: str  # a FIELD_LABELS value
    remote_value: str
    vault_value: str


@dataclass(frozen=True, slots=True)
class UpdateRow:
    """Write a row's status (when ``status``) and content (when ``content``).

    Only what the plan decided is sent: the status only when it must change (or the row's
    status fields disagree), the content fields in ``only`` (all when None: the row was not
    read this time). ``seen`` is the row's content as read, to tell afterwards whether a
    person changed another field meanwhile.
    """

    phase: ClassVar[Phase] = Phase.UPDATE
    label: ClassVar[str] = "updated"
    mark: ClassVar[str] = "~"

    key: str
    remote_id: str
    record: TaskRecord
    content: bool
    status: bool
    entry: BaseEntry
    only: tuple[ContentField, ...] | None = None
    seen: TaskRecord | None = None
    overwritten: tuple[Overwrite, ...] = ()

    def describe(self) -> str:
        what = " and ".join(w for w, on in (("status", self.status), ("content", self.content))
                            if on) or "row"
        return f"update {what} [{self.record.status}] {self.record.note}: {self.record.text!r}"


@dataclass(frozen=True, slots=True)
class TrashRow:
    """The task was deleted from its note: move its row to the remote's trash."""

    phase: ClassVar[Phase] = Phase.TRASH
    label: ClassVar[str] = "trashed"
    mark: ClassVar[str] = "-"

    key: str
    remote_id: str
    note: str
    description: str

    def describe(self) -> str:
        return f"trash row of deleted task {self.note}: {self.description!r}"


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A row made in the remote (no key): append it to the inbox note, then key the row."""

    phase: ClassVar[Phase] = Phase.IMPORT
    label: ClassVar[str] = "imported"
    mark: ClassVar[str] = "<"

    row: RemoteRow
    inbox: str

    @property
    def key(self) -> str:
        return f"import:{self.row.remote_id}"

    def describe(self) -> str:
        return f"append to {self.inbox}: [{self.row.status}] {self.row.text!r}"


Action: TypeAlias = (Rekey | Record | Forget | Unlink | SetVaultStatus | CreateRow | UpdateRow
                     | TrashRow | ImportRow)
# Every action type, in phase order (what the summary lists).
ACTION_TYPES: tuple[type[Action], ...] = (Rekey, Record, Forget, Unlink, SetVaultStatus,
                                          UpdateRow, CreateRow, TrashRow, ImportRow)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should hear about that needs no action."""

    kind: NoticeKind
    message: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A status changed differently on both sides; ``chosen`` names the side the policy kept.

    ``vault_status`` "" means the task was deleted from its note while its row's status
    changed: the row is kept (never trashed with a change on it) and the task unlinked.

    What the plan says; :class:`~vaultmap.sync.base.ConflictRecord` is what the sync state
    keeps of it (:meth:`recorded`): the same facts and the time of the sync that met it,
    which a pure planner has no clock to know.
    """

    key: str
    note: str
    description: str
    vault_status: str
    remote_status: str
    chosen: Side

    @property
    def kept_status(self) -> str:
        return kept_status(self.vault_status, self.remote_status, self.chosen)

    def recorded(self, at: str) -> ConflictRecord:
        """The record the sync state keeps, met by the sync that started at ``at``."""
        return ConflictRecord(key=self.key, note=self.note, description=self.description,
                              vault_status=self.vault_status,
                              remote_status=self.remote_status, chosen=self.chosen, at=at)


@dataclass(frozen=True, slots=True)
class Focus:
    """Plan only these notes (and the notes the snapshot's rows touch); see the module.

    The caller vouches that every task outside ``notes`` agreed with the base after the last
    sync (that sync finished without a failure and nothing else changed since), so ``vault``
    and ``base`` may hold just the tasks and entries of the notes in scope, closed over keys
    (:func:`close_scope`: the caller reads the entries of the scoped tasks' keys too). Notes
    that could not be read belong in ``notes``, so the guard sets them aside as a full plan
    does. The guard's denominators are the whole vault's and base's: ``linked_total`` linked
    base entries, ``vault_size`` tasks.
    """

    notes: frozenset[str]
    linked_total: int
    vault_size: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one sync would do. Empty when both sides agree with the base."""

    actions: tuple[Action, ...] = ()
    notices: tuple[Notice, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    guard: str | None = None
    complete: bool = True
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.actions

    def describe(self) -> list[str]:
        """One line per action, in execution order."""
        return [action.describe() for action in self.actions]


# -- helpers ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _open_url(vault_name: str, path: str) -> str:
    """The ``obsidian://`` link of a note (one per note, not per task: a daemon re-reading a
    note with many tasks builds it once)."""
    from urllib.parse import quote

    def quoted(name: str) -> str:
        # A name that is not valid UTF-8 holds its bytes as surrogates (os.fsdecode):
        # encoded back to those bytes, the link opens that very file.
        try:
            return quote(name, safe="", errors="surrogateescape")
        except UnicodeEncodeError:  # a surrogate no byte decodes to: never from a file name
            return quote(name, safe="", errors="surrogatepass")

    file = path[:-3] if path.endswith(".md") else path
    return f"obsidian://open?vault={quoted(vault_name)}&file={quoted(file)}"


def task_record(task: Task, *, vault_name: str) -> TaskRecord:
    """Project a parsed task to what a remote stores (text flows vault -> remote)."""
    open_url = _open_url(vault_name, task.path)
    fields = task.fields
    return TaskRecord(
        key=task.key, status=task.status, status_type=task.type.value,
        # What a person reads: a double-encoded note's text goes to the remote repaired.
        text=task.display_description or task.display_text, note=task.path,
        section=task.display_section,
        due=fields.due, scheduled=fields.scheduled, start=fields.start,
        priority=fields.priority, tags=fields.tags, open_url=open_url,
    )


def valid_status_char(char: str) -> bool:
    """A status character that can be written between ``[`` and ``]`` of a task line."""
    return len(char) == 1 and char not in "[]\r\n\t\x00" and char.isprintable()


def choose(vault_status: str, remote_status: str, policy: Policy) -> Side:
    """Which side's status the policy keeps when both changed differently: vault | remote."""
    if policy.prefer == "vault":
        return "vault"
    if policy.prefer == "notion":
        return "remote"
    vault_rank = policy.statuses.type_of(vault_status).rank
    remote_rank = policy.statuses.type_of(remote_status).rank
    return "remote" if remote_rank > vault_rank else "vault"


def _entry(record: TaskRecord, *, remote_id: str, vault_status: str, remote_status: str,
           remote_hash: str, remote_fields: str = "") -> BaseEntry:
    return BaseEntry(
        key=record.key, remote_id=remote_id, vault_status=vault_status,
        remote_status=remote_status, vault_hash=record.content_hash(),
        remote_hash=remote_hash, note=record.note, description=normalise_text(record.text),
        section=record.section, remote_fields=remote_fields)


def _with_status(record: TaskRecord, status: str, statuses: StatusMap) -> TaskRecord:
    if status == record.status:
        return record
    return replace(record, status=status, status_type=statuses.type_of(status).value)


def _shown(value: object) -> str:
    if value is None or value == "" or value == ():
        return "(empty)"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(slots=True)
class RowState:
    """The remote side of one key: a row seen in the snapshot, or the base's memory of it."""

    remote_id: str
    status: str
    content_hash: str
    seen: bool  # False: not in an incremental snapshot, assumed unchanged
    status_fields: str = ""
    settled: bool = True
    key: str | None = None  # the key the row carries (when seen)
    fields: TaskRecord | None = None  # the row's content (when seen and the remote says)

    @classmethod
    def of(cls, row: RemoteRow) -> RowState:
        return cls(row.remote_id, row.status, row.content_hash, True, row.status_fields,
                   row.settled, row.key, row.fields)

    @classmethod
    def remembered(cls, entry: BaseEntry) -> RowState:
        return cls(entry.remote_id, entry.remote_status, entry.remote_hash, False,
                   entry.remote_fields, True, entry.key, None)


StoredForm: TypeAlias = Callable[[TaskRecord], TaskRecord]


class _Planner:
    """Per-key planning: what to do with one task that exists on both sides."""

    def __init__(self, policy: Policy, stored_form: StoredForm | None = None) -> None:
        self.policy = policy
        self.stored_form = stored_form
        self.actions: list[Action] = []
        self.notices: list[Notice] = []
        self.conflicts: list[Conflict] = []

    def statuses_differ(self, a: str, b: str) -> bool:
        return self.policy.statuses.type_of(a) is not self.policy.statuses.type_of(b)

    def pair(self, record: TaskRecord, base: BaseEntry | None, row: RowState,
             *, vault_wins: bool = False, key_moved: bool = False) -> None:
        """Plan one task that exists on both sides. ``base`` None: first meeting (adoption).
        ``key_moved``: the base entry came from another key, so the row carries that one."""
        policy = self.policy
        remote_status = row.status
        vault_hash = record.content_hash()
        key_wrong = (row.key != record.key) if row.seen else key_moved
        if (base is not None and not key_wrong and row.settled and record.note == base.note
                and record.status == base.vault_status
                and remote_status == base.remote_status and vault_hash == base.vault_hash
                and row.content_hash == base.remote_hash
                and row.status_fields == base.remote_fields):
            return  # the common case: nothing moved on either side
        if not valid_status_char(remote_status):
            self.notices.append(Notice("bad-status", f"{record.note}: the row of "
                                       f"{record.text!r} has a status that cannot be written "
                                       "to a note; the vault's status is kept", record.key))
            vault_wins = True
        if base is None:
            vault_changed = remote_changed = True
            content_push = row.content_hash != vault_hash
        else:
            vault_changed = record.status != base.vault_status
            remote_changed = remote_status != base.remote_status
            content_push = (vault_hash != base.vault_hash
                            or row.content_hash != base.remote_hash)
        final_vault = record.status
        push_status = False
        if self.statuses_differ(record.status, remote_status):
            if vault_wins or (vault_changed and not remote_changed):
                push_status = True
            elif remote_changed and not vault_changed:
                final_vault = remote_status
            else:
                side = choose(record.status, remote_status, policy)
                self.conflicts.append(Conflict(
                    key=record.key, note=record.note, description=record.text,
                    vault_status=record.status, remote_status=remote_status, chosen=side))
                if side == "vault":
                    push_status = True
                else:
                    final_vault = remote_status
        if not row.settled and valid_status_char(remote_status):
            # The row's status fields disagree (Done ticked, Status still "Todo"): write the
            # agreed status back once, so people and the next sync read the same.
            push_status = True
        only = self._fields_to_send(record, row, content_push, key_wrong)
        if only == ():
            content_push = False  # the row already holds every field the note has
        elif only is not None or key_wrong:
            content_push = True
        if final_vault != record.status:
            # Vault first: if the note changed meanwhile (compare-and-swap fails), the runner
            # skips this key's later actions and the next run plans again from fresh reads.
            # The entry records what the note now holds and the row as it was read: a status
            # write-back that fails after this leaves a base that reads the row the same.
            self.actions.append(SetVaultStatus(
                key=record.key, note=record.note, expected=record.status, new=final_vault,
                entry=_entry(record, remote_id=row.remote_id, vault_status=final_vault,
                             remote_status=remote_status,
                             remote_hash=base.remote_hash if base else row.content_hash,
                             remote_fields=row.status_fields)
                if not content_push else BaseEntry(
                    key=record.key, remote_id=row.remote_id, vault_status=final_vault,
                    remote_status=remote_status,
                    vault_hash=base.vault_hash if base else "",
                    remote_hash=base.remote_hash if base else "",
                    note=base.note if base else record.note,
                    description=base.description if base else normalise_text(record.text),
                    section=base.section if base else record.section,
                    remote_fields=row.status_fields)))
        pushed = _with_status(record, final_vault, policy.statuses)
        final_entry = _entry(pushed, remote_id=row.remote_id, vault_status=final_vault,
                             remote_status=remote_status, remote_hash=row.content_hash,
                             remote_fields=row.status_fields)
        if push_status or content_push:
            overwritten = self._overwritten(record, base, row, only) if content_push else ()
            for change in overwritten:
                self.notices.append(Notice(
                    "overwritten", f"{record.note}: {normalise_text(record.text)!r}: "
                    f"{change.field} was changed in {display_name(policy.remote_name)} to "
                    f"{change.remote_value!r}; put back from the note ({change.vault_value!r})",
                    record.key))
            self.actions.append(UpdateRow(
                key=record.key, remote_id=row.remote_id, record=pushed, content=content_push,
                status=push_status, entry=final_entry,
                only=only if content_push else None, seen=row.fields,
                overwritten=overwritten))
        elif final_vault == record.status and final_entry != base:
            self.actions.append(Record(final_entry))

    def _fields_to_send(self, record: TaskRecord, row: RowState, content_push: bool,
                        key_wrong: bool) -> tuple[ContentField, ...] | None:
        """The content fields a write must carry: those that differ from the row as read
        (None: all, the row was not read; () nothing)."""
        if not (content_push or key_wrong):
            return ()
        if row.fields is None:
            if not content_push:
                return ("key",)  # only the key moved (identical tasks reordered)
            return None
        wanted = self.stored_form(record) if self.stored_form is not None else record
        differing = wanted.differing_fields(row.fields)
        if key_wrong and "key" not in differing:
            differing = ("key", *differing)
        return differing

    def _overwritten(self, record: TaskRecord, base: BaseEntry | None, row: RowState,
                     only: tuple[ContentField, ...] | None) -> tuple[Overwrite, ...]:
        """Fields a person changed in the remote that this write puts back from the note."""
        if (base is None or row.fields is None or not only or not base.remote_hash
                or row.content_hash == base.remote_hash):
            return ()
        wanted = self.stored_form(record) if self.stored_form is not None else record
        return tuple(
            Overwrite(FIELD_LABELS[name], _shown(getattr(row.fields, name)),
                      _shown(getattr(wanted, name)))
            for name in only if name not in ("key", "open_url"))

    def adopt_sent(self, record: TaskRecord, row: RowState, sent: SentCreate) -> None:
        """Plan our own row whose create answer was lost, with what the create sent as the
        agreed base: a person's change to the row since then is a remote change like any
        other (copied to the note, or a conflict if the note changed too).

        The remote side is compared by status type (a remote may show a sent custom
        character as its own "other" character). The remote's hash of the sent content is
        not known unless the row reads back with the record's own hash, so otherwise the
        content is written again (text flows vault -> remote only).
        """
        same_type = not self.statuses_differ(row.status, sent.status)
        base = BaseEntry(
            key=record.key, remote_id=row.remote_id, vault_status=sent.status,
            remote_status=row.status if same_type else sent.status,
            vault_hash=sent.content_hash,
            remote_hash=row.content_hash if row.content_hash == sent.content_hash else "",
            note=record.note, description=normalise_text(record.text), section=record.section,
            remote_fields=row.status_fields if same_type else "")
        before = len(self.actions)
        self.pair(record, base, row)
        if len(self.actions) == before:
            # Nothing moved since the create: only the base learns the row.
            self.actions.append(Record(base))


# -- phases ---------------------------------------------------------------------------------


def without_unreadable(base: Mapping[str, BaseEntry], vault: Mapping[str, TaskRecord],
                       unreadable: Collection[str],
                       held: Collection[str] = ()) -> dict[str, BaseEntry]:
    """The base minus entries of notes the scan could not read and of rows the remote holds
    as they are: their tasks are missing from ``vault`` but not gone."""
    if not unreadable and not held:
        return dict(base)
    folders = tuple(p for p in unreadable if p.endswith("/"))
    files = set(unreadable)
    held_rows = set(held)

    def hidden(entry: BaseEntry) -> bool:
        return (entry.note in files or entry.note.startswith(folders)
                or (entry.linked and entry.remote_id in held_rows))

    return {k: e for k, e in base.items() if k in vault or not hidden(e)}


def realign_siblings(vault: Mapping[str, TaskRecord],
                     base: Mapping[str, BaseEntry]) -> dict[str, str]:
    """Tell identical task texts apart by their fields before their position.

    Tasks with the same text in one section get keys by their order (the ordinal), so a line
    inserted above (the Tasks plugin adds a recurring occurrence that way) shifts every key
    below it. Within each such group, a base entry goes to the task whose content (dates,
    priority, tags: the whole content hash) is the one it agreed on; only what that leaves
    open is paired by key. Returns ``{new_key: old_key}`` for the entries that move.
    """
    groups: dict[tuple[str, tuple[str, ...], str], list[str]] = defaultdict(list)
    for key, record in vault.items():
        if key.startswith("k:"):
            groups[(record.note, record.section, normalise_text(record.text))].append(key)
    olds: dict[tuple[str, tuple[str, ...], str], list[BaseEntry]] = defaultdict(list)
    for key, entry in base.items():
        if key.startswith("k:") and (entry.note, entry.section, entry.description) in groups:
            olds[(entry.note, entry.section, entry.description)].append(entry)
    moves: dict[str, str] = {}
    for group, keys in groups.items():
        entries = olds.get(group, [])
        if len(keys) < 2 and len(entries) < 2:
            continue  # one task, one entry: the key says it all
        if all(key in base and vault[key].content_hash() == base[key].vault_hash
               for key in keys):
            continue  # every task still agrees with its own entry
        open_entries = {e.key: e for e in entries}
        assigned: dict[str, str] = {}
        for key in keys:
            content = vault[key].content_hash()
            same = [e for e in open_entries.values() if e.vault_hash == content]
            own = open_entries.get(key)
            if own is not None and own in same:
                chosen = own
            elif len(same) == 1:
                chosen = same[0]
            else:
                continue  # no entry, or several alike: position decides below
            assigned[key] = chosen.key
            del open_entries[chosen.key]
        for key in keys:
            if key not in assigned and key in open_entries:
                assigned[key] = key
                del open_entries[key]
        moves.update({new: old for new, old in assigned.items() if new != old})
    return moves


@dataclass(slots=True)
class _Claims:
    """How live rows relate to the base: claimed by an entry, adoptable, extra, keyless."""

    remote_of: dict[str, RowState | None]
    unclaimed: dict[str, list[RemoteRow]]
    no_key: list[RemoteRow]


def claim_rows(rows: Sequence[RemoteRow], base: Mapping[str, BaseEntry], complete: bool,
               claimed: Collection[str]) -> _Claims:
    """The remote side of every linked base entry (seen, assumed unchanged, or gone), and
    the live rows no entry claims, by key (rows made elsewhere, lost creates, duplicates).
    ``claimed`` holds the row ids of the whole base (unreadable notes' rows included)."""
    rows_by_id: dict[str, RemoteRow] = {}
    for row in rows:
        rows_by_id.setdefault(row.remote_id, row)
    remote_of: dict[str, RowState | None] = {}
    for key, entry in base.items():
        if not entry.linked:
            continue
        seen_row = rows_by_id.get(entry.remote_id)
        if seen_row is None:
            remote_of[key] = None if complete else RowState.remembered(entry)
        elif seen_row.trashed:
            remote_of[key] = None
        else:
            remote_of[key] = RowState.of(seen_row)
    unclaimed: dict[str, list[RemoteRow]] = defaultdict(list)
    no_key: list[RemoteRow] = []
    for row in rows:
        if row.trashed or row.remote_id in claimed or rows_by_id[row.remote_id] is not row:
            continue
        if row.key:
            unclaimed[row.key].append(row)
        else:
            no_key.append(row)
    return _Claims(remote_of, unclaimed, no_key)


def adopt_rows(claims: _Claims, vault: Mapping[str, TaskRecord],
               base: Mapping[str, BaseEntry], policy: Policy,
               notices: list[Notice]) -> dict[str, RemoteRow]:
    """Unclaimed rows whose key a task carries and the base does not link: ours to take
    over (a lost create answer, a rebuilt base). A keyless row whose note and title are a
    task's that has no row is that task's row whose Key was cleared: taken over too (and its
    Key written back), never imported as a second line or doubled by a create."""
    adopt: dict[str, RemoteRow] = {}
    for key, found in claims.unclaimed.items():
        known = base.get(key)
        if key in vault and (known is None or not known.linked):
            adopt[key] = found[0]
            extra = found[1:]
        elif key in vault or (known is not None and known.linked):
            extra = found  # the key has its row: these copy it
        else:
            # No task and no row for the key (an unlinked entry's row restored from the
            # trash after its task was deleted): the first row is an orphan, kept as one.
            extra = found[1:]
        for row in extra:
            notices.append(Notice(
                "duplicate", f"row {row.text!r} carries the key of another row (duplicated "
                f"in {display_name(policy.remote_name)}?); it is left alone: trash the extra "
                "copy",
                key))
    if claims.no_key:
        rowless: dict[tuple[str, str], list[str]] = defaultdict(list)
        for key, record in vault.items():
            entry = base.get(key)
            if key not in adopt and (entry is None or not entry.linked):
                rowless[(record.note, normalise_text(record.text))].append(key)
        keep: list[RemoteRow] = []
        for row in claims.no_key:
            text = row.fields.text if row.fields is not None else row.text
            # A row made in the remote has no note: its line, if an import that lost its
            # record already wrote one, is in the inbox.
            note = row.note or policy.inbox
            candidates = rowless.get((note, normalise_text(text)), []) if note else []
            if candidates:
                adopt[candidates.pop(0)] = row
            else:
                keep.append(row)
        claims.no_key[:] = keep
    return adopt


@dataclass(slots=True)
class _Matching:
    matches: dict[str, str]  # new key -> old key
    vanished: dict[str, BaseEntry]
    orphans: dict[str, RemoteRow]


def rematch_keys(vault: Mapping[str, TaskRecord], base: Mapping[str, BaseEntry],
                 claims: _Claims, adopt: Mapping[str, RemoteRow],
                 statuses: StatusMap) -> _Matching:
    """Re-match keys that vanished with keys that appeared (reworded / moved / renamed).

    A vanished task whose row changed status since the base is never let go lightly: when
    no similar task appeared but exactly one new task appeared in the same note and section,
    that is taken to be it (a reword beyond the similarity threshold), so the change is kept.
    """
    appeared = [k for k in vault if k not in base and k not in adopt]
    vanished: dict[str, BaseEntry] = {k: e for k, e in base.items() if k not in vault}
    orphans: dict[str, RemoteRow] = {}
    for key, found in claims.unclaimed.items():
        known = base.get(key)
        if key not in vault and (known is None or not known.linked):
            orphans[key] = found[0]
            vanished[key] = BaseEntry(
                key=key, remote_id=found[0].remote_id, vault_status=found[0].status,
                remote_status=found[0].status, vault_hash="",
                remote_hash=found[0].content_hash, note=found[0].note,
                description=normalise_text(found[0].text),
                remote_fields=found[0].status_fields)
            claims.remote_of[key] = RowState.of(found[0])
    matches: dict[str, str] = {}
    if appeared and vanished:
        matches = rematch(
            [Candidate(k, e.note, e.section, e.description, e.vault_status)
             for k, e in sorted(vanished.items())],
            [Candidate(k, vault[k].note, vault[k].section, normalise_text(vault[k].text),
                       vault[k].status) for k in appeared])
    used = set(matches.values())
    open_new = [k for k in appeared if k not in matches]
    for old_key, entry in sorted(vanished.items()):
        state = claims.remote_of.get(old_key)
        if old_key in used or old_key in orphans or not entry.linked or state is None:
            continue
        if not (state.seen and statuses.type_of(state.status)
                is not statuses.type_of(entry.remote_status)):
            continue
        near = [k for k in open_new
                if vault[k].note == entry.note and vault[k].section == entry.section]
        if len(near) == 1:
            matches[near[0]] = old_key
            open_new.remove(near[0])
    return _Matching(matches, vanished, orphans)


@dataclass(slots=True)
class _Losses:
    vault_lost: int = 0
    remote_lost: int = 0


def plan_keys(planner: _Planner, vault: Mapping[str, TaskRecord],
              base: Mapping[str, BaseEntry], claims: _Claims, adopt: Mapping[str, RemoteRow],
              matching: _Matching, moved_keys: Collection[str], *,
              pending_creates: Collection[str], sent: Mapping[str, SentCreate] | None,
              losses: _Losses) -> None:
    """Per-key planning, in scan order (by note path: plans read well and stay stable)."""
    policy = planner.policy
    for key in vault:
        record = vault[key]
        old_key = matching.matches.get(key)
        current = base.get(key)
        if old_key is not None:
            old = matching.vanished[old_key]
            # The entry names the note its task is in now: a focused plan reads a note's
            # entries by that name (see ``scope_notes``).
            moved = replace(old, key=key, note=record.note)
            # An orphan row's key is in the base only as an unlinked entry: that one goes.
            planner.actions.append(Rekey(
                None if old_key in matching.orphans and old_key not in base else old_key,
                moved))
            if not old.linked:
                continue  # an unlinked task stays unlinked under its new key
            state = claims.remote_of.get(old_key)
            if state is None:
                losses.remote_lost += 1
                planner.actions.append(Unlink(key, moved.unlinked()))
                planner.notices.append(_unlinked_notice(record, policy.remote_name))
                continue
            planner.pair(record, moved, state, key_moved=True)
        elif key in adopt:
            row = adopt[key]
            if current is not None and not current.linked:
                planner.notices.append(Notice(
                    "relinked", f"{record.note}: the row of {record.text!r} is back from the "
                    "trash; syncing again", key))
            found_state = RowState.of(row)
            sent_by_us = sent.get(key) if sent is not None and key in pending_creates else None
            if sent_by_us is not None:
                planner.adopt_sent(record, found_state, sent_by_us)
            else:
                planner.pair(record, None, found_state, vault_wins=key in pending_creates)
        elif current is None:
            planner.actions.append(CreateRow(key, record, _entry(
                record, remote_id="", vault_status=record.status, remote_status="",
                remote_hash="")))
        elif not current.linked:
            # Unlinked: never pushed again unless its row comes back. An entry filed under
            # another note than its task's (an older vaultmap moved unlinked entries so) is
            # filed again: a focused plan reads a note's entries by that name.
            if current.note != record.note:
                planner.actions.append(Record(replace(current, note=record.note)))
        else:
            state = claims.remote_of[key]
            if state is None:
                losses.remote_lost += 1
                planner.actions.append(Unlink(key, _entry(
                    record, remote_id="", vault_status=record.status, remote_status="",
                    remote_hash="")))
                planner.notices.append(_unlinked_notice(record, policy.remote_name))
            else:
                planner.pair(record, current, state, key_moved=key in moved_keys)


def retire_keys(planner: _Planner, vault: Mapping[str, TaskRecord],
                base: Mapping[str, BaseEntry], claims: _Claims, matching: _Matching, *,
                pending_creates: Collection[str], kept: Collection[str],
                losses: _Losses) -> None:
    """Base entries whose task is gone: trash the row, forget the key, or (when the row's
    status changed since the base) keep the row and say so: a change is never thrown away
    because its task could not be found."""
    policy = planner.policy
    statuses = policy.statuses
    matched_old = set(matching.matches.values())
    for key, entry in sorted(base.items()):
        if key in vault or key in matched_old:
            continue
        if not entry.linked:
            planner.actions.append(Forget(key, entry.note, entry.description))
            continue
        losses.vault_lost += 1
        state = claims.remote_of[key]
        if state is None:
            losses.remote_lost += 1
            planner.actions.append(Forget(key, entry.note, entry.description))
            continue
        if state.seen and (statuses.type_of(state.status)
                           is not statuses.type_of(entry.remote_status)):
            text = state.fields.text if state.fields is not None else entry.description
            planner.conflicts.append(Conflict(
                key=key, note=entry.note, description=text, vault_status="",
                remote_status=state.status, chosen="remote"))
            planner.notices.append(Notice(
                "kept-row", f"{entry.note}: {text!r} was deleted from the note "
                f"while its row changed to [{state.status}] in {display_name(policy.remote_name)}; "
                "the row is kept (not trashed) and no longer synced: trash it there, or put "
                "the task back in the note", key))
            planner.actions.append(Forget(key, entry.note, entry.description))
            continue
        planner.actions.append(TrashRow(key, state.remote_id, entry.note, entry.description))
    for key, row in sorted(matching.orphans.items()):
        if key in matched_old:
            continue
        if key in pending_creates:
            # Our own create whose answer was lost, for a task deleted since.
            losses.vault_lost += 1
            planner.actions.append(TrashRow(key, row.remote_id, row.note,
                                            normalise_text(row.text)))
            continue
        if key not in kept:
            # No task carries the key and the base does not know it (the state was lost or
            # the task was deleted unsynced): whether a person changed the row since cannot
            # be told, so it is kept, never trashed, and put on record as kept like a row
            # whose task was deleted while it changed (see ``Conflict``), once.
            planner.conflicts.append(Conflict(
                key=key, note=row.note,
                description=row.fields.text if row.fields is not None else row.text,
                vault_status="", remote_status=row.status, chosen="remote"))
        planner.notices.append(Notice(
            "orphan", f"row {row.text!r} ({row.note or 'no note'}) has a key no task in the "
            "vault carries; it is left alone (trash it if its task is gone)", key))
    for row in claims.no_key:
        if policy.inbox:
            planner.actions.append(ImportRow(row, policy.inbox))
        else:
            planner.notices.append(Notice(
                "no-key", f"row {row.text!r} was made in {display_name(policy.remote_name)} "
                "and has no key; set [notion] inbox to bring such rows into a note"))


def plan_sync(
    vault: Mapping[str, TaskRecord],
    rows: Sequence[RemoteRow],
    base: Mapping[str, BaseEntry],
    *,
    complete: bool,
    policy: Policy = Policy(),
    pending_creates: Collection[str] = (),
    sent: Mapping[str, SentCreate] | None = None,
    unreadable: Collection[str] = (),
    stored_form: StoredForm | None = None,
    kept: Collection[str] = (),
    held: Collection[str] = (),
    focus: Focus | None = None,
) -> Plan:
    """Plan one sync. Pure: the same input gives the same plan.

    ``vault`` maps key -> record for every task in the vault; ``rows`` is the remote snapshot
    (every live row when ``complete``, else only rows edited since the last sync, trashed rows
    included when the remote reports them); ``base`` is the stored agreement.
    ``pending_creates`` are keys whose create was started but not recorded: a row found
    with such a key is our own. ``sent`` holds what such a create sent: the row is then
    planned against it as the agreed base (a change made to the row since is kept); for a
    pending create without it (noted by an older vaultmap) the vault's state wins over the
    row. ``unreadable`` lists notes (and ``folder/`` prefixes) the scan could not read: their
    tasks are missing from ``vault`` but are not gone, so their rows are left as they are.
    ``stored_form(record)`` is the record as the remote would read it back (Notion writes
    wiki links as plain text): with it, a write sends only the fields that really differ.
    ``kept`` holds the keys of rows already on record as kept (a conflict whose task was
    deleted): an orphan row with such a key is not recorded again. ``held`` holds the ids of
    rows the remote keeps as they are (see ``RemoteSnapshot.held``): a task of such a row
    missing from the vault is not gone, like a task of an unreadable note. ``focus`` plans only
    the notes it names and those the rows touch (see :class:`Focus`); the plan is the full
    plan's for those notes, and nothing for the rest.

    The phases: :func:`realign_siblings`, :func:`claim_rows`, :func:`adopt_rows`,
    :func:`rematch_keys`, :func:`plan_keys`, :func:`retire_keys`, then the guard.
    """
    vault_size = len(vault)
    if focus is not None:
        notes = scope_notes(focus.notes, rows, base, vault, pending_creates=pending_creates,
                            inbox=policy.inbox)
        vault = {k: r for k, r in vault.items() if r.note in notes}
        base = {k: e for k, e in base.items() if e.note in notes}
        vault_size = focus.vault_size
    claimed = {e.remote_id for e in base.values() if e.linked}
    linked_seen = sum(1 for e in base.values() if e.linked)
    base = without_unreadable(base, vault, unreadable)
    # Held rows still count as synced: a vault with no tasks at all trips the guard as ever.
    linked_total = sum(1 for e in base.values() if e.linked)
    if focus is not None:
        # The whole base's count, less the entries of unreadable notes set aside above.
        linked_total = focus.linked_total - (linked_seen - linked_total)
    base = without_unreadable(base, vault, (), held)
    planner = _Planner(policy, stored_form)
    moves = realign_siblings(vault, base)
    if moves:
        moved = {new: replace(base[old], key=new) for new, old in moves.items()}
        base = {k: e for k, e in base.items() if k not in set(moves.values())} | moved
        planner.actions.extend(Rekey(old, moved[new]) for new, old in moves.items())
    claims = claim_rows(rows, base, complete, claimed)
    adopt = adopt_rows(claims, vault, base, policy, planner.notices)
    matching = rematch_keys(vault, base, claims, adopt, policy.statuses)
    losses = _Losses()
    plan_keys(planner, vault, base, claims, adopt, matching, moves.keys(),
              pending_creates=pending_creates, sent=sent, losses=losses)
    retire_keys(planner, vault, base, claims, matching, pending_creates=pending_creates,
                kept=kept, losses=losses)
    live_rows = sum(1 for r in rows if not r.trashed)
    guard = guard_message(policy, linked_total=linked_total, vault_size=vault_size,
                          vault_lost=losses.vault_lost, remote_lost=losses.remote_lost,
                          remote_empty=complete and live_rows == 0)
    counts: dict[str, int] = defaultdict(int)
    for action in planner.actions:
        counts[type(action).__name__] += 1
    return Plan(tuple(_ordered(planner.actions)), tuple(planner.notices),
                tuple(planner.conflicts), guard, complete, dict(counts))


def scope_notes(changed: Collection[str], rows: Sequence[RemoteRow],
                base: Mapping[str, BaseEntry], vault: Mapping[str, TaskRecord], *,
                pending_creates: Collection[str] = (), inbox: str = "") -> frozenset[str]:
    """The notes a focused plan must see whole: the ``changed`` ones; the note of every base
    entry and task that a snapshot row names (by row id or by key) or a pending create names;
    and, for a live row without a key, the note it names (or the inbox), where adoption looks
    for its task. ``base`` needs to hold only the entries of those rows and keys (or more)."""
    notes = set(changed)
    ids = {row.remote_id for row in rows}
    keys = {row.key for row in rows if row.key} | set(pending_creates)
    for key, entry in base.items():
        if key in keys or entry.remote_id in ids:
            notes.add(entry.note)
    for key in keys:
        record = vault.get(key)
        if record is not None:
            notes.add(record.note)
    for row in rows:
        if not row.key and not row.trashed and (row.note or inbox):
            notes.add(row.note or inbox)
    return close_scope(notes, base, vault)


def close_scope(notes: Collection[str], base: Mapping[str, BaseEntry],
                vault: Mapping[str, TaskRecord]) -> frozenset[str]:
    """``notes`` and every note that shares a key with them, until none is added: the note
    of a task whose base entry is in scope, and the note named by the base entry of a task
    in scope. A key's task and its entry are then planned together, as in a full plan,
    wherever each of them is: an explicit id lives in whichever note holds it, and a note
    whose task moved away must not read its entry as a task deleted (nor a task that moved
    in as a new one).

    ``base`` needs to hold the entries of the keys of the tasks in scope and the entries
    of the notes in scope (or more); ``vault`` every task (or those of ``notes`` and of the
    notes their entries name).
    """
    scope = set(notes)
    while True:
        wider = set()
        for key, entry in base.items():
            record = vault.get(key)
            if record is None or record.note == entry.note:
                continue
            if entry.note in scope and record.note not in scope:
                wider.add(record.note)
            elif record.note in scope and entry.note not in scope:
                wider.add(entry.note)
        if not wider:
            return frozenset(scope)
        scope |= wider


def _unlinked_notice(record: TaskRecord, remote_name: str) -> Notice:
    return Notice("unlinked", f"{record.note}: the row of {record.text!r} was trashed in "
                  f"{display_name(remote_name)}; the task stays in the note and is no longer "
                  "synced",
                  record.key)


def _ordered(actions: list[Action]) -> list[Action]:
    """Base-only actions first, then note edits, then remote writes; stable within a phase.

    A rekey is recorded before its row is rewritten, so a crash in between leaves the base
    pointing at the row under the new key with the old hashes: the next run sees the content
    change and pushes it again.
    """
    return sorted(actions, key=lambda a: a.phase)


def guard_message(policy: Policy, *, linked_total: int, vault_size: int, vault_lost: int,
                  remote_lost: int, remote_empty: bool) -> str | None:
    """vdirsyncer's "storage empty" rule: why the plan must not run without ``--force``."""
    if linked_total == 0:
        return None
    name = display_name(policy.remote_name)
    if vault_size == 0:
        return (f"the vault has no tasks, but {linked_total} were synced before; is the vault "
                "folder mounted and the path right? Run again with --force to trash every row")
    if remote_empty:
        return (f"{name} returned no rows, but {linked_total} tasks were synced before; is it the "
                "right database? Run again with --force to unlink every task")
    limit = policy.guard_ratio * linked_total
    if linked_total >= policy.guard_min and vault_lost > limit:
        return (f"{vault_lost} of {linked_total} synced tasks vanished from the vault at once; "
                f"refusing to trash their rows. If you really deleted them, run again with "
                "--force")
    if linked_total >= policy.guard_min and remote_lost > limit:
        return (f"{remote_lost} of {linked_total} synced rows vanished from {name} at once; "
                "refusing to unlink their tasks. If you really trashed them, run again with "
                "--force")
    return None
