"""Pure three-way planning: (vault records, remote rows, base) -> actions (design.md §4).

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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from vaultmap.model import DEFAULT_STATUS_MAP, StatusMap, StatusType, Task, normalise_text
from vaultmap.sync.identity import Candidate, rematch
from vaultmap.sync.remote import RemoteRow, TaskRecord, display_name
from vaultmap.sync.state import BaseEntry, SentCreate

# How finished a status type is, for prefer = "done".
STATUS_RANK: Mapping[StatusType, int] = {
    StatusType.DONE: 4,
    StatusType.CANCELLED: 3,
    StatusType.DOING: 2,
    StatusType.OTHER: 1,
    StatusType.TODO: 0,
}
PREFER_CHOICES = ("done", "vault", "notion")


@dataclass(frozen=True, slots=True)
class Policy:
    """The knobs of planning, taken from ``[notion]`` settings."""

    prefer: str = "done"
    statuses: StatusMap = DEFAULT_STATUS_MAP
    guard_ratio: float = 0.5
    guard_min: int = 10
    inbox: str = ""  # vault-relative note for rows made in the remote; "" = report them
    remote_name: str = "notion"


# -- actions ------------------------------------------------------------------------------
# Each action carries ``entry``: the base entry to record once it succeeded. For remote
# writes the runner replaces the remote-side fields with what the remote answered.


@dataclass(frozen=True, slots=True)
class Rekey:
    """Move a base entry to the task's new key (reworded / moved task); base only."""

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

    entry: BaseEntry

    @property
    def key(self) -> str:
        return self.entry.key

    def describe(self) -> str:
        return f"record {self.entry.note}: {self.entry.description!r}"


@dataclass(frozen=True, slots=True)
class Forget:
    """The task and its row are both gone: drop the key from the base."""

    key: str
    note: str
    description: str

    def describe(self) -> str:
        return f"forget {self.note}: {self.description!r}"


@dataclass(frozen=True, slots=True)
class Unlink:
    """The row was trashed in the remote: keep the note as it is, stop syncing the task."""

    key: str
    entry: BaseEntry  # the unlinked entry

    def describe(self) -> str:
        return (f"unlink {self.entry.note}: {self.entry.description!r} "
                "(its row was trashed; the note is not changed)")


@dataclass(frozen=True, slots=True)
class SetVaultStatus:
    """Change one status character in a note (through the byte-exact edit API)."""

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

    key: str
    record: TaskRecord
    entry: BaseEntry

    def describe(self) -> str:
        return f"create row [{self.record.status}] {self.record.note}: {self.record.text!r}"


@dataclass(frozen=True, slots=True)
class UpdateRow:
    """Write a row's status (and, when ``content``, its text and other fields)."""

    key: str
    remote_id: str
    record: TaskRecord
    content: bool
    status: bool
    entry: BaseEntry

    def describe(self) -> str:
        what = " and ".join(w for w, on in (("status", self.status), ("content", self.content))
                            if on) or "row"
        return f"update {what} [{self.record.status}] {self.record.note}: {self.record.text!r}"


@dataclass(frozen=True, slots=True)
class TrashRow:
    """The task was deleted from its note: move its row to the remote's trash."""

    key: str
    remote_id: str
    note: str
    description: str

    def describe(self) -> str:
        return f"trash row of deleted task {self.note}: {self.description!r}"


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A row made in the remote (no key): append it to the inbox note, then key the row."""

    row: RemoteRow
    inbox: str

    @property
    def key(self) -> str:
        return f"import:{self.row.remote_id}"

    def describe(self) -> str:
        return f"append to {self.inbox}: [{self.row.status}] {self.row.text!r}"


Action: TypeAlias = (Rekey | Record | Forget | Unlink | SetVaultStatus | CreateRow | UpdateRow
                     | TrashRow | ImportRow)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should hear about that needs no action."""

    kind: str  # unlinked | orphan | no-key | duplicate | discarded | bad-status
    message: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A status changed differently on both sides; ``chosen`` names the side the policy kept."""

    key: str
    note: str
    description: str
    vault_status: str
    remote_status: str
    chosen: str  # "vault" | "remote"

    @property
    def kept_status(self) -> str:
        return self.vault_status if self.chosen == "vault" else self.remote_status


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


def task_record(task: Task, *, vault_name: str) -> TaskRecord:
    """Project a parsed task to what a remote stores (text flows vault -> remote)."""
    from urllib.parse import quote

    file = task.path[:-3] if task.path.endswith(".md") else task.path
    open_url = (f"obsidian://open?vault={quote(vault_name, safe='')}"
                f"&file={quote(file, safe='')}")
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


def choose(vault_status: str, remote_status: str, policy: Policy) -> str:
    """Which side's status the policy keeps when both changed differently: vault | remote."""
    if policy.prefer == "vault":
        return "vault"
    if policy.prefer == "notion":
        return "remote"
    vault_rank = STATUS_RANK[policy.statuses.type_of(vault_status)]
    remote_rank = STATUS_RANK[policy.statuses.type_of(remote_status)]
    return "remote" if remote_rank > vault_rank else "vault"


def _entry(record: TaskRecord, *, remote_id: str, vault_status: str, remote_status: str,
           remote_hash: str) -> BaseEntry:
    return BaseEntry(
        key=record.key, remote_id=remote_id, vault_status=vault_status,
        remote_status=remote_status, vault_hash=record.content_hash(),
        remote_hash=remote_hash, note=record.note, description=normalise_text(record.text),
        section=record.section)


def _with_status(record: TaskRecord, status: str, statuses: StatusMap) -> TaskRecord:
    if status == record.status:
        return record
    return replace(record, status=status, status_type=statuses.type_of(status).value)


@dataclass(slots=True)
class _RowState:
    """The remote side of one key: a row seen in the snapshot, or the base's memory of it."""

    remote_id: str
    status: str
    content_hash: str
    seen: bool  # False: not in an incremental snapshot, assumed unchanged


class _Planner:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.actions: list[Action] = []
        self.notices: list[Notice] = []
        self.conflicts: list[Conflict] = []

    def statuses_differ(self, a: str, b: str) -> bool:
        return self.policy.statuses.type_of(a) is not self.policy.statuses.type_of(b)

    def pair(self, record: TaskRecord, base: BaseEntry | None, row: _RowState,
             *, vault_wins: bool = False, vault_hash: str | None = None) -> None:
        """Plan one task that exists on both sides. ``base`` None: first meeting (adoption)."""
        policy = self.policy
        remote_status = row.status
        if vault_hash is None:
            vault_hash = record.content_hash()
        if (base is not None and record.status == base.vault_status
                and remote_status == base.remote_status and vault_hash == base.vault_hash
                and row.content_hash == base.remote_hash):
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
        if final_vault != record.status:
            # Vault first: if the note changed meanwhile (compare-and-swap fails), the runner
            # skips this key's later actions and the next run plans again from fresh reads.
            self.actions.append(SetVaultStatus(
                key=record.key, note=record.note, expected=record.status, new=final_vault,
                entry=_entry(record, remote_id=row.remote_id, vault_status=final_vault,
                             remote_status=remote_status,
                             remote_hash=base.remote_hash if base else row.content_hash)
                if not content_push else BaseEntry(
                    key=record.key, remote_id=row.remote_id, vault_status=final_vault,
                    remote_status=remote_status,
                    vault_hash=base.vault_hash if base else "",
                    remote_hash=base.remote_hash if base else "",
                    note=base.note if base else record.note,
                    description=base.description if base else normalise_text(record.text),
                    section=base.section if base else record.section)))
        if remote_changed and base is not None and valid_status_char(remote_status):
            # Write the agreed status back to a row a person changed: a remote may hold a
            # status in more than one field (Notion: Done and Status), and a row left half
            # changed (Done ticked, Status still "Todo") would read differently next time.
            push_status = True
        pushed = _with_status(record, final_vault, policy.statuses)
        final_entry = _entry(pushed, remote_id=row.remote_id, vault_status=final_vault,
                             remote_status=remote_status, remote_hash=row.content_hash)
        if push_status or content_push:
            self.actions.append(UpdateRow(key=record.key, remote_id=row.remote_id,
                                          record=pushed, content=content_push,
                                          status=push_status, entry=final_entry))
        elif final_vault == record.status and final_entry != base:
            self.actions.append(Record(final_entry))

    def adopt_sent(self, record: TaskRecord, row: _RowState, sent: SentCreate) -> None:
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
            note=record.note, description=normalise_text(record.text), section=record.section)
        before = len(self.actions)
        self.pair(record, base, row)
        if len(self.actions) == before:
            # Nothing moved since the create: only the base learns the row.
            self.actions.append(Record(base))


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
) -> Plan:
    """Plan one sync. Pure: the same input gives the same plan.

    ``vault`` maps key -> record for every task in the vault; ``rows`` is the remote snapshot
    (every live row when ``complete``, else only rows edited since the last sync, trashed rows
    included when the remote reports them); ``base`` is the stored agreement.
    ``pending_creates`` are keys whose create was started but not recorded: a row found
    with such a key is our own. ``sent`` holds what such a create sent: the row is then
    planned against it as the agreed base (a change made to the row since is kept); for a
    pending create without it (noted by an older vaultmap) the vault's state wins over the
    row. ``unreadable`` lists notes
    (and ``folder/`` prefixes) the scan could not read: their tasks are missing from ``vault``
    but are not gone, so their rows are left as they are.
    """
    claimed = {e.remote_id for e in base.values() if e.linked}
    if unreadable:
        folders = tuple(p for p in unreadable if p.endswith("/"))
        files = set(unreadable)

        def hidden(entry: BaseEntry) -> bool:
            return entry.note in files or entry.note.startswith(folders)

        base = {k: e for k, e in base.items() if k in vault or not hidden(e)}
    planner = _Planner(policy)
    rows_by_id: dict[str, RemoteRow] = {}
    for row in rows:
        rows_by_id.setdefault(row.remote_id, row)

    # The remote side of every base entry: seen, assumed unchanged, or gone.
    remote_of: dict[str, _RowState | None] = {}
    for key, entry in base.items():
        if not entry.linked:
            continue
        seen_row = rows_by_id.get(entry.remote_id)
        if seen_row is None:
            remote_of[key] = None if complete else _RowState(
                entry.remote_id, entry.remote_status, entry.remote_hash, seen=False)
        elif seen_row.trashed:
            remote_of[key] = None
        else:
            remote_of[key] = _RowState(seen_row.remote_id, seen_row.status,
                                       seen_row.content_hash, seen=True)

    # Live rows no base entry claims, by key (rows made elsewhere, lost creates, duplicates).
    unclaimed: dict[str, list[RemoteRow]] = defaultdict(list)
    no_key: list[RemoteRow] = []
    for row in rows:
        if row.trashed or row.remote_id in claimed or rows_by_id[row.remote_id] is not row:
            continue
        if row.key:
            unclaimed[row.key].append(row)
        else:
            no_key.append(row)

    adopt: dict[str, RemoteRow] = {}
    for key, found in unclaimed.items():
        known = base.get(key)
        if key in vault and (known is None or not known.linked):
            adopt[key] = found[0]
            extra = found[1:]
        else:
            extra = found if key in base or key in vault else found[1:]
        for row in extra:
            planner.notices.append(Notice(
                "duplicate", f"row {row.text!r} carries the key of another row (duplicated "
                f"in {display_name(policy.remote_name)}?); it is left alone: trash the extra "
                "copy",
                key))

    # Re-match keys that vanished with keys that appeared (reworded / moved / renamed).
    appeared = [k for k in vault if k not in base and k not in adopt]
    vanished_entries: dict[str, BaseEntry] = {k: e for k, e in base.items() if k not in vault}
    orphans: dict[str, RemoteRow] = {}
    for key, found in unclaimed.items():
        if key not in vault and key not in base:
            orphans[key] = found[0]
            vanished_entries[key] = BaseEntry(
                key=key, remote_id=found[0].remote_id, vault_status=found[0].status,
                remote_status=found[0].status, vault_hash="",
                remote_hash=found[0].content_hash, note=found[0].note,
                description=normalise_text(found[0].text))
            remote_of[key] = _RowState(found[0].remote_id, found[0].status,
                                       found[0].content_hash, seen=True)
    matches: dict[str, str] = {}
    if appeared and vanished_entries:
        matches = rematch(
            [Candidate(k, e.note, e.section, e.description, e.vault_status)
             for k, e in sorted(vanished_entries.items())],
            [Candidate(k, vault[k].note, vault[k].section, normalise_text(vault[k].text),
                       vault[k].status) for k in appeared])
    matched_old = set(matches.values())

    linked_total = sum(1 for e in base.values() if e.linked)
    vault_lost = remote_lost = 0

    for key in vault:  # the scan order (by note path) keeps plans readable and stable
        record = vault[key]
        old_key = matches.get(key)
        current = base.get(key)
        if old_key is not None:
            old = vanished_entries[old_key]
            moved = replace(old, key=key)
            planner.actions.append(Rekey(None if old_key in orphans else old_key, moved))
            if not old.linked:
                continue  # an unlinked task stays unlinked under its new key
            state = remote_of.get(old_key)
            if state is None:
                remote_lost += 1
                planner.actions.append(Unlink(key, moved.unlinked()))
                planner.notices.append(_unlinked_notice(record, policy.remote_name))
                continue
            planner.pair(record, moved, state)
        elif key in adopt:
            row = adopt[key]
            if current is not None and not current.linked:
                planner.notices.append(Notice(
                    "relinked", f"{record.note}: the row of {record.text!r} is back from the "
                    "trash; syncing again", key))
            found_state = _RowState(row.remote_id, row.status, row.content_hash, seen=True)
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
            continue  # unlinked: never pushed again unless its row comes back
        else:
            state = remote_of[key]
            if state is None:
                remote_lost += 1
                planner.actions.append(Unlink(key, _entry(
                    record, remote_id="", vault_status=record.status, remote_status="",
                    remote_hash="")))
                planner.notices.append(_unlinked_notice(record, policy.remote_name))
            else:
                planner.pair(record, current, state, vault_hash=record.content_hash())

    for key, entry in sorted(base.items()):
        if key in vault or key in matched_old:
            continue
        if not entry.linked:
            planner.actions.append(Forget(key, entry.note, entry.description))
            continue
        vault_lost += 1
        state = remote_of[key]
        if state is None:
            remote_lost += 1
            planner.actions.append(Forget(key, entry.note, entry.description))
            continue
        if state.seen and state.status != entry.remote_status:
            planner.notices.append(Notice(
                "discarded", f"{entry.note}: {entry.description!r} was deleted from the note "
                f"while its row changed to [{state.status}]; the row goes to the trash", key))
        planner.actions.append(TrashRow(key, state.remote_id, entry.note, entry.description))

    for key, row in sorted(orphans.items()):
        if key in matched_old:
            continue
        if key in pending_creates:
            # Our own create whose answer was lost, for a task deleted since.
            vault_lost += 1
            planner.actions.append(TrashRow(key, row.remote_id, row.note,
                                            normalise_text(row.text)))
            continue
        planner.notices.append(Notice(
            "orphan", f"row {row.text!r} ({row.note or 'no note'}) has a key no task in the "
            "vault carries; it is left alone (trash it if its task is gone)", key))

    for row in no_key:
        if policy.inbox:
            planner.actions.append(ImportRow(row, policy.inbox))
        else:
            planner.notices.append(Notice(
                "no-key", f"row {row.text!r} was made in {display_name(policy.remote_name)} "
                "and has no key; set [notion] inbox to bring such rows into a note"))

    live_rows = sum(1 for r in rows if not r.trashed)
    guard = _guard(policy, linked_total=linked_total, vault_size=len(vault),
                   vault_lost=vault_lost, remote_lost=remote_lost,
                   remote_empty=complete and live_rows == 0)
    counts: dict[str, int] = defaultdict(int)
    for action in planner.actions:
        counts[type(action).__name__] += 1
    return Plan(tuple(_ordered(planner.actions)), tuple(planner.notices),
                tuple(planner.conflicts), guard, complete, dict(counts))


def _unlinked_notice(record: TaskRecord, remote_name: str) -> Notice:
    return Notice("unlinked", f"{record.note}: the row of {record.text!r} was trashed in "
                  f"{display_name(remote_name)}; the task stays in the note and is no longer "
                  "synced",
                  record.key)


_PHASE = {Rekey: 0, Record: 0, Forget: 0, Unlink: 0, SetVaultStatus: 1, UpdateRow: 2,
          CreateRow: 3, TrashRow: 4, ImportRow: 5}


def _ordered(actions: list[Action]) -> list[Action]:
    """Base-only actions first, then note edits, then remote writes; stable within a phase.

    A rekey is recorded before its row is rewritten, so a crash in between leaves the base
    pointing at the row under the new key with the old hashes: the next run sees the content
    change and pushes it again.
    """
    return sorted(actions, key=lambda a: _PHASE[type(a)])


def _guard(policy: Policy, *, linked_total: int, vault_size: int, vault_lost: int,
           remote_lost: int, remote_empty: bool) -> str | None:
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
