"""``vaultmap history``: progress over time, read from the vault's git history.

Thin: read the commits (:func:`vaultmap.sync.git.history.read_history`, cached per blob id in
``.vaultmap/``), roll them up per day or week (:func:`vaultmap.history.history_model`), print
a table with a bar per period and a burn-up sparkline, or the ``vaultmap.history/1`` JSON.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, cast

import click

from vaultmap.cli.output import echo
from vaultmap.history import By, history_model


def _parse_since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-22",
                                 param_hint="--since") from None


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """``▁▃▅█``: each value scaled between the smallest and the largest."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return _SPARKS[-1 if high else 0] * len(values)
    return "".join(_SPARKS[(v - low) * (len(_SPARKS) - 1) // (high - low)] for v in values)


def render_history_text(model: dict[str, Any]) -> str:
    """The table a person reads: per period its bar, percent, counts and tasks done."""
    periods = model["periods"]
    what = f"{model['vault']}/{model['note']}" if model["note"] else model["vault"]
    if not periods:
        return f"{what}: no committed tasks in this range\n"
    lines = [f"{what}: progress by {model['by']} (from git history)"]
    width = max(len(p["period"]) for p in periods)
    for p in periods:
        counted = p["total"] - p["cancelled"]
        cells = (p["done"] * 10 // counted) if counted else 0
        bar = "▓" * cells + "░" * (10 - cells)
        pct = "  no tasks" if p["percent"] is None else f"{p['percent']:5.1f}%"
        lines.append(f"  {p['period']:<{width}}  {bar} {pct}  {p['done']:>5} of {counted:<5} "
                     f"done  +{p['done_in_period']}")
    lines.append(f"  burn-up (done): {sparkline([p['done'] for p in periods])}")
    lines.append(f"  done per {model['by']}: "
                 f"{sparkline([p['done_in_period'] for p in periods])}")
    return "\n".join(lines) + "\n"


@click.command("history", short_help="Progress over time, from the vault's git history.")
@click.argument("vault", required=False, default=Path("."),
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--by", type=click.Choice(["day", "week"]), default="week", show_default=True,
              help="One row per day or per ISO week (Monday to Sunday).")
@click.option("--since", metavar="YYYY-MM-DD", help="Leave out periods that end before this.")
@click.option("--note", metavar="PATH", help="Only this note (vault-relative path).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: schema vaultmap.history/1.")
def history_cmd(vault: Path, by: str, since: str | None, note: str | None, fmt: str) -> None:
    """Show how VAULT's progress grew, period by period, from its git commits.

    Per period: the tasks, done, cancelled and percent after its last commit, and the tasks
    done during it. Each note version is read once and cached in .vaultmap/, so later runs
    read only the new commits. Uncommitted edits are not in the history.

    \b
    Examples:
      vaultmap history                    # by ISO week
      vaultmap history --by day --since 2026-11-01
      vaultmap history --note Roadmap/Plan.md --format json
    """
    from vaultmap.config import load_settings
    from vaultmap.sync.git.history import read_history
    from vaultmap.vault.paths import find_vault_root  # the one rule report and edits use

    since_day = _parse_since(since)
    root = find_vault_root(vault)
    settings = load_settings(root)
    for warning in settings.warnings:
        echo(f"vaultmap: warning: {warning}", err=True)
    relative = Path(note).as_posix().lstrip("/") if note else None
    history = read_history(settings, note=relative)
    model = history_model(history.points, vault=root.name or str(root), by=cast(By, by),
                          note=relative, since=since_day)
    if fmt == "json":
        # Readable characters as they are, unless a path holds an undecodable byte (a lone
        # surrogate), which only the ASCII escapes can carry.
        text = json.dumps(model, indent=2, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(model, indent=2)
        echo(text)
    else:
        echo(render_history_text(model), nl=False)


COMMANDS: list[click.Command] = [history_cmd]
