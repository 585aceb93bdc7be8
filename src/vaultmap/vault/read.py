"""Reading one file into a note, safely: regular files only, size-capped, never hanging."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import NamedTuple

from vaultmap.config import Settings
from vaultmap.errors import VaultReadError
from vaultmap.fs import Unreadable, read_regular, text_problem
from vaultmap.model import Flavor, Note, StatusMap
from vaultmap.vault.paths import resolve_note


def parse_note(data: bytes, path: str, *, flavor: Flavor, statuses: StatusMap) -> Note:
    """:func:`vaultmap.parse.parse_note`, imported on first use: a warm scan parses nothing,
    and the parser's imports (YAML, the mojibake repair) are a good part of its start-up."""
    from vaultmap.parse import parse_note as parse

    return parse(data, path, flavor=flavor, statuses=statuses)


class _Outcome(NamedTuple):
    """One file's result: a note, or a warning explaining why it was skipped.

    ``size`` is -1 when the file could not even be opened (nothing to remember in the index).
    A worker process sends ``blob`` (the note in index encoding) instead of ``note``.
    """

    rel: str
    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int
    note: Note | None
    warning: str | None
    blob: bytes | None = None


def _oserror_reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    if error.errno == errno.ENOENT:
        return "broken symbolic link or vanished file"
    return f"cannot read ({error.strerror or type(error).__name__})"


NOTE_SIZE_LIMIT = "note size limit ([vault] max_note_mb)"


def _read_note_bytes(path: str, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """A note's bytes through the one safe reader; ``Unreadable`` names why it is not a note."""
    data, st = read_regular(path, max_bytes, NOTE_SIZE_LIMIT)
    problem = text_problem(data)
    if problem is not None:
        raise _NotText(problem, st)
    return data, st


class _NotText(Exception):
    """Internal: the file was read but holds no text we parse (binary, UTF-16)."""

    def __init__(self, reason: str, st: os.stat_result) -> None:
        super().__init__(reason)
        self.st = st


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
        data, st = _read_note_bytes(path, max_bytes)
    except Unreadable as unreadable:
        return _Outcome(rel, -1, -1, -1, -1, None, f"{rel}: {unreadable.reason}, skipped")
    except _NotText as not_text:
        st = not_text.st
        return _Outcome(rel, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, None,
                        f"{rel}: {not_text}, skipped")
    try:
        note = parse_note(data, rel, flavor=flavor, statuses=statuses)
    except Exception as error:  # a parser bug must cost one note, not the scan
        return _Outcome(rel, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, None,
                        f"{rel}: could not be parsed ({_describe(error)}), skipped")
    return _Outcome(rel, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, note, None)


def read_note(settings: Settings, path: Path) -> tuple[Note, bytes]:
    """Read and parse one note, returning it with the exact bytes it was parsed from.

    ``path`` is absolute or relative to the vault root.

    Raises :class:`VaultReadError` (one line naming the file) when the file is missing, outside
    the vault, not a regular file, binary or over the size cap. Parser warnings stay in
    ``note.warnings``.
    """
    path_abs, rel = resolve_note(settings, path)
    try:
        data, _ = _read_note_bytes(path_abs, settings.vault.max_note_bytes)
    except Unreadable as unreadable:
        reason = "is a folder, not a note" if unreadable.kind == "folder" else unreadable.reason
        raise VaultReadError(f"{rel}: {reason}") from None
    except _NotText as not_text:
        raise VaultReadError(f"{rel}: {not_text}") from None
    try:
        note = parse_note(data, rel, flavor=settings.vault.flavor, statuses=settings.statuses)
    except Exception as error:  # a parser bug: one line for the user, not a traceback
        raise VaultReadError(f"{rel}: could not be parsed ({_describe(error)})") from None
    return note, data

