"""Parsing many files at once: in worker processes when that pays, else in this one."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from vaultmap.config import Settings
from vaultmap.model import Flavor, StatusMap, StatusType
from vaultmap.vault.index import _decode, _dumps
from vaultmap.vault.read import _Outcome, _parse_one
from vaultmap.vault.walk import _Found

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

# Below this many bytes to parse, starting worker processes costs more than it saves.
_POOL_MIN_BYTES = 2 * 1024 * 1024
_POOL_MIN_BYTES_SPAWN = 16 * 1024 * 1024
_CHUNK_MIN_BYTES = 256 * 1024


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


def get_all_start_methods() -> list[str]:
    """:func:`multiprocessing.get_all_start_methods`, imported on first use: multiprocessing
    costs every scanning command ~10 ms to import, and only a cold scan of a big vault
    starts workers."""
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def get_context(method: str) -> BaseContext:
    """:func:`multiprocessing.get_context`, imported on first use (see above)."""
    import multiprocessing

    return multiprocessing.get_context(method)


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
    # A small scan (every warm one) stops here, before multiprocessing is imported.
    if jobs <= 1 or len(files) < 2 or total < min(_POOL_MIN_BYTES, _POOL_MIN_BYTES_SPAWN):
        return [_parse_one(f.rel, f.path, flavor, statuses, max_bytes) for f in files]
    # fork starts a worker in milliseconds; with other threads alive (the daemon's watcher)
    # forking is unsafe, and so it is on macOS (system frameworks), where Python itself
    # defaults to spawn; a fresh interpreter costs a second or so to start.
    can_fork = (threading.active_count() == 1 and sys.platform.startswith("linux")
                and "fork" in get_all_start_methods())
    threshold = _POOL_MIN_BYTES if can_fork else _POOL_MIN_BYTES_SPAWN
    if total < threshold:
        return [_parse_one(f.rel, f.path, flavor, statuses, max_bytes) for f in files]
    # Imported here: a warm scan (or a small one) never starts a pool.
    import pickle
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunks = _chunks(files, jobs)
    status_chars = {char: kind.value for char, kind in statuses.chars.items()}
    outcomes: list[_Outcome] = []
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)),
                                 mp_context=get_context("fork" if can_fork else "spawn")) as pool:
            jobs_args = [(chunk, flavor.value, status_chars, max_bytes) for chunk in chunks]
            for chunk_outcomes in pool.map(_parse_chunk, jobs_args):
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


