"""The vault's tasks in the daemon's memory, note by note.

A full scan (through the vault index) fills it at the daemon's first sync, after a reload
(SIGHUP), after the watcher lost events and once an hour; between those, a changed note is
read and parsed alone. :meth:`VaultTasks.snapshot` is what a sync plans against, with the
keys per note that let it plan only the changed notes (``docs/daemon.md``);
:meth:`VaultTasks.known_vault` adds what lays the tasks out on GitHub, so a GitHub poll reads
no note either.

Keys shared by tasks in two notes (the same explicit id) are resolved as a scan does: the
first note in path order keeps the key. A note whose change touches such a key rebuilds the
key map from every note (rare, and still no file is read).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterable
from pathlib import Path

from vaultmap.config import Settings
from vaultmap.errors import VaultmapError
from vaultmap.model import Task
from vaultmap.sync.engine import task_record
from vaultmap.sync.github.layout import LayoutTask, layout_task
from vaultmap.sync.github.refs import might_name_issue
from vaultmap.sync.github.runner import KnownVault
from vaultmap.sync.remote import TaskRecord
from vaultmap.sync.runner import VaultSnapshot, duplicate_key_notice, snapshot_of
from vaultmap.vault import read_note, scan_vault

log = logging.getLogger("vaultmap.daemon")


class VaultTasks:
    """Every note's task records, the vault's key map, and the notes that could not be read."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.vault_name = Path(settings.root).resolve().name
        self.stale = True  # nothing read yet: the next snapshot needs a full scan
        self._tasks: dict[str, list[TaskRecord]] = {}  # note -> its tasks, duplicates too
        self._placing: dict[str, list[LayoutTask]] = {}  # note -> its tasks for GitHub
        # note -> those of its tasks whose text may name an issue (a few, in most vaults)
        self._naming: dict[str, list[LayoutTask]] = {}
        self._records: dict[str, TaskRecord] = {}  # key -> the task that owns it
        self._by_note: dict[str, list[str]] = {}  # note -> the keys it owns, in order
        self._unreadable: dict[str, str] = {}  # note (or "folder/") -> its warning
        self._duplicates: dict[str, list[str]] = {}  # note -> lines for its shadowed keys
        self._shared: set[str] = set()  # keys more than one note has

    def __len__(self) -> int:
        return len(self._records)

    def rescan(self) -> None:
        """Read the whole vault (through the index: only changed files are parsed)."""
        scan = scan_vault(self.settings)
        snapshot = snapshot_of(self.settings, scan)
        self._placing, self._naming = {}, {}
        for scanned in scan.notes:
            self._place(scanned.path, scanned.tasks)
        self._tasks = {}
        for record in snapshot.records.values():
            self._tasks.setdefault(record.note, []).append(record)
        self._records = dict(snapshot.records)
        self._by_note = {n: list(k) for n, k in (snapshot.by_note or {}).items()}
        self._unreadable = {}
        for warning in snapshot.warnings:
            path = warning.split(": ", 1)[0]
            if path in snapshot.unreadable:
                self._unreadable.setdefault(path, warning)
        for path in snapshot.unreadable:
            self._unreadable.setdefault(path, path)
        self._duplicates = {}
        self._shared = set()
        if snapshot.duplicate_keys:
            # The scan dropped the shadowed tasks; a re-read of their notes brings them back
            # into the per-note lists (a handful of notes at most).
            for line in snapshot.duplicate_keys:
                note = line.split(": ", 1)[0]
                self._read(note)
            self._rebuild_keys()
        self.stale = False

    def update(self, notes: Iterable[str]) -> None:
        """Read these notes again (vault-relative paths): changed, created or deleted."""
        rebuild = False
        for note in notes:
            old = self._tasks.get(note, [])
            self._read(note)
            new = self._tasks.get(note, [])
            old_keys = {r.key for r in old}
            if old_keys & self._shared or any(
                    r.key in self._records and self._records[r.key].note != note for r in new):
                rebuild = True  # a key another note has too: resolve as a scan would
                continue
            for key in self._by_note.pop(note, ()):
                self._records.pop(key, None)
            if new:
                keys: list[str] = []
                for record in new:
                    if record.key in self._records:  # twice in this note: the first wins
                        rebuild = True
                        continue
                    self._records[record.key] = record
                    keys.append(record.key)
                self._by_note[note] = keys
        if rebuild:
            self._rebuild_keys()

    def snapshot(self) -> VaultSnapshot:
        """The vault as a sync plans it (the maps are the live ones: no copy per sync)."""
        duplicates = tuple(line for note in sorted(self._duplicates)
                           for line in self._duplicates[note])
        return VaultSnapshot(self._records, tuple(sorted(self._unreadable)),
                             tuple(self._unreadable[n] for n in sorted(self._unreadable)),
                             duplicates, self._by_note)

    def known_vault(self) -> KnownVault:
        """The snapshot, and the tasks GitHub may place (in scan order: notes in path
        order): a GitHub sync's input without a scan."""
        return KnownVault(self.snapshot(), self._layout_tasks)

    def _layout_tasks(self, published: Collection[str]) -> list[LayoutTask]:
        """Every task of the published notes, and the others that may name an issue: the
        rest has no place on GitHub (``KnownVault``), so an idle poll looks at a few."""
        notes = sorted({*self._naming, *(n for n in published if n in self._placing)})
        return [task for note in notes
                for task in (self._placing[note] if note in published else self._naming[note])]

    # ------------------------------------------------------------------ internals
    def _read(self, note: str) -> None:
        """Parse one note into ``_tasks`` / ``_unreadable`` (not yet the key map)."""
        self._unreadable.pop(note, None)
        try:
            os.lstat(os.path.join(self.settings.root, note))
        except FileNotFoundError:
            self._tasks.pop(note, None)  # deleted (or moved away): its tasks are gone
            self._place(note, ())
            return
        except OSError as error:
            self._unreadable_note(note, f"{note}: cannot read ({error.strerror})")
            return
        try:
            parsed, _ = read_note(self.settings, Path(note))
        except VaultmapError as error:
            self._unreadable_note(note, str(error))
            return
        self._tasks[note] = [task_record(t, vault_name=self.vault_name) for t in parsed.tasks]
        self._place(note, parsed.tasks)

    def _unreadable_note(self, note: str, warning: str) -> None:
        # Not readable now is not deleted: its tasks stay out of the plan, their rows alone.
        log.warning("%s", warning)
        self._tasks.pop(note, None)
        self._place(note, ())
        self._unreadable[note] = warning

    def _place(self, note: str, tasks: Iterable[Task]) -> None:
        """Keep what lays ``note``'s tasks out on GitHub."""
        placing = [layout_task(t) for t in tasks]
        naming = [t for t in placing if might_name_issue(t.text)]
        for kept, value in ((self._placing, placing), (self._naming, naming)):
            if value:
                kept[note] = value
            else:
                kept.pop(note, None)

    def _rebuild_keys(self) -> None:
        """The key map from every note's tasks, first note in path order first (a scan's
        rule), with one line per shadowed task."""
        records: dict[str, TaskRecord] = {}
        by_note: dict[str, list[str]] = {}
        duplicates: dict[str, list[str]] = {}
        owners: dict[str, int] = {}
        for note in sorted(self._tasks):
            keys = by_note.setdefault(note, [])
            for record in self._tasks[note]:
                owners[record.key] = owners.get(record.key, 0) + 1
                first = records.get(record.key)
                if first is not None:
                    duplicates.setdefault(note, []).append(duplicate_key_notice(record, first))
                    continue
                records[record.key] = record
                keys.append(record.key)
        self._records, self._by_note, self._duplicates = records, by_note, duplicates
        self._shared = {key for key, count in owners.items() if count > 1}
