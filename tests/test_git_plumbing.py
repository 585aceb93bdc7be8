"""The two ways vaultmap runs git (``repo.run_git`` for one-off commands, ``process.Git`` for a
sync's) share one lock wait and one wording of failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrepos import init_repo
from vaultmap.errors import GitError, GitRepositoryError
from vaultmap.sync.git.process import Git
from vaultmap.sync.git.repo import run_git


def _failure(call: object) -> GitError:
    assert callable(call)
    with pytest.raises(GitError) as caught:
        call()
    return caught.value


def test_both_runners_name_a_held_lock_in_the_same_words(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "a.md").write_text("- [ ] a\n")
    lock = repo / ".git" / "index.lock"
    lock.write_bytes(b"")
    one_off = _failure(lambda: run_git(["add", "a.md"], repo, lock_wait=0.2))
    in_sync = _failure(lambda: Git(repo, lock_timeout=0.2, git_dir=repo / ".git").run(
        "add", "a.md", locks=True))
    assert str(one_off) == str(in_sync)
    assert str(lock) in str(in_sync) and "waited 0.2 s" in str(in_sync)
    assert isinstance(in_sync, GitRepositoryError) and in_sync.exit_code == 17
    assert lock.exists()  # never removed: its owner may be alive


def test_both_runners_word_a_failed_command_the_same(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    one_off = _failure(lambda: run_git(["rev-parse", "--verify", "no-such-ref"], repo))
    in_sync = _failure(lambda: Git(repo).run("rev-parse", "--verify", "no-such-ref"))
    assert str(one_off) == str(in_sync) == "git rev-parse: Needed a single revision"
    assert one_off.exit_code == in_sync.exit_code == 17


def test_a_vanished_working_folder_is_not_taken_for_a_missing_git(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    error = _failure(lambda: Git(gone).run("status"))
    assert str(error) == f"{gone}: no such folder"
    assert error.exit_code == 17
