"""``vaultmap sync``, ``status`` and ``notion init|link``: two-way sync with a Notion database.

Thin: find the vault, build the remote from ``.vaultmap.toml`` and the environment, call
:func:`vaultmap.sync.runner.run_sync`, print. The plan and the summary go to stdout; notices,
warnings and the progress bar go to stderr. The token is read from the environment by the
adapter and never printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import tomlkit
from tomlkit.exceptions import TOMLKitError

from vaultmap.cli.output import echo
from vaultmap.config import CONFIG_NAME, Settings, load_settings
from vaultmap.errors import ConfigError, GitStateError, SyncIncompleteError, VaultmapError
from vaultmap.fs import (
    MAX_CONFIG_BYTES,
    Unreadable,
    UnsafePath,
    atomic_write,
    read_regular,
    real_target_inside,
)
from vaultmap.sync.base import BaseEntry, ConflictRecord, OverwriteRecord
from vaultmap.sync.engine import Forget, Plan, Record
from vaultmap.sync.runner import (
    SyncReport,
    describe_conflicts,
    describe_overwrites,
    run_sync,
)
from vaultmap.sync.state import StateStore

if TYPE_CHECKING:
    from vaultmap.sync.notion import NotionRemote
    from vaultmap.sync.runner import Progress

# A push shorter than this many row writes gets no progress bar.
PROGRESS_MIN = 20


_VAULT = click.argument(
    "vault", required=False, default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path))


def _vault_settings(vault: Path) -> Settings:
    from vaultmap.cli.report_cmds import find_vault_root

    settings = load_settings(find_vault_root(vault))
    _warn(settings.warnings)
    return settings


def _warn(lines: Iterable[str], label: str = "warning") -> None:
    for line in lines:
        echo(f"vaultmap: {label}: " + " ".join(line.splitlines()), err=True)


def _notion(settings: Settings, *, need_database: bool = True) -> NotionRemote:
    # Imported here: the HTTP stack is only worth loading for the commands that talk to Notion.
    from vaultmap.sync.notion import NotionRemote

    if need_database:
        _require_database(settings)
    return NotionRemote.from_settings(settings, on_wait=_say_retry)


def _require_database(settings: Settings) -> None:
    if not settings.notion.database_id:
        raise ConfigError(f"no Notion database is set in {CONFIG_NAME}: run `vaultmap notion "
                          "init --parent PAGE` or `vaultmap notion link DATABASE` first")


def _print_plan(plan: Plan, *, verbose_base: bool = False, remote: str = "Notion") -> None:
    shown = [a for a in plan.actions
             if verbose_base or not isinstance(a, Record | Forget)]
    for action in shown:
        echo(f"  {action.mark} {action.describe()}")
    for conflict in plan.conflicts:
        if not conflict.vault_status:
            echo(f"  ! conflict {conflict.note}: {conflict.description!r} was deleted "
                 f"from the note while its row changed to [{conflict.remote_status}] in "
                 f"{remote}; keeping the row")
            continue
        kept = conflict.kept_status
        echo(f"  ! conflict {conflict.note}: {conflict.description!r} is "
             f"[{conflict.vault_status}] in the note and [{conflict.remote_status}] in "
             f"{remote}; keeping [{kept}]")


def _say_waits(what: str, done: int, total: int | None) -> None:
    """Without a terminal: no bar, but a wait is still said at once (one line)."""
    if total is None:
        echo(f"vaultmap: {what}", err=True)


def _say_retry(line: str) -> None:
    if sys.stderr.isatty():
        echo(f"vaultmap: {line}", err=True)


@contextmanager
def _progress_bar() -> Iterator[Progress | None]:
    """A progress callback that draws a bar on stderr, for long pushes on a terminal only."""
    if not sys.stderr.isatty():
        yield _say_waits
        return
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

    with Bar(console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def draw(what: str, done: int, total: int | None) -> None:
            if total is None:  # a wait, not a count: one line
                bar.console.print(f"vaultmap: {what}", highlight=False, markup=False)
                return
            if what not in tasks:
                if total is not None and total < PROGRESS_MIN:
                    return  # a short push is over before a bar would help
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        yield draw


def _finish(report: SyncReport, *, label: str = "") -> None:
    _warn(report.notes, "note")
    for failure in report.failures:
        echo(f"vaultmap: failed: {failure}", err=True)
    echo(label + report.summary())
    if report.failures:
        raise SyncIncompleteError(f"{len(report.failures)} change(s) could not be made; "
                                  "run `vaultmap sync` again")


@click.command("sync")
@_VAULT
@click.option("--notion", "use_notion", is_flag=True,
              help="Sync with the Notion database only.")
@click.option("--github", "use_github", is_flag=True,
              help="Sync with GitHub issues only (published checklists, tasks naming issues).")
@click.option("--git", "use_git", is_flag=True,
              help="Sync with the git upstream only: commit, fetch, merge task by task, push.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing anywhere.")
@click.option("--full", is_flag=True,
              help="Read every row instead of only the rows edited since the last sync.")
@click.option("--force", is_flag=True,
              help="Go ahead even when one side suddenly lost most of its tasks.")
@click.option("--abort", "abort", is_flag=True,
              help="git: undo the merge a conflict left in progress; back to your notes.")
@click.option("--on-conflict", type=click.Choice(["stop", "abort"]), default="stop",
              show_default=True,
              help="git: on a genuine conflict leave the markers for you (stop), or abort "
                   "the merge, keep your notes and pause git sync (abort, for unattended runs).")
@click.option("-v", "--verbose", is_flag=True, help="List every change, not just the counts.")
def sync_cmd(vault: Path, use_notion: bool, use_github: bool, use_git: bool, dry_run: bool,
             full: bool, force: bool, abort: bool, on_conflict: str, verbose: bool) -> None:
    """Sync VAULT (default: here) with every configured remote: Notion, GitHub and git.

    Notion: ticking a task in a note ticks its row; ticking a row (Done or Status) changes the
    one status character in the note. Text, section, dates and tags flow from the vault to
    Notion. A task deleted from its note sends its row to Notion's trash; a row trashed in
    Notion never deletes a line: the task is unlinked and reported.

    git: commit the vault's changed notes (the message names the task changes), fetch, merge
    task by task, push. A genuine conflict stops like git does: finish it and run `vaultmap
    sync --git` again, or go back with `vaultmap sync --git --abort`.

    GitHub: a box ticked on github.com in a published checklist changes the one status
    character in the note; a tick in the note ticks the box. Tasks naming an issue follow it.

    Each remote prints its own result line; a failure of one does not stop the others.

    \b
    Examples:
      export NOTION_TOKEN=ntn_...          # the integration's secret
      vaultmap notion init --parent https://www.notion.so/Home-26899f72bada80dc843deacaf51e89ad
      vaultmap sync --dry-run              # what would change, nothing written
      vaultmap sync                        # then: vaultmap status
      vaultmap sync --git                  # only git
    """
    from vaultmap.cli.github_cmds import sync_github

    settings = _vault_settings(vault)
    if abort:
        from vaultmap.sync.git.roundtrip import abort_git

        echo(abort_git(settings))
        return
    chosen = (("notion", use_notion), ("github", use_github), ("git", use_git))
    if any(on for _, on in chosen):
        remotes = [name for name, on in chosen if on]
    else:
        remotes = _configured_remotes(settings)
    labelled = len(remotes) > 1
    _say_if_daemon_runs(settings, dry_run=dry_run)
    failures: list[VaultmapError] = []
    # Git goes last: it commits what the other remotes changed in the notes.
    for name in remotes:
        try:
            if name == "notion":
                with _notion(settings) as remote, _progress_bar() as progress:
                    report = run_sync(settings, remote, dry_run=dry_run, full=full, force=force,
                                      progress=progress)
                _show_sync(report, "Notion", dry_run=dry_run, verbose=verbose, labelled=labelled)
            elif name == "github":
                report = sync_github(settings, dry_run=dry_run, full=full, force=force)
                _show_sync(report, "GitHub", dry_run=dry_run, verbose=verbose, labelled=labelled)
            else:
                _sync_git(settings, dry_run=dry_run, on_conflict=on_conflict, verbose=verbose)
        except VaultmapError as error:
            if not labelled:
                raise
            echo(f"vaultmap: {name}: {error}", err=True)
            failures.append(error)
    if failures:
        sys.exit(failures[0].exit_code)


def _say_if_daemon_runs(settings: Settings, *, dry_run: bool) -> None:
    """A daemon syncs the same vault: the two take turns on the vault's sync lock (a sync
    waits for the daemon's round, the daemon for this one); say so, as the wait may show."""
    from vaultmap.daemon import running_pid

    pid = None if dry_run else running_pid(settings.root)
    if pid is not None:
        echo(f"vaultmap: a daemon (pid {pid}) syncs this vault too; waiting for its sync "
             "round to finish if one is running", err=True)


def _configured_remotes(settings: Settings) -> list[str]:
    from vaultmap.cli.github_cmds import github_in_use
    from vaultmap.sync.git.roundtrip import git_configured

    remotes = ["notion"] if settings.notion.database_id else []
    if github_in_use(settings):
        remotes.append("github")
    if git_configured(settings):
        remotes.append("git")
    if not remotes:
        _require_database(settings)  # says how to set one up
    return remotes


def _show_sync(report: SyncReport, name: str, *, dry_run: bool, verbose: bool,
               labelled: bool) -> None:
    if dry_run or verbose:
        _print_plan(report.plan, remote=name)
    # Lower case, as git's own line ("git: committed ..."): one label style per run.
    _finish(report, label=f"{name.lower()}: " if labelled else "")


def _sync_git(settings: Settings, *, dry_run: bool, on_conflict: str, verbose: bool) -> None:
    from vaultmap.sync.git.roundtrip import sync_git

    report = sync_git(settings, dry_run=dry_run,
                      on_conflict="abort" if on_conflict == "abort" else "stop",
                      on_wait=lambda: _say_waits("waiting for another vaultmap sync of this "
                                                 "vault to finish", 0, None))
    _warn(report.notes, "note")
    echo(report.summary())
    if (dry_run or verbose) and report.commit_body.strip():
        for line in report.commit_body.rstrip("\n").splitlines():
            echo(f"  {line}")


@click.command("status")
@_VAULT
@click.option("--clear-conflicts", is_flag=True,
              help="Forget the listed conflicts once you have checked them.")
@click.option("--offline", is_flag=True,
              help="Only list conflicts; do not ask Notion what a sync would do.")
def status_cmd(vault: Path, clear_conflicts: bool, offline: bool) -> None:
    """Show what a sync of VAULT would do, and the conflicts the last syncs resolved.

    With git: the branch, commits ahead of and behind the upstream (as last fetched, no
    network), unresolved conflicts and the last `vaultmap sync --git`.
    """
    from vaultmap.cli.github_cmds import github_in_use, sync_github

    settings = _vault_settings(vault)
    git_lines = _git_status_lines(settings)  # local: no network
    github = github_in_use(settings)
    notion = bool(settings.notion.database_id) or not (github or git_lines)
    shown = [remote for remote, used in (("notion", notion), ("github", github)) if used]
    if clear_conflicts:
        # The states must be writable to clear anything: said before any remote is asked
        # (a read-only vault is one line, exit 12, whatever the network does).
        for name in shown:
            StateStore.open_existing(settings.state_dir, name).close()
    # Ask every remote first: a failure must not follow a half-written answer ("no
    # conflicts", then exit 4). A dry run creates no state, lock or index.
    plans: dict[str, SyncReport | None] = {"notion": None, "github": None}
    if notion and not offline:
        _require_database(settings)  # says what is missing before anything is printed
        with _notion(settings) as remote:
            plans["notion"] = run_sync(settings, remote, dry_run=True)
    if github and not offline:
        plans["github"] = sync_github(settings, dry_run=True, full=False, force=False)
    # Read (and with --clear-conflicts, clear) every remote's record before printing: a
    # state that cannot be written is one line on stderr, not a half-printed status.
    records = {name: _state_of(settings, name, clear_conflicts=clear_conflicts)
               for name in shown}
    for line in git_lines:
        echo(line)
    if notion:
        _status_of(settings, "notion", "Notion", plans["notion"], records["notion"],
                   clear_conflicts=clear_conflicts, label="Notion: " if github else "")
    if github:
        _status_of(settings, "github", "GitHub", plans["github"], records["github"],
                   clear_conflicts=clear_conflicts, label="GitHub: " if notion else "")


@dataclass(frozen=True, slots=True)
class _StateRecord:
    """What ``vaultmap status`` shows of one remote's sync state."""

    conflicts: list[ConflictRecord]
    overwrites: list[OverwriteRecord]
    last: datetime | None
    entries: list[BaseEntry]


def _state_of(settings: Settings, remote: str, *, clear_conflicts: bool) -> _StateRecord:
    """One remote's conflicts, overwrites, last sync and entries; with ``clear_conflicts``,
    its conflicts and overwrites are forgotten (the state is opened for writing)."""
    with StateStore.open_existing(settings.state_dir, remote,
                                  read_only=not clear_conflicts) as state:
        record = _StateRecord(list(state.conflicts()), list(state.overwrites()),
                              state.last_sync_start, list(state.entries().values()))
        if clear_conflicts and record.conflicts:
            state.clear_conflicts()
    return record


def _status_of(settings: Settings, remote: str, name: str, report: SyncReport | None,
               record: _StateRecord, *, clear_conflicts: bool, label: str) -> None:
    """The conflicts and last sync of one remote, then what ``report`` (a dry run; None when
    offline) would do."""
    conflicts, overwrites = record.conflicts, record.overwrites
    last, entries = record.last, record.entries
    if last is not None:
        linked = sum(1 for e in entries if e.linked)
        why = ("their lines or issues are gone from GitHub" if remote == "github"
               else "their rows were trashed")
        echo(f"{label}last complete sync: {last.isoformat(timespec='seconds')}; {linked} "
             f"task(s) linked to rows, {len(entries) - linked} unlinked ({why})")
    if conflicts:
        prefer = settings.github.prefer if remote == "github" else settings.notion.prefer
        echo(f"{label}{len(conflicts)} conflict(s) resolved by the policy "
             f"([{remote}] prefer = {prefer!r}):")
        for line in describe_conflicts(conflicts, name):
            echo(f"  ! {line}")
        if clear_conflicts:
            echo("(cleared)")
    else:
        echo(f"{label}no conflicts")
    if overwrites:
        echo(f"{label}{len(overwrites)} edit(s) made in {name} were put back from the notes "
             f"(text, dates, priority and tags flow from the vault to {name}):")
        for line in describe_overwrites(overwrites, name):
            echo(f"  ~ {line}")
        if clear_conflicts:
            echo("(cleared)")
    if report is None:
        return
    _warn(report.notes, "note")
    if report.plan.empty:
        echo(f"{label}in sync: a sync now would change nothing")
        return
    echo(f"{label}a sync now would:")
    _print_plan(report.plan, remote=name)


def _git_status_lines(settings: Settings) -> list[str]:
    from vaultmap.sync.git.roundtrip import git_status

    if not settings.git.enabled:
        return []
    try:
        return git_status(settings).lines()
    except GitStateError:
        return []  # not a git work tree: nothing to say about git


@click.group("notion")
def notion_group() -> None:
    """Connect the vault to a Notion database."""


@notion_group.command("init", short_help="Create a task database in a Notion page.")
@click.option("--parent", "parent", required=True, metavar="PAGE",
              help="The Notion page (id or URL) to create the database in; share it with "
                   "your integration first.")
@click.option("--title", default=None, help="Database title (default: '<vault> tasks').")
@_VAULT
def notion_init_cmd(parent: str, title: str | None, vault: Path) -> None:
    """Create a task database inside PAGE and record it in VAULT's .vaultmap.toml."""
    settings = _vault_settings(vault)
    if settings.notion.database_id:
        raise ConfigError(f"{CONFIG_NAME} already names the Notion database "
                          f"{settings.notion.database_id}; use `vaultmap notion link "
                          "DATABASE` to switch")
    with _notion(settings, need_database=False) as remote:
        database_id = remote.create_database(parent, title or f"{settings.root.name} tasks")
    record_database(settings, database_id)
    echo(f"created Notion database {database_id}; recorded in {CONFIG_NAME}")
    echo("next: vaultmap sync")


@notion_group.command("link", short_help="Use an existing Notion database.")
@click.argument("database", metavar="DATABASE")
@_VAULT
def notion_link_cmd(database: str, vault: Path) -> None:
    """Use the existing Notion DATABASE (id or URL): add the properties it lacks."""
    settings = _vault_settings(vault)
    with _notion(settings, need_database=False) as remote:
        changes = remote.link_database(database)
        database_id = remote.database_id
    for change in changes:
        echo(f"  {change}")
    record_database(settings, database_id)
    echo(f"linked Notion database {database_id}; recorded in {CONFIG_NAME}")


def record_database(settings: Settings, database_id: str) -> None:
    """Write ``[notion] database_id`` into ``.vaultmap.toml``, keeping everything else
    (comments, order, formatting) as the user wrote it; the file is replaced atomically."""
    path = settings.config_path
    try:
        raw = b"" if not os.path.lexists(path) else read_regular(path, MAX_CONFIG_BYTES)[0]
        document = tomlkit.parse(raw.decode("utf-8-sig"))
    except Unreadable as error:
        raise ConfigError(f"{path}: {error.reason}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except TOMLKitError as error:
        raise ConfigError(f"{path}: {error}") from None
    table = document.get("notion")
    if table is None:
        table = tomlkit.table()
        document["notion"] = table
    elif not isinstance(table, dict):
        raise ConfigError(f"{path}: [notion] must be a table")
    table["database_id"] = database_id
    data = tomlkit.dumps(document).encode("utf-8")
    try:
        # A linked config is written at its target, and only inside the vault.
        target = real_target_inside(settings.root, path)
        atomic_write(target, data, new_mode=0o644)
    except UnsafePath as unsafe:
        raise ConfigError(f"{path}: {unsafe.reason}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot write ({error.strerror})") from None


COMMANDS: list[click.Command] = [sync_cmd, status_cmd, notion_group]
