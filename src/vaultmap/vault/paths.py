"""Where things are in a vault: its root, vault-relative paths, and the folders never walked.

The rules (``docs/architecture.md``, "File-system rules"):

- **The vault root** of a path is the nearest folder at or above it (a file's folder first)
  holding ``.vaultmap.toml`` or ``.obsidian/``. Without such a marker it is the current folder
  when the path lies inside it, else the path's own folder (a file's folder). Every command
  (``report``, ``tasks``, ``done``/``undo``/``set``) uses this one rule.
- **A relative note path is relative to the vault root**, whatever the current folder: it is
  how vaultmap prints paths (``tasks``' ``PATH:LINE``, JSON, sync messages), so what it prints
  is always a valid name. Paths typed on the command line for ``report``/``tasks`` are made
  absolute by the CLI (the shell's rule) before they get here.
- A path outside the vault (lexically, or by real path for a vault reached through a link) is
  refused.
- **Folders never walked**: ``.obsidian``, ``.trash``, ``.git`` and ``.vaultmap`` at any depth,
  the folder Obsidian's templates plugin names in ``.obsidian/templates.json``, and in a folder
  without a vault marker every dot-folder (``.venv``, ``.cache`` ...) and ``node_modules``. A
  folder named on the command line is read as asked.
"""

from __future__ import annotations

import os
from pathlib import Path

from vaultmap.config import CONFIG_NAME, STATE_DIR, Settings
from vaultmap.errors import VaultReadError
from vaultmap.fs import (
    Unreadable,
    private_folder,
    read_regular,
    refuse_links,
    relative_inside,
)

__all__ = [
    "ALWAYS_SKIPPED",
    "UNMARKED_SKIPPED",
    "VAULT_MARKERS",
    "FolderRules",
    "VaultReadError",
    "find_vault_root",
    "has_marker",
    "note_path",
    "open_state_folder",
    "resolve_note",
]

#: Files or folders whose presence makes a folder a vault root.
VAULT_MARKERS = (CONFIG_NAME, ".obsidian")
#: Folder names never walked, at any depth.
ALWAYS_SKIPPED = frozenset({".obsidian", ".trash", ".git", STATE_DIR})
#: Also never walked in a folder without a vault marker (besides every dot-folder): a project
#: folder's dependencies are not the user's notes.
UNMARKED_SKIPPED = frozenset({"node_modules", "__pycache__"})

_STATE_IGNORE = ".gitignore"
_STATE_IGNORE_TEXT = b"# vaultmap's local state: never committed\n*\n"
_TEMPLATES_CONFIG = ".obsidian/templates.json"
_TEMPLATES_CONFIG_MAX_BYTES = 64 * 1024


def has_marker(folder: Path) -> bool:
    """Whether ``folder`` holds a vault marker (``.vaultmap.toml`` or ``.obsidian/``)."""
    return any(os.path.lexists(folder / marker) for marker in VAULT_MARKERS)


def find_vault_root(path: Path, cwd: Path | None = None) -> Path:
    """The vault that holds ``path`` (see the module's rules); ``cwd`` defaults to the
    current folder. The result is absolute, not resolved through links."""
    here = Path(os.path.abspath(cwd if cwd is not None else Path.cwd()))
    start = Path(os.path.abspath(here / path))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if has_marker(candidate):
            return candidate
    if relative_inside(str(here), str(folder)) is not None:
        return here
    return folder


def resolve_note(settings: Settings, path: Path | str) -> tuple[str, str]:
    """``(absolute path, vault-relative POSIX path)`` of ``path``: absolute, or relative to
    the vault root. Raises :class:`VaultReadError` when it lies outside the vault."""
    if "\0" in os.fspath(path):  # no file system takes it; os calls would raise ValueError
        raise VaultReadError(f"{os.fspath(path)!r}: a path cannot hold a NUL character")
    root_abs = os.path.abspath(settings.root)
    path_abs = os.path.abspath(os.path.join(root_abs, os.fspath(path)))
    rel = relative_inside(root_abs, path_abs)
    if rel is None:
        # The vault may be reached through a symbolic link (e.g. ~/Notes -> /data/notes), and
        # a path named by its real place, or the other way round.
        rel = relative_inside(os.path.realpath(root_abs), os.path.realpath(path_abs))
        if rel is not None:
            path_abs = os.path.join(root_abs, rel) if rel else root_abs
    if rel is None:
        raise VaultReadError(f"{path}: is outside the vault {settings.root}")
    return path_abs, rel


def note_path(settings: Settings, path: Path | str) -> str:
    """The vault-relative POSIX path of ``path`` (absolute, or relative to the vault root).

    Raises :class:`VaultReadError` when ``path`` is outside the vault.
    """
    return resolve_note(settings, path)[1]


def open_state_folder(state_dir: Path, files: tuple[str, ...] = (), *,
                      create: bool = True) -> Path:
    """``<vault>/.vaultmap`` (``state_dir``), made if missing with a ``.gitignore`` that keeps
    it out of git, for the index, the sync state and their locks.

    Raises :class:`~vaultmap.fs.UnsafePath` when the folder, or one of ``files`` in it, is a
    symbolic link: a vault from elsewhere cannot point our state at files outside it. Raises
    ``OSError`` when the folder cannot be made.
    """
    folder = private_folder(state_dir.parent, state_dir.name, create=create)
    refuse_links(folder, (_STATE_IGNORE, *files))
    if create and not os.path.lexists(folder / _STATE_IGNORE):
        try:
            fd = os.open(folder / _STATE_IGNORE,
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            return folder
        try:
            os.write(fd, _STATE_IGNORE_TEXT)
        finally:
            os.close(fd)
    return folder


def _templates_folder(root: Path) -> str | None:
    """The vault-relative folder Obsidian's core templates plugin reads, if it names one."""
    try:
        data, _ = read_regular(root / _TEMPLATES_CONFIG, _TEMPLATES_CONFIG_MAX_BYTES)
        import json  # only a vault with that file pays for it (every scan comes here)

        folder = json.loads(data).get("folder")
    except (Unreadable, ValueError, AttributeError):
        return None
    if not isinstance(folder, str):
        return None
    folder = folder.strip().strip("/")
    return folder or None


class FolderRules:
    """Which folders a walk of one vault skips: one place for the walker and for every check
    that a path is one the walk reads (the sync inbox)."""

    def __init__(self, root: Path) -> None:
        self.marked = has_marker(root)
        self.templates = _templates_folder(root) if self.marked else None

    def skips(self, name: str, rel: str) -> bool:
        """Whether the folder ``name`` at vault-relative ``rel`` is never walked."""
        if name in ALWAYS_SKIPPED:
            return True
        if not self.marked and (name.startswith(".") or name in UNMARKED_SKIPPED):
            return True
        return rel == self.templates

    def skipped_part(self, rel: str) -> str | None:
        """The first folder of the vault-relative file path ``rel`` that a walk skips."""
        parts = rel.split("/")[:-1]
        for index, name in enumerate(parts):
            folder = "/".join(parts[:index + 1])
            if self.skips(name, folder):
                return folder
        return None
