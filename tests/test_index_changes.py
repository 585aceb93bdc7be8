"""The index's changes file: a scan that finds a few notes changed writes them beside the main
index file instead of rewriting all of it, and a later scan reads both; a changes file that
is not for the main file in place (or is damaged, or planted) is ignored, and the notes it
held are read again. Answers never differ from a scan without the index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vaultmap.config import Settings
from vaultmap.vault import scan_vault
from vaultmap.vault.index import changes_path, index_path

HOUR_NS = 3600 * 1_000_000_000


def write(root: Path, rel: str, content: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    st = path.stat()  # an hour old: trusted by the index at once
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - HOUR_NS))
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    root = tmp_path / "vault"
    for number in range(40):
        write(root, f"Notes/n{number:02d}.md", f"# N{number}\n\n- [ ] task {number}\n- [x] done\n")
    return Settings(root=root)


def tasks(settings: Settings, *, use_index: bool = True) -> list[tuple[str, str, str]]:
    result = scan_vault(settings, use_index=use_index)
    return [(t.path, t.status, t.text) for note in result.notes for t in note.tasks]


def test_one_note_changed_is_written_beside_the_main_file(settings: Settings) -> None:
    scan_vault(settings)
    main = index_path(settings)
    before = main.stat()
    write(settings.root, "Notes/n05.md", "- [x] task 5 changed\n")
    (settings.root / "Notes" / "n07.md").unlink()
    write(settings.root, "Notes/new.md", "- [ ] a new one\n")
    assert scan_vault(settings).parsed == 2
    after = main.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert changes_path(settings).is_file()
    again = scan_vault(settings)
    assert (again.parsed, again.reused) == (0, 40)
    assert tasks(settings) == tasks(settings, use_index=False)
    assert ("Notes/n05.md", "x", "task 5 changed") in tasks(settings)


def test_changes_add_up_until_the_main_file_is_written_anew(settings: Settings) -> None:
    scan_vault(settings)
    main = index_path(settings)
    inode = main.stat().st_ino
    for number in range(30):  # one note at a time; the changes file holds them all
        write(settings.root, f"Notes/n{number:02d}.md", f"- [ ] changed {number}\n")
        scan_vault(settings)
        assert tasks(settings) == tasks(settings, use_index=False)
        if main.stat().st_ino != inode:
            break
    # Past a share of the notes, the main file takes them and the changes file goes.
    assert main.stat().st_ino != inode
    assert not changes_path(settings).exists()
    assert scan_vault(settings).parsed == 0


def test_a_changes_file_for_another_main_file_is_ignored(settings: Settings) -> None:
    scan_vault(settings)
    note = write(settings.root, "Notes/n01.md", "- [x] first change\n")
    first = note.stat()
    scan_vault(settings)
    stale = changes_path(settings).read_bytes()  # holds n01 as "first change"
    write(settings.root, "Notes/n01.md", "- [x] second change, longer\n")
    for number in range(2, 40):  # enough to write the main file anew
        write(settings.root, f"Notes/n{number:02d}.md", f"- [ ] other {number}\n")
    scan_vault(settings)
    assert not changes_path(settings).exists()
    # The note now has the very stat of the first change (size, inode, mtime): were the
    # stale changes taken, their entry would pass for it.
    note.write_text("- [ ] frist change\n", encoding="utf-8")
    os.utime(note, ns=(first.st_atime_ns, first.st_mtime_ns))
    assert note.stat().st_ino == first.st_ino
    changes_path(settings).write_bytes(stale)  # for the main file before this one
    assert tasks(settings) == tasks(settings, use_index=False)
    assert ("Notes/n01.md", " ", "frist change") in tasks(settings)


@pytest.mark.parametrize("damage", [b"", b"\x96garbage", b"not msgpack at all"])
def test_a_damaged_changes_file_is_ignored(settings: Settings, damage: bytes) -> None:
    scan_vault(settings)
    write(settings.root, "Notes/n03.md", "- [x] changed\n")
    scan_vault(settings)
    changes_path(settings).write_bytes(damage)
    result = scan_vault(settings)
    assert result.parsed == 1  # the note it held: read again
    assert tasks(settings) == tasks(settings, use_index=False)


def test_a_fifo_or_a_link_in_place_of_the_changes_file(settings: Settings,
                                                       tmp_path: Path) -> None:
    scan_vault(settings)
    os.mkfifo(changes_path(settings))
    write(settings.root, "Notes/n03.md", "- [x] changed\n")
    assert tasks(settings) == tasks(settings, use_index=False)  # never waits on the FIFO
    changes_path(settings).unlink()
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours\n")
    changes_path(settings).symlink_to(outside)
    write(settings.root, "Notes/n04.md", "- [x] changed too\n")
    assert tasks(settings) == tasks(settings, use_index=False)
    assert outside.read_text() == "not ours\n"  # nothing written through the link
