"""The file-system edge holds for the state files of git sync, the merge driver, the git
history cache and the GitHub link table: a cloned repository or a shared folder can carry a
``.vaultmap/`` file that is a symbolic link pointing outside the vault, or a FIFO, and neither
may make vaultmap write outside the vault or hang."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gitsync_repos import GIT_ENV, clone, git, make_origin

PLAN = "# Plan\n\n- [ ] one\n- [ ] two\n"
OUTSIDE_TEXT = b"a file of the user's outside the vault\n"


def _origin_with_link(tmp_path: Path, name: str, target: Path) -> Path:
    """An origin whose ``.vaultmap/<name>`` is a committed symbolic link to ``target``."""
    bare = make_origin(tmp_path, {"Plan.md": PLAN})
    seed = tmp_path / "seed"
    (seed / ".vaultmap").mkdir()
    (seed / ".vaultmap" / name).symlink_to(target)
    git(seed, "add", "-f", "-A")
    git(seed, "commit", "-q", "-m", "a state file that is a link")
    git(seed, "push", "-q", str(bare), "main")
    return bare


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(OUTSIDE_TEXT)
    return outside


def test_git_sync_never_writes_its_attributes_file_through_a_cloned_link(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    a = clone(_origin_with_link(tmp_path, "merge-attributes", outside), tmp_path, "a")
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    result = a.sync(code=17)
    assert outside.read_bytes() == OUTSIDE_TEXT
    assert "symbolic link" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_git_history_cache_is_never_opened_through_a_cloned_link(tmp_path: Path) -> None:
    outside = tmp_path / "made-outside.sqlite"  # a dangling link: SQLite would create it
    a = clone(_origin_with_link(tmp_path, "history.sqlite", outside), tmp_path, "a")
    result = a.vaultmap("history", "--format", "json", str(a.vault))
    assert not outside.exists()
    assert result.stdout.strip().startswith(("{", "["))


def test_a_fifo_in_place_of_the_git_record_is_refused_not_waited_on(tmp_path: Path) -> None:
    a = clone(make_origin(tmp_path, {"Plan.md": PLAN}), tmp_path, "a")
    (a.vault / ".vaultmap").mkdir(exist_ok=True)
    os.mkfifo(a.vault / ".vaultmap" / "git.json")
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    env = {**os.environ, **{k: v for k, v in GIT_ENV.items() if v}}
    done = subprocess.run([sys.executable, "-m", "vaultmap", "sync", "--git", str(a.vault)],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 17, done.stderr
    assert "not a regular file" in done.stderr
    assert "Traceback" not in done.stderr


