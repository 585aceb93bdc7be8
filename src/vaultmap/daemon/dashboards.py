"""The daemon's live dashboards: every note's rollup kept in memory, merged after a change.

``vaultmap report --update-dashboards`` scans the vault and rolls it up; the daemon does that
once (at its first pass, after a reload, a lost event, a git merge, and hourly) and keeps each
note's rollup (:func:`vaultmap.progress.note_rollup`). A changed note is read and rolled up
alone; when no rollup changed (a save of prose, an echo) and the day is the same, no region is
rendered or written. Otherwise the kept rollups are merged (:func:`vaultmap.progress.
merge_rollups`) and every region is filled through :func:`vaultmap.dashboard.write_dashboards`,
which still writes only the notes whose bytes differ. The text is the one the CLI writes: the
same rollups, merged the same way.

A vault without any report region keeps no rollups: a change then costs a substring test of
the changed notes for the markers, and a note that gains them brings a full fill.

What ``daemon status`` shows per dashboard note (:meth:`LiveDashboards.status`): when its
region was last brought up to date (written, or found current) and its last problem.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from vaultmap.config import Settings
from vaultmap.dashboard import (
    DashboardReport,
    may_hold_regions,
    note_dashboard_rollup,
    vault_rollups,
    write_dashboards,
)
from vaultmap.fs import Unreadable, read_regular
from vaultmap.progress import NoteRollup, merge_rollups

log = logging.getLogger("vaultmap.daemon")

# The kept rollups are read again from a scan this often (seconds), in case the watcher
# missed a change without saying so (the daemon's hourly rescan does the same for tasks).
REFILL_EVERY = 3600.0


@dataclass
class DashboardNote:
    """One note with a report region, as ``daemon status`` shows it."""

    refreshed: str | None = None  # ISO time its region last held the current report
    error: str | None = None  # its last problem (a bad option, a failed write)


class LiveDashboards:
    """The rollups of a vault's notes and the notes with report regions, kept current."""

    def __init__(self, settings: Settings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.filled_at = 0.0  # clock time of the last full fill
        self.everything = True  # the next refresh reads the whole vault
        self.filled = False  # the rollups are the vault's (a full fill found regions)
        self.pending: set[str] = set()  # notes changed since the last refresh
        self.retry: set[str] = set()  # dashboard notes skipped while being edited
        self.rollups: dict[str, NoteRollup] = {}
        self.regions: set[str] = set()  # notes with a report region
        self.notes: dict[str, DashboardNote] = {}
        self.rendered_day: date | None = None  # the day the regions were last rendered for
        self.looked = False  # a full fill has read the vault at least once
        self._touched: set[str] = set()  # notes with regions among the changes just taken
        self.held = False  # a refresh failed as a whole: wait for the next change

    @property
    def due(self) -> bool:
        """Whether :meth:`refresh` has something to look at."""
        if self.held:
            return False
        return self.everything or self._expired() or (
            self.filled and bool(self.pending or self.retry))

    @property
    def seen(self) -> bool:
        """Whether the vault has report regions, as far as the daemon knows (it assumes so
        until the first full fill)."""
        return self.filled or not self.looked

    def clear(self) -> None:
        """Nothing is due (the changes so far are taken as seen)."""
        self.everything = False
        self.pending.clear()
        self.retry.clear()

    def changed(self, notes: Iterable[str], *, everything: bool = False) -> None:
        """These notes changed (``everything``: any note may have, e.g. after a merge)."""
        self.held = False
        if everything:
            self.everything = True
            return
        if self.filled:
            self.pending.update(notes)
            return
        if self.everything:
            return
        for rel in notes:  # no regions known: only a note that gains markers matters
            try:  # as the scan reads notes: a FIFO or a device must not stop the daemon
                data, _ = read_regular(self.settings.root / rel,
                                       self.settings.vault.max_note_bytes)
            except Unreadable:
                continue
            if may_hold_regions(data):
                self.everything = True
                return

    def refresh(self, *, today: date | None = None,
                editing: Callable[[str], bool] | None = None) -> DashboardReport | None:
        """Bring the regions up to date; None when nothing needed rendering.

        Raises what the vault scan raises (a vault that cannot be read); one note's problem
        is in the report instead.
        """
        today = today or date.today()
        moved = self._take_changes()
        if not self.regions:
            self.rollups = {}  # nothing to keep them for
            self.filled = False
            self.rendered_day = today
            return None
        targets = set(self.regions) if moved or today != self.rendered_day else \
            (self.retry | self._touched) & self.regions
        self.retry = set()
        if not targets:
            return None
        progress = merge_rollups(self.rollups.values(), today=today,
                                 top_level_only=self.settings.report.top_level_only)
        report = write_dashboards(self.settings, progress, sorted(targets), editing=editing)
        self.rendered_day = today
        self.retry.update(report.skipped)
        self._note_outcome(report)
        # Our writes moved the lines below each region: keep those notes' rollups exact.
        for rel in report.written:
            self._read(rel)
        return report

    def status(self) -> dict[str, dict[str, Any]]:
        """Note -> ``{"refreshed": ISO time or None, "error": text or None}``."""
        return {rel: {"refreshed": self.notes[rel].refreshed, "error": self.notes[rel].error}
                for rel in sorted(self.regions)}

    def failed(self, error: str) -> None:
        """A refresh failed as a whole: every dashboard note shows why, and the next try
        waits for the next change (a vault that cannot be read is not retried every pass)."""
        self.held = True
        for rel in self.regions:
            self.notes.setdefault(rel, DashboardNote()).error = error

    # ------------------------------------------------------------------ internals
    def _take_changes(self) -> bool:
        """Read what changed into the kept rollups; whether any rollup (or the set of notes)
        changed."""
        self._touched = set()
        if self.everything or self._expired():
            self.filled_at = self.clock()
            self.rollups, regions = vault_rollups(self.settings)
            self.everything, self.looked = False, True
            self.pending.clear()
            self.regions = set(regions)
            self._touched = set(self.regions)
            self.filled = bool(self.regions)
            self.notes = {rel: self.notes.get(rel, DashboardNote()) for rel in self.regions}
            return True
        moved = False
        pending, self.pending = self.pending, set()
        for rel in sorted(pending):
            had_region = rel in self.regions
            moved |= self._read(rel)
            if rel in self.regions:
                self._touched.add(rel)  # its region may have been edited: fill it again
                self.notes.setdefault(rel, DashboardNote())
            elif had_region:
                self.notes.pop(rel, None)
        return moved

    def refill_at(self) -> float | None:
        """The clock time of the next hourly refill (None: no rollups are kept)."""
        return self.filled_at + REFILL_EVERY if self.filled and not self.held else None

    def _expired(self) -> bool:
        return self.filled and self.clock() - self.filled_at >= REFILL_EVERY

    def _read(self, rel: str) -> bool:
        """Roll one note up again; whether its rollup changed (or it came or went)."""
        found = note_dashboard_rollup(self.settings, rel)
        if found is None:
            self.regions.discard(rel)
            return self.rollups.pop(rel, None) is not None
        rollup, has_region = found
        if has_region:
            self.regions.add(rel)
        else:
            self.regions.discard(rel)
        if self.rollups.get(rel) == rollup:
            return False
        self.rollups[rel] = rollup
        return True

    def _note_outcome(self, report: DashboardReport) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for rel in (*report.written, *report.unchanged):  # the region holds the report now
            self.notes.setdefault(rel, DashboardNote()).refreshed = now
        for rel in (*report.written, *report.unchanged, *report.failed):
            self.notes.setdefault(rel, DashboardNote()).error = report.failed.get(rel)
