"""Commands of one area; attached to the ``vaultmap`` group by ``vaultmap.cli``."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
