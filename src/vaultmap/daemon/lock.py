"""One daemon per vault: an advisory ``flock`` on ``.vaultmap/daemon.lock`` holding the pid.

The kernel drops a ``flock`` when its process dies, however it dies (``kill -9`` included), so
a lock left by a dead daemon is simply taken over: there is no stale-pid guessing. A live
holder is refused with its pid (:class:`~vaultmap.errors.DaemonRunningError`, exit 20).
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

from vaultmap.errors import DaemonRunningError, StateError
from vaultmap.fs import Unreadable, is_pid, read_regular

LOCK_NAME = "daemon.lock"  # the name `vaultmap doctor` reads


def read_pid(lock_path: Path) -> int | None:
    """The pid written in the lock file, or None."""
    try:  # a regular file of a few bytes: a FIFO or /dev/zero in its place is no pid
        text = read_regular(lock_path, 64)[0].decode("ascii", "replace").strip()
    except Unreadable:
        return None
    pid = int(text) if text.isascii() and text.isdigit() else None
    return pid if is_pid(pid) else None


def lock_is_held(lock_path: Path) -> bool:
    """Whether some process holds the daemon lock now (probed without taking it for long)."""
    try:
        # O_NONBLOCK: opening a FIFO planted in the lock's place must not wait for a writer.
        fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's shared lock, if it got one
    return False


class DaemonLock:
    """Held for the life of a daemon; ``with DaemonLock(state_dir):``."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and write our pid, or raise :class:`DaemonRunningError`."""
        try:
            self.path.parent.mkdir(exist_ok=True)
            # No O_TRUNC before the lock is ours: the holder's pid must stay readable.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            raise StateError(f"{self.path}: cannot open the daemon lock "
                             f"({error.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = read_pid(self.path)
            holder = f" (pid {pid})" if pid else ""
            raise DaemonRunningError(f"a vaultmap daemon already runs for this vault{holder}; "
                                     "`vaultmap daemon stop` stops it") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays: removing it would race a starting daemon)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
