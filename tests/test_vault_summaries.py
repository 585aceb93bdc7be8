"""Per-note summaries kept in the scan index (the report's rollups): made once, served while the
note is unchanged, shared with the note's own tasks, and as safe to load as the notes."""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import vaultmap.vault.index as index_module
from report_fixtures import make_vault
from vaultmap.config import Settings, load_settings
from vaultmap.model import Note
from vaultmap.progress import (
    NoteRollup,
    RollupSummariser,
    build_progress,
    merge_rollups,
    note_rollup,
)
from vaultmap.vault import index_path, scan_vault

AN_HOUR_NS = 3600 * 1_000_000_000


@dataclass
class Counting:
    """The real rollup summariser, counting the notes it rolls up."""

    inner: RollupSummariser = field(default_factory=RollupSummariser)
    calls: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return self.inner.tag

    @property
    def types(self) -> tuple[type, ...]:
        return self.inner.types

    def __call__(self, note: Note, /) -> NoteRollup:
        self.calls.append(note.path)
        return self.inner(note)


def aged_vault(root: Path) -> Settings:
    """The report test vault with every file an hour old, so the index trusts it at once."""
    make_vault(root)
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - AN_HOUR_NS))
    return load_settings(root)


def test_summaries_are_made_once_and_served_from_the_index(tmp_path: Path) -> None:
    settings = aged_vault(tmp_path / "vault")
    first = Counting()
    cold = scan_vault(settings, summarise=first)
    assert sorted(first.calls) == [note.path for note in cold.notes]
    assert cold.summaries == tuple(note_rollup(note) for note in cold.notes)
    stored = index_path(settings).stat()

    again = Counting()
    warm = scan_vault(settings, summarise=again)
    assert again.calls == [] and warm.parsed == 0
    assert warm.summaries == cold.summaries
    after = index_path(settings).stat()
    assert (after.st_ino, after.st_mtime_ns) == (stored.st_ino, stored.st_mtime_ns)  # unwritten
    # A summary's tasks are the note's own objects, not copies.
    for note, rollup in zip(warm.notes, warm.summaries, strict=True):
        assert isinstance(rollup, NoteRollup)
        for section in rollup.note.root.walk():
            for task in section.tasks:
                assert any(task is own for own in note.tasks)

    day = date(2026, 11, 22)
    rollups = [s for s in warm.summaries if isinstance(s, NoteRollup)]
    assert merge_rollups(rollups, today=day) == build_progress(warm.notes, today=day)


def test_an_index_with_summaries_serves_scans_without_and_the_other_way(tmp_path: Path) -> None:
    settings = aged_vault(tmp_path / "vault")
    plain = scan_vault(settings)  # no summaries stored
    made = Counting()
    first = scan_vault(settings, summarise=made)
    assert first.parsed == 0 and sorted(made.calls) == [n.path for n in plain.notes]
    served = Counting()
    scan_vault(settings, summarise=served)
    assert served.calls == []  # stored by the scan before

    without = scan_vault(settings)  # an index with summaries: the notes alone, all reused
    assert without.parsed == 0 and without.summaries == ()
    assert without.notes == plain.notes
    still = Counting()
    scan_vault(settings, summarise=still)
    assert still.calls == []  # the plain scan kept them


def test_another_tag_makes_summaries_anew(tmp_path: Path) -> None:
    settings = aged_vault(tmp_path / "vault")
    scan_vault(settings, summarise=RollupSummariser())
    top = Counting(RollupSummariser(top_level_only=True))
    result = scan_vault(settings, summarise=top)
    assert len(top.calls) == len(result.notes)
    rollups = [s for s in result.summaries if isinstance(s, NoteRollup)]
    assert merge_rollups(rollups, top_level_only=True) == build_progress(result.notes,
                                                                         top_level_only=True)


def test_a_planted_summary_cannot_run_code(tmp_path: Path) -> None:
    settings = aged_vault(tmp_path / "vault")
    scan_vault(settings, summarise=RollupSummariser())
    fingerprint = index_module._fingerprint(settings)
    entries = index_module._load_index(settings, fingerprint)
    victim = sorted(entries)[0]
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return os.system, (f"touch {marker}",)

    buffer = io.BytesIO()
    note = index_module._decode(entries[victim].blob or b"")
    pickler = index_module._IndexPickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dump(note)
    pickler.dump((RollupSummariser().tag, Evil()))
    entries[victim] = entries[victim]._replace(blob=buffer.getvalue())
    index_module._save_index(settings, fingerprint, entries)

    made = Counting()
    result = scan_vault(settings, summarise=made)
    assert not marker.exists()
    assert made.calls == [victim]  # the entry was parsed again, its rollup made anew
    assert [n.path for n in result.notes] == sorted(entries)
    rollups = [s for s in result.summaries if isinstance(s, NoteRollup)]
    assert merge_rollups(rollups) == build_progress(result.notes)
    healed = Counting()
    scan_vault(settings, summarise=healed)
    assert healed.calls == []
