"""``vaultmap doctor``: the vault's checklist, and ``--fix`` for mojibake. Thin: the checks
live in :mod:`vaultmap.doctor`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vaultmap.cli.output import echo
from vaultmap.config import Settings, load_settings
from vaultmap.errors import ConfigError

_OK, _FAIL = "✓", "✗"


def _marks() -> tuple[str, str]:
    """✓ / ✗, or their ASCII stand-ins on an output that cannot encode them."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        (_OK + _FAIL).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAIL"
    return _OK, _FAIL


@click.command("doctor", short_help="Check a vault and say how to fix what is wrong.")
@click.argument("vault", required=False, default=".",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: the checklist for scripts.")
@click.option("--fix", is_flag=True, help="Repair double-encoded text (mojibake) in notes: only "
              "the damaged characters change, the original goes to .vaultmap/backup/ first.")
@click.option("--dry-run", is_flag=True, help="With --fix: print the diff, write nothing.")
def doctor_cmd(vault: Path, output_format: str, fix: bool, dry_run: bool) -> None:
    """Check VAULT (default: the current folder's vault) and print a checklist: the
    configuration, the notes (unreadable, over the size limit, not UTF-8, broken front matter,
    mojibake), the index and sync state, Notion (when configured), git (when the vault is a
    repository) and the daemon. Each line is ✓ or ✗ with the command that fixes it.

    Exit code 0 only when every check passes, else 1.
    """
    from vaultmap.cli.report_cmds import find_vault_root
    from vaultmap.doctor import fix_mojibake, run_checks

    if dry_run and not fix:
        raise click.UsageError("--dry-run only goes with --fix")
    root = find_vault_root(vault)
    config_error: ConfigError | None = None
    try:
        settings = load_settings(root)
    except ConfigError as error:
        config_error = error
        settings = Settings(root=root)  # check the rest with the defaults

    fixed = fix_mojibake(settings, dry_run=dry_run) if fix else []
    checks = run_checks(settings, config_error=config_error)
    passed = all(check.ok for check in checks)
    if output_format == "json":
        data = {
            "schema": "vaultmap.doctor/1",
            "vault": str(settings.root),
            "ok": passed,
            "checks": [check.as_dict() for check in checks],
            "fixed": [{"path": f.path, "spans": f.spans, "diff": f.diff, "backup": f.backup,
                       "error": f.error} for f in fixed] if fix else None,
            "dry_run": dry_run if fix else None,
        }
        from vaultmap.report.json_report import dumps  # escapes what a terminal would act on

        click.echo(dumps(data), nl=False)
        sys.exit(0 if passed else 1)

    ok_mark, fail_mark = _marks()
    if fix:
        for result in fixed:
            if result.error:
                echo(f"could not repair {result.path}: {result.error}")
            elif dry_run:
                echo(result.diff, nl=False)
            else:
                echo(f"repaired {result.path}: {result.spans} span"
                           f"{'' if result.spans == 1 else 's'} (original: {result.backup})")
        if not fixed:
            echo("nothing to repair")
        elif dry_run:
            echo(f"dry run: {len(fixed)} note{'' if len(fixed) == 1 else 's'} would "
                       "change, nothing written")
        echo()
    echo(f"vaultmap doctor: {settings.root}")
    area = ""
    for check in checks:
        if check.area != area:
            area = check.area
            echo(area)
        mark = ok_mark if check.ok else fail_mark
        line = f"  {mark} {check.name}"
        if check.detail:
            line += f": {check.detail}"
        echo(" ".join(line.splitlines()))
        for item in check.items:
            echo("      " + " ".join(item.splitlines()))
        if not check.ok and check.fix:
            echo(f"      fix: {check.fix}")
    failed = sum(not check.ok for check in checks)
    echo(f"{len(checks)} checks, {failed} failed" if failed
               else f"{len(checks)} checks, all passed")
    sys.exit(0 if passed else 1)


COMMANDS: list[click.Command] = [doctor_cmd]
