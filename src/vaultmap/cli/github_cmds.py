"""``vaultmap github publish|list|unlink``, and the GitHub half of ``vaultmap sync``.

Thin: find the vault, open the link table, build the client from the environment, call
:mod:`vaultmap.sync.github`, print. The token is read by the client and never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from vaultmap.cli.output import echo
from vaultmap.config import Settings
from vaultmap.sync.github.store import GitHubStore
from vaultmap.sync.runner import SyncReport

if TYPE_CHECKING:
    from vaultmap.sync.github.http import GitHubClient

_VAULT = click.option(
    "--vault", "vault", default=".", show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The vault (or a folder inside it).")


def _settings(vault: Path) -> Settings:
    from vaultmap.cli.sync_cmds import _vault_settings

    return _vault_settings(vault)


def _note_target(target: str) -> tuple[Settings, str]:
    """The vault that holds NOTE (found from the note itself), and NOTE[#HEADING] with the
    note as an absolute path."""
    note, hash_sign, heading = target.partition("#")
    path = Path(note).absolute()
    # The note need not exist (unlinking a deleted note); publishing one that does not is
    # refused when it is read.
    return _settings(path.parent), f"{path}{hash_sign}{heading}"


def _say_wait(message: str) -> None:
    echo(f"vaultmap: {message}", err=True)


def github_client(settings: Settings, store: GitHubStore) -> GitHubClient:
    """A client for the API the environment names, with the vault's persisted ETags."""
    # Imported here: the HTTP stack is only worth loading for the commands that talk to GitHub.
    from vaultmap.sync.github.runner import github_client as client_for

    return client_for(settings, store, on_wait=_say_wait)


def github_in_use(settings: Settings) -> bool:
    """Whether a plain ``vaultmap sync`` includes GitHub: ``[github] enabled`` or a publish."""
    from vaultmap.sync.github.runner import github_in_use as in_use

    return in_use(settings)


def sync_github(settings: Settings, *, dry_run: bool, full: bool, force: bool) -> SyncReport:
    """One sync of the vault with GitHub; rate-limit waits are said on stderr."""
    from vaultmap.sync.github.runner import sync_github as run

    return run(settings, dry_run=dry_run, full=full, force=force, on_wait=_say_wait)


@click.group("github")
def github_group() -> None:
    """Publish checklists as GitHub issues; tasks that name an issue follow it.

    \b
    The token comes from GITHUB_TOKEN or GH_TOKEN, or from `gh auth token` when the GitHub
    CLI is logged in. For GitHub Enterprise Server set GH_HOST (as for `gh`), or
    VAULTMAP_GITHUB_API_URL to the API's URL (it wins over GH_HOST).
    """


@github_group.command("publish", short_help="Publish a note's task list as an issue.")
@click.argument("target", metavar="NOTE[#HEADING]")
@click.option("--repo", required=True, metavar="OWNER/REPO", help="The repository.")
@click.option("--title", default=None, help="Issue title (default: the note or heading name).")
@click.option("--issue", "number", type=click.IntRange(min=1), default=None, metavar="N",
              help="Put the checklist into existing issue N instead of creating one.")
def publish_cmd(target: str, repo: str, title: str | None, number: int | None) -> None:
    """Publish the task list of NOTE (or of the section under HEADING) as a checklist issue.

    The tasks keep their nesting; GitHub shows them as boxes anyone with access can tick.
    From then on `vaultmap sync` keeps the boxes and the note in step both ways. Text people
    write in the issue outside the checklist block is never touched.

    \b
    Examples:
      vaultmap github publish Roadmap.md --repo ada/roadmap
      vaultmap github publish "Roadmap.md#Month 1" --repo ada/roadmap --title "Month 1"
      vaultmap github publish Roadmap.md --repo ada/roadmap --issue 12
    """
    from vaultmap.sync.github.publish import publish, sync_lock

    settings, target = _note_target(target)
    with sync_lock(settings), GitHubStore.open(settings.state_dir) as store, \
            github_client(settings, store) as client:
        done = publish(settings, client, store, target, repo=repo, title=title, issue=number)
    verb = "published" if done.created else "linked"
    echo(f"{verb} {done.link.target} ({done.tasks} task(s)) as {done.link.issue}: "
               f"{done.url}")


@github_group.command("list", short_help="Show the published notes and their issues.")
@_VAULT
def list_cmd(vault: Path) -> None:
    """List the notes and sections published as checklist issues."""
    settings = _settings(vault)
    with GitHubStore.open(settings.state_dir, read_only=True) as store:
        links = store.links()
    if not links:
        echo("nothing published (vaultmap github publish NOTE --repo OWNER/REPO)")
        return
    for link in links:
        if link.number:
            echo(f"{link.target} -> {link.issue} {link.title!r}")
        else:
            echo(f"{link.target} -> {link.repo} (unanswered publish: run publish again)")


@github_group.command("unlink", short_help="Stop syncing a published note with its issue.")
@click.argument("target", metavar="NOTE[#HEADING]")
def unlink_cmd(target: str) -> None:
    """Stop syncing NOTE (or its section) with its issue. The issue is left as it is."""
    from vaultmap.sync.github.publish import sync_lock, unlink

    settings, target = _note_target(target)
    with sync_lock(settings), GitHubStore.open(settings.state_dir) as store:
        link = unlink(settings, store, target)
    echo(f"unlinked {link.target} from {link.issue}; the issue was not changed")


COMMANDS: list[click.Command] = [github_group]
