"""The file-system edge: every file vaultmap reads or writes goes through this module.

It sits in the shared base with :mod:`vaultmap.config` and :mod:`vaultmap.errors` (it imports
nothing of vaultmap but the errors), so the config loader, the vault scan, the editor, the
index and the sync state all use the same rules. The rules (``docs/architecture.md``,
"File-system rules"):

Reading
    :func:`read_regular` opens with ``O_NONBLOCK`` (a FIFO cannot hang us), checks the opened
    descriptor with ``fstat`` (regular files only: no FIFO, device, socket or folder, whatever
    the name looked like a moment before) and refuses anything over a size cap before reading
    it. The same reader serves notes, ``.vaultmap.toml``, the index and the sync state.

Paths
    :func:`relative_inside` maps a path to a root-relative POSIX path, or ``None`` outside.
    :func:`real_target_inside` is the write rule: a write goes to the *real* path of its target
    (symbolic links resolved), and that real path must be inside the real path of the vault.
    Notes may be *read* through links to anywhere; nothing is ever *written* outside.

Writing
    :func:`atomic_write` writes a temporary file in the target's folder, ``fsync``\\s it, gives
    it the old file's mode, owner (when allowed), ``user.*`` extended attributes and POSIX ACLs
    (:func:`copy_metadata`), renames it over the target and ``fsync``\\s the folder. A kill at
    any moment leaves the old file or the new one. Notes themselves are written by
    :func:`vaultmap.edit.atomic.rewrite_file`, which adds compare-and-swap on top of the same
    pieces.

State folders
    :func:`private_folder` creates or opens ``<vault>/.vaultmap`` (or any folder vaultmap owns
    inside a vault) refusing a symbolic link in its place, and :func:`refuse_links` refuses
    links planted for the files inside it: a vault cloned from elsewhere cannot redirect our
    state files to places outside it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeGuard

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "MAX_CONFIG_BYTES",
    "TEMP_SUFFIX",
    "Unreadable",
    "UnsafePath",
    "atomic_write",
    "copy_metadata",
    "fsync_folder",
    "megabytes",
    "open_regular",
    "private_folder",
    "read_regular",
    "real_target_inside",
    "refuse_links",
    "relative_inside",
    "text_problem",
    "write_all",
]

#: The name ending of every temporary file vaultmap writes (and may clean up when stale).
TEMP_SUFFIX = ".vaultmap-tmp"

#: ``.vaultmap.toml`` is a few KB; anything past this is not a config file someone wrote.
MAX_CONFIG_BYTES = 1024 * 1024

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

# Extended attributes copied to a rewritten file: the user's own (tags, Finder/KDE labels,
# "where from"), and the POSIX ACLs, which Linux stores as these two system attributes.
_ACL_ATTRIBUTES = ("system.posix_acl_access", "system.posix_acl_default")

UnreadableKind = Literal["missing", "folder", "special", "too_big", "denied", "other"]


class Unreadable(Exception):
    """A file that is not a readable regular file; ``reason`` is a short phrase for a user."""

    def __init__(self, reason: str, kind: UnreadableKind) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class UnsafePath(Exception):
    """A path vaultmap was about to write is a link, or leads outside the folder it must stay
    in; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def megabytes(size: int) -> str:
    """``12.3 MB``: a size as people read it."""
    return f"{size / (1024 * 1024):.1f} MB"


def _oserror_unreadable(error: OSError) -> Unreadable:
    if error.errno == errno.ELOOP:
        return Unreadable("symbolic link loop", "other")
    if error.errno == errno.ENOENT:
        return Unreadable("broken symbolic link or vanished file", "missing")
    if error.errno == errno.EISDIR:
        return Unreadable("is a folder", "folder")
    if error.errno in (errno.EACCES, errno.EPERM):
        return Unreadable(f"cannot read ({error.strerror})", "denied")
    return Unreadable(f"cannot read ({error.strerror or type(error).__name__})", "other")


def open_regular(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without blocking; return the descriptor and its stat.

    Raises :class:`Unreadable` for anything else (checked on the opened descriptor, so a file
    swapped for a FIFO after a ``stat`` is still refused).
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as error:
        raise _oserror_unreadable(error) from None
    try:
        st = os.fstat(fd)
    except OSError as error:
        os.close(fd)
        raise _oserror_unreadable(error) from None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise Unreadable("is a folder", "folder")
        raise Unreadable("not a regular file", "special")
    return fd, st


def read_regular(path: str | os.PathLike[str], max_bytes: int,
                 limit_name: str = "size limit") -> tuple[bytes, os.stat_result]:
    """Read a regular file whole, at most ``max_bytes``; return its bytes and its stat.

    Raises :class:`Unreadable` (missing, a folder, a FIFO or device, over the cap, no
    permission). ``limit_name`` names the cap in the message (e.g. the setting that sets it).
    """
    fd, st = open_regular(path)
    try:
        if st.st_size > max_bytes:
            raise Unreadable(f"{megabytes(st.st_size)} is over the {megabytes(max_bytes)} "
                             f"{limit_name}", "too_big")
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
            raise Unreadable(f"grew over the {megabytes(max_bytes)} {limit_name} while being "
                             "read", "too_big")
        return data, st
    except OSError as error:
        raise _oserror_unreadable(error) from None
    finally:
        os.close(fd)


def text_problem(data: bytes) -> str | None:
    """Why ``data`` cannot be a note (UTF-16, binary), or ``None`` when it can.

    UTF-16 notes (which start with a byte-order mark) are named as such rather than called
    binary; vaultmap reads UTF-8 (and single-byte legacy encodings), not UTF-16.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text, not supported (save it as UTF-8)"
    if b"\x00" in data:
        return "binary file (contains NUL bytes)"
    return None


# --------------------------------------------------------------------------- paths


#: What to do when vaultmap may not write its state (a read-only vault, a ``.vaultmap`` made by
#: another user): said after the file and the system's reason. Never "move it aside": the
#: file is healthy, and some of it (the GitHub links) exists nowhere else.
NOT_WRITABLE_ADVICE = ("nothing was changed: vaultmap keeps its locks and sync state in the "
                       "vault's .vaultmap folder; make it and its files writable for you (or "
                       "run vaultmap as their owner)")


def connect_read_only(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A SQLite file opened to read only: nothing is created or written, not even a journal.

    In a folder we may not write, a file in WAL mode cannot get its shared-memory file, and
    SQLite refuses a plain read-only open; it is then read as immutable (a status or a listing
    may miss a write that another process makes at that moment)."""
    import sqlite3

    uri = Path(os.path.abspath(path)).as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=5)
        db.execute("PRAGMA user_version").fetchone()  # the open is lazy: fail here, not later
    except sqlite3.OperationalError:
        db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=5)
    return db


def is_access_problem(error: BaseException) -> bool:
    """Whether a SQLite error says the file may not be opened or written (read-only, no
    permission, cannot open): a healthy file we merely cannot use, never one to set aside."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (3, 8, 14)  # PERM, READONLY, CANTOPEN


# Linux's largest pid_max; macOS's pids stay far below it.
_PID_MAX = 1 << 22


def source_stamp(path: str | os.PathLike[str]) -> str:
    """Size and modification time of a source file, for cache keys that must change when the
    code that made the cached value is edited or upgraded; ``"?"`` when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return "?"
    return f"{st.st_size}:{st.st_mtime_ns}"


def is_pid(value: object) -> TypeGuard[int]:
    """Whether ``value``, read back from a lock or status file, can be a process to signal:
    an ``int`` (not a bool) above 1. Never 0 or -1, which ``kill`` reads as the process group
    and every process; never beyond any system's range, which ``kill`` would refuse with an
    exception rather than an answer."""
    return type(value) is int and 1 < value <= _PID_MAX


def relative_inside(root: str, path: str) -> str | None:
    """``path`` relative to ``root`` as POSIX, ``""`` for the root itself, ``None`` outside.

    Both must be absolute; the comparison is lexical (no link is resolved here).
    """
    rel = os.path.relpath(path, root)
    if rel == os.curdir:
        return ""
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def real_target_inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """The real path a write to ``path`` lands on; raise :class:`UnsafePath` when it is not
    inside the real path of ``root``.

    Every link on the way is resolved, including a last component that is a link (a write
    replaces the link's target, not the link). A path that does not exist yet is resolved as
    far as it exists, so a new file under a linked folder is judged by where it would land.
    """
    root_real = os.path.realpath(root)
    target = os.path.realpath(path)
    if relative_inside(root_real, target) in (None, ""):
        raise UnsafePath("leads outside the vault (through a symbolic link); vaultmap never "
                         "writes outside the vault")
    return Path(target)


# --------------------------------------------------------------------------- writing


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened."""
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


def copy_metadata(source_fd: int, target_fd: int, source: os.stat_result) -> None:
    """Give the file behind ``target_fd`` the permission bits, owner (when allowed), ``user.*``
    extended attributes and POSIX ACLs of the one behind ``source_fd``.

    Best effort beyond the mode: a platform or file system without extended attributes, or an
    owner only root may set, leaves those as they are.
    """
    os.fchmod(target_fd, stat.S_IMODE(source.st_mode))
    mine = os.fstat(target_fd)
    if (mine.st_uid, mine.st_gid) != (source.st_uid, source.st_gid):
        with contextlib.suppress(PermissionError):
            os.fchown(target_fd, source.st_uid, source.st_gid)
    listxattr = getattr(os, "listxattr", None)
    if listxattr is None:
        return
    try:
        names = listxattr(source_fd)
    except OSError:
        return
    for name in names:
        if not (name.startswith("user.") or name in _ACL_ATTRIBUTES):
            continue
        with contextlib.suppress(OSError):
            os.setxattr(target_fd, name, os.getxattr(source_fd, name))


def write_all(fd: int, content: bytes | memoryview) -> None:
    """Write all of ``content`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view):]


def atomic_write(path: str | os.PathLike[str], content: bytes | memoryview, *,
                 new_mode: int = 0o666) -> None:
    """Replace (or create) ``path`` with ``content`` atomically and durably.

    An existing file keeps its mode, owner, extended attributes and ACLs; a new one gets
    ``new_mode`` minus the umask. ``path`` itself must not be a symbolic link (callers decide
    where a write may land: :func:`real_target_inside`). Raises ``OSError``; on failure the old
    file is untouched and no temporary file is left.
    """
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.urandom(4).hex()}{TEMP_SUFFIX}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            write_all(fd, content)
            try:
                old_fd, old = open_regular(target)
            except Unreadable:
                os.fchmod(fd, new_mode & ~_umask())
            else:
                try:
                    copy_metadata(old_fd, fd, old)
                finally:
                    os.close(old_fd)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_folder(target.parent)


def _umask() -> int:
    # Read without a window where another thread could create a file with a zero umask:
    # /proc has it on Linux; elsewhere set-and-restore is the only way.
    with contextlib.suppress(OSError, ValueError), \
            open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- private folders


def private_folder(parent: str | os.PathLike[str], name: str, *, create: bool = True) -> Path:
    """``parent/name`` as a real folder of vaultmap's own (``.vaultmap``), created if missing.

    Raises :class:`UnsafePath` when a symbolic link (or anything but a folder) stands in its
    place, and ``OSError`` when it cannot be created.
    """
    folder = Path(parent) / name
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        if not create:
            return folder
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder)
        st = os.lstat(folder)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"{folder} is a symbolic link; vaultmap keeps its state only in a "
                         "real folder inside the vault")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{folder} is not a folder")
    return folder


def refuse_links(folder: Path, names: Iterable[str]) -> None:
    """Raise :class:`UnsafePath` if any ``folder/name`` is a symbolic link (or not a regular
    file): our state files are never written through a link planted in their place."""
    for name in names:
        try:
            st = os.lstat(folder / name)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(f"{folder / name} is a symbolic link; vaultmap does not write "
                             "its state through links")
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{folder / name} is not a regular file")
