"""Taking turns on a vault: a local edit waits for a running sync instead of racing it.

Every sync of a vault holds its remote's lock in ``.vaultmap/`` (``sync-notion.lock``,
``sync-github.lock``, ``sync-git.lock``) while it reads and writes notes; the daemon's syncs
are the same functions, so they hold the same locks. ``vaultmap done`` / ``undo`` / ``set``
take all of them, in a fixed order, for the moment of their write::

    with sync_turn(settings, timeout=30, on_wait=lambda: print("waiting ...")):
        set_statuses(...)

so a tick never lands in the middle of a sync's plan, and the daemon's next sync (which tries
its lock briefly and comes back a second later) sees it. The compare-and-swap write would
keep the note safe anyway; the turn keeps the sync's picture of the vault whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from filelock import FileLock, Timeout

from vaultmap.config import Settings
from vaultmap.errors import StateError, SyncBusyError
from vaultmap.fs import NOT_WRITABLE_ADVICE

SYNC_LOCKS = ("notion", "github", "git")  # the order every taker uses: no deadlock


class StateLock(FileLock):
    """A lock file in ``.vaultmap/``: one that cannot be opened (a read-only vault, a folder
    made by another user) is one line with what to do (exit 12), not an internal error."""

    def acquire(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().acquire(*args, **kwargs)
        except Timeout:
            raise
        except OSError as error:
            raise StateError(f"{self.lock_file}: cannot take the lock ({error.strerror}); "
                             f"{NOT_WRITABLE_ADVICE}") from None


@contextmanager
def sync_turn(settings: Settings, *, timeout: float, on_wait: Callable[[], None] | None = None,
              names: tuple[str, ...] = SYNC_LOCKS) -> Iterator[None]:
    """Hold the sync locks ``names`` of the vault; wait at most ``timeout`` seconds for them.

    ``on_wait`` is called once, before waiting, when a lock is held by someone else. A vault
    that has no state folder has never been synced: nothing to wait for, nothing created.
    Raises :class:`SyncBusyError` (exit 14) when the wait runs out; nothing is held then.
    """
    if not settings.state_dir.is_dir():
        yield
        return
    from vaultmap.sync.runner import sync_lock

    deadline = time.monotonic() + timeout
    announced = False
    with ExitStack() as held:
        for name in names:
            lock = sync_lock(settings, name)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if not announced and on_wait is not None:
                    on_wait()
                announced = True
                try:
                    lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
                except Timeout:
                    raise SyncBusyError(
                        f"a vaultmap sync of this vault ({name}) still runs after "
                        f"{timeout:g} s; nothing was changed: try again when it has finished "
                        "(`vaultmap daemon status` shows the daemon's)") from None
            held.callback(lock.release)
        yield


__all__ = ["SYNC_LOCKS", "StateLock", "sync_turn"]
