"""The sync base: what both sides agreed on at the last sync, per remote, per task key.

One SQLite file per vault, ``<vault>/.vaultmap/sync.sqlite`` (WAL mode), holds a base for each
remote (``remote`` column). Every write is its own transaction, so a sync killed at any point
leaves a base that is true for every action that finished; the next run completes the rest
(docs/architecture.md). The file is a cache of agreement, never the only copy of anything: the
remote rows carry the task key, so a base that is lost, corrupt or of an unknown older schema is
rebuilt empty and refilled by matching keys on the next (full) sync.

Usage::

    with StateStore.open(settings.state_dir, "notion") as state:
        base = state.entries()
        state.put(entry)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from vaultmap.errors import StateError as StateError
from vaultmap.fs import NOT_WRITABLE_ADVICE, UnsafePath, connect_read_only, is_access_problem
from vaultmap.sync.base import (
    BaseEntry,
    ConflictRecord,
    OverwriteRecord,
    PendingOp,
    SentCreate,
)
from vaultmap.vault.paths import open_state_folder

__all__ = ["BaseEntry", "ConflictRecord", "OverwriteRecord", "PendingOp", "SentCreate",
           "StateError", "StateStore", "transaction"]

SCHEMA_VERSION = 2
STATE_FILE = "sync.sqlite"


# The state file and the files SQLite keeps next to it.
_STATE_FILES = (STATE_FILE, STATE_FILE + "-wal", STATE_FILE + "-shm", STATE_FILE + "-journal")
# SQLITE_CORRUPT and SQLITE_NOTADB: the only answers that prove a file damaged; only such a
# file is moved aside.
_PROVEN_DAMAGED = frozenset({11, 26})


def _check_access(path: Path) -> None:
    """Refuse, with one line and the file left in place, a state file we may not read and
    write (another user's, or read-only): SQLite would call it unopenable, not damaged."""
    for name in _STATE_FILES:
        member = path.with_name(name)
        try:
            fd = os.open(member, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StateError(f"{member}: cannot open the sync state ({exc.strerror}); it was "
                             f"left as it is and {NOT_WRITABLE_ADVICE}") from None
        os.close(fd)




_SCHEMA = """
CREATE TABLE base (
    remote TEXT NOT NULL, key TEXT NOT NULL, remote_id TEXT NOT NULL,
    vault_status TEXT NOT NULL, remote_status TEXT NOT NULL,
    vault_hash TEXT NOT NULL, remote_hash TEXT NOT NULL,
    note TEXT NOT NULL, description TEXT NOT NULL, section TEXT NOT NULL,
    remote_fields TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (remote, key)
);
CREATE INDEX base_by_remote_id ON base (remote, remote_id);
CREATE TABLE meta (remote TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
                   PRIMARY KEY (remote, name));
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY, remote TEXT NOT NULL, key TEXT NOT NULL, note TEXT NOT NULL,
    description TEXT NOT NULL, vault_status TEXT NOT NULL, remote_status TEXT NOT NULL,
    chosen TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE pending (remote TEXT NOT NULL, key TEXT NOT NULL, op TEXT NOT NULL,
                      remote_id TEXT NOT NULL, detail TEXT NOT NULL,
                      PRIMARY KEY (remote, key, op));
CREATE TABLE overwrites (
    id INTEGER PRIMARY KEY, remote TEXT NOT NULL, key TEXT NOT NULL, note TEXT NOT NULL,
    description TEXT NOT NULL, field TEXT NOT NULL, remote_value TEXT NOT NULL,
    vault_value TEXT NOT NULL, at TEXT NOT NULL
);
"""
# Schema 1 -> 2: the row's status fields per entry, and the overwritten remote edits.
_MIGRATE_1_TO_2 = """
ALTER TABLE base ADD COLUMN remote_fields TEXT NOT NULL DEFAULT '';
CREATE TABLE overwrites (
    id INTEGER PRIMARY KEY, remote TEXT NOT NULL, key TEXT NOT NULL, note TEXT NOT NULL,
    description TEXT NOT NULL, field TEXT NOT NULL, remote_value TEXT NOT NULL,
    vault_value TEXT NOT NULL, at TEXT NOT NULL
);
"""
_TABLES = ("base", "meta", "conflicts", "pending", "overwrites")


class StateStore:
    """The base of one remote inside a vault's state file. Not thread-safe; one per process."""

    def __init__(self, connection: sqlite3.Connection, remote: str, path: Path,
                 notes: tuple[str, ...] = ()) -> None:
        self._db = connection
        self._batch = False
        self.remote = remote
        self.path = path
        self.notes = notes  # what happened while opening (a rebuilt base), for the user

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, state_dir: Path, remote: str) -> StateStore:
        """Open (creating, migrating or rebuilding) the state file in ``state_dir``."""
        try:
            # Never through a link: a cloned vault cannot point our state files elsewhere.
            state_dir = open_state_folder(state_dir, _STATE_FILES)
        except UnsafePath as unsafe:
            raise StateError(f"{unsafe.reason}; nothing was written") from None
        except OSError as exc:
            raise StateError(f"{state_dir}: cannot create the state folder ({exc.strerror}); "
                             f"{NOT_WRITABLE_ADVICE}") from None
        path = state_dir / STATE_FILE
        _check_access(path)
        notes: list[str] = []
        db: sqlite3.Connection | None = None
        try:
            db = cls._connect(path)
            rebuilt = cls._prepare(db)
        except StateError:
            if db is not None:
                db.close()
            raise
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            if getattr(exc, "sqlite_errorcode", None) not in _PROVEN_DAMAGED:
                # Locked, read-only, no permission, disk full ...: the file may be healthy and
                # is left exactly where it is.
                advice = "it was left as it is" + (
                    f" and {NOT_WRITABLE_ADVICE}" if is_access_problem(exc) else "")
                raise StateError(f"{path}: cannot open the sync state ({exc}); {advice}") \
                    from None
            # A damaged file holds nothing the remote does not also hold (rows carry keys):
            # keep it aside for inspection and start a fresh base.
            aside = path.with_name(path.name + ".damaged")
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(path) + suffix)
                if src.exists():
                    src.replace(Path(str(aside) + suffix))
            notes.append(f"the sync state {path.name} was damaged; it was moved to "
                         f"{aside.name} and is rebuilt from the remote")
            try:
                db = cls._connect(path)
                rebuilt = cls._prepare(db)
            except sqlite3.DatabaseError as exc:
                raise StateError(f"{path}: cannot open the sync state ({exc})") from None
        if rebuilt:
            notes.append(rebuilt)
        return cls(db, remote, path, tuple(notes))

    @classmethod
    def in_memory(cls, remote: str) -> StateStore:
        """An empty base held in memory: a dry run without a state file creates none."""
        db = sqlite3.connect(":memory:", isolation_level=None)
        cls._prepare(db)
        return cls(db, remote, Path(":memory:"))

    @classmethod
    def open_existing(cls, state_dir: Path, remote: str, *,
                      read_only: bool = False) -> StateStore:
        """:meth:`open` when the state file exists, else :meth:`in_memory` (nothing created).

        ``read_only`` (a dry run, ``vaultmap status``): the file is only read, never created,
        migrated or moved, so this works in a vault we may not write; a file of another
        schema reads as an empty base, one SQLite cannot read as an empty base with a note
        (the next sync deals with both)."""
        path = state_dir / STATE_FILE
        if not path.exists():
            return cls.in_memory(remote)
        if not read_only:
            return cls.open(state_dir, remote)
        try:
            open_state_folder(state_dir, _STATE_FILES, create=False)
        except UnsafePath as unsafe:
            raise StateError(f"{unsafe.reason}; nothing was read") from None
        try:
            db = connect_read_only(path)
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            if is_access_problem(exc):
                raise StateError(f"{path}: cannot read the sync state ({exc}); make it "
                                 "readable for you (or run vaultmap as its owner)") from None
            store = cls.in_memory(remote)
            store.notes = (f"the sync state {path.name} cannot be read ({exc}); the next "
                           "sync sets it aside and rebuilds it from the remote",)
            return store
        if version != SCHEMA_VERSION:
            db.close()
            return cls.in_memory(remote)
        return cls(db, remote, path)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> str:
        """Create or upgrade the schema; returns a note when an old base had to be dropped."""
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version == SCHEMA_VERSION:
            _ensure_note_index(db)
            return ""
        if version > SCHEMA_VERSION:
            raise StateError("the sync state was written by a newer vaultmap (schema "
                             f"{version}); upgrade vaultmap or delete .vaultmap/{STATE_FILE}")
        note = ""
        with transaction(db):
            # Read again under the write lock: another process may have just created it.
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version == SCHEMA_VERSION:
                return ""
            present = {row[0] for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")
                if not row[0].startswith("sqlite_")}
            if version == 1 and "overwrites" not in present:
                for statement in _MIGRATE_1_TO_2.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(_NOTE_INDEX)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                return ""
            if version > 0 or present & set(_TABLES):
                # No migration path from a pre-release schema: the rows carry the keys, so
                # the base is rebuilt by the next sync instead.
                for table in present:
                    db.execute(f'DROP TABLE IF EXISTS "{table}"')
                note = (f"the sync state had an old format (schema {version}); it was reset "
                        "and is rebuilt from the remote")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(_NOTE_INDEX)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return note

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes in one transaction (for base-only updates, which touch nothing else:
        all or none of them landing is as good as one by one, and far faster)."""
        if self._batch:
            yield
            return
        with transaction(self._db):
            self._batch = True
            try:
                yield
            finally:
                self._batch = False

    def _tx(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if self._batch else transaction(self._db)

    # -- base ------------------------------------------------------------------------------
    def entries(self) -> dict[str, BaseEntry]:
        """Every entry of this remote's base, by key."""
        rows = self._rows(f"SELECT {_ENTRY_COLUMNS} FROM base WHERE remote=?", (self.remote,))
        return {entry.key: entry for entry in self._checked(_entry_of, rows, "a base entry")}

    def _damaged(self, what: str) -> StateError:
        """A file SQLite reads but whose rows vaultmap did not write as they are: one line."""
        return StateError(f"{self.path}: {what} does not read back as vaultmap wrote it; move "
                          "the file aside and run `vaultmap sync` again (the base is rebuilt "
                          "from the remote)")

    def _exec(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        """``sql`` run with ``params`` bound as :func:`storable` makes them."""
        return self._db.execute(sql, tuple(storable(value) for value in params))

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Every row of a query; a table of another shape (a file of the current schema
        version that vaultmap did not write: a column missing) or a page SQLite finds damaged
        only now is one line (exit 12), never a traceback."""
        try:
            return [tuple(loaded(value) for value in row)
                    for row in self._exec(sql, params).fetchall()]
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{self.path}: cannot read the sync state ({exc}); move the file "
                             "aside and run `vaultmap sync` again (the base is rebuilt from "
                             "the remote)") from None

    def _checked(self, build: Callable[[Sequence[Any]], _Value], rows: Iterable[Sequence[Any]],
                 what: str) -> list[_Value]:
        """``build`` applied to every row; a value of the wrong type or out of range (see
        :func:`_entry_of`) is :meth:`_damaged`, naming the column."""
        try:
            return [build(row) for row in rows]
        except _BadValue as bad:
            raise self._damaged(f"{what} ({bad})") from None

    def entries_for(self, *, keys: Iterable[str] = (), remote_ids: Iterable[str] = (),
                    notes: Iterable[str] = ()) -> dict[str, BaseEntry]:
        """The entries with one of ``keys``, one of ``remote_ids`` or in one of ``notes``:
        what a focused plan needs, without reading the whole base."""
        found: dict[str, BaseEntry] = {}
        for column, values in (("key", keys), ("remote_id", remote_ids), ("note", notes)):
            wanted = sorted({v for v in values if v})
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                rows = self._rows(
                    f"SELECT {_ENTRY_COLUMNS} FROM base WHERE remote=? AND {column} IN "
                    f"({','.join('?' * len(chunk))})", (self.remote, *chunk))
                found.update((e.key, e) for e in self._checked(_entry_of, rows, "a base entry"))
        return found

    def agreed_of(self, remote_id: str) -> tuple[str, str] | None:
        """``(remote_status, remote_fields)`` of the linked entry of the row ``remote_id``
        (one indexed look-up), or None when no entry links it."""
        rows = self._rows(
            "SELECT remote_status, remote_fields FROM base WHERE remote=? AND remote_id=? "
            "AND remote_id != '' LIMIT 1", (self.remote, remote_id))

        def agreed(row: Sequence[Any]) -> tuple[str, str]:
            return _status(row[0], "remote_status"), _text(row[1], "remote_fields")

        found = self._checked(agreed, rows, "a base entry")
        return found[0] if found else None

    def has_entries(self) -> bool:
        """Whether this remote's base holds any entry (an index look-up, no count)."""
        return bool(self._rows("SELECT 1 FROM base WHERE remote=? LIMIT 1", (self.remote,)))

    def linked_count(self) -> int:
        """How many entries have a row (the guard's denominator); counted in the index of
        row ids alone, no table row is read."""
        rows = self._rows("SELECT COUNT(*) FROM base WHERE remote=? AND remote_id > ''",
                          (self.remote,))
        return int(rows[0][0])

    def put(self, entry: BaseEntry, *, drop_key: str | None = None,
            done: PendingOp | None = None) -> None:
        """Record one entry (one transaction); optionally drop a replaced key and a pending op."""
        with self._tx():
            if drop_key is not None and drop_key != entry.key:
                self._exec("DELETE FROM base WHERE remote=? AND key=?",
                                 (self.remote, drop_key))
            self._insert(entry)
            if done is not None:
                self._delete_pending(done)
            if entry.linked:
                # The key has its row now: any create started for it is settled.
                self._delete_pending(PendingOp(entry.key, "create", "", ""))

    def _insert(self, entry: BaseEntry) -> None:
        self._exec(
            "INSERT OR REPLACE INTO base (remote, key, remote_id, vault_status, remote_status,"
            " vault_hash, remote_hash, note, description, section, remote_fields)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (self.remote, entry.key, entry.remote_id, entry.vault_status,
             entry.remote_status, entry.vault_hash, entry.remote_hash, entry.note,
             entry.description, json.dumps(list(entry.section), ensure_ascii=False),
             entry.remote_fields))

    def move(self, moves: Sequence[tuple[str | None, BaseEntry]]) -> None:
        """Move entries to new keys in one transaction: every old key is dropped before any
        new one is written, so keys may trade places (two identical tasks reordered)."""
        with self._tx():
            for old_key, _ in moves:
                if old_key is not None:
                    self._exec("DELETE FROM base WHERE remote=? AND key=?",
                                     (self.remote, old_key))
            for _, entry in moves:
                self._insert(entry)
                if entry.linked:
                    self._delete_pending(PendingOp(entry.key, "create", "", ""))

    def forget(self, key: str) -> None:
        """Drop a key from the base (its task and its row are both gone)."""
        with self._tx():
            self._exec("DELETE FROM base WHERE remote=? AND key=?", (self.remote, key))
            self._delete_pending(PendingOp(key, "create", "", ""))

    def clear(self) -> None:
        """Drop this remote's whole base (used when the remote database changes)."""
        with transaction(self._db):
            for table in _TABLES:
                self._exec(f"DELETE FROM {table} WHERE remote=?", (self.remote,))

    # -- pending operations ------------------------------------------------------------
    def begin(self, op: PendingOp) -> None:
        """Note that ``op`` is about to run, before its request is sent."""
        with self._tx():
            self._exec("INSERT OR REPLACE INTO pending VALUES (?,?,?,?,?)",
                             (self.remote, op.key, op.op, op.remote_id, op.detail))

    def finish(self, op: PendingOp) -> None:
        with self._tx():
            self._delete_pending(op)

    def _delete_pending(self, op: PendingOp) -> None:
        self._exec("DELETE FROM pending WHERE remote=? AND key=? AND op=?",
                         (self.remote, op.key, op.op))

    def pending(self) -> list[PendingOp]:
        rows = self._rows(
            "SELECT key, op, remote_id, detail FROM pending WHERE remote=? ORDER BY key",
            (self.remote,))
        return self._checked(_pending_of, rows, "a started change")

    # -- what a sync decided on its own and the user should see (conflicts, overwrites) ---
    def _log(self, table: str, record: ConflictRecord | OverwriteRecord) -> None:
        """Append ``record`` to ``table``, whose columns are the record's fields."""
        names = [f.name for f in dataclasses.fields(record)]
        with self._tx():
            self._exec(
                f"INSERT INTO {table} (remote, {', '.join(names)}) VALUES "
                f"({','.join('?' * (len(names) + 1))})",
                (self.remote, *(getattr(record, name) for name in names)))

    def _logged(self, table: str, kind: type[Any], build: Callable[[Sequence[Any]], _Value],
                what: str) -> list[_Value]:
        """The records of ``table`` (columns: the fields of ``kind``), oldest first."""
        names = ", ".join(f.name for f in dataclasses.fields(kind))
        rows = self._rows(f"SELECT {names} FROM {table} WHERE remote=? ORDER BY id",
                          (self.remote,))
        return self._checked(build, rows, what)

    def add_conflict(self, conflict: ConflictRecord) -> None:
        self._log("conflicts", conflict)

    def conflicts(self) -> list[ConflictRecord]:
        """Conflicts not yet acknowledged, oldest first."""
        return self._logged("conflicts", ConflictRecord, _conflict_of, "a recorded conflict")

    def clear_conflicts(self) -> int:
        """Acknowledge every listed conflict and overwritten remote edit; returns how many
        there were."""
        with transaction(self._db):
            cursor = self._exec("DELETE FROM conflicts WHERE remote=?", (self.remote,))
            count = cursor.rowcount
            cursor = self._exec("DELETE FROM overwrites WHERE remote=?", (self.remote,))
        return count + cursor.rowcount

    def add_overwrite(self, overwrite: OverwriteRecord) -> None:
        self._log("overwrites", overwrite)

    def overwrites(self) -> list[OverwriteRecord]:
        """Remote edits put back from the note and not yet acknowledged, oldest first."""
        return self._logged("overwrites", OverwriteRecord, _overwrite_of,
                            "a recorded overwrite")

    # -- sync metadata ---------------------------------------------------------------------
    def meta(self) -> Mapping[str, str]:
        """The remote's metadata (names and values are text, checked on read)."""
        rows = self._rows("SELECT name, value FROM meta WHERE remote=?", (self.remote,))

        def pair(row: Sequence[Any]) -> tuple[str, str]:
            return _text(row[0], "name", short=True), _text(row[1], "value", short=True)

        return dict(self._checked(pair, rows, "the sync metadata"))

    def meta_time(self, name: str) -> datetime | None:
        """The time kept as metadata ``name`` (None when absent). A time that does not parse
        or has no time zone is :meth:`_damaged` (one line, exit 12). A time in the future (a
        clock that was wrong) is ignored with a note: an incremental read from then would
        miss every change, and without it the sync reads everything, which is always safe."""
        value = self.meta().get(name)
        if not value:
            return None
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise self._damaged(f"the time kept as {name!r}")
        if when > datetime.now(UTC) + _CLOCK_SLACK:
            note = (f"the sync state says a sync started at {value}, in the future (a clock "
                    "that was wrong?); this sync reads everything instead of what changed")
            if note not in self.notes:
                self.notes = (*self.notes, note)
            return None
        return when

    def set_meta(self, **values: str) -> None:
        with self._tx():
            for name, value in values.items():
                self._exec("INSERT OR REPLACE INTO meta VALUES (?,?,?)",
                                 (self.remote, name, value))

    @property
    def last_sync_start(self) -> datetime | None:
        """When the last *completed* sync started (its snapshot time)."""
        try:
            return self.meta_time("last_start")
        except StateError:
            raise self._damaged("the time of the last sync") from None

    @property
    def sync_count(self) -> int:
        """How many syncs completed (a whole number from 0 up, in decimal digits)."""
        value = self.meta().get("count", "0")
        if not _COUNT.fullmatch(value):
            raise self._damaged("the count of syncs")
        return int(value)

    def finish_sync(self, started_at: datetime) -> None:
        """Mark a sync complete: later syncs may read only what changed since ``started_at``."""
        self.set_meta(last_start=started_at.isoformat(), count=str(self.sync_count + 1))


# The entries of a note, for a focused sync (added to files made before it, at open).
_NOTE_INDEX = "CREATE INDEX IF NOT EXISTS base_by_note ON base (remote, note)"


def _ensure_note_index(db: sqlite3.Connection) -> None:
    if db.execute("SELECT 1 FROM sqlite_master WHERE type='index' AND name='base_by_note'"
                  ).fetchone() is None:
        with transaction(db):
            db.execute(_NOTE_INDEX)


_ENTRY_COLUMNS = ("key, remote_id, vault_status, remote_status, vault_hash, remote_hash, note,"
                  " description, section, remote_fields")
_CHUNK = 500  # values per IN (...) list: far below SQLite's limit on bound parameters


# -- reading rows back -----------------------------------------------------------------------
# SQLite keeps any value in any column (a file vaultmap did not write, or edited by hand), so
# every value read is checked for its type and range before it reaches the planner.

_Value = TypeVar("_Value")
_LONG_TEXT = 16 * 1024 * 1024  # a description or note path beyond this was not written by us
_SHORT_TEXT = 4096  # ids, keys, hashes, names, times
_COUNT = re.compile(r"[0-9]{1,15}")
_HASHED_KEY = re.compile(r"k:[0-9a-f]{20}")
_CLOCK_SLACK = timedelta(days=1)  # clocks of two machines syncing one vault may disagree


class _BadValue(ValueError):
    """A value read from the state file that vaultmap would not have written there."""


def _text(value: object, column: str, *, short: bool = False) -> str:
    if not isinstance(value, str):
        raise _BadValue(f"{column} is {_kind(value)}, not text")
    if len(value) > (_SHORT_TEXT if short else _LONG_TEXT) or "\0" in value:
        raise _BadValue(f"{column} is not text vaultmap writes")
    return value


def _kind(value: object) -> str:
    return {type(None): "NULL", int: "a number", float: "a number",
            bytes: "binary data"}.get(type(value), type(value).__name__)


def _key(value: object, column: str = "key") -> str:
    key = _text(value, column, short=True)
    if not key.strip() or (key.startswith("k:") and not _HASHED_KEY.fullmatch(key)):
        raise _BadValue(f"{column} {key[:40]!r} is not a task key")
    return key


def _status(value: object, column: str) -> str:
    status = _text(value, column, short=True)
    if len(status) > 1 or status in ("\n", "\r"):
        raise _BadValue(f"{column} {status[:40]!r} is not a status character")
    return status


def _note(value: object, column: str = "note") -> str:
    note = _text(value, column)
    if note.startswith("/") or ".." in note.split("/"):
        raise _BadValue(f"{column} {note[:80]!r} is not a path inside the vault")
    return note


def _entry_of(row: Sequence[Any]) -> BaseEntry:
    try:
        section = json.loads(_text(row[8], "section"))
    except (ValueError, RecursionError):
        section = None
    if not isinstance(section, list) or not all(isinstance(s, str) for s in section):
        raise _BadValue("section is not a list of headings")
    return BaseEntry(_key(row[0]), _text(row[1], "remote_id", short=True),
                     _status(row[2], "vault_status"), _status(row[3], "remote_status"),
                     _text(row[4], "vault_hash", short=True),
                     _text(row[5], "remote_hash", short=True), _note(row[6]),
                     _text(row[7], "description"), tuple(section),
                     _text(row[9], "remote_fields", short=True))


def _pending_of(row: Sequence[Any]) -> PendingOp:
    op = row[1]
    if op not in ("create", "import"):
        raise _BadValue(f"op {str(op)[:40]!r} is neither a create nor an import")
    return PendingOp(_key(row[0]), op, _text(row[2], "remote_id", short=True),
                     _text(row[3], "detail"))


def _conflict_of(row: Sequence[Any]) -> ConflictRecord:
    chosen = row[5]
    if chosen not in ("vault", "remote"):
        raise _BadValue(f"chosen {str(chosen)[:40]!r} is neither 'vault' nor 'remote'")
    return ConflictRecord(_key(row[0]), _note(row[1]), _text(row[2], "description"),
                          _status(row[3], "vault_status"), _status(row[4], "remote_status"),
                          chosen, _text(row[6], "at", short=True))


def _overwrite_of(row: Sequence[Any]) -> OverwriteRecord:
    return OverwriteRecord(_key(row[0]), _note(row[1]), _text(row[2], "description"),
                           _text(row[3], "field", short=True), _text(row[4], "remote_value"),
                           _text(row[5], "vault_value"), _text(row[6], "at", short=True))


def storable(value: Any) -> Any:
    """``value`` as SQLite can bind it. A text holding lone surrogates (a key or path of a
    file whose name is not valid UTF-8, as os.fsdecode gives it) cannot be bound as text: it
    is stored as the blob of its ``surrogatepass`` bytes, which no other text stores as (a
    text is always bound as text), and :func:`loaded` reads it back as that same text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogatepass")
    return value


def loaded(value: Any) -> Any:
    """The inverse of :func:`storable` on a value read back. A blob that is not one it wrote
    stays a blob, for the row's check to report (see :meth:`StateStore._checked`)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return value
    return value


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction on a connection in autocommit mode (``isolation_level=None``),
    taken at once (``IMMEDIATE``: no upgrade from a read lock to deadlock on); rolled back
    on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
