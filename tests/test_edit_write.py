"""vaultmap.edit on real files: byte-exact round trips, atomic replace, compare-and-swap,
refusals, symlinks, permissions, done dates and append_tasks."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from vaultmap.config import EditSettings, Settings
from vaultmap.edit import ChangeResult, StatusChange, append_tasks, set_statuses
from vaultmap.edit.atomic import MAX_ATTEMPTS, TEMP_SUFFIX, rewrite_file
from vaultmap.edit.patch import plan_status_changes
from vaultmap.errors import (
    EditError,
    NoteBusyError,
    NoteVanishedError,
    ReadOnlyNoteError,
    VaultmapError,
)
from vaultmap.model import Note
from vaultmap.parse import parse_note

# --- fixtures of our own, shaped like real notes -----------------------------------------------

ROADMAP_MOJIBAKE = (
    "# Shed project â€” roadmap\n"
    "\n"
    "### **Phase 1: Groundwork**\n"
    "- [ ] **Site**\n"
    "\t- [ ] Measure the plot (north â€“ south).\n"
    "\t- [x] Ask the neighbourâ€™s permission\n"
    "\t\t- [ ] Draft a short note\n"
    "\t\t- [/] Print it  \n"
    "- [ ] **Materials** \n"
    "\t- [ ] Timber: â€œtreatedâ€\x9d pine\n"
    "\t- [-] Reclaimed bricks\n"
    "#### **Phase 2: Build**\n"
    "- [ ] Frame the walls\n"
    "\t- [ ] Cut studs to 2.4 m\n"
    "- **Time**: two weekends\n"
    "```\n"
    "- [ ] not a task, inside code\n"
    "```\n"
    "> [!todo] Later\n"
    "> - [ ] Paint it Ã©cru\n"
    "- [ ] Last line without an ending"
)

CP1252_NOTE = (
    "## Réunion du jeudi\r\n"
    "- [ ] Réserver la salle – 3ème étage\r\n"
    "\t- [x] Prévenir l’équipe\r\n"
    "- [ ] Café & croissants\r\n"
    "- [/] Imprimer l’ordre du jour\r\n"
).encode("cp1252")

CRLF_BOM_NOTE = (
    "\ufeff---\r\ntags: [week]\r\n---\r\n"
    "# Week 12 — classification\r\n"
    "1. [ ] Logistic regression 📅 2025-04-02\r\n"
    "2. [x] Decision trees ✅ 2025-03-30 ^trees\r\n"
    "   - [ ] Random forests #ml\r\n"
    "* [>] Gradient boosting\r\n"
).encode()

CR_ONLY_NOTE = b"# Old Mac note\r- [ ] one\r\t- [ ] two  \r- [x] three\r"

MIXED_ENDINGS_NOTE = b"- [ ] lf\n- [ ] crlf\r\n- [ ] cr\r- [ ] last"


def _vault(root: Path, *, done_date: bool = False) -> Settings:
    return Settings(root=root, edit=EditSettings(done_date=done_date))


def _parse(settings: Settings, rel: str) -> Note:
    data = (settings.root / rel).read_bytes()
    return parse_note(data, rel, flavor=settings.vault.flavor, statuses=settings.statuses)


def _set_every_task(settings: Settings, rel: str, pick: Callable[[str], str]) -> list[ChangeResult]:
    note = _parse(settings, rel)
    changes = [StatusChange(t.key, t.status, pick(t.status), line=t.line) for t in note.tasks]
    return set_statuses(settings, Path(rel), changes)


def _without_statuses(data: bytes, note: Note) -> bytes:
    out, pos = bytearray(), 0
    for task in sorted(note.tasks, key=lambda t: t.offset):
        out += data[pos:task.offset]
        pos = task.offset + task.status_len
    return bytes(out + data[pos:])


@pytest.mark.parametrize(
    "original",
    [ROADMAP_MOJIBAKE.encode("utf-8"), CP1252_NOTE, CRLF_BOM_NOTE, CR_ONLY_NOTE,
     MIXED_ENDINGS_NOTE],
    ids=["roadmap-tabs-mojibake", "cp1252", "crlf-bom-frontmatter", "cr-only", "mixed-endings"],
)
def test_toggle_every_task_and_back_gives_identical_bytes(tmp_path: Path, original: bytes) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "Projects" / "note.md"
    note_file.parent.mkdir()
    note_file.write_bytes(original)
    before = _parse(settings, "Projects/note.md")
    assert len(before.tasks) >= 3

    results = _set_every_task(settings, "Projects/note.md", lambda s: " " if s == "x" else "x")
    assert all(r.applied for r in results)
    toggled = note_file.read_bytes()
    after = _parse(settings, "Projects/note.md")
    assert toggled != original
    assert [t.line for t in after.tasks] == [t.line for t in before.tasks]
    assert [t.status for t in after.tasks] == [" " if t.status == "x" else "x"
                                               for t in before.tasks]
    assert _without_statuses(toggled, after) == _without_statuses(original, before)

    old = {t.line: t.status for t in before.tasks}
    note = _parse(settings, "Projects/note.md")
    back = set_statuses(settings, Path("Projects/note.md"),
                        [StatusChange(t.key, t.status, old[t.line], line=t.line)
                         for t in note.tasks])
    assert all(r.applied for r in back)
    assert note_file.read_bytes() == original


def test_the_code_block_line_is_never_touched(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    (tmp_path / "r.md").write_bytes(ROADMAP_MOJIBAKE.encode())
    _set_every_task(settings, "r.md", lambda _s: "x")
    assert b"- [ ] not a task, inside code\n" in (tmp_path / "r.md").read_bytes()


# --- atomic replace, permissions, symlinks -----------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o640, 0o755, 0o664])
def test_the_note_is_replaced_by_rename_and_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    note_file.chmod(mode)
    inode = note_file.stat().st_ino
    _set_every_task(settings, "n.md", lambda _s: "x")
    assert note_file.read_bytes() == b"- [x] a\n"
    assert stat.S_IMODE(note_file.stat().st_mode) == mode
    assert note_file.stat().st_ino != inode  # a new file was renamed over the note
    assert [p.name for p in tmp_path.iterdir()] == ["n.md"]  # no temporary file left


def test_a_symlinked_note_is_written_at_its_target_and_stays_a_link(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    real_dir = tmp_path / "elsewhere"
    real_dir.mkdir()
    target = real_dir / "real.md"
    target.write_bytes(b"- [ ] linked\n")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    results = _set_every_task(settings, "link.md", lambda _s: "x")
    assert results[0].applied
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_bytes() == b"- [x] linked\n"
    assert sorted(p.name for p in real_dir.iterdir()) == ["real.md"]


def test_no_change_means_no_write(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [x] a\n")
    before = note_file.stat()
    key = _parse(settings, "n.md").tasks[0].key
    assert set_statuses(settings, Path("n.md"), [StatusChange(key, "x", "x")]) == [
        ChangeResult(key, True, None)]
    after = note_file.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


# --- refusals ----------------------------------------------------------------------------------


def test_a_read_only_note_is_refused_even_for_root(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    note_file.chmod(0o444)
    key = _parse(settings, "n.md").tasks[0].key
    with pytest.raises(ReadOnlyNoteError) as caught:
        set_statuses(settings, Path("n.md"), [StatusChange(key, " ", "x")])
    assert caught.value.exit_code == 7
    assert str(caught.value) == "n.md: the note is read-only; nothing changed"
    assert note_file.read_bytes() == b"- [ ] a\n"
    assert stat.S_IMODE(note_file.stat().st_mode) == 0o444


def test_a_vanished_note_is_refused(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    with pytest.raises(NoteVanishedError) as caught:
        set_statuses(settings, Path("gone.md"), [StatusChange("k:x", " ", "x")])
    assert caught.value.exit_code == 8
    assert "gone.md" in str(caught.value) and "\n" not in str(caught.value)


def test_a_task_no_longer_there_or_with_another_status_is_reported_not_written(
        tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n- [ ] b\n")
    a, b = _parse(settings, "n.md").tasks
    note_file.write_bytes(b"- [-] a\n")  # the user cancelled a and deleted b meanwhile
    results = set_statuses(settings, Path("n.md"),
                           [StatusChange(a.key, " ", "x"), StatusChange(b.key, " ", "x")])
    assert [r.applied for r in results] == [False, False]
    assert results[0].reason == "status is [-], expected [ ]"
    assert results[1].reason is not None and "not found" in results[1].reason
    assert note_file.read_bytes() == b"- [-] a\n"


def test_a_path_outside_the_vault_is_refused(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_bytes(b"- [ ] a\n")
    with pytest.raises(EditError, match="not inside the vault"):
        set_statuses(_vault(vault), Path("../outside.md"), [StatusChange("k:x", " ", "x")])
    with pytest.raises(EditError, match="not inside the vault"):
        append_tasks(_vault(vault), Path("../outside.md"), ["- [ ] b"])
    assert outside.read_bytes() == b"- [ ] a\n"


def test_a_folder_is_not_a_note(tmp_path: Path) -> None:
    (tmp_path / "dir.md").mkdir()
    with pytest.raises(EditError, match="folder"):
        set_statuses(_vault(tmp_path), Path("dir.md"), [StatusChange("k:x", " ", "x")])


# --- compare-and-swap --------------------------------------------------------------------------


def _status_transform(settings: Settings, rel: str, changes: list[StatusChange],
                      meddle: Callable[[int], None]
                      ) -> Callable[[bytes], tuple[bytes | None, list[ChangeResult]]]:
    """The transform set_statuses uses, with a user edit made while it runs."""
    calls = [0]

    def transform(data: bytes) -> tuple[bytes | None, list[ChangeResult]]:
        calls[0] += 1
        note = parse_note(data, rel)
        new, results = plan_status_changes(data, note, changes, settings.statuses)
        meddle(calls[0])
        return new, results

    return transform


def test_an_edit_made_while_we_work_is_read_and_kept(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    key = _parse(settings, "n.md").tasks[0].key
    calls: list[int] = []

    def user_types(call: int) -> None:
        calls.append(call)
        if call == 1:
            with open(note_file, "ab") as handle:
                handle.write(b"typed in Obsidian\n")

    results = rewrite_file(
        note_file, _status_transform(settings, "n.md", [StatusChange(key, " ", "x")], user_types),
        display="n.md")
    assert results[0].applied
    assert calls == [1, 2]  # parsed again with the appended line, then written at once
    assert note_file.read_bytes() == b"- [x] a\ntyped in Obsidian\n"


def test_an_in_place_edit_made_while_we_work_makes_us_start_again(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n- [ ] b\n")
    key = _parse(settings, "n.md").tasks[1].key
    calls: list[int] = []

    def user_edits(call: int) -> None:
        calls.append(call)
        if call == 1:
            note_file.write_bytes(b"Typed on top.\n\n- [ ] a\n- [ ] b\n")

    results = rewrite_file(
        note_file, _status_transform(settings, "n.md", [StatusChange(key, " ", "x")], user_edits),
        display="n.md")
    assert results[0].applied
    assert calls == [1, 2]
    assert note_file.read_bytes() == b"Typed on top.\n\n- [ ] a\n- [x] b\n"


def test_a_status_changed_meanwhile_wins_and_is_reported(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    key = _parse(settings, "n.md").tasks[0].key

    def user_cancels(call: int) -> None:
        if call == 1:
            note_file.write_bytes(b"- [-] a\n")

    results = rewrite_file(
        note_file, _status_transform(settings, "n.md", [StatusChange(key, " ", "x")],
                                     user_cancels), display="n.md")
    assert not results[0].applied
    assert results[0].reason == "status is [-], expected [ ]"
    assert note_file.read_bytes() == b"- [-] a\n"


def test_a_same_size_same_mtime_edit_is_still_detected(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n- [ ] b\n")
    key = _parse(settings, "n.md").tasks[0].key
    stamp = note_file.stat()

    def sneaky(call: int) -> None:
        if call == 1:  # same length, then the old mtime put back
            note_file.write_bytes(b"- [ ] a\n- [/] b\n")
            os.utime(note_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))

    rewrite_file(note_file, _status_transform(settings, "n.md", [StatusChange(key, " ", "x")],
                                              sneaky), display="n.md")
    assert note_file.read_bytes() == b"- [x] a\n- [/] b\n"


def test_a_note_that_never_stops_changing_is_given_up_without_writing(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    key = _parse(settings, "n.md").tasks[0].key

    def always(call: int) -> None:
        note_file.write_bytes(b"%d\n- [ ] a\n" % call)  # saved again, in place

    with pytest.raises(NoteBusyError) as caught:
        rewrite_file(note_file, _status_transform(settings, "n.md", [StatusChange(key, " ", "x")],
                                                  always), display="n.md")
    assert caught.value.exit_code == 10
    data = note_file.read_bytes()
    assert data == b"%d\n- [ ] a\n" % MAX_ATTEMPTS  # the user's last save, never ours
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_a_write_into_the_replaced_file_is_carried_over(tmp_path: Path) -> None:
    """A writer that opened the note before our rename and writes after it is not lost."""
    settings = _vault(tmp_path)
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    key = _parse(settings, "n.md").tasks[0].key
    old_inode = note_file.stat().st_ino
    late: list[threading.Thread] = []

    def open_early(call: int) -> None:
        if call != 1:
            return
        fd = os.open(note_file, os.O_WRONLY | os.O_APPEND)

        def write_after_rename() -> None:
            deadline = time.monotonic() + 10
            while note_file.stat().st_ino == old_inode and time.monotonic() < deadline:
                time.sleep(0.001)  # poll for the rename, with a deadline
            os.write(fd, b"late line\n")
            os.close(fd)

        thread = threading.Thread(target=write_after_rename)
        thread.start()
        late.append(thread)

    results = rewrite_file(
        note_file, _status_transform(settings, "n.md", [StatusChange(key, " ", "x")],
                                     open_early), display="n.md")
    late[0].join()
    assert results[0].applied
    assert note_file.read_bytes() == b"- [x] a\nlate line\n"


# --- done dates through the file API -----------------------------------------------------------


def test_done_date_on_and_off(tmp_path: Path) -> None:
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] pay rent ^rent\n")
    with_dates = _vault(tmp_path, done_date=True)
    key = _parse(with_dates, "n.md").tasks[0].key
    set_statuses(with_dates, Path("n.md"), [StatusChange(key, " ", "x")],
                 done_date=date(2025, 5, 1))
    assert note_file.read_bytes() == "- [x] pay rent ✅ 2025-05-01 ^rent\n".encode()
    set_statuses(with_dates, Path("n.md"), [StatusChange(key, "x", " ")])
    assert note_file.read_bytes() == b"- [ ] pay rent ^rent\n"

    without = _vault(tmp_path, done_date=False)
    set_statuses(without, Path("n.md"), [StatusChange(key, " ", "x")],
                 done_date=date(2025, 5, 1))
    assert note_file.read_bytes() == b"- [x] pay rent ^rent\n"


def test_done_date_defaults_to_today(tmp_path: Path) -> None:
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    settings = _vault(tmp_path, done_date=True)
    key = _parse(settings, "n.md").tasks[0].key
    before = date.today()
    set_statuses(settings, Path("n.md"), [StatusChange(key, " ", "x")])
    after = date.today()  # the two differ only across midnight
    assert note_file.read_bytes() in {f"- [x] a ✅ {day.isoformat()}\n".encode()
                                      for day in (before, after)}


# --- append_tasks ------------------------------------------------------------------------------


def test_append_tasks_creates_the_note_and_its_folder(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    append_tasks(settings, Path("Inbox/From Notion.md"), ["- [ ] call the plumber"])
    created = tmp_path / "Inbox" / "From Notion.md"
    assert created.read_bytes() == b"- [ ] call the plumber\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(created.stat().st_mode) == 0o666 & ~umask


def test_append_tasks_keeps_crlf_bom_and_mode(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "inbox.md"
    note_file.write_bytes(b"\xef\xbb\xbf# Inbox\r\n- [x] old")
    note_file.chmod(0o600)
    append_tasks(settings, Path("inbox.md"), ["- [ ] new one", "- [ ] new two"])
    assert note_file.read_bytes() == (
        b"\xef\xbb\xbf# Inbox\r\n- [x] old\r\n- [ ] new one\r\n- [ ] new two\r\n")
    assert stat.S_IMODE(note_file.stat().st_mode) == 0o600


def test_append_tasks_in_a_cp1252_note_writes_cp1252(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "old.md"
    note_file.write_bytes(CP1252_NOTE)
    append_tasks(settings, Path("old.md"), ["- [ ] Répondre"])
    assert note_file.read_bytes() == CP1252_NOTE + "- [ ] Répondre\r\n".encode("cp1252")


def test_append_tasks_refusals(tmp_path: Path) -> None:
    settings = _vault(tmp_path)
    note_file = tmp_path / "ro.md"
    note_file.write_bytes(b"x\n")
    note_file.chmod(0o444)
    with pytest.raises(ReadOnlyNoteError):
        append_tasks(settings, Path("ro.md"), ["- [ ] a"])
    with pytest.raises(EditError, match="line break"):
        append_tasks(settings, Path("new.md"), ["- [ ] a\n- [ ] b"])
    assert not (tmp_path / "new.md").exists()
    assert note_file.read_bytes() == b"x\n"


def test_every_edit_error_is_one_line(tmp_path: Path) -> None:
    errors: list[VaultmapError] = []
    for call in (
        lambda: set_statuses(_vault(tmp_path), Path("missing.md"), [StatusChange("k", " ", "x")]),
        lambda: append_tasks(_vault(tmp_path), Path("../x.md"), ["a"]),
    ):
        with pytest.raises(VaultmapError) as caught:
            call()
        errors.append(caught.value)
    assert all("\n" not in str(e) and "Traceback" not in str(e) for e in errors)


def test_a_fifo_named_like_a_note_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(EditError, match="not a regular file"):
        set_statuses(_vault(tmp_path), Path("pipe.md"), [StatusChange("k:x", " ", "x")])


def test_a_vault_reached_through_a_symlink_accepts_real_paths(tmp_path: Path) -> None:
    real_root = tmp_path / "data"
    real_root.mkdir()
    (real_root / "n.md").write_bytes(b"- [ ] a\n")
    linked_root = tmp_path / "Notes"
    linked_root.symlink_to(real_root)
    settings = _vault(linked_root)
    key = _parse(settings, "n.md").tasks[0].key
    results = set_statuses(settings, real_root / "n.md", [StatusChange(key, " ", "x")])
    assert results[0].applied
    assert (real_root / "n.md").read_bytes() == b"- [x] a\n"
    assert linked_root.is_symlink()


def test_temporary_files_left_by_a_killed_writer_are_cleaned_up_later(tmp_path: Path) -> None:
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    stale = tmp_path / f".n.md.0badf00d{TEMP_SUFFIX}"
    fresh = tmp_path / f".n.md.12345678{TEMP_SUFFIX}"  # may belong to a writer still running
    other = tmp_path / f".other.md.0badf00d{TEMP_SUFFIX}"
    for leftover in (stale, fresh, other):
        leftover.write_bytes(b"half a note")
    an_hour_ago = time.time() - 3600
    for leftover in (stale, other):
        os.utime(leftover, (an_hour_ago, an_hour_ago))
    _set_every_task(_vault(tmp_path), "n.md", lambda _s: "x")
    assert not stale.exists()
    assert fresh.exists() and other.exists()
