"""The daemon's loop: watch, wait for quiet, sync; poll Notion; commit/pull/push git.

One thread does all the syncing (the watcher's thread only marks dirty paths), so syncs never
overlap and a signal only sets a flag the loop sees within a fraction of a second:

- a note quiet for ``quiet_period`` whose content hash differs from the last one the daemon
  saw (or wrote) is a change: Notion syncs now, git after ``git_commit_after`` of quiet;
- every ``notion_poll`` seconds Notion is read for changes made there (an incremental read),
  unless a note is being edited right now (the sync waits for the quiet, so a remote tick is
  never written into a note the user is typing in); every write still goes through the
  compare-and-swap edit API inside the sync layer;
- every ``git_interval`` seconds git does a round trip, with ``on_conflict="abort"``;
- a remote that fails for the network is retried with a doubling back-off (the changes wait in
  the vault: nothing is lost); one that refuses the token or the database is paused until a
  reload (SIGHUP) or a restart, and ``daemon status`` shows why; a git conflict pauses git
  until the user resolves it. The other remotes go on.

The notes the vault index already knows are not re-parsed by a sync (the index keeps their
parse by size and modification time); ``docs/daemon.md`` says what a sync still reads.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from vaultmap.config import Settings, load_settings
from vaultmap.daemon.lock import DaemonLock
from vaultmap.daemon.status import write_status
from vaultmap.daemon.watch import DirtySet, start_watching
from vaultmap.errors import (
    ConfigError,
    GitConflictError,
    GitStateError,
    RemoteAuthError,
    RemoteError,
    RemoteSchemaError,
    SyncBusyError,
    VaultmapError,
)
from vaultmap.sync.engine import SetVaultStatus

log = logging.getLogger("vaultmap.daemon")

BACKOFF_FIRST = 2.0  # seconds before the first retry of a remote that failed for the network
BUSY_RETRY = 1.0  # another sync (a user's `vaultmap sync`) holds the vault's lock
TICK = 0.5  # the longest the loop sleeps without looking at its flags


def _iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat(timespec="seconds")


def content_hash(path: Path) -> str:
    """SHA-256 of a note's bytes; ``""`` for a note that is gone or cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


@dataclass
class RemoteSchedule:
    """When a remote syncs next, and why it may not."""

    name: str
    next_at: float = 0.0  # monotonic; 0: as soon as possible
    wanted: bool = True  # a change waits for this remote
    backoff: float = 0.0
    paused: str = ""  # why it is paused ("" = not paused)
    last_sync: str = ""
    last_error: str = ""


@dataclass
class Daemon:
    """A foreground daemon for one vault; :meth:`run` returns when it is asked to stop."""

    root: Path
    clock: Callable[[], float] = time.monotonic
    force_polling: bool = False
    settings: Settings = field(init=False)
    dirty: DirtySet = field(init=False)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    reload_requested: threading.Event = field(default_factory=threading.Event)
    remotes: dict[str, RemoteSchedule] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)  # note -> hash last seen or written
    started: str = field(default_factory=_iso)
    last_error: str = ""
    cycles: int = 0
    last_change: float = 0.0  # monotonic time of the last real note change
    dashboards_due: bool = True  # report regions to refresh (the first pass fills them in)
    # Whether the last full update found a report region: without one, a change costs no
    # dashboard update unless the changed note now has the markers.
    dashboards_seen: bool = True

    def __post_init__(self) -> None:
        self.settings = load_settings(self.root)
        self.dirty = DirtySet(self.clock)
        self._configure_remotes()

    # ------------------------------------------------------------------ setup
    def _configure_remotes(self) -> None:
        from vaultmap.sync.git.roundtrip import git_configured

        wanted = []
        if self.settings.notion.database_id:
            wanted.append("notion")
        if git_configured(self.settings):
            wanted.append("git")
        old = self.remotes
        self.remotes = {name: old.get(name, RemoteSchedule(name)) for name in wanted}
        for schedule in self.remotes.values():
            schedule.paused = ""  # a reload is the user saying "try again"
            schedule.backoff = 0.0
            schedule.next_at = 0.0
            schedule.wanted = True
        if not wanted:
            log.warning("no remote is configured (no [notion] database_id, no git upstream "
                        "with [git] enabled): the daemon only watches")

    def reload(self) -> None:
        """SIGHUP: read ``.vaultmap.toml`` again; a broken file keeps the old settings."""
        try:
            self.settings = load_settings(self.root)
        except ConfigError as error:
            self._error(f"config not reloaded: {error}")
            return
        self._configure_remotes()
        log.info("config reloaded; remotes: %s", ", ".join(self.remotes) or "none")

    def install_signal_handlers(self) -> None:
        """SIGTERM / SIGINT stop after the write in progress; SIGHUP reloads the config."""

        def stop(signum: int, _frame: FrameType | None) -> None:
            self.stop_requested.set()
            self.dirty.wakeup.set()

        def hup(_signum: int, _frame: FrameType | None) -> None:
            self.reload_requested.set()
            self.dirty.wakeup.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hup)

    # ------------------------------------------------------------------ loop
    def run(self) -> None:
        """Hold the vault's daemon lock, watch and sync until asked to stop."""
        with DaemonLock(self.settings.state_dir):
            log.info("daemon started for %s (pid %d); remotes: %s", self.root, os.getpid(),
                     ", ".join(self.remotes) or "none")
            observer = start_watching(self.settings, self.dirty,
                                      force_polling=self.force_polling)
            try:
                self._write_status()
                self._loop()
            finally:
                observer.stop()
                observer.join(timeout=2)
                self._write_status(stopped=True)
                log.info("daemon stopped")

    def _loop(self) -> None:
        # The first pass catches up with whatever happened while no daemon ran (a crash
        # included): every remote is due at once.
        while not self.stop_requested.is_set():
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            self.step()
            self.dirty.wakeup.clear()
            self.dirty.wakeup.wait(self._sleep_for())

    def step(self) -> None:
        """One pass: take the quiet notes, then run every remote that is due."""
        daemon = self.settings.daemon
        ready, rescan = self.dirty.take_quiet(daemon.quiet_period)
        changed = [rel for rel in ready if self._changed(rel)]
        if changed or rescan:
            self.last_change = self.clock()
            log.info("changed: %s%s", ", ".join(changed[:5]),
                     f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            for schedule in self.remotes.values():
                schedule.wanted = True
            self._want_dashboards(changed, rescan)
        now = self.clock()
        notion = self.remotes.get("notion")
        if notion is not None and (changed or rescan):
            notion.next_at = min(notion.next_at, now) if not notion.backoff else notion.next_at
        for schedule in list(self.remotes.values()):
            if self.stop_requested.is_set():
                break
            if schedule.paused or not self._due(schedule, now):
                continue
            if self.dirty.busy(daemon.quiet_period):
                continue  # never write into a note the user is typing in: wait for quiet
            self._sync(schedule)
        if self.dashboards_due and self.settings.daemon.dashboards and \
                not self.stop_requested.is_set() and \
                not self.dirty.busy(daemon.quiet_period):
            self._dashboards()
        self._write_status()

    def _due(self, schedule: RemoteSchedule, now: float) -> bool:
        if schedule.backoff or schedule.name != "git":
            return now >= schedule.next_at
        # git: commit a change once things were quiet for a while, without waiting for the
        # interval; else on its interval.
        quiet_for = now - self.last_change
        if schedule.wanted and self.last_change and \
                quiet_for >= self.settings.daemon.git_commit_after:
            return True
        return now >= schedule.next_at

    def _changed(self, rel: str) -> bool:
        digest = content_hash(self.settings.root / rel)
        if self.known.get(rel) == digest:
            return False  # our own write coming back, or a save that changed nothing
        self.known[rel] = digest
        return True

    def _sleep_for(self) -> float:
        waits = [TICK]
        due = self.dirty.next_due(self.settings.daemon.quiet_period)
        if due is not None:
            waits.append(due)
        return max(0.01, min(waits))

    # ------------------------------------------------------------------ syncing
    def _sync(self, schedule: RemoteSchedule) -> None:
        now = self.clock()
        try:
            summary = self._notion() if schedule.name == "notion" else self._git()
        except SyncBusyError:
            log.info("%s: another vaultmap sync of this vault runs; waiting for it",
                     schedule.name)
            schedule.next_at = self.clock() + BUSY_RETRY
            return
        except (RemoteAuthError, RemoteSchemaError) as error:
            schedule.paused = str(error)
            self._error(f"{schedule.name}: paused: {error} (fix it, then `kill -HUP` the "
                        "daemon or restart it)")
            return
        except GitConflictError as error:
            schedule.paused = str(error)
            self._error(f"git: paused until the conflict is resolved: {error}")
            return
        except GitStateError as error:
            schedule.paused = str(error)
            self._error(f"git: paused: {error}")
            return
        except (RemoteError, VaultmapError) as error:
            schedule.backoff = min(max(BACKOFF_FIRST, schedule.backoff * 2), self._interval(
                schedule))
            schedule.next_at = self.clock() + schedule.backoff
            schedule.last_error = str(error)
            self._error(f"{schedule.name}: {error}; retrying in {schedule.backoff:.0f} s")
            return
        except Exception as error:  # one failing remote never stops the daemon
            log.exception("%s: unexpected failure", schedule.name)
            schedule.backoff = min(max(BACKOFF_FIRST, schedule.backoff * 2),
                                   self._interval(schedule))
            schedule.next_at = self.clock() + schedule.backoff
            self._error(f"{schedule.name}: unexpected failure ({type(error).__name__})")
            return
        self.cycles += 1
        schedule.backoff = 0.0
        schedule.wanted = False
        schedule.last_error = ""
        schedule.last_sync = _iso()
        schedule.next_at = now + self._interval(schedule)
        log.log(logging.INFO if "nothing to do" not in summary and "up to date" not in summary
                else logging.DEBUG, "%s: %s", schedule.name, summary)

    def _interval(self, schedule: RemoteSchedule) -> float:
        daemon = self.settings.daemon
        return daemon.notion_poll if schedule.name == "notion" else daemon.git_interval

    def _notion(self) -> str:
        from vaultmap.sync.notion import NotionRemote
        from vaultmap.sync.runner import run_sync

        with NotionRemote.from_settings(self.settings) as remote:
            report = run_sync(self.settings, remote, lock_timeout=0.2)  # no progress bar
        for note in report.notes:
            log.info("notion: note: %s", note)
        written = sorted({a.note for a in report.plan.actions if isinstance(a, SetVaultStatus)})
        self._remember_writes(written)
        if written:
            self._want_dashboards([], False)  # Notion's ticks change the progress
        git = self.remotes.get("git")
        if written and git is not None:
            git.wanted = True  # Notion's ticks are commits to make
            self.last_change = self.clock()
        if report.failures:
            for failure in report.failures:
                log.warning("notion: failed: %s", failure)
            raise RemoteError(f"{len(report.failures)} change(s) could not be made")
        return report.summary()

    def _git(self) -> str:
        from vaultmap.sync.git.roundtrip import sync_git

        report = sync_git(self.settings, on_conflict="abort", lock_timeout=0.2)
        for note in report.notes:
            log.info("git: note: %s", note)
        if report.merged:
            self._want_dashboards([], True)
            # A merge rewrote notes: they are changes for Notion, not our own writes.
            notion = self.remotes.get("notion")
            if notion is not None and not notion.paused:
                notion.wanted = True
                notion.next_at = min(notion.next_at, self.clock())
        return report.summary()

    def _want_dashboards(self, changed: list[str], everything: bool) -> None:
        from vaultmap.dashboard import may_hold_regions

        if self.dashboards_seen or everything:
            self.dashboards_due = True
            return
        for rel in changed:
            try:
                data = (self.settings.root / rel).read_bytes()
            except OSError:
                continue
            if may_hold_regions(data):
                self.dashboards_due = True
                return

    def _dashboards(self) -> None:
        """Refresh the report regions (``vaultmap.dashboard``); our writes are echoes."""
        from vaultmap.dashboard import update_dashboards

        self.dashboards_due = False
        quiet = self.settings.daemon.quiet_period
        try:
            result = update_dashboards(self.settings,
                                       editing=lambda rel: self.dirty.editing(rel, quiet))
        except VaultmapError as error:
            self._error(f"dashboards: {error}")
            return
        except Exception as error:  # a dashboard never stops the daemon
            log.exception("dashboards: unexpected failure")
            self._error(f"dashboards: unexpected failure ({type(error).__name__})")
            return
        self.known.update(result.hashes)
        self.dashboards_seen = bool(result.found)
        for problem in result.problems:
            log.warning("dashboards: %s", problem)
        if result.written:
            log.info("dashboards: report updated in %s", ", ".join(result.written))

    def _remember_writes(self, notes: list[str]) -> None:
        """The notes a sync just wrote: their new hash is ours, so their events are echoes."""
        for rel in notes:
            if rel:
                self.known[rel] = content_hash(self.settings.root / rel)

    def _error(self, message: str) -> None:
        self.last_error = message
        log.error("%s", message)

    # ------------------------------------------------------------------ status
    def status(self, *, stopped: bool = False) -> dict[str, Any]:
        """What ``daemon.json`` holds (see :mod:`vaultmap.daemon.status`)."""
        return {
            "pid": os.getpid(),
            "started": self.started,
            "last_error": self.last_error or None,
            "vault": str(self.root),
            "updated": _iso(),
            "last_sync": {n: s.last_sync or None for n, s in self.remotes.items()},
            "paused": {n: s.paused for n, s in self.remotes.items() if s.paused},
            "queued": len(self.dirty),  # notes changed, waiting for their quiet period
            "waiting": sorted(n for n, s in self.remotes.items() if s.wanted),
            "cycles": self.cycles,
            "stopped": stopped,
        }

    def _write_status(self, *, stopped: bool = False) -> None:
        try:
            write_status(self.settings.state_dir, self.status(stopped=stopped))
        except OSError as error:
            log.warning("cannot write the daemon status (%s)", error.strerror)
