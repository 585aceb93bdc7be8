"""``vaultmap sync --git``: one round trip between the vault and its git upstream.

1. Refuse, with one line saying what to do, when the repository is mid-merge or mid-rebase
   (unless it is a merge this command left for the user and the markers are now gone), on a
   detached HEAD, without an upstream, or when the vault is not inside a git work tree.
2. Commit the vault's changed files: only paths inside the vault, never ``.vaultmap/``, the
   user's ``.gitignore`` honoured, never a note holding conflict markers. The message names
   the task changes (:mod:`vaultmap.sync.git.message`).
3. Fetch, and when the branches diverged merge (or rebase, ``[git] pull = "rebase"``) through
   git itself, with vaultmap's task-aware merge driver (installed by ``vaultmap git install``,
   or else configured for this one run only).
4. Push; a rejected push (someone pushed meanwhile) fetches, merges and retries, a bounded
   number of times.

A genuine conflict either stays for the user (``on_conflict="stop"``, like git: markers in
the conflicting hunks, finish with ``vaultmap sync --git`` or go back with ``--abort``) or is
aborted at once with the local files kept, recorded, and git sync paused until a person runs
it (``on_conflict="abort"``, for unattended runs). What this command left in progress is
remembered in ``.vaultmap/git.json``. See docs/architecture.md, "Git sync".
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from vaultmap.config import Settings
from vaultmap.edit import set_statuses
from vaultmap.edit.atomic import rewrite_file
from vaultmap.edit.patch import StatusChange
from vaultmap.errors import GitConflictError, GitRemoteError, GitStateError
from vaultmap.fs import (
    MAX_CONFIG_BYTES,
    Unreadable,
    atomic_write,
    megabytes,
    open_regular,
    read_regular,
)
from vaultmap.model import Note
from vaultmap.parse import parse_note
from vaultmap.sync.git.driver import read_merge_records
from vaultmap.sync.git.install import attribute_patterns
from vaultmap.sync.git.install import driver_command as install_driver_command
from vaultmap.sync.git.message import NoteChange, commit_message
from vaultmap.sync.git.process import Result
from vaultmap.sync.git.taskpass import MovedTick, plan_moved_ticks, remove_task_line
from vaultmap.sync.git.vaultrepo import Repo, open_repo, read_blobs, state_dir

OnConflict = Literal["stop", "abort"]
RECORD_NAME = "git.json"
_RECORD_MAX_BYTES = 1024 * 1024  # a few hundred bytes in practice
_ANY_SIZE = 1 << 50
_MARKER_SCAN_CHUNK = 1 << 20
DRIVER_NAME = "vaultmap"

# A line that opens or closes a conflict hunk. "=======" alone is not enough: it is also a
# setext heading underline.
_MARKER_OPEN = re.compile(rb"^<{7}(?: |$)", re.M)
_MARKER_CLOSE = re.compile(rb"^>{7}(?: |$)", re.M)
_REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "[remote rejected]")
_UNREACHABLE = ("Could not resolve host", "Connection refused", "Could not read from remote",
                "does not appear to be a git repository", "unable to access",
                "Connection timed out", "No such file or directory", "not found")
_AUTH = ("Authentication failed", "Permission denied", "could not read Username",
         "terminal prompts disabled", "403", "401")


# --------------------------------------------------------------------------- the repository


@dataclass(frozen=True, slots=True)
class Upstream:
    remote: str  # "origin"
    ref: str  # "refs/heads/main" on the remote
    tracking: str  # "origin/main", what ``@{u}`` names here


def upstream_of(repo: Repo) -> Upstream:
    """The current branch's upstream; :class:`GitStateError` on a detached HEAD or none."""
    if repo.branch is None:
        raise GitStateError("HEAD is detached (no branch checked out): `git switch BRANCH` "
                            "first, then run `vaultmap sync --git` again")
    remote = repo.git.run("config", f"branch.{repo.branch}.remote", check=False).text.strip()
    ref = repo.git.run("config", f"branch.{repo.branch}.merge", check=False).text.strip()
    tracking = repo.git.run("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}",
                            check=False)
    if not remote or not ref or remote == "." or not tracking.ok:
        raise GitStateError(f"branch {repo.branch!r} has no upstream: run `git push -u origin "
                            f"{repo.branch}` (or `git branch -u REMOTE/BRANCH`) first")
    return Upstream(remote, ref, tracking.text.strip())


def operation_in_progress(repo: Repo) -> str | None:
    """``merge``, ``rebase``, ``cherry-pick``, ``revert`` or None."""
    if (repo.git_dir / "rebase-merge").exists() or (repo.git_dir / "rebase-apply").exists():
        return "rebase"
    for name, kind in (("MERGE_HEAD", "merge"), ("CHERRY_PICK_HEAD", "cherry-pick"),
                       ("REVERT_HEAD", "revert")):
        if (repo.git_dir / name).exists():
            return kind
    return None


def ahead_behind(repo: Repo, upstream: Upstream) -> tuple[int, int]:
    """Commits on HEAD not on the upstream, and the other way round (as last fetched)."""
    counts = repo.git.run("rev-list", "--left-right", "--count", f"HEAD...{upstream.tracking}",
                          check=False)
    if not counts.ok:
        return 0, 0
    ahead, behind = counts.text.split()
    return int(ahead), int(behind)


# --------------------------------------------------------------------------- our own record


def _record_path(settings: Settings) -> Path:
    return settings.state_dir / RECORD_NAME


def read_record(settings: Settings) -> dict[str, Any]:
    """``.vaultmap/git.json``: the last sync, a merge left for the user, a pause. Read as a
    regular file with a size cap: a FIFO or a device planted there reads as no record."""
    try:
        raw, _ = read_regular(_record_path(settings), _RECORD_MAX_BYTES)
        data = json.loads(raw)
    except (Unreadable, ValueError, RecursionError):
        return {}
    return _checked_record(data) if isinstance(data, dict) else {}


def _checked_record(data: dict[str, Any]) -> dict[str, Any]:
    """The record with every field this module reads in the shape it writes (the file may
    have been edited, damaged, or come with a cloned folder): a text where text belongs,
    lists of text, and paths of a merge left for the user that stay inside the work tree. A
    pause stays a pause whatever its damage: resuming an unattended sync is for a person."""
    record = dict(data)
    for name in ("last_sync", "head"):
        if not isinstance(record.get(name), str):
            record.pop(name, None)
    notes = record.get("merge_notes")
    record["merge_notes"] = [n for n in notes if isinstance(n, str)] \
        if isinstance(notes, list) else []
    if record.get("paused"):
        paused = record["paused"] if isinstance(record["paused"], dict) else {}
        since = paused.get("since")
        record["paused"] = {"since": since if isinstance(since, str) else "an unknown time",
                            "files": _texts(paused.get("files"))}
    operation = record.get("operation")
    if operation is not None:
        kind = operation.get("kind") if isinstance(operation, dict) else None
        if kind not in ("merge", "rebase"):
            record.pop("operation")  # not one this command leaves: git's own state decides
        else:
            assert isinstance(operation, dict)
            files = [f for f in _texts(operation.get("files")) if _inside_work_tree(f)]
            record["operation"] = {**operation, "files": files}
    return record


def _texts(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _inside_work_tree(path: str) -> bool:
    return bool(path) and not path.startswith("/") and "\0" not in path \
        and ".." not in path.split("/")


def write_record(settings: Settings, record: Mapping[str, Any]) -> None:
    folder = state_dir(settings)  # refuses a linked .vaultmap/ or git.json
    text = json.dumps(dict(record), indent=2, sort_keys=True)
    try:
        atomic_write(folder / RECORD_NAME, text.encode("utf-8"))
    except OSError as error:
        raise GitStateError(f"{folder / RECORD_NAME}: cannot write ({error.strerror})") \
            from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- local changes


@dataclass(frozen=True, slots=True)
class Changed:
    path: str  # repository-relative
    code: str  # porcelain XY


def changed_files(repo: Repo) -> list[Changed]:
    """The vault's files that differ from HEAD (tracked or not, ``.gitignore`` honoured)."""
    status = repo.git.run("status", "--porcelain=v1", "-z", "--untracked-files=all",
                          "--no-renames", "--", *repo.pathspec(),
                          env={"GIT_OPTIONAL_LOCKS": "0"})
    out: list[Changed] = []
    for entry in status.stdout.split(b"\0"):
        if len(entry) > 3:
            out.append(Changed(entry[3:].decode("utf-8", "surrogateescape"),
                               entry[:2].decode("ascii", "replace")))
    return out


def unmerged_files(repo: Repo) -> list[str]:
    result = repo.git.run("diff", "--name-only", "-z", "--diff-filter=U", check=False)
    return [p.decode("utf-8", "surrogateescape") for p in result.stdout.split(b"\0") if p]


def marker_lines(data: bytes) -> list[int]:
    """1-based lines that open a conflict hunk; empty unless closing markers exist too."""
    if not _MARKER_CLOSE.search(data):
        return []
    return [data.count(b"\n", 0, m.start()) + 1 for m in _MARKER_OPEN.finditer(data)]


def _read(path: Path) -> bytes | None:
    """A work-tree file's bytes; ``None`` when it is gone, a folder, or not a regular file
    (git does not commit a FIFO or a device, and reading one would hang or never end)."""
    try:
        # No size cap of our own: git commits files of any size, and this is what it commits.
        return read_regular(path, _ANY_SIZE)[0]
    except Unreadable as unreadable:
        if unreadable.kind in ("missing", "folder", "special") or not os.path.exists(path):
            return None
        raise GitStateError(f"{path}: {unreadable.reason}") from None


@dataclass(frozen=True, slots=True)
class _Listed:
    """The blobs of some paths in one commit, as ``git ls-tree -l`` lists them."""

    blobs: dict[str, str]  # repository path -> blob id, for blobs within the size cap
    too_big: dict[str, int]  # repository path -> size, for blobs over it (never read)


def _list_blobs(repo: Repo, commit: str, paths: Sequence[str], max_bytes: int) -> _Listed:
    """The blob ids of ``paths`` in ``commit`` with their sizes checked before any is read:
    a blob over ``[vault] max_note_mb`` (a pasted log, a cloned repository's 2 GB file) is
    listed apart, as the scan skips such a file on disk, not read whole into memory."""
    listed = _Listed({}, {})
    if not paths:
        return listed
    listing = repo.git.run("ls-tree", "-l", "-z", commit, "--",
                           *[f":(top,literal){p}" for p in paths])
    for entry in listing.stdout.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        fields = meta.split()
        if len(fields) != 4 or fields[1] != b"blob":
            continue  # a folder, a submodule: no content of its own
        path = name.decode("utf-8", "surrogateescape")
        if fields[3].isdigit() and int(fields[3]) > max_bytes:
            listed.too_big[path] = int(fields[3])
        else:
            listed.blobs[path] = fields[2].decode()
    return listed


def _too_big_note(vault_path: str, size: int) -> str:
    return (f"{vault_path}: {megabytes(size)} is over [vault] max_note_mb; git sync commits "
            "and merges it as a plain file (its tasks are not read)")


def _size(path: Path) -> int | None:
    """The size of a regular file (not followed through a link); None for anything else."""
    try:
        info = path.lstat()
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _has_markers(path: Path) -> bool:
    """Whether a file too big to read whole has a line opening and one closing a conflict
    hunk, read a MB at a time. Broader than :func:`marker_lines` (any 7 ``<`` or ``>`` at a
    line's start): for such a file, refusing a commit is the safe mistake."""
    found = {b"<": False, b">": False}
    try:
        fd, _ = open_regular(path)  # a FIFO swapped in after the size check is not waited on
    except Unreadable:
        return False
    try:
        with os.fdopen(fd, "rb") as handle:
            carry = b"\n"  # the file's start is a line start
            while chunk := handle.read(_MARKER_SCAN_CHUNK):
                data = carry + chunk
                for sign in found:
                    found[sign] = found[sign] or (b"\n" + sign * 7) in data
                carry = data[-8:]
    except OSError:
        return False
    return all(found.values())


def _head_blobs(repo: Repo, paths: Sequence[str],
                max_bytes: int) -> tuple[dict[str, bytes], dict[str, int]]:
    """The content of ``paths`` in HEAD (paths absent from HEAD are left out), and the
    sizes of those over ``max_bytes``, which are not read."""
    if not paths or not repo.git.run("rev-parse", "-q", "--verify", "HEAD", check=False).ok:
        return {}, {}
    listed = _list_blobs(repo, "HEAD", paths, max_bytes)
    contents = read_blobs(repo.git, listed.blobs.values())
    return {path: contents[sha] for path, sha in listed.blobs.items()}, listed.too_big


def _marker_lines_within(settings: Settings, path: Path) -> list[int]:
    """:func:`marker_lines` of a work-tree file, or none for one over ``[vault]
    max_note_mb`` (not read whole; :func:`_has_markers` answers for it)."""
    size = _size(path)
    if size is not None and size > settings.vault.max_note_bytes:
        return []
    return marker_lines(_read(path) or b"")


def _is_note(settings: Settings, vault_path: str) -> bool:
    return vault_path.lower().endswith(tuple(e.lower() for e in settings.vault.extensions))


def plan_commit(settings: Settings, repo: Repo,
                notes: list[str] | None = None) -> tuple[list[Changed], str] | None:
    """The files to commit and the message, or None when the vault has no change. A note
    over ``[vault] max_note_mb`` (on disk or in HEAD) is committed as a plain file, its
    content never read whole; a line saying so is added to ``notes``.

    :class:`GitConflictError` when a changed note still holds conflict markers."""
    changed = [c for c in changed_files(repo) if c.code not in ("!!",)]
    if not changed:
        return None
    cap = settings.vault.max_note_bytes
    with_markers: list[str] = []
    news: dict[str, bytes | None] = {}
    too_big: dict[str, int] = {}
    for item in changed:
        where = repo.top / item.path
        vault_path = repo.vault_path(item.path)
        size = _size(where)
        # git commits a symbolic link as a link: its target (maybe outside the vault) is
        # neither read nor described.
        if size is not None and size > cap:
            too_big[item.path] = size
            data = None
            if _is_note(settings, vault_path) and _has_markers(where):
                with_markers.append(vault_path)
        else:
            data = None if where.is_symlink() else _read(where)
        news[item.path] = data
        if data is not None and _is_note(settings, vault_path) and marker_lines(data):
            with_markers.append(_where(vault_path, marker_lines(data)))
    if with_markers:
        raise GitConflictError("conflict markers in " + "; ".join(with_markers) +
                               ": remove them, then run `vaultmap sync --git` again")
    olds, too_big_before = _head_blobs(repo, [c.path for c in changed], cap)
    too_big = too_big_before | too_big
    for path, size in too_big.items():
        if notes is not None and _is_note(settings, repo.vault_path(path)):
            notes.append(_too_big_note(repo.vault_path(path), size))
    changes = [NoteChange(repo.vault_path(c.path), olds.get(c.path), news[c.path],
                          is_note=_is_note(settings, repo.vault_path(c.path))
                          and c.path not in too_big
                          and not (repo.top / c.path).is_symlink()) for c in changed]
    message = commit_message(changes, template=settings.git.message,
                             flavor=settings.vault.flavor, statuses=settings.statuses)
    return changed, message


def _where(vault_path: str, lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:5]) + (" …" if len(lines) > 5 else "")
    return f"{vault_path} (line{'s' if len(lines) > 1 else ''} {shown})"


def commit(repo: Repo, changed: Sequence[Changed], message: str) -> str:
    """Commit exactly ``changed`` (other staged files are left staged); returns the sha."""
    specs = b"".join(f":(top,literal){c.path}".encode("utf-8", "surrogateescape") + b"\0"
                     for c in changed)
    repo.git.run("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul", input=specs,
                 locks=True)
    repo.git.run("commit", "-q", "--no-edit", "-m", message, "--pathspec-from-file=-",
                 "--pathspec-file-nul", input=specs, locks=True)
    return repo.git.run("rev-parse", "HEAD").text.strip()


# --------------------------------------------------------------------------- merge driver


def driver_config(settings: Settings, repo: Repo,
                  driver_command: str | None = None) -> dict[str, str]:
    """``-c`` settings that enable vaultmap's merge driver for one run, or {} when
    ``vaultmap git install`` already did.

    Chosen over installing it silently: ``sync --git`` merges task by task either way, and
    the user's git config changes only when they ask (``vaultmap git install``, which also
    lets a plain ``git pull`` and obsidian-git merge tasks)."""
    installed = repo.git.run("config", "--get", f"merge.{DRIVER_NAME}.driver", check=False)
    if installed.ok:
        return {}
    # Attributes cannot be given with -c, but core.attributesFile can: a file of our own
    # that first repeats the user's global attributes file, so nothing of theirs is lost.
    # The repository's .gitattributes and .git/info/attributes still come first.
    lines: list[str] = []
    user_file = repo.git.run("config", "--path", "--get", "core.attributesFile", check=False)
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "git/attributes"
    source = Path(user_file.text.strip()) if user_file.ok else xdg
    try:  # the user's own file, but still never a FIFO that hangs us or a device
        user_attributes, _ = read_regular(source, MAX_CONFIG_BYTES)
    except Unreadable:
        pass
    else:
        lines.append(user_attributes.decode("utf-8", "surrogateescape").rstrip("\n") + "\n")
    for pattern in attribute_patterns(settings.root, repo.top, settings.vault.extensions,
                                      shared=False):
        lines.append(f"{pattern} merge={DRIVER_NAME}\n")
    attributes = state_dir(settings) / "merge-attributes"  # refused when it is a link
    try:
        atomic_write(attributes, "".join(lines).encode("utf-8", "surrogateescape"))
    except OSError as error:
        raise GitStateError(f"{attributes}: cannot write ({error.strerror})") from None
    return {f"merge.{DRIVER_NAME}.name": "vaultmap task-aware merge",
            f"merge.{DRIVER_NAME}.driver": driver_command or install_driver_command(),
            "core.attributesFile": str(attributes)}


# --------------------------------------------------------------------------- the round trip


@dataclass(slots=True)
class GitSyncReport:
    """What one ``sync --git`` did (or, with ``dry_run``, would do)."""

    dry_run: bool = False
    committed: str | None = None  # the commit subject
    commit_body: str = ""
    fetched: bool = False
    merged: int = 0  # commits brought in from the upstream
    pushed: int = 0  # commits sent
    push_attempts: int = 0
    upstream: str = ""
    finished_merge: bool = False  # a merge left for the user was completed
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.dry_run:
            parts = [f"would commit {self.committed!r}" if self.committed else "nothing to commit",
                     f"{self.merged} commit(s) to merge from {self.upstream} (as last fetched)",
                     f"{self.pushed} to push"]
            return "git (dry run): " + "; ".join(parts)
        parts = []
        if self.finished_merge:
            parts.append("finished the merge")
        if self.committed:
            parts.append(f"committed {self.committed!r}")
        if self.merged:
            parts.append(f"merged {self.merged} commit(s) from {self.upstream}")
        if self.pushed:
            parts.append(f"pushed {self.pushed} commit(s) to {self.upstream}")
        return "git: " + ("; ".join(parts) if parts else f"up to date with {self.upstream}")


def _remote_error(upstream: Upstream, what: str, result: Result) -> GitRemoteError:
    message = result.message()
    if any(s in message for s in _AUTH):
        return GitRemoteError(f"{what} {upstream.remote}: authentication failed ({message}); "
                              "check your git credentials (credential helper or SSH agent)")
    return GitRemoteError(f"cannot {what} {upstream.remote}: {message}")


def _fetch(repo: Repo, upstream: Upstream) -> None:
    result = repo.git.run("fetch", "--quiet", upstream.remote, check=False)
    if not result.ok:
        raise _remote_error(upstream, "fetch from", result)


def _integrate(settings: Settings, repo: Repo, upstream: Upstream, report: GitSyncReport,
               on_conflict: OnConflict) -> None:
    """Bring the upstream's new commits in: fast-forward, merge or rebase."""
    ahead, behind = ahead_behind(repo, upstream)
    if behind == 0:
        return
    rebase = settings.git.pull == "rebase" and ahead > 0
    if ahead == 0:
        args: tuple[str, ...] = ("merge", "--ff-only", "-q", upstream.tracking)
    elif rebase:
        args = ("rebase", "-q", upstream.tracking)
    else:
        args = ("merge", "--no-edit", "-q", upstream.tracking)
    started = int(time.time())  # the driver's records have whole seconds
    local_sha = repo.git.run("rev-parse", "HEAD").text.strip()
    upstream_sha = repo.git.run("rev-parse", upstream.tracking).text.strip()
    result = repo.git.run(*args, check=False, locks=True, env={"GIT_EDITOR": "true"})
    report.merged += behind
    # What the task-aware merge decided and must be said (a change kept over a deletion).
    for entry in read_merge_records(settings.state_dir, since=started):
        notes = entry.get("notes")
        for note in notes if isinstance(notes, list) else ():
            report.notes.append(f"{entry.get('path')}: {note}")
    if result.ok:
        if ahead:
            _task_pass(settings, repo, local_sha, upstream_sha, report)
        return
    _after_failed_merge(settings, repo, "rebase" if rebase else "merge", result, on_conflict)


def _notes_at(settings: Settings, repo: Repo, listed: _Listed) -> dict[str, Note]:
    contents = read_blobs(repo.git, listed.blobs.values())
    return {repo.vault_path(p): _parse(settings, contents[sha], repo.vault_path(p))
            for p, sha in listed.blobs.items() if sha in contents}


def _parse(settings: Settings, data: bytes, path: str) -> Note:
    return parse_note(data, path, flavor=settings.vault.flavor, statuses=settings.statuses)


def _task_pass(settings: Settings, repo: Repo, local: str, upstream: str,
               report: GitSyncReport) -> None:
    """After a merge: a task moved to another note on one side and ticked on the other gets
    its tick in its new place, once (:mod:`vaultmap.sync.git.taskpass`); committed."""
    base = repo.git.run("merge-base", local, upstream, check=False).text.strip()
    if not base:
        return
    paths: set[str] = set()
    for side in (local, upstream):
        names = repo.git.run("diff", "--name-only", "-z", "--no-renames", base, side, "--",
                             *repo.pathspec())
        paths.update(p.decode("utf-8", "surrogateescape")
                     for p in names.stdout.split(b"\0") if p)
    notes = sorted(p for p in paths if _is_note(settings, repo.vault_path(p)))
    if not notes:
        return
    # Sizes first: a note over the cap in any of the four versions is left out of the pass
    # (in some only, it would look deleted there), and none of its versions is read.
    cap = settings.vault.max_note_bytes
    listed = [_list_blobs(repo, commit, notes, cap) for commit in (base, local, upstream)]
    too_big = {path: size for one in listed for path, size in one.too_big.items()}
    for path in notes:
        size = _size(repo.top / path)
        if size is not None and size > cap:
            too_big[path] = max(size, too_big.get(path, 0))
    for path, size in too_big.items():
        line = _too_big_note(repo.vault_path(path), size)
        if line not in report.notes:
            report.notes.append(line)
    notes = [p for p in notes if p not in too_big]
    for one in listed:
        for path in too_big:
            one.blobs.pop(path, None)
    merged: dict[str, Note] = {}
    for path in notes:
        if (repo.top / path).is_symlink():
            continue  # never followed: it may point outside the vault
        data = _read(repo.top / path)
        if data is not None:
            merged[repo.vault_path(path)] = _parse(settings, data, repo.vault_path(path))
    at_base, at_local, at_upstream = (_notes_at(settings, repo, one) for one in listed)
    plans = plan_moved_ticks(at_base, at_local, at_upstream, merged)
    touched: list[str] = []
    for plan in plans:
        results = set_statuses(settings, settings.root / plan.target_note,
                               [StatusChange(plan.target_key, plan.expected, plan.status)])
        if not all(r.applied for r in results):
            continue
        touched.append(plan.target_note)
        if plan.source_key is not None and _drop_kept_copy(settings, plan):
            touched.append(plan.source_note)
        report.notes.append(f"{plan.target_note}: {plan.description!r} was moved here from "
                            f"{plan.source_note} while its status changed; it now has "
                            f"[{plan.status}] here, once")
    if touched:
        changed = [Changed(repo.repo_path(p), " M") for p in dict.fromkeys(touched)]
        body = "\n".join(f"  {p.target_note}: [{p.status}] {p.description}" for p in plans)
        commit(repo, changed, f"vaultmap: moved tasks keep their status ({len(plans)})\n\n"
                              f"{body}\n")


def _drop_kept_copy(settings: Settings, plan: MovedTick) -> bool:
    def transform(data: bytes) -> tuple[bytes | None, bool]:
        note = _parse(settings, data, plan.source_note)
        for task in note.tasks:
            if task.key == plan.source_key and task.status == plan.status:
                new = remove_task_line(data, task, note)
                return new, new is not None
        return None, False

    return rewrite_file(settings.root / plan.source_note, transform, display=plan.source_note,
                        inside=settings.root)


def _after_failed_merge(settings: Settings, repo: Repo, kind: str, result: Result,
                        on_conflict: OnConflict) -> None:
    conflicted = unmerged_files(repo)
    if not conflicted:
        if operation_in_progress(repo) is not None:
            repo.git.run(kind, "--abort", check=False, locks=True)
        raise GitStateError(f"git {kind} failed: {result.message()}")
    where = []
    for path in conflicted:
        lines = _marker_lines_within(settings, repo.top / path)
        vault_path = repo.vault_path(path) if path.startswith(repo.prefix) else path
        where.append(_where(vault_path, lines) if lines else vault_path)
    record = read_record(settings)
    if on_conflict == "abort":
        repo.git.run(kind, "--abort", check=False, locks=True)
        record["paused"] = {"since": _now(), "files": where}
        record.pop("operation", None)
        write_record(settings, record)
        raise GitConflictError(f"merge conflict in {'; '.join(where)}: merge aborted, your "
                               "notes are as they were; git sync is paused until you run "
                               "`vaultmap sync --git` yourself")
    record["operation"] = {"kind": kind, "since": _now(), "files": conflicted}
    write_record(settings, record)
    raise GitConflictError(f"merge conflict in {'; '.join(where)}: edit the lines between "
                           "<<<<<<< and >>>>>>>, then run `vaultmap sync --git` again (or "
                           "`vaultmap sync --git --abort` to go back to your local notes)")


def _finish_left_merge(settings: Settings, repo: Repo, record: dict[str, Any],
                       on_conflict: OnConflict) -> bool:
    """Complete a merge this command left for the user, once its markers are gone.

    Returns False when no such merge is in progress."""
    operation = record.get("operation")
    kind = operation_in_progress(repo)
    if not isinstance(operation, dict) or kind is None or kind != operation.get("kind"):
        if isinstance(operation, dict):  # finished or aborted by hand meanwhile
            record.pop("operation", None)
            write_record(settings, record)
        return False
    if on_conflict == "abort":
        raise GitConflictError("a merge conflict is waiting for you: finish it and run "
                               "`vaultmap sync --git` (or `vaultmap sync --git --abort`)")
    files = [str(p) for p in operation.get("files", [])]
    left = []
    for path in files:
        size = _size(repo.top / path)
        if size is not None and size > settings.vault.max_note_bytes:
            if _has_markers(repo.top / path):  # too big to read whole: no line numbers
                left.append(repo.vault_path(path))
            continue
        lines = _marker_lines_within(settings, repo.top / path)
        if lines:
            left.append(_where(repo.vault_path(path), lines))
    if left:
        raise GitConflictError("conflict markers still in " + "; ".join(left) + ": edit them "
                               "out, then run `vaultmap sync --git` again (or `--abort`)")
    specs = b"".join(f":(top,literal){p}".encode("utf-8", "surrogateescape") + b"\0"
                     for p in files)
    repo.git.run("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul", input=specs,
                 locks=True)
    while True:
        if kind == "merge":
            result = repo.git.run("commit", "-q", "--no-edit", check=False, locks=True)
        else:
            result = repo.git.run("rebase", "--continue", check=False, locks=True,
                                  env={"GIT_EDITOR": "true"})
        if result.ok:
            break
        if kind == "rebase" and unmerged_files(repo):  # the next replayed commit conflicts
            _after_failed_merge(settings, repo, "rebase", result, on_conflict)
        raise GitStateError(f"git {kind}: {result.message()}")
    record.pop("operation", None)
    write_record(settings, record)
    return True


def _push(settings: Settings, repo: Repo, upstream: Upstream, report: GitSyncReport,
          on_conflict: OnConflict) -> None:
    for attempt in range(settings.git.push_retries + 1):
        ahead, _ = ahead_behind(repo, upstream)
        if ahead == 0:
            return
        report.push_attempts = attempt + 1
        result = repo.git.run("push", "--quiet", "--porcelain", upstream.remote,
                              f"HEAD:{upstream.ref}", check=False)
        if result.ok:
            report.pushed = ahead
            return
        text = (result.stdout + result.stderr).decode("utf-8", "replace")
        if not any(s in text for s in _REJECTED):
            raise _remote_error(upstream, "push to", result)
        # Someone pushed meanwhile: take their commits in and try again.
        _fetch(repo, upstream)
        _integrate(settings, repo, upstream, report, on_conflict)
    raise GitRemoteError(f"push to {upstream.remote} still rejected after "
                         f"{settings.git.push_retries + 1} attempts (others keep pushing); "
                         "run `vaultmap sync --git` again")


def sync_git(settings: Settings, *, dry_run: bool = False, on_conflict: OnConflict = "stop",
             driver_command: str | None = None, lock_timeout: float = 30.0,
             on_wait: Callable[[], None] | None = None) -> GitSyncReport:
    """One round trip: check, commit, fetch, merge, push. See the module docstring.

    Holds the vault's git sync lock (``vaultmap.sync.turns``), so a user's `sync --git`, the
    daemon's round and a `vaultmap done` take turns: it waits up to ``lock_timeout`` seconds,
    calling ``on_wait`` once first, then raises :class:`SyncBusyError` (exit 14).
    """
    if dry_run:
        return _sync_git(settings, dry_run=True, on_conflict=on_conflict,
                         driver_command=driver_command)
    from vaultmap.sync.turns import sync_turn

    with sync_turn(settings, names=("git",), timeout=lock_timeout, on_wait=on_wait):
        return _sync_git(settings, dry_run=False, on_conflict=on_conflict,
                         driver_command=driver_command)


def _sync_git(settings: Settings, *, dry_run: bool, on_conflict: OnConflict,
              driver_command: str | None) -> GitSyncReport:
    probe = open_repo(settings)
    config = driver_config(settings, probe, driver_command) if not dry_run else {}
    repo = open_repo(settings, config=config) if config else probe
    report = GitSyncReport(dry_run=dry_run)
    record = read_record(settings)
    finished = False if dry_run else _finish_left_merge(settings, repo, record, on_conflict)
    report.finished_merge = finished
    if finished:  # a finished rebase checked the branch out again
        repo = open_repo(settings, config=config)
    kind = operation_in_progress(repo)
    if kind is not None:
        raise GitStateError(f"the repository is in the middle of a {kind}: finish it (or `git "
                            f"{kind} --abort`), then run `vaultmap sync --git` again")
    upstream = upstream_of(repo)
    report.upstream = upstream.tracking
    if on_conflict == "abort" and record.get("paused"):
        paused = record["paused"]
        raise GitConflictError(f"git sync is paused since {paused.get('since')} by a conflict "
                               f"in {'; '.join(paused.get('files', []))}: run `vaultmap sync "
                               "--git` yourself to resolve it")
    planned = plan_commit(settings, repo, report.notes)
    if dry_run:
        ahead, behind = ahead_behind(repo, upstream)
        if planned is not None:
            report.committed, _, report.commit_body = planned[1].partition("\n\n")
        report.merged, report.pushed = behind, ahead + (1 if planned else 0)
        return report
    if planned is not None:
        changed, message = planned
        commit(repo, changed, message)
        report.committed, _, report.commit_body = message.partition("\n\n")
    _fetch(repo, upstream)
    report.fetched = True
    _integrate(settings, repo, upstream, report, on_conflict)
    _push(settings, repo, upstream, report, on_conflict)
    record = read_record(settings)
    record.pop("paused", None)
    record["last_sync"] = _now()
    record["merge_notes"] = report.notes
    record["head"] = repo.git.run("rev-parse", "HEAD").text.strip()
    write_record(settings, record)
    return report


def abort_git(settings: Settings) -> str:
    """``sync --git --abort``: undo a merge or rebase this command left; back to local."""
    repo = open_repo(settings)
    record = read_record(settings)
    operation = record.get("operation")
    kind = operation_in_progress(repo)
    if kind is None:
        record.pop("operation", None)
        write_record(settings, record)
        return "nothing to abort: no merge or rebase is in progress"
    if not isinstance(operation, dict) or operation.get("kind") != kind:
        raise GitStateError(f"the {kind} in progress was not started by vaultmap: use "
                            f"`git {kind} --abort` yourself")
    result = repo.git.run(kind, "--abort", check=False, locks=True)
    if not result.ok:
        raise GitStateError(f"git {kind} --abort: {result.message()}")
    record.pop("operation", None)
    write_record(settings, record)
    return f"{kind} aborted: your notes are as they were before `vaultmap sync --git`"


# --------------------------------------------------------------------------- status


@dataclass(frozen=True, slots=True)
class GitStatus:
    branch: str | None
    upstream: str | None
    ahead: int
    behind: int
    operation: str | None  # a merge/rebase in progress
    unmerged: tuple[str, ...]
    uncommitted: int
    last_sync: str | None
    paused: Mapping[str, Any] | None
    merge_notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = []
        where = f"branch {self.branch}" if self.branch else "detached HEAD"
        if self.upstream:
            out.append(f"git: {where}, {self.ahead} ahead and {self.behind} behind "
                       f"{self.upstream} (as last fetched); {self.uncommitted} changed file(s) "
                       "not committed")
        else:
            out.append(f"git: {where}, no upstream")
        out.append(f"git: last sync {self.last_sync}" if self.last_sync
                   else "git: never synced by vaultmap")
        if self.operation:
            out.append(f"git: a {self.operation} is in progress")
        for path in self.unmerged:
            out.append(f"  ! unresolved conflict: {path}")
        for note in self.merge_notes:
            out.append(f"  last merge: {note}")
        if self.paused:
            out.append(f"git: sync paused since {self.paused.get('since')} by a conflict in "
                       f"{'; '.join(self.paused.get('files', []))}")
        return out


def git_status(settings: Settings) -> GitStatus:
    """The git side of ``vaultmap status``; reads only local state (no fetch)."""
    repo = open_repo(settings)
    try:
        upstream: Upstream | None = upstream_of(repo)
    except GitStateError:
        upstream = None
    ahead, behind = ahead_behind(repo, upstream) if upstream else (0, 0)
    record = read_record(settings)
    paused = record.get("paused")
    return GitStatus(repo.branch, upstream.tracking if upstream else None, ahead, behind,
                     operation_in_progress(repo), tuple(unmerged_files(repo)),
                     len(changed_files(repo)), record.get("last_sync"),
                     paused if isinstance(paused, dict) else None,
                     tuple(str(n) for n in record.get("merge_notes") or ()))


def git_configured(settings: Settings) -> bool:
    """True when plain ``vaultmap sync`` should include git: ``[git] enabled`` and the vault
    is inside a work tree whose branch has an upstream."""
    if not settings.git.enabled:
        return False
    try:
        upstream_of(open_repo(settings))
    except GitStateError:
        return False
    return True
