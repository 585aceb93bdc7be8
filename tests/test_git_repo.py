"""The shared git plumbing: repository root, clean environment, lock waiting, redaction."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gitrepos import commit_all, git, init_repo
from vaultmap.errors import GitError, GitRepositoryError
from vaultmap.sync.git.repo import (
    find_repo_root,
    git_dir,
    redact,
    repo_state,
    run_git,
    wait_for_index_lock,
)


def test_repo_root_from_a_subfolder_and_a_file(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "vault" / "notes").mkdir(parents=True)
    (repo / "vault" / "notes" / "a.md").write_text("- [ ] a\n")
    assert find_repo_root(repo / "vault" / "notes") == repo.resolve()
    assert find_repo_root(repo / "vault" / "notes" / "a.md") == repo.resolve()
    assert git_dir(repo) == (repo / ".git").resolve()


def test_not_a_work_tree_is_one_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitRepositoryError) as caught:
        find_repo_root(plain)
    assert caught.value.exit_code == 17
    assert "not inside a git work tree" in str(caught.value)


def test_inherited_repository_variables_do_not_redirect_commands(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A merge driver or hook runs with GIT_DIR of the outer repository set.
    outer = init_repo(tmp_path / "outer")
    inner = init_repo(tmp_path / "inner")
    monkeypatch.setenv("GIT_DIR", str(outer / ".git"))
    assert find_repo_root(inner) == inner.resolve()


def test_a_held_index_lock_is_waited_for_then_named_and_never_removed(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "a.md").write_text("- [ ] a\n")
    lock = repo / ".git" / "index.lock"
    lock.write_bytes(b"")
    started = time.monotonic()
    with pytest.raises(GitRepositoryError) as caught:
        run_git(["add", "a.md"], repo, lock_wait=0.3)
    assert time.monotonic() - started >= 0.2  # it did wait before giving up
    assert str(lock) in str(caught.value)
    assert lock.exists()
    with pytest.raises(GitRepositoryError):
        wait_for_index_lock(repo / ".git", timeout=0.1)
    lock.unlink()
    run_git(["add", "a.md"], repo, lock_wait=0.3)
    wait_for_index_lock(repo / ".git", timeout=0.1)


def test_failures_carry_the_first_line_without_credentials(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    with pytest.raises(GitError) as caught:
        run_git(["fetch", "https://alice:s3cret-token@127.0.0.1:9/x.git"], repo, timeout=20)
    assert "s3cret-token" not in str(caught.value)
    assert caught.value.exit_code == 17
    assert redact("https://alice:tok@host/x and http://t@h/y") == \
        "https://***@host/x and http://***@h/y"
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"


def test_repo_state_names_a_merge_in_progress(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "a.md").write_text("one\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "a.md").write_text("two\n")
    commit_all(repo, "side")
    git(repo, "checkout", "-q", "main")
    (repo / "a.md").write_text("three\n")
    commit_all(repo, "main")
    assert repo_state(repo / ".git") is None
    git(repo, "merge", "side", check=False)
    assert repo_state(repo / ".git") == "merge"
    git(repo, "merge", "--abort")
    git(repo, "rebase", "side", check=False)
    assert repo_state(repo / ".git") == "rebase"


def test_redact_hides_a_password_that_holds_an_at_sign() -> None:
    # curl and git take the last "@" before the host: all of "p@ss" is the password.
    assert redact("unable to access 'https://alice:p@ss@host/x.git/'") == \
        "unable to access 'https://***@host/x.git/'"
    assert redact("ssh://git:a@b@c@host:22/x and https://h/y@z") == \
        "ssh://***@host:22/x and https://h/y@z"
