"""``vaultmap report``, ``tasks`` and ``init``: read a vault and say where it stands.

Thin: find the vault, scan it (:func:`vaultmap.vault.scan_vault`, which keeps each note's
rollup in the index), merge the rollups (:func:`vaultmap.progress.merge_rollups`), hand the
result to a renderer. Scan warnings go to stderr, one line each; the report goes to stdout or
``--output``.
"""

from __future__ import annotations

import fnmatch
import functools
import gc
import io
import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
import msgspec

from vaultmap.cli import report_memo
from vaultmap.cli.output import echo
from vaultmap.config import (
    CONFIG_NAME,
    STATE_DIR,
    Settings,
    default_config_text,
    load_settings,
)
from vaultmap.errors import InitError, VaultmapError, VaultReadError
from vaultmap.fs import Unreadable, atomic_write, open_regular, write_all
from vaultmap.model import Flavor, Note, StatusType, Task
from vaultmap.progress import Progress, merge_rollups, with_history
from vaultmap.report import BY_CHOICES, By, ReportOptions
from vaultmap.report.common import bad_date_warnings, plain, printable, scan_warning_lines
from vaultmap.report.json_report import ReportSummariser, ReportSummary
from vaultmap.vault import paths
from vaultmap.vault.memo import Memo, load_memo, save_memo
from vaultmap.vault.walk import VaultWalk, walk_vault

if TYPE_CHECKING:
    from vaultmap.report.terminal import ColorMode
    from vaultmap.sync.git.history import History
    from vaultmap.vault.scan import ScanResult


# --------------------------------------------------------------------------- finding the vault


def find_vault_root(path: Path) -> Path:
    """The vault that holds ``path``: the nearest folder at or above it with a
    ``.vaultmap.toml`` or an ``.obsidian/``; without one, the current folder when ``path`` is
    inside it, else ``path``'s own folder (:func:`vaultmap.vault.paths.find_vault_root`)."""
    return paths.find_vault_root(path)


def scan_vault(settings: Settings, **options: Any) -> ScanResult:
    """:func:`vaultmap.vault.scan_vault`, imported when first called: a report served from
    its kept answer loads neither the index, nor the parser, nor the worker pool."""
    from vaultmap.vault.scan import scan_vault as scan

    return scan(settings, **options)


def _settings_for(root: Path, flavor: str | None) -> Settings:
    settings = load_settings(root)
    if flavor:
        settings = msgspec.structs.replace(
            settings, vault=msgspec.structs.replace(settings.vault, flavor=Flavor(flavor)))
    return settings


def _warn(lines: Iterable[str]) -> None:
    for line in lines:
        # One line per warning, whatever the message holds.
        echo("vaultmap: warning: " + " ".join(line.splitlines()), err=True)


def _scan(named_paths: Sequence[Path], flavor: str | None, use_index: bool,
          verbose: bool = False) -> list[tuple[Settings, list[Note]]]:
    """Scan each path inside its own vault; paths in one vault share one scan."""
    groups: dict[Path, list[Path]] = {}
    for path in named_paths:
        groups.setdefault(find_vault_root(path), []).append(path.absolute())
    results: list[tuple[Settings, list[Note]]] = []
    for root, members in groups.items():
        settings = _settings_for(root, flavor)
        _warn(settings.warnings)
        whole = any(m == root for m in members)
        # A note named on its own outside any vault gets no .vaultmap/ index planted beside it.
        marked = paths.has_marker(root)
        indexed = use_index and (marked or any(m.is_dir() for m in members))
        result = scan_vault(settings, paths=None if whole else members, use_index=indexed)
        _refuse_unreadable_named(result, settings, members)
        _freeze_scanned()
        _warn(scan_warning_lines(result.warnings, result.repeated, verbose=verbose))
        if not result.notes:
            _warn([_no_notes_warning(settings, members[0] if len(members) == 1 else root)])
        results.append((settings, list(result.notes)))
    return results


def _refuse_unreadable_named(result: ScanResult, settings: Settings,
                             named: Sequence[Path]) -> None:
    """A note the user named that cannot be read is an error (exit 16), not a warning: they
    asked for that note, and "No tasks." would be a wrong answer."""
    unreadable = dict(result.unreadable)
    for path in named:
        if path.is_dir():
            continue
        rel = paths.note_path(settings, path)
        if rel in unreadable:
            raise VaultReadError(f"{rel}: {unreadable[rel].removesuffix(', skipped')}")


def _freeze_scanned() -> None:
    """Move everything alive so far out of the cyclic GC's sight.

    A one-shot command keeps the scanned notes until it exits, yet every later collection would
    walk their ~2 objects per task again. Not for the daemon, which must reclaim old notes.
    """
    gc.freeze()


def _no_notes_warning(settings: Settings, where: Path) -> str:
    """Said when a scan found no note at all: most likely a mistyped folder."""
    kinds = ", ".join(settings.vault.extensions) or "no extensions"
    return f"{where}: no notes here (vaultmap reads {kinds} files; see [vault] in {CONFIG_NAME})"


#: The first line of a Markdown report written with ``-o``: how a later ``-o`` knows the file
#: is a report it may replace (an HTML comment: invisible when the note is rendered).
MARKDOWN_REPORT_MARKER = "<!-- vaultmap report: replaced by `vaultmap report -o` -->"
_REPORT_HEAD_BYTES = 4096


@functools.cache
def _report_starts() -> tuple[re.Pattern[bytes], ...]:
    """How each format's report begins: terminal text, JSON (compact or indented), Markdown;
    an HTML report names vaultmap as its generator in the page's head. Compiled when ``-o``
    first needs them, not by every report."""
    return (
        re.compile(rb"\A(?:\xef\xbb\xbf)?(?:vaultmap \xc2\xb7 |\{\s*\"schema\"\s*:\s*"
                   rb"\"vaultmap\.report/|" + re.escape(MARKDOWN_REPORT_MARKER.encode()) + rb")"),
        re.compile(rb'\A(?:\xef\xbb\xbf)?<!DOCTYPE html>.{0,2000}?<meta name="generator" '
                   rb'content="vaultmap ', re.DOTALL),
    )


def check_replaceable(output: Path) -> None:
    """Refuse (one line, exit 1, nothing written) to replace a file that is not an earlier
    vaultmap report: ``-o`` pointed at a note by mistake must not destroy it. A missing or
    empty file is fine, and so is anything that is not a regular file (``/dev/stdout``)."""
    try:
        fd, st = open_regular(output)
    except Unreadable as unreadable:
        if unreadable.kind in ("missing", "special"):
            return
        raise VaultmapError(f"{output}: {unreadable.reason}; nothing was written") from None
    try:
        head = os.read(fd, _REPORT_HEAD_BYTES) if st.st_size else b""
    except OSError as error:
        raise VaultmapError(f"{output}: cannot read ({error.strerror}); nothing was "
                            "written") from None
    finally:
        os.close(fd)
    if head and not any(start.match(head) for start in _report_starts()):
        raise VaultmapError(f"{output}: exists and is not an earlier vaultmap report; nothing "
                            "was written (pass --force to replace it)")


def _write_output(text: str | bytes, output: Path | None) -> None:
    """Print ``text`` (or UTF-8 bytes: the JSON report) or write it to ``output``."""
    if output is None:
        click.echo(text, nl=False)  # rendered text: every note text in it is printable
        return
    data = text if isinstance(text, bytes) else text.encode("utf-8", errors="surrogateescape")
    try:
        if os.path.exists(output) and not os.path.isfile(output):
            # A device or a pipe (/dev/stdout): written into, like a shell redirection.
            fd = os.open(output, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                write_all(fd, data)
            finally:
                os.close(fd)
        else:
            # Atomic: a reader (or a crash) never sees half a report; a link is written at
            # its target.
            atomic_write(os.path.realpath(output), data, new_mode=0o644)
    except OSError as error:
        raise VaultmapError(f"{output}: cannot write ({error.strerror})") from None


def _pretty(output: Path | None) -> bool:
    """Indented JSON for a person at a terminal; compact (fast, one line) for pipes and files."""
    return output is None and sys.stdout.isatty()


def _with_history(settings: Settings, progress: Progress,
                  today: date) -> tuple[Progress, History | None]:
    """Add the Stalled and Focus answers when the vault has git history; else unchanged. The
    history itself comes along for the HTML page's burn-up chart."""
    from vaultmap.history import last_progress
    from vaultmap.sync.git.history import read_history

    try:
        history = read_history(settings)
    except VaultmapError:
        return progress, None  # not a git work tree, no commit yet: a report without history
    return with_history(progress, last_progress(history.points), today=today,
                        stalled_days=settings.report.stalled_days), history


def _parse_today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-22",
                                 param_hint="--today") from None


# --------------------------------------------------------------------------- report

_VERBOSE_HELP = ("List every warning about the notes: also past the first few, and those about "
                 "unchanged notes given on an earlier run.")


@click.command("report", short_help="Show a vault's progress, its breakdown and what is next.")
@click.argument("vault", required=False, type=click.Path(path_type=Path), default=Path("."))
@click.option("--by", type=click.Choice(BY_CHOICES), default="note", show_default=True,
              help="Break progress down per note (with its sections to --depth), section, "
                   "folder (the tree to --depth) or tag.")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="How many levels of sections (or folders) to show.  [default: the config's "
                   "[report] depth, 2]")
@click.option("--top-level", "top_level", is_flag=True, default=None,
              help="Count only top-level tasks, not nested ones.")
@click.option("--format", "fmt",
              type=click.Choice(["terminal", "json", "markdown", "html"]),
              default="terminal", show_default=True,
              help="terminal: bars and colour; json: schema vaultmap.report/1; markdown: a "
                   "block to paste into a note; html: one self-contained page with charts.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of printing it. An existing FILE is "
                   "replaced only if it is an earlier vaultmap report (or with --force).")
@click.option("--force", is_flag=True,
              help="With --output: replace FILE even if it is not an earlier vaultmap report.")
@click.option("--open", "open_page", is_flag=True,
              help="With --format html -o FILE: also open FILE in the default browser.")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True,
              help="At most this many items per gap list (JSON always has all).")
@click.option("--rows", type=click.IntRange(min=0), default=200, show_default=True,
              help="At most this many breakdown rows in the terminal / Markdown (0: all).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="auto: colour on a terminal unless NO_COLOR is set.")
@click.option("--today", metavar="YYYY-MM-DD", help="Count overdue tasks as of this date.")
@click.option("--flavor", type=click.Choice([f.value for f in Flavor]),
              help="Which tasks count: gfm or obsidian.  [default: the config's]")
@click.option("--no-index", is_flag=True, help="Parse every note; neither read nor write the "
                                                "index in .vaultmap/.")
@click.option("--no-history", is_flag=True,
              help="Skip the git history (the Stalled list and the Focus line).")
@click.option("--update-dashboards", "update_dashboards", is_flag=True,
              help="Instead of printing: write the Markdown report between the "
                   "<!-- vaultmap:report --> and <!-- /vaultmap:report --> lines of every "
                   "note that has them (what the daemon does after each change).")
@click.option("-v", "--verbose", is_flag=True, help=_VERBOSE_HELP)
def report_cmd(vault: Path, by: str, depth: int | None, top_level: bool | None, fmt: str,
               output: Path | None, force: bool, limit: int, rows: int, color: str,
               today: str | None, flavor: str | None, no_index: bool, no_history: bool,
               open_page: bool = False, update_dashboards: bool = False,
               verbose: bool = False) -> None:
    """Print the progress of the vault VAULT (default: the current folder).

    Overall progress, a breakdown per note, section, folder or tag, and the gaps: the next task
    in each section, overdue tasks, sections with no progress yet and parents left open whose
    subtasks are all done. Percent = done / (all - cancelled). If VAULT is a folder or a note
    inside a vault, only that folder or note is counted, with the vault's settings.
    """
    day = _parse_today(today)
    if update_dashboards:
        if fmt != "terminal" or output is not None or open_page:
            raise click.UsageError("--update-dashboards writes into the notes; it takes no "
                                   "--format, --output or --open")
        _update_dashboards(vault, day)
        return
    if open_page and (fmt != "html" or output is None):
        raise click.UsageError("--open needs --format html and -o FILE")
    if output is not None and not force:
        check_replaceable(output)
    root = find_vault_root(vault)
    settings = _settings_for(root, flavor)
    _warn(settings.warnings)
    inside = vault.absolute() if vault.absolute() != root else None
    top = settings.report.top_level_only if top_level is None else top_level
    walk = walk_vault(settings, paths=[inside] if inside else None)
    # The last answer is kept (.vaultmap/memo.report.*) and printed again while nothing it
    # came from changed: a warm report reads neither the index nor a renderer.
    key = None
    history_state: object = "off"
    if not no_index and fmt in report_memo.MEMO_KINDS and sys.platform != "win32":
        request = (fmt, str(output) if output else None, by, depth, top, limit, rows, color,
                   day.isoformat(), verbose, str(vault.absolute()), str(root))
        if not no_history:
            history_state = report_memo.history_state(settings)
        key = report_memo.report_key(settings, walk, request, history_state)
    if key is not None:
        kept = load_memo(settings, report_memo.memo_name(fmt), key)
        if kept is not None:
            _replay(kept, output)
            return
    answer = _report(settings, walk, inside, vault, day, by=by, depth=depth, top=top, fmt=fmt,
                     output=output, limit=limit, rows=rows, color=color, no_index=no_index,
                     no_history=no_history, open_page=open_page, verbose=verbose,
                     capture=key is not None, history_absent=isinstance(history_state, str))
    if answer is not None and key is not None:
        save_memo(settings, report_memo.memo_name(fmt), key, answer)


def _report(settings: Settings, walk: VaultWalk, inside: Path | None, vault: Path, day: date,
            *, by: str, depth: int | None, top: bool, fmt: str, output: Path | None,
            limit: int, rows: int, color: str, no_index: bool, no_history: bool,
            open_page: bool, verbose: bool, capture: bool,
            history_absent: bool = False) -> Memo | None:
    """Work the report out and print it; with ``capture``, also hand back what it printed
    (as a :class:`Memo` to keep), or None when it must not be kept. ``history_absent``: the
    vault has no history to read (a report without it is the answer)."""
    root = settings.root
    # The warnings a run with nothing changed would print (kept with the answer): this
    # run's note warnings are "given on an earlier run" then.
    said: list[str] = []

    def warn(lines: Iterable[str], later: Iterable[str] | None = None) -> None:
        lines = list(lines)
        said.extend(lines if later is None else later)
        _warn(lines)

    # Each note's rollup is kept in the index with it: a warm report merges them, without
    # decoding a single note.
    result = scan_vault(settings, use_index=not no_index, summarise=ReportSummariser(top),
                        notes=False, walk=walk)
    if inside is not None:
        _refuse_unreadable_named(result, settings, [inside])
    _freeze_scanned()
    warn(scan_warning_lines(result.warnings, result.repeated, verbose=verbose),
         scan_warning_lines(result.warnings, result.note_warnings, verbose=verbose))
    if not result.paths:
        warn([_no_notes_warning(settings, vault)])
    summaries = [summary for summary in result.summaries if isinstance(summary, ReportSummary)]
    rollups = [summary.rollup for summary in summaries]
    bad_dates = bad_date_warnings((rollup.note.path, line, due) for rollup in rollups
                                  for line, due in rollup.odd_dues)
    warn(bad_dates)

    progress = merge_rollups(rollups, today=day, top_level_only=top)
    history = None
    keep = capture and result.settled
    if not no_history:
        progress, history = _with_history(settings, progress, day)
        # A history that could not be read (a git hiccup) is not an answer to keep.
        keep = keep and (history is not None or history_absent)
    name = root.name or str(root)
    if inside is not None:
        name = f"{name}/{paths.note_path(settings, inside)}"
    options = ReportOptions(by=cast(By, by),
                            depth=settings.report.depth if depth is None else depth,
                            limit=limit, max_rows=rows, title=name, root=str(root),
                            warnings=(*settings.warnings, *result.warnings, *bad_dates))
    # Each format imports its renderer only here: the terminal report loads neither the JSON
    # encoder nor the Markdown renderer, the JSON one no rich.
    kind: str
    payload: bytes
    if fmt == "json":
        from vaultmap.report.json_report import render_json_bytes

        # Each note's share of the JSON, kept in the index with its rollup, is spliced in.
        parts = [summary.json_part() for summary in summaries]
        complete = [part for part in parts if part is not None]
        payload = render_json_bytes(progress, options, pretty=_pretty(output),
                                    parts=complete if len(complete) == len(parts) else None)
        kind = "bytes"
        _write_output(payload, output)
    elif fmt == "markdown":
        from vaultmap.report.markdown import render_markdown

        marker = MARKDOWN_REPORT_MARKER + "\n" if output is not None else ""
        text = marker + render_markdown(progress, options)
        kind, payload = "text", text.encode("utf-8", "surrogateescape")
        _write_output(text, output)
    elif fmt == "html":
        # The charts over time count the whole vault: a folder's report goes without them.
        _write_html(progress, options, history if inside is None else None, output, open_page)
        return None
    elif output is not None:
        from vaultmap.report.terminal import make_console, render_terminal  # rich: only here

        buffer = io.StringIO()
        render_terminal(progress, options, make_console(buffer, color="never", width=100))
        text = buffer.getvalue()
        kind, payload = "text", text.encode("utf-8", "surrogateescape")
        _write_output(text, output)
    else:
        from vaultmap.report.terminal import make_console, render_terminal

        console = make_console(color=cast("ColorMode", color))
        if not capture:
            render_terminal(progress, options, console)
            return None
        # Drawn whole, then written as rich writes it, so the very text can be kept.
        with console.capture() as captured:
            render_terminal(progress, options, console)
        text = captured.get()
        kind, payload = "console", text.encode("utf-8", "surrogateescape")
        report_memo.write_console_text(text)
    return Memo(kind, tuple(said), payload) if keep else None


def _replay(kept: Memo, output: Path | None) -> None:
    """Print a kept report as :func:`_report` printed it."""
    _warn(kept.lines)
    if kept.kind == "bytes":
        _write_output(kept.payload, output)
    elif kept.kind == "console":
        report_memo.write_console_text(kept.payload.decode("utf-8", "surrogateescape"))
    else:
        _write_output(kept.payload.decode("utf-8", "surrogateescape"), output)


def _update_dashboards(vault: Path, day: date) -> None:
    """``report --update-dashboards``: one line per note written, problems on stderr."""
    from vaultmap.dashboard import update_dashboards
    from vaultmap.sync.turns import sync_turn

    settings = load_settings(find_vault_root(vault))
    _warn(settings.warnings)
    # Like `done`: take turns with a running sync (the daemon's) rather than write under it.
    with sync_turn(settings, timeout=settings.edit.sync_wait,
                   on_wait=lambda: echo("vaultmap: waiting for a sync of this vault to "
                                        f"finish; at most {settings.edit.sync_wait:g} s",
                                        err=True)):
        result = update_dashboards(settings, today=day)
    for rel in result.written:
        echo(f"{rel}: report updated")
    _warn(result.problems)
    echo(result.summary())
    if result.problems:
        raise VaultmapError(f"{len(result.problems)} report region(s) could not be updated; "
                            "the reasons are above")


def _open_in_browser(page: Path) -> bool:
    import webbrowser  # only for --open: it costs start-up time (shutil, subprocess)

    return webbrowser.open(page.absolute().as_uri())


def _write_html(progress: Progress, options: ReportOptions, history: History | None,
                output: Path | None, open_page: bool) -> None:
    """The HTML page from the JSON report's data (and the git history when there is one)."""
    from vaultmap.history import history_model
    from vaultmap.report.html import render_html  # Jinja2 loads only for this format

    by_week = (history_model(history.points, vault=options.title, by="week")
               if history is not None and history.points else None)
    from vaultmap.report.json_report import report_dict

    page = render_html(report_dict(progress, options), history=by_week, limit=options.limit)
    _write_output(page, output)
    if open_page and output is not None and not _open_in_browser(output):
        _warn([f"{output}: could not open a browser; open the file yourself"])


# --------------------------------------------------------------------------- tasks


def _status_matcher(values: Sequence[str]) -> set[str]:
    """Check ``--status`` values: a type name, ``open``, ``closed`` or one status character."""
    known = {t.value for t in StatusType} | {"open", "closed"}
    for value in values:
        if value.lower() not in known and len(value) != 1:
            raise click.BadParameter(
                f"{value!r}: give a status character (x, ' ', /) or a type "
                f"({', '.join(sorted(known))})", param_hint="--status")
    return set(values)


def _status_ok(task: Task, wanted: set[str]) -> bool:
    if not wanted:
        return True
    for value in wanted:
        lowered = value.lower()
        if len(value) == 1 and task.status == value:
            return True
        if lowered == task.type.value or (lowered == "open" and task.is_open) \
                or (lowered == "closed" and not task.is_open):
            return True
    return False


def _note_ok(path: str, globs: Sequence[str]) -> bool:
    """A note matches a glob on its vault path (``Projects/*.md``) or its name (``plan*``)."""
    if not globs:
        return True
    name = path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    return any(fnmatch.fnmatchcase(path, g) or fnmatch.fnmatchcase(name, g)
               or fnmatch.fnmatchcase(stem, g) for g in globs)


@click.command("tasks", short_help="List tasks under their notes and headings (or as JSON).")
@click.argument("paths", nargs=-1, metavar="[PATH]...", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of tasks.")
@click.option("--flavor", type=click.Choice([f.value for f in Flavor]),
              help="Which list items are tasks: gfm or obsidian.  [default: the config's]")
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              help="Only tasks with this status character (x, ' ', /) or type (todo, doing, "
                   "done, cancelled, other, open, closed). Repeatable.")
@click.option("--note", "notes", multiple=True, metavar="GLOB",
              help="Only notes whose vault path or name matches GLOB. Repeatable.")
@click.option("--no-index", is_flag=True, help="Parse every note; neither read nor write the "
                                                "index in .vaultmap/.")
@click.option("-v", "--verbose", is_flag=True, help=_VERBOSE_HELP)
def tasks_cmd(paths: tuple[Path, ...], as_json: bool, flavor: str | None,
              statuses: tuple[str, ...], notes: tuple[str, ...], no_index: bool,
              verbose: bool = False) -> None:
    """List the tasks in PATH... (vault folders or single notes; default: the current folder).

    Each PATH is read inside its vault: the nearest folder above it with a .vaultmap.toml or an
    .obsidian/ folder, else the folder itself (or the note's folder). Task paths are relative
    to that vault.
    """
    wanted = _status_matcher(statuses)
    selected: list[tuple[Settings, Note, Task]] = []
    for settings, scanned in _scan(list(paths) or [Path(".")], flavor, not no_index, verbose):
        for note in scanned:
            if not _note_ok(note.path, notes):
                continue
            selected.extend((settings, note, t) for t in note.tasks if _status_ok(t, wanted))

    if as_json:
        from vaultmap.report.json_report import dumps, task_dict

        items = []
        for settings, note, task in selected:
            item = task_dict(task, note_tags=note.tags)
            item["vault"] = str(settings.root.absolute())
            items.append(item)
        click.echo(dumps(items, pretty=_pretty(None)), nl=False)
        return
    _print_tasks(selected)


# On a terminal a task's text is cut after this many characters (wrapping megabytes helps no
# one); into a pipe or a file it is written whole, for grep.
_TERMINAL_TEXT = 2000


def _print_tasks(selected: Sequence[tuple[Settings, Note, Task]]) -> None:
    """The readable list: each note's path, then its tasks under the headings they sit in.

    On a terminal a long task wraps under its own text; into a pipe or a file every task
    stays on one line, whatever its length, so ``grep`` and ``wc -l`` see whole tasks.
    """
    from rich.text import Text  # only the readable list needs rich

    from vaultmap.report.terminal import make_console

    console = make_console()
    if not selected:
        console.print("No tasks.")
        return
    groups: list[tuple[str, list[Task]]] = []
    last_note: tuple[Path, str] | None = None
    for settings, note, task in selected:
        if (settings.root, note.path) != last_note:
            groups.append((note.path, []))
            last_note = (settings.root, note.path)
        groups[-1][1].append(task)
    width = max(4, *(len(str(task.line)) for _path, tasks in groups for task in tasks))
    count = f"{len(selected)} task{'s' if len(selected) != 1 else ''}"

    def heading(section: tuple[str, ...]) -> str:
        return " › ".join(plain(title) for title in section)

    if not console.is_terminal:
        # Plain lines, written at once: rich's per-line rendering costs seconds on a big vault.
        lines: list[str] = []
        for index, (path, tasks) in enumerate(groups):
            lines.extend([""] * bool(index) + [printable(path)])
            section: tuple[str, ...] = ()
            for task in tasks:
                if task.display_section != section:
                    section = task.display_section
                    lines.append(" " * (width + 2) + heading(section))
                lines.append(f"{task.line:>{width}}  {'  ' * task.depth}[{task.status}] "
                             f"{plain(task.display_text, limit=0)}")
        lines.extend(["", count])
        click.echo("\n".join(lines))  # each part went through printable() / plain()
        return

    styles = {StatusType.DONE: "green", StatusType.DOING: "yellow",
              StatusType.CANCELLED: "dim strike", StatusType.OTHER: "magenta"}
    # Wrapped here, line by line, under the text (a rich table per note does the same but is
    # several times slower on a big vault); the whole list is then printed once.
    text_width = max(12, console.width - width - 2)
    margin = " " * (width + 2)
    out = Text()

    def add(number: str, body: Text) -> None:
        for row, piece in enumerate(body.wrap(console, text_width, overflow="fold")):
            out.append(f"{number:>{width}}  " if row == 0 else margin, style="dim")
            out.append_text(piece)
            out.append("\n")

    for index, (path, tasks) in enumerate(groups):
        if index:
            out.append("\n")
        out.append_text(Text(printable(path), style="bold blue"))
        out.append("\n")
        section = ()
        for task in tasks:
            if task.display_section != section:
                section = task.display_section
                add("", Text(heading(section), style="dim italic"))
            body = Text("  " * task.depth)
            body.append(f"[{task.status}] ", style=styles.get(task.type, ""))
            body.append(plain(task.display_text, limit=_TERMINAL_TEXT),
                        style="strike dim" if task.type is
                        StatusType.CANCELLED else "")
            add(str(task.line), body)
    out.append(f"\n{count}", style="dim")
    console.print(out, soft_wrap=True)


# --------------------------------------------------------------------------- init

_SKIPPED_IN_TEMPLATE = {STATE_DIR, ".git", "__pycache__", ".DS_Store"}


def __getattr__(name: str) -> str:
    # DEFAULT_CONFIG: the documented defaults, generated from the config schema (the
    # template's file is the same) when first asked for, not by every command's start-up.
    if name == "DEFAULT_CONFIG":
        return default_config_text()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def template_dir() -> Path:
    """The vault template: shipped in the package as ``vaultmap/_template`` (a link to the
    repository's ``vault-template/`` in a source tree), else the source tree's folder."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_template", package.parent.parent / "vault-template"):
        if candidate.is_dir():
            return candidate
    raise InitError("the vault template is missing from this installation; "
                    "try 'vaultmap init --config-only'")


def template_files(template: Path) -> list[str]:
    """The template's files as POSIX paths relative to it, sorted; caches and state skipped."""
    found: list[str] = []
    for folder, dirs, files in os.walk(template, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_IN_TEMPLATE)
        rel = Path(folder).relative_to(template)
        found.extend((rel / name).as_posix() for name in files
                     if name not in _SKIPPED_IN_TEMPLATE and not name.endswith(".pyc"))
    return sorted(found)


def _refuse(target: Path, existing: Sequence[str]) -> InitError:
    shown = ", ".join(existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3
                                       else "")
    noun = "file" if len(existing) == 1 else "files"
    return InitError(f"{target}: {len(existing)} {noun} already there ({shown}); init never "
                     "overwrites a file, nothing was written")


def init_vault(target: Path, template: Path) -> list[str]:
    """Copy every template file into ``target``; refuse, writing nothing, if any exists.

    Returns the files written (relative POSIX paths). Each file is created exclusively
    (``O_EXCL``), so even a file that appears meanwhile is never overwritten.
    """
    files = template_files(template)
    if not files:
        raise InitError(f"the vault template {template} is empty")
    existing = [rel for rel in files if os.path.lexists(target / rel)]
    if existing:
        raise _refuse(target, existing)
    written: list[str] = []
    for rel in files:
        destination = target / rel
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(destination, "xb") as out:
                out.write((template / rel).read_bytes())
        except FileExistsError:
            raise _refuse(target, [rel]) from None
        except OSError as error:
            raise InitError(f"{destination}: cannot write ({error.strerror}); "
                            f"{len(written)} files were written before") from None
        written.append(rel)
    return written


def init_config(target: Path, template: Path | None) -> Path:
    """Write ``target/.vaultmap.toml`` (the template's, else the defaults); never overwrite."""
    if not target.is_dir():
        raise InitError(f"{target}: no such folder")
    destination = target / CONFIG_NAME
    source = template / CONFIG_NAME if template is not None else None
    data = source.read_bytes() if source is not None and source.is_file() \
        else default_config_text().encode()
    try:
        with open(destination, "xb") as out:
            out.write(data)
    except FileExistsError:
        raise InitError(f"{destination}: already exists; init never overwrites a file") \
            from None
    except OSError as error:
        raise InitError(f"{destination}: cannot write ({error.strerror})") from None
    return destination


@click.command("init",
               short_help="Make a new vault from the example template, or add a .vaultmap.toml.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path),
                default=Path("."))
@click.option("--config-only", is_flag=True,
              help="Only add a .vaultmap.toml to an existing vault.")
def init_cmd(directory: Path, config_only: bool) -> None:
    """Make a new vault in DIRECTORY (default: the current folder) from the example template.

    It never overwrites a file: if any file it would write is already there, it stops with an
    error and writes nothing. With --config-only it adds just .vaultmap.toml (every option,
    documented) to an existing vault.
    """
    if config_only:
        try:
            template: Path | None = template_dir()
        except InitError:
            template = None
        written = init_config(directory, template)
        echo(f"Wrote {written}. Next: vaultmap report {_quoted(directory)}")
        return
    files = init_vault(directory, template_dir())
    echo(f"Created a vault in {directory} ({len(files)} files). "
         f"Next: vaultmap report {_quoted(directory)}")


def _quoted(path: Path) -> str:
    """``path`` as a shell reads it back (a quote, ``$`` or ``;`` in a name included)."""
    import shlex  # only init says it: not imported at every start

    return shlex.quote(str(path))


COMMANDS: list[click.Command] = [report_cmd, tasks_cmd, init_cmd]

__all__ = ["COMMANDS", "find_vault_root", "init_config", "init_vault", "template_dir",
           "template_files"]
