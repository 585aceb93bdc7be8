"""Exit codes and side effects of ``sync`` and ``status`` that a user relies on: a dry run
changes nothing anywhere, ``status`` never prints half an answer before failing, and a wrong
API address is a configuration error."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fake_notion import FakeNotion
from vaultmap.cli import main

CONFIG = """\
[notion]
requests_per_second = 0
timeout = 2
backoff = 0.001
max_attempts = 2
"""


def _invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture
def linked(tmp_path: Path) -> Iterator[tuple[Path, FakeNotion, dict[str, str]]]:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(CONFIG)
    (vault / "Plan.md").write_text("- [ ] one\n- [x] two\n")
    with FakeNotion() as fake:
        env = {"NOTION_TOKEN": fake.token, "VAULTMAP_NOTION_BASE_URL": fake.base_url}
        result = _invoke(["notion", "init", "--parent", fake.add_page("Home"), str(vault)], env)
        assert result.exit_code == 0, result.output
        yield vault, fake, env


def test_a_dry_run_creates_no_state_lock_or_index(
        linked: tuple[Path, FakeNotion, dict[str, str]]) -> None:
    vault, _fake, env = linked
    before = _files(vault)
    result = _invoke(["sync", "--dry-run", str(vault)], env)
    assert result.exit_code == 0, result.output
    assert "one" in result.stdout
    assert _files(vault) == before  # no .vaultmap/, sync.sqlite, lock or index
    status = _invoke(["status", str(vault)], env)
    assert status.exit_code == 0, status.output
    assert "a sync now would:" in status.stdout
    assert _files(vault) == before


def test_a_dry_run_after_a_sync_reads_the_state_and_changes_nothing(
        linked: tuple[Path, FakeNotion, dict[str, str]]) -> None:
    vault, fake, env = linked
    assert _invoke(["sync", str(vault)], env).exit_code == 0
    state = vault / ".vaultmap" / "sync.sqlite"
    stamp = state.stat().st_mtime_ns, state.read_bytes()
    (vault / "Plan.md").write_text("- [x] one\n- [x] two\n")
    result = _invoke(["sync", "--dry-run", str(vault)], env)
    assert result.exit_code == 0, result.output
    assert "one" in result.stdout
    assert (state.stat().st_mtime_ns, state.read_bytes()) == stamp
    assert not any(row["Done"] is True and row["Task"] == "one"
                   for row in fake.table(_database(vault)))


def _database(vault: Path) -> str:
    from vaultmap.config import load_settings

    return load_settings(vault).notion.database_id


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_status_fails_before_printing_anything(
        linked: tuple[Path, FakeNotion, dict[str, str]]) -> None:
    vault, _fake, env = linked
    down = dict(env, VAULTMAP_NOTION_BASE_URL=f"http://127.0.0.1:{_closed_port()}")
    result = _invoke(["status", str(vault)], down)
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    assert "no conflicts" not in result.output
    offline = _invoke(["status", "--offline", str(vault)], down)
    assert offline.exit_code == 0 and offline.stdout == "no conflicts\n"


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:1/\nX-Evil: 1", "ftp://x",
                                 "notion.so", "http://127.0.0.1:port"])
def test_a_bad_api_address_is_a_configuration_error(
        linked: tuple[Path, FakeNotion, dict[str, str]], url: str) -> None:
    vault, _fake, env = linked
    for command in (["sync", str(vault)], ["sync", "--dry-run", str(vault)],
                    ["status", str(vault)]):
        result = _invoke(command, dict(env, VAULTMAP_NOTION_BASE_URL=url))
        assert result.exit_code == 3, (command, result.output)
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith("vaultmap: the Notion API address ")
