"""Per-note summaries kept in the scan index (the report's rollups): made once, served while the
note is unchanged, read without decoding the note, and as safe to load as the notes."""

from __future__ import annotations

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
from vaultmap.vault import index_path, index_state, scan_vault

AN_HOUR_NS = 3600 * 1_000_000_000


@dataclass
class Counting:
    """The real rollup summariser, counting the notes it rolls up."""

    inner: RollupSummariser = field(default_factory=RollupSummariser)
    calls: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return self.inner.tag

    def __call__(self, note: Note, /) -> NoteRollup:
        self.calls.append(note.path)
        return self.inner(note)

    def encode(self, summary: object, /) -> bytes:
        return self.inner.encode(summary)

    def decode(self, data: bytes, /) -> NoteRollup:
        return self.inner.decode(data)


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
    assert warm.paths == tuple(note.path for note in warm.notes)

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


def test_summaries_alone_are_read_without_decoding_a_note(tmp_path: Path) -> None:
    settings = aged_vault(tmp_path / "vault")
    full = scan_vault(settings, summarise=RollupSummariser())
    # Every stored note made unreadable: a scan for summaries alone never notices.
    fingerprint = index_module._fingerprint(settings)
    entries = index_module._load_index(settings, fingerprint)
    for rel, entry in entries.items():
        entries[rel] = entry._replace(blob=b"\x80\x05not a pickle")
    index_module._save_index(settings, fingerprint, entries)
    light = Counting()
    result = scan_vault(settings, summarise=light, notes=False)
    assert light.calls == [] and (result.parsed, result.notes) == (0, ())
    assert result.paths == full.paths and result.summaries == full.summaries
    # A scan that wants the notes finds them damaged and parses them again.
    again = scan_vault(settings, summarise=RollupSummariser())
    assert again.parsed == len(full.notes) and again.notes == full.notes


def test_warnings_of_unchanged_notes_come_without_decoding_them(tmp_path: Path) -> None:
    settings = aged_vault(tmp_path / "vault")
    (settings.root / "Broken.md").write_text("---\n[not: yaml\n---\n- [ ] a task\n")
    os.utime(settings.root / "Broken.md", ns=(0, 0))
    cold = scan_vault(settings, summarise=RollupSummariser())
    assert any(line.startswith("Broken.md: ") for line in cold.warnings)
    warm = scan_vault(settings, summarise=RollupSummariser(), notes=False)
    assert warm.parsed == 0 and warm.repeated == cold.repeated + tuple(
        line for line in cold.warnings if line.startswith("Broken.md: "))
    assert warm.warnings == cold.warnings


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

    planted = pickle.dumps(Evil(), protocol=pickle.HIGHEST_PROTOCOL)
    entries[victim] = entries[victim]._replace(summary=planted)
    index_module._save_index(settings, fingerprint, entries)

    made = Counting()
    result = scan_vault(settings, summarise=made)
    assert not marker.exists()
    assert made.calls == [victim]  # the entry's rollup was made anew from its note
    assert [n.path for n in result.notes] == sorted(entries)
    rollups = [s for s in result.summaries if isinstance(s, NoteRollup)]
    assert merge_rollups(rollups) == build_progress(result.notes)
    healed = Counting()
    scan_vault(settings, summarise=healed)
    assert healed.calls == []


def test_an_undecodable_file_name_keeps_the_index_whole(tmp_path: Path) -> None:
    settings = aged_vault(tmp_path / "vault")
    raw_name = os.fsdecode(b"caf\xe9 latin-1.md")  # not UTF-8: a lone surrogate in the path
    path = settings.root / raw_name
    path.write_text("- [ ] legacy name\n- [x] done\n")
    os.utime(path, ns=(0, 0))
    cold = scan_vault(settings, summarise=RollupSummariser())
    assert index_state(settings) == "current"
    stored = index_path(settings).stat()
    warm = scan_vault(settings, summarise=RollupSummariser(), notes=False)
    assert warm.parsed == 0 and raw_name in warm.paths
    assert warm.summaries == cold.summaries
    # Its rollup cannot be kept (MessagePack holds no lone surrogate): made again each time,
    # without rewriting the index each time.
    after = index_path(settings).stat()
    assert (after.st_ino, after.st_mtime_ns) == (stored.st_ino, stored.st_mtime_ns)
    assert merge_rollups([s for s in warm.summaries if isinstance(s, NoteRollup)]) == \
        build_progress(cold.notes)
