"""The daemon's loop: watch, wait for quiet, sync; poll Notion and GitHub; commit/pull/push git.

One thread does all the syncing (the watcher's thread only marks dirty paths), so syncs never
overlap and a signal only sets a flag and wakes the loop. Between passes the loop sleeps until
something happens (a file-system event, a signal) or the next timer is due (a note's quiet
period ending, a remote's poll, a retry, git's commit-after-quiet, the status heartbeat): an
idle daemon wakes a few times a minute, not on a fixed tick.

- a note quiet for ``quiet_period`` whose content hash differs from the last one the daemon
  saw (or wrote) is a change: Notion syncs now, git after ``git_commit_after`` of quiet;
- every ``notion_poll`` seconds Notion is read for changes made there (an incremental read),
  every ``github_poll`` seconds GitHub (conditional reads: an unchanged issue costs no rate
  limit), unless a note is being edited right now (the sync waits for the quiet, so a remote
  tick is never written into a note the user is typing in); every write still goes through the
  compare-and-swap edit API inside the sync layer;
- every ``git_interval`` seconds git does a round trip, with ``on_conflict="abort"``;
- a remote that fails for the network is retried with a doubling back-off (the changes wait in
  the vault: nothing is lost); one that refuses the token or the database is paused until a
  reload (SIGHUP) or a restart, and ``daemon status`` shows why; a git conflict pauses git
  until the user resolves it. The other remotes go on.

The vault's tasks are kept in memory (:mod:`.tasks`): a changed note is parsed alone and a
Notion sync plans only the notes changed since the last sync that ended without a failure
(plus the notes the rows read from Notion touch). A full scan and a plan of every key happen
at the first sync, after SIGHUP, after lost events (a folder moved, a watch overflow), after a
sync that failed, and once every ``RESCAN_EVERY`` seconds. ``docs/daemon.md`` has the figures.
Each note's progress rollup is kept too (:mod:`.dashboards`), for the report regions.

One client per remote lives as long as the daemon (its connections are reused by every poll);
a reload, a refused token or schema, or an unexpected failure closes it, and the next sync
makes a new one.
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
from typing import Any, Protocol

from vaultmap.config import Settings, load_settings
from vaultmap.daemon.dashboards import LiveDashboards
from vaultmap.daemon.lock import DaemonLock
from vaultmap.daemon.status import write_status
from vaultmap.daemon.tasks import VaultTasks
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
from vaultmap.fs import Unreadable, read_regular
from vaultmap.sync.engine import ImportRow, SetVaultStatus

log = logging.getLogger("vaultmap.daemon")

BACKOFF_FIRST = 2.0  # seconds before the first retry of a remote that failed for the network
BUSY_RETRY = 1.0  # another sync (a user's `vaultmap sync`) holds the vault's lock
# The longest the loop sleeps when no timer is due sooner: a safety net only (every wake-up
# source, events, signals and timers, wakes it itself).
LONGEST_SLEEP = 300.0
# A full scan of the vault and a full read of Notion this often (seconds): in case the
# watcher missed an event without saying so, or Notion an edit time. The scan goes through
# the index (it stats every note and parses only changed ones); the read costs one request
# per 100 rows. Between those an idle poll is one request.
RESCAN_EVERY = 3600.0
# daemon.json is written when what it says changes, and at least this often (seconds): its
# "updated" time is when a daemon that died without a word was last seen alive.
STATUS_HEARTBEAT = 60.0


class Closable(Protocol):
    """A remote's client the daemon keeps between syncs."""

    def close(self) -> None: ...


def _iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat(timespec="seconds")


def content_hash(path: Path, max_bytes: int) -> str:
    """SHA-256 of a note's bytes; ``""`` for a note that is gone or cannot be read.

    Read as the scan reads notes (a regular file up to ``max_bytes``): a FIFO or a link to a
    device saved under a note's name must not stop the daemon.
    """
    try:
        return hashlib.sha256(read_regular(path, max_bytes)[0]).hexdigest()
    except Unreadable:
        return ""


@dataclass
class RemoteSchedule:
    """When a remote syncs next, and why it may not."""

    name: str
    next_at: float = 0.0  # monotonic; 0: as soon as possible
    wanted: bool = True  # a change waits for this remote
    backoff: float = 0.0
    not_before: float = 0.0  # monotonic: another sync held the lock; try again then
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
    # Set by the SIGHUP handler (a plain flag: a handler must not take a lock the loop may
    # hold), taken by the loop.
    reload_requested: bool = False
    remotes: dict[str, RemoteSchedule] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)  # note -> hash last seen or written
    started: str = field(default_factory=_iso)
    last_error: str = ""
    cycles: int = 0
    last_change: float = 0.0  # monotonic time of the last real note change
    github_check_at: float = 0.0  # monotonic: when to look again for a first GitHub publish
    tasks: VaultTasks = field(init=False)
    # Notes changed since the last Notion sync that ended without a failure (None: plan
    # every key next time), and whether one of them was the user's (not our own write).
    notion_changed: set[str] | None = None
    notion_local_change: bool = True
    scanned_at: float = 0.0  # monotonic time of the last full scan
    notion_read_at: float = field(init=False)  # monotonic time of the last full Notion read
    _status_written: dict[str, Any] = field(default_factory=dict)  # as last written
    _status_at: float = 0.0  # monotonic time of that write
    # The report regions and every note's rollup (:mod:`.dashboards`); the first pass fills
    # them in.
    dashboards: LiveDashboards = field(init=False)
    # One client per remote for the daemon's life (its connections, TLS context and, for
    # GitHub, its pacing are reused): made at the first sync, closed and made again after a
    # reload, a refused token or schema, or an unexpected failure.
    clients: dict[str, Closable] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = load_settings(self.root)
        self.dirty = DirtySet(self.clock)
        self.tasks = VaultTasks(self.settings)
        self.dashboards = LiveDashboards(self.settings, self.clock)
        self.notion_read_at = self.clock()  # a first sync reads everything only if it must
        self._configure_remotes()

    # ------------------------------------------------------------------ setup
    def _configure_remotes(self) -> None:
        from vaultmap.sync.git.roundtrip import git_configured
        from vaultmap.sync.github.runner import github_in_use

        wanted = []
        if self.settings.notion.database_id:
            wanted.append("notion")
        if github_in_use(self.settings):
            wanted.append("github")
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
            log.warning("no remote is configured (no [notion] database_id, no note published "
                        "on GitHub, no git upstream with [git] enabled): the daemon only watches")

    def reload(self) -> None:
        """SIGHUP: read ``.vaultmap.toml`` again; a broken file keeps the old settings."""
        try:
            self.settings = load_settings(self.root)
        except ConfigError as error:
            self._error(f"config not reloaded: {error}")
            return
        self.tasks = VaultTasks(self.settings)  # statuses, flavour, excludes may differ
        self.dashboards = LiveDashboards(self.settings, self.clock)
        self.close_clients()  # the database, the token variable or the pacing may differ
        self.notion_changed = None
        self._configure_remotes()
        log.info("config reloaded; remotes: %s", ", ".join(self.remotes) or "none")

    def install_signal_handlers(self) -> None:
        """SIGTERM / SIGINT stop after the write in progress; SIGHUP reloads the config."""

        def stop(signum: int, _frame: FrameType | None) -> None:
            self.stop_requested.set()  # the loop only reads it: its lock is never held
            self.dirty.wakeup.set()

        def hup(_signum: int, _frame: FrameType | None) -> None:
            self.reload_requested = True
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
                self.close_clients()
                observer.stop()
                observer.join(timeout=2)
                self.dirty.wakeup.close()
                self._write_status(stopped=True)
                log.info("daemon stopped")

    def _loop(self) -> None:
        # The first pass catches up with whatever happened while no daemon ran (a crash
        # included): every remote is due at once.
        # Wake-ups sent while a pass runs (an event, a signal) are kept by the socket: the
        # next wait returns at once, so none is lost between a pass and its sleep.
        while not self.stop_requested.is_set():
            if self.reload_requested:
                self.reload_requested = False
                self.reload()
            self.step()
            if self.stop_requested.is_set():
                break
            self.dirty.wakeup.wait(self._sleep_for())

    def step(self) -> None:
        """One pass: take the quiet notes, then run every remote that is due."""
        daemon = self.settings.daemon
        self._notice_a_first_publish()
        ready, rescan = self.dirty.take_quiet(daemon.quiet_period)
        changed = [rel for rel in ready if self._changed(rel)]
        if rescan or self.clock() - self.scanned_at >= RESCAN_EVERY:
            self.tasks.stale = True  # events were lost: read everything, plan everything
            self.notion_changed = None
        if changed:
            if not self.tasks.stale:
                self.tasks.update(changed)
            if self.notion_changed is not None:
                self.notion_changed.update(changed)
            self.notion_local_change = True
        if changed or rescan:
            self.last_change = self.clock()
            log.info("changed: %s%s", ", ".join(changed[:5]),
                     f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            for schedule in self.remotes.values():
                schedule.wanted = True
            self._want_dashboards(changed, rescan)
        now = self.clock()
        for name in ("notion", "github"):  # a note's change leaves at once; git waits
            polled = self.remotes.get(name)
            if polled is not None and (changed or rescan) and not polled.backoff:
                polled.next_at = min(polled.next_at, now)
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

    def _notice_a_first_publish(self) -> None:
        """``vaultmap github publish`` while the daemon runs: GitHub joins the remotes within
        a ``github_poll``, without a reload."""
        from vaultmap.sync.github.runner import github_in_use

        now = self.clock()
        if "github" in self.remotes or now < self.github_check_at:
            return
        self.github_check_at = now + self.settings.daemon.github_poll
        try:
            in_use = github_in_use(self.settings)
        except (OSError, VaultmapError) as error:
            log.warning("github: cannot read the published notes (%s)", error)
            return
        if in_use:
            self.remotes["github"] = RemoteSchedule("github")
            log.info("github: a note was published; GitHub is synced from now on")

    def _due(self, schedule: RemoteSchedule, now: float) -> bool:
        return now >= self._due_at(schedule)

    def _due_at(self, schedule: RemoteSchedule) -> float:
        """The monotonic time a remote (not paused) is next due."""
        at = schedule.next_at
        if not schedule.backoff and schedule.name == "git" and schedule.wanted and \
                self.last_change:
            # git: commit a change once things were quiet for a while, without waiting for
            # the interval; else on its interval.
            at = min(at, self.last_change + self.settings.daemon.git_commit_after)
        return max(at, schedule.not_before)

    def _changed(self, rel: str) -> bool:
        digest = content_hash(self.settings.root / rel, self.settings.vault.max_note_bytes)
        if self.known.get(rel) == digest:
            return False  # our own write coming back, or a save that changed nothing
        self.known[rel] = digest
        return True

    def _sleep_for(self) -> float:
        """Seconds until the next timer is due: a note's quiet period ends, a remote is due,
        a first GitHub publish is looked for, the dashboards' hourly refill, or the status
        heartbeat. Events and signals wake the loop sooner."""
        now = self.clock()
        daemon = self.settings.daemon
        times = [self._status_at + STATUS_HEARTBEAT]
        due = self.dirty.next_due(daemon.quiet_period)
        if due is not None:
            times.append(now + due)
        times += [self._due_at(s) for s in self.remotes.values() if not s.paused]
        if "github" not in self.remotes:
            times.append(self.github_check_at)
        if daemon.dashboards:
            refill = self.dashboards.refill_at()
            if refill is not None:
                times.append(refill)
        # At least a hundredth of a second: a timer due now that the pass could not serve
        # (a note being edited) is served after the next event or the quiet period.
        return min(LONGEST_SLEEP, max(0.01, min(times) - now))

    # ------------------------------------------------------------------ syncing
    def _sync(self, schedule: RemoteSchedule) -> None:
        now = self.clock()
        try:
            summary = (self._notion() if schedule.name == "notion" else
                       self._github() if schedule.name == "github" else self._git())
        except SyncBusyError:
            log.info("%s: another vaultmap sync of this vault runs; waiting for it",
                     schedule.name)
            schedule.next_at = schedule.not_before = self.clock() + BUSY_RETRY
            return
        except (RemoteAuthError, RemoteSchemaError) as error:
            self.close_clients(schedule.name)  # the next try, after a reload, starts afresh
            schedule.paused = schedule.last_error = str(error)
            self._error(f"{schedule.name}: paused: {error} (fix it, then `kill -HUP` the "
                        "daemon or restart it)")
            return
        except GitConflictError as error:
            schedule.paused = schedule.last_error = str(error)
            self._error(f"git: paused until the conflict is resolved: {error}")
            return
        except GitStateError as error:
            schedule.paused = schedule.last_error = str(error)
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
            self.close_clients(schedule.name)
            schedule.backoff = min(max(BACKOFF_FIRST, schedule.backoff * 2),
                                   self._interval(schedule))
            schedule.next_at = self.clock() + schedule.backoff
            schedule.last_error = f"unexpected failure ({type(error).__name__})"
            self._error(f"{schedule.name}: {schedule.last_error}")
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
        return {"notion": daemon.notion_poll, "github": daemon.github_poll}.get(
            schedule.name, daemon.git_interval)

    def _notion(self) -> str:
        from vaultmap.sync.notion import NotionRemote
        from vaultmap.sync.runner import run_sync

        self._fresh_tasks()
        changed = self.notion_changed
        # A poll with nothing changed here reads only the rows edited in Notion: one request
        # (rows trashed there are read at the next sync with a change to send).
        idle = changed is not None and not changed and not self.notion_local_change
        full = self.clock() - self.notion_read_at >= RESCAN_EVERY
        # Until this sync ends well, the next one plans every key.
        self.notion_changed = None
        remote = self.clients.get("notion")
        if not isinstance(remote, NotionRemote):
            remote = NotionRemote.from_settings(self.settings)
            self.clients["notion"] = remote
        remote.new_round()
        report = run_sync(self.settings, remote, lock_timeout=0.2,  # no progress bar
                          vault=self.tasks.snapshot(), changed=changed,
                          read_trashed=not idle, full=full, periodic_full=False)
        if full and report.ok:
            self.notion_read_at = self.clock()
        for note in report.notes:
            log.info("notion: note: %s", note)
        written = sorted({a.note for a in report.plan.actions if isinstance(a, SetVaultStatus)}
                         | {a.inbox for a in report.plan.actions if isinstance(a, ImportRow)})
        self._remember_writes(written)
        if report.ok:
            # Our own writes are planned once more next time: a save that landed between
            # our write and our re-read of the note has the hash we remembered.
            self.notion_changed = set(written)
            self.notion_local_change = False
        if written:
            self._want_dashboards(written, False)  # Notion's ticks change the progress
        git = self.remotes.get("git")
        if written and git is not None:
            git.wanted = True  # Notion's ticks are commits to make
            self.last_change = self.clock()
        if report.failures:
            for failure in report.failures:
                log.warning("notion: failed: %s", failure)
            raise RemoteError(f"{len(report.failures)} change(s) could not be made")
        return report.summary()

    def _github(self) -> str:
        from vaultmap.sync.github.http import GitHubClient
        from vaultmap.sync.github.runner import github_client, sync_github

        def say_wait(message: str) -> None:
            log.info("github: %s", message)

        client = self.clients.get("github")
        if not isinstance(client, GitHubClient):
            client = github_client(self.settings, None, on_wait=say_wait)
            self.clients["github"] = client
        # The tasks in memory, not a scan: an idle poll reads no note. Every task GitHub
        # covers is still planned (a GitHub read is always complete).
        self._fresh_tasks()
        report = sync_github(self.settings, lock_timeout=0.2, client=client,
                             vault=self.tasks.known_vault())
        for note in report.notes:
            log.info("github: note: %s", note)
        written = sorted({a.note for a in report.plan.actions if isinstance(a, SetVaultStatus)})
        self._remember_writes(written)
        if written:
            self._want_dashboards(written, False)  # so do the boxes ticked on github.com
        if written and self.notion_changed is not None:
            # Our write is no watcher event, but a change for Notion's focused sync.
            self.notion_changed.update(written)
            self.notion_local_change = True
        git = self.remotes.get("git")
        if written and git is not None:
            git.wanted = True  # boxes ticked on github.com are commits to make
            self.last_change = self.clock()
        if report.failures:
            for failure in report.failures:
                log.warning("github: failed: %s", failure)
            raise RemoteError(f"{len(report.failures)} change(s) could not be made")
        return report.summary()

    def _fresh_tasks(self) -> None:
        """Scan the vault when the tasks in memory may be out of date (the first sync, a
        reload, lost events, the hourly rescan); Notion then plans every key."""
        if self.tasks.stale:
            self.tasks.rescan()
            self.scanned_at = self.clock()
            self.notion_changed = None

    def _git(self) -> str:
        from vaultmap.sync.git.roundtrip import sync_git

        report = sync_git(self.settings, on_conflict="abort", lock_timeout=0.2)
        for note in report.notes:
            log.info("git: note: %s", note)
        if report.merged:
            self._want_dashboards([], True)
            # A merge rewrote notes: they are changes for Notion and GitHub, not our own
            # writes.
            for name in ("notion", "github"):
                polled = self.remotes.get(name)
                if polled is not None and not polled.paused:
                    polled.wanted = True
                    polled.next_at = min(polled.next_at, self.clock())
        return report.summary()

    @property
    def dashboards_due(self) -> bool:
        """Whether a report region may need refreshing (:mod:`.dashboards`)."""
        return self.dashboards.due

    @dashboards_due.setter
    def dashboards_due(self, due: bool) -> None:
        if due:
            self.dashboards.changed((), everything=True)
        else:
            self.dashboards.clear()

    @property
    def dashboards_seen(self) -> bool:
        """Whether the vault has a report region (assumed until the first pass looked):
        without one, a change costs no dashboard work unless the note gains the markers."""
        return self.dashboards.seen

    def _want_dashboards(self, changed: list[str], everything: bool) -> None:
        if self.settings.daemon.dashboards:
            self.dashboards.changed(changed, everything=everything)

    def _dashboards(self) -> None:
        """Refresh the report regions that a change made stale; our writes are echoes."""
        quiet = self.settings.daemon.quiet_period
        try:
            result = self.dashboards.refresh(editing=lambda rel: self.dirty.editing(rel, quiet))
        except VaultmapError as error:
            self.dashboards.failed(str(error))
            self._error(f"dashboards: {error}")
            return
        except Exception as error:  # a dashboard never stops the daemon
            log.exception("dashboards: unexpected failure")
            self.dashboards.failed(f"unexpected failure ({type(error).__name__})")
            self._error(f"dashboards: unexpected failure ({type(error).__name__})")
            return
        if result is None:
            return
        self.known.update(result.hashes)
        for problem in result.problems:
            log.warning("dashboards: %s", problem)
        if result.written:
            log.info("dashboards: report updated in %s", ", ".join(result.written))

    def _remember_writes(self, notes: list[str]) -> None:
        """The notes a sync just wrote: their new hash is ours, so their events are echoes;
        their tasks in memory are read again."""
        notes = [rel for rel in notes if rel]
        for rel in notes:
            self.known[rel] = content_hash(self.settings.root / rel,
                                           self.settings.vault.max_note_bytes)
        if notes and not self.tasks.stale:
            self.tasks.update(notes)

    def close_clients(self, *names: str) -> None:
        """Close the kept clients of these remotes (all without names); the next sync makes
        a new one."""
        for name in names or tuple(self.clients):
            client = self.clients.pop(name, None)
            if client is None:
                continue
            try:
                client.close()
            except Exception:  # a broken connection pool: nothing left to close
                log.debug("%s: closing the client failed", name, exc_info=True)

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
            # Each remote's failure since its last good sync (None: that sync went well).
            "remote_errors": {n: s.last_error or None for n, s in self.remotes.items()},
            "queued": len(self.dirty),  # notes changed, waiting for their quiet period
            "waiting": sorted(n for n, s in self.remotes.items() if s.wanted),
            "cycles": self.cycles,
            "dashboards": self.dashboards.status(),
            "stopped": stopped,
        }

    def _write_status(self, *, stopped: bool = False) -> None:
        status = self.status(stopped=stopped)
        same = {k: v for k, v in status.items() if k != "updated"}
        now = self.clock()
        if same == self._status_written and now - self._status_at < STATUS_HEARTBEAT:
            return  # an idle loop pass: no write (the file says the same)
        self._status_at = now  # a failed write is tried again at the next change or beat
        try:
            write_status(self.settings.state_dir, status)
        except OSError as error:
            log.warning("cannot write the daemon status (%s)", error.strerror)
            return
        self._status_written = same
