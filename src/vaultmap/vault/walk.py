"""Walking a vault's folders: which files are notes, and which links are followed."""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from vaultmap.config import Settings
from vaultmap.errors import VaultReadError

if TYPE_CHECKING:
    import pathspec
from vaultmap.fs import relative_inside
from vaultmap.vault.paths import FolderRules, resolve_note
from vaultmap.vault.read import _oserror_reason


class _Found(NamedTuple):
    rel: str
    path: str
    size: int
    mtime_ns: int
    ino: int
    # The inode's change time: any write moves it, and no tool can set it back (an in-place
    # edit that keeps the size and restores the mtime still counts as a change).
    ctime_ns: int


class _Walker:
    """Collects the Markdown files under some folders, applying the ignore rules."""

    def __init__(self, settings: Settings, root_abs: str, rules: FolderRules) -> None:
        self.rules = rules
        self.root_abs = root_abs
        self.root_real = os.path.realpath(root_abs)
        self.extensions = tuple(ext.lower() for ext in settings.vault.extensions)
        patterns = [p for p in settings.vault.exclude if p.strip()]
        self.spec: pathspec.GitIgnoreSpec | None = None
        if patterns:
            import pathspec  # only a vault with exclude patterns pays for its import

            self.spec = pathspec.GitIgnoreSpec.from_lines(patterns)
        self.found: dict[str, _Found] = {}
        self.warnings: list[tuple[str, str]] = []
        self.unreadable: list[tuple[str, str]] = []
        # (st_dev, st_ino) of each folder reached through a link -> the link's path.
        self.linked_dirs: dict[tuple[int, int], str] = {}
        # (st_dev, st_ino) of each file reached through a link -> its first vault path.
        self.linked_files: dict[tuple[int, int], str] = {}

    def link_inside_vault(self, link_abs: str, rel: str, *, folder: bool) -> bool:
        """Warn about and skip a link whose target is inside the vault.

        The target is read at its real place (or is excluded there); reading it again through
        the link would count (and sync) its tasks twice, or forever for a link to a parent.
        Links to places outside the vault are followed.
        """
        target = relative_inside(self.root_real, os.path.realpath(link_abs))
        if target is None:
            return False
        if not folder:
            self.warn(rel, f"links to {target} inside the vault, read there, skipped")
        elif target == "" or rel.startswith(target + "/"):
            self.warn(rel + "/", "symbolic link loop (points to an enclosing folder), skipped")
        else:
            self.warn(rel + "/", f"links to {target}/ inside the vault, read there, skipped")
        return True

    def follow_folder_link(self, link_abs: str, rel: str) -> bool:
        """Whether to walk a linked folder; warns when it is skipped.

        Only links can make the walk revisit a folder, so only they are checked (a plain
        folder costs no extra ``stat``): a target inside the vault is read at its real place;
        a target outside that encloses the link is a loop; a second link to the same outside
        folder would count its tasks twice.
        """
        if self.link_inside_vault(link_abs, rel, folder=True):
            return False
        target_real = os.path.realpath(link_abs)
        parent_real = os.path.realpath(os.path.dirname(link_abs))
        if parent_real == target_real or parent_real.startswith(target_real.rstrip(os.sep)
                                                                 + os.sep):
            self.warn(rel + "/", "symbolic link loop (points to an enclosing folder), skipped")
            return False
        try:
            st = os.stat(link_abs)
        except OSError as error:
            self.warn(rel + "/", _oserror_reason(error) + ", skipped")
            return False
        earlier = self.linked_dirs.setdefault((st.st_dev, st.st_ino), rel)
        if earlier != rel:
            self.warn(rel + "/", f"same folder as {earlier}/, skipped")
            return False
        return True

    def first_sight(self, rel: str, st: os.stat_result) -> bool:
        """Whether a file reached through a link (to a place outside the vault) is seen for
        the first time; a second way to the same file is skipped with a warning, so one note
        is one note (one key per task, one row), however many links lead to it."""
        earlier = self.linked_files.setdefault((st.st_dev, st.st_ino), rel)
        if earlier != rel:
            self.warn(rel, f"same note as {earlier}, skipped")
            return False
        return True

    def unreadable_file(self, rel: str, message: str) -> None:
        """Warn about a file that looks like a note, or a folder (``rel`` ends with "/"), that
        cannot be read, and remember it."""
        self.warn(rel, message)
        self.unreadable.append(self.warnings[-1])

    def warn(self, rel: str, message: str) -> None:
        self.warnings.append((rel, f"{rel}: {message}"))

    def add_file(self, rel: str, path: str, st: os.stat_result) -> None:
        self.found[rel] = _Found(rel, path, st.st_size, st.st_mtime_ns, st.st_ino,
                                  st.st_ctime_ns)

    def walk(self, start_abs: str, start_rel: str) -> None:
        """Walk one folder (iteratively: deep folder trees must not hit the recursion limit)."""
        stack = [(start_abs, start_rel, False)]
        extensions = self.extensions
        spec = self.spec
        skips = self.rules.skips
        while stack:
            folder_abs, folder_rel, via_link = stack.pop()
            prefix = folder_rel + "/" if folder_rel else ""
            try:
                with os.scandir(folder_abs) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError as error:
                self.unreadable_file(folder_rel + "/", f"cannot list folder ({error.strerror})")
                continue
            subfolders: list[tuple[str, str, bool]] = []
            for entry in entries:
                name = entry.name
                rel = prefix + name
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if skips(name, rel):
                        continue
                    if spec is not None and spec.match_file(rel + "/"):
                        continue
                    linked = entry.is_symlink()
                    if linked and not self.follow_folder_link(entry.path, rel):
                        continue
                    subfolders.append((entry.path, rel, via_link or linked))
                    continue
                if not name.lower().endswith(extensions):
                    continue
                if spec is not None and spec.match_file(rel):
                    continue
                try:
                    file_st = entry.stat()
                except OSError as error:
                    self.unreadable_file(rel, _oserror_reason(error) + ", skipped")
                    continue
                if not stat_module.S_ISREG(file_st.st_mode):
                    self.unreadable_file(rel, "not a regular file, skipped")
                    continue
                if entry.is_symlink():
                    if self.link_inside_vault(entry.path, rel, folder=False):
                        continue
                    if not self.first_sight(rel, file_st):
                        continue
                elif via_link and not self.first_sight(rel, file_st):
                    continue
                self.found[rel] = _Found(rel, entry.path, file_st.st_size,
                                         file_st.st_mtime_ns, file_st.st_ino,
                                         file_st.st_ctime_ns)
            # Reversed so that popping from the stack walks folders in name order.
            stack.extend(reversed(subfolders))


def _selection(settings: Settings, root_abs: str,
               paths: Sequence[Path] | None) -> tuple[list[tuple[str, str]], list[str], bool]:
    """Split ``paths`` into folders to walk and named files; raise for missing ones.

    Returns (folders as (abs, rel), files as abs, whether the whole vault is walked).
    """
    if paths is None:
        return [(root_abs, "")], [], True
    folders: list[tuple[str, str]] = []
    files: list[str] = []
    for path in paths:
        path_abs, rel = resolve_note(settings, path)
        if os.path.isdir(path_abs):
            folders.append((path_abs, rel))
        elif os.path.lexists(path_abs):
            files.append(path_abs)
        else:
            raise VaultReadError(f"{path}: no such file or folder")
    # Parents first, and a folder inside another selected one is walked only once.
    kept: list[tuple[str, str]] = []
    for folder_abs, rel in sorted(folders, key=lambda item: item[1]):
        if not any(k == "" or rel == k or rel.startswith(k + "/") for _, k in kept):
            kept.append((folder_abs, rel))
    whole = any(rel == "" for _, rel in kept)
    return kept, files, whole


@dataclass(frozen=True, slots=True)
class VaultWalk:
    """The files a scan would read (:func:`walk_vault`): every note found with its ``stat``,
    and what could not be walked. ``stamp`` says whether anything changed since another walk
    of the same selection without reading a single note or the index."""

    started_ns: int  # the wall clock before the walk (what "racy" is measured against)
    walker: _Walker
    folders: tuple[tuple[str, str], ...]
    whole_vault: bool

    @property
    def stamp(self) -> str:
        """A digest of every note's path, size, modification and change times and inode, and of the
        walk's warnings: equal stamps mean the same files, unchanged (as far as ``stat``
        tells; the index trusts the same)."""
        walker = self.walker
        items = (list(walker.found.values()), walker.warnings, walker.unreadable,
                 self.folders)
        try:
            data = msgspec.msgpack.encode(items)
        except UnicodeEncodeError:  # a lone surrogate (an undecodable file name)
            data = repr(items).encode("utf-8", "backslashreplace")
        return hashlib.blake2b(data, digest_size=16).hexdigest()


def walk_vault(settings: Settings, *, paths: Sequence[Path] | None = None) -> VaultWalk:
    """Find the notes :func:`scan_vault` would read (the whole vault, or ``paths``) and
    ``stat`` them, reading none; raises as :func:`scan_vault` does for a missing vault or a
    path outside it. Pass the result to :func:`scan_vault` (``walk=``) to read them."""
    scan_start_ns = time.time_ns()
    root_abs = os.path.abspath(settings.root)
    if not os.path.isdir(root_abs):
        problem = "is not a folder" if os.path.exists(root_abs) else "no such vault folder"
        raise VaultReadError(f"{settings.root}: {problem}")
    folders, named_files, whole_vault = _selection(settings, root_abs, paths)

    walker = _Walker(settings, root_abs, FolderRules(Path(root_abs)))
    for folder_abs, folder_rel in folders:
        walker.walk(folder_abs, folder_rel)
    for file_abs in named_files:
        # Named files are read as asked: even with another extension or an exclude match.
        rel = resolve_note(settings, file_abs)[1]
        try:
            file_st = os.stat(file_abs)
        except OSError as error:
            walker.unreadable_file(rel, _oserror_reason(error) + ", skipped")
            continue
        if not stat_module.S_ISREG(file_st.st_mode):
            walker.unreadable_file(rel, "not a regular file, skipped")
            continue
        walker.add_file(rel, file_abs, file_st)

    return VaultWalk(scan_start_ns, walker, tuple(folders), whole_vault)
