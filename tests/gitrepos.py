"""Real git repositories in temporary folders for the git tests.

Every repository sets its own identity and branch name: CI machines have no global git
configuration, and a developer's must not leak in.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}


def git_environment() -> dict[str, str]:
    """The environment tests run git in: no user or system config, a fixed identity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(IDENTITY, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    return env


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in ``cwd``; raise with its output when ``check`` and it fails."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env=git_environment(), check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


def init_repo(path: Path) -> Path:
    """A new work tree on branch main with a local identity."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test")
    git(path, "config", "user.email", "test@example.invalid")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit_all(repo: Path, message: str = "edit") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def remote_and_clones(tmp: Path, files: dict[str, bytes]) -> tuple[Path, Path, Path]:
    """A bare repository ("GitHub") holding ``files`` on main, and two clones of it."""
    seed = init_repo(tmp / "seed")
    for name, data in files.items():
        (seed / name).parent.mkdir(parents=True, exist_ok=True)
        (seed / name).write_bytes(data)
    commit_all(seed, "base")
    bare = tmp / "remote.git"
    git(tmp, "clone", "-q", "--bare", str(seed), str(bare))
    clones = []
    for name in ("laptop", "phone"):
        clone = tmp / name
        git(tmp, "clone", "-q", str(bare), str(clone))
        git(clone, "config", "user.name", f"Test {name}")
        git(clone, "config", "user.email", f"{name}@example.invalid")
        git(clone, "config", "commit.gpgsign", "false")
        clones.append(clone)
    return bare, clones[0], clones[1]
