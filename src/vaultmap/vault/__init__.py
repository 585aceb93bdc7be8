"""Walk a vault, read its notes and keep the on-disk index in ``<vault>/.vaultmap/``.

Usage::

    settings = load_settings(Path("~/Notes").expanduser())
    result = scan_vault(settings)            # every note, sorted by path
    for line in result.warnings:             # "folder/x.md: binary file ..., skipped"
        print(line)
    note, data = read_note(settings, Path("~/Notes/Plan.md").expanduser())

The walk skips ``.obsidian/``, ``.trash/``, ``.git/`` and ``.vaultmap/`` at any depth and the
``[vault] exclude`` patterns (gitignore syntax). A file that cannot be read (a broken or looping
symbolic link, a FIFO, a permission error, NUL bytes, over the size cap) or that the parser
chokes on becomes one warning line naming it; the rest of the vault is still read.

The index (``.vaultmap/scan-index.<flavor>.pickle``, a name kept from when it was a pickle:
it is MessagePack) maps each note's vault-relative path to the ``stat`` it had when it was
parsed and the parsed :class:`~vaultmap.model.Note`, pickled on its own. A later scan
re-parses only files whose size, mtime, inode or ctime changed. A file
modified within two seconds before the scan that recorded it is not trusted (an edit in the
same mtime tick would keep size and mtime: git's "racy" case) and is parsed again next time.
The file is written atomically (temporary file + rename), so two scans at once never produce a
torn read; the last writer wins. Its header names a format version and a fingerprint of all
that changes parsing (flavor, statuses, size cap, the parser's own source), so an index from
another configuration or an older vaultmap is rebuilt silently, as is a truncated or corrupt
one. The file is read with its types checked, and a note with an allow-list unpickler: a vault
from an untrusted source cannot run code through a planted index.
``scan_vault(settings, summarise=...)`` also keeps a summary of each note (the report's
rollup, as MessagePack) in its entry, beside the note, and hands it back while the note is
unchanged; ``notes=False`` reads the summaries alone, without decoding a single note (a warm
report).

Cold scans of more than a couple of MB parse in worker processes (``fork``; ``spawn`` only for
much larger jobs when other threads are running), falling back to this process if a worker
dies.

A few changed notes are written to a changes file beside the index (``*.changes``, tied to
the main file it extends) instead of rewriting the whole index. :func:`walk_vault` finds and
stats the notes without reading any (its :attr:`VaultWalk.stamp` tells whether anything
changed), and :mod:`~vaultmap.vault.memo` keeps a command's answers keyed on such stamps.

The package: :mod:`~vaultmap.vault.paths` (vault-relative paths, folders never walked),
:mod:`~vaultmap.vault.read` (one file), :mod:`~vaultmap.vault.walk` (the folders),
:mod:`~vaultmap.vault.index` (the index), :mod:`~vaultmap.vault.memo` (kept answers),
:mod:`~vaultmap.vault.pool` (worker processes) and
:mod:`~vaultmap.vault.scan` (:func:`scan_vault`, which ties them together).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vaultmap.vault.paths import ALWAYS_SKIPPED, VaultReadError, note_path

if TYPE_CHECKING:
    from vaultmap.vault.index import index_path, index_state
    from vaultmap.vault.memo import load_memo, save_memo
    from vaultmap.vault.read import read_note
    from vaultmap.vault.scan import ScanResult, UnreadablePath, scan_vault
    from vaultmap.vault.walk import VaultWalk, walk_vault

# The scan machinery (index, pool, parser) is imported on first use, so a command that only
# needs vault.paths (history, the merge driver) does not pay for it.
_LAZY = {"index_path": "index", "index_state": "index", "read_note": "read",
         "ScanResult": "scan", "UnreadablePath": "scan",
         "scan_vault": "scan", "VaultWalk": "walk", "walk_vault": "walk",
         "load_memo": "memo", "save_memo": "memo"}


_SUBMODULES = frozenset({"index", "memo", "paths", "pool", "read", "scan", "walk"})


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:  # `vaultmap.vault.index` reached as an attribute
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

__all__ = [
    "ALWAYS_SKIPPED",
    "ScanResult",
    "UnreadablePath",
    "VaultReadError",
    "VaultWalk",
    "index_path",
    "index_state",
    "load_memo",
    "note_path",
    "read_note",
    "save_memo",
    "scan_vault",
    "walk_vault",
]
