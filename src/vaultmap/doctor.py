"""``vaultmap doctor``: check a vault and say, for each problem, the command that fixes it.

Every check gives one :class:`Check` (passed or failed, one line of detail, the fixing
command, and per-note lines where that helps). Checks only read: the index and sync state are
opened read-only, Notion gets read-only requests, git is asked with plumbing commands. The one
thing that writes is :func:`fix_mojibake`, the ``--fix`` of the mojibake check.

Usage::

    checks = run_checks(settings)
    all(check.ok for check in checks)       # doctor's exit code is 0 exactly then
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from vaultmap.config import CONFIG_NAME, STATE_DIR, Settings
from vaultmap.errors import VaultmapError
from vaultmap.fs import (
    MAX_CONFIG_BYTES,
    Unreadable,
    connect_read_only,
    is_access_problem,
    is_pid,
    read_regular,
)
from vaultmap.model import Note

__all__ = [
    "DAEMON_LOCK",
    "DAEMON_STATUS",
    "Check",
    "FixResult",
    "check_config_file",
    "fix_mojibake",
    "run_checks",
]

#: The daemon keeps its lock and its status here (``{"pid", "started", "last_error"}``).
DAEMON_LOCK = "daemon.lock"
DAEMON_STATUS = "daemon.json"
_GIT_TIMEOUT = 30.0
_MOJIBAKE_EXAMPLES = 50  # notes whose first damaged line doctor shows


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist."""

    area: str  # config | notes | index | sync | notion | git | daemon
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""  # the command (or action) that fixes it, for a failed check
    items: tuple[str, ...] = ()  # one line per note (or finding) when it failed

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of a check (``vaultmap doctor --format json``)."""
        return {"area": self.area, "name": self.name, "ok": self.ok, "detail": self.detail,
                "fix": self.fix or None, "items": list(self.items)}


@dataclass(slots=True)
class _Context:
    settings: Settings
    notes: Sequence[Note] = ()
    warnings: Sequence[str] = ()
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- config


def check_config_file(settings: Settings, error: VaultmapError | None) -> Check:
    """Unknown or misspelled keys (with the closest valid key) and wrong types in
    ``.vaultmap.toml``, as :func:`vaultmap.config.check_config` finds them."""
    from vaultmap.config import check_config

    path = settings.config_path
    fix = f"edit {CONFIG_NAME} (`vaultmap init --config-only` shows every option documented)"
    findings = [finding.message for finding in check_config(path)]
    if error is not None and not findings:
        findings = [str(error)]
    if findings:
        return Check("config", CONFIG_NAME, False, _plural(len(findings), "problem"), fix,
                     tuple(findings))
    if not path.exists():
        return Check("config", CONFIG_NAME, True, "none: the defaults are used")
    return Check("config", CONFIG_NAME, True, "valid")


# --------------------------------------------------------------------------- notes


def _note_checks(context: _Context) -> list[Check]:
    unreadable: list[str] = []
    too_big: list[str] = []
    for warning in context.warnings:
        (too_big if "note size limit" in warning else unreadable).append(warning)
    notes = context.notes
    legacy = [f"{n.path}: read as {n.encoding}" for n in notes
              if n.encoding not in ("utf-8", "utf-8-sig")]
    front = [f"{n.path}: {w}" for n in notes for w in n.warnings if "front matter" in w]
    checks = [
        Check("notes", "readable", not unreadable,
              f"{_plural(len(notes), 'note')} read" if not unreadable
              else f"{_plural(len(unreadable), 'file')} could not be read",
              "" if not unreadable else "fix the file's permissions or remove it "
              "(or exclude it under [vault] exclude)", tuple(unreadable)),
        Check("notes", "size limit", not too_big,
              "every note is under the limit" if not too_big
              else f"{_plural(len(too_big), 'note')} over [vault] max_note_mb",
              "" if not too_big else "split the note, or raise [vault] max_note_mb in "
              f"{CONFIG_NAME}", tuple(too_big)),
        Check("notes", "valid UTF-8", not legacy,
              "every note" if not legacy else f"{_plural(len(legacy), 'note')} in a legacy "
              "encoding (read, never rewritten with characters it cannot hold)",
              "" if not legacy else "re-save the note as UTF-8 in your editor", tuple(legacy)),
        Check("notes", "front matter", not front,
              "every front matter parses" if not front
              else f"{_plural(len(front), 'note')} with broken front matter",
              "" if not front else "fix the YAML between the --- lines", tuple(front)),
        _mojibake_check(context),
    ]
    return checks


def _mojibake_check(context: _Context) -> Check:
    from vaultmap.edit.repair import plan_repair

    damaged = [n for n in context.notes if n.mojibake]
    if not damaged:
        return Check("notes", "mojibake", True, "no double-encoded text")
    items: list[str] = []
    for number, note in enumerate(damaged):
        line = f"{note.path}: {_plural(note.mojibake, 'damaged span')}"
        if number >= _MOJIBAKE_EXAMPLES:
            # Counts come from the index; an example costs a read and a repair of the note.
            items.append(line)
            continue
        try:  # the note may have become a FIFO or grown since the scan
            data, _ = read_regular(context.settings.root / note.path,
                                   context.settings.vault.max_note_bytes)
        except Unreadable:
            data = b""
        repair = plan_repair(data, note.path) if data else None
        if repair is not None and repair.lines:
            first = repair.lines[0]
            line += (f"; line {first.line}: {first.before.strip()!r} -> "
                     f"{first.after.strip()!r}")
        elif note.encoding not in ("utf-8", "utf-8-sig"):
            line += " (shown repaired; not rewritten: the note is not UTF-8)"
        items.append(line)
    if len(damaged) > _MOJIBAKE_EXAMPLES:
        items.append(f"(an example line for the first {_MOJIBAKE_EXAMPLES} notes; "
                     "`vaultmap doctor --fix --dry-run` shows every line)")
    total = sum(n.mojibake for n in damaged)
    return Check("notes", "mojibake", False,
                 f"{_plural(len(damaged), 'note')} with double-encoded text "
                 f"({_plural(total, 'span')}; shown repaired, the files are unchanged)",
                 "vaultmap doctor --fix (--dry-run shows the diff first)", tuple(items))


# --------------------------------------------------------------------------- index, sync


def _index_check(settings: Settings, state: str) -> Check:
    if state == "current":
        return Check("index", "scan index", True, "readable and current")
    if state == "missing":
        return Check("index", "scan index", True, "not built yet (the first scan builds it)")
    return Check("index", "scan index", False,
                 "out of date (another vaultmap or configuration)" if state == "stale"
                 else "unreadable (truncated or corrupt)",
                 "vaultmap report (rebuilds it)")


# The fix for a state file vaultmap may not open: the file is healthy, never "set it aside".
_ACCESS_FIX = f"make {STATE_DIR}/ and its files readable and writable for you"


def _sync_state_check(settings: Settings) -> Check:
    from vaultmap.sync.state import SCHEMA_VERSION, STATE_FILE

    path = settings.state_dir / STATE_FILE
    if not path.exists():
        return Check("sync", "sync state", True, "none yet (no sync has run)")
    fix = f"vaultmap sync (a damaged {STATE_FILE} is set aside and rebuilt from the remote)"
    try:
        db = connect_read_only(path)
    except sqlite3.Error as exc:
        return Check("sync", "sync state", False, f"{STATE_FILE}: cannot be opened ({exc})",
                     _ACCESS_FIX if is_access_problem(exc) else fix)
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        verdict = str(db.execute("PRAGMA quick_check").fetchone()[0])
        if verdict != "ok":
            return Check("sync", "sync state", False, f"{STATE_FILE} is damaged ({verdict})",
                         fix)
        if version != SCHEMA_VERSION:
            return Check("sync", "sync state", False,
                         f"{STATE_FILE} has schema {version}, this vaultmap uses "
                         f"{SCHEMA_VERSION}", fix)
        pending = int(db.execute("SELECT count(*) FROM pending").fetchone()[0])
        rows = int(db.execute("SELECT count(*) FROM base").fetchone()[0])
    except sqlite3.Error as exc:
        return Check("sync", "sync state", False, f"{STATE_FILE} cannot be read ({exc})",
                     _ACCESS_FIX if is_access_problem(exc) else fix)
    finally:
        db.close()
    if pending:
        return Check("sync", "sync state", False,
                     f"{_plural(pending, 'change')} of an interrupted sync still pending",
                     "vaultmap sync (completes them without duplicates)")
    return Check("sync", "sync state", True, f"readable and current ({_plural(rows, 'task')})")


# --------------------------------------------------------------------------- Notion


def _notion_checks(context: _Context) -> list[Check]:
    settings = context.settings
    notion = settings.notion
    if not notion.database_id:
        return [Check("notion", "Notion", True, "not configured (nothing to check)")]
    token = context.environ.get(notion.token_env, "").strip()
    checks = [Check("notion", "token", bool(token),
                    f"${notion.token_env} is set" if token else f"${notion.token_env} is empty",
                    "" if token else f"export {notion.token_env}=<your integration's secret>")]
    if not token:
        return [*checks,
                Check("notion", "database reachable and shared", False, "not checked: no token",
                      f"export {notion.token_env}=..."),
                Check("notion", "schema complete", False, "not checked: no token",
                      f"export {notion.token_env}=...")]
    from vaultmap.sync.notion import NotionRemote
    from vaultmap.sync.remote import RemoteAuthError, RemoteError, RemoteSchemaError

    # Read-only requests, and few retries: doctor should answer in seconds, not minutes.
    options = msgspec.structs.replace(notion, timeout=min(float(notion.timeout), 15.0),
                                      max_attempts=min(int(notion.max_attempts), 2),
                                      backoff=min(float(notion.backoff), 0.5))
    database = f"database {notion.database_id}"
    try:
        with NotionRemote.from_settings(settings, environ=context.environ,
                                        options=options) as remote:
            remote.schema()
    except RemoteSchemaError as exc:
        return [*checks, Check("notion", "database reachable and shared", True, database),
                Check("notion", "schema complete", False, str(exc),
                      f"vaultmap notion link {notion.database_id}")]
    except RemoteAuthError as exc:
        return [*checks, Check("notion", "database reachable and shared", False, str(exc),
                               "share the database with your integration in Notion "
                               "(… menu › Connections), or check the token"),
                Check("notion", "schema complete", False, "not checked: no access",
                      "share the database first")]
    except (RemoteError, VaultmapError) as exc:
        return [*checks, Check("notion", "database reachable and shared", False, str(exc),
                               "check the network and [notion] database_id"),
                Check("notion", "schema complete", False, "not checked: not reachable",
                      "check the network first")]
    return [*checks, Check("notion", "database reachable and shared", True, database),
            Check("notion", "schema complete", True, "every property vaultmap needs")]


# --------------------------------------------------------------------------- git


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          timeout=_GIT_TIMEOUT, env=env, check=False)


def _git_checks(settings: Settings) -> list[Check]:
    root = settings.root
    try:
        inside = _git(root, "rev-parse", "--is-inside-work-tree")
    except (OSError, subprocess.TimeoutExpired):
        return [Check("git", "git", True, "git is not installed (nothing to check)")]
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return [Check("git", "git", True, "not a git repository (nothing to check)")]
    checks: list[Check] = []

    branch = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    upstream = _git(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}")
    if branch.returncode != 0:
        checks.append(Check("git", "upstream set", False, "detached HEAD: no branch",
                            "git switch main (or your branch)"))
    elif upstream.returncode != 0:
        name = branch.stdout.strip()
        checks.append(Check("git", "upstream set", False, f"branch {name} has no upstream",
                            f"git branch --set-upstream-to origin/{name}"))
    else:
        checks.append(Check("git", "upstream set", True,
                            f"{branch.stdout.strip()} tracks {upstream.stdout.strip()}"))

    driver = _git(root, "config", "--get", "merge.vaultmap.driver")
    attribute = _git(root, "check-attr", "merge", "--", "note.md")
    has_driver = driver.returncode == 0 and bool(driver.stdout.strip())
    has_attribute = attribute.stdout.strip().endswith(": merge: vaultmap")
    missing = [what for what, present in (("git config merge.vaultmap.driver", has_driver),
                                          ("merge=vaultmap for *.md", has_attribute))
               if not present]
    checks.append(Check("git", "merge driver installed", not missing,
                        "checkbox changes merge line by line" if not missing
                        else "missing: " + ", ".join(missing),
                        "" if not missing else "vaultmap git install"))

    busy = []
    for marker, what, fix in (("MERGE_HEAD", "a merge", "git merge --abort"),
                              ("rebase-merge", "a rebase", "git rebase --abort"),
                              ("rebase-apply", "a rebase or am", "git rebase --abort"),
                              ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --abort"),
                              ("REVERT_HEAD", "a revert", "git revert --abort")):
        found = _git(root, "rev-parse", "--git-path", marker)
        if found.returncode == 0:
            path = Path(found.stdout.strip())
            if not path.is_absolute():
                path = root / path
            if path.exists():
                busy.append((what, fix))
    if busy:
        checks.append(Check("git", "no merge in progress", False,
                            f"{busy[0][0]} is in progress",
                            f"finish it and commit, or {busy[0][1]}"))
    else:
        checks.append(Check("git", "no merge in progress", True, "nothing half done"))
    return checks


def _safe_git_checks(settings: Settings) -> list[Check]:
    try:
        return _git_checks(settings)
    except (OSError, subprocess.SubprocessError) as exc:  # git hung or vanished midway
        return [Check("git", "git", False, f"git did not answer ({type(exc).__name__})",
                      "run `git status` in the vault to see what is wrong")]


# --------------------------------------------------------------------------- daemon


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def _daemon_check(settings: Settings) -> Check:
    status_path = settings.state_dir / DAEMON_STATUS
    lock_path = settings.state_dir / DAEMON_LOCK
    try:  # a FIFO or a device in its place must not hang doctor
        raw, _ = read_regular(status_path, MAX_CONFIG_BYTES)
        status = json.loads(raw)
    except Unreadable as unreadable:
        if unreadable.kind == "missing" and not status_path.is_symlink():
            return Check("daemon", "daemon", True, "not running")
        return Check("daemon", "daemon", False, f"{STATE_DIR}/{DAEMON_STATUS} cannot be read "
                     f"({unreadable.reason})", f"delete {STATE_DIR}/{DAEMON_STATUS}")
    except (ValueError, RecursionError) as exc:
        return Check("daemon", "daemon", False, f"{STATE_DIR}/{DAEMON_STATUS} cannot be read "
                     f"({type(exc).__name__})", f"delete {STATE_DIR}/{DAEMON_STATUS}")
    if not isinstance(status, dict):
        status = {}
    pid = status.get("pid")
    running = is_pid(pid) and lock_path.exists() and _pid_alive(pid)
    state = f"running (pid {pid}, since {status.get('started')})" if running else "not running"
    last_error = status.get("last_error")
    if last_error:
        return Check("daemon", "daemon", False, f"{state}; last error: {last_error}",
                     "fix the cause, then restart the daemon")
    return Check("daemon", "daemon", True, state)


# --------------------------------------------------------------------------- all together


def run_checks(settings: Settings, *, config_error: VaultmapError | None = None,
               environ: Mapping[str, str] | None = None) -> list[Check]:
    """Every check, in checklist order. Reads the vault (through the index) but writes none
    of it; the scan refreshes the index as a report would."""
    from vaultmap.vault import index_state, scan_vault

    index = index_state(settings)
    scan = scan_vault(settings)
    context = _Context(settings, scan.notes, scan.warnings,
                       os.environ if environ is None else environ)
    return [
        check_config_file(settings, config_error),
        *_note_checks(context),
        _index_check(settings, index),
        _sync_state_check(settings),
        *_notion_checks(context),
        *_safe_git_checks(settings),
        _daemon_check(settings),
    ]


@dataclass(frozen=True, slots=True)
class FixResult:
    """What ``doctor --fix`` did (or, dry, would do) to one note."""

    path: str
    spans: int
    diff: str  # unified diff of the changed lines
    backup: str | None  # vault-relative path of the backup (None for a dry run)
    error: str | None = None


def fix_mojibake(settings: Settings, *, dry_run: bool) -> list[FixResult]:
    """Repair the mojibake of every damaged UTF-8 note (or, ``dry_run``, show the diff)."""
    from vaultmap.edit.repair import plan_repair, repair_note
    from vaultmap.vault import scan_vault

    results: list[FixResult] = []
    for note in scan_vault(settings).notes:
        if not note.mojibake:
            continue
        try:
            try:
                data, _ = read_regular(settings.root / note.path, settings.vault.max_note_bytes)
            except Unreadable as unreadable:
                results.append(FixResult(note.path, 0, "", None, unreadable.reason))
                continue
            planned = plan_repair(data, note.path)
            if planned is None:
                continue
            repair = planned if dry_run else repair_note(settings, note.path)
        except (OSError, VaultmapError) as exc:
            message = str(exc) if isinstance(exc, VaultmapError) else (exc.strerror or str(exc))
            results.append(FixResult(note.path, 0, "", None, message))
            continue
        if repair is None:
            continue
        # One hunk per changed line (a repair never adds or removes a line).
        diff = "".join([f"--- a/{note.path}\n+++ b/{note.path}\n",
                        *(f"@@ -{line.line} +{line.line} @@\n-{line.before}\n+{line.after}\n"
                          for line in repair.lines)])
        backup = None
        if repair.backup is not None:
            backup = repair.backup.relative_to(settings.root).as_posix()
        results.append(FixResult(note.path, repair.spans, diff, backup))
    return results
