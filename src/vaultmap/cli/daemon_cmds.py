"""``vaultmap daemon [VAULT]``, ``daemon status``, ``daemon stop``: thin wrappers around
:mod:`vaultmap.daemon`."""

from __future__ import annotations

from pathlib import Path

import click

from vaultmap.cli.output import echo

_VAULT = click.argument(
    "vault", required=False, default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path))


def _root(vault: Path) -> Path:
    from vaultmap.cli.report_cmds import find_vault_root

    return find_vault_root(vault).resolve()


class _RunByDefault(click.Group):
    """``vaultmap daemon [VAULT]`` runs the daemon; ``daemon status|stop [VAULT]`` are
    subcommands. A first word that is not a subcommand is the vault."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("daemon", cls=_RunByDefault)
def daemon_group() -> None:
    """Keep VAULT (default: here) in sync with Notion and git while you work.

    `vaultmap daemon [VAULT]` runs in the foreground: a saved tick reaches Notion after
    [daemon] quiet_period seconds, Notion is read every notion_poll seconds, and git commits,
    pulls and pushes on its schedule. It logs to .vaultmap/daemon.log. SIGTERM or Ctrl-C stops
    it, SIGHUP reloads .vaultmap.toml.

    \b
    Examples:
      vaultmap daemon ~/Vault                           # foreground
      vaultmap daemon --print-service systemd ~/Vault   # a unit to install
      vaultmap daemon status ~/Vault
      vaultmap daemon stop ~/Vault
    """


@daemon_group.command("run", hidden=True)
@_VAULT
@click.option("--print-service", "service", type=click.Choice(["systemd", "launchd"]),
              help="Print a systemd user unit or a launchd agent that runs the daemon for "
                   "VAULT, and exit.")
@click.option("--poll-files", is_flag=True,
              help="Poll the vault for changes instead of file-system events (network "
                   "drives).")
def run_cmd(vault: Path, service: str | None, poll_files: bool) -> None:
    """Run the daemon for VAULT in the foreground."""
    from vaultmap.daemon import launchd_plist, run_daemon, systemd_unit

    root = _root(vault)
    if service == "systemd":
        echo(systemd_unit(root), nl=False)
        return
    if service == "launchd":
        echo(launchd_plist(root), nl=False)
        return
    run_daemon(root, force_polling=poll_files)


@daemon_group.command("status")
@_VAULT
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="json: the same facts as one object for scripts (docs/daemon.md).")
def status_cmd(vault: Path, output_format: str) -> None:
    """Say whether a daemon runs for VAULT: pid, since when, last sync and last error per
    remote, paused remotes, queued changes, dashboards. Exit 0 whether it runs or not."""
    from vaultmap.daemon import status_data, status_lines

    root = _root(vault)
    if output_format == "json":
        from vaultmap.report.json_report import dumps  # escapes what a terminal would act on

        click.echo(dumps(status_data(root)), nl=False)
        return
    for line in status_lines(root):
        echo(line)


@daemon_group.command("stop")
@_VAULT
def stop_cmd(vault: Path) -> None:
    """Stop VAULT's daemon cleanly (SIGTERM) and wait until it has exited."""
    from vaultmap.daemon import stop_daemon

    echo(stop_daemon(_root(vault)))


COMMANDS: list[click.Command] = [daemon_group]
