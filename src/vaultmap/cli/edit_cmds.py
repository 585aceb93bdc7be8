"""``vaultmap done``, ``undo`` and ``set``: change task statuses in notes, byte-exactly.

Thin: resolve the targets, group them by note, make one :func:`vaultmap.edit.set_statuses`
call (one atomic write) per note, print what changed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from vaultmap.cli.output import echo
from vaultmap.config import Settings, load_settings
from vaultmap.edit import StatusChange, preview_statuses, set_statuses, status_problem
from vaultmap.edit.patch import Verdict
from vaultmap.edit.targets import Target, resolve_targets
from vaultmap.errors import NoteEncodingError, TargetNotFoundError, TaskMovedError
from vaultmap.model import StatusType
from vaultmap.sync.turns import sync_turn
from vaultmap.vault.paths import find_vault_root

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.argument("targets", nargs=-1, metavar="TARGET..."),
        click.option("--match", "matches", multiple=True, metavar="TEXT",
                     help="Target the task whose text contains TEXT (case-insensitive). "
                          "Repeatable."),
        click.option("--regex", is_flag=True,
                     help="Read each --match TEXT as a Python regular expression."),
        click.option("--all", "all_matches", is_flag=True,
                     help="When a --match or key names several tasks, change them all."),
        click.option("--with-children", is_flag=True,
                     help="Also change the tasks nested under each target."),
        click.option("--dry-run", is_flag=True,
                     help="Print the unified diff that would be written; change nothing."),
        click.option("--vault", "vault", type=click.Path(exists=True, file_okay=False,
                                                          path_type=Path),
                     default=None,
                     help="The vault folder.  [default: the vault holding the first PATH, "
                          "else the one holding the current folder: the nearest folder up "
                          "with a .vaultmap.toml or .obsidian/]"),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _split_lines(text: str) -> list[str]:
    parts = _LINE_BREAK.split(text)
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def _print_diff(settings: Settings, path: str, changes: Sequence[StatusChange]) -> None:
    preview = preview_statuses(settings, Path(path), changes)
    if preview.after == preview.before:
        return
    before = _split_lines(preview.before.decode(preview.encoding, "replace"))
    after = _split_lines(preview.after.decode(preview.encoding, "replace"))
    for line in difflib.unified_diff(before, after, f"a/{path}", f"b/{path}", lineterm=""):
        echo(line)


def _apply(settings: Settings, targets: Sequence[Target], new_status: Callable[[Target], str],
           *, dry_run: bool) -> None:
    by_note: dict[str, list[tuple[Target, str]]] = {}
    for target in targets:
        new = new_status(target)
        if target.task.status == new:
            echo(f"{target.path}:{target.task.line}  already [{new}]  "
                 f"{target.task.display_text}")
            continue
        by_note.setdefault(target.path, []).append((target, new))
    refused: list[str] = []
    verdicts: set[Verdict] = set()
    if dry_run:
        for path, planned in by_note.items():
            _print_diff(settings, path, [StatusChange(t.task.key, t.task.status, new,
                                                      line=t.task.line) for t, new in planned])
        return
    if by_note:
        # A sync of this vault (the daemon's, say) may be reading and writing notes right now:
        # wait for its turn to end rather than change a note under it, and say so.
        with sync_turn(settings, timeout=settings.edit.sync_wait,
                       on_wait=lambda: _say_waiting(settings)):
            _write(settings, by_note, refused, verdicts)
    if refused:
        for line in refused:
            echo(line, err=True)
        message = f"{len(refused)} task(s) were not changed; the reasons are above"
        if verdicts == {"encoding"}:
            raise NoteEncodingError(message)
        raise TaskMovedError(message)


def _say_waiting(settings: Settings) -> None:
    from vaultmap.daemon import running_pid

    pid = running_pid(settings.root)
    whose = f" (the daemon's, pid {pid})" if pid is not None else ""
    echo(f"vaultmap: waiting for a sync of this vault to finish{whose}; at most "
         f"{settings.edit.sync_wait:g} s", err=True)


def _write(settings: Settings, by_note: dict[str, list[tuple[Target, str]]],
           refused: list[str], verdicts: set[Verdict]) -> None:
    for path, planned in by_note.items():
        changes = [StatusChange(t.task.key, t.task.status, new, line=t.task.line)
                   for t, new in planned]
        results = set_statuses(settings, Path(path), changes)
        for (target, new), result in zip(planned, results, strict=True):
            task = target.task
            if result.applied:
                echo(f"{path}:{task.line}  [{task.status}] -> [{new}]  {task.display_text}")
            else:
                refused.append(f"{path}:{task.line}  not changed: {result.reason}")
                verdicts.add(result.verdict)


def _default_vault(targets: Sequence[str]) -> Path:
    """The vault a command works in when ``--vault`` is not given: the one holding the first
    ``PATH:LINE`` target whose PATH is absolute and names an existing file, else the one
    holding the current folder (:func:`vaultmap.vault.paths.find_vault_root`, the rule
    ``tasks`` and ``report`` use too).

    So ``vaultmap done ~/Notes/Plan.md:12`` works from anywhere, and a path as ``vaultmap
    tasks`` prints it (relative to the vault root) works from any folder inside the vault.
    """
    for spec in targets:
        path, colon, line = spec.rpartition(":")
        if colon and line.isdigit() and Path(path).is_absolute() and Path(path).is_file():
            return find_vault_root(Path(path))
    return find_vault_root(Path("."))


def _run(vault: Path | None, targets: tuple[str, ...], matches: tuple[str, ...], *,
         regex: bool, all_matches: bool, with_children: bool, dry_run: bool,
         new_status: Callable[[Settings, Target], str]) -> None:
    if not targets and not matches:
        raise click.UsageError("give at least one TARGET (PATH:LINE or a task key) or --match")
    settings = load_settings(vault if vault is not None else _default_vault(targets))
    found = resolve_targets(settings, targets, matches, regex=regex, all_matches=all_matches,
                            with_children=with_children)
    if not found:
        raise TargetNotFoundError("no task to change")
    _apply(settings, found, lambda target: new_status(settings, target), dry_run=dry_run)


@click.command("done")
@_target_options
def done_cmd(vault: Path | None, targets: tuple[str, ...], matches: tuple[str, ...], regex: bool,
             all_matches: bool, with_children: bool, dry_run: bool) -> None:
    """Mark tasks done ([x]).

    TARGET is PATH:LINE (the note as `vaultmap tasks` lists it, or a path from here) or a task
    key (the "key" of `vaultmap tasks --json`); --match TEXT finds tasks by their text. Only
    the status character changes (plus a ✅ date when [edit] done_date is on); each note is
    written once, atomically.

    \b
    Examples:
      vaultmap done Projects/Roadmap.md:12
      vaultmap done --match "linear algebra" --with-children
      vaultmap done --match week --all --dry-run
    """
    _run(vault, targets, matches, regex=regex, all_matches=all_matches,
         with_children=with_children, dry_run=dry_run,
         new_status=lambda s, _t: s.statuses.char_for(StatusType.DONE))


@click.command("undo", short_help="Mark tasks as todo again ([ ]).")
@_target_options
def undo_cmd(vault: Path | None, targets: tuple[str, ...], matches: tuple[str, ...], regex: bool,
             all_matches: bool, with_children: bool, dry_run: bool) -> None:
    """Mark tasks as todo again ([ ]); removes a ✅ done date when [edit] done_date is on."""
    _run(vault, targets, matches, regex=regex, all_matches=all_matches,
         with_children=with_children, dry_run=dry_run,
         new_status=lambda s, _t: s.statuses.char_for(StatusType.TODO))


def _status_char(value: str) -> str:
    named = {kind.value: kind for kind in StatusType if kind is not StatusType.OTHER}
    if value.lower() in named and len(value) > 1:
        return value.lower()  # resolved against the vault's status map later
    problem = status_problem(value)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="STATUS")
    return value


@click.command("set", short_help="Set tasks to any status: a character (/, -, >, ...) or a type.")
@click.argument("status", metavar="STATUS")
@_target_options
def set_cmd(status: str, vault: Path | None, targets: tuple[str, ...], matches: tuple[str, ...],
            regex: bool, all_matches: bool, with_children: bool, dry_run: bool) -> None:
    """Set tasks to any STATUS: one character (x, ' ', /, -, >, ...) or todo/doing/done/cancelled.

    \b
    Examples:
      vaultmap set / Projects/Roadmap.md:12
      vaultmap set cancelled --match "old idea"
    """
    char = _status_char(status)

    def pick(settings: Settings, _target: Target) -> str:
        if len(char) > 1:
            return settings.statuses.char_for(StatusType(char))
        return char

    _run(vault, targets, matches, regex=regex, all_matches=all_matches,
         with_children=with_children, dry_run=dry_run, new_status=pick)


COMMANDS: list[click.Command] = [done_cmd, undo_cmd, set_cmd]
