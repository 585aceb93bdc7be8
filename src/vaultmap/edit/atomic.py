"""Atomic, compare-and-swap rewrites of one file.

:func:`rewrite_file` is the only code in vaultmap that replaces a note. Each attempt:

1. opens the note (through a symlink: its target) and reads it whole; remembers inode, size,
   ``mtime_ns`` and SHA-256;
2. asks a pure ``transform`` for the new bytes;
3. writes them to a temporary file in the same folder, ``fsync``\\s it and gives it the note's
   permission bits (and owner, when allowed);
4. checks that the note is still the file we read, with the bytes we read (same inode; same
   size, mtime and hash). If it was only appended to, it re-parses with the appended bytes
   and, when the change stays the same, copies them into the temporary file and checks again.
   After any other change it drops the temporary file and starts again from step 1 (bounded,
   with jittered backoff);
5. renames the temporary file over the note and ``fsync``\\s the folder.

A kill at any moment therefore leaves either the old note or the new one.

Between step 4 and step 5, or through a file descriptor opened just before the rename, another
program can still write into the old file, which the rename has just unlinked. To never lose
such a write, we keep the old file open, wait (a Linux read lease, bounded) until no process
has it open for writing any more, and compare it with what we read. Bytes appended to it are
appended to the new note (the only case where appended lines may change order). If it was
rewritten in place (an editor saving), the ``transform`` is applied again to that newer
content, and anything appended to our new file meanwhile is kept after it. If that cannot be
done safely, the lost content is saved in the recovery folder and a warning is logged, so no
byte a user wrote is ever silently dropped.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import logging
import os
import random
import secrets
import signal
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from vaultmap.errors import (
    EditError,
    NoteBusyError,
    NoteVanishedError,
    OutsideVaultError,
    ReadOnlyNoteError,
)
from vaultmap.fs import (
    TEMP_SUFFIX,
    Unreadable,
    UnsafePath,
    copy_metadata,
    fsync_folder,
    open_regular,
    real_target_inside,
    write_all,
)

log = logging.getLogger("vaultmap.edit")

T = TypeVar("T")
Transform = Callable[[bytes], tuple[bytes | None, T]]

MAX_ATTEMPTS = 25
WRITER_WAIT_SECONDS = 2.0
STALE_TEMP_SECONDS = 600.0
# Each round re-runs the transform (a parse) on the grown note; a few rounds catch an
# occasional append, and a steady appender is handled by the tail copy after the rename.
MAX_APPEND_MERGES = 6


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


def wait_for_writers(fd: int, timeout: float = WRITER_WAIT_SECONDS) -> bool:
    """Wait until no process has the file behind ``fd`` (opened read-only) open for writing.

    Uses a Linux read lease, which the kernel grants only when nobody holds the file open for
    writing; it is released at once. Returns False when leases are unavailable (another OS, a
    file system without leases, a file we neither own nor may lease) or the wait timed out.
    """
    set_lease = getattr(fcntl, "F_SETLEASE", None)
    if set_lease is None:
        return False
    # Should someone open the file for writing while we hold the lease (a hard link to it),
    # the kernel signals us; the default SIGIO would kill the process. SIGURG is ignored by
    # default and nobody handles it for a regular file.
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
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


def _write_temp(real: Path, content: bytes, source_fd: int | None,
                display: str) -> tuple[Path, int]:
    """Write ``content`` durably to a new temporary file next to ``real``, with the metadata
    of the note open at ``source_fd`` (mode, owner when allowed, ``user.*`` extended
    attributes, ACLs). Returns the path and the still open descriptor."""
    temp = real.with_name(f".{real.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    # A new note gets 0o666 minus the umask, as any editor would create it.
    create_mode = 0o600 if source_fd is not None else 0o666
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, create_mode)
    except OSError as exc:
        raise EditError(f"{display}: cannot write in its folder ({exc.strerror})") from None
    try:
        write_all(fd, content)
        if source_fd is not None:
            copy_metadata(source_fd, fd, os.fstat(source_fd))
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        _unlink_quietly(temp)
        raise EditError(f"{display}: cannot write ({exc.strerror})") from None
    return temp, fd


def remove_stale_temps(real: Path, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove temporary files of ``real`` left by a killed writer; return how many.

    Only our own naming pattern, and only files older than ``older_than`` seconds: a younger
    one may belong to a writer that is still running.
    """
    pattern = glob.escape(f".{real.name}.") + "*" + glob.escape(TEMP_SUFFIX)
    cutoff = time.time() - older_than
    removed = 0
    for leftover in glob.glob(pattern, root_dir=real.parent, include_hidden=True):
        path = real.parent / leftover
        try:
            if path.lstat().st_mtime < cutoff and path.is_file():
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


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


@dataclass(frozen=True, slots=True)
class _Rebase:
    """The file we replaced was rewritten in place during our write: redo our change on it."""

    content: bytes  # what the replaced file held in the end
    written: bytes  # what we had written; appends made to it since are kept after it
    ours: bool  # the replaced file already held our change (an earlier write of this call)


# The compare-and-swap verdict on a note just before the rename: unchanged since we read it,
# only appended to (the new state comes with it), or changed (start over).
Recheck = Literal["same", "appended", "changed"]


def _recheck(real: Path, fd: int, seen: _Seen) -> tuple[Recheck, _Seen | None]:
    """Compare the note with what we read: ``("same", None)``, ``("appended", new state)``
    when it is the same file with bytes added at the end, else ``("changed", None)``."""
    try:
        now = os.stat(real)
    except FileNotFoundError:
        return "changed", None
    if (now.st_ino, now.st_dev) != (seen.ino, seen.dev) or now.st_size < seen.size:
        return "changed", None
    if now.st_size == seen.size and now.st_mtime_ns == seen.mtime_ns:
        # Same size and mtime can hide an edit within the clock's granularity: compare bytes.
        same = hashlib.sha256(_read_fd(fd)).digest() == seen.sha256
        return ("same", None) if same else ("changed", None)
    grown = _see(fd)
    if grown.data == seen.data:
        return "same", None  # touched, not changed
    if grown.data.startswith(seen.data):
        return "appended", grown
    return "changed", None


def _append_lost(real: Path, our_inode: tuple[int, int], extra: bytes,
                 recovery_dir: Path | None) -> None:
    """Append bytes that landed in the replaced file to our new file, if it is still ours."""
    try:
        fd = os.open(real, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        save_lost(recovery_dir, real, extra)
        return
    try:
        st = os.fstat(fd)
        if (st.st_ino, st.st_dev) != our_inode:
            save_lost(recovery_dir, real, extra)  # replaced again meanwhile: keep it aside
            return
        view = memoryview(extra)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except OSError:
        save_lost(recovery_dir, real, extra)
    finally:
        os.close(fd)


def _open_note(real: Path, display: str, create: bool) -> int | None:
    # The one safe opener: O_NONBLOCK, so a FIFO named like a note cannot hang us, and the
    # opened descriptor checked to be a regular file.
    try:
        fd, _ = open_regular(real)
    except Unreadable as unreadable:
        if unreadable.kind == "missing":
            if not create:
                raise NoteVanishedError(f"{display}: the note no longer exists") from None
            return None
        if unreadable.kind == "folder":
            raise EditError(f"{display}: is a folder, not a note") from None
        if unreadable.kind == "special":
            raise EditError(f"{display}: is not a regular file, not a note") from None
        raise EditError(f"{display}: cannot open ({unreadable.reason})") from None
    return fd


def _merge_appends(
    real: Path, fd: int, seen: _Seen, temp_fd: int, target: bytes, payload: T,
    transform: Transform[T], allowed: bool,
) -> tuple[_Seen, bytes, T] | None:
    """The compare-and-swap check just before the rename.

    Returns what the note holds and what we are about to write when the note is (still, or
    again) exactly what our temporary file was made from; ``None`` when the attempt must start
    over. A note that was only appended to meanwhile (a script adding a line, a sync inbox) is
    transformed again with the appended bytes and the temporary file updated (usually by just
    copying those bytes to its end), so they are read and kept rather than overwritten, without
    starting over (which a steady appender could make us do forever). After
    ``MAX_APPEND_MERGES`` rounds that each found more appended, the latest round is used.
    """
    for _round in range(MAX_APPEND_MERGES):
        verdict, state = _recheck(real, fd, seen)
        if verdict == "same":
            return seen, target, payload
        if state is None or not allowed:
            return None
        extra = state.data[seen.size:]
        new, new_payload = transform(state.data)
        new_target = state.data if new is None else new
        try:
            if new_target == target + extra:
                write_all(temp_fd, extra)  # the usual case: our change is not affected
            else:
                # The result differs in more than the tail (append_tasks puts our lines after
                # theirs): write it whole, durably, as a fresh attempt would.
                os.ftruncate(temp_fd, 0)
                os.lseek(temp_fd, 0, os.SEEK_SET)
                write_all(temp_fd, new_target)
                os.fsync(temp_fd)
        except OSError:
            return None
        seen, target, payload = state, new_target, new_payload
    # Still being appended to after every round (a steady, fast appender): our temporary
    # file holds everything up to the last round, so go ahead; what lands in the replaced
    # file after it is appended right after the rename, like the tail of any last check.
    return seen, target, payload


def rewrite_file(
    path: Path,
    transform: Transform[T],
    *,
    display: str,
    create: bool = False,
    recovery_dir: Path | None = None,
    inside: Path | None = None,
) -> T:
    """Replace ``path`` with ``transform(old bytes)`` atomically; return the transform's payload.

    ``transform`` must be pure: it gets the current bytes and returns the new bytes (``None``
    for "no change") and a payload. It may run several times (on each retry). ``display`` names
    the note in messages. With ``create``, a missing file is treated as empty and created;
    otherwise a missing file is :class:`NoteVanishedError`. A read-only note is
    :class:`ReadOnlyNoteError`; a note that keeps changing under us is :class:`NoteBusyError`.

    Appends made by others while we work are read and copied into our new file before the
    rename (when they do not change what the transform does), so a steady appender cannot
    starve us. Bytes that still land in the replaced file after the last check are appended
    right after the rename: none is lost, though lines appended within the same few
    microseconds may end up in a different order.

    A symbolic link is written at its target. With ``inside`` (the vault root), that target
    must lie inside the real path of ``inside``; otherwise :class:`OutsideVaultError` and
    nothing is written.
    """
    if inside is not None:
        try:
            real = real_target_inside(inside, path)
        except UnsafePath as unsafe:
            raise OutsideVaultError(f"{display}: {unsafe.reason}; nothing changed") from None
    else:
        real = Path(os.path.realpath(path))
    rebase: _Rebase | None = None
    applied: list[T] = []  # payloads of the transforms whose results we wrote
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            # Jittered backoff: a note being saved repeatedly usually goes quiet in a moment.
            time.sleep(random.uniform(0, min(0.05, 0.0005 * 2 ** attempt)))
        fd = _open_note(real, display, create)
        try:
            seen = _see(fd) if fd is not None else None
            current = seen.data if seen is not None else b""
            base, suffix = current, b""
            if rebase is not None:
                if not current.startswith(rebase.written):
                    # Replaced again since our write: our change is in; the lost edit is kept
                    # aside rather than guessed into someone else's version.
                    save_lost(recovery_dir, real, rebase.content)
                    return applied[-1]
                base, suffix = rebase.content, current[len(rebase.written):]
            new, payload = transform(base)
            if rebase is not None and rebase.ours:
                payload = applied[-1]  # our change was applied before; the user built on it
            target = (base if new is None else new) + suffix
            if target == current:
                return payload
            if seen is not None:
                _check_writable(real, seen, display)
            temp, temp_fd = _write_temp(real, target, fd, display)
            try:
                temp_st = os.fstat(temp_fd)
                if fd is None or seen is None:
                    try:
                        os.link(temp, real)  # creates, but never over a file made meanwhile
                    except FileExistsError:
                        continue
                    except OSError as exc:
                        raise EditError(f"{display}: cannot create ({exc.strerror})") from None
                else:
                    merged = _merge_appends(real, fd, seen, temp_fd, target, payload, transform,
                                            rebase is None)
                    if merged is None:
                        continue
                    seen, target, payload = merged
                    try:
                        os.replace(temp, real)
                    except OSError as exc:
                        raise EditError(f"{display}: cannot replace ({exc.strerror})") from None
                    with contextlib.suppress(OSError):
                        os.fsync(temp_fd)  # the appended tail, if any (the bulk was synced)
            finally:
                os.close(temp_fd)
                _unlink_quietly(temp)  # after link/replace/abandon alike
            fsync_folder(real.parent)
            if not applied:
                remove_stale_temps(real)
            applied.append(payload)
            rebase = None
            if fd is None or seen is None:
                return payload
            wait_for_writers(fd)
            after = _read_fd(fd)
            if after == seen.data:
                return payload
            if after.startswith(seen.data):
                _append_lost(real, (temp_st.st_ino, temp_st.st_dev), after[seen.size:],
                             recovery_dir)
                return payload
            # The replaced file was rewritten in place: redo our change on that content.
            rebase = _Rebase(after, target, ours=len(applied) > 1)
        finally:
            if fd is not None:
                os.close(fd)
    if applied:
        # Our change is in the note; only a concurrent in-place edit could not be redone on top.
        if rebase is not None:
            save_lost(recovery_dir, real, rebase.content)
        return applied[-1]
    raise NoteBusyError(f"{display}: the note kept changing while vaultmap wrote it; "
                        "nothing changed, try again")
