"""Execute a sync plan: the edge where files, requests and the clock live.

:func:`run_sync` reads the vault and the remote, asks the pure planner what to do, and does it:
note edits through :mod:`vaultmap.edit` (byte-exact, compare-and-swap), row writes through the
:class:`~vaultmap.sync.remote.Remote`. Every success is recorded in the base at once, in its own
transaction, so a sync killed at any point is completed by the next run:

* a create is noted as *pending* before its request goes out, with the status and content it
  sends; if the answer is lost, the next run finds the row (in the snapshot, or by key with
  ``find_by_key`` before creating again), so no row is duplicated, and plans it against what
  was sent, so a change a person made to the row meanwhile is kept;
* an inbox import is noted before the line is appended; the next run finds the line instead of
  appending it twice;
* the time a sync started becomes the next incremental window only when every action of the
  sync succeeded, so a change that could not be applied is read again.

A long-running caller (the daemon) passes its own :class:`VaultSnapshot` (kept in memory,
updated note by note) and the notes that ``changed`` since its last sync that succeeded: the
plan then covers those notes and the notes the remote's rows touch, and only their base
entries are read (see ``Focus`` in :mod:`vaultmap.sync.engine`). It may also skip the read of
rows trashed in the remote on a poll with no change of its own (``read_trashed=False``): one
request instead of two. The window of trashed rows then stays where it was, so the next sync
that reads them (any sync with a change to send, and every full read) misses none.

Usage::

    report = run_sync(settings, remote, dry_run=True)
    for line in report.plan.describe():
        print(line)
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import assert_never

from filelock import FileLock, Timeout

from vaultmap.config import Settings
from vaultmap.edit import StatusChange, append_tasks, set_statuses
from vaultmap.errors import SyncBusyError as SyncBusyError
from vaultmap.errors import SyncGuardError as SyncGuardError
from vaultmap.errors import VaultmapError
from vaultmap.fs import NOT_WRITABLE_ADVICE, UnsafePath
from vaultmap.model import Task, normalise_text
from vaultmap.sync.engine import (
    ACTION_TYPES,
    Action,
    Conflict,
    CreateRow,
    Focus,
    Forget,
    ImportRow,
    Plan,
    Policy,
    Prefer,
    Record,
    Rekey,
    SetVaultStatus,
    TrashRow,
    Unlink,
    UpdateRow,
    close_scope,
    plan_sync,
    scope_notes,
    task_record,
    valid_status_char,
)
from vaultmap.sync.remote import (
    CONTENT_FIELDS,
    AgreedStatus,
    Remote,
    RemoteAuthError,
    RemoteError,
    RemoteGoneError,
    RemoteRow,
    RemoteSchemaError,
    TaskRecord,
    display_name,
)
from vaultmap.sync.state import (
    BaseEntry,
    ConflictRecord,
    OverwriteRecord,
    PendingOp,
    SentCreate,
    StateError,
    StateStore,
)
from vaultmap.sync.turns import StateLock
from vaultmap.vault import ScanResult, read_note, scan_vault
from vaultmap.vault.paths import FolderRules, open_state_folder

log = logging.getLogger("vaultmap.sync")
# A library does not print: without this, Python's last-resort handler would echo every
# warning to stderr next to the CLI's own lines. A daemon's logging setup still gets them.
log.addHandler(logging.NullHandler())

# After this many remote failures in a row the remote is taken to be down for this run.
MAX_FAILURES_IN_A_ROW = 3


@dataclass(frozen=True, slots=True)
class VaultSnapshot:
    """The vault as the planner sees it."""

    records: dict[str, TaskRecord]
    unreadable: tuple[str, ...]  # notes (or "folder/") that could not be read this time
    warnings: tuple[str, ...]
    duplicate_keys: tuple[str, ...] = ()
    # The keys of ``records`` per note, in order: lets a focused sync take a note's tasks
    # without a pass over the whole vault (None: not known, every sync plans everything).
    by_note: Mapping[str, Sequence[str]] | None = None


@dataclass(slots=True)
class SyncReport:
    """What a sync did (or, for a dry run, would do)."""

    plan: Plan
    full: bool
    dry_run: bool
    focused: bool = False  # planned only the changed notes (and those the rows touch)
    done: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # notices and warnings for the user

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """One line: what changed where."""
        if self.dry_run:
            return f"dry run: {len(self.plan.actions)} action(s) planned, nothing changed"
        shown = [kind for kind in ACTION_TYPES if kind not in (Rekey, Record, Forget)]
        shown.sort(key=lambda kind: _SUMMARY_ORDER.index(kind.__name__))
        parts = [f"{self.done[kind.__name__]} {kind.label}" for kind in shown
                 if self.done[kind.__name__]]
        if not parts:
            parts = ["nothing to do"]
        if self.plan.conflicts:
            parts.append(f"{len(self.plan.conflicts)} conflict(s) resolved by policy")
        if self.failures:
            parts.append(f"{len(self.failures)} failed (run sync again)")
        return "synced: " + ", ".join(parts)


# The summary's order: what a person looks for first.
_SUMMARY_ORDER = ("CreateRow", "UpdateRow", "SetVaultStatus", "TrashRow", "Unlink",
                  "ImportRow")
# A callback the CLI draws progress with: (what is happening, done so far, total or None).
Progress = Callable[[str, int, int | None], None]


def policy_of(settings: Settings, remote_name: str = "notion") -> Policy:
    notion = settings.notion
    # Each remote has its own ``prefer``; the engine calls the remote's side "notion".
    chosen = settings.github.prefer if remote_name == "github" else notion.prefer
    prefer: Prefer = "vault" if chosen == "vault" else (
        "notion" if chosen in ("notion", "github") else "done")  # config refuses anything else
    return Policy(prefer=prefer, statuses=settings.statuses,
                  guard_ratio=notion.guard_ratio, guard_min=notion.guard_min,
                  inbox=notion.inbox, remote_name=remote_name)


def read_vault(settings: Settings, *, use_index: bool = True) -> VaultSnapshot:
    """Scan the vault and project every task to a :class:`TaskRecord`, by key."""
    return snapshot_of(settings, scan_vault(settings, use_index=use_index))


def snapshot_of(settings: Settings, scan: ScanResult) -> VaultSnapshot:
    """A scan's tasks as :class:`TaskRecord` by key (the first task of a key wins)."""
    vault_name = Path(settings.root).resolve().name
    records: dict[str, TaskRecord] = {}
    by_note: dict[str, list[str]] = {}
    duplicates: list[str] = []
    for note in scan.notes:
        keys = by_note.setdefault(note.path, [])
        for task in note.tasks:
            record = task_record(task, vault_name=vault_name)
            if task.key in records:
                duplicates.append(duplicate_key_notice(record, records[task.key]))
                continue
            records[task.key] = record
            keys.append(task.key)
    unreadable = tuple(item.path for item in scan.unreadable)
    return VaultSnapshot(records, unreadable, scan.warnings, tuple(duplicates), by_note)


def duplicate_key_notice(record: TaskRecord, first: TaskRecord) -> str:
    """The line for a task whose key an earlier task (in scan order) already has."""
    return (f"{record.note}: {record.text!r} has the same key as a task in {first.note}; "
            "only the first is synced")


def _now() -> datetime:
    return datetime.now(UTC)


class _Runner:
    def __init__(self, settings: Settings, remote: Remote, state: StateStore,
                 vault: VaultSnapshot, report: SyncReport, progress: Progress | None,
                 clock: Callable[[], datetime], *, lookup_creates: bool = False) -> None:
        self.settings = settings
        self.remote = remote
        self.state = state
        self.vault = vault
        self.report = report
        self.progress = progress
        self.clock = clock
        # After a partial read a row may exist unseen: look each key up before creating.
        self.lookup_creates = lookup_creates
        self.failed_keys: set[str] = set()
        self.failures_in_a_row = 0
        self.pending = {(p.op, p.key): p for p in state.pending()}

    # -- bookkeeping -----------------------------------------------------------------------
    def fail(self, key: str, message: str) -> None:
        self.failed_keys.add(key)
        self.report.failures.append(message)
        log.warning("sync: %s", message)

    def remote_call_failed(self, key: str, what: str, error: RemoteError) -> None:
        if isinstance(error, RemoteAuthError | RemoteSchemaError):
            raise error
        self.fail(key, f"{what}: {error}")
        self.failures_in_a_row += 1
        if self.failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
            raise RemoteError(f"{display_name(self.remote.name)} failed "
                              f"{self.failures_in_a_row} "
                              f"times in a row ({error}); the rest is left for the next sync")

    def remote_call_ok(self) -> None:
        self.failures_in_a_row = 0

    def now(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def record_conflicts(self, conflicts: Iterable[Conflict]) -> None:
        at = self.now()
        for conflict in conflicts:
            self.state.add_conflict(conflict.recorded(at))
            if not conflict.vault_status:  # no task carries the row's key (see Conflict)
                log.warning("sync conflict: %s: %r is not in the note and [%s] in %s; the row "
                            "is kept", conflict.note, conflict.description,
                            conflict.remote_status, self.remote.name)
                continue
            log.warning("sync conflict: %s: %r is [%s] in the note and [%s] in %s; kept [%s]",
                        conflict.note, conflict.description, conflict.vault_status,
                        conflict.remote_status, self.remote.name, conflict.kept_status)

    # -- phases ------------------------------------------------------------------------------
    def execute(self, plan: Plan) -> None:
        self.record_conflicts(plan.conflicts)
        local: list[Rekey | Record | Forget | Unlink] = []
        edits: list[SetVaultStatus] = []
        remote: list[UpdateRow | CreateRow | TrashRow | ImportRow] = []
        for action in plan.actions:
            match action:
                case Rekey() | Record() | Forget() | Unlink():
                    local.append(action)
                case SetVaultStatus():
                    edits.append(action)
                case UpdateRow() | CreateRow() | TrashRow() | ImportRow():
                    remote.append(action)
                case _:
                    assert_never(action)
        self.apply_local(local)
        self.apply_edits(edits)
        self.apply_remote(remote)
        self.settle_pending_creates(plan)

    def settle_pending_creates(self, plan: Plan) -> None:
        """A create that was sent for a task deleted before its row was ever seen: find the
        row by key and trash it, so no stray row is left behind."""
        planned = {a.key for a in plan.actions}
        for (op_name, key), op in self.pending.items():
            if op_name != "create" or key in self.vault.records or key in planned:
                continue
            try:
                found = self.remote.find_by_key(key)
                self.remote_call_ok()
                if found is not None:
                    self.remote.trash(found.remote_id)
                    self.remote_call_ok()
            except RemoteError as error:
                self.remote_call_failed(key, f"settle the earlier create of {key}", error)
                continue
            self.state.finish(op)

    def apply_local(self, actions: Sequence[Rekey | Record | Forget | Unlink]) -> None:
        """Base-only actions, in one transaction. Every key that moves is moved at once
        (old keys dropped before new ones are written), so keys may trade places."""
        moves = [(a.old_key, a.entry) for a in actions if isinstance(a, Rekey)]
        with self.state.batch():
            if moves:  # first: a later action on the same key (an unlink) must win
                self.state.move(moves)
            for action in actions:
                match action:
                    case Rekey():
                        pass
                    case Record() | Unlink():
                        self.state.put(action.entry)
                    case Forget():
                        self.state.forget(action.key)
                    case _:
                        assert_never(action)
                self.report.done[type(action).__name__] += 1

    def apply_edits(self, edits: Sequence[SetVaultStatus]) -> None:
        by_note: dict[str, list[SetVaultStatus]] = {}
        for edit in edits:
            by_note.setdefault(edit.note, []).append(edit)
        for note, group in by_note.items():
            changes = [StatusChange(key=e.key, expected=e.expected, new=e.new) for e in group]
            try:
                results = set_statuses(self.settings, Path(note), changes)
            except VaultmapError as error:
                for edit in group:
                    self.fail(edit.key, f"{note}: {error}")
                continue
            applied = {r.key: r for r in results}
            for edit in group:
                result = applied.get(edit.key)
                if result is not None and result.applied:
                    self.state.put(edit.entry)
                    self.report.done["SetVaultStatus"] += 1
                else:
                    reason = result.reason if result is not None else "not applied"
                    self.fail(edit.key, f"{note}: {edit.entry.description!r} not changed "
                              f"({reason}); it is planned again next sync")

    def apply_remote(self, actions: Sequence[UpdateRow | CreateRow | TrashRow | ImportRow]) -> None:
        todo = [a for a in actions if a.key not in self.failed_keys]
        what = f"syncing with {display_name(self.remote.name)}"
        for done, action in enumerate(todo):
            if self.progress is not None:
                self.progress(what, done, len(todo))
            self.apply_one(action)
        if self.progress is not None and todo:
            self.progress(what, len(todo), len(todo))

    def apply_one(self, action: UpdateRow | CreateRow | TrashRow | ImportRow) -> None:
        name = type(action).__name__
        try:
            match action:
                case UpdateRow():
                    if not self.update(action):
                        return
                case CreateRow():
                    self.create(action)
                case TrashRow():
                    self.remote.trash(action.remote_id)
                    self.remote_call_ok()
                    self.state.forget(action.key)
                case ImportRow():
                    if not self.import_row(action):
                        return
                case _:
                    assert_never(action)
        except RemoteError as error:
            self.remote_call_failed(action.key, _what(action), error)
            return
        self.report.done[name] += 1

    def update(self, action: UpdateRow) -> bool:
        """Write a row; record only what was written. False when the row was gone."""
        try:
            row = self.remote.update(action.remote_id, action.record,
                                     content=action.content, status=action.status,
                                     only=action.only)
        except RemoteGoneError:
            # Trashed in the remote since it was read (or read incrementally).
            self.remote_call_ok()
            self.state.put(replace(action.entry, vault_status=action.record.status)
                           .unlinked())
            self.report.done["Unlink"] += 1
            self.report.notes.append(
                f"{action.record.note}: the row of {action.record.text!r} was trashed "
                f"in {display_name(self.remote.name)}; the task stays in the note and is no "
                "longer synced")
            return False
        self.remote_call_ok()
        self.state.put(_written(action, row))
        at = self.now()
        for change in action.overwritten:
            self.state.add_overwrite(OverwriteRecord(
                key=action.key, note=action.record.note,
                description=normalise_text(action.record.text), field=change.field,
                remote_value=change.remote_value, vault_value=change.vault_value, at=at))
        return True

    def create(self, action: CreateRow) -> None:
        record = action.record
        op = PendingOp.for_create(action.key, record.note,
                                  SentCreate(record.status, record.content_hash()))
        earlier = self.pending.get(("create", action.key))
        if earlier is not None or self.lookup_creates:
            # The last run sent this create and did not live to hear the answer, or the read
            # stopped early and the row may be among the rows not read.
            found = self.remote.find_by_key(action.key)
            self.remote_call_ok()
            if found is not None:
                self.adopt_found(action, found, earlier)
                return
        # Noted with what is sent, before it is sent: if the answer is lost, the row found
        # later is planned against this (a change a person makes to it meanwhile is kept).
        self.state.begin(op)
        row = self.remote.create(action.record)
        self.remote_call_ok()
        self.state.put(_remote_side(replace(action.entry, remote_id=row.remote_id), row),
                       done=op)

    def adopt_found(self, action: CreateRow, found: RemoteRow, earlier: PendingOp | None) -> None:
        """Take over a row found by key before creating (an earlier create whose answer was
        lost, or a row a partial read did not reach): plan it as the snapshot would have,
        against what was sent when that is known."""
        policy = policy_of(self.settings, self.remote.name)
        sent = ({action.key: earlier.sent}
                if earlier is not None and earlier.sent is not None else {})
        plan = plan_sync({action.key: action.record}, [found], {}, complete=False,
                         policy=policy,
                         pending_creates={action.key} if earlier is not None else (),
                         sent=sent, stored_form=self.remote.stored_form)
        self.record_conflicts(plan.conflicts)
        self.report.notes.extend(n.message for n in plan.notices)
        self.apply_edits([a for a in plan.actions if isinstance(a, SetVaultStatus)])
        if action.key in self.failed_keys:
            return  # the note changed meanwhile: the next run plans this key again
        for step in plan.actions:
            if isinstance(step, UpdateRow):
                row = self.remote.update(step.remote_id, step.record, content=step.content,
                                         status=step.status, only=step.only)
                self.remote_call_ok()
                self.state.put(_written(step, row))
            elif isinstance(step, Record):
                self.state.put(step.entry)

    def import_row(self, action: ImportRow) -> bool:
        """Append a row made in the remote to the inbox note and give the row its key."""
        row = action.row
        text = _inbox_text(row.text)
        if not text:
            self.report.notes.append(f"row {row.remote_id} has no title; not imported")
            return False
        status = row.status if valid_status_char(row.status) else " "
        op = PendingOp(action.key, "import", row.remote_id, text)
        known = set(self.vault.records) | set(self.state.entries())
        # Noted before the line is written: if the row's key never gets written back, the
        # next run finds the line (resolve_pending_imports) instead of appending it again.
        self.state.begin(op)
        try:
            append_tasks(self.settings, Path(action.inbox), [f"- [{status}] {text}"])
        except VaultmapError as error:
            self.state.finish(op)
            self.fail(action.key, f"{action.inbox}: {error}")
            return False
        task = self._find_imported(action.inbox, text, known)
        if task is None:
            self.fail(action.key, f"{action.inbox}: the task {text!r} for row {row.remote_id} "
                      "was not found after appending it")
            self.state.finish(op)
            return False
        record = task_record(task, vault_name=Path(self.settings.root).resolve().name)
        # The row keeps its status (a person may tick it meanwhile); only the content that
        # makes it ours is written, and the status only when the note could not hold it.
        write_status = status != row.status or not row.settled
        updated = self.remote.update(row.remote_id, record, content=True, status=write_status)
        self.remote_call_ok()
        entry = BaseEntry(key=record.key, remote_id=updated.remote_id,
                          vault_status=record.status,
                          remote_status=updated.status if write_status else row.status,
                          vault_hash=record.content_hash(), remote_hash=updated.content_hash,
                          note=record.note, description=normalise_text(record.text),
                          section=record.section,
                          remote_fields=(updated.status_fields if write_status
                                         else row.status_fields))
        self.state.put(entry, done=op)
        return True

    def _find_imported(self, inbox: str, text: str, known: set[str]) -> Task | None:
        try:
            note, _ = read_note(self.settings, Path(self.settings.root) / inbox)
        except VaultmapError:
            return None
        from vaultmap.parse.fields import parse_task_text

        wanted = normalise_text(parse_task_text(text).description or text)
        found = [t for t in note.tasks if t.key not in known
                 and normalise_text(t.fields.description or t.text) == wanted]
        return found[-1] if found else None


def resolve_pending_imports(settings: Settings, remote: Remote, state: StateStore,
                            vault: VaultSnapshot) -> None:
    """Finish imports a killed sync left half done: the line is in the inbox, but the row
    never got its key. Give the row the key of that line (so neither a second line nor a
    second row appears); when the line never landed, drop the note and import again."""
    from vaultmap.parse.fields import parse_task_text

    ops = [p for p in state.pending() if p.op == "import"]
    if not ops:
        return
    known = set(state.entries())
    for op in ops:
        wanted = normalise_text(parse_task_text(op.detail).description or op.detail)
        found = [r for k, r in vault.records.items()
                 if k not in known and r.note == settings.notion.inbox
                 and normalise_text(r.text) == wanted]
        if not found:
            state.finish(op)
            continue
        record = found[-1]
        entry = BaseEntry(key=record.key, remote_id=op.remote_id, vault_status=record.status,
                          remote_status="", vault_hash=record.content_hash(), remote_hash="",
                          note=record.note, description=normalise_text(record.text),
                          section=record.section)
        try:
            row = remote.update(op.remote_id, record, content=True)
        except RemoteGoneError:
            # Trashed before it got its key: like any row trashed in the remote, the task
            # stays in the note, unlinked (not pushed back as a new row).
            state.put(entry.unlinked(), done=op)
        else:
            state.put(replace(entry, remote_id=row.remote_id, remote_status=row.status,
                              remote_hash=row.content_hash), done=op)
        known.add(record.key)


def check_inbox(settings: Settings) -> None:
    """Refuse an inbox note the vault scan would not read: its imported tasks would look
    deleted at the next sync and their rows would be trashed."""
    import pathspec

    from vaultmap.errors import ConfigError

    inbox = settings.notion.inbox
    parts = Path(inbox).parts
    reason = ""
    if Path(inbox).is_absolute() or ".." in parts or not parts:
        reason = "must be a note path inside the vault, like \"Inbox.md\""
    elif not inbox.lower().endswith(tuple(e.lower() for e in settings.vault.extensions)):
        reason = f"must end with {' or '.join(settings.vault.extensions)}"
    elif (skipped := FolderRules(Path(settings.root)).skipped_part(Path(inbox).as_posix())):
        # The same folder rules as the vault walk: a folder it skips, the inbox may not use.
        hidden = "hidden " if skipped.rsplit("/", 1)[-1].startswith(".") else ""
        reason = f"is in {skipped}/, a {hidden}folder the vault scan skips"
    else:
        spec = pathspec.GitIgnoreSpec.from_lines(
            [p for p in settings.vault.exclude if p.strip()])
        if spec.match_file(Path(inbox).as_posix()):
            reason = "is excluded by [vault] exclude"
    if reason:
        raise ConfigError(f"[notion] inbox = {inbox!r} {reason}; the rows made in Notion were "
                          "not imported")


def _what(action: Action) -> str:
    return action.describe()


def _remote_side(entry: BaseEntry, row: RemoteRow) -> BaseEntry:
    return replace(entry, remote_id=row.remote_id, remote_status=row.status,
                   remote_hash=row.content_hash, remote_fields=row.status_fields)


def _written(action: UpdateRow, row: RemoteRow) -> BaseEntry:
    """The base entry after a row write: the remote side as answered for what was written,
    as read for what was not. A change a person made meanwhile to a field that was not
    written (a tick during a text update) is not taken as agreed: the next sync sees it."""
    entry = replace(action.entry, remote_id=row.remote_id)  # a remote may re-id a row
    if action.status:
        entry = replace(entry, remote_status=row.status, remote_fields=row.status_fields)
    written = set(CONTENT_FIELDS if action.only is None else action.only) \
        if action.content else set()
    # A remote that cannot show a row's fields (GitHub: one checklist line, whose hash may
    # follow its status) is taken at its answer, as is a row whose unwritten fields are as
    # read; otherwise the hash as read stays, and the next sync puts the change back.
    untouched = (action.seen is None or row.fields is None
                 or not (set(action.seen.differing_fields(row.fields)) - written))
    if untouched:
        entry = replace(entry, remote_hash=row.content_hash)
    return entry


def _inbox_text(title: str) -> str:
    """A remote title as the text of one task line: one line, nothing that opens a block.

    ``%%`` (Obsidian comment), ``<!--`` and ``$$`` would hide or swallow the rest of the note
    if left unclosed, so they are backslash-escaped (they still render as typed).
    """
    # Control characters go (a NUL would make the whole note look binary to the scanner).
    text = " ".join("".join(c for c in title if unicodedata.category(c) != "Cc"
                            or c.isspace()).split())
    # Every sign of a run is escaped: escaping pairs would leave "%%" in "%%%".
    text = _HIDING_RUN.sub(lambda run: "".join("\\" + sign for sign in run.group()), text)
    return text.replace("<!--", "\\<!--")


_HIDING_RUN = re.compile(r"%%+|\$\$+")


LOCK_TIMEOUT = 30.0  # seconds a sync waits for another sync of the same vault


def sync_lock(settings: Settings, remote: str) -> FileLock:
    """The lock every sync with ``remote`` holds (``.vaultmap/sync-<remote>.lock``)."""
    return _lock(settings, remote)


def _lock(settings: Settings, remote: str) -> FileLock:
    name = f"sync-{remote}.lock"
    try:
        # The lock is opened with truncation: never through a link planted in its place.
        folder = open_state_folder(settings.state_dir, (name,))
    except UnsafePath as unsafe:
        raise StateError(f"{unsafe.reason}; nothing was written") from None
    except OSError as exc:
        raise StateError(f"{settings.state_dir}: cannot create the state folder "
                         f"({exc.strerror}); {NOT_WRITABLE_ADVICE}") from None
    return StateLock(str(folder / name))


def _cached_for(state: StateStore, target: str) -> dict[str, str]:
    """What the remote asked to keep for ``target``, stored as ``<name>:<target>`` metadata."""
    if not target:
        return {}
    suffix = f":{target}"
    return {name[: -len(suffix)]: value for name, value in state.meta().items()
            if name.endswith(suffix) and len(name) > len(suffix)}


def _bind_remote_lazily(remote: Remote, state: StateStore) -> None:
    """:func:`_bind_remote` for a focused sync: each row read looks its entry up by id (an
    incremental read holds a few rows; the whole base is not read)."""
    def agreed(remote_id: str) -> AgreedStatus | None:
        found = state.agreed_of(remote_id)
        return None if found is None else AgreedStatus(*found)

    remote.bind(agreed, _cached_for(state, remote.target))


def _bind_remote(remote: Remote, state: StateStore, base: dict[str, BaseEntry]) -> None:
    """Share what the base knows with the remote (Notion: the agreed status and status
    fields per row tell which of Done / Status a person changed; a cached data source id
    saves one request per sync)."""
    by_id = {e.remote_id: AgreedStatus(e.remote_status, e.remote_fields)
             for e in base.values() if e.linked}
    remote.bind(by_id.get, _cached_for(state, remote.target))


def _remember_remote(remote: Remote, state: StateStore) -> None:
    """Keep what the remote wants cached for its target until the next sync."""
    target = remote.target
    if not target:
        return
    known = state.meta()
    changed = {f"{name}:{target}": value for name, value in remote.cache().items()
               if value and known.get(f"{name}:{target}") != value}
    if changed:
        state.set_meta(**changed)


def _check_database(remote: Remote, state: StateStore, *, dry_run: bool) -> str:
    """Forget the base when the remote now points at another database than it was made
    with (a `notion link` to a new database): its rows are not the ones the base knows.
    Returns a note for the user; a dry run only says what would happen."""
    database = remote.target
    if not database:
        return ""
    known = state.meta().get("database")
    if known == database:
        return ""
    note = ""
    if known and state.entries():
        if dry_run:
            return (f"the {remote.name} database changed; a sync will drop the old sync "
                    "state and match tasks to rows by key")
        state.clear()
        note = (f"the {remote.name} database changed; the sync state of the old one was "
                "dropped and this sync starts afresh (tasks are matched to rows by key)")
    if not dry_run:
        state.set_meta(database=database)
    return note


@dataclass(frozen=True, slots=True)
class Planned:
    """A plan with what was learned while reading the remote."""

    plan: Plan
    complete: bool  # the remote was read in full
    requests: int
    started_at: datetime
    notes: tuple[str, ...]
    partial: bool = False  # reading stopped early: plan like an incremental read
    focused: bool = False  # only the changed notes (and those the rows touch) were planned
    trashed_read: bool = True  # the rows trashed since the trash window were read (or all)


_TRASH_START = "trash_start"  # meta: the start of the last sync that read the trashed rows


def plan_for(settings: Settings, remote: Remote, state: StateStore, vault: VaultSnapshot,
             *, full: bool, fresh: bool = False, dry_run: bool = False,
             changed: Collection[str] | None = None, read_trashed: bool = True,
             periodic_full: bool = True) -> Planned:
    """Read the remote (incrementally when allowed: not ``full``, not every Nth sync, not a
    fresh base) and plan against the base (an empty one when ``fresh``).

    ``changed`` (with ``vault.by_note``) asks for a focused plan of those notes; it is made
    whenever the read is incremental, else every key is planned. ``read_trashed=False``
    skips the read of rows trashed in the remote (see the module docstring);
    ``periodic_full=False`` leaves out the read of everything every ``full_every`` syncs (a
    daemon, which polls every few seconds, asks for ``full`` on its own schedule)."""
    every = settings.notion.full_every
    last = state.last_sync_start
    full = (full or fresh or last is None or not state.has_entries()
            or (periodic_full and every > 0 and (state.sync_count + 1) % every == 0))
    # A folder that could not be listed hides notes by a prefix the base cannot be read by
    # (a full plan sets their entries aside): plan everything while it lasts.
    focused = (changed is not None and vault.by_note is not None and not full
               and not any(path.endswith("/") for path in vault.unreadable))
    base: dict[str, BaseEntry] = {} if fresh or focused else state.entries()
    # The previous start as is: the remote knows how coarse its edit times are and looks
    # back that far itself (Notion rounds them to the minute).
    since = None if full or last is None else last
    trashed = since is not None and read_trashed
    trash_start = _trash_start(state)
    if trashed and since is not None and trash_start is not None and trash_start < since:
        since = trash_start  # trashed rows since the last read of them (live rows overlap)
    if focused:
        _bind_remote_lazily(remote, state)
    else:
        _bind_remote(remote, state, base)
    snapshot = remote.snapshot(since, include_trashed=trashed)
    if not dry_run:
        _remember_remote(remote, state)
    creates = [p for p in state.pending() if p.op == "create"]
    sent = {p.key: p.sent for p in creates if p.sent is not None}
    complete = snapshot.complete and not snapshot.partial
    policy = policy_of(settings, remote.name)
    records: Mapping[str, TaskRecord] = vault.records
    focus: Focus | None = None
    if focused and complete:  # a remote that always reads everything: plan everything
        focused, base = False, state.entries()
    if focused:
        assert changed is not None and vault.by_note is not None
        rows = snapshot.rows
        pending = {p.key for p in creates}
        near = state.entries_for(keys={r.key for r in rows if r.key} | pending,
                                 remote_ids={r.remote_id for r in rows})
        # An unreadable note's entries are set aside by the plan, and the guard counts
        # without them (as a full plan does): they are read, so the plan knows them.
        notes = scope_notes({*changed, *vault.unreadable}, rows, near, vault.records,
                            pending_creates=pending, inbox=policy.inbox)
        notes, base = _read_scope(state, vault, notes, near)
        records = {key: vault.records[key] for note in sorted(notes)
                   for key in vault.by_note.get(note, ())}
        focus = Focus(notes, linked_total=state.linked_count(),
                      vault_size=len(vault.records))
    plan = plan_sync(records, snapshot.rows, base, complete=complete, policy=policy,
                     pending_creates={p.key for p in creates}, sent=sent,
                     unreadable=vault.unreadable, stored_form=remote.stored_form,
                     kept={c.key for c in state.conflicts() if not c.vault_status},
                     held=snapshot.held, focus=focus)
    return Planned(plan, complete, snapshot.requests, snapshot.started_at, snapshot.notes,
                   snapshot.partial, focused, trashed or since is None)


def _read_scope(state: StateStore, vault: VaultSnapshot, notes: frozenset[str],
                base: dict[str, BaseEntry]) -> tuple[frozenset[str], dict[str, BaseEntry]]:
    """The base entries a focused plan of ``notes`` needs, and the notes it must take in
    with them (:func:`~vaultmap.sync.engine.close_scope`): the entries of the notes, and of
    the keys of their tasks that are not among those (new tasks, or tasks whose entry names
    another note). Usually one read of the notes and one of a few keys; a key shared with
    another note widens the scope and reads that note too."""
    assert vault.by_note is not None
    base = dict(base)
    read: set[str] = set()
    while True:
        fresh = notes - read
        base |= state.entries_for(notes=fresh)
        read |= fresh
        keys = {key for note in fresh for key in vault.by_note.get(note, ())}
        base |= state.entries_for(keys=keys - base.keys())
        wider = close_scope(notes, base, vault.records)
        if wider == notes:
            return notes, base
        notes = wider


def _trash_start(state: StateStore) -> datetime | None:
    """Since when the trashed rows are unread (None: as long as the live rows; a base from
    before this was kept always read both)."""
    return state.meta_time(_TRASH_START)


def run_sync(
    settings: Settings,
    remote: Remote,
    *,
    dry_run: bool = False,
    full: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = _now,
    lock_timeout: float = LOCK_TIMEOUT,
    select: Callable[[TaskRecord], bool] | None = None,
    vault: VaultSnapshot | None = None,
    changed: Collection[str] | None = None,
    read_trashed: bool = True,
    periodic_full: bool = True,
) -> SyncReport:
    """Sync the vault with ``remote`` once; see the module docstring for the guarantees.

    Raises :class:`SyncGuardError` when the plan trips the guard and ``force`` is False,
    :class:`SyncBusyError` when another sync of the same vault holds the lock, and the
    remote's :class:`~vaultmap.sync.remote.RemoteError` family when it cannot be reached.
    ``progress(what, done, total)`` is called as row writes go out (the CLI draws a bar;
    ``total`` None: a wait, said at once). ``select`` keeps only the tasks a remote mirrors
    (GitHub: the published checklists and the tasks naming an issue); the others are not
    part of this remote's sync at all.

    ``vault`` is the caller's snapshot of the vault (else the vault is scanned);
    ``changed`` the notes changed since the caller's last sync that ended without a
    failure: only those are planned (plus the notes the remote's rows touch; a full read
    plans everything); ``read_trashed=False``: an idle poll, rows trashed in the remote
    are read at a later sync (see the module docstring); ``periodic_full=False``: no
    full read every ``[notion] full_every`` syncs (the caller asks for ``full`` itself).
    """
    if dry_run:
        # "Change nothing anywhere": no lock, state file or index is created; an existing
        # state is read, else the plan starts from an empty base in memory.
        with StateStore.open_existing(settings.state_dir, remote.name, read_only=True) as state:
            return _run_locked(settings, remote, state, dry_run=True, full=full, force=force,
                               progress=progress, clock=clock, select=select, vault=vault)
    lock = _lock(settings, remote.name)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            # Say at once why nothing happens yet, then wait for the other sync.
            if progress is not None:
                progress("waiting for another vaultmap sync of this vault to finish", 0, None)
            log.info("sync: waiting up to %gs for another sync of this vault", lock_timeout)
            lock.acquire(timeout=lock_timeout)
    except Timeout:
        raise SyncBusyError("another vaultmap sync of this vault is running; try again when "
                            "it has finished") from None
    try:
        with StateStore.open(settings.state_dir, remote.name) as state:
            return _run_locked(settings, remote, state, dry_run=dry_run, full=full,
                               force=force, progress=progress, clock=clock, select=select,
                               vault=vault, changed=changed, read_trashed=read_trashed,
                               periodic_full=periodic_full)
    finally:
        lock.release()


def _run_locked(settings: Settings, remote: Remote, state: StateStore, *, dry_run: bool,
                full: bool, force: bool, progress: Progress | None,
                clock: Callable[[], datetime],
                select: Callable[[TaskRecord], bool] | None = None,
                vault: VaultSnapshot | None = None, changed: Collection[str] | None = None,
                read_trashed: bool = True, periodic_full: bool = True) -> SyncReport:
    if vault is None:
        vault = read_vault(settings, use_index=not dry_run)
    if select is not None:
        vault = replace(vault, records={k: r for k, r in vault.records.items() if select(r)},
                        by_note=None)
    changed_database = _check_database(remote, state, dry_run=dry_run)
    if not dry_run:
        resolve_pending_imports(settings, remote, state, vault)
    planned = plan_for(settings, remote, state, vault, full=full,
                       fresh=dry_run and bool(changed_database), dry_run=dry_run,
                       changed=None if changed_database else changed,
                       read_trashed=read_trashed, periodic_full=periodic_full)
    plan = planned.plan
    report = SyncReport(plan=plan, full=planned.complete, dry_run=dry_run,
                        focused=planned.focused)
    report.notes.extend(state.notes)
    report.notes.extend(planned.notes)
    if changed_database:
        report.notes.append(changed_database)
    report.notes.extend(vault.duplicate_keys)
    report.notes.extend(n.message for n in plan.notices)
    if plan.guard and not force:
        if dry_run:
            report.notes.append(f"guard: {plan.guard}")
            return report
        raise SyncGuardError(f"sync stopped: {plan.guard}")
    if dry_run:
        return report
    if settings.notion.inbox and any(isinstance(a, ImportRow) for a in plan.actions):
        check_inbox(settings)
    runner = _Runner(settings, remote, state, vault, report, progress, clock,
                     lookup_creates=planned.partial)
    runner.execute(plan)
    if report.ok and not planned.partial:
        # Only a sync that finished everything may narrow the next incremental read.
        with state.batch():  # one commit
            state.finish_sync(planned.started_at)
            if planned.trashed_read:
                state.set_meta(**{_TRASH_START: planned.started_at.isoformat()})
    return report


def describe_conflicts(conflicts: Iterable[ConflictRecord], remote: str) -> list[str]:
    """Lines for ``vaultmap status``."""
    lines = []
    for c in conflicts:
        if not c.vault_status:
            lines.append(f"{c.at}  {c.note}: {c.description!r} was deleted from the note while "
                         f"its row changed to [{c.remote_status}] in {remote}; the row was kept"
                         " (trash it there, or put the task back)")
            continue
        kept = "note" if c.chosen == "vault" else remote
        lines.append(f"{c.at}  {c.note}: {c.description!r} was [{c.vault_status}] in the note "
                     f"and [{c.remote_status}] in {remote}; kept the {kept} "
                     f"([{c.kept_status}])")
    return lines


def describe_overwrites(overwrites: Iterable[OverwriteRecord], remote: str) -> list[str]:
    """Lines for ``vaultmap status``: one per field a person changed in the remote that a
    sync put back from the note."""
    return [f"{o.at}  {o.note}: {o.description!r}: {o.field} was changed in {remote} to "
            f"{o.remote_value!r}; put back from the note ({o.vault_value!r})"
            for o in overwrites]
