"""`vaultmap init`: a new vault from the template, or just a config; never overwrites a file."""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultmap.cli import main
from vaultmap.cli.report_cmds import (
    DEFAULT_CONFIG,
    InitError,
    init_config,
    init_vault,
    template_dir,
    template_files,
)
from vaultmap.config import load_settings

VAULTMAP = Path(sys.executable).parent / "vaultmap"
REPO_TEMPLATE = Path(__file__).resolve().parent.parent / "vault-template"


def make_template(root: Path) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    (root / ".obsidian" / "app.json").write_bytes(b"{}\n")
    (root / ".vaultmap").mkdir()
    (root / ".vaultmap" / "scan-index.pickle").write_bytes(b"state, never copied")
    (root / "Plans").mkdir()
    (root / "Plans" / "Plan.md").write_bytes(b"# Plan\r\n- [ ] first\r\n- [x] second\r\n")
    (root / ".vaultmap.toml").write_bytes(b"[report]\ndepth = 3\n")
    return root


def test_init_vault_copies_every_template_file_byte_for_byte(tmp_path: Path) -> None:
    template = make_template(tmp_path / "template")
    target = tmp_path / "new" / "vault"
    written = init_vault(target, template)
    assert written == [".obsidian/app.json", ".vaultmap.toml", "Plans/Plan.md"]
    for rel in written:
        assert (target / rel).read_bytes() == (template / rel).read_bytes()
    assert not (target / ".vaultmap").exists()  # the template's own state stays behind


def test_init_vault_refuses_and_writes_nothing_when_a_file_exists(tmp_path: Path) -> None:
    template = make_template(tmp_path / "template")
    target = tmp_path / "vault"
    (target / "Plans").mkdir(parents=True)
    (target / "Plans" / "Plan.md").write_bytes(b"my own plan")
    try:
        init_vault(target, template)
    except InitError as error:
        message = str(error)
    else:
        raise AssertionError("init overwrote or ignored an existing file")
    assert "Plans/Plan.md" in message and "nothing was written" in message
    assert (target / "Plans" / "Plan.md").read_bytes() == b"my own plan"
    assert sorted(p.name for p in target.rglob("*")) == ["Plan.md", "Plans"]


def test_init_config_only_never_overwrites(tmp_path: Path) -> None:
    template = make_template(tmp_path / "template")
    vault = tmp_path / "vault"
    vault.mkdir()
    written = init_config(vault, template)
    assert written.read_bytes() == b"[report]\ndepth = 3\n"
    written.write_bytes(b"# mine\n")
    try:
        init_config(vault, template)
    except InitError as error:
        assert "already exists" in str(error)
    else:
        raise AssertionError("init --config-only overwrote a config")
    assert written.read_bytes() == b"# mine\n"


def test_default_config_is_valid_and_matches_the_defaults(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    init_config(vault, None)
    assert (vault / ".vaultmap.toml").read_text(encoding="utf-8") == DEFAULT_CONFIG
    settings = load_settings(vault)
    assert settings.warnings == ()
    assert settings.report.depth == 2 and not settings.report.top_level_only


def test_the_packaged_template_is_the_repository_template() -> None:
    packaged = Path(str(files("vaultmap") / "_template"))
    assert packaged.is_dir()
    assert template_dir().resolve() == REPO_TEMPLATE.resolve()
    assert template_files(packaged) == template_files(REPO_TEMPLATE)


def test_cli_init_makes_a_vault_from_the_template(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    expected = template_files(REPO_TEMPLATE)
    assert expected, "vault-template/ is empty"
    assert template_files(target) == expected
    for rel in expected:
        assert (target / rel).read_bytes() == (REPO_TEMPLATE / rel).read_bytes()
    assert f"({len(expected)} files)" in result.stdout
    # The new vault reports.
    report = CliRunner().invoke(main, ["report", str(target), "--format", "json"])
    assert report.exit_code == 0, report.output
    # A second init into the same folder refuses, exit 1, one line, nothing changed.
    again = CliRunner().invoke(main, ["init", str(target)])
    assert again.exit_code == 1
    assert again.stderr.startswith("vaultmap: ") and again.stderr.count("\n") == 1
    assert "never overwrites" in again.stderr


@pytest.mark.parametrize("name", ["it's mine", "plain", "two words", "a$HOME;b", "x*y"])
def test_cli_init_names_the_next_command_so_a_shell_reads_the_same_path(
        tmp_path: Path, name: str) -> None:
    # A folder name with a quote was shown as 'it's mine', which no shell reads back.
    target = tmp_path / name
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    command = result.stdout.split("Next: ", 1)[1].strip()
    assert command.startswith("vaultmap report ")
    shown = command.removeprefix("vaultmap report ")
    echoed = subprocess.run(["sh", "-c", f"printf '%s' {shown}"], capture_output=True,
                            text=True, check=True, timeout=30).stdout
    assert echoed == str(target)


def test_cli_init_config_only(tmp_path: Path) -> None:
    vault = tmp_path / "existing"
    vault.mkdir()
    (vault / "note.md").write_bytes(b"- [ ] keep me\n")
    first = CliRunner().invoke(main, ["init", "--config-only", str(vault)])
    assert first.exit_code == 0, first.output
    config = (vault / ".vaultmap.toml").read_bytes()
    assert load_settings(vault).warnings == ()
    assert (vault / "note.md").read_bytes() == b"- [ ] keep me\n"
    assert sorted(p.name for p in vault.iterdir()) == [".vaultmap.toml", "note.md"]
    second = CliRunner().invoke(main, ["init", "--config-only", str(vault)])
    assert second.exit_code == 1 and "already exists" in second.stderr
    assert (vault / ".vaultmap.toml").read_bytes() == config
    missing = CliRunner().invoke(main, ["init", "--config-only", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "no such folder" in missing.stderr


def test_init_subprocess(tmp_path: Path) -> None:
    target = tmp_path / "made by a process"
    proc = subprocess.run([str(VAULTMAP), "init", str(target)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert template_files(target) == template_files(REPO_TEMPLATE)
    assert f"vaultmap report '{target}'" in proc.stdout
    again = subprocess.run([str(VAULTMAP), "init", str(target)], capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 1 and "Traceback" not in again.stderr


def test_report_of_the_template_vault_exits_zero() -> None:
    # --no-index: a test never writes an index into the source tree.
    proc = subprocess.run([str(VAULTMAP), "report", str(REPO_TEMPLATE), "--no-index"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Overall" in proc.stdout
