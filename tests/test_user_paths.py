"""What a person meets using vaultmap: readable layouts at any width, and clear one-line errors.

Each test here pins a problem found by using the command line as a user would.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultmap.cli import main
from vaultmap.parse import parse_note
from vaultmap.progress import Progress, build_progress
from vaultmap.report import ReportOptions, render_terminal
from vaultmap.report.terminal import make_console

LONG_HEADINGS = """\
# Learning Plan

## Month 1-2: Foundations and the tools of the trade

### Week 4: Plots that say something about the data

- [ ] Draw one chart per question, not one chart per column of the table
- [ ] Label the axes

### Week 5: Tables

- [x] Group by two columns
- [ ] Pivot a table back

## Month 3-4: Statistics and first models for real questions

- [ ] Fit a straight line 📅 2026-01-10
"""

SHORT_HEADINGS = """\
# Garden

## Build

- [ ] Pick a static site generator for the garden club pages 📅 2026-02-20

## Launch

- [ ] Announce it
"""


def _progress() -> Progress:
    notes = [parse_note(LONG_HEADINGS.encode(), "Plans/Learning Plan.md"),
             parse_note(SHORT_HEADINGS.encode(), "Garden.md")]
    return build_progress(notes, today=date(2026, 3, 1))


def _terminal(progress: Progress, width: int) -> str:
    buffer = io.StringIO()
    render_terminal(progress, ReportOptions(), make_console(buffer, color="never", width=width))
    return buffer.getvalue()


def _gap_part(text: str) -> str:
    return text[text.index("Next up"):]


def test_gap_lists_keep_long_headings_and_texts_unbroken_at_80_columns() -> None:
    text = _terminal(_progress(), 80)
    gaps = _gap_part(text)
    lines = [line.rstrip() for line in gaps.splitlines()]
    # A heading path too long for a column gets its own line, whole; the note is named once.
    assert ("    Month 1-2: Foundations and the tools of the trade › Week 4: Plots that say "
            "something about the data") not in lines  # 95 columns: it must wrap under itself
    assert "  Learning Plan" in lines and "  Garden" in lines
    assert "    Month 1-2: Foundations and the tools of the trade › Week 5: Tables" in lines
    # ... and the task's own text follows it, indented, not squeezed into a side column.
    assert "      Pick a static site generator" not in gaps
    assert "      Pivot a table back  (1 open)" in lines
    # Short headings sit beside their text in one aligned column.
    assert "    Build   Pick a static site generator for the garden club pages  (1 open)" \
        in lines
    assert "    Launch  Announce it  (1 open)" in lines
    # No progress yet: the count leads, the headings follow whole.
    assert "    0 of 1 done  Month 3-4: Statistics and first models for real questions" in lines
    assert max(len(line) for line in text.splitlines()) <= 80


def test_gap_lists_group_by_note_without_repeating_the_note() -> None:
    gaps = _gap_part(_terminal(_progress(), 100))
    next_up = gaps[:gaps.index("Overdue")]
    assert next_up.count("Learning Plan") == 1
    assert "Learning Plan ›" not in next_up


def test_narrow_terminal_keeps_every_number_column() -> None:
    for width in (40, 50, 60):
        text = _terminal(_progress(), width)
        table = text[:text.index("Next up")]
        header = next(line for line in table.splitlines() if line.startswith("Note"))
        assert header.rstrip().endswith("Done   Open"), (width, header)
        assert "1/2" in table and "1/5" in table and "0/2" in table, width
        assert max(len(line) for line in text.splitlines()) <= width


def test_wide_terminal_shows_whole_names_and_a_bar() -> None:
    text = _terminal(_progress(), 100)
    assert "Progress" in text and "█" in text
    assert "Week 4: Plots that say something about the data" in text


def test_overall_line_never_breaks_its_summary_mid_phrase() -> None:
    text = _terminal(_progress(), 40)
    lines = text.splitlines()
    overall = next(i for i, line in enumerate(lines) if line.startswith("Overall"))
    assert "done" not in lines[overall]
    assert lines[overall + 1].strip().startswith("1 of 7 done")


def test_empty_vault_says_no_tasks_once_on_the_overall_line(tmp_path: Path) -> None:
    (tmp_path / "Empty.md").write_text("# Nothing to do\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    overall = next(line for line in result.stdout.splitlines() if line.startswith("Overall"))
    assert overall.count("no tasks") == 1


# --- done / undo / set ------------------------------------------------------------------------


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert not (result.exception and not isinstance(result.exception, SystemExit)), \
        result.exception
    return result.exit_code, result.stdout, result.stderr


def _one_line_error(stderr: str, expected: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], stderr
    assert lines[0].startswith("vaultmap: ") and "Traceback" not in stderr


def test_done_on_a_fifo_refuses_at_once_instead_of_hanging(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    vault = tmp_path / "vault"
    vault.mkdir()
    os.mkfifo(vault / "pipe.md")
    vaultmap = Path(sys.executable).parent / "vaultmap"
    proc = subprocess.run([str(vaultmap), "done", "--vault", str(vault), "pipe.md:1"],
                          capture_output=True, text=True, timeout=60, cwd=vault)
    assert proc.returncode == 11
    _one_line_error(proc.stderr, "pipe.md: not a regular file")


def test_done_on_a_binary_note_names_the_reason(tmp_path: Path) -> None:
    (tmp_path / "blob.md").write_bytes(b"- [ ] looks like a task\n\x00\x01\x02")
    code, _, err = _invoke("done", "--vault", str(tmp_path), "blob.md:1")
    assert code == 11
    _one_line_error(err, "blob.md: binary file (contains NUL bytes)")
    assert (tmp_path / "blob.md").read_bytes().startswith(b"- [ ] ")


def _marked_vault(root: Path) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    (root / "Projects").mkdir()
    (root / "Projects" / "Plan.md").write_bytes(b"# Plan\n\n- [ ] first\r\n- [ ] second\r\n")
    return root


def test_done_finds_the_vault_from_a_subfolder(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    vault = _marked_vault(tmp_path / "vault")
    before = (vault / "Projects" / "Plan.md").read_bytes()
    monkeypatch.chdir(vault / "Projects")
    # The path as `vaultmap tasks` prints it: relative to the vault, not to this folder.
    code, out, err = _invoke("done", "Projects/Plan.md:4")
    assert code == 0, err
    assert "Projects/Plan.md:4  [ ] -> [x]  second" in out
    code, _, err = _invoke("undo", "--match", "second")
    assert code == 0, err
    assert (vault / "Projects" / "Plan.md").read_bytes() == before


def test_done_finds_the_vault_of_a_path_named_from_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = _marked_vault(tmp_path / "vault")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = _invoke("done", str(vault / "Projects" / "Plan.md") + ":3")
    assert code == 0, err
    assert "Projects/Plan.md:3  [ ] -> [x]  first" in out
    assert b"- [x] first\r\n- [ ] second\r\n" in (vault / "Projects" / "Plan.md").read_bytes()


# --- tasks ------------------------------------------------------------------------------------


def test_tasks_list_groups_by_heading_and_keeps_each_task_on_one_line_in_a_pipe(
        tmp_path: Path) -> None:
    long_task = "Read " + "the long chapter on statistics and models " * 4
    (tmp_path / "Plan.md").write_text(
        f"# Plan\n\n## Week 1: Warm-up\n\n- [ ] {long_task}\n- [x] short one\n\n"
        "## Week 2\n\n- [/] second week\n", encoding="utf-8")
    code, out, err = _invoke("tasks", str(tmp_path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Plan.md"
    assert lines[1].strip() == "Plan › Week 1: Warm-up"
    assert lines[2] == f"   5  [ ] {long_task.strip()}"  # whole, however long
    assert lines[3] == "   6  [x] short one"
    assert lines[4].strip() == "Plan › Week 2"
    assert lines[5] == "  10  [/] second week"
    assert lines[-1] == "3 tasks"


# --- help -------------------------------------------------------------------------------------


def test_main_help_gives_whole_summaries_of_the_report_and_edit_commands() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    summaries = {line.split()[0]: line for line in result.stdout.splitlines()
                 if line.startswith("  ") and line.split()}
    for name in ("report", "tasks", "init", "done", "undo", "set"):
        assert name in summaries, name
        assert not summaries[name].rstrip().endswith("..."), summaries[name]


def test_lazy_command_table_matches_the_command_modules() -> None:
    from vaultmap.cli import LAZY_COMMANDS, load_commands

    for module in {module for module, _summary in LAZY_COMMANDS.values()}:
        names = {command.name for command in load_commands(module)}
        assert names == {name for name, (owner, _s) in LAZY_COMMANDS.items()
                         if owner == module}, module
    for name, (_module, summary) in LAZY_COMMANDS.items():
        assert summary and not summary.endswith("..."), name
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage: " in result.stdout, name


def test_help_starts_without_importing_the_command_modules(tmp_path: Path) -> None:
    import subprocess
    import sys

    probe = ("import sys\n"
             "from vaultmap.cli import main\n"
             "try:\n"
             "    main(['--help'])\n"
             "except SystemExit:\n"
             "    pass\n"
             "heavy = sorted(m for m in sys.modules if m.startswith(('rich', 'vaultmap.sync',\n"
             "    'vaultmap.vault', 'vaultmap.edit', 'notion_client', 'httpx', 'mistune')))\n"
             "print('HEAVY', heavy)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout
    assert "report" in proc.stdout and "sync" in proc.stdout


def test_version_starts_with_click_and_the_cli_module_alone(tmp_path: Path) -> None:
    """``vaultmap --version`` is the start-up every command pays: no settings, no msgspec, no
    command module, and the version from the package itself (importlib.metadata reads every
    installed distribution's metadata)."""
    import subprocess
    import sys

    probe = ("import sys\n"
             "from vaultmap.cli import main\n"
             "try:\n"
             "    main(['--version'])\n"
             "except SystemExit:\n"
             "    pass\n"
             "print('LOADED', sorted(m for m in sys.modules if m.startswith(('vaultmap.',\n"
             "    'msgspec', 'rich', 'importlib.metadata', 'pathlib', 'json')) and m not in\n"
             "    ('vaultmap.cli', 'vaultmap.cli.output', 'vaultmap.display',\n"
             "     'vaultmap.errors')))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout, proc.stdout
    assert proc.stdout.startswith("vaultmap, version ")


def test_done_with_a_missing_vault_folder_says_so(tmp_path: Path) -> None:
    code, _, err = _invoke("done", "--vault", str(tmp_path / "nowhere"), "Plan.md:1")
    assert code == 2
    assert "'--vault'" in err and "does not exist" in err


def test_a_folder_without_notes_gets_one_warning_line(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("- [ ] not a note\n", encoding="utf-8")
    for command in ("report", "tasks"):
        code, _out, err = _invoke(command, str(tmp_path))
        assert code == 0
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "no notes here" in lines[0] and ".md" in lines[0], err
        assert lines[0].startswith("vaultmap: warning: ")
    (tmp_path / "Plan.md").write_text("- [ ] a note\n", encoding="utf-8")
    _, _, err = _invoke("tasks", str(tmp_path))
    assert "no notes here" not in err


def test_hints_under_lists_wrap_under_themselves() -> None:
    buffer = io.StringIO()
    render_terminal(_progress(), ReportOptions(max_rows=1, limit=1),
                    make_console(buffer, color="never", width=44))
    text = buffer.getvalue()
    hint_lines = [line for line in text.splitlines()
                  if any(word in line for word in ("more rows", "sub-folder", "shows all",
                                                   "--limit", "json"))]
    assert len(hint_lines) >= 3  # the rows hint and a gap hint, both wrapped at 44 columns
    assert all(line.startswith("  ") for line in hint_lines), hint_lines


def test_section_view_keeps_the_last_heading_when_names_are_cut() -> None:
    buffer = io.StringIO()
    render_terminal(_progress(), ReportOptions(by="section", depth=3),
                    make_console(buffer, color="never", width=72))
    table = buffer.getvalue().split("Next up")[0]
    names = [line.split("  ")[0] for line in table.splitlines()[4:] if line.strip()]
    # Two rows differ only in their last heading: both must stay told apart.
    week4 = [n for n in names if "Week 4" in n]
    week5 = [n for n in names if "Week 5: Tables" in n]
    assert len(week4) == 1 and len(week5) == 1, names
    assert week5[0].endswith("› Week 5: Tables") and "› … ›" in week5[0]
    assert len(set(names)) == len(names), names


def test_tasks_list_on_a_terminal_wraps_long_tasks_under_their_text(tmp_path: Path) -> None:
    import os
    import re
    import subprocess
    import sys

    words = " ".join(f"word{i}" for i in range(30))
    (tmp_path / "Plan.md").write_text(f"# Plan\n\n- [ ] {words}\n- [x] short\n",
                                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(FORCE_COLOR="1", COLUMNS="60", TERM="xterm-256color")
    proc = subprocess.run([str(Path(sys.executable).parent / "vaultmap"), "tasks",
                           str(tmp_path), "--no-index"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout).splitlines()
    assert lines[0] == "Plan.md" and lines[1].strip() == "Plan"
    assert lines[2].startswith("   3  [ ] word0 ") and len(lines[2]) <= 60
    continued = lines[3:lines.index("   4  [x] short")]
    assert continued and all(line.startswith("      ") and len(line) <= 60
                             for line in continued)
    assert " ".join(" ".join(line.split()) for line in [lines[2][10:], *continued]) == words
    assert lines[-1] == "2 tasks"
