"""A hostile vault (a repository someone shared) must not reach the terminal: no command
prints an ESC, CSI, OSC, C1 control, BEL, DEL or bidi override that came from a note's text
or a file name, whatever the output format, confirmation line, diff, list or error message."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fake_notion import FakeNotion
from vaultmap.cli import main
from vaultmap.config import load_settings

# Title change, screen erase, OSC 8 hidden link, 8-bit CSI and OSC, BEL, DEL, a bidi override.
EVIL = ("\x1b]0;pwned\x07 \x1b[2J\x1b[1;1H \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
        " \x9b31m \x9d0;t\x9c \x7f \u202egnp.exe")
FORBIDDEN = ("\x1b", "\x07", "\x9b", "\x9d", "\x9c", "\x7f", "\u202e")
EVIL_NAME = "Plan \x1b[31mred\x9b1m.md"

NOTE = f"""\
# Heading {EVIL}

- [ ] evil first {EVIL} 📅 2020-01-01
- [ ] evil second {EVIL}
    - [x] child {EVIL}
- [/] doing {EVIL} #tag{EVIL[:6]}
"""


def _clean(text: str, what: str) -> None:
    for char in FORBIDDEN:
        assert char not in text, f"{what}: {char!r} reached the output:\n{text!r}"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    root.mkdir()
    (root / ".vaultmap.toml").write_text("[vault]\nflavor = 'obsidian'\n")
    (root / EVIL_NAME).write_text(NOTE, encoding="utf-8")
    folder = root / "Sub \x1b]0;x\x07dir"
    folder.mkdir()
    (folder / "other.md").write_text(f"- [ ] inner {EVIL}\n", encoding="utf-8")
    return root


def _invoke(vault: Path, *args: str, code: int | None = 0, env: dict[str, str] | None = None,
            ) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, (args, result.stdout, result.stderr)
    both = result.stdout + result.stderr
    _clean(both, " ".join(args))
    return both


REPORT_VARIANTS = [
    ["report", "--today", "2026-01-01"],
    ["report", "--by", "section", "--depth", "3"],
    ["report", "--by", "folder"],
    ["report", "--by", "tag"],
    ["report", "--format", "markdown"],
    ["report", "--format", "json"],
    ["tasks"],
    ["tasks", "--json"],
]


@pytest.mark.parametrize("args", REPORT_VARIANTS, ids=lambda a: "-".join(a))
def test_reports_and_lists_show_no_control_characters(vault: Path, args: list[str]) -> None:
    out = _invoke(vault, *args, str(vault))
    assert "evil" in out or "%" in out


def test_edit_confirmations_diffs_lists_and_errors_show_no_control_characters(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(vault)
    note = f"{EVIL_NAME}:3"
    assert "\ufffd" in _invoke(vault, "done", "--dry-run", note)  # the diff
    assert "-> [x]" in _invoke(vault, "done", note)  # the confirmation
    assert "already [x]" in _invoke(vault, "done", note)
    assert "-> [/]" in _invoke(vault, "set", "/", note)
    assert "-> [ ]" in _invoke(vault, "undo", note)
    assert "matches" in _invoke(vault, "done", "--match", "evil", code=2)  # ambiguous list
    assert "no task on that line" in _invoke(vault, "done", f"{EVIL_NAME}:2", code=11)
    _invoke(vault, "done", "--match", "\x1b[2Jnothing", code=11)
    _invoke(vault, "done", "--all", "--match", "inner", "--dry-run")


def test_a_real_process_on_real_streams_prints_no_control_characters(vault: Path) -> None:
    for args in (["tasks", str(vault)], ["report", str(vault)],
                 ["done", "--match", "evil", str(vault / EVIL_NAME)]):
        proc = subprocess.run([sys.executable, "-m", "vaultmap.cli", *args], cwd=vault,
                              capture_output=True, timeout=60)
        text = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
        _clean(text, " ".join(args))


@pytest.fixture
def notion_vault(vault: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    with (vault / ".vaultmap.toml").open("a") as config:
        config.write("[notion]\nrequests_per_second = 0\ntimeout = 5\nbackoff = 0.001\n")
    with FakeNotion() as fake:
        env = {"NOTION_TOKEN": fake.token, "VAULTMAP_NOTION_BASE_URL": fake.base_url}
        page = fake.add_page("Home")
        _invoke(vault, "notion", "init", "--parent", page, str(vault), env=env)
        assert load_settings(vault).notion.database_id
        yield vault, env


def test_sync_and_status_show_no_control_characters(
        notion_vault: tuple[Path, dict[str, str]]) -> None:
    vault, env = notion_vault
    assert "evil" in _invoke(vault, "sync", "--dry-run", str(vault), env=env)
    _invoke(vault, "sync", str(vault), env=env)
    note = vault / EVIL_NAME
    note.write_text(NOTE.replace("evil second", "evil changed"), encoding="utf-8")
    _invoke(vault, "status", str(vault), env=env, code=None)
    _invoke(vault, "sync", str(vault), env=env)


def test_doctor_and_config_warnings_show_no_control_characters(vault: Path) -> None:
    with (vault / ".vaultmap.toml").open("a") as config:
        config.write('"flav\\u001b]0;x\\u0007our" = 1\n[report]\n"dep\\u009bth" = 2\n')
    out = _invoke(vault, "doctor", str(vault), code=None)
    assert "flav" in out
    assert "did you mean" in _invoke(vault, "tasks", str(vault))


def test_an_unexpected_error_is_one_line_without_its_text_and_debug_shows_it(
        tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    # A bug is simulated by a scan that raises with a secret in its message: the one line
    # names only the exception's type.
    (tmp_path / "a.md").write_text("- [ ] one\n")
    probe = ("import sys, vaultmap.vault as v\n"
             "def broken(*a, **k):\n"
             "    raise RuntimeError('Authorization: Bearer secret_abc123')\n"
             "v.scan_vault = broken\n"
             "import vaultmap.cli.report_cmds as r\n"
             "r.scan_vault = broken\n"
             "from vaultmap.cli import main\n"
             f"main(['report', {str(tmp_path)!r}], prog_name='vaultmap')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False, env={**os.environ, "VAULTMAP_DEBUG": ""})
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "RuntimeError" in done.stderr
    assert "secret_abc123" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    debug = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=False, env={**os.environ, "VAULTMAP_DEBUG": "1"})
    assert "Traceback" in debug.stderr and debug.returncode != 0
