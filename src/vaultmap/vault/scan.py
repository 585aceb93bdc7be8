"""One scan of a vault (or of some of its folders and files): walk, reuse, parse, save."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from vaultmap.config import Settings
from vaultmap.model import Note
from vaultmap.vault.index import (
    Summariser,
    _decode,
    _entries_for,
    _Entry,
    _fingerprint,
    _load_index_base,
    _merge_index,
    _save_index,
)
from vaultmap.vault.pool import _default_jobs, _parse_many
from vaultmap.vault.read import _prefixed
from vaultmap.vault.walk import VaultWalk, _Found, walk_vault


class UnreadablePath(NamedTuple):
    """A note, or a folder (``path`` ends with "/"), that looked like part of the vault but
    could not be read: its tasks are unknown this time, not gone."""

    path: str  # vault-relative
    reason: str  # a short phrase, as in the warning line ("binary file (NUL bytes), skipped")


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one scan found."""

    root: Path
    notes: tuple[Note, ...]  # sorted by path; every readable note, with or without tasks
    warnings: tuple[str, ...]  # one line each, naming the file (vault-relative)
    parsed: int  # files parsed this run
    reused: int  # files taken from the index unchanged
    # Each note that could not be read or parsed and each folder that could not be listed
    # (each has its warning line too): a sync must not take their tasks for deleted.
    unreadable: tuple[UnreadablePath, ...] = ()
    # The warnings (a subset of ``warnings``) about notes read fine but with a problem (front
    # matter ignored, say) that were taken unchanged from the index: an earlier scan already
    # said them, so a command may leave them out unless asked.
    repeated: tuple[str, ...] = ()
    # With a summariser: each note's summary, in the order of ``paths``.
    summaries: tuple[object, ...] = ()
    # Every warning about a note read fine (those of ``repeated`` and those said for the
    # first time): what the next scan repeats if nothing changes.
    note_warnings: tuple[str, ...] = ()
    # The vault-relative path of every readable note, sorted (with ``notes=False`` too).
    paths: tuple[str, ...] = ()
    # Every note found is in the index as read now, none of them "racy" (changed too close
    # to the scan): until a walk's stamp changes, another scan would read the same (what a
    # cache of the answers made from this scan may rely on). False without the index.
    settled: bool = False


def scan_vault(
    settings: Settings,
    *,
    paths: Sequence[Path] | None = None,
    use_index: bool = True,
    jobs: int | None = None,
    summarise: Summariser | None = None,
    notes: bool = True,
    walk: VaultWalk | None = None,
) -> ScanResult:
    """Read every note of the vault (or of ``paths``: folders and single files inside it).

    Files unchanged since the last scan come from the index in ``<vault>/.vaultmap/``;
    ``use_index=False`` neither reads nor writes it. Large cold scans parse in ``jobs``
    worker processes (default: the CPUs left idle by the load average). Unreadable files
    become warnings; a path that does not exist or lies outside the vault raises
    :class:`VaultReadError`.

    With ``summarise``, each note's summary comes back too (:attr:`ScanResult.summaries`):
    kept in the index with the note, it is worked out again only for notes parsed anew (or
    whose stored summary has another tag).

    ``notes=False`` (with ``summarise``) is for a caller that needs the summaries only (a
    warm report): :attr:`ScanResult.notes` stays empty and a note taken from the index is not
    even decoded, its stored summary alone is read; :attr:`ScanResult.paths` lists the notes.
    """
    if walk is None:
        walk = walk_vault(settings, paths=paths)
    scan_start_ns = walk.started_ns
    walker, folders, whole_vault = walk.walker, walk.folders, walk.whole_vault

    fingerprint = _fingerprint(settings) if use_index else ""
    index, base = _load_index_base(settings, fingerprint) if use_index else ({}, None)

    reusable: dict[str, _Entry] = {}
    to_parse: list[_Found] = []
    for rel, found in walker.found.items():
        entry = index.get(rel)
        if (entry is not None and entry.trusted and entry.size == found.size
                and entry.mtime_ns == found.mtime_ns and entry.ino == found.ino
                and entry.ctime_ns == found.ctime_ns):
            reusable[rel] = entry
        else:
            to_parse.append(found)

    outcomes = _parse_many(settings, to_parse, jobs if jobs is not None else _default_jobs())
    summaries: dict[str, object] = {}
    if summarise is not None:
        for outcome in outcomes:
            if outcome.note is not None:
                summaries[outcome.rel] = summarise(outcome.note)
    settled = use_index
    if use_index:
        fresh = _entries_for(outcomes, scan_start_ns, summaries, summarise)
        # Racy entries (changed just before this scan) and files that could not be opened
        # are read again next time: a walk with the same stamp may not mean the same notes.
        settled = len(fresh) == len(outcomes) and all(entry.trusted for entry in fresh.values())
        updated = _merge_index(index, reusable, fresh, walker, folders, whole_vault)
        if updated is not None:
            _save_index(settings, fingerprint, updated, base)
        # Saved first, so each stored note's bytes can be dropped as soon as it is decoded:
        # the peak holds the notes, not the notes and their encoding.
        del index, updated, fresh

    warnings: list[tuple[str, str]] = list(walker.warnings)
    unreadable: list[tuple[str, str]] = list(walker.unreadable)
    found_notes: list[Note] = []
    reused_notes: list[Note] = []
    note_paths: list[str] = []
    damaged: list[_Found] = []
    resummarised: list[str] = []  # reused notes whose stored summary was missing or stale
    repeated: list[tuple[str, str]] = []
    note_warnings: list[tuple[str, str]] = []  # repeated, and those said for the first time
    reused = 0
    # Once: a summariser's tag may be a property that works it out on every call.
    summary_tag = summarise.tag if summarise is not None else None
    for rel in list(reusable):
        entry = reusable.pop(rel)
        if entry.blob is not None:
            summary: object = None
            if summarise is not None and entry.summary is not None \
                    and entry.summary_tag == summary_tag:
                try:
                    summary = summarise.decode(entry.summary)
                except Exception:  # damaged or planted: made anew from the note
                    summary = None
            if notes or (summarise is not None and summary is None):
                try:
                    note = _decode(entry.blob)
                except Exception:  # a damaged entry: parse the file again
                    damaged.append(walker.found[rel])
                    continue
                if notes:
                    reused_notes.append(note)
                if summarise is not None and summary is None:
                    summary = summarise(note)
                    resummarised.append(rel)
            if summarise is not None:
                summaries[rel] = summary
            note_paths.append(rel)
            if entry.note_warnings:  # most notes have none: no list made for them
                repeated += [(rel, _prefixed(rel, message))
                             for message in entry.note_warnings]
        if entry.warning is not None:
            warnings.append((rel, entry.warning))
            if entry.blob is None:
                unreadable.append((rel, entry.warning))
        reused += 1
    if damaged:
        settled = False
        repaired = _parse_many(settings, damaged, 1)
        outcomes += repaired
        if summarise is not None:
            for outcome in repaired:
                if outcome.note is not None:
                    summaries[outcome.rel] = summarise(outcome.note)
    if use_index and (damaged or resummarised):
        entries, base = _load_index_base(settings, fingerprint)
        stored = False
        if summarise is not None and resummarised:
            stored = _store_summaries(entries, resummarised, summaries, summarise)
        if damaged:
            entries.update(_entries_for(repaired, scan_start_ns, summaries, summarise))
        if damaged or stored:  # not for summaries it cannot keep (it would every time)
            _save_index(settings, fingerprint, entries, base)

    for outcome in outcomes:
        if outcome.warning is not None:
            warnings.append((outcome.rel, outcome.warning))
            if outcome.note is None:
                unreadable.append((outcome.rel, outcome.warning))
        if outcome.note is not None:
            note_paths.append(outcome.rel)
            if notes:
                found_notes.append(outcome.note)
            said = [(outcome.rel, _prefixed(outcome.rel, message))
                    for message in outcome.note.warnings]
            warnings += said
            note_warnings += said
    warnings += repeated
    note_warnings += repeated
    found_notes += reused_notes

    found_notes.sort(key=lambda note: note.path)
    note_paths.sort()
    warnings.sort(key=lambda item: item[0])
    repeated.sort(key=lambda item: item[0])
    note_warnings.sort(key=lambda item: item[0])
    return ScanResult(
        root=settings.root,
        notes=tuple(found_notes),
        warnings=tuple(message for _, message in warnings),
        parsed=len(outcomes),
        reused=reused,
        unreadable=tuple(sorted(UnreadablePath(rel, line.removeprefix(f"{rel}: "))
                                for rel, line in unreadable)),
        repeated=tuple(message for _, message in repeated),
        note_warnings=tuple(message for _, message in note_warnings),
        summaries=tuple(summaries[rel] for rel in note_paths) if summarise is not None
        else (),
        paths=tuple(note_paths),
        settled=settled,
    )


def _store_summaries(entries: dict[str, _Entry], paths: Sequence[str],
                     summaries: dict[str, object], summarise: Summariser) -> bool:
    """Put the summaries just made for notes taken from the index into their entries; say
    whether any was."""
    stored = False
    for rel in paths:
        entry = entries.get(rel)
        if entry is None or rel not in summaries:
            continue
        try:
            data = summarise.encode(summaries[rel])
        except Exception:  # a summary the summariser cannot store: made again next time
            continue
        entries[rel] = entry._replace(summary_tag=summarise.tag, summary=data)
        stored = True
    return stored
