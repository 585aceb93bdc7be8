"""Watching the vault: file-system events become a set of dirty note paths.

Events only *mark* paths (with the time of their last event); one drainer in the daemon's loop
takes the paths that have been quiet for the quiet period. So a burst of saves is one change,
an editor's ``write tmp -> rename onto the note`` (a move whose destination is a note) and
``git pull``'s delete + create are both just "the note changed", and the handler itself never
reads a file (reading on every event makes watchdog report the daemon's own opens and
closes, a loop). Whether a quiet path really changed is decided later by its content hash.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pathspec
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from vaultmap.config import Settings
from vaultmap.vault.paths import FolderRules

log = logging.getLogger("vaultmap.daemon")

# The events that can change a note's bytes (closed = closed after writing); opened,
# closed-without-write and attribute events are ignored (the daemon reading a note must not
# wake it up again).
_CHANGES = (FileCreatedEvent, FileModifiedEvent, FileDeletedEvent, FileMovedEvent,
            FileClosedEvent)
_DIR_CHANGES = (DirCreatedEvent, DirDeletedEvent, DirMovedEvent)


class NoteFilter:
    """Which vault-relative paths are notes the daemon follows: the walk's folder rules
    (``.git/``, ``.vaultmap/``, ``.obsidian/``, ``.trash/``), ``[vault] exclude`` and the note
    extensions."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.root.resolve()
        self.extensions = tuple(e.lower() for e in settings.vault.extensions)
        self.folders = FolderRules(self.root)
        self.exclude = pathspec.GitIgnoreSpec.from_lines(settings.vault.exclude)

    def relative(self, path: str | bytes) -> str | None:
        """The vault-relative POSIX path of a watched note, or None when it is not one."""
        text = os.fsdecode(path)
        try:
            rel = Path(text).relative_to(self.root).as_posix()
        except ValueError:
            return None
        if not rel.lower().endswith(self.extensions) or rel.startswith("../"):
            return None
        if self.folders.skipped_part(rel) is not None or self.exclude.match_file(rel):
            return None
        return rel


class Wakeup:
    """What the daemon's loop sleeps on: the watcher's thread, the signal handlers and the
    loop itself :meth:`set` it; :meth:`wait` returns at once when it was set since the last
    wait, else when set or after the timeout.

    A socket pair, not a :class:`threading.Event`: :meth:`set` takes no lock, so a signal
    handler (which Python runs in the main thread, possibly in the middle of the loop's own
    call) can never wait on a lock its own thread holds.
    """

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        # epoll / kqueue where there is one: no limit on the descriptor's number (select's).
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._reader, selectors.EVENT_READ)

    def set(self) -> None:
        """Wake the loop (now, or at its next wait)."""
        try:
            self._writer.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # the buffer is full of wake-ups already: the loop will wake
        except OSError:
            pass  # closed: the daemon is shutting down

    def wait(self, timeout: float) -> bool:
        """Sleep until :meth:`set` or ``timeout`` seconds; whether it was set. Every wake-up
        sent so far is taken."""
        try:
            ready = self._selector.select(max(0.0, timeout))
        except (OSError, ValueError):  # closed meanwhile
            return True
        if not ready:
            return False
        try:
            while self._reader.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass  # drained
        return True

    def close(self) -> None:
        self._selector.close()
        self._reader.close()
        self._writer.close()


class DirtySet:
    """Paths changed since they were last taken, each with the time of its last event."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._touched: dict[str, float] = {}
        self._rescan = False
        self.wakeup = Wakeup()

    def mark(self, rel: str) -> None:
        with self._lock:
            self._touched[rel] = self._clock()
        self.wakeup.set()

    def mark_rescan(self) -> None:
        """Events were lost (a whole folder moved, a queue overflow): read everything."""
        with self._lock:
            self._rescan = True
        self.wakeup.set()

    def take_quiet(self, quiet: float) -> tuple[list[str], bool]:
        """The paths quiet for ``quiet`` seconds (removed from the set), and whether a rescan
        was asked for."""
        now = self._clock()
        with self._lock:
            ready = [p for p, at in self._touched.items() if now - at >= quiet]
            for path in ready:
                del self._touched[path]
            rescan, self._rescan = self._rescan, False
        return sorted(ready), rescan

    def busy(self, quiet: float) -> bool:
        """Whether some note changed less than ``quiet`` seconds ago (the user is typing)."""
        now = self._clock()
        with self._lock:
            return any(now - at < quiet for at in self._touched.values())

    def editing(self, rel: str, quiet: float) -> bool:
        """Whether ``rel`` had an event less than ``quiet`` seconds ago."""
        now = self._clock()
        with self._lock:
            at = self._touched.get(rel)
        return at is not None and now - at < quiet

    def next_due(self, quiet: float) -> float | None:
        """Seconds until the earliest path becomes quiet, or None when the set is empty."""
        with self._lock:
            if not self._touched:
                return None
            first = min(self._touched.values())
        return max(0.0, first + quiet - self._clock())

    def __len__(self) -> int:
        with self._lock:
            return len(self._touched)


class _Handler(FileSystemEventHandler):
    def __init__(self, notes: NoteFilter, dirty: DirtySet) -> None:
        self.notes = notes
        self.dirty = dirty

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, _DIR_CHANGES):
            # A folder moved or removed in one go reports no event per note inside it.
            if self.notes.folders.skipped_part(self._rel_dir(event.src_path) + "/x") is None:
                self.dirty.mark_rescan()
            return
        if isinstance(event, DirModifiedEvent) or not isinstance(event, _CHANGES):
            return
        paths = [event.src_path]
        if isinstance(event, FileMovedEvent):
            paths.append(event.dest_path)  # tmp -> note: the note changed; note -> x: gone
        for path in paths:
            rel = self.notes.relative(path)
            if rel is not None:
                self.dirty.mark(rel)

    def _rel_dir(self, path: str | bytes) -> str:
        try:
            return Path(os.fsdecode(path)).relative_to(self.notes.root).as_posix()
        except ValueError:
            return ".."


def start_watching(settings: Settings, dirty: DirtySet, *,
                   force_polling: bool = False) -> BaseObserver:
    """Start an observer on the vault (recursive) feeding ``dirty``. Falls back to polling,
    with one log line, when the platform's watcher cannot start (inotify limits)."""
    notes = NoteFilter(settings)
    handler = _Handler(notes, dirty)
    if not force_polling:
        observer: BaseObserver = Observer()
        try:
            observer.schedule(handler, str(notes.root), recursive=True)
            observer.start()
            return observer
        except OSError as error:
            log.warning("cannot watch the vault (%s); polling it every 2 s instead. On Linux, "
                        "raise fs.inotify.max_user_watches / max_user_instances to watch it.",
                        error.strerror or error)
            observer.stop()
    observer = PollingObserver(timeout=2)
    observer.schedule(handler, str(notes.root), recursive=True)
    observer.start()
    return observer
