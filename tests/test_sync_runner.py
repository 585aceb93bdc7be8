"""The runner against real notes in a temp vault and an in-memory remote.

``MemoryRemote`` (``memory_remote.py``) is a test double of the *remote* (Notion), not of
vaultmap's code. The vault side is real: files on disk, the real scanner, the real byte-exact
edit API and the real state file. The state machine over every remote is in
``test_sync_machine.py``.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fake_notion import FakeNotion, fast_options, new_database
from memory_remote import InjectedFailure, MemoryRemote, MemRow
from vaultmap.config import NotionSettings, Settings
from vaultmap.parse import parse_note
from vaultmap.sync.engine import Plan
from vaultmap.sync.notion import NotionRemote
from vaultmap.sync.remote import (
    RemoteError,
    RemoteRow,
    TaskRecord,
)
from vaultmap.sync.runner import SyncGuardError, SyncReport, read_vault, run_sync
from vaultmap.sync.state import StateStore


def make_settings(root: Path, **notion: object) -> Settings:
    return Settings(root=root, notion=NotionSettings(database_id="db", **notion))  # type: ignore[arg-type]


def sync(s: Settings, remote: MemoryRemote, **options: object) -> Plan:
    return run_sync(s, remote, **options).plan  # type: ignore[arg-type]


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def sync_losing_create_answers(s: Settings, remote: MemoryRemote) -> SyncReport:
    """One sync in which every create is applied by the remote but its answer is lost."""
    original_create = remote.create

    def create_then_drop(record: TaskRecord) -> RemoteRow:
        original_create(record)
        raise InjectedFailure("connection dropped after the create was applied")

    remote.create = create_then_drop  # type: ignore[method-assign]
    try:
        return run_sync(s, remote)
    finally:
        remote.create = original_create  # type: ignore[method-assign]


def row_for(remote: MemoryRemote, text: str) -> MemRow:
    (row,) = [r for r in remote.live() if r.text == text]
    return row


# -- scenarios ---------------------------------------------------------------------------------


def test_first_push_then_nothing(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "# Plan\n\n- [ ] write the parser\n- [x] pick a name\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    report = run_sync(s, remote)
    assert report.done["CreateRow"] == 2 and report.ok
    assert {r.text: r.status for r in remote.live()} == {"write the parser": " ",
                                                          "pick a name": "x"}
    before = remote.requests
    plan = sync(s, remote)
    assert plan.empty
    assert remote.requests - before == 1  # one incremental query, nothing else


def test_incremental_window_and_every_nth_sync_full(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path, full_every=3), MemoryRemote()
    for _ in range(7):
        sync(s, remote)
        remote.tick(300)
    fulls = [i for i, since in enumerate(remote.reads) if since is None]
    assert fulls == [0, 2, 5]  # the first sync, then every 3rd
    # An incremental read asks for what changed since the previous sync started, as is:
    # looking back further for coarse edit times is the remote's business, not the runner's.
    with StateStore.open(s.state_dir, "notion") as state:
        assert state.sync_count == 7
    assert remote.reads[1] == remote.starts[0]
    assert remote.reads[4] == remote.starts[3]
    sync(s, remote, full=True)
    assert remote.reads[-1] is None
    # A sync that could not finish everything does not move the window.
    with StateStore.open(s.state_dir, "notion") as state:
        window = (state.last_sync_start, state.sync_count)
    remote.person_sets_status(row_for(remote, "one").remote_id, "x")
    (tmp_path / "Plan.md").chmod(0o444)
    try:
        assert not run_sync(s, remote).ok
    finally:
        (tmp_path / "Plan.md").chmod(0o644)
    with StateStore.open(s.state_dir, "notion") as state:
        assert (state.last_sync_start, state.sync_count) == window


def test_remote_is_bound_to_the_base_of_its_target(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "- [ ] one\n- [x] two\n")
    s, remote = make_settings(tmp_path), MemoryRemote("db-1")
    remote.to_cache = {"source": "src-1", "empty": ""}
    sync(s, remote)
    assert remote.bound_cache == {}  # nothing cached yet
    assert remote.agreed_status(row_for(remote, "two").remote_id) is None  # empty base
    sync(s, remote)
    # What the remote asked to keep comes back (empty values are not kept), and the
    # agreed status of each linked row is what both sides held after the last sync.
    assert remote.bound_cache == {"source": "src-1"}
    agreed = remote.agreed_status(row_for(remote, "two").remote_id)
    assert agreed is not None and agreed.status == "x"
    assert remote.agreed_status("page-unknown") is None
    # Pointed at another database (here: holding the same rows): the base of the old one is
    # dropped, nothing of its cache is handed over, and tasks are matched to rows by key.
    remote.database = "db-2"
    before = len(remote.live())
    report = run_sync(s, remote)
    assert any("database changed" in note for note in report.notes)
    assert remote.bound_cache == {}
    assert report.done["CreateRow"] == 0 and len(remote.live()) == before
    with StateStore.open(s.state_dir, "notion") as state:
        meta = state.meta()
    assert meta["database"] == "db-2" and meta["source:db-2"] == "src-1"
    assert "source:db-1" not in meta  # the old database's state went with its base


def test_tick_in_remote_changes_one_byte(tmp_path: Path) -> None:
    original = "# Plan\r\n\r\n- [ ] write the parser 📅 2026-06-01\r\n- [ ] ship\r\n"
    path = write(tmp_path, "Plan.md", original)
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    remote.person_sets_status(row_for(remote, "write the parser").remote_id, "x")
    plan = sync(s, remote)
    assert [type(a).__name__ for a in plan.actions] == ["SetVaultStatus"]
    after = path.read_bytes()
    assert after == original.replace("[ ] write", "[x] write").encode()
    assert sync(s, remote).empty


def test_tick_in_note_updates_row(tmp_path: Path) -> None:
    path = write(tmp_path, "Plan.md", "- [ ] write the parser\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    path.write_text("- [/] write the parser\n")
    sync(s, remote)
    assert row_for(remote, "write the parser").status == "/"


def test_custom_status_is_stored_as_other_without_ping_pong(tmp_path: Path) -> None:
    path = write(tmp_path, "Plan.md", "- [>] forwarded\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    assert row_for(remote, "forwarded").status == "?"
    assert sync(s, remote, full=True).empty
    assert path.read_text() == "- [>] forwarded\n"


def test_both_sides_changed_policy_done(tmp_path: Path) -> None:
    path = write(tmp_path, "Plan.md", "- [ ] write the parser\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    path.write_text("- [-] write the parser\n")
    remote.person_sets_status(row_for(remote, "write the parser").remote_id, "x")
    plan = sync(s, remote)
    assert len(plan.conflicts) == 1
    assert path.read_text() == "- [x] write the parser\n"
    with StateStore.open(s.state_dir, "notion") as state:
        (conflict,) = state.conflicts()
        assert (conflict.vault_status, conflict.remote_status, conflict.chosen) == (
            "-", "x", "remote")


def test_reword_move_and_rename_keep_rows(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "# A\n- [ ] write the parser tests\n- [ ] ship version one\n"
          "# B\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    ids = {r.text: r.remote_id for r in remote.live()}
    write(tmp_path, "Plan.md", "# A\n- [ ] write all the parser tests\n# B\n")
    write(tmp_path, "Later.md", "- [x] ship version one\n")
    sync(s, remote)
    assert {r.text: r.remote_id for r in remote.live()} == {
        "write all the parser tests": ids["write the parser tests"],
        "ship version one": ids["ship version one"]}
    assert row_for(remote, "ship version one").status == "x"
    assert row_for(remote, "ship version one").note == "Later.md"
    (tmp_path / "Later.md").rename(tmp_path / "Someday.md")
    sync(s, remote)
    assert row_for(remote, "ship version one").note == "Someday.md"
    assert len(remote.rows) == 2 and sync(s, remote).empty


def test_delete_trashes_and_remote_trash_unlinks(tmp_path: Path) -> None:
    path = write(tmp_path, "Plan.md", "- [ ] one\n- [ ] two\n- [ ] three\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    path.write_text("- [ ] one\n- [ ] two\n")
    sync(s, remote)
    assert sorted(r.text for r in remote.live()) == ["one", "two"]
    remote.person_trashes(row_for(remote, "two").remote_id)
    report = run_sync(s, remote)
    assert any("trashed" in n for n in report.notes)
    assert path.read_text() == "- [ ] one\n- [ ] two\n"
    assert sync(s, remote, full=True).empty  # not created again
    assert [r.text for r in remote.live()] == ["one"]


def test_inbox_import_gets_key_and_survives_lost_state(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path, inbox="Inbox.md"), MemoryRemote()
    sync(s, remote)
    remote.person_creates("call the bank <!-- soon", "/")
    sync(s, remote)
    assert (tmp_path / "Inbox.md").read_text() == "- [/] call the bank \\<!-- soon\n"
    (row,) = [r for r in remote.live() if r.text.startswith("call")]
    assert row.key is not None and row.note == "Inbox.md"
    assert sync(s, remote, full=True).empty
    shutil.rmtree(s.state_dir)  # the base is rebuilt from the rows' keys
    plan = sync(s, remote)
    assert not [a for a in plan.actions if type(a).__name__ == "CreateRow"]
    assert len(remote.live()) == 2 and sync(s, remote).empty


@pytest.mark.parametrize(("inbox", "reason"), [
    ("Inbox.txt", "must end with"), ("../Inbox.md", "inside the vault"),
    (".hidden/Inbox.md", "hidden folder"), ("Archive/Inbox.md", "excluded")])
def test_inbox_the_scan_would_not_read_is_refused(tmp_path: Path, inbox: str,
                                                   reason: str) -> None:
    from vaultmap.config import VaultSettings
    from vaultmap.errors import ConfigError

    write(tmp_path, "Plan.md", "- [ ] one\n")
    s = msgspec.structs.replace(make_settings(tmp_path, inbox=inbox),
                                vault=VaultSettings(exclude=("Archive/",)))
    remote = MemoryRemote()
    sync(s, remote)
    remote.person_creates("made in notion")
    with pytest.raises(ConfigError, match=reason):
        sync(s, remote)
    assert not list(tmp_path.rglob("Inbox*"))


def test_import_cut_short_is_finished_without_a_second_line_or_row(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path, inbox="Inbox.md"), MemoryRemote()
    sync(s, remote)
    remote.person_creates("call the bank", "x")
    original_update = remote.update

    def update_dropped(remote_id: str, record: TaskRecord, **_: object) -> RemoteRow:
        raise InjectedFailure("connection dropped before the key was written")

    remote.update = update_dropped  # type: ignore[method-assign]
    report = run_sync(s, remote)
    assert not report.ok
    assert (tmp_path / "Inbox.md").read_text() == "- [x] call the bank\n"
    remote.update = original_update  # type: ignore[method-assign]
    sync(s, remote)
    assert (tmp_path / "Inbox.md").read_text() == "- [x] call the bank\n"  # not twice
    rows = remote.live()
    assert len(rows) == 2 and all(r.key for r in rows)
    with StateStore.open(s.state_dir, "notion") as state:
        assert state.pending() == []
    assert sync(s, remote, full=True).empty


def test_import_cut_short_then_row_trashed_leaves_the_line_unlinked(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path, inbox="Inbox.md"), MemoryRemote()
    sync(s, remote)
    rid = remote.person_creates("call the bank")
    original_update = remote.update

    def update_dropped(remote_id: str, record: TaskRecord, **_: object) -> RemoteRow:
        raise InjectedFailure("connection dropped before the key was written")

    remote.update = update_dropped  # type: ignore[method-assign]
    assert not run_sync(s, remote).ok
    remote.update = original_update  # type: ignore[method-assign]
    remote.person_trashes(rid)
    assert run_sync(s, remote).ok
    assert (tmp_path / "Inbox.md").read_text() == "- [ ] call the bank\n"
    assert [r.text for r in remote.live()] == ["one"]  # not pushed back as a new row
    assert sync(s, remote, full=True).empty


def test_unkeyed_row_without_inbox_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    remote.person_creates("made in notion")
    report = run_sync(s, remote, full=True)
    assert any("no key" in n for n in report.notes)
    assert not (tmp_path / "Inbox.md").exists()


def test_guard_stops_and_force_goes_through(tmp_path: Path) -> None:
    lines = "".join(f"- [ ] task number {i}\n" for i in range(12))
    path = write(tmp_path, "Plan.md", lines)
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    path.write_text("- [ ] task number 0\n")
    with pytest.raises(SyncGuardError, match="11 of 12"):
        sync(s, remote)
    assert len(remote.live()) == 12
    sync(s, remote, force=True)
    assert [r.text for r in remote.live()] == ["task number 0"]


def test_unreadable_note_does_not_trash_its_rows(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "- [ ] one\n")
    other = write(tmp_path, "Other.md", "- [ ] two\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    other.write_bytes(b"- [ ] two\x00 binary now\n")
    plan = sync(s, remote, full=True)
    assert not [a for a in plan.actions if type(a).__name__ == "TrashRow"]
    assert len(remote.live()) == 2


def test_an_unreadable_note_in_a_folder_named_with_a_colon_keeps_its_rows(
        tmp_path: Path) -> None:
    # "Work: Q1/Plan.md: binary file, skipped" must protect Work: Q1/Plan.md, not "Work".
    write(tmp_path, "Plan.md", "- [ ] one\n")
    other = write(tmp_path, "Work: Q1/Plan.md", "- [ ] two\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    other.write_bytes(b"- [ ] two\x00 binary now\n")
    assert read_vault(s).unreadable == ("Work: Q1/Plan.md",)
    plan = sync(s, remote, full=True)
    assert not [a for a in plan.actions if type(a).__name__ == "TrashRow"]
    assert len(remote.live()) == 2


def test_a_readable_note_with_a_warning_is_not_unreadable(tmp_path: Path) -> None:
    # A note read with a warning (its front matter is broken) is read: its tasks count, and
    # neither it nor a path its name begins with is set aside as unreadable.
    write(tmp_path, "Plan: draft.md", "---\ntags: [unclosed\n---\n- [ ] one\n")
    s = make_settings(tmp_path)
    vault = read_vault(s)
    assert [r.note for r in vault.records.values()] == ["Plan: draft.md"]
    assert any(w.startswith("Plan: draft.md: ") for w in vault.warnings)
    assert vault.unreadable == ()


def test_a_folder_that_cannot_be_listed_keeps_its_rows(tmp_path: Path) -> None:
    # A folder the walk cannot list (here: its path grew past PATH_MAX when the vault moved,
    # which no permission bit or root can get around) hides its notes; their rows stay.
    short = tmp_path / "v"
    component = "f" * ((3990 - len(str(short))) // 20 - 1)
    deep = short.joinpath(*[component] * 20)
    assert len(str(deep)) > 3900 and len(str(deep / "Plan.md")) < 4000
    write(short, "Top.md", "- [ ] one\n")
    write(deep, "Plan.md", "- [ ] two\n")
    s, remote = make_settings(short), MemoryRemote()
    sync(s, remote)
    assert len(remote.live()) == 2
    moved = tmp_path / ("v" * 200)
    short.rename(moved)
    s = make_settings(moved)
    unreadable = read_vault(s).unreadable
    assert len(unreadable) == 1 and unreadable[0].endswith("/")
    plan = sync(s, remote, full=True)
    assert not [a for a in plan.actions if type(a).__name__ == "TrashRow"]
    assert len(remote.live()) == 2


def test_lost_create_answer_is_not_duplicated(tmp_path: Path) -> None:
    write(tmp_path, "Plan.md", "- [ ] one\n- [ ] two\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    remote.fail_rate, remote.lose_answers = 1.0, True
    with pytest.raises(RemoteError):
        sync(s, remote)  # the snapshot fails first
    remote.fail_rate = 0.0
    report = sync_losing_create_answers(s, remote)
    assert not report.ok and len(remote.live()) == 2
    # Notion's queries may lag behind a create: the next read does not show the rows, so
    # only looking the key up before creating again prevents a duplicate.
    remote.hidden = {r.remote_id for r in remote.live()}
    sync(s, remote)
    remote.hidden = set()
    assert sorted(r.text for r in remote.live()) == ["one", "two"]
    assert sync(s, remote).empty


def test_a_change_in_the_remote_to_a_row_whose_create_answer_was_lost_is_kept(
        tmp_path: Path) -> None:
    path = write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    assert not sync_losing_create_answers(s, remote).ok
    # The row was made with [ ]; a person ticks it before the next sync. The vault did not
    # change, so the tick must reach the note (as it would for any other row).
    remote.person_sets_status(row_for(remote, "one").remote_id, "x")
    sync(s, remote)
    assert path.read_text() == "- [x] one\n"
    assert row_for(remote, "one").status == "x"


def test_a_change_to_a_lost_create_row_the_query_does_not_show_yet_is_kept(
        tmp_path: Path) -> None:
    path = write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    assert not sync_losing_create_answers(s, remote).ok
    remote.person_sets_status(row_for(remote, "one").remote_id, "x")
    # The query lags: only the key look-up before creating again finds the row.
    remote.hidden = {r.remote_id for r in remote.live()}
    assert run_sync(s, remote).ok
    remote.hidden = set()
    assert path.read_text() == "- [x] one\n"
    assert [r.status for r in remote.live()] == ["x"]
    assert sync(s, remote, full=True).empty


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    report = run_sync(s, remote, dry_run=True)
    assert report.plan.describe() == ["create row [ ] Plan.md: 'one'"]
    assert not remote.rows and path.read_text() == "- [ ] one\n"
    with StateStore.open(s.state_dir, "notion") as state:
        assert state.entries() == {} and state.sync_count == 0
        assert state.meta() == {} and state.pending() == []


def test_failed_note_edit_keeps_remote_change(tmp_path: Path) -> None:
    path = write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    sync(s, remote)
    remote.person_sets_status(row_for(remote, "one").remote_id, "x")
    remote.person_retitles(row_for(remote, "one").remote_id, "one, edited in notion")
    path.chmod(0o444)
    try:
        report = run_sync(s, remote)
        assert not report.ok and path.read_text() == "- [ ] one\n"
        # The row's text is put back only once the note took the row's status.
        assert row_for(remote, "one, edited in notion").status == "x"
    finally:
        path.chmod(0o644)
    for _ in range(3):
        remote.tick(120)  # the next incremental window must still see the row
    sync(s, remote)
    assert path.read_text() == "- [x] one\n"


def test_remote_double_rounds_times_to_minutes() -> None:
    remote = MemoryRemote()
    rid = remote.person_creates("x")
    assert remote.rows[rid].edited.second == 0
    assert replace(remote.view(remote.rows[rid]), trashed=True).trashed


def test_second_sync_of_the_same_vault_waits_then_gives_up(tmp_path: Path) -> None:
    from filelock import FileLock

    from vaultmap.sync.runner import SyncBusyError

    write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path), MemoryRemote()
    s.state_dir.mkdir()
    with (FileLock(str(s.state_dir / "sync-notion.lock")),
          pytest.raises(SyncBusyError, match="another vaultmap sync")):
        run_sync(s, remote, lock_timeout=0.05)
    assert not remote.rows
    assert run_sync(s, remote).ok


def test_imported_title_is_one_safe_line() -> None:
    from vaultmap.sync.runner import _inbox_text

    assert _inbox_text("call\x00 the\u2028bank %% soon <!-- x $$ y\r\n") == (
        "call the bank \\%\\% soon \\<!-- x \\$\\$ y")


# Any title, rich in what opens a comment, a math block or an HTML block (runs of it too).
_titles = st.lists(st.one_of(
    st.sampled_from(["%", "$", "<!--", "-->", "`", "\\", "[", "]", "\n", "\r", "\u2028", "\x00",
                     " "]).flatmap(lambda piece: st.integers(1, 4).map(lambda n: piece * n)),
    st.text(max_size=4)), min_size=1, max_size=10).map("".join)


@given(_titles)
def test_an_imported_title_is_one_line_that_hides_no_later_line(title: str) -> None:
    from vaultmap.sync.runner import _inbox_text

    text = _inbox_text(title)
    assume(text)
    note = f"- [ ] {text}\n- [ ] after\n".encode("utf-8", "surrogatepass")
    assert [t.text for t in parse_note(note, "Inbox.md").tasks][1:] == ["after"]


@pytest.mark.parametrize("title", ["50%%% sure", "%%%", "a %%%% b", "cost $$$", "$$$$"])
def test_an_imported_title_with_a_run_of_percent_or_dollar_signs_hides_nothing(
        tmp_path: Path, title: str) -> None:
    # "%%" was escaped once per pair: "%%%" kept a "%%", which opened an Obsidian comment
    # (and "$$$" a math block) hiding every line after it, the next imported task included.
    write(tmp_path, "Plan.md", "- [ ] one\n")
    s, remote = make_settings(tmp_path, inbox="Inbox.md"), MemoryRemote()
    sync(s, remote)
    remote.person_creates(title, " ")
    sync(s, remote)
    remote.person_creates("the next one", " ")
    sync(s, remote)
    inbox = (tmp_path / "Inbox.md").read_text()
    assert "%%" not in inbox and "$$" not in inbox
    note = parse_note(inbox.encode(), "Inbox.md")
    assert [t.text for t in note.tasks][1] == "the next one"
    assert len(remote.live()) == 3 and sync(s, remote).empty


def test_incremental_sync_asks_notion_from_two_minutes_before_the_last_start(
        tmp_path: Path) -> None:
    (tmp_path / "Plan.md").write_text("- [ ] one\n- [ ] two\n")
    with FakeNotion() as fake:
        with new_database(fake) as setup:
            database = setup.database_id
        s = Settings(root=tmp_path, notion=NotionSettings(database_id=database))

        def sync() -> None:
            with NotionRemote(fake.token, database_id=database, base_url=fake.base_url,
                              options=fast_options()) as remote:
                assert run_sync(s, remote).ok

        sync()
        with StateStore.open(s.state_dir, "notion") as state:
            last = state.last_sync_start
        assert last is not None
        (row,) = [r for r in fake.table(database) if r["Task"] == "one"]
        fake.tick(str(row["_id"]))  # in the same (rounded) minute as the last start, likely
        fake.log.clear()
        sync()
        edges = {body["filter"]["last_edited_time"]["on_or_after"]
                 for method, path, body in fake.log
                 if method == "POST" and path.endswith("/query") and body.get("filter")
                 and "timestamp" in body["filter"]}
        # The runner passes the last start as is; only the adapter looks back (2 minutes,
        # for Notion's minute-rounded edit times), so the window is not widened twice.
        expected = (last - timedelta(minutes=2)).astimezone(UTC)
        assert edges == {expected.strftime("%Y-%m-%dT%H:%M:%S.000Z")}, (edges, last)
    assert (tmp_path / "Plan.md").read_text() == "- [x] one\n- [ ] two\n"
