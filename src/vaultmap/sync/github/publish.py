"""``github publish`` / ``unlink``: a note's (or section's) task list as a checklist issue.

Publishing renders the tasks into the block (:mod:`vaultmap.sync.github.body`), creates the
issue (or puts the block into an existing one with ``--issue N``), records the link, and
records every task in the sync base as agreed, so the first ``vaultmap sync`` has nothing to
do. A create is crash-safe: the link is stored with its marker *before* the request goes out,
and a publish whose answer was lost finds its issue by that marker on the next try instead of
creating a second one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vaultmap.config import Settings
from vaultmap.display import printable
from vaultmap.errors import ConfigError, SyncBusyError, TargetNotFoundError
from vaultmap.model import Task, normalise_text
from vaultmap.sync.engine import task_record
from vaultmap.sync.github.body import (
    ParsedBody,
    check_size,
    has_marker,
    line_hash,
    parse_body,
    render_block,
)
from vaultmap.sync.github.http import GitHubClient, checked_issue
from vaultmap.sync.github.remote import block_tasks, cancelled_char
from vaultmap.sync.github.store import SECTION_SEPARATOR, GitHubStore, Link
from vaultmap.sync.remote import RemoteAuthError, RemoteError, RemoteSchemaError
from vaultmap.sync.state import BaseEntry, StateStore
from vaultmap.vault import note_path, read_note

REPO_HELP = "OWNER/REPO"


@dataclass(frozen=True, slots=True)
class Published:
    link: Link
    tasks: int
    created: bool  # a new issue (False: an existing one got the block, or a lost create)
    url: str


def split_target(target: str) -> tuple[str, str]:
    """``NOTE#HEADING`` -> (note, heading); the heading may be ""."""
    note, _, heading = target.partition("#")
    return note, heading.strip()


def check_repo(repo: str) -> str:
    from vaultmap.config import is_repo_name

    if not is_repo_name(repo):
        raise ConfigError(f"--repo must be {REPO_HELP}, not {repo!r}")
    return repo


def _section_of(tasks: tuple[Task, ...], heading: str, note: str) -> tuple[str, ...]:
    """The heading path of the first heading named ``heading`` (case-insensitive; a path
    ``A › B`` or ``A > B`` names a nested one)."""
    wanted = [normalise_text(p) for p in heading.replace(" > ", SECTION_SEPARATOR)
              .split(SECTION_SEPARATOR.strip()) if p.strip()]
    for task in tasks:
        # A person names the heading as vaultmap shows it (mojibake repaired) or as written.
        for shown in (task.display_section, task.section):
            names = [normalise_text(s) for s in shown]
            for end in range(len(wanted), len(names) + 1):
                if names[end - len(wanted): end] == wanted:
                    return task.section[:end]
    raise TargetNotFoundError(f"{note}: no tasks under a heading {heading!r}")


def select_tasks(settings: Settings, target: str) -> tuple[str, tuple[str, ...], list[Task]]:
    """The note (vault-relative), the section path and its tasks, for ``NOTE[#HEADING]``."""
    note_arg, heading = split_target(target)
    path = Path(note_arg)
    if not path.is_absolute():
        path = settings.root / path
    note, _ = read_note(settings, path)
    rel = note_path(settings, path)
    section = _section_of(note.tasks, heading, rel) if heading else ()
    tasks = [t for t in note.tasks if t.section[: len(section)] == section]
    if not tasks:
        raise TargetNotFoundError(f"{target}: has no tasks to publish")
    return rel, section, tasks


@contextmanager
def sync_lock(settings: Settings) -> Iterator[None]:
    """Hold the lock of GitHub syncs of this vault (publish and unlink change the link table
    and the base, which a running sync, the daemon's say, must not see half done)."""
    from filelock import Timeout

    from vaultmap.sync.runner import LOCK_TIMEOUT, _lock

    try:
        with _lock(settings, "github").acquire(timeout=LOCK_TIMEOUT):
            yield
    except Timeout:
        raise SyncBusyError("a vaultmap sync with GitHub is running; try again when it has "
                            "finished") from None


def publish(settings: Settings, client: GitHubClient, store: GitHubStore, target: str, *,
            repo: str, title: str | None = None, issue: int | None = None,
            clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Published:
    """Publish ``NOTE[#HEADING]`` to ``repo`` (see the module docstring)."""
    check_repo(repo)
    note, section, tasks = select_tasks(settings, target)
    existing = store.link(note, section)
    if existing is not None and existing.number > 0:
        if existing.repo.lower() == repo.lower() and issue in (None, existing.number):
            return Published(existing, len(tasks), False, _html_url(existing))
        raise ConfigError(f"{existing.target} is already published as {existing.issue}; run "
                          f"`vaultmap github unlink {target}` first")
    lines = block_tasks(tasks, settings.statuses)
    shown = tasks[0].display_section[: len(section)] if section else ()
    name = title or _default_title(note, shown)
    marker = existing.marker if existing is not None else secrets.token_hex(6)
    link = Link(note, section, repo, 0, marker, name)
    block = render_block(marker, lines)
    created = False
    data: dict[str, Any] | None
    if issue is not None:
        data = _attach(client, link, issue, block)
        # The issue holds this checklist now: a note published into it before (renamed or
        # moved since) lets go of it.
        for other in store.links():
            if (other.repo.lower(), other.number) == (repo.lower(), issue) and \
                    (other.note, other.section) != (note, section):
                _forget(settings, store, other)
    else:
        check_size(block, link.target)
        data = _find_lost_create(client, link, clock) if existing is not None else None
        if data is None:
            store.put_link(link)  # the marker first: a lost answer is found by it next time
            sent_at = clock()
            try:
                data = client.post_json(f"/repos/{repo}/issues", {"title": name, "body": block})
                created = True
            except (RemoteAuthError, RemoteSchemaError):
                raise
            except RemoteError:
                # The answer may be lost while the issue was made: look before giving up.
                data = _find_lost_create(client, link, lambda: sent_at)
                if data is None:
                    raise
    assert data is not None
    data = checked_issue(data, f"the publish of {link.target}")
    link = replace(link, number=int(data["number"]), title=str(data.get("title") or name))
    store.put_link(link)
    _record_base(settings, link, tasks, parse_body(data.get("body")))
    return Published(link, len(tasks), created, str(data.get("html_url") or _html_url(link)))


def _default_title(note: str, section: tuple[str, ...]) -> str:
    # A file name that is not valid UTF-8 (lone surrogates) or holds control characters is
    # titled as it is shown (U+FFFD): no request could carry the surrogates.
    stem = printable(Path(note).stem)
    return f"{stem}: {section[-1]}" if section else stem


def _html_url(link: Link) -> str:
    return f"https://github.com/{link.repo}/issues/{link.number}"


def _attach(client: GitHubClient, link: Link, number: int, block: str) -> dict[str, Any]:
    """Put the block into existing issue ``number``: replace an earlier vaultmap block, or
    append to the body; the rest of the body is kept byte for byte. The body is read right
    before the write (and again after any wait), so text people add meanwhile is kept."""
    path = f"/repos/{link.repo}/issues/{number}"
    fresh = parse_body(block)
    assert fresh is not None
    read: list[dict[str, Any]] = []

    def with_block() -> dict[str, Any] | None:
        issue = checked_issue(client.get_json(path), f"{link.repo}#{number}")
        read.append(issue)
        body = issue.get("body") or ""
        old = parse_body(body)
        if old is not None:
            new_body = ParsedBody(fresh.marker, old.before, fresh.lines, old.after,
                                  old.newline).render()
        elif body:
            # Appended in the body's own line endings (CRLF once it was saved on github.com).
            newline = "\r\n" if "\r\n" in body else "\n"
            new_body = ParsedBody(fresh.marker, body.rstrip("\r\n") + newline * 2,
                                  fresh.lines, newline, newline).render()
        else:
            new_body = block
        check_size(new_body, link.target)
        return {"body": new_body} if new_body != issue.get("body") else None

    written: dict[str, Any] | None = client.patch_fresh(path, with_block)
    return written if written is not None else read[-1]


def _find_lost_create(client: GitHubClient, link: Link,
                      clock: Callable[[], datetime]) -> dict[str, Any] | None:
    """The issue an earlier publish created, found by the marker in its body."""
    since = (clock() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for item in client.paginate(f"/repos/{link.repo}/issues",
                                {"state": "all", "since": since, "sort": "created",
                                 "direction": "desc"}):
        if isinstance(item, dict) and has_marker(item.get("body"), link.marker):
            return item
    return None


def _record_base(settings: Settings, link: Link, tasks: list[Task],
                 parsed: ParsedBody | None) -> None:
    """Record every published task as agreed in the sync base (remote "github")."""
    if parsed is None:
        return
    vault_name = Path(settings.root).resolve().name
    by_key = {t.key: t for t in parsed.tasks()}
    cancelled = cancelled_char(settings.statuses)
    with StateStore.open(settings.state_dir, "github") as state, state.batch():
        for task in tasks:
            line = by_key.get(task.key)
            if line is None:
                continue
            record = task_record(task, vault_name=vault_name)
            remote_status = cancelled if line.cancelled else line.status
            state.put(BaseEntry(
                key=task.key, remote_id=f"{link.repo}#{link.number}:{task.key}",
                vault_status=task.status, remote_status=remote_status,
                vault_hash=record.content_hash(), remote_hash=line_hash(line),
                note=task.path, description=normalise_text(record.text), section=task.section))


def _forget(settings: Settings, store: GitHubStore, link: Link) -> None:
    """Drop a link and the base entries of its lines (the issue is not touched)."""
    prefix = f"{link.repo}#{link.number}:"
    with StateStore.open(settings.state_dir, "github") as state, state.batch():
        for key, entry in state.entries().items():
            if entry.remote_id.startswith(prefix):
                state.forget(key)
    store.remove_link(link)


def unlink(settings: Settings, store: GitHubStore, target: str) -> Link:
    """Forget that ``NOTE[#HEADING]`` is published; the issue is left as it is."""
    note_arg, heading = split_target(target)
    path = Path(note_arg)
    rel = note_path(settings, path if path.is_absolute() else settings.root / path)
    wanted = tuple(p.strip() for p in heading.replace(" > ", SECTION_SEPARATOR)
                   .split(SECTION_SEPARATOR.strip()) if p.strip()) if heading else ()
    for link in store.links():
        if link.note == rel and (not heading or [normalise_text(s) for s in link.section[
                -len(wanted):]] == [normalise_text(w) for w in wanted]):
            _forget(settings, store, link)
            return link
    raise TargetNotFoundError(f"{target}: is not published (see `vaultmap github list`)")
