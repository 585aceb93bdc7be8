"""Atomic, compare-and-swap rewrites of one file.

:func:`rewrite_file` is the only code in vaultmap that replaces a note. Each attempt:

1. opens the note (through a symlink: its target) and reads it whole; remembers inode, size,
   ``mtime_ns`` and SHA-256;
2. asks a pure ``transform`` for the new bytes;
3. writes them to a temporary file in the same folder, ``fsync``\\s it and gives it the note's
   permission bits (and owner, when allowed);
4. checks that the note is still exactly what was read (same inode, size, mtime, hash);
   otherwise it drops the temporary file and starts again from step 1 (bounded);
5. renames the temporary file over the note and ``fsync``\\s the folder.

A kill at any moment therefore leaves either the old note or the new one.

Step 4 and step 5 are two system calls, so another program can still write between them, or
write through a file descriptor it opened just before the rename. Such a write lands in the old
file, which the rename has just unlinked. To never lose it, we keep the old file open, wait
(Linux file leases, bounded) until no process has it open for writing any more, and compare it
with what we read. If it changed, the change is carried over: the ``transform`` is applied again
to that newer content, and whatever was appended to our new file meanwhile is kept after it. If
that cannot be done safely, the lost content is saved in the recovery folder and a warning is
logged, so no byte a user wrote is ever silently dropped.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from vaultmap.errors import EditError, NoteBusyError, NoteVanishedError, ReadOnlyNoteError

log = logging.getLogger("vaultmap.edit")

T = TypeVar("T")
Transform = Callable[[bytes], tuple[bytes | None, T]]

MAX_ATTEMPTS = 25
WRITER_WAIT_SECONDS = 2.0
TEMP_SUFFIX = ".vaultmap-tmp"


@dataclass(frozen=True, slots=True)
class _Seen:
    """What a note was when we read it."""

    data: bytes
    ino: int
    dev: int
    size: int
    mtime_ns: int
    mode: int
    uid: int
    gid: int
    sha256: bytes


def _read_fd(fd: int) -> bytes:
    chunks: list[bytes] = []
    pos = 0
    while True:
        chunk = os.pread(fd, 1 << 20, pos)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        pos += len(chunk)


def _see(fd: int) -> _Seen:
    st = os.fstat(fd)
    data = _read_fd(fd)
    return _Seen(data, st.st_ino, st.st_dev, len(data), st.st_mtime_ns, stat.S_IMODE(st.st_mode),
                 st.st_uid, st.st_gid, hashlib.sha256(data).digest())


def _still_same(real: Path, fd: int, seen: _Seen) -> bool:
    """True when the path still names the file we read, with the bytes we read."""
    try:
        now = os.stat(real)
    except FileNotFoundError:
        return False
    if (now.st_ino, now.st_dev) != (seen.ino, seen.dev):
        return False
    if now.st_size != seen.size or now.st_mtime_ns != seen.mtime_ns:
        return False
    # Same size and mtime can still hide an edit within the clock's granularity: compare bytes.
    return hashlib.sha256(_read_fd(fd)).digest() == seen.sha256


def wait_for_writers(fd: int, timeout: float = WRITER_WAIT_SECONDS) -> bool:
    """Wait until no process has the file behind ``fd`` (opened read-only) open for writing.

    Uses a Linux read lease, which the kernel grants only when nobody holds the file open for
    writing; it is released at once. Returns False when leases are unavailable (another OS, a
    file system without leases, a file we neither own nor may lease) or the wait timed out.
    """
    set_lease = getattr(fcntl, "F_SETLEASE", None)
    if set_lease is None:
        return False
    deadline = time.monotonic() + timeout
    delay = 0.0002
    while True:
        try:
            fcntl.fcntl(fd, set_lease, fcntl.F_RDLCK)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                return False
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)  # a writer is mid-write; its close is what we wait for
            delay = min(delay * 2, 0.02)
            continue
        fcntl.fcntl(fd, set_lease, fcntl.F_UNLCK)
        return True


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # some platforms cannot open a folder; the rename itself is still atomic
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _write_temp(real: Path, content: bytes, seen: _Seen | None, display: str) -> Path:
    """Write ``content`` to a new temporary file next to ``real``, durable, with the note's mode."""
    temp = real.with_name(f".{real.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    # A new note gets 0o666 minus the umask, as any editor would create it.
    create_mode = 0o600 if seen is not None else 0o666
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, create_mode)
    except OSError as exc:
        raise EditError(f"{display}: cannot write in its folder ({exc.strerror})") from None
    try:
        view = memoryview(content)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if seen is not None:
            os.fchmod(fd, seen.mode)
            st = os.fstat(fd)
            if (st.st_uid, st.st_gid) != (seen.uid, seen.gid):
                # Only root may give a file away; otherwise the note becomes ours.
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, seen.uid, seen.gid)
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        _unlink_quietly(temp)
        raise EditError(f"{display}: cannot write ({exc.strerror})") from None
    os.close(fd)
    return temp


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def save_lost(recovery_dir: Path | None, real: Path, content: bytes) -> Path | None:
    """Keep bytes we could not merge back, so no user edit is ever silently dropped."""
    folder = recovery_dir if recovery_dir is not None else real.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{real.name}.{time.time_ns()}.lost"
        target.write_bytes(content)
    except OSError as exc:
        log.error("%s: an edit made during our write could not be saved (%s)", real, exc.strerror)
        return None
    log.warning("%s: an edit made during our write could not be merged; saved as %s",
                real, target)
    return target


def _check_writable(real: Path, seen: _Seen, display: str) -> None:
    # Root ignores permission bits, so the bits themselves are the rule: a note whose mode has
    # no write bit for anyone was made read-only on purpose, and vaultmap respects that.
    if not seen.mode & 0o222 or not os.access(real, os.W_OK):
        raise ReadOnlyNoteError(f"{display}: the note is read-only; nothing changed")


def rewrite_file(
    path: Path,
    transform: Transform[T],
    *,
    display: str,
    create: bool = False,
    recovery_dir: Path | None = None,
) -> T:
    """Replace ``path`` with ``transform(old bytes)`` atomically; return the transform's payload.

    ``transform`` must be pure: it gets the current bytes and returns the new bytes (``None``
    for "no change") and a payload. It may run several times (on each retry). ``display`` names
    the note in messages. With ``create``, a missing file is treated as empty and created;
    otherwise a missing file is :class:`NoteVanishedError`. A read-only note is
    :class:`ReadOnlyNoteError`; a note that keeps changing under us is :class:`NoteBusyError`.
    """
    real = Path(os.path.realpath(path))
    # After a lost write (see the module docstring): the content that was lost, and what we
    # wrote just before, so its later appends can be kept.
    carried: bytes | None = None
    written: bytes | None = None
    applied: list[T] = []  # the payload of the transform whose result we last wrote
    for _attempt in range(MAX_ATTEMPTS):
        fd: int | None
        try:
            # O_NONBLOCK: a FIFO named like a note must not hang us; it is refused below.
            fd = os.open(real, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            if not create:
                raise NoteVanishedError(f"{display}: the note no longer exists") from None
            fd = None
        except IsADirectoryError:
            raise EditError(f"{display}: is a folder, not a note") from None
        except OSError as exc:
            raise EditError(f"{display}: cannot open ({exc.strerror})") from None
        try:
            if fd is not None and not stat.S_ISREG(os.fstat(fd).st_mode):
                kind = "a folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "not a regular file"
                raise EditError(f"{display}: is {kind}, not a note")
            seen = _see(fd) if fd is not None else None
            current = seen.data if seen is not None else b""
            base, suffix = current, b""
            if carried is not None and written is not None:
                if not current.startswith(written):
                    # Rewritten again since our write: our change is in, the lost edit is kept
                    # aside rather than guessed into someone else's version.
                    save_lost(recovery_dir, real, carried)
                    return applied[-1]
                # Redo our change on the content that was lost, keep what came after ours.
                base, suffix = carried, current[len(written):]
                carried = written = None
            new, payload = transform(base)
            target = (base if new is None else new) + suffix
            if target == current:
                return payload
            if seen is not None:
                _check_writable(real, seen, display)
            temp = _write_temp(real, target, seen, display)
            try:
                if seen is None:
                    try:
                        os.link(temp, real)  # creates, but never over a file made meanwhile
                    except FileExistsError:
                        continue
                    except OSError as exc:
                        raise EditError(f"{display}: cannot create ({exc.strerror})") from None
                else:
                    assert fd is not None
                    if not _still_same(real, fd, seen):
                        continue
                    try:
                        os.replace(temp, real)
                    except OSError as exc:
                        raise EditError(f"{display}: cannot replace ({exc.strerror})") from None
            finally:
                _unlink_quietly(temp)  # after link/replace/abandon alike
            _fsync_dir(real.parent)
            applied.append(payload)
            if fd is None or seen is None:
                return payload
            wait_for_writers(fd)
            after = _read_fd(fd)
            if after == seen.data:
                return payload
            # Someone wrote into the file we just replaced: carry it over on the next attempt.
            carried, written = after, target
        finally:
            if fd is not None:
                os.close(fd)
    if carried is not None:
        save_lost(recovery_dir, real, carried)
    raise NoteBusyError(f"{display}: the note kept changing while vaultmap wrote it; "
                        "nothing changed, try again")
