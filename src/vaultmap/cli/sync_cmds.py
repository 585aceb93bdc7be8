"""``vaultmap sync``, ``status`` and ``notion init|link``: two-way sync with a Notion database.

Thin: find the vault, build the remote from ``.vaultmap.toml`` and the environment, call
:func:`vaultmap.sync.runner.run_sync`, print. The plan and the summary go to stdout; notices,
warnings and the progress bar go to stderr. The token is read from the environment by the
adapter and never printed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
import tomlkit
from tomlkit.exceptions import TOMLKitError

from vaultmap.config import CONFIG_NAME, Settings, load_settings
from vaultmap.errors import ConfigError, VaultmapError
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


class SyncIncompleteError(VaultmapError):
    """Some actions of a sync failed; the next sync retries them."""

    exit_code = 15


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
        click.echo(f"vaultmap: {label}: " + " ".join(line.splitlines()), err=True)


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


def _print_plan(plan: Plan, *, verbose_base: bool = False) -> None:
    shown = [a for a in plan.actions
             if verbose_base or not isinstance(a, Record | Forget)]
    for action in shown:
        click.echo(f"  {action.mark} {action.describe()}")
    for conflict in plan.conflicts:
        if not conflict.vault_status:
            click.echo(f"  ! conflict {conflict.note}: {conflict.description!r} was deleted "
                       f"from the note while its row changed to [{conflict.remote_status}] in "
                       "Notion; keeping the row")
            continue
        kept = conflict.kept_status
        click.echo(f"  ! conflict {conflict.note}: {conflict.description!r} is "
                   f"[{conflict.vault_status}] in the note and [{conflict.remote_status}] in "
                   f"Notion; keeping [{kept}]")


def _say_waits(what: str, done: int, total: int | None) -> None:
    """Without a terminal: no bar, but a wait is still said at once (one line)."""
    if total is None:
        click.echo(f"vaultmap: {what}", err=True)


def _say_retry(line: str) -> None:
    if sys.stderr.isatty():
        click.echo(f"vaultmap: {line}", err=True)


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


def _finish(report: SyncReport) -> None:
    _warn(report.notes, "note")
    for failure in report.failures:
        click.echo(f"vaultmap: failed: {failure}", err=True)
    click.echo(report.summary())
    if report.failures:
        raise SyncIncompleteError(f"{len(report.failures)} change(s) could not be made; "
                                  "run `vaultmap sync` again")


@click.command("sync")
@_VAULT
@click.option("--notion", "use_notion", is_flag=True,
              help="Sync with the Notion database (the default when one is configured).")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing anywhere.")
@click.option("--full", is_flag=True,
              help="Read every row instead of only the rows edited since the last sync.")
@click.option("--force", is_flag=True,
              help="Go ahead even when one side suddenly lost most of its tasks.")
@click.option("-v", "--verbose", is_flag=True, help="List every change, not just the counts.")
def sync_cmd(vault: Path, use_notion: bool, dry_run: bool, full: bool, force: bool,
             verbose: bool) -> None:
    """Sync task statuses both ways between VAULT (default: here) and Notion.

    Ticking a task in a note ticks its row; ticking a row (Done or Status) changes the one
    status character in the note. Text, section, dates and tags flow from the vault to
    Notion. A task deleted from its note sends its row to Notion's trash; a row trashed in
    Notion never deletes a line: the task is unlinked and reported.

    \b
    Examples:
      export NOTION_TOKEN=ntn_...          # the integration's secret
      vaultmap notion init --parent https://www.notion.so/Home-26899f72bada80dc843deacaf51e89ad
      vaultmap sync --dry-run              # what would change, nothing written
      vaultmap sync                        # then: vaultmap status
    """
    settings = _vault_settings(vault)
    with _notion(settings) as remote, _progress_bar() as progress:
        report = run_sync(settings, remote, dry_run=dry_run, full=full, force=force,
                          progress=progress)
    if dry_run or verbose:
        _print_plan(report.plan)
    _finish(report)


@click.command("status")
@_VAULT
@click.option("--clear-conflicts", is_flag=True,
              help="Forget the listed conflicts once you have checked them.")
@click.option("--offline", is_flag=True,
              help="Only list conflicts; do not ask Notion what a sync would do.")
def status_cmd(vault: Path, clear_conflicts: bool, offline: bool) -> None:
    """Show what a sync of VAULT would do, and the conflicts the last syncs resolved."""
    settings = _vault_settings(vault)
    if not offline:
        # Say what is missing before printing anything, not after a half-written answer.
        _require_database(settings)
    with StateStore.open(settings.state_dir, "notion") as state:
        conflicts = state.conflicts()
        overwrites = state.overwrites()
        last = state.last_sync_start
        entries = state.entries().values()
        if clear_conflicts:
            state.clear_conflicts()
    if last is not None:
        linked = sum(1 for e in entries if e.linked)
        click.echo(f"last complete sync: {last.isoformat(timespec='seconds')}; {linked} task(s) "
                   f"linked to rows, {len(entries) - linked} unlinked (their rows were trashed)")
    if conflicts:
        click.echo(f"{len(conflicts)} conflict(s) resolved by the policy "
                   f"(prefer = {settings.notion.prefer!r}):")
        for line in describe_conflicts(conflicts, "Notion"):
            click.echo(f"  ! {line}")
        if clear_conflicts:
            click.echo("(cleared)")
    else:
        click.echo("no conflicts")
    if overwrites:
        click.echo(f"{len(overwrites)} edit(s) made in Notion were put back from the notes "
                   "(text, dates, priority and tags flow from the vault to Notion):")
        for line in describe_overwrites(overwrites, "Notion"):
            click.echo(f"  ~ {line}")
        if clear_conflicts:
            click.echo("(cleared)")
    if offline:
        return
    with _notion(settings) as remote:
        report = run_sync(settings, remote, dry_run=True)
    _warn(report.notes, "note")
    if report.plan.empty:
        click.echo("in sync: a sync now would change nothing")
        return
    click.echo("a sync now would:")
    _print_plan(report.plan)


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
    click.echo(f"created Notion database {database_id}; recorded in {CONFIG_NAME}")
    click.echo("next: vaultmap sync")


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
        click.echo(f"  {change}")
    record_database(settings, database_id)
    click.echo(f"linked Notion database {database_id}; recorded in {CONFIG_NAME}")


def record_database(settings: Settings, database_id: str) -> None:
    """Write ``[notion] database_id`` into ``.vaultmap.toml``, keeping everything else
    (comments, order, formatting) as the user wrote it; the file is replaced atomically."""
    path = settings.config_path
    try:
        text = path.read_text(encoding="utf-8-sig") if path.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read ({error})") from None
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
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=".vaultmap.toml.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write ({error.strerror})") from None


COMMANDS: list[click.Command] = [sync_cmd, status_cmd, notion_group]
