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

The index (``.vaultmap/scan-index.<flavor>.pickle``) maps each note's vault-relative path to
the ``stat`` it had when it was parsed and the parsed :class:`~vaultmap.model.Note`, pickled
on its own. A later scan re-parses only files whose size, mtime or inode changed. A file
modified within two seconds before the scan that recorded it is not trusted (an edit in the
same mtime tick would keep size and mtime: git's "racy" case) and is parsed again next time.
The file is written atomically (temporary file + rename), so two scans at once never produce a
torn read; the last writer wins. Its header names a format version and a fingerprint of all
that changes parsing (flavor, statuses, size cap, the parser's own source), so an index from
another configuration or an older vaultmap is rebuilt silently, as is a truncated or corrupt
one. Loading uses an allow-list unpickler: a vault from an untrusted source cannot run code
through a planted index.

Cold scans of more than a couple of MB parse in worker processes (``fork``; ``spawn`` only for
much larger jobs when other threads are running), falling back to this process if a worker
dies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import gc
import hashlib
import io
import operator
import os
import pickle
import stat as stat_module
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import pathspec

from vaultmap import __version__
from vaultmap.config import STATE_DIR, Settings
from vaultmap.errors import VaultReadError as VaultReadError
from vaultmap.model import (
    Flavor,
    Heading,
    Note,
    StatusMap,
    StatusType,
    Task,
    TaskFields,
    new_heading,
    new_note,
    new_task,
    new_task_fields,
)
from vaultmap.parse import parse_note

__all__ = [
    "ALWAYS_SKIPPED",
    "ScanResult",
    "VaultReadError",
    "index_path",
    "note_path",
    "read_note",
    "scan_vault",
]

#: Folder names never walked, at any depth.
ALWAYS_SKIPPED = frozenset({".obsidian", ".trash", ".git", STATE_DIR})
_INDEX_PREFIX = "scan-index"

_INDEX_MAGIC = "vaultmap-scan-index"
_INDEX_FORMAT = 1
# A file changed this close before the scan that recorded it may change again within the
# same mtime tick without its size or mtime moving; such entries are re-parsed next time.
_RACY_NS = 2_000_000_000
# Below this many bytes to parse, starting worker processes costs more than it saves.
_POOL_MIN_BYTES = 2 * 1024 * 1024
_POOL_MIN_BYTES_SPAWN = 16 * 1024 * 1024
_CHUNK_MIN_BYTES = 256 * 1024
_STALE_TMP_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one scan found."""

    root: Path
    notes: tuple[Note, ...]  # sorted by path; every readable note, with or without tasks
    warnings: tuple[str, ...]  # one line each, naming the file (vault-relative)
    parsed: int  # files parsed this run
    reused: int  # files taken from the index unchanged


# --------------------------------------------------------------------------- paths


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


# --------------------------------------------------------------------------- reading


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


# --------------------------------------------------------------------------- walking


class _Found(NamedTuple):
    rel: str
    path: str
    size: int
    mtime_ns: int
    ino: int


class _Walker:
    """Collects the Markdown files under some folders, applying the ignore rules."""

    def __init__(self, settings: Settings, root_abs: str) -> None:
        self.root_abs = root_abs
        self.root_real = os.path.realpath(root_abs)
        self.extensions = tuple(ext.lower() for ext in settings.vault.extensions)
        patterns = [p for p in settings.vault.exclude if p.strip()]
        self.spec: pathspec.GitIgnoreSpec | None = (
            pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None
        )
        self.found: dict[str, _Found] = {}
        self.warnings: list[tuple[str, str]] = []
        # (st_dev, st_ino) of each folder reached through a link -> the link's path.
        self.linked_dirs: dict[tuple[int, int], str] = {}

    def link_inside_vault(self, link_abs: str, rel: str, *, folder: bool) -> bool:
        """Warn about and skip a link whose target is inside the vault.

        The target is read at its real place (or is excluded there); reading it again through
        the link would count (and sync) its tasks twice, or forever for a link to a parent.
        Links to places outside the vault are followed.
        """
        target = _relative(self.root_real, os.path.realpath(link_abs))
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

    def warn(self, rel: str, message: str) -> None:
        self.warnings.append((rel, f"{rel}: {message}"))

    def add_file(self, rel: str, path: str, st: os.stat_result) -> None:
        self.found[rel] = _Found(rel, path, st.st_size, st.st_mtime_ns, st.st_ino)

    def walk(self, start_abs: str, start_rel: str) -> None:
        """Walk one folder (iteratively: deep folder trees must not hit the recursion limit)."""
        stack = [(start_abs, start_rel)]
        extensions = self.extensions
        spec = self.spec
        while stack:
            folder_abs, folder_rel = stack.pop()
            prefix = folder_rel + "/" if folder_rel else ""
            try:
                with os.scandir(folder_abs) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError as error:
                self.warn(folder_rel + "/", f"cannot list folder ({error.strerror})")
                continue
            subfolders: list[tuple[str, str]] = []
            for entry in entries:
                name = entry.name
                if name in ALWAYS_SKIPPED:
                    continue
                rel = prefix + name
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if spec is not None and spec.match_file(rel + "/"):
                        continue
                    if entry.is_symlink() and not self.follow_folder_link(entry.path, rel):
                        continue
                    subfolders.append((entry.path, rel))
                    continue
                if not name.lower().endswith(extensions):
                    continue
                if spec is not None and spec.match_file(rel):
                    continue
                try:
                    file_st = entry.stat()
                except OSError as error:
                    self.warn(rel, _oserror_reason(error) + ", skipped")
                    continue
                if not stat_module.S_ISREG(file_st.st_mode):
                    self.warn(rel, "not a regular file, skipped")
                    continue
                if entry.is_symlink() and self.link_inside_vault(entry.path, rel, folder=False):
                    continue
                self.found[rel] = _Found(rel, entry.path, file_st.st_size,
                                         file_st.st_mtime_ns, file_st.st_ino)
            # Reversed so that popping from the stack walks folders in name order.
            stack.extend(reversed(subfolders))


# --------------------------------------------------------------------------- index encoding

_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in (Task, TaskFields, Heading, Note)
}


_EMPTY_PROXY: Mapping[Any, Any] = MappingProxyType({})


def _mapping_proxy(data: dict[Any, Any]) -> Mapping[Any, Any]:
    # Most tasks have no Dataview fields: one shared empty (immutable) mapping saves ~110
    # bytes per task, 30+ MB for 300,000 tasks.
    return MappingProxyType(data) if data else _EMPTY_PROXY


# The model's fast positional constructors (model.new_*): loading an index builds hundreds of
# thousands of objects, and the dataclass __init__ of a frozen class is several times slower.
_BUILDERS: dict[type, Callable[..., Any]] = {
    Task: new_task, TaskFields: new_task_fields, Heading: new_heading, Note: new_note,
}
_GETTERS = {cls: operator.attrgetter(*names) for cls, names in _FIELD_NAMES.items()}


class _IndexPickler(pickle.Pickler):
    """Pickles model objects as (builder, field values); mapping proxies as plain dicts."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        builder = _BUILDERS.get(kind)
        if builder is not None:
            return builder, _GETTERS[kind](obj)
        if kind is MappingProxyType:
            return _mapping_proxy, (dict(obj),)
        return NotImplemented


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{("vaultmap.model", build.__name__): build for build in _BUILDERS.values()},
    (__name__, "_mapping_proxy"): _mapping_proxy,
    ("vaultmap.model", "StatusType"): StatusType,
    # When a builder falls back to the class itself, the class is what the pickle names.
    **{("vaultmap.model", cls.__name__): cls for cls in (Task, TaskFields, Heading, Note)},
}
for _datetime_name in ("date", "datetime", "time", "timedelta", "timezone"):
    _ALLOWED_GLOBALS[("datetime", _datetime_name)] = getattr(datetime, _datetime_name)


class _SafeUnpickler(pickle.Unpickler):
    """Only rebuilds our model types and plain values: a planted index cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an index") from None


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that form no cycles.

    Unpickling an index allocates tens of thousands of objects, which triggers repeated full
    collections that scan all of them: pausing it halves the load time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _dumps(obj: object) -> bytes:
    buffer = io.BytesIO()
    _IndexPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def _decode(blob: bytes) -> Note:
    """One note from its index encoding (call inside ``_no_gc()`` when decoding many)."""
    note = _SafeUnpickler(io.BytesIO(blob)).load()
    if type(note) is not Note:
        raise pickle.UnpicklingError("an index entry does not hold a note")
    return note


# --------------------------------------------------------------------------- the index


class _Entry(NamedTuple):
    size: int
    mtime_ns: int
    ino: int
    trusted: bool  # False: changed too close to the scan that recorded it ("racy")
    # The note, pickled on its own: loading decodes only the notes a scan returns, and saving
    # copies unchanged notes' bytes instead of pickling every object again (which would need
    # a memo entry per object: hundreds of MB for 300,000 tasks).
    blob: bytes | None
    warning: str | None


def _fingerprint(settings: Settings) -> str:
    """Everything that changes what parsing yields; a different value discards the index."""
    parts: list[object] = [
        __version__,
        settings.vault.flavor.value,
        sorted((char, kind.value) for char, kind in settings.statuses.chars.items()),
        settings.vault.max_note_bytes,
        sorted((cls.__name__, names) for cls, names in _FIELD_NAMES.items()),
    ]
    # The parser's own source: a changed parser (an upgrade, or a developer's edit) must not
    # serve notes parsed by the old one.
    import vaultmap.model
    import vaultmap.parse

    sources = [Path(vaultmap.model.__file__)]
    sources += sorted(Path(vaultmap.parse.__file__).parent.glob("*.py"))
    for source in sources:
        try:
            st = source.stat()
            parts.append((source.name, st.st_size, st.st_mtime_ns))
        except OSError:
            parts.append((source.name, None))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def index_path(settings: Settings) -> Path:
    """The index file: one per flavour, so ``--flavor gfm`` runs do not evict the default's."""
    return settings.state_dir / f"{_INDEX_PREFIX}.{settings.vault.flavor.value}.pickle"


def _load_index(settings: Settings, fingerprint: str) -> dict[str, _Entry]:
    """The stored entries, or an empty index for a missing/corrupt/older/foreign one."""
    try:
        with open(index_path(settings), "rb") as handle:
            header = _SafeUnpickler(handle).load()
            if header != (_INDEX_MAGIC, _INDEX_FORMAT, fingerprint):
                return {}
            body = _SafeUnpickler(handle).load()
    except Exception:  # missing, truncated, corrupt, planted: rebuild silently
        return {}
    if not isinstance(body, dict):
        return {}
    entries: dict[str, _Entry] = {}
    for rel, raw in body.items():
        if not (isinstance(rel, str) and isinstance(raw, tuple) and len(raw) == 6
                and isinstance(raw[4], bytes | None)):
            return {}
        entries[rel] = _Entry(*raw)
    return entries


def _save_index(settings: Settings, fingerprint: str, entries: Mapping[str, _Entry]) -> None:
    """Write the index atomically; a vault we cannot write to simply goes without one."""
    state_dir = settings.state_dir
    if state_dir.is_symlink():
        # A vault from elsewhere could point .vaultmap/ at any folder; we write only inside.
        return
    tmp_name: str | None = None
    try:
        state_dir.mkdir(exist_ok=True)
        ignore_file = state_dir / ".gitignore"
        if not ignore_file.exists() and not ignore_file.is_symlink():
            ignore_file.write_text("# vaultmap's local state: never committed\n*\n",
                                   encoding="utf-8")
        body = {rel: tuple(entry) for rel, entry in entries.items()}
        fd, tmp_name = tempfile.mkstemp(prefix=_INDEX_PREFIX + ".", suffix=".tmp", dir=state_dir)
        with os.fdopen(fd, "wb") as handle:
            # Two independent pickles: the header is checked before the body is read.
            _IndexPickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump(
                (_INDEX_MAGIC, _INDEX_FORMAT, fingerprint))
            pickle.dump(body, handle, protocol=pickle.HIGHEST_PROTOCOL)  # plain values only
        os.replace(tmp_name, index_path(settings))
        tmp_name = None
        _remove_stale_temporaries(state_dir)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _remove_stale_temporaries(state_dir: Path) -> None:
    """Delete half-written indexes left by scans that were killed mid-write.

    Only old ones: a younger temporary file may belong to a scan that is writing right now.
    """
    cutoff = time.time() - _STALE_TMP_SECONDS
    for leftover in state_dir.glob(f"{_INDEX_PREFIX}.*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.lstat().st_mtime < cutoff:
                leftover.unlink()


# --------------------------------------------------------------------------- parsing in bulk


def _parse_chunk(job: tuple[list[tuple[str, str]], str, dict[str, str], int]) -> list[_Outcome]:
    """Worker: parse a chunk of files; notes travel back in index encoding (see _Entry)."""
    files, flavor_name, status_chars, max_bytes = job
    flavor = Flavor(flavor_name)
    statuses = StatusMap(MappingProxyType({c: StatusType(k) for c, k in status_chars.items()}))
    outcomes = []
    for rel, path in files:
        outcome = _parse_one(rel, path, flavor, statuses, max_bytes)
        if outcome.note is not None:
            outcome = outcome._replace(note=None, blob=_dumps(outcome.note))
        outcomes.append(outcome)
    return outcomes


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _default_jobs() -> int:
    """Worker processes for a cold scan: the CPUs that are idle, like ``make -l``.

    Workers cost about a third more CPU than parsing here (notes travel back pickled), so
    they only pay when a core is really free; on a busy machine a pool is slower than one
    process. The one-minute load average counts this process, hence the ``+ 1``.
    """
    cpus = _usable_cpus()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return cpus
    return max(1, min(cpus, int(cpus - load + 1.5)))


def _chunks(files: Sequence[_Found], jobs: int) -> list[list[tuple[str, str]]]:
    total = sum(f.size for f in files)
    target = max(_CHUNK_MIN_BYTES, total // (jobs * 8))
    chunks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    current_bytes = 0
    for found in files:
        current.append((found.rel, found.path))
        current_bytes += found.size
        if current_bytes >= target:
            chunks.append(current)
            current, current_bytes = [], 0
    if current:
        chunks.append(current)
    return chunks


def _parse_many(settings: Settings, files: Sequence[_Found], jobs: int) -> list[_Outcome]:
    flavor = settings.vault.flavor
    statuses = settings.statuses
    max_bytes = settings.vault.max_note_bytes
    total = sum(f.size for f in files)
    # fork starts a worker in milliseconds; with other threads alive (the daemon's watcher)
    # forking is unsafe, and so it is on macOS (system frameworks), where Python itself
    # defaults to spawn; a fresh interpreter costs a second or so to start.
    can_fork = (threading.active_count() == 1 and sys.platform.startswith("linux")
                and "fork" in get_all_start_methods())
    threshold = _POOL_MIN_BYTES if can_fork else _POOL_MIN_BYTES_SPAWN
    if jobs <= 1 or len(files) < 2 or total < threshold:
        return [_parse_one(f.rel, f.path, flavor, statuses, max_bytes) for f in files]
    chunks = _chunks(files, jobs)
    status_chars = {char: kind.value for char, kind in statuses.chars.items()}
    outcomes: list[_Outcome] = []
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)),
                                 mp_context=get_context("fork" if can_fork else "spawn")) as pool:
            jobs_args = [(chunk, flavor.value, status_chars, max_bytes) for chunk in chunks]
            for chunk_outcomes in pool.map(_parse_chunk, jobs_args):
                with _no_gc():
                    for outcome in chunk_outcomes:
                        if outcome.blob is not None:
                            outcome = outcome._replace(note=_decode(outcome.blob))
                        outcomes.append(outcome)
    except (BrokenProcessPool, OSError, pickle.PickleError):
        # A worker killed (out of memory) or no processes allowed: finish in this process.
        done = {outcome.rel for outcome in outcomes}
        outcomes += [_parse_one(f.rel, f.path, flavor, statuses, max_bytes)
                     for f in files if f.rel not in done]
    return outcomes


# --------------------------------------------------------------------------- scanning


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
        rel = _vault_relative(settings, path)
        path_abs = _abs(path)
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


def scan_vault(
    settings: Settings,
    *,
    paths: Sequence[Path] | None = None,
    use_index: bool = True,
    jobs: int | None = None,
) -> ScanResult:
    """Read every note of the vault (or of ``paths``: folders and single files inside it).

    Files unchanged since the last scan come from the index in ``<vault>/.vaultmap/``;
    ``use_index=False`` neither reads nor writes it. Large cold scans parse in ``jobs``
    worker processes (default: the CPUs left idle by the load average). Unreadable files
    become warnings; a path that does not exist or lies outside the vault raises
    :class:`VaultReadError`.
    """
    scan_start_ns = time.time_ns()
    root_abs = _abs(settings.root)
    if not os.path.isdir(root_abs):
        problem = "is not a folder" if os.path.exists(root_abs) else "no such vault folder"
        raise VaultReadError(f"{settings.root}: {problem}")
    folders, named_files, whole_vault = _selection(settings, root_abs, paths)

    walker = _Walker(settings, root_abs)
    for folder_abs, folder_rel in folders:
        walker.walk(folder_abs, folder_rel)
    for file_abs in named_files:
        # Named files are read as asked: even with another extension or an exclude match.
        rel = _vault_relative(settings, file_abs)
        try:
            file_st = os.stat(file_abs)
        except OSError as error:
            walker.warn(rel, _oserror_reason(error) + ", skipped")
            continue
        if not stat_module.S_ISREG(file_st.st_mode):
            walker.warn(rel, "not a regular file, skipped")
            continue
        walker.add_file(rel, file_abs, file_st)

    fingerprint = _fingerprint(settings) if use_index else ""
    index = _load_index(settings, fingerprint) if use_index else {}

    reusable: dict[str, _Entry] = {}
    to_parse: list[_Found] = []
    for rel, found in walker.found.items():
        entry = index.get(rel)
        if (entry is not None and entry.trusted and entry.size == found.size
                and entry.mtime_ns == found.mtime_ns and entry.ino == found.ino):
            reusable[rel] = entry
        else:
            to_parse.append(found)

    outcomes = _parse_many(settings, to_parse, jobs if jobs is not None else _default_jobs())
    if use_index:
        fresh = _entries_for(outcomes, scan_start_ns)
        updated = _merge_index(index, reusable, fresh, walker, folders, whole_vault)
        if updated is not None:
            _save_index(settings, fingerprint, updated)
        # Saved first, so each stored note's bytes can be dropped as soon as it is decoded:
        # the peak holds the notes, not the notes and their encoding.
        del index, updated, fresh

    warnings: list[tuple[str, str]] = list(walker.warnings)
    notes: list[Note] = []
    damaged: list[_Found] = []
    reused = 0
    with _no_gc():
        for rel in list(reusable):
            entry = reusable.pop(rel)
            if entry.blob is not None:
                try:
                    notes.append(_decode(entry.blob))
                except Exception:  # a damaged entry: parse the file again
                    damaged.append(walker.found[rel])
                    continue
            if entry.warning is not None:
                warnings.append((rel, entry.warning))
            reused += 1
    if damaged:
        repaired = _parse_many(settings, damaged, 1)
        outcomes += repaired
        if use_index:
            entries = _load_index(settings, fingerprint)
            entries.update(_entries_for(repaired, scan_start_ns))
            _save_index(settings, fingerprint, entries)

    for outcome in outcomes:
        if outcome.note is not None:
            notes.append(outcome.note)
        if outcome.warning is not None:
            warnings.append((outcome.rel, outcome.warning))
    for note in notes:
        for message in note.warnings:
            warnings.append((note.path, _prefixed(note.path, message)))

    notes.sort(key=lambda note: note.path)
    warnings.sort(key=lambda item: item[0])
    return ScanResult(
        root=settings.root,
        notes=tuple(notes),
        warnings=tuple(message for _, message in warnings),
        parsed=len(outcomes),
        reused=reused,
    )


def _entries_for(outcomes: Sequence[_Outcome], scan_start_ns: int) -> dict[str, _Entry]:
    """Index entries for freshly parsed files."""
    entries: dict[str, _Entry] = {}
    for outcome in outcomes:
        if outcome.size < 0:  # could not be opened: nothing to remember, retried next time
            continue
        blob = outcome.blob
        if blob is None and outcome.note is not None:
            try:
                blob = _dumps(outcome.note)
            except Exception:  # a front-matter value pickle cannot hold: not indexed
                continue
        trusted = outcome.mtime_ns + _RACY_NS < scan_start_ns
        entries[outcome.rel] = _Entry(outcome.size, outcome.mtime_ns, outcome.ino, trusted,
                                      blob, outcome.warning)
    return entries


def _merge_index(index: dict[str, _Entry], reusable: Mapping[str, _Entry],
                 fresh: Mapping[str, _Entry], walker: _Walker,
                 folders: Sequence[tuple[str, str]], whole_vault: bool) -> dict[str, _Entry] | None:
    """The index after this scan, or None when nothing in it changed."""
    if whole_vault:
        kept: dict[str, _Entry] = dict(reusable)
    else:
        # Entries outside the walked folders stay; inside them, only files seen this time.
        prefixes = tuple(rel + "/" for _, rel in folders)
        kept = {rel: entry for rel, entry in index.items()
                if rel in reusable or not rel.startswith(prefixes)}
        for rel in walker.found:
            if rel not in reusable:
                kept.pop(rel, None)
    kept.update(fresh)
    if not fresh and kept.keys() == index.keys():
        return None
    return kept
