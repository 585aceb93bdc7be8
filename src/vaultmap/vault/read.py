"""Reading one file into a note, safely: regular files only, size-capped, never hanging."""

from __future__ import annotations

import errno
import os
import stat as stat_module
from pathlib import Path
from typing import NamedTuple

from vaultmap.config import Settings
from vaultmap.model import Flavor, Note, StatusMap
from vaultmap.parse import parse_note
from vaultmap.vault.paths import VaultReadError, _abs, _vault_relative


class _Outcome(NamedTuple):
    """One file's result: a note, or a warning explaining why it was skipped.

    ``size`` is -1 when the file could not even be opened (nothing to remember in the index).
    A worker process sends ``blob`` (the note in index encoding) instead of ``note``.
    """

    rel: str
    size: int
    mtime_ns: int
    ino: int
    note: Note | None
    warning: str | None
    blob: bytes | None = None


def _oserror_reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    if error.errno == errno.ENOENT:
        return "broken symbolic link or vanished file"
    return f"cannot read ({error.strerror or type(error).__name__})"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _read_bytes(path: str, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """Read a regular file whole; raise ``_Skip`` with a reason for anything else."""
    # O_NONBLOCK: a FIFO swapped in after the walk's stat must not hang the scan.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat_module.S_ISREG(st.st_mode):
            raise _Skip("not a regular file")
        if st.st_size > max_bytes:
            raise _Skip(f"{_megabytes(st.st_size)} is over the {_megabytes(max_bytes)} note size "
                        "limit ([vault] max_note_mb)")
        # Ask for one byte more than stat promised: getting exactly st_size back from a
        # regular file means end of file, which saves a second read per note.
        data = os.read(fd, min(st.st_size + 1, max_bytes + 1))
        if len(data) != st.st_size:  # the file changed under us: read on to the real end
            chunks = [data]
            remaining = max_bytes + 1 - len(data)
            while remaining > 0:
                chunk = os.read(fd, min(remaining, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
            data = b"".join(chunks)
        if len(data) > max_bytes:
            raise _Skip(f"grew over the {_megabytes(max_bytes)} note size limit while being "
                        "read")
        return data, st
    finally:
        os.close(fd)


class _Skip(Exception):
    """Internal: this file is not a readable note; the message says why."""


def _check_text(data: bytes) -> None:
    if b"\x00" in data:
        raise _Skip("binary file (contains NUL bytes)")


def _describe(error: BaseException) -> str:
    """An exception as one short line: its type and the first line of its message."""
    lines = str(error).splitlines()
    detail = lines[0][:200] if lines else ""
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _prefixed(rel: str, message: str) -> str:
    return message if message.startswith(f"{rel}:") else f"{rel}: {message}"


def _parse_one(rel: str, path: str, flavor: Flavor, statuses: StatusMap,
               max_bytes: int) -> _Outcome:
    """Read and parse one file; never raises for a bad file."""
    try:
        data, st = _read_bytes(path, max_bytes)
    except _Skip as skip:
        return _Outcome(rel, -1, -1, -1, None, f"{rel}: {skip}, skipped")
    except OSError as error:
        return _Outcome(rel, -1, -1, -1, None, f"{rel}: {_oserror_reason(error)}, skipped")
    try:
        _check_text(data)
        note = parse_note(data, rel, flavor=flavor, statuses=statuses)
    except _Skip as skip:
        return _Outcome(rel, st.st_size, st.st_mtime_ns, st.st_ino, None,
                        f"{rel}: {skip}, skipped")
    except Exception as error:  # a parser bug must cost one note, not the scan
        return _Outcome(rel, st.st_size, st.st_mtime_ns, st.st_ino, None,
                        f"{rel}: could not be parsed ({_describe(error)}), skipped")
    return _Outcome(rel, st.st_size, st.st_mtime_ns, st.st_ino, note, None)


def read_note(settings: Settings, path: Path) -> tuple[Note, bytes]:
    """Read and parse one note, returning it with the exact bytes it was parsed from.

    Raises :class:`VaultReadError` (one line naming the file) when the file is missing, outside
    the vault, not a regular file, binary or over the size cap. Parser warnings stay in
    ``note.warnings``.
    """
    rel = _vault_relative(settings, path)
    if os.path.isdir(path):
        raise VaultReadError(f"{rel}: is a folder, not a note")
    try:
        data, _ = _read_bytes(_abs(path), settings.vault.max_note_bytes)
        _check_text(data)
    except _Skip as skip:
        raise VaultReadError(f"{rel}: {skip}") from None
    except OSError as error:
        raise VaultReadError(f"{rel}: {_oserror_reason(error)}") from None
    try:
        note = parse_note(data, rel, flavor=settings.vault.flavor, statuses=settings.statuses)
    except Exception as error:  # a parser bug: one line for the user, not a traceback
        raise VaultReadError(f"{rel}: could not be parsed ({_describe(error)})") from None
    return note, data

