"""What the sync state machines found, each pinned as a plain test.

Each test replays the shortest sequence of steps that broke a machine (or that a machine's
failure showed to be said wrongly), with real notes and the real runner: through the CLI and a
fake remote on 127.0.0.1, or with the in-memory remote.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from fake_github import FakeGitHub
from memory_remote import MemoryRemote
from vaultmap.cli import main
from vaultmap.config import NotionSettings, Settings
from vaultmap.sync.github.body import parse_body
from vaultmap.sync.runner import run_sync

GITHUB_CONFIG = "[github]\nwrite_interval = 0\nbackoff = 0.001\n"


def _run(fake: FakeGitHub, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False, env={
        "GITHUB_TOKEN": fake.token, "GH_TOKEN": None, "VAULTMAP_GITHUB_API_URL": fake.api_url})
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def _block_texts(fake: FakeGitHub, number: int) -> list[str]:
    parsed = parse_body(fake.issue("ada/plan", number).body)
    assert parsed is not None
    return [task.text for task in parsed.tasks()]


def test_lines_of_an_emptied_checklist_leave_once_the_note_has_tasks_again(
        tmp_path: Path) -> None:
    # A published note emptied of tasks looks moved, so its lines are left on GitHub; they
    # must stay known, so that once the note holds tasks again they are removed like any
    # deleted task's line, not left behind under keys no task carries.
    (tmp_path / ".vaultmap.toml").write_text(GITHUB_CONFIG)
    note = tmp_path / "Plan.md"
    note.write_text("# Plan\n- [ ] one\n- [ ] two\n")
    with FakeGitHub() as fake:
        fake.add_repo("ada/plan")
        _run(fake, "github", "publish", str(note), "--repo", "ada/plan")
        note.write_text("# Plan\n")
        _run(fake, "sync", str(tmp_path), "--force")
        assert _block_texts(fake, 1) == ["one", "two"]  # left as it is: moved, maybe
        note.write_text("# Plan\n- [ ] three\n")
        _run(fake, "sync", str(tmp_path), "--force")
        assert _block_texts(fake, 1) == ["three"]
        assert "nothing to do" in _run(fake, "sync", str(tmp_path))


def test_a_kept_row_is_logged_as_not_in_the_note(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    # A row whose key no task carries and the base does not know (its task deleted, then the
    # state lost) is kept: the log says so instead of "is [] in the note ... kept [ ]".
    note = tmp_path / "Plan.md"
    note.write_text("- [ ] one\n- [ ] two\n")
    settings = Settings(root=tmp_path, notion=NotionSettings(database_id="db"))
    remote = MemoryRemote()
    assert run_sync(settings, remote).ok
    for path in settings.state_dir.glob("sync.sqlite*"):
        path.unlink()
    note.write_text("- [ ] one\n")
    with caplog.at_level(logging.WARNING, logger="vaultmap.sync"):
        assert run_sync(settings, remote).ok
    assert [r.text for r in remote.live()] == ["one", "two"]  # kept, never trashed
    logged = [r.getMessage() for r in caplog.records if "sync conflict" in r.getMessage()]
    assert logged == ["sync conflict: Plan.md: 'two' is not in the note and [ ] in notion; "
                      "the row is kept"], logged
