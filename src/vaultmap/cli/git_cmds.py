"""``vaultmap git install|uninstall`` and ``vaultmap merge-driver``: git merges notes task by
task. Thin: the work is in :mod:`vaultmap.sync.git.install` and :mod:`vaultmap.sync.git.driver`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vaultmap.cli.output import echo
from vaultmap.config import load_settings

_VAULT = click.argument(
    "vault", required=False, default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path))


def _vault_root(vault: Path) -> Path:
    from vaultmap.cli.report_cmds import find_vault_root

    return find_vault_root(vault)


@click.group("git")
def git_group() -> None:
    """Let plain git (pull, merge, rebase, obsidian-git) merge notes task by task."""


@git_group.command("install")
@click.option("--shared", is_flag=True,
              help="Write the attributes to the vault's .gitattributes (commit it) instead of "
                   "this clone's .git/info/attributes.")
@_VAULT
def install_cmd(shared: bool, vault: Path) -> None:
    """Register vaultmap's merge driver for the notes of VAULT (default: here).

    From then on `git pull`, `git pull --rebase` and `git merge` merge a note's tasks one by
    one: ticks on adjacent lines, a tick against a reword or a move, tasks added at the same
    place on both sides all merge cleanly. Clones without the driver use git's own merge.
    """
    from vaultmap.sync.git.install import install

    root = _vault_root(vault)
    settings = load_settings(root)
    report = install(root, settings.vault.extensions, shared=shared)
    for path in report.attributes:
        echo(f"merge=vaultmap for {' '.join(report.patterns)} in {path}")
    echo(f"merge driver registered in {report.repository / '.git' / 'config'}"
               if (report.repository / ".git").is_dir()
               else f"merge driver registered in the config of {report.repository}")
    if shared:
        echo("commit .gitattributes to share it (clones without the driver are safe: "
                   "git falls back to its own merge)")


@git_group.command("uninstall")
@_VAULT
def uninstall_cmd(vault: Path) -> None:
    """Remove what `vaultmap git install` added (nothing else)."""
    from vaultmap.sync.git.install import uninstall

    report = uninstall(_vault_root(vault))
    for path in report.attributes:
        echo(f"removed vaultmap's lines from {path}")
    if report.config_changed:
        echo("removed the merge.vaultmap driver from the repository's config")
    if not report.attributes and not report.config_changed:
        echo("the merge driver was not installed; nothing to remove")


@click.command("merge-driver",
               context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def merge_driver_cmd(args: tuple[str, ...]) -> None:
    """The merge driver git runs: BASE CURRENT OTHER MARKER_SIZE PATH (%O %A %B %L %P)."""
    from vaultmap.sync.git.driver import main

    sys.exit(main(args))


COMMANDS: list[click.Command] = [git_group, merge_driver_cmd]
