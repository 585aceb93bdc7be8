"""Reading progress history out of git, with a cache per blob id (I/O edge of
:mod:`vaultmap.history`).

One ``git log --first-parent --raw`` lists, for each commit of the current branch, the vault
notes it changed and their new blob ids; each blob id is parsed once, ever: its summary is
cached in ``.vaultmap/history.sqlite`` (a blob id names its content, so a summary never goes
stale; the cache is dropped only when the settings that decide what a task is change). The
commit list is cached too, so a second run asks git only for the commits since the last one
it saw; and the per-commit totals themselves, so a run on an unmoved HEAD reads one row.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import msgspec

from vaultmap.config import STATE_DIR, Settings
from vaultmap.errors import GitStateError
from vaultmap.fs import is_access_problem
from vaultmap.history import (
    BlobSummary,
    CommitChanges,
    CommitPoint,
    is_count,
    text_tuple,
    walk_history,
)
from vaultmap.sync.git.process import Git
from vaultmap.sync.git.vaultrepo import Repo, open_repo_at_head, read_blobs, state_dir

CACHE_NAME = "history.sqlite"
_ZERO = "0" * 40
_SKIPPED = frozenset({".obsidian", ".trash", ".git", STATE_DIR})
_BATCH = 2000  # blobs per `git cat-file --batch`

if TYPE_CHECKING:
    import pathspec


class History(msgspec.Struct, frozen=True):
    points: list[CommitPoint]
    commits_read: int  # commits git was asked about in this run (0 when HEAD did not move)
    blobs_parsed: int  # note versions parsed in this run (the rest came from the cache)


def _fingerprint(settings: Settings, prefix: str) -> str:
    # Version 2: a cache from a version that kept its tip across a reset starts again.
    material = json.dumps([2, prefix, settings.vault.flavor.value,
                           sorted((c, t.value) for c, t in settings.statuses.chars.items()),
                           list(settings.vault.extensions), list(settings.vault.exclude)])
    return hashlib.sha256(material.encode()).hexdigest()[:16]


_CACHE_SCHEMA = """
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE IF NOT EXISTS blobs (sha TEXT PRIMARY KEY, summary TEXT);
    CREATE TABLE IF NOT EXISTS commits (seq INTEGER PRIMARY KEY, sha TEXT, at TEXT, changes TEXT);
"""
_CACHE_COLUMNS = {"meta": ["key", "value"], "blobs": ["sha", "summary"],
                  "commits": ["seq", "sha", "at", "changes"]}
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object names


def _open_cache(path: Path) -> sqlite3.Connection:
    """The cache with its three tables as this code makes them; a table of another shape
    (a column missing, a file of another program) is dropped and made again."""
    db = sqlite3.connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")  # may we write it? (a read-only file opens, then refuses)
        db.execute("ROLLBACK")
        db.executescript(_CACHE_SCHEMA)
        shapes = {table: [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
                  for table in _CACHE_COLUMNS}
        if shapes != _CACHE_COLUMNS:
            with db:
                for table in _CACHE_COLUMNS:
                    db.execute(f"DROP TABLE {table}")
            db.executescript(_CACHE_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


@contextmanager
def _cache(settings: Settings, fingerprint: str) -> Iterator[sqlite3.Connection]:
    try:
        path = state_dir(settings) / CACHE_NAME
    except GitStateError:
        # .vaultmap/ is a link to elsewhere, or cannot be made (a read-only vault): no cache,
        # still answers.
        path = Path(":memory:")
    try:
        db = _open_cache(path)
    except sqlite3.DatabaseError as error:
        if is_access_problem(error):
            # A vault we may not write (or a cache of another user's): history is still
            # answered, from a cache that lives as long as this run.
            db = _open_cache(Path(":memory:"))
        else:
            # A damaged cache is only a cache: start it again.
            if str(path) != ":memory:":
                path.unlink(missing_ok=True)
            db = _open_cache(path)
    with closing(db):
        row = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        if row is None or row[0] != fingerprint:
            with db:
                db.execute("DELETE FROM blobs")
                db.execute("DELETE FROM commits")
                # The tip too: kept, it would say every commit was already read.
                db.execute("DELETE FROM meta")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)",
                           (fingerprint,))
        yield db


def _selector(settings: Settings, repo: Repo) -> pathspec.GitIgnoreSpec | None:
    patterns = [p for p in settings.vault.exclude if p.strip()]
    if not patterns:
        return None
    import pathspec  # only a vault with [vault] exclude patterns pays for it

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _log(repo: Repo, settings: Settings, since_sha: str | None) -> list[CommitChanges]:
    """The commits of HEAD's first-parent line after ``since_sha``, oldest first."""
    revisions = f"{since_sha}..HEAD" if since_sha else "HEAD"
    result = repo.git.run("log", "--first-parent", "--reverse", "--format=%x01%H %cI",
                          "--raw", "-z", "--no-renames", "--no-abbrev",
                          "--diff-merges=first-parent", revisions, "--",
                          *repo.pathspec(), env={"GIT_OPTIONAL_LOCKS": "0"})
    extensions = tuple(e.lower() for e in settings.vault.extensions)
    excluded = _selector(settings, repo)
    commits: list[CommitChanges] = []
    for chunk in result.stdout.split(b"\x01"):
        if not chunk:
            continue
        header, _, raw = chunk.partition(b"\0")
        sha, when = header.decode().split(" ", 1)
        fields = raw.lstrip(b"\n").split(b"\0")
        changes: list[tuple[str, str | None]] = []
        for meta, name in zip(fields[0::2], fields[1::2], strict=False):
            if not meta.startswith(b":"):
                continue
            new_sha = meta.split()[3].decode()
            path = name.decode("utf-8", "surrogateescape")
            if not path.startswith(repo.prefix):
                continue
            rel = path[len(repo.prefix):]
            if not rel.lower().endswith(extensions):
                continue
            if _SKIPPED.intersection(PurePosixPath(rel).parts[:-1]):
                continue
            if excluded is not None and excluded.match_file(rel):
                continue
            changes.append((rel, None if new_sha == _ZERO else new_sha))
        commits.append(CommitChanges(sha, datetime.fromisoformat(when), tuple(changes)))
    return commits


def _within_cap(git: Git, shas: list[str], max_bytes: int) -> list[str]:
    """``shas`` without the note versions over ``[vault] max_note_mb``: the scan skips such a
    note on disk, and a committed one (a pasted log, a cloned repository's 2 GB file) must not
    be read whole into memory either; history counts it as an empty note, uncached."""
    if not shas:
        return shas
    checked = git.run("cat-file", "--batch-check", input="".join(f"{s}\n" for s in shas).encode())
    too_big = set()
    for line in checked.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit() and int(parts[2]) > max_bytes:
            too_big.add(parts[0].decode())
    return [sha for sha in shas if sha not in too_big]


def _summaries(db: sqlite3.Connection, git: Git, settings: Settings,
               commits: Sequence[CommitChanges]) -> tuple[dict[str, BlobSummary], int]:
    wanted = {blob for c in commits for _, blob in c.changes if blob is not None}
    rows = [(sha, summary) for sha, summary in db.execute("SELECT sha, summary FROM blobs")
            if sha in wanted]
    known: dict[str, BlobSummary] = {}
    try:
        # One JSON document for all of them: a warm run spends its time here, not in git.
        decoded = json.loads("[" + ",".join(summary for _, summary in rows) + "]")
        known = {sha: BlobSummary.from_json(data)
                 for (sha, _), data in zip(rows, decoded, strict=True)}
    except (*_DAMAGED_ROW, RecursionError):
        for sha, summary in rows:  # one row does not decode: the others still count
            with suppress(*_DAMAGED_ROW, RecursionError):  # parsed again instead
                known[sha] = BlobSummary.from_json(json.loads(summary))
    missing = _within_cap(git, sorted(wanted - known.keys()), settings.vault.max_note_bytes)
    paths = {blob: path for c in commits for path, blob in c.changes if blob is not None}
    for start in range(0, len(missing), _BATCH):
        # Imported only when a note version is new: a warm run never parses.
        from vaultmap.parse import parse_note

        contents = read_blobs(git, missing[start:start + _BATCH])
        rows = []
        for sha, data in contents.items():
            note = parse_note(data, paths[sha], flavor=settings.vault.flavor,
                              statuses=settings.statuses)
            summary = BlobSummary.of(note)
            known[sha] = summary
            rows.append((sha, json.dumps(summary.as_json(), separators=(",", ":"))))
        with db:
            db.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?)", rows)
    return known, len(missing)


def read_history(settings: Settings, *, note: str | None = None) -> History:
    """Every commit's totals for the vault (or one note), using and updating the cache.

    :class:`GitStateError` when the vault is not in a git work tree or has no commit."""
    repo, head_sha = open_repo_at_head(settings)
    if head_sha is None:
        raise GitStateError(f"{settings.root}: the repository has no commit yet")
    with _cache(settings, _fingerprint(settings, repo.prefix)) as db:
        points_key = _points_key(note)
        kept = _cached_points(db, points_key, head_sha)
        if kept is not None:  # HEAD has not moved since these were worked out
            return History(kept, 0, 0)
        cached = _cached_commits(db)
        tip_row = db.execute("SELECT value FROM meta WHERE key = 'tip'").fetchone()
        # Only an object name is passed to git: anything else reads everything again.
        tip = tip_row[0] if tip_row and _is_sha(tip_row[0]) else None
        if tip is None and cached:  # commits without the tip they end at: read them again
            cached = []
            with db:
                db.execute("DELETE FROM commits")
        fresh: list[CommitChanges] = []
        commits_read = 0
        if tip != head_sha:
            if tip is not None and not _is_ancestor(repo, tip, head_sha):
                cached, tip = [], None  # history was rewritten: read it all again
                with db:
                    db.execute("DELETE FROM commits")
            fresh = _log(repo, settings, tip)
            commits_read = len(fresh)
            with db:
                db.executemany("INSERT INTO commits (sha, at, changes) VALUES (?, ?, ?)",
                               [(c.sha, c.when.isoformat(), json.dumps(c.changes))
                                for c in fresh])
                db.execute("INSERT OR REPLACE INTO meta VALUES ('tip', ?)", (head_sha,))
        commits = cached + fresh
        summaries, parsed = _summaries(db, repo.git, settings, commits)
        points = walk_history(commits, summaries, note=note)
        with db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                       (points_key, json.dumps([head_sha, [_point_json(p) for p in points]],
                                               separators=(",", ":"))))
    return History(points, commits_read, parsed)


def _points_key(note: str | None) -> str:
    """The cache key of the points of ``note`` (the vault when None). A path that is not
    valid UTF-8 (lone surrogates) cannot be bound as SQLite text: it is keyed by its bytes."""
    try:
        (note or "").encode("utf-8")
    except UnicodeEncodeError:
        assert note is not None
        return f"points-bytes:{note.encode('utf-8', 'surrogatepass').hex()}"
    return f"points:{note or ''}"


def _point_json(point: CommitPoint) -> list[Any]:
    return [point.sha, point.when.isoformat(), point.total, point.done, point.cancelled,
            point.newly_done, [[path, list(section)] for path, section in point.progressed]]


def _cached_points(db: sqlite3.Connection, key: str, head: str) -> list[CommitPoint] | None:
    """The points worked out when HEAD was ``head`` (the warm run's whole answer), or None."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    try:
        tip, points = json.loads(row[0])
        if tip != head:
            return None
        return [_point_of(point) for point in points]
    except (*_DAMAGED_ROW, RecursionError):  # not what this code wrote: work them out again
        return None


def _point_of(data: Sequence[Any]) -> CommitPoint:
    """:func:`_point_json` read back; ``ValueError`` for anything it does not make."""
    sha, when, total, done, cancelled, newly_done, progressed = data
    if not (_is_sha(sha) and all(is_count(n) for n in (total, done, cancelled, newly_done))
            and done + cancelled <= total and newly_done <= done
            and isinstance(progressed, list)):
        raise ValueError("not a point of the history")
    return CommitPoint(sha, datetime.fromisoformat(when), total, done, cancelled, newly_done,
                       tuple((_path(path), text_tuple(section)) for path, section in progressed))


def _is_sha(value: object) -> bool:
    return isinstance(value, str) and _SHA.fullmatch(value) is not None


def _path(value: object) -> str:
    """A vault-relative note path as git listed it (text, not empty, no NUL)."""
    if not isinstance(value, str) or not value or "\0" in value:
        raise ValueError("not a note path")
    return value


def _change_of(data: Sequence[Any]) -> tuple[str, str | None]:
    path, blob = data
    if blob is not None and not _is_sha(blob):
        raise ValueError("not a blob id")
    return _path(path), blob


def _commit_of(sha: object, at: object, changes: Sequence[Any]) -> CommitChanges:
    if not _is_sha(sha) or not isinstance(at, str) or not isinstance(changes, list):
        raise ValueError("not a commit")
    assert isinstance(sha, str)
    return CommitChanges(sha, datetime.fromisoformat(at),
                         tuple(_change_of(change) for change in changes))


# What a cached row that does not decode raises (json, datetime, tuple unpacking).
_DAMAGED_ROW = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def _cached_commits(db: sqlite3.Connection) -> list[CommitChanges]:
    """The commits the cache holds, oldest first; none (and the cache's commits forgotten, so
    git is read again) when a row does not decode: a damaged cache is only a cache."""
    rows = db.execute("SELECT sha, at, changes FROM commits ORDER BY seq").fetchall()
    try:
        # One JSON document for all of them: a warm run spends its time here, not in git.
        all_changes = json.loads("[" + ",".join(changes for _, _, changes in rows) + "]")
        return [_commit_of(sha, at, changes)
                for (sha, at, _), changes in zip(rows, all_changes, strict=True)]
    except (*_DAMAGED_ROW, RecursionError):
        with db:
            db.execute("DELETE FROM commits")
            db.execute("DELETE FROM meta WHERE key = 'tip'")
        return []


def _is_ancestor(repo: Repo, older: str, newer: str) -> bool:
    return repo.git.run("merge-base", "--is-ancestor", older, newer, check=False).ok
