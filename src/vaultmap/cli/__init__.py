"""The ``vaultmap`` command. Thin: parse arguments, call the layers, print.

Each area keeps its commands in its own module (``report_cmds``, ``edit_cmds``, ``sync_cmds``);
they are attached here lazily: a command's module (and with it rich, the parser, the sync
engine, the Notion client ...) is imported only when that command runs, so ``vaultmap --help``
and ``vaultmap done`` do not pay for what they do not use. A
:class:`~vaultmap.errors.VaultmapError` becomes one line on stderr and its exit code, never a
traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from vaultmap import __version__
from vaultmap.cli.output import OutputError, echo, output_failed, tolerant_streams
from vaultmap.errors import VaultmapError

# Set to see the traceback of an unexpected error instead of its one line.
DEBUG_ENV = "VAULTMAP_DEBUG"

# name -> (module in vaultmap.cli, the one-line summary `vaultmap --help` shows). Each module
# exports COMMANDS; tests/test_user_paths.py checks that this table and those lists agree.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "report": ("report_cmds", "Show a vault's progress, its breakdown and what is next."),
    "tasks": ("report_cmds", "List tasks under their notes and headings (or as JSON)."),
    "init": ("report_cmds", "Make a new vault from the example template, or add a "
                            ".vaultmap.toml."),
    "done": ("edit_cmds", "Mark tasks done ([x])."),
    "undo": ("edit_cmds", "Mark tasks as todo again ([ ])."),
    "set": ("edit_cmds", "Set tasks to any status: a character (/, -, >, ...) or a type."),
    "sync": ("sync_cmds", "Sync the vault with Notion and its git upstream."),
    "status": ("sync_cmds", "Show what a sync would do, and the conflicts of the last syncs."),
    "notion": ("sync_cmds", "Connect the vault to a Notion database."),
    "history": ("history_cmds", "Progress over time, from the vault's git history."),
    "git": ("git_cmds", "Set git up to merge notes task by task (install | uninstall)."),
    "merge-driver": ("git_cmds", "The merge driver git runs (see `vaultmap git install`)."),
    "doctor": ("doctor_cmds", "Check a vault and say how to fix what is wrong."),
    "github": ("github_cmds", "Publish checklists as GitHub issues; tasks that name an issue "
                              "follow it."),
    "daemon": ("daemon_cmds", "Keep the vault in sync with Notion and git while you work "
                              "(status | stop)."),
}


def load_commands(module_name: str) -> list[click.Command]:
    """The commands of ``vaultmap.cli.<module_name>`` (imports it)."""
    module = importlib.import_module(f"vaultmap.cli.{module_name}")
    commands: list[click.Command] = module.COMMANDS
    return commands


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            for command in load_commands(LAZY_COMMANDS[cmd_name][0]):
                if command.name is not None and command.name not in self.commands:
                    self.add_command(command)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The summaries come from the table, so listing the commands imports none of them.
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                rows.append((name, loaded.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                rows.append((name, LAZY_COMMANDS[name][1]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        tolerant_streams()
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk must fail here, in one line, not at exit
        except VaultmapError as error:
            # Messages quote note text and paths: shown printable, one line each.
            echo(f"vaultmap: {error}", err=True)
            sys.exit(error.exit_code)
        except OutputError as error:
            sys.exit(output_failed(error))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise  # usage errors, --help, Ctrl-C: click prints them as ever
        except Exception as error:
            # A bug of ours, not bad input: still one line, never a traceback. The message
            # names only the exception's type (its text could quote a token or a header);
            # VAULTMAP_DEBUG=1 shows the traceback for a bug report.
            if os.environ.get(DEBUG_ENV):
                raise
            echo(f"vaultmap: unexpected internal error ({type(error).__name__}); please report "
                 f"it with the output of the same command run with {DEBUG_ENV}=1", err=True)
            sys.exit(1)
        return result


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="vaultmap")
def main() -> None:
    """Progress, gaps and two-way sync for the Markdown checklists in your vault.

    \b
    Start here:
      vaultmap init ~/Tasks && cd ~/Tasks   a new vault with example notes
      vaultmap report                       progress, and what is next
      vaultmap tasks                        every task with its PATH:LINE
      vaultmap done PATH:LINE               tick one off (undo puts it back)

    Run `vaultmap COMMAND --help` for the options of each.
    """
