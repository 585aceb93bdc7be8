"""Where things are in a vault: vault-relative paths and the folders a walk never enters."""

from __future__ import annotations

import os
from pathlib import Path

from vaultmap.config import STATE_DIR, Settings
from vaultmap.errors import VaultReadError as VaultReadError

#: Folder names never walked, at any depth.
ALWAYS_SKIPPED = frozenset({".obsidian", ".trash", ".git", STATE_DIR})


def _abs(path: Path | str) -> str:
    return os.path.abspath(os.fspath(path))


def _relative(root_abs: str, path_abs: str) -> str | None:
    """``path`` relative to ``root`` with POSIX separators, or None when it is outside."""
    rel = os.path.relpath(path_abs, root_abs)
    if rel == os.curdir:
        return ""
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def _vault_relative(settings: Settings, path: Path | str) -> str:
    root_abs = _abs(settings.root)
    path_abs = _abs(path)
    rel = _relative(root_abs, path_abs)
    if rel is None:
        # The vault may be reached through a symbolic link (e.g. ~/Notes -> /data/notes).
        rel = _relative(os.path.realpath(root_abs), os.path.realpath(path_abs))
    if rel is None:
        raise VaultReadError(f"{path}: is outside the vault {settings.root}")
    return rel


def note_path(settings: Settings, path: Path) -> str:
    """The vault-relative POSIX path of ``path`` (absolute, or relative to the current folder).

    Raises :class:`VaultReadError` when ``path`` is outside the vault.
    """
    return _vault_relative(settings, path)

