"""The sync state read back from a damaged or foreign ``sync.sqlite``: every column is checked
for its type and range, so a row vaultmap did not write is one line and exit 12 (or, where the
sync can safely rebuild it, ignored with a note), never a traceback and never a deletion.

SQLite keeps any value in any column, so the damaged files here are real SQLite files: the
state vaultmap wrote, edited as a person or another program could, or rebuilt as a foreign file
of the same schema version whose columns have no type (so a number or a NULL stays one).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fake_notion import FakeNotion
from vaultmap.cli import main
from vaultmap.config import load_settings
from vaultmap.errors import StateError
from vaultmap.sync.base import BaseEntry, ConflictRecord, OverwriteRecord, PendingOp
from vaultmap.sync.state import StateStore

PLAN = "# Plan\n\n- [ ] one\n- [x] two\n"
CONFIG = """\
[notion]
requests_per_second = 0
timeout = 5
backoff = 0.001
max_attempts = 3
"""


def _seeded(folder: Path) -> None:
    """A state file with one row in every table, as vaultmap writes it."""
    with StateStore.open(folder, "notion") as state:
        state.put(BaseEntry("k:" + "0" * 20, "row-1", " ", " ", "aa", "bb", "Plan.md", "one",
                            ("Plan",)))
        state.begin(PendingOp("k:" + "1" * 20, "create", "", "Plan.md"))
        state.add_conflict(ConflictRecord("k:" + "0" * 20, "Plan.md", "one", " ", "x", "remote",
                                          "2026-01-01T00:00:00+00:00"))
        state.add_overwrite(OverwriteRecord("k:" + "0" * 20, "Plan.md", "one", "Due",
                                            "2026-02-01", "2026-03-01",
                                            "2026-01-01T00:00:00+00:00"))
        state.finish_sync(datetime(2026, 1, 1, tzinfo=UTC))


def _untyped(path: Path) -> None:
    """Rebuild the state file with the same tables and rows but no column types or NOT NULL
    (a foreign file at the current schema version): SQLite then keeps numbers as numbers."""
    db = sqlite3.connect(path)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table'")]
    data = {t: (
        [c[1] for c in db.execute(f'PRAGMA table_info("{t}")')],
        db.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables}
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = sqlite3.connect(path)
    for table, (columns, rows) in data.items():
        db.execute(f'CREATE TABLE "{table}" ({", ".join(columns)})')
        db.executemany(f'INSERT INTO "{table}" VALUES ({",".join("?" * len(columns))})', rows)
    db.execute(f"PRAGMA user_version={version}")
    db.commit()
    db.close()


def _damage(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()


# One damaged value per case: (what is done to the file, what reads it).
DAMAGES = {
    "status of two characters": "UPDATE base SET vault_status = 'xx'",
    "remote status a newline": "UPDATE base SET remote_status = char(10)",
    "key NULL": "UPDATE base SET key = NULL",
    "key a number": "UPDATE base SET key = 7",
    "key empty": "UPDATE base SET key = ''",
    "hashed key not hex": "UPDATE base SET key = 'k:not-a-hash'",
    "remote id a number": "UPDATE base SET remote_id = 42",
    "remote id binary": "UPDATE base SET remote_id = x'00ff'",
    "hash NULL": "UPDATE base SET vault_hash = NULL",
    "hash with a NUL": "UPDATE base SET remote_hash = 'ab' || char(0)",
    "note outside the vault": "UPDATE base SET note = '../outside.md'",
    "note absolute": "UPDATE base SET note = '/etc/passwd'",
    "note a number": "UPDATE base SET note = 3.5",
    "description NULL": "UPDATE base SET description = NULL",
    "section of numbers": "UPDATE base SET section = '[1, 2]'",
    "section too deep": "UPDATE base SET section = '" + "[" * 100_000 + "'",
    "remote fields a number": "UPDATE base SET remote_fields = 1",
    "pending op unknown": "UPDATE pending SET op = 'delete'",
    "pending key NULL": "UPDATE pending SET key = NULL",
    "pending detail a number": "UPDATE pending SET detail = 5",
    "conflict chosen unknown": "UPDATE conflicts SET chosen = 'both'",
    "conflict time a number": "UPDATE conflicts SET at = 20260101",
    "overwrite field NULL": "UPDATE overwrites SET field = NULL",
    "overwrite value binary": "UPDATE overwrites SET remote_value = x'ff'",
    "count negative": "UPDATE meta SET value = '-1' WHERE name = 'count'",
    "count huge": "UPDATE meta SET value = '" + "9" * 40 + "' WHERE name = 'count'",
    "count not ascii digits": "UPDATE meta SET value = '٣' WHERE name = 'count'",
    "count a float": "UPDATE meta SET value = '1.5' WHERE name = 'count'",
    "count NULL": "UPDATE meta SET value = NULL WHERE name = 'count'",
    "last sync without a time zone":
        "UPDATE meta SET value = '2026-01-01T00:00:00' WHERE name = 'last_start'",
    "last sync a number": "UPDATE meta SET value = 1767225600 WHERE name = 'last_start'",
    "meta name NULL": "INSERT INTO meta VALUES ('notion', NULL, 'x')",
}


def _read_all(state: StateStore) -> None:
    """What `vaultmap status` and a sync read of the state."""
    state.entries()
    state.pending()
    state.conflicts()
    state.overwrites()
    assert state.last_sync_start is not None
    assert state.sync_count >= 0


@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_a_damaged_value_is_one_line_exit_12(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / ".vaultmap"
    _seeded(folder)
    _untyped(folder / "sync.sqlite")
    _damage(folder / "sync.sqlite", DAMAGES[damage])
    with StateStore.open(folder, "notion") as state, pytest.raises(StateError) as caught:
        _read_all(state)
    assert caught.value.exit_code == 12
    message = str(caught.value)
    assert "\n" not in message and "move the file aside" in message, message
    assert (folder / "sync.sqlite").exists()  # left as it is for the user to look at


def test_the_undamaged_foreign_file_reads_back(tmp_path: Path) -> None:
    # The untyped copy itself is not damage: the checks reject values, not the file's origin.
    folder = tmp_path / ".vaultmap"
    _seeded(folder)
    _untyped(folder / "sync.sqlite")
    with StateStore.open(folder, "notion") as state:
        _read_all(state)
        assert list(state.entries()) == ["k:" + "0" * 20]


def test_a_table_missing_a_column_is_one_line_exit_12(tmp_path: Path) -> None:
    folder = tmp_path / ".vaultmap"
    _seeded(folder)
    _damage(folder / "sync.sqlite", "ALTER TABLE base DROP COLUMN remote_fields",
            "ALTER TABLE conflicts DROP COLUMN chosen")
    with StateStore.open(folder, "notion") as state:
        for read in (StateStore.entries, StateStore.conflicts):
            with pytest.raises(StateError) as caught:
                read(state)
            assert caught.value.exit_code == 12 and "cannot read the sync state" in \
                str(caught.value)


def test_a_last_sync_in_the_future_reads_everything_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / ".vaultmap"
    _seeded(folder)
    later = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    _damage(folder / "sync.sqlite", f"UPDATE meta SET value = '{later}' WHERE name = "
                                    "'last_start'")
    with StateStore.open(folder, "notion") as state:
        assert state.last_sync_start is None  # a full read: safe, and the base is kept
        assert any("in the future" in note for note in state.notes)
        assert list(state.entries()) == ["k:" + "0" * 20]


# -- end to end: `vaultmap status` and `vaultmap sync` against the fake Notion ---------------


@dataclass
class Synced:
    fake: FakeNotion
    vault: Path
    database_id: str

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env={
            "NOTION_TOKEN": self.fake.token, "VAULTMAP_NOTION_BASE_URL": self.fake.base_url})

    @property
    def state(self) -> Path:
        return self.vault / ".vaultmap" / "sync.sqlite"


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Synced]:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(CONFIG)
    (vault / "Plan.md").write_text(PLAN)
    with FakeNotion() as fake:
        env = Synced(fake, vault, "")
        page = fake.add_page("Home")
        assert env.run("notion", "init", "--parent", page, str(vault)).exit_code == 0
        env.database_id = load_settings(vault).notion.database_id
        done = env.run("sync", str(vault))
        assert done.exit_code == 0, done.stderr
        assert len(fake.table(env.database_id)) == 2
        yield env


@pytest.mark.parametrize("damage", [
    "UPDATE base SET vault_status = 'done'",
    "UPDATE base SET note = '../../elsewhere.md'",
    "UPDATE meta SET value = 'yesterday' WHERE name = 'trash_start'",
    "UPDATE meta SET value = '-3' WHERE name = 'count'",
], ids=["status a word", "note outside", "trash time not a time", "count negative"])
def test_a_sync_over_a_damaged_state_stops_with_exit_12_and_changes_nothing(
        synced: Synced, damage: str) -> None:
    _damage(synced.state, "INSERT OR IGNORE INTO meta VALUES ('notion', 'trash_start', "
                          "'2026-01-01T00:00:00+00:00')", damage)
    before = synced.fake.table(synced.database_id)
    done = synced.run("sync", str(synced.vault))
    assert done.exit_code == 12, (done.stdout, done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1 and "sync.sqlite" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert synced.fake.table(synced.database_id) == before  # no row trashed or changed
    assert (synced.vault / "Plan.md").read_text() == PLAN


def test_status_over_a_damaged_conflict_is_one_line_exit_12(synced: Synced) -> None:
    _damage(synced.state, "INSERT INTO conflicts (remote, key, note, description, vault_status,"
                          " remote_status, chosen, at) VALUES ('notion', 'k:' || "
                          "'0123456789abcdef0123', 'Plan.md', 'one', ' ', 'x', 'neither', 'now')")
    done = synced.run("status", "--offline", str(synced.vault))
    assert done.exit_code == 12, (done.stdout, done.stderr)
    assert "recorded conflict" in done.stderr and "chosen" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# -- the GitHub link table and ETag cache (github.sqlite) ---------------------------------------

LINK_DAMAGES = {
    "note outside the vault": "UPDATE links SET note = '../../home/me/secret.md'",
    "note absolute": "UPDATE links SET note = '/etc/passwd'",
    "note empty": "UPDATE links SET note = ''",
    "repo walks up": "UPDATE links SET repo = 'o/..'",
    "repo with a newline": "UPDATE links SET repo = 'o/r' || char(10)",
    "repo not owner/repo": "UPDATE links SET repo = 'o/r/issues'",
    "number negative": "UPDATE links SET number = -1",
    "number huge": "UPDATE links SET number = 1099511627776",
    "number text": "UPDATE links SET number = 'twelve'",
    "number a float": "UPDATE links SET number = 1.5",
    "number NULL": "UPDATE links SET number = NULL",
    "marker not an id": "UPDATE links SET marker = 'A B'",
    "title NULL": "UPDATE links SET title = NULL",
    "section a number": "UPDATE links SET section = 5",
}


def _github_store(vault: Path) -> Path:
    from vaultmap.sync.github.store import GitHubStore, Link

    with GitHubStore.open(vault / ".vaultmap") as store:
        store.put_link(Link("Plan.md", (), "o/r", 12, "abc123", "Plan"))
        store.put("/repos/o/r/issues/12", '"e1"', {"number": 12})
    return vault / ".vaultmap" / "github.sqlite"


@pytest.mark.parametrize("damage", list(LINK_DAMAGES), ids=list(LINK_DAMAGES))
def test_a_damaged_github_link_is_one_line_exit_12(tmp_path: Path, damage: str) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text("")
    (vault / "Plan.md").write_text(PLAN)
    path = _github_store(vault)
    _untyped(path)
    _damage(path, LINK_DAMAGES[damage])
    done = CliRunner().invoke(main, ["github", "list", "--vault", str(vault)])
    assert done.exit_code == 12, (done.stdout, done.stderr)
    assert "GitHub link table" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_github_link_table_missing_a_column_is_one_line_exit_12(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text("")
    _damage(_github_store(vault), "ALTER TABLE links DROP COLUMN title")
    done = CliRunner().invoke(main, ["github", "list", "--vault", str(vault)])
    assert done.exit_code == 12, (done.stdout, done.stderr)
    assert "cannot read the GitHub link table" in done.stderr


@pytest.mark.parametrize("damage", [
    "UPDATE etags SET etag = '\"e1\"' || char(13, 10) || 'X-Injected: 1'",
    "UPDATE etags SET etag = NULL",
    "UPDATE etags SET data = 5",
    "UPDATE etags SET data = '" + "[" * 100_000 + "'",
    "ALTER TABLE etags DROP COLUMN data",
], ids=["etag with CRLF", "etag NULL", "data a number", "data too deep", "column missing"])
def test_a_damaged_etag_row_is_ignored_as_a_cache(tmp_path: Path, damage: str) -> None:
    from vaultmap.sync.github.store import GitHubStore

    path = _github_store(tmp_path)
    _untyped(path)
    _damage(path, damage)
    with GitHubStore.open(tmp_path / ".vaultmap") as store:
        assert store.get("/repos/o/r/issues/12") is None  # asked again, in full
        assert [link.number for link in store.links()] == [12]


def test_a_repo_named_dot_dot_is_refused_by_publish() -> None:
    from vaultmap.errors import ConfigError
    from vaultmap.sync.github.publish import check_repo

    for bad in ("o/..", "o/.", "o/r\n"):
        with pytest.raises(ConfigError):
            check_repo(bad)
    assert check_repo("o/r.github.io") == "o/r.github.io"


# -- the git history cache (history.sqlite): only a cache, so a damaged row is worked out again


def _history_repo(path: Path) -> Path:
    from gitsync_repos import git

    git(path.parent, "init", "-q", "-b", "main", str(path))
    git(path, "config", "user.name", "h")
    git(path, "config", "user.email", "h@example.invalid")
    steps = ["# A\n## S\n- [ ] a1\n- [ ] a2\n", "# A\n## S\n- [x] a1\n- [ ] a2\n",
             "# A\n## S\n- [x] a1\n- [x] a2\n- [-] a3\n"]
    for day, text in enumerate(steps, start=1):
        (path / "A.md").write_text(text)
        git(path, "add", "A.md")
        stamp = f"2026-11-0{day}T12:00:00+00:00"
        git(path, "commit", "-q", "-m", f"c{day}",
            env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
    return path


HISTORY_DAMAGES = {
    "kept points negative": "UPDATE meta SET value = json_replace(value, '$[1][0][2]', -5) "
                            "WHERE key LIKE 'points:%'",
    "kept points more done than tasks": "UPDATE meta SET value = json_replace(value, "
                                        "'$[1][2][3]', 99) WHERE key LIKE 'points:%'",
    "kept points a bool": "UPDATE meta SET value = json_replace(value, '$[1][2][3]', json('true'))"
                          " WHERE key LIKE 'points:%'",
    "kept section a string": "UPDATE meta SET value = json_replace(value, '$[1][2][6]', "
                             "json('[[\"A.md\", \"AB\"]]')) WHERE key LIKE 'points:%'",
    "kept sha not a sha": "UPDATE meta SET value = json_replace(value, '$[1][0][0]', 'HEAD') "
                          "WHERE key LIKE 'points:%'",
    "kept points too deep": "UPDATE meta SET value = '" + "[" * 100_000 + "' WHERE key LIKE "
                            "'points:%'",
    "summary negative": "UPDATE blobs SET summary = json_replace(summary, '$[0]', -3)",
    "summary more done than tasks": "UPDATE blobs SET summary = json_replace(summary, '$[1]', 9)",
    "summary section a string": "UPDATE blobs SET summary = json_replace(summary, '$[3]', "
                                "json('[[\"S\", \"a1\"]]')) WHERE summary LIKE '%a1%'",
    "summary NULL": "UPDATE blobs SET summary = NULL",
    "commit blob an option": "UPDATE commits SET changes = json('[[\"A.md\", \"--all\"]]')",
    "commit sha NULL": "UPDATE commits SET sha = NULL",
    "commit path a number": "UPDATE commits SET changes = json('[[5, null]]')",
    "tip an option": "UPDATE meta SET value = '--output=x' WHERE key = 'tip'",
    "column missing": "ALTER TABLE blobs DROP COLUMN summary",
}


@pytest.mark.parametrize("damage", list(HISTORY_DAMAGES), ids=list(HISTORY_DAMAGES))
def test_a_damaged_history_cache_gives_the_true_history(tmp_path: Path, damage: str) -> None:
    from gitsync_repos import GIT_ENV
    from vaultmap.sync.git.history import read_history

    vault = _history_repo(tmp_path / "vault")
    env = {k: v for k, v in GIT_ENV.items() if v}

    def history() -> Result:
        return CliRunner().invoke(main, ["history", "--format", "json", "--by", "day",
                                         str(vault)], env=env)

    truth = history()
    assert truth.exit_code == 0, truth.stderr
    points = read_history(load_settings(vault)).points
    statements = [HISTORY_DAMAGES[damage]]
    if not damage.startswith("kept"):  # past the kept points, to the rows they come from
        statements.append("DELETE FROM meta WHERE key LIKE 'points:%'")
    _damage(vault / ".vaultmap" / "history.sqlite", *statements)
    again = history()
    assert again.exit_code == 0, again.stderr
    assert again.stdout == truth.stdout
    _damage(vault / ".vaultmap" / "history.sqlite", *statements)
    assert read_history(load_settings(vault)).points == points
    assert read_history(load_settings(vault)).blobs_parsed == 0  # the cache is whole again


# -- git sync's record (git.json) --------------------------------------------------------------

GIT_RECORDS = {
    "paused a word": ('{"paused": "yes"}', "abort", 19, "paused since an unknown time"),
    "paused files a number": ('{"paused": {"since": "t0", "files": 3}}', "abort", 19,
                              "paused since t0"),
    "operation files outside": ('{"operation": {"kind": "merge", "files": ["../../x"]}}',
                                "stop", 0, None),
    "operation a list": ('{"operation": [1, 2]}', "stop", 0, None),
    "notes a number": ('{"merge_notes": 5, "last_sync": 7}', "stop", 0, None),
}


@pytest.mark.parametrize("record", list(GIT_RECORDS), ids=list(GIT_RECORDS))
def test_a_damaged_git_record_is_read_in_its_shape(tmp_path: Path, record: str) -> None:
    from gitsync_repos import clone, make_origin

    text, on_conflict, code, said = GIT_RECORDS[record]
    a = clone(make_origin(tmp_path, {"Plan.md": PLAN}), tmp_path, "a")
    (a.vault / ".vaultmap").mkdir(exist_ok=True)
    (a.vault / ".vaultmap" / "git.json").write_text(text)
    status = a.vaultmap("status", "--offline", str(a.vault), code=None)
    assert status.exit_code == 0, (status.stdout, status.stderr)
    if said is not None:
        assert said in status.stdout
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    done = a.sync("--on-conflict", on_conflict, code=None)
    assert done.exit_code == code, (done.stdout, done.stderr)
    if said is not None:  # a pause stays a pause, whatever its damage
        assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1


# -- the daemon's status file (daemon.json) and lock -------------------------------------------


@pytest.mark.parametrize("pid", [-1, 0, 1, True, 2**70, "4242", 4.5, None])
def test_a_status_pid_that_cannot_be_signalled_safely_is_no_pid(tmp_path: Path,
                                                                 pid: object) -> None:
    import json

    from vaultmap.daemon.status import read_status

    (tmp_path / "daemon.json").write_text(json.dumps({"pid": pid, "started": "t0"}))
    status = read_status(tmp_path)
    assert "pid" not in status and status["started"] == "t0"


@pytest.mark.parametrize("text", ["-1", "0", "1", "²", "99999999999999999999999"])
def test_a_lock_pid_that_cannot_be_signalled_safely_is_no_pid(tmp_path: Path,
                                                              text: str) -> None:
    from vaultmap.daemon.lock import read_pid

    (tmp_path / "daemon.lock").write_text(text)
    assert read_pid(tmp_path / "daemon.lock") is None


DAEMON_STATUSES = {
    "pid huge": '{"pid": 1180591620717411303424}',
    "pid text": '{"pid": "4242"}',
    # No pid in the rest: `daemon stop` must never signal a process of this machine.
    "last sync a list": '{"last_sync": ["notion"]}',
    "paused a list": '{"last_sync": {"notion": null}, "paused": ["x"]}',
    "waiting a number": '{"waiting": 3, "last_error": 5}',
    "too deep": "[" * 100_000,
}


@pytest.mark.parametrize("status", list(DAEMON_STATUSES), ids=list(DAEMON_STATUSES))
def test_daemon_status_stop_and_doctor_read_a_damaged_status(tmp_path: Path,
                                                             status: str) -> None:
    import fcntl
    import os

    (tmp_path / ".vaultmap.toml").write_text("")
    (tmp_path / "Plan.md").write_text(PLAN)
    state = tmp_path / ".vaultmap"
    state.mkdir()
    (state / "daemon.json").write_text(DAEMON_STATUSES[status])
    lock = os.open(state / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # "a daemon runs", whose lock file holds no pid
        for args in (["daemon", "status", str(tmp_path)], ["daemon", "stop", str(tmp_path)],
                     ["doctor", str(tmp_path)]):
            done = CliRunner().invoke(main, args)
            assert "internal error" not in done.stderr, (args, done.stderr)
            assert done.exit_code in (0, 1), (args, done.exit_code, done.stderr)
    finally:
        os.close(lock)


def test_a_merge_record_nested_past_the_stack_is_skipped(tmp_path: Path) -> None:
    from vaultmap.sync.git.driver import read_merge_records

    (tmp_path / "git-merges.jsonl").write_text(
        "[" * 100_000 + "\n" + '{"time": "2026-01-01T00:00:00Z", "path": "A.md", "notes": []}\n')
    assert [r["path"] for r in read_merge_records(tmp_path)] == ["A.md"]


def test_state_text_nested_past_the_stack_reads_as_unknown(tmp_path: Path) -> None:
    from vaultmap.sync.notion.status import _parse_fields

    folder = tmp_path / ".vaultmap"
    _seeded(folder)
    _damage(folder / "sync.sqlite", "UPDATE pending SET detail = '" + "[" * 3000 + "'")
    with StateStore.open(folder, "notion") as state:
        assert state.pending()[0].sent is None  # as a create noted by an older vaultmap
    assert _parse_fields("[" * 3000) is None  # the row's agreed status fields: unknown


def test_a_cached_data_source_that_is_no_id_is_found_again(synced: Synced) -> None:
    # Cached in the state's metadata, it becomes part of request paths: "../.." would send
    # the token's requests elsewhere in the API.
    _damage(synced.state, "UPDATE meta SET value = '../../users' WHERE name LIKE "
                          "'data_source:%'")
    (synced.vault / "Plan.md").write_text(PLAN.replace("[ ] one", "[x] one"))
    done = synced.run("sync", str(synced.vault))
    assert done.exit_code == 0, (done.stdout, done.stderr)
    rows = {r["Task"]: r for r in synced.fake.table(synced.database_id)}
    assert rows["one"]["Done"] is True


def test_a_github_row_id_read_back_names_a_repository_or_nothing() -> None:
    from vaultmap.sync.github.remote import _parse_row_id

    for hostile in ("ref:../..#1:k", "o/..#3:k", "ref:o/r/../x#1:k", "o/r#99999999999:k"):
        assert _parse_row_id(hostile) is None, hostile
    found = _parse_row_id("ref:ada/plan#12:k:" + "0" * 20)
    assert found is not None and (found.group("repo"), found.group("number")) == ("ada/plan",
                                                                                   "12")
