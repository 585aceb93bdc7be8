"""`vaultmap report` and `vaultmap tasks` through click's runner and as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from report_fixtures import ANSI, NOTES, TODAY, make_vault
from terminal import run_on_terminal
from vaultmap.cli import main

VAULTMAP = Path(sys.executable).parent / "vaultmap"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(extra)
    return env


# --- report ---------------------------------------------------------------------------------


def test_report_terminal(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    code, out, err = run("report", str(vault), "--today", TODAY)
    assert code == 0, err
    assert err == ""
    assert ANSI.search(out) is None  # not a terminal: plain text
    assert "vaultmap · vault · 2026-11-22" in out
    assert "41%  5 of 12 done" in out
    assert "Week 2: Data" in out and "Parse a CSV file" in out


def test_report_json_and_output_file(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    out_file = tmp_path / "report.json"
    code, out, _ = run("report", str(vault), "--format", "json", "--today", TODAY,
                       "--by", "tag", "--depth", "1", "--output", str(out_file))
    assert code == 0 and out == ""
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert data["schema"] == "vaultmap.report/1"
    assert data["options"] == {"by": "tag", "depth": 1, "top_level_only": False}
    assert data["vault"]["root"] == str(vault.absolute())
    assert (data["totals"]["done"], data["totals"]["counted"]) == (5, 12)
    assert data["gaps"]["overdue"][0]["days_late"] == 21


def test_report_markdown_to_stdout(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    code, out, _ = run("report", str(vault), "--format", "markdown", "--today", TODAY)
    assert code == 0
    assert out.startswith("## Progress of vault (2026-11-22)")
    assert "| **Month 1** |" in out


def test_report_terminal_output_file_is_plain(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    target = tmp_path / "report.txt"
    code, _, _ = run("report", str(vault), "--color", "always", "-o", str(target))
    assert code == 0
    text = target.read_text(encoding="utf-8")
    assert "Overall" in text and ANSI.search(text) is None


def test_report_defaults_to_the_current_folder(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    vault = make_vault(tmp_path / "here")
    monkeypatch.chdir(vault)
    code, out, _ = run("report", "--format", "json")
    assert code == 0
    assert json.loads(out)["vault"]["name"] == "here"


def test_report_of_a_folder_inside_a_vault_counts_only_that_folder(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault", config="[report]\ndepth = 1\n")
    code, out, _ = run("report", str(vault / "Roadmap"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["vault"]["name"] == "vault/Roadmap"
    assert data["options"]["depth"] == 1  # the vault's settings apply
    assert {n["path"] for n in data["notes"]} == {"Roadmap/Month 1.md", "Roadmap/Month 2.md"}
    assert data["totals"]["total"] == 10


def test_report_top_level_flag_and_setting(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    _, out, _ = run("report", str(vault), "--format", "json", "--top-level")
    assert json.loads(out)["totals"]["total"] == 11
    configured = make_vault(tmp_path / "configured", config="[report]\ntop_level_only = true\n")
    _, out, _ = run("report", str(configured), "--format", "json")
    assert json.loads(out)["options"]["top_level_only"] is True


def test_report_warnings_go_to_stderr_one_line_each(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    (vault / "broken.md").write_bytes(b"\x00\x01binary")
    code, out, err = run("report", str(vault), "--format", "json")
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vaultmap: warning: ")
    assert "broken.md" in lines[0]
    data = json.loads(out)
    assert data["totals"]["total"] == 13  # the rest of the vault is still reported
    assert any("broken.md" in w for w in data["warnings"])


def test_report_bad_config_is_one_line_and_its_exit_code(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault", config="[report]\ndepth = 'deep'\n")
    code, out, err = run("report", str(vault))
    assert code == 3
    assert err.startswith("vaultmap: ") and err.count("\n") == 1
    assert "Traceback" not in err + out


def test_report_bad_today_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("report", str(make_vault(tmp_path / "v")), "--today", "yesterday")
    assert code == 2 and "--today" in err


def test_report_empty_folder_reads_no_tasks(tmp_path: Path) -> None:
    code, out, _ = run("report", str(tmp_path))
    assert code == 0
    assert "no tasks" in out and "nan" not in out.lower()


def test_report_subprocess_piped_has_no_ansi(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    proc = subprocess.run([str(VAULTMAP), "report", str(vault), "--today", TODAY],
                          capture_output=True, text=True, timeout=60, env=subprocess_env())
    assert proc.returncode == 0, proc.stderr
    assert "41%" in proc.stdout and "Next up" in proc.stdout
    assert ANSI.search(proc.stdout) is None


def _run_in_pty(args: list[str], env: dict[str, str]) -> str:
    """Run with stdout on a pseudo-terminal, as a person at a terminal would."""
    return run_on_terminal(args, env)[0]


def test_report_on_a_terminal_is_coloured_unless_no_color(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    args = [str(VAULTMAP), "report", str(vault), "--today", TODAY]
    coloured = _run_in_pty(args, subprocess_env(TERM="xterm-256color", COLUMNS="100"))
    assert ANSI.search(coloured) and "41%" in coloured
    plain = _run_in_pty(args, subprocess_env(TERM="xterm-256color", COLUMNS="100", NO_COLOR="1"))
    assert "41%" in plain
    assert ANSI.search(plain) is None


def test_report_follows_the_terminal_width(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    for columns in ("60", "120"):
        code, out, _ = run("report", str(vault), env={"COLUMNS": columns})
        assert code == 0
        assert max(len(line) for line in out.splitlines()) <= int(columns)
    _, narrow, _ = run("report", str(vault), env={"COLUMNS": "60"})
    _, wide, _ = run("report", str(vault), env={"COLUMNS": "120"})
    assert narrow != wide


# --- tasks ----------------------------------------------------------------------------------

TASK_FIELDS = {"path", "line", "offset", "status", "type", "text", "description", "section",
               "depth", "parent_line", "in_quote", "tags", "note_tags", "links", "fields",
               "key", "vault", "display_text", "display_description", "display_section"}
FIELD_NAMES = {"due", "scheduled", "start", "created", "done", "cancelled", "priority",
               "recurrence", "on_completion", "id", "depends_on", "block_id", "dataview"}


def test_tasks_json_lists_every_task_with_exact_offsets(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    code, out, err = run("tasks", str(vault), "--json")
    assert code == 0, err
    tasks = json.loads(out)
    assert len(tasks) == 13
    for task in tasks:
        assert set(task) == TASK_FIELDS
        assert set(task["fields"]) == FIELD_NAMES
        data = (vault / task["path"]).read_bytes()
        assert data[task["offset"]:task["offset"] + 1].decode() == task["status"]
        line_start = data.rfind(b"\n", 0, task["offset"]) + 1
        assert data.count(b"\n", 0, line_start) + 1 == task["line"]
    csv = next(t for t in tasks if t["description"] == "Parse a CSV file")
    child = next(t for t in tasks if t["description"] == "open the file")
    assert child["parent_line"] == csv["line"] and child["depth"] == 1
    assert csv["section"] == ["Month 1", "Week 2: Data"]
    assert csv["note_tags"] == ["learning", "Python"]
    guide = next(t for t in tasks if t["description"] == "Read the style guide")
    assert guide["fields"]["due"] == "2026-11-01"
    assert guide["text"] == "Read the style guide 📅 2026-11-01"
    hello = next(t for t in tasks if t["description"].startswith("Write a hello world"))
    assert hello["tags"] == ["#practice"]
    assert len({t["key"] for t in tasks}) == 13


def test_tasks_filters_by_status_and_note(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")

    def descriptions(*args: str) -> list[str]:
        code, out, err = run("tasks", str(vault), "--json", *args)
        assert code == 0, err
        return [t["description"] for t in json.loads(out)]

    assert len(descriptions("--status", "x")) == 5
    assert len(descriptions("--status", "done")) == 5
    assert descriptions("--status", "/") == ["Learn list comprehensions"]
    assert descriptions("--status", "other") == ["Ask about soil #home"]
    assert len(descriptions("--status", "open")) == 7
    assert len(descriptions("--status", "x", "--status", "-")) == 6
    assert descriptions("--note", "Roadmap/Month 2.md") == ["Study decorators",
                                                            "Write a context manager"]
    assert len(descriptions("--note", "Month*")) == 10
    assert descriptions("--note", "Garden", "--status", "todo") == ["Water daily"]
    code, _, err = run("tasks", str(vault), "--status", "nonsense")
    assert code == 2 and "--status" in err


def test_tasks_of_single_files_use_their_vault(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    code, out, _ = run("tasks", "--json", str(vault / "Roadmap" / "Month 2.md"),
                       str(vault / "Projects" / "Garden.md"))
    assert code == 0
    tasks = json.loads(out)
    assert {t["path"] for t in tasks} == {"Roadmap/Month 2.md", "Projects/Garden.md"}
    assert {t["vault"] for t in tasks} == {str(vault.absolute())}


def test_tasks_of_a_loose_file_outside_any_vault(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "list.md").write_bytes(b"- [ ] one\r\n- [x] two\r\n")
    code, out, _ = run("tasks", "--json", str(loose / "list.md"))
    assert code == 0
    tasks = json.loads(out)
    assert [(t["path"], t["line"], t["offset"]) for t in tasks] == [
        ("list.md", 1, 3), ("list.md", 2, 14)]
    assert not (loose / ".vaultmap").exists()  # no index planted beside a loose note


def test_tasks_flavor_decides_what_is_a_task(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    (vault / "Quote.md").write_bytes(b"> - [ ] quoted task\n\n- [/] custom status\n")
    _, out, _ = run("tasks", str(vault / "Quote.md"), "--json")
    assert [t["status"] for t in json.loads(out)] == [" ", "/"]
    _, out, _ = run("tasks", str(vault / "Quote.md"), "--json", "--flavor", "gfm")
    assert [t["status"] for t in json.loads(out)] == [" "]  # gfm knows no custom statuses


def test_tasks_readable_list(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    code, out, _ = run("tasks", str(vault), "--note", "Month 1")
    assert code == 0
    assert ANSI.search(out) is None
    lines = out.splitlines()
    assert lines[0] == "Roadmap/Month 1.md"
    assert any("[/] Learn list comprehensions" in line for line in lines)
    assert lines[-1] == "8 tasks"
    _, none, _ = run("tasks", str(vault), "--note", "nothing-matches")
    assert none.strip() == "No tasks."


def test_tasks_subprocess_json(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    proc = subprocess.run([str(VAULTMAP), "tasks", str(vault), "--json", "--status", "todo"],
                          capture_output=True, text=True, timeout=60, env=subprocess_env())
    assert proc.returncode == 0, proc.stderr
    tasks = json.loads(proc.stdout)
    assert sorted(t["description"] for t in tasks) == sorted([
        "Read the style guide", "Parse a CSV file", "Study decorators",
        "Write a context manager", "Water daily"])
    assert set(NOTES) >= {t["path"] for t in tasks}


def test_a_markdown_report_saved_into_the_vault_changes_no_numbers(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    _, before, _ = run("report", str(vault), "--format", "json", "--today", TODAY)
    code, _, _ = run("report", str(vault), "--format", "markdown", "--by", "tag",
                     "-o", str(vault / "Progress.md"))
    assert code == 0
    _, after, _ = run("report", str(vault), "--format", "json", "--today", TODAY)
    assert json.loads(after)["totals"] == json.loads(before)["totals"]
    assert "Progress.md" in {n["path"] for n in json.loads(after)["notes"]}


def test_report_warns_about_dates_that_are_no_dates(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text("")
    (tmp_path / "Bills.md").write_text("- [ ] pay rent 📅 2024-02-31\n- [ ] file ⏳ 2024-13-01\n"
                                       "- [ ] real 📅 2024-02-28\n", encoding="utf-8")
    code, out, err = run("report", str(tmp_path), "--today", "2026-01-01", "--no-index")
    assert code == 0
    assert ("vaultmap: warning: Bills.md:1: 📅 2024-02-31 is not a date; the task is left out "
            "of Overdue") in err.splitlines()
    assert "2024-13-01" not in err  # a scheduled date hides nothing: only due dates are checked
    assert "real" in out and "2024-02-28" in out
    code, out, _err = run("report", str(tmp_path), "--today", "2026-01-01", "--format", "json",
                          "--no-index")
    assert any("2024-02-31" in warning for warning in json.loads(out)["warnings"])
