"""Memos in ``<vault>/.vaultmap/``: a command's last answer, kept under a key that names all
it was made from, and served again while the key is the same (what a build system does).

Usage::

    key = ...  # a digest of everything the answer depends on (the notes' walk stamp, ...)
    kept = load_memo(settings, "report.terminal", key)
    if kept is None:
        kept = Memo(lines=(...), payload=answer)  # the answer, worked out
        save_memo(settings, "report.terminal", key, kept)

One file per name holds the last answer only: a changed key replaces it. The file is
written atomically through :func:`vaultmap.fs.atomic_write` and read through the safe reader
(a link, a FIFO or a huge file planted under its name is refused); a missing, damaged,
foreign or older memo is simply no memo, never an error. Building the key is the caller's
job, and the whole of its correctness: see ``docs/architecture.md`` (warm report).
"""

from __future__ import annotations

import contextlib
import functools

import msgspec

from vaultmap.config import Settings
from vaultmap.fs import Unreadable, UnsafePath, atomic_write, read_regular
from vaultmap.vault.paths import open_state_folder

_MEMO_MAGIC = "vaultmap-memo"
_MEMO_FORMAT = 1
# A report of a huge vault is a few MB; anything far larger under the name was not ours.
MAX_MEMO_BYTES = 512 * 1024 * 1024


class Memo(msgspec.Struct, frozen=True, array_like=True):
    """An answer kept: ``lines`` (the warnings it printed, say) and ``payload`` (its bytes);
    ``kind`` says what the payload is, for the caller."""

    kind: str
    lines: tuple[str, ...]
    payload: bytes


def memo_file_name(name: str) -> str:
    """The file name of the memo ``name`` inside ``.vaultmap/``."""
    return f"memo.{name}.msgpack"


def load_memo(settings: Settings, name: str, key: str) -> Memo | None:
    """The memo ``name`` if it was saved under ``key``; else (missing, another key, damaged,
    planted) None."""
    try:
        data, _ = read_regular(settings.state_dir / memo_file_name(name), MAX_MEMO_BYTES)
        magic, version, stored_key, memo = _decoder().decode(data)
    except (Unreadable, msgspec.DecodeError, ValueError, TypeError):
        return None
    if (magic, version, stored_key) != (_MEMO_MAGIC, _MEMO_FORMAT, key):
        return None
    return memo


def save_memo(settings: Settings, name: str, key: str, memo: Memo) -> bool:
    """Keep ``memo`` as the answer for ``key`` (replacing the last); whether it was written
    (a read-only vault, or a link planted in ``.vaultmap/``, goes without)."""
    file_name = memo_file_name(name)
    try:
        data = msgspec.msgpack.encode((_MEMO_MAGIC, _MEMO_FORMAT, key, memo))
        folder = open_state_folder(settings.state_dir, (file_name,))
        atomic_write(folder / file_name, data, new_mode=0o644)
    except (OSError, UnsafePath, UnicodeEncodeError, TypeError, ValueError):
        return False
    return True


def forget_memo(settings: Settings, name: str) -> None:
    """Remove the memo ``name`` (nothing happens when there is none)."""
    with contextlib.suppress(OSError):
        (settings.state_dir / memo_file_name(name)).unlink()


@functools.cache
def _decoder() -> msgspec.msgpack.Decoder[tuple[str, int, str, Memo]]:
    # Typed: the bytes can only ever become these values.
    return msgspec.msgpack.Decoder(tuple[str, int, str, Memo])
