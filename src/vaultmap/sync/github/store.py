"""What the GitHub remote keeps in ``.vaultmap/github.sqlite``: published links and ETags.

The link table says which note (or section) is published as which issue; unlike the sync
base it is not a cache (nothing else knows that issue 7 is the checklist of Roadmap.md), so it
lives in a file of its own, beside ``sync.sqlite``, and survives a reset of the base. A link
whose ``number`` is 0 is a publish that was sent and not answered: its ``marker`` (also in
the body) finds the issue on the next try. The ETag table is a cache of GitHub answers
(ETag + JSON) for conditional requests; losing it costs rate limit, nothing else.

Same mechanism as the sync base: SQLite in WAL mode, every write its own transaction.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from vaultmap.config import is_repo_name
from vaultmap.fs import NOT_WRITABLE_ADVICE, UnsafePath, connect_read_only, is_access_problem
from vaultmap.sync.state import StateError, loaded, storable, transaction
from vaultmap.vault.paths import open_state_folder

STORE_FILE = "github.sqlite"
_STORE_FILES = (STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm", STORE_FILE + "-journal")
SECTION_SEPARATOR = " › "
_MARKER = re.compile(r"[0-9a-z]{6,40}")  # the id in the body's markers (github/body.py)
# An ETag is sent back as a header: printable ASCII only (a CR or LF would be refused by the
# HTTP client, as a request it cannot send).
_ETAG = re.compile(r"[\x20-\x7e]{1,1024}")
_ISSUE_MAX = 2**31 - 1
_TITLE_MAX = 1024
_SCHEMA = """
CREATE TABLE IF NOT EXISTS links (
    note TEXT NOT NULL, section TEXT NOT NULL, repo TEXT NOT NULL, number INTEGER NOT NULL,
    marker TEXT NOT NULL, title TEXT NOT NULL, PRIMARY KEY (note, section));
CREATE TABLE IF NOT EXISTS etags (url TEXT PRIMARY KEY, etag TEXT NOT NULL, data TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Link:
    """A note, or a section of one, published as a checklist issue."""

    note: str  # vault-relative path
    section: tuple[str, ...]  # heading path; () for the whole note
    repo: str  # OWNER/REPO
    number: int  # 0 while the create is unanswered
    marker: str  # the id in the body's block markers
    title: str

    @property
    def target(self) -> str:
        """``NOTE`` or ``NOTE#Heading › Subheading``, as a user names it."""
        return f"{self.note}#{SECTION_SEPARATOR.join(self.section)}" if self.section \
            else self.note

    @property
    def issue(self) -> str:
        return f"{self.repo}#{self.number}"

    def covers(self, note: str, section: tuple[str, ...]) -> bool:
        """Whether a task of ``note`` under ``section`` belongs to this checklist."""
        return note == self.note and section[: len(self.section)] == self.section


def _inside_vault(note: str) -> bool:
    """A vault-relative POSIX path that stays in the vault (no root, no ``..``, no NUL)."""
    return bool(note) and not note.startswith("/") and "\0" not in note \
        and ".." not in note.split("/")


class GitHubStore:
    """The link table and the ETag cache. One per process; not thread-safe."""

    def __init__(self, db: sqlite3.Connection, path: Path, *, read_only: bool = False) -> None:
        self._db = db
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, state_dir: Path, *, read_only: bool = False) -> GitHubStore:
        """The link table of the vault whose state folder is ``state_dir``, created if needed.

        ``read_only`` (``github list``, a dry run, asking whether GitHub is in use): nothing
        is created or written (an absent file reads as no links; the ETag cache keeps what it
        learns in memory), so it works in a vault we may not write."""
        path = state_dir / STORE_FILE
        try:
            # Never through a link: a cloned vault cannot point our state files elsewhere.
            open_state_folder(state_dir, _STORE_FILES, create=not read_only)
            if read_only:
                if not path.exists():
                    db = sqlite3.connect(":memory:", isolation_level=None)
                    db.executescript(_SCHEMA)
                    return cls(db, path, read_only=True)
                return cls(connect_read_only(path), path, read_only=True)
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
        except UnsafePath as unsafe:
            raise StateError(f"{unsafe.reason}; nothing was written") from None
        except OSError as error:
            raise StateError(f"{state_dir}: cannot create the state folder "
                             f"({error.strerror}); {NOT_WRITABLE_ADVICE}") from None
        except sqlite3.DatabaseError as error:
            # Only a file SQLite proves damaged is worth setting aside; one we may not write
            # is healthy, and its links exist nowhere else.
            advice = NOT_WRITABLE_ADVICE if is_access_problem(error) else \
                "move it aside to start afresh (then publish again)"
            raise StateError(f"{path}: cannot open the GitHub link table ({error}); "
                             f"{advice}") from None
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> GitHubStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _tx(self) -> contextlib.AbstractContextManager[None]:
        return transaction(self._db)

    # -- links ------------------------------------------------------------------------------
    def links(self) -> list[Link]:
        """Every link, by note and section."""
        try:
            rows = self._db.execute("SELECT note, section, repo, number, marker, title FROM "
                                    "links ORDER BY note, section").fetchall()
        except sqlite3.DatabaseError as error:  # a foreign table (a column missing), a bad page
            raise StateError(f"{self.path}: cannot read the GitHub link table ({error}); move "
                             "the file aside to start afresh (then publish again)") from None
        return [self._link_of(tuple(loaded(value) for value in row)) for row in rows]

    def _link_of(self, row: tuple[Any, ...]) -> Link:
        """One row as a :class:`Link`; a row of the wrong shape or range (a damaged or foreign
        table) is one line (exit 12), not a traceback. The note must lie inside the vault
        (its tasks are sent to GitHub) and the repository must be an ``OWNER/REPO`` (it
        becomes part of API paths)."""
        note, section, repo, number, marker, title = row
        try:
            heading = json.loads(section) if isinstance(section, str) else None
        except (ValueError, RecursionError):
            heading = None
        if not (isinstance(heading, list) and all(isinstance(h, str) for h in heading)
                and isinstance(note, str) and _inside_vault(note) and is_repo_name(repo)
                and isinstance(marker, str) and _MARKER.fullmatch(marker)
                and isinstance(title, str) and len(title) <= _TITLE_MAX
                and type(number) is int and 0 <= number <= _ISSUE_MAX):
            raise StateError(f"{self.path}: a row of the GitHub link table does not read as a "
                             "link; move the file aside to start afresh (then publish again)")
        return Link(note, tuple(heading), repo, number, marker, title)

    def link(self, note: str, section: tuple[str, ...]) -> Link | None:
        for link in self.links():
            if link.note == note and link.section == section:
                return link
        return None

    def put_link(self, link: Link) -> None:
        with self._tx():
            self._db.execute("INSERT OR REPLACE INTO links VALUES (?,?,?,?,?,?)",
                             (storable(link.note),
                              json.dumps(list(link.section), ensure_ascii=False),
                              link.repo, link.number, link.marker, link.title))

    def remove_link(self, link: Link) -> None:
        with self._tx():
            self._db.execute("DELETE FROM links WHERE note=? AND section=?",
                             (storable(link.note),
                              json.dumps(list(link.section), ensure_ascii=False)))

    # -- the ETag cache (vaultmap.sync.github.http.EtagCache) ---------------------------------
    def get(self, url: str) -> tuple[str, Any] | None:
        try:
            row = self._db.execute("SELECT etag, data FROM etags WHERE url=?", (url,)).fetchone()
        except sqlite3.DatabaseError:
            return None  # only a cache: the request is sent in full
        if row is None or not isinstance(row[0], str) or not isinstance(row[1], str) \
                or not _ETAG.fullmatch(row[0]):
            return None  # a row we did not write: asked again, without the ETag
        try:
            return row[0], json.loads(row[1])
        except (ValueError, RecursionError):
            return None

    def put(self, url: str, etag: str, data: Any) -> None:
        if self.read_only:
            return  # only a cache: a read-only store asks again next time
        with self._tx():
            self._db.execute("INSERT OR REPLACE INTO etags VALUES (?,?,?)",
                             (url, etag, json.dumps(data, ensure_ascii=False,
                                                    separators=(",", ":"))))
