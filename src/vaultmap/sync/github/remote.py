"""GitHub issues as a sync remote: published checklists and tasks that name an issue.

What a user sees of it is described in ``docs/github.md``.

The sync engine sees one *row* per task, as with Notion:

* a task of a published note (or section) is a line of the block its issue's body holds;
  its row id is ``OWNER/REPO#N:ROW`` where ROW is the key the line was created with (a
  reworded task gets a new key in its line and keeps its row id, see
  :attr:`~vaultmap.sync.github.body.BlockTask.row_id`). Ticking
  the box on github.com changes the row's status; a tick, a new task, a rewording or a
  removal in the note rewrite that one line (everything else in the body stays as it is);
* a task that names an issue or pull request (:mod:`vaultmap.sync.github.refs`) has the row
  ``ref:OWNER/REPO#N:KEY`` whose status follows the issue's state. The note's tick closes the
  issue only with ``[github] close_issues``; otherwise GitHub stays the authority and the
  sync says which ticked tasks wait on an open issue.

Every issue is read on every sync with a conditional request: an unchanged issue answers 304,
which GitHub does not count against the rate limit, so a sync with nothing to do costs none.
Snapshots are therefore always complete. Before a body is rewritten it is read again (a 304
when nobody touched it), so a box ticked on github.com meanwhile is not overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from vaultmap.config import GitHubSettings, is_repo_name
from vaultmap.model import StatusMap, StatusType, Task
from vaultmap.sync.github.body import (
    BlockTask,
    ParsedBody,
    arrange,
    box_of,
    check_size,
    insert_task,
    line_hash,
    parse_body,
    remove_task,
    set_task,
)
from vaultmap.sync.github.http import GitHubClient, checked_issue
from vaultmap.sync.github.layout import LayoutTask, layout_task
from vaultmap.sync.github.refs import IssueRef, find_ref, status_type_of_issue
from vaultmap.sync.github.store import Link
from vaultmap.sync.remote import (
    AgreedStatus,
    ContentField,
    RemoteError,
    RemoteGoneError,
    RemoteRow,
    RemoteSchemaError,
    RemoteSnapshot,
    TaskRecord,
)

_ROW_ID = re.compile(r"^(?P<ref>ref:)?(?P<repo>[^#\s]+)#(?P<number>[0-9]{1,10}):(?P<key>.*)$",
                     re.S)


def _parse_row_id(remote_id: str) -> re.Match[str] | None:
    """The parts of a row id (``[ref:]OWNER/REPO#N:KEY``), or None when it is not one. Read
    back from the sync state, its repository becomes part of API paths: it must be an
    ``OWNER/REPO`` (not ``o/..``), as a link's is."""
    match = _ROW_ID.match(remote_id)
    return match if match is not None and is_repo_name(match.group("repo")) else None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one vault task lives on GitHub: a line of a checklist, or an issue it names."""

    key: str
    link: Link | None = None
    ref: IssueRef | None = None
    depth: int = 0  # nesting inside the checklist
    status_type: str = "todo"
    status: str = " "  # the note's status character
    text: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Layout:
    """Every vault task the GitHub remote syncs, by key, with checklist order."""

    placements: Mapping[str, Placement] = field(default_factory=dict)
    order: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)

    def covers(self, record: TaskRecord) -> bool:
        return record.key in self.placements


def layout_of(tasks: Iterable[Task | LayoutTask], links: Iterable[Link],
              github: GitHubSettings, *, hosts: tuple[str, ...] = ("github.com",)) -> Layout:
    """Place the vault's tasks (in scan order: notes in path order, each note's tasks in
    order): in the checklist that covers them (the longest section wins), else under the
    issue their text names. Pure."""
    live: dict[str, list[Link]] = {}  # note -> its published checklists
    for link in links:
        if link.number > 0:
            live.setdefault(link.note, []).append(link)
    placements: dict[str, Placement] = {}
    order: dict[tuple[str, int], list[str]] = {}
    depth_base: dict[tuple[str, int], int] = {}
    for given in tasks:
        task = layout_task(given) if isinstance(given, Task) else given
        if task.key in placements:
            continue
        text = task.text
        covering = [link for link in live.get(task.path, ())
                    if link.covers(task.path, task.section)]
        if covering:
            link = max(covering, key=lambda item: len(item.section))
            issue = (link.repo.lower(), link.number)
            base = depth_base.setdefault(issue, task.depth)
            placements[task.key] = Placement(task.key, link=link,
                                             depth=max(0, task.depth - base),
                                             status_type=task.status_type,
                                             status=task.status, text=text, note=task.path)
            order.setdefault(issue, []).append(task.key)
            continue
        ref = find_ref(text, default_repo=github.default_repo, hosts=hosts)
        if ref is not None:
            placements[task.key] = Placement(task.key, ref=ref, status_type=task.status_type,
                                             status=task.status, text=text, note=task.path)
    return Layout(placements, {k: tuple(v) for k, v in order.items()})


def block_tasks(tasks: Iterable[Task], statuses: StatusMap) -> list[BlockTask]:
    """The tasks of a note or section as block lines (depths relative to the first)."""
    out: list[BlockTask] = []
    base: int | None = None
    for task in tasks:
        base = task.depth if base is None else min(base, task.depth)
        kind = statuses.type_of(task.status).value
        out.append(BlockTask(task.key, box_of(kind), task.display_description or task.display_text,
                             max(0, task.depth - base), cancelled=kind == "cancelled"))
    return out


def _same_place(placement: Placement, ref: IssueRef, is_ref: bool) -> bool:
    """Whether a row id (an issue, as a checklist line or as a named issue) is still where
    ``placement`` puts its task."""
    if is_ref:
        return placement.ref is not None and (placement.ref.repo.lower(), placement.ref.number) \
            == (ref.repo.lower(), ref.number)
    return placement.link is not None and (placement.link.repo.lower(), placement.link.number) \
        == (ref.repo.lower(), ref.number)


def cancelled_char(statuses: StatusMap) -> str:
    """The status character a struck ``[x]`` (cancelled on GitHub) stands for in the note."""
    return next((c for c, t in statuses.chars.items() if t is StatusType.CANCELLED), "-")


class GitHubRemote:
    """The :class:`~vaultmap.sync.remote.Remote` for GitHub issues (see the module docstring)."""

    name = "github"

    def __init__(self, client: GitHubClient, links: Iterable[Link], layout: Layout,
                 settings: GitHubSettings, statuses: StatusMap, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client
        self.links = {(link.repo.lower(), link.number): link for link in links
                      if link.number > 0}
        self.layout = layout
        self.settings = settings
        self.statuses = statuses
        self.clock = clock
        self._cancelled = cancelled_char(statuses)
        self.closed: list[str] = []  # issues closed by close_when_done / close_issues
        self._agreed: Callable[[str], AgreedStatus | None] = lambda remote_id: None

    # -- Remote bookkeeping -------------------------------------------------------------
    @property
    def target(self) -> str:
        return ""

    def bind(self, agreed_status: Callable[[str], AgreedStatus | None],
             cache: Mapping[str, str]) -> None:
        """Keep the agreed status per row: a write to a body also carries the note's status
        changes of the lines nobody changed on GitHub (see :meth:`_with_vault_ticks`), and a
        block all ticked on GitHub is closed by the write of its newly ticked task."""
        self._agreed = agreed_status

    def stored_form(self, record: TaskRecord) -> TaskRecord:
        """A checklist line is written as one unit: what is sent is what reads back."""
        return record

    def cache(self) -> dict[str, str]:
        return {}

    # -- reading ------------------------------------------------------------------------
    def _issue(self, repo: str, number: int) -> dict[str, Any]:
        return checked_issue(self.client.get_json(f"/repos/{repo}/issues/{number}"),
                             f"{repo}#{number}")

    def _row(self, link: Link, task: BlockTask) -> RemoteRow:
        if task.cancelled:
            status, kind = self._cancelled, "cancelled"
        elif task.status == "x":
            status, kind = "x", "done"
        else:
            status, kind = " ", "todo"
        return RemoteRow(remote_id=f"{link.repo}#{link.number}:{task.row_id}", key=task.key,
                         status=status, text=task.text, note=link.note,
                         content_hash=line_hash(task), status_type=kind)

    def _ref_row(self, ref: IssueRef, key: str, issue: Mapping[str, Any]) -> RemoteRow:
        kind = status_type_of_issue(issue)
        status = {"done": "x", "cancelled": self._cancelled}.get(kind, " ")
        placement = self.layout.placements.get(key)
        return RemoteRow(remote_id=f"ref:{ref.repo}#{ref.number}:{key}", key=key,
                         status=status, text=str(issue.get("title") or ref),
                         note=placement.note if placement else "", content_hash="",
                         status_type=kind)

    def _unknown_ref_row(self, ref: IssueRef, key: str, status: str,
                         status_type: str) -> RemoteRow:
        """The row of a task naming an issue GitHub does not show: it agrees with the note."""
        placement = self.layout.placements.get(key)
        return RemoteRow(remote_id=f"ref:{ref.repo}#{ref.number}:{key}", key=key,
                         status=status, text=str(ref),
                         note=placement.note if placement else "", content_hash="",
                         status_type=status_type)

    def snapshot(self, since: datetime | None, *,
                 include_trashed: bool = False) -> RemoteSnapshot:
        """Every published block and every named issue (always complete; see the module)."""
        started = self.clock()
        before = self.client.usage.requests
        rows: list[RemoteRow] = []
        notes: list[str] = []
        held: list[str] = []
        for link in self.links.values():
            absent = self._absent(link)
            if absent:
                notes.append(f"{link.target} is published as {link.issue} but has no tasks in "
                             "the vault (moved, renamed or deleted?); its checklist is left as "
                             "it is: publish the new place, or `vaultmap github unlink` it")
            try:
                issue = self._issue(link.repo, link.number)
            except (RemoteSchemaError, RemoteGoneError) as error:  # gone, private, disabled
                notes.append(f"{link.target}: {error}; its tasks are no longer synced "
                             "(`vaultmap github unlink` to forget it)")
                continue
            parsed = parse_body(issue.get("body"))
            if parsed is None or parsed.marker != link.marker:
                notes.append(f"{link.target}: the checklist block is gone from {link.issue}; "
                             "its tasks are no longer synced")
                continue
            block = [self._row(link, task) for task in parsed.tasks()]
            moved = self._moved_keys(link, parsed)
            if moved:
                # Re-nested or reordered in the note: the write of these rows mirrors it.
                block = [replace(row, settled=False) if row.key in moved else row
                         for row in block]
            if (self.settings.close_when_done and issue.get("state") != "closed" and block
                    and all(task.status == "x" for task in parsed.tasks())):
                # The write of a newly ticked task is what closes the issue: ask for it.
                block = [replace(row, settled=False) if self._newly_changed(row) else row
                         for row in block]
            rows.extend(block)
            if absent:  # its lines stay known until the note shows again (see _absent)
                held.extend(row.remote_id for row in block)
            for line in parsed.keyless_tasks():
                notes.append(f"{link.issue}: {line.strip()!r} was added on GitHub inside the "
                             "checklist; add it to the note to sync it")
        by_ref: dict[IssueRef, list[Placement]] = {}
        for placement in self.layout.placements.values():
            if placement.ref is not None:
                by_ref.setdefault(placement.ref, []).append(placement)
        for ref, placements in sorted(by_ref.items()):
            try:
                issue = self._issue(ref.repo, ref.number)
            except (RemoteSchemaError, RemoteGoneError) as error:
                # A typo or an issue this token cannot see: said, and its tasks left as they
                # are (rows that agree with the note), not a failure of the whole sync.
                notes.extend(f"{p.note}: {p.text!r} names {ref}, but {error}"
                             for p in placements)
                rows.extend(self._unknown_ref_row(ref, p.key, p.status, p.status_type)
                            for p in placements)
                continue
            for placement in placements:
                row = self._ref_row(ref, placement.key, issue)
                rows.append(row)
                if placement.status_type == "done" and row.status_type == "todo":
                    notes.append(f"{placement.note}: {placement.text!r} is ticked but {ref} is "
                                 "still open (it closes issues only with [github] "
                                 "close_issues = true)")
        return RemoteSnapshot(tuple(rows), complete=True, started_at=started,
                              requests=self.client.usage.requests - before, notes=tuple(notes),
                              held=tuple(held))

    def _newly_changed(self, row: RemoteRow) -> bool:
        agreed = self._agreed(row.remote_id)
        return agreed is None or agreed.status != row.status

    def find_by_key(self, key: str) -> RemoteRow | None:
        placement = self.layout.placements.get(key)
        if placement is None:
            return None
        if placement.ref is not None:
            issue = self._issue(placement.ref.repo, placement.ref.number)
            return self._ref_row(placement.ref, key, issue)
        assert placement.link is not None
        link = placement.link
        parsed = parse_body(self._issue(link.repo, link.number).get("body"))
        if parsed is None:
            return None
        for task in parsed.tasks():
            if task.key == key:
                return self._row(link, task)
        return None

    # -- writing ------------------------------------------------------------------------
    def _block_task(self, record: TaskRecord) -> BlockTask:
        placement = self.layout.placements.get(record.key)
        return BlockTask(record.key, box_of(record.status_type), record.text,
                         placement.depth if placement else 0,
                         cancelled=record.status_type == "cancelled")

    def _write(self, link: Link, change: Callable[[ParsedBody], ParsedBody | None],
               key: str) -> RemoteRow | None:
        """Read the body afresh, apply ``change``, send it if it differs; the row of ``key``
        as the body now holds it (None when it holds none).

        The read happens right before the PATCH, after any pause between writes or
        rate-limit wait, and again before a retry (:meth:`GitHubClient.patch_fresh`): a box
        ticked on github.com up to then is read and kept. GitHub offers no conditional write,
        so a click landing after that read and before the PATCH is overwritten; see
        ``docs/github.md``.
        """
        read: list[tuple[Mapping[str, Any], ParsedBody]] = []

        def fresh_body() -> dict[str, Any] | None:
            issue = self._issue(link.repo, link.number)
            parsed = parse_body(issue.get("body"))
            if parsed is None or parsed.marker != link.marker:
                raise RemoteGoneError(f"the checklist block is gone from {link.issue}",
                                      remote_id=f"{link.repo}#{link.number}")
            changed = change(parsed)
            if changed is None:
                raise RemoteGoneError(f"{link.issue} no longer holds that task")
            changed = self._arranged(link, changed)
            body = changed.render()
            if body != issue.get("body"):
                changed = self._with_vault_ticks(link, changed, key)
                body = changed.render()
                check_size(body, link.target)
            read.append((issue, changed))
            return {"body": body} if body != issue.get("body") else None

        self.client.patch_fresh(f"/repos/{link.repo}/issues/{link.number}", fresh_body)
        issue, changed = read[-1]
        self._close_when_done(link, changed, issue)
        for task in changed.tasks():
            if task.key == key:
                return self._row(link, task)
        return None

    def _arranged(self, link: Link, parsed: ParsedBody) -> ParsedBody:
        """``parsed`` with its lines in the note's order and nesting (see
        :func:`~vaultmap.sync.github.body.arrange`): structure flows from the note, as text
        does, so a task moved under another parent moves in the body too."""
        order = self.layout.order.get((link.repo.lower(), link.number), ())
        if not order:
            return parsed  # nothing of this checklist in the vault: leave the block alone
        depths = {key: self.layout.placements[key].depth for key in order}
        return arrange(parsed, order, depths)

    def _moved_keys(self, link: Link, parsed: ParsedBody) -> set[str]:
        """The keys whose line :meth:`_arranged` would move or re-indent."""
        arranged = self._arranged(link, parsed)
        if arranged is parsed:
            return set()

        def places(body: ParsedBody) -> dict[str, tuple[int, str]]:
            found: dict[str, tuple[int, str]] = {}
            previous = ""
            for task in body.tasks():
                found.setdefault(task.key, (task.depth, previous))
                previous = task.key
            return found

        before, after = places(parsed), places(arranged)
        return {key for key, place in after.items() if before.get(key) != place}

    def _with_vault_ticks(self, link: Link, parsed: ParsedBody, key: str) -> ParsedBody:
        """``parsed`` with the note's status of every other line whose box nobody changed on
        GitHub since the last sync: one write instead of one per tick (GitHub limits
        content-creating requests to 80 a minute and 500 an hour).

        Safe to send early: those lines' own updates later find nothing left to write, and
        if the sync dies first, the next one sees both sides changed to the same status,
        which is agreement. Lines changed on GitHub are left alone; the plan copies them to
        the note.
        """
        for task in parsed.tasks():
            placement = self.layout.placements.get(task.key)
            if task.key == key or placement is None or placement.link is None:
                continue
            row = self._row(link, task)
            agreed = self._agreed(row.remote_id)
            if (agreed.status if agreed is not None else None) != row.status:
                continue  # changed on GitHub (or not known yet): the plan decides
            box = box_of(placement.status_type)
            cancelled = placement.status_type == "cancelled"
            if (task.status, task.cancelled) != (box, cancelled):
                ticked = set_task(parsed, task.row_id, replace(task, status=box,
                                                               cancelled=cancelled))
                if ticked is not None:
                    parsed = ticked
        return parsed

    def _close_when_done(self, link: Link, parsed: ParsedBody,
                         issue: Mapping[str, Any]) -> None:
        if not self.settings.close_when_done or issue.get("state") == "closed":
            return
        tasks = parsed.tasks()
        if tasks and all(task.status == "x" for task in tasks):
            self.client.patch_json(f"/repos/{link.repo}/issues/{link.number}",
                                   {"state": "closed", "state_reason": "completed"})
            self.closed.append(link.issue)

    def _previous_present(self, link: Link, key: str, parsed: ParsedBody) -> str | None:
        keys = self.layout.order.get((link.repo.lower(), link.number), ())
        present = {task.key for task in parsed.tasks()}
        previous: str | None = None
        for other in keys:
            if other == key:
                return previous
            if other in present:
                previous = other
        return previous

    def _follow(self, ref: IssueRef, record: TaskRecord) -> RemoteRow:
        """A task naming an issue: close (or reopen) it only when ``close_issues`` says so."""
        try:
            issue = self._issue(ref.repo, ref.number)
        except (RemoteSchemaError, RemoteGoneError):  # not found, private, issues disabled
            return self._unknown_ref_row(ref, record.key, record.status, record.status_type)
        current = status_type_of_issue(issue)
        if self.settings.close_issues and not issue.get("pull_request"):
            wanted = {"done": ("closed", "completed"), "cancelled": ("closed", "not_planned"),
                      "todo": ("open", None)}.get(record.status_type)
            if wanted is not None and status_type_of_issue(
                    {"state": wanted[0], "state_reason": wanted[1]}) != current:
                payload: dict[str, Any] = {"state": wanted[0]}
                if wanted[1]:
                    payload["state_reason"] = wanted[1]
                issue = self.client.patch_json(ref.path, payload)
                if wanted[0] == "closed":
                    self.closed.append(str(ref))
        return self._ref_row(ref, record.key, issue)

    def create(self, record: TaskRecord) -> RemoteRow:
        placement = self.layout.placements.get(record.key)
        if placement is None:
            raise RemoteError(f"{record.note}: {record.text!r} is in no published checklist")
        if placement.ref is not None:
            return self._follow(placement.ref, record)
        assert placement.link is not None
        link = placement.link
        task = self._block_task(record)

        def add(parsed: ParsedBody) -> ParsedBody:
            if any(t.key == record.key for t in parsed.tasks()):
                return parsed  # an earlier create landed: nothing to add
            return insert_task(parsed, task, self._previous_present(link, record.key, parsed))

        row = self._write(link, add, record.key)
        if row is None:
            raise RemoteError(f"{link.issue}: the new task did not land in the body")
        return row

    def update(self, remote_id: str, record: TaskRecord, *, content: bool = True,
               status: bool = True,
               only: Collection[ContentField] | None = None) -> RemoteRow:
        """Write one checklist line (or follow a named issue). A line is one unit in the
        issue body, so ``status`` and ``only`` do not narrow the write further."""
        match = _parse_row_id(remote_id)
        if match is None:
            raise RemoteGoneError(f"not a GitHub row: {remote_id!r}", remote_id=remote_id)
        ref = IssueRef(match.group("repo"), int(match.group("number")))
        placement = self.layout.placements.get(record.key)
        if placement is not None and not _same_place(placement, ref, bool(match.group("ref"))):
            return self._move(remote_id, record, placement)
        if match.group("ref"):
            return self._follow(ref, record)
        link = self.links.get((ref.repo.lower(), ref.number))
        if link is None:
            raise RemoteGoneError(f"{ref} is no longer published", remote_id=remote_id)
        row_id = match.group("key")
        task = replace(self._block_task(record), row=row_id)
        row = self._write(link, lambda parsed: set_task(parsed, row_id, task), record.key)
        if row is None:
            raise RemoteGoneError(f"{link.issue} no longer holds that task", remote_id=remote_id)
        return row

    def _move(self, remote_id: str, record: TaskRecord, placement: Placement) -> RemoteRow:
        """The task now lives elsewhere (moved to another published note, or it names another
        issue): its line goes to its new place first, then leaves the old one, so a sync
        killed in between leaves a line too many (reported as a duplicate), never none."""
        if placement.ref is not None:
            row = self._follow(placement.ref, record)
        else:
            row = self.create(record)
        match = _parse_row_id(remote_id)
        if match is not None and not match.group("ref"):
            old = self.links.get((match.group("repo").lower(), int(match.group("number"))))
            if old is not None:
                self._remove_line(old, match.group("key"))
        return row

    def _absent(self, link: Link) -> bool:
        """A published note (or section) none of whose tasks the vault holds now: more
        likely moved or renamed than emptied, so its lines are not removed one by one."""
        return (link.repo.lower(), link.number) not in self.layout.order

    def trash(self, remote_id: str) -> None:
        """Remove a deleted task's line (a named issue is never touched; the lines of a
        checklist whose whole note or section is gone stay, see :meth:`_absent`)."""
        match = _parse_row_id(remote_id)
        if match is None or match.group("ref"):
            return
        link = self.links.get((match.group("repo").lower(), int(match.group("number"))))
        if link is None or self._absent(link):
            return
        self._remove_line(link, match.group("key"))

    def _remove_line(self, link: Link, row_id: str) -> None:
        try:
            self._write(link, lambda parsed: remove_task(parsed, row_id), "")
        except RemoteGoneError:
            return  # the block (or the issue) is gone already: so is the line

