"""Memos in ``<vault>/.vaultmap/``: a command's last answer, kept under a key that names all
it was made from, and served again while the key is the same (what a build system does).

Usage::

    key = ...  # a digest of everything the answer depends on (the notes' walk stamp, ...)
    kept = load_memo(settings, "report.terminal", key)
    if kept is None:
        kept = Memo(lines=(...), payload=answer)  # the answer, worked out
        save_memo(settings, "report.terminal", key, kept)

Each answer is a file of its own, named by the memo's name and its key; the few newest of
each name are kept (a user switching between two views gets both served). A file is
written atomically through :func:`vaultmap.fs.atomic_write` and read through the safe reader
(a link, a FIFO or a huge file planted under its name is refused); a missing, damaged,
foreign or older memo is simply no memo, never an error. Building the key is the caller's
job, and the whole of its correctness: see ``docs/architecture.md`` (warm report).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re

import msgspec

from vaultmap.config import Settings
from vaultmap.fs import Unreadable, UnsafePath, atomic_write, read_regular
from vaultmap.vault.paths import open_state_folder

_MEMO_MAGIC = "vaultmap-memo"
# How many answers of one name are kept (the newest).
KEPT_PER_NAME = 4
_KEY = re.compile(r"[0-9a-f]{16,128}")
_MEMO_FORMAT = 1
# A report of a huge vault is a few MB; anything far larger under the name was not ours.
MAX_MEMO_BYTES = 512 * 1024 * 1024


class Memo(msgspec.Struct, frozen=True, array_like=True):
    """An answer kept: ``lines`` (the warnings it printed, say) and ``payload`` (its bytes);
    ``kind`` says what the payload is, for the caller."""

    kind: str
    lines: tuple[str, ...]
    payload: bytes


def memo_file_name(name: str, key: str) -> str:
    """The file name of the memo ``name`` for ``key`` (hex digits) inside ``.vaultmap/``."""
    if not _KEY.fullmatch(key):
        raise ValueError("a memo key is hex digits")
    return f"memo.{name}.{key}.msgpack"


def load_memo(settings: Settings, name: str, key: str) -> Memo | None:
    """The memo ``name`` if one was saved under ``key``; else (missing, damaged, planted)
    None."""
    try:
        data, _ = read_regular(settings.state_dir / memo_file_name(name, key), MAX_MEMO_BYTES)
        magic, version, stored_key, memo = _decoder().decode(data)
    except (Unreadable, msgspec.DecodeError, ValueError, TypeError):
        return None
    if (magic, version, stored_key) != (_MEMO_MAGIC, _MEMO_FORMAT, key):
        return None
    return memo


def save_memo(settings: Settings, name: str, key: str, memo: Memo) -> bool:
    """Keep ``memo`` as the answer for ``key``, and the few newest others of ``name``;
    whether it was written (a read-only vault, or a link planted in ``.vaultmap/``, goes
    without)."""
    try:
        file_name = memo_file_name(name, key)
        data = msgspec.msgpack.encode((_MEMO_MAGIC, _MEMO_FORMAT, key, memo))
        folder = open_state_folder(settings.state_dir, (file_name,))
        atomic_write(folder / file_name, data, new_mode=0o644)
    except (OSError, UnsafePath, UnicodeEncodeError, TypeError, ValueError):
        return False
    _prune(folder, name)
    return True


def forget_memos(settings: Settings, name: str) -> None:
    """Remove every memo of ``name`` (nothing happens when there is none)."""
    _prune(settings.state_dir, name, keep=0)


def _prune(folder: os.PathLike[str] | str, name: str, keep: int = KEPT_PER_NAME) -> None:
    """Remove all but the ``keep`` newest memos of ``name`` (regular files only)."""
    prefix, found = f"memo.{name}.", []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(prefix) and entry.name.endswith(".msgpack") \
                        and _KEY.fullmatch(entry.name[len(prefix):-len(".msgpack")]) \
                        and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        found.append((entry.stat(follow_symlinks=False).st_mtime_ns,
                                      entry.path))
    except OSError:
        return
    found.sort(reverse=True)
    for _, path in found[keep:]:
        with contextlib.suppress(OSError):
            os.unlink(path)


@functools.cache
def _decoder() -> msgspec.msgpack.Decoder[tuple[str, int, str, Memo]]:
    # Typed: the bytes can only ever become these values.
    return msgspec.msgpack.Decoder(tuple[str, int, str, Memo])
