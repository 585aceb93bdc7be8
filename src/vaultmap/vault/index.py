"""The on-disk index in ``<vault>/.vaultmap/``: parsed notes keyed by path and ``stat``."""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import importlib.util
import io
import operator
import os
import pickle
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import msgspec

from vaultmap import __version__
from vaultmap.config import Settings
from vaultmap.fs import TEMP_SUFFIX, Unreadable, UnsafePath, atomic_write, read_regular
from vaultmap.model import (
    Heading,
    Note,
    StatusType,
    Task,
    TaskFields,
)
from vaultmap.vault.paths import open_state_folder
from vaultmap.vault.read import _Outcome
from vaultmap.vault.walk import _Walker

_INDEX_PREFIX = "scan-index"

_INDEX_MAGIC = "vaultmap-scan-index"
_CHANGES_MAGIC = "vaultmap-scan-index-changes"
# The changes file takes at most this share (1/N) of the entries (or a handful): past it,
# the main file is written anew.
_CHANGES_SHARE = 10
_MIN_CHANGES = 16
# 3: MessagePack of (magic, format, fingerprint, {path: _Entry}), read with the types checked;
# each entry keeps its note's warnings and its summary (bytes the summariser made) beside the
# note, so a scan can hand back summaries without decoding a single note. (1 and 2 were two
# pickles: such a file fails to decode and is rebuilt.)
# 4: as 3, and each entry keeps its file's change time (ctime) beside size, mtime and inode.
_INDEX_FORMAT = 4
# A file changed this close before the scan that recorded it may change again within the
# same mtime tick without its size or mtime moving; such entries are re-parsed next time.
_RACY_NS = 2_000_000_000
_STALE_TMP_SECONDS = 3600
# Far above any real index (about 3 KB per note); a planted huge file is not read.
MAX_INDEX_BYTES = 2 * 1024 * 1024 * 1024

_MODEL_TYPES: tuple[type[msgspec.Struct], ...] = (Task, TaskFields, Heading, Note)
_FIELD_NAMES: dict[type, tuple[str, ...]] = {cls: cls.__struct_fields__ for cls in _MODEL_TYPES}


_EMPTY_PROXY: Mapping[Any, Any] = MappingProxyType({})


def _mapping_proxy(data: dict[Any, Any]) -> Mapping[Any, Any]:
    # Most tasks have no Dataview fields: one shared empty (immutable) mapping saves ~110
    # bytes per task, 30+ MB for 300,000 tasks.
    return MappingProxyType(data) if data else _EMPTY_PROXY


# Each model value is pickled as its class and its fields, positionally (the Struct's C
# constructor takes them so): smaller and faster to load than keyword state.
_BUILDERS: dict[type, Callable[..., Any]] = {cls: cls for cls in _MODEL_TYPES}
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
    (__name__, "_mapping_proxy"): _mapping_proxy,
    ("vaultmap.model", "StatusType"): StatusType,
    **{("vaultmap.model", cls.__name__): cls for cls in _MODEL_TYPES},
}
for _datetime_name in ("date", "datetime", "time", "timedelta", "timezone"):
    _ALLOWED_GLOBALS[("datetime", _datetime_name)] = getattr(datetime, _datetime_name)


class _SafeUnpickler(pickle.Unpickler):
    """Only rebuilds our model types and plain values: a planted index cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an index")
        return found


def _dumps(obj: object) -> bytes:
    buffer = io.BytesIO()
    _IndexPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def _decode(blob: bytes) -> Note:
    """One note from its index encoding."""
    note = _SafeUnpickler(io.BytesIO(blob)).load()
    if type(note) is not Note:
        raise pickle.UnpicklingError("an index entry does not hold a note")
    return note


class Summariser(Protocol):
    """Works out something from one note alone (a progress roll-up, say) that a scan keeps in
    the index with the note, so a later scan hands it back without working it out again, and
    without decoding the note.

    ``tag`` names the summary and everything that changes it (its code's version): a stored
    summary with another tag is made anew. ``encode`` turns a summary into the bytes kept;
    ``decode`` turns them back and raises (any exception) for bytes it does not accept: such
    an entry's summary is made anew from its note. Decoding must not run code named by the
    bytes (a vault may come from anyone).
    """

    @property
    def tag(self) -> str: ...

    def __call__(self, note: Note, /) -> object: ...

    def encode(self, summary: object, /) -> bytes: ...

    def decode(self, data: bytes, /) -> object: ...


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
    # The note's own warnings (front matter ignored, say): a scan that does not decode the
    # note still repeats them.
    note_warnings: tuple[str, ...] = ()
    summary_tag: str | None = None  # the Summariser.tag that made ``summary``
    summary: bytes | None = None
    # The file's change time (``st_ctime_ns``) when it was read: see ``walk._Found``.
    ctime_ns: int = -1


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
    # Found, not imported: a warm scan must not pay for the parser's imports.
    package = Path(__file__).resolve().parent.parent
    sources = [package / "model.py"]
    sources += sorted((package / "parse").glob("*.py"))
    # The display repair of mojibake is kept in the index, and another ftfy may repair
    # otherwise. Its file is found without importing it (that costs ~70 ms).
    ftfy_spec = importlib.util.find_spec("ftfy")
    if ftfy_spec is not None and ftfy_spec.origin:
        sources.append(Path(ftfy_spec.origin))
    for source in sources:
        try:
            st = source.stat()
            parts.append((source.name, st.st_size, st.st_mtime_ns))
        except OSError:
            parts.append((source.name, None))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def index_path(settings: Settings) -> Path:
    """The index file: one per flavour, so ``--flavor gfm`` runs do not evict the default's.

    The name ends in ``.pickle`` since the first index; since format 3 the file is MessagePack
    (only each note's own encoding inside it is a pickle). Kept, so an older index is found
    and replaced, never left behind."""
    return settings.state_dir / f"{_INDEX_PREFIX}.{settings.vault.flavor.value}.pickle"


def index_state(settings: Settings) -> str:
    """How the index stands, for ``vaultmap doctor``: ``missing`` (no scan yet), ``current``
    (made by this vaultmap with this configuration), ``stale`` (another version or
    configuration: the next scan rebuilds it) or ``unreadable`` (truncated or corrupt)."""
    try:
        # Through the safe reader: a FIFO or a device planted under the name is refused,
        # never waited on.
        data, _ = read_regular(index_path(settings), MAX_INDEX_BYTES)
        magic, version, fingerprint, body, odd = _header_decoder().decode(data)
        if magic != _INDEX_MAGIC:
            return "unreadable"
        if (version, fingerprint) != (_INDEX_FORMAT, _fingerprint(settings)):
            return "stale"
        _body_decoder().decode(body)
        if odd:
            _odd_entries(odd)
    except Unreadable as unreadable:
        return "missing" if unreadable.kind == "missing" else "unreadable"
    except Exception:  # truncated, corrupt, planted, an index older than format 3
        return "unreadable"
    return "current"


class IndexBase(NamedTuple):
    """The main index file as a scan read it: its identity (inode, size, mtime) and its own
    entries (before the changes file): what a later save writes its changes against."""

    stamp: tuple[int, int, int]
    entries: Mapping[str, _Entry]


def _load_index(settings: Settings, fingerprint: str) -> dict[str, _Entry]:
    """The stored entries, or an empty index for a missing/corrupt/older/foreign one."""
    return _load_index_base(settings, fingerprint)[0]


def _load_index_base(settings: Settings,
                     fingerprint: str) -> tuple[dict[str, _Entry], IndexBase | None]:
    """:func:`_load_index`, and the :class:`IndexBase` to pass to :func:`_save_index` (None
    without a usable main file).

    The changes file (:func:`changes_path`) holds the entries changed since the main file
    was written, for that very main file (its inode, size and mtime): one note changed then
    costs a small write, not the whole index. Changes for another main file, or damaged
    ones, are ignored (the notes they held are parsed again)."""
    try:
        data, st = read_regular(index_path(settings), MAX_INDEX_BYTES)
        magic, version, stored, body, odd = _header_decoder().decode(data)
        if (magic, version, stored) != (_INDEX_MAGIC, _INDEX_FORMAT, fingerprint):
            return {}, None
        # Typed: every entry is checked field by field as it is read (in C), so a damaged or
        # planted body is refused whole, and no code named by the file can run.
        entries = _body_decoder().decode(body)
        if odd:
            entries.update(_odd_entries(odd))
    except Exception:  # missing, truncated, corrupt, planted, older: rebuild silently
        return {}, None
    base = IndexBase((st.st_ino, st.st_size, st.st_mtime_ns), entries)
    merged = dict(entries)  # the caller's to change; the base stays as read
    try:
        data, _ = read_regular(changes_path(settings), MAX_INDEX_BYTES)
        magic, version, stored, stamp, changed, removed = _changes_decoder().decode(data)
    except Exception:  # none, or damaged or planted: the main file alone
        return merged, base
    if (magic, version, stored, stamp) != (_CHANGES_MAGIC, _INDEX_FORMAT, fingerprint,
                                           base.stamp):
        return merged, base
    for rel in removed:
        merged.pop(rel, None)
    merged.update(changed)
    return merged, base


def changes_path(settings: Settings) -> Path:
    """The file of the changes since the main index file (:func:`index_path`) was written."""
    return settings.state_dir / f"{_INDEX_PREFIX}.{settings.vault.flavor.value}.changes"


def _encode_index(fingerprint: str, entries: Mapping[str, _Entry]) -> bytes:
    """The index file's bytes: (magic, format, fingerprint, entries, odd entries).

    MessagePack holds only UTF-8 text, and a file name that is no UTF-8 reaches us with lone
    surrogates (``os.fsdecode``): the few entries holding one are kept apart, pickled as plain
    values (read back by the same allow-list unpickler as the notes)."""
    try:
        return msgspec.msgpack.encode((_INDEX_MAGIC, _INDEX_FORMAT, fingerprint, entries, b""))
    except UnicodeEncodeError:
        pass
    plain: dict[str, _Entry] = {}
    odd: dict[str, tuple[Any, ...]] = {}
    for rel, entry in entries.items():
        try:
            msgspec.msgpack.encode((rel, entry))
            plain[rel] = entry
        except UnicodeEncodeError:
            odd[rel] = tuple(entry)
    return msgspec.msgpack.encode((_INDEX_MAGIC, _INDEX_FORMAT, fingerprint, plain,
                                   pickle.dumps(odd, protocol=pickle.HIGHEST_PROTOCOL)))


def _odd_entries(data: bytes) -> dict[str, _Entry]:
    """The entries :func:`_encode_index` pickled, each checked; raises for anything else."""
    body = _SafeUnpickler(io.BytesIO(data)).load()
    if type(body) is not dict:
        raise ValueError("not an index")
    entries: dict[str, _Entry] = {}
    for rel, raw in body.items():
        if not (type(rel) is str and type(raw) is tuple and len(raw) == len(_Entry._fields)
                and all(type(value) is int for value in raw[:3]) and type(raw[3]) is bool
                and isinstance(raw[4], bytes | None) and isinstance(raw[5], str | None)
                and type(raw[6]) is tuple and all(type(line) is str for line in raw[6])
                and isinstance(raw[7], str | None) and isinstance(raw[8], bytes | None)
                and type(raw[9]) is int):
            raise ValueError("not an index entry")
        entries[rel] = _Entry(*raw)
    return entries


@functools.cache
def _header_decoder() -> msgspec.msgpack.Decoder[tuple[str, int, str, msgspec.Raw, bytes]]:
    # The body is kept raw until the header says it was written for this configuration.
    return msgspec.msgpack.Decoder(tuple[str, int, str, msgspec.Raw, bytes])


@functools.cache
def _body_decoder() -> msgspec.msgpack.Decoder[dict[str, _Entry]]:
    return msgspec.msgpack.Decoder(dict[str, _Entry])


def _save_index(settings: Settings, fingerprint: str, entries: Mapping[str, _Entry],
                base: IndexBase | None = None) -> None:
    """Write the index atomically; a vault we cannot write to simply goes without one.

    With the ``base`` the entries were loaded from (and its main file still in place), a few
    changes are written to the changes file alone; many, or any that cannot be, rewrite the
    main file (and drop the changes file)."""
    try:
        # A vault from elsewhere could point .vaultmap/ or the index at any file; we write
        # only inside (open_state_folder refuses links).
        main, changes = index_path(settings), changes_path(settings)
        state_dir = open_state_folder(settings.state_dir, (main.name, changes.name))
        if base is not None and _save_changes(main, changes, fingerprint, entries, base):
            return
        atomic_write(main, _encode_index(fingerprint, entries), new_mode=0o644)
        with contextlib.suppress(FileNotFoundError):
            changes.unlink()  # written for the main file just replaced
        _remove_stale_temporaries(state_dir)
    except (OSError, UnsafePath, TypeError, ValueError, pickle.PicklingError):
        pass


def _save_changes(main: Path, changes: Path, fingerprint: str, entries: Mapping[str, _Entry],
                  base: IndexBase) -> bool:
    """Write the entries that differ from ``base`` to the changes file; False (nothing
    written) when they are too many or the main file is no longer ``base``'s."""
    changed = {rel: entry for rel, entry in entries.items() if base.entries.get(rel) != entry}
    removed = [rel for rel in base.entries if rel not in entries]
    if len(changed) + len(removed) > max(_MIN_CHANGES, len(base.entries) // _CHANGES_SHARE):
        return False
    try:
        st = os.stat(main, follow_symlinks=False)
    except OSError:
        return False
    if (st.st_ino, st.st_size, st.st_mtime_ns) != base.stamp:
        return False  # another scan wrote the main file meanwhile
    try:
        data = msgspec.msgpack.encode((_CHANGES_MAGIC, _INDEX_FORMAT, fingerprint, base.stamp,
                                       changed, removed))
    except UnicodeEncodeError:  # a lone surrogate: only the main file's odd entries keep it
        return False
    atomic_write(changes, data, new_mode=0o644)
    return True


@functools.cache
def _changes_decoder() -> msgspec.msgpack.Decoder[
        tuple[str, int, str, tuple[int, int, int], dict[str, _Entry], list[str]]]:
    return msgspec.msgpack.Decoder(
        tuple[str, int, str, tuple[int, int, int], dict[str, _Entry], list[str]])


def _remove_stale_temporaries(state_dir: Path) -> None:
    """Delete half-written indexes left by scans that were killed mid-write.

    Only old ones: a younger temporary file may belong to a scan that is writing right now.
    """
    cutoff = time.time() - _STALE_TMP_SECONDS
    # The second pattern: temporaries named by vaultmap versions before the shared writer.
    for leftover in [*state_dir.glob(f".{_INDEX_PREFIX}.*{TEMP_SUFFIX}"),
                     *state_dir.glob(f"{_INDEX_PREFIX}.*.tmp")]:
        with contextlib.suppress(OSError):
            if leftover.lstat().st_mtime < cutoff:
                leftover.unlink()


def _entries_for(outcomes: Sequence[_Outcome], scan_start_ns: int,
                 summaries: Mapping[str, object] | None = None,
                 summariser: Summariser | None = None) -> dict[str, _Entry]:
    """Index entries for freshly parsed files (with their notes' summaries, when made)."""
    entries: dict[str, _Entry] = {}
    for outcome in outcomes:
        if outcome.size < 0:  # could not be opened: nothing to remember, retried next time
            continue
        blob = outcome.blob
        note_warnings: tuple[str, ...] = ()
        tag: str | None = None
        summary: bytes | None = None
        try:
            if outcome.note is not None:
                note_warnings = outcome.note.warnings
                if blob is None:
                    blob = _dumps(outcome.note)
        except Exception:  # a front-matter value pickle cannot hold: not indexed
            continue
        if summariser is not None and summaries and outcome.rel in summaries:
            try:
                tag, summary = summariser.tag, summariser.encode(summaries[outcome.rel])
            except Exception:  # kept without: the summary is made again next time
                tag = summary = None
        trusted = outcome.mtime_ns + _RACY_NS < scan_start_ns
        entries[outcome.rel] = _Entry(outcome.size, outcome.mtime_ns, outcome.ino, trusted,
                                      blob, outcome.warning, note_warnings, tag, summary,
                                      outcome.ctime_ns)
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
