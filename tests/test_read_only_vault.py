"""A vault we may not write (read-only files and folders, or a ``.vaultmap`` made by another
user): the commands that only read still answer, creating and changing nothing; the ones that
must write say in one line that ``.vaultmap`` must be writable (exit 12), never "move it
aside" (the files are healthy, and the GitHub links exist nowhere else) and never an
internal error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitsync_repos import GIT_ENV, git
from privileges import without_privileges
from vaultmap.sync.base import BaseEntry, ConflictRecord
from vaultmap.sync.github.store import GitHubStore, Link
from vaultmap.sync.state import StateStore

PLAN = "# Plan\n\n- [ ] one\n- [x] two\n"
KEY = "k:" + "0" * 20


def _chmod_tree(root: Path, *, writable: bool) -> None:
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | 0o200 if writable else mode & ~0o222)
    mode = root.stat().st_mode
    root.chmod(mode | 0o200 if writable else mode & ~0o222)


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Path]:
    """A synced, published, committed vault, then made read-only."""
    yield from _read_only_vault(tmp_path, "")


@pytest.fixture
def git_vault(tmp_path: Path) -> Iterator[Path]:
    """The same with ``[git] enabled``: ``status`` has git lines to print."""
    yield from _read_only_vault(tmp_path, "[git]\nenabled = true\n")


def _read_only_vault(tmp_path: Path, config: str) -> Iterator[Path]:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(config)
    (vault / "Plan.md").write_text(PLAN)
    state = vault / ".vaultmap"
    with GitHubStore.open(state) as store:
        store.put_link(Link("Plan.md", (), "o/r", 12, "abc123", "Plan"))
    with StateStore.open(state, "github") as base:  # the remote `status` shows here
        base.put(BaseEntry(KEY, "row-1", " ", "x", "aa", "bb", "Plan.md", "one", ("Plan",)))
        base.add_conflict(ConflictRecord(KEY, "Plan.md", "one", " ", "x", "remote",
                                         "2026-01-01T00:00:00+00:00"))
        base.finish_sync(datetime(2026, 1, 1, tzinfo=UTC))
    git(tmp_path, "init", "-q", "-b", "main", str(vault))
    git(vault, "add", "-A")
    git(vault, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q",
        "-m", "plan")
    before = {p: p.read_bytes() for p in state.iterdir()}
    _chmod_tree(vault, writable=False)
    try:
        yield vault
        assert {p: p.read_bytes() for p in state.iterdir()} == before  # nothing changed
    finally:
        _chmod_tree(vault, writable=True)


def _run(vault: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{k: v for k, v in GIT_ENV.items() if v},
           "GITHUB_TOKEN": "ghp_" + "a" * 36, "VAULTMAP_GITHUB_API_URL": "http://127.0.0.1:9"}
    env.pop("GH_TOKEN", None)
    return subprocess.run([*without_privileges(), sys.executable, "-m", "vaultmap", *args],
                          cwd=vault, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.slow
def test_reading_commands_answer_in_a_read_only_vault(vault: Path) -> None:
    listed = _run(vault, "github", "list")
    assert listed.returncode == 0, listed.stderr
    assert "Plan.md -> o/r#12" in listed.stdout
    status = _run(vault, "status", "--offline")
    assert status.returncode == 0, status.stderr
    assert "1 conflict(s)" in status.stdout and "last complete sync: 2026-01-01" in status.stdout
    for command in (["report"], ["tasks"], ["history"]):
        done = _run(vault, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert done.stderr == "", (command, done.stderr)
    doctor = _run(vault, "doctor", "--format", "json")
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["sync state"]["ok"], checks["sync state"]


@pytest.mark.parametrize("command", [
    ["sync", "--git"], ["done", "Plan.md:3"], ["github", "publish", "Plan.md", "--repo", "o/r"],
    ["sync"],
], ids=["sync --git", "done", "github publish", "sync"])
def test_writing_commands_say_that_vaultmap_must_be_writable(vault: Path,
                                                             command: list[str]) -> None:
    done = _run(vault, *command)
    assert done.returncode == 12, done.stderr
    assert "make it and its files writable for you" in done.stderr
    assert "aside" not in done.stderr and "internal error" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_clearing_conflicts_fails_first_and_prints_nothing_else(git_vault: Path) -> None:
    status = _run(git_vault, "status", "--offline")  # reading: git lines, then the state
    assert status.returncode == 0, status.stderr
    assert "main" in status.stdout and "1 conflict(s)" in status.stdout
    # Offline, and asking GitHub (unreachable here: the read-only answer comes first).
    for options in (["--offline"], []):
        cleared = _run(git_vault, "status", *options, "--clear-conflicts")
        assert cleared.returncode == 12, (options, cleared.stderr)
        assert cleared.stdout == ""
        assert "make it and its files writable for you" in cleared.stderr
        assert len(cleared.stderr.strip().splitlines()) == 1


def test_a_sync_state_we_may_not_open_is_never_called_damaged(tmp_path: Path) -> None:
    state = tmp_path / ".vaultmap"
    with StateStore.open(state, "notion") as base:
        base.finish_sync(datetime(2026, 1, 1, tzinfo=UTC))
    with GitHubStore.open(state):
        pass
    _chmod_tree(state, writable=False)
    probe = ("import sys\nfrom pathlib import Path\n"
             "from vaultmap.errors import StateError\n"
             "from vaultmap.sync.github.store import GitHubStore\n"
             "try:\n    GitHubStore.open(Path(sys.argv[1]))\n"
             "except StateError as error:\n    print(error)\n")
    try:
        done = subprocess.run([*without_privileges(), sys.executable, "-c", probe, str(state)],
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        _chmod_tree(state, writable=True)
    assert "writable" in done.stdout and "aside" not in done.stdout, done
