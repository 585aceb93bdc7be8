"""The ``vaultmap`` command. Thin: parse arguments, call the layers, print.

Each area keeps its commands in its own module (``report_cmds``, ``edit_cmds``, ``sync_cmds``);
they are attached here. A :class:`~vaultmap.errors.VaultmapError` becomes one line on stderr and
its exit code, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from vaultmap import __version__
from vaultmap.cli import edit_cmds, report_cmds, sync_cmds
from vaultmap.errors import VaultmapError


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VaultmapError as error:
            click.echo(f"vaultmap: {error}", err=True)
            sys.exit(error.exit_code)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="vaultmap")
def main() -> None:
    """Progress, gaps and two-way sync for the Markdown checklists in your vault."""


for _module in (report_cmds, edit_cmds, sync_cmds):
    for _command in _module.COMMANDS:
        main.add_command(_command)
