"""Real git repositories for tests: a bare repository playing "GitHub" and clones of it.

Each clone sets its own ``user.name`` / ``user.email`` and the branch is ``main`` (CI has no
git identity and may have another default branch).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from vaultmap.cli import main

# Tests must not read the developer's ~/.gitconfig (a pull.rebase there changes behaviour).
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_DATE": "", "GIT_COMMITTER_DATE": ""}


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v != ""}
    result = subprocess.run(["git", *args], cwd=cwd, env=full_env, capture_output=True,
                            text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


@dataclass
class Clone:
    path: Path  # the work tree top
    vault: Path  # the vault folder (the top, or a subfolder)

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.path, *args, check=check)

    def write(self, rel: str, text: str | bytes) -> None:
        path = self.vault / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode() if isinstance(text, str) else text)

    def read_bytes(self, rel: str) -> bytes:
        return (self.vault / rel).read_bytes()

    def read(self, rel: str) -> str:
        return (self.vault / rel).read_bytes().decode("utf-8", "surrogateescape")

    def vaultmap(self, *args: str, code: int | None = 0) -> Result:
        env = {k: v for k, v in GIT_ENV.items() if v}
        result = CliRunner().invoke(main, [*args], env=env, catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return result

    def sync(self, *args: str, code: int | None = 0) -> Result:
        return self.vaultmap("sync", "--git", *args, str(self.vault), code=code)

    def head_subject(self) -> str:
        return self.git("log", "-1", "--format=%s").strip()

    def commit_all(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)


def make_origin(root: Path, files: dict[str, str] | dict[str, bytes], *,
                subfolder: str = "") -> Path:
    """A bare repository whose ``main`` holds ``files`` (under ``subfolder``)."""
    bare = root / "origin.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = root / "seed"
    git(root, "init", "-q", "-b", "main", str(seed))
    _identity(seed, "seed")
    for rel, text in files.items():
        path = seed / subfolder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode() if isinstance(text, str) else text)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "seed")
    git(seed, "push", "-q", str(bare), "main")
    return bare


def _identity(path: Path, name: str) -> None:
    git(path, "config", "user.name", name)
    git(path, "config", "user.email", f"{name}@example.invalid")


def clone(bare: Path, where: Path, name: str, *, subfolder: str = "",
          config: str = "") -> Clone:
    """A clone of ``bare`` with its own identity; its vault gets a ``.vaultmap.toml``."""
    path = where / name
    git(where, "clone", "-q", "-b", "main", str(bare), str(path))
    _identity(path, name)
    vault = path / subfolder if subfolder else path
    vault.mkdir(parents=True, exist_ok=True)
    (vault / ".vaultmap.toml").write_text("[git]\nlock_timeout = 1.0\ntimeout = 20\n" + config)
    # The config file is the user's own business; commit it so it is not "a change".
    git(path, "add", "-A")
    if git(path, "status", "--porcelain"):
        git(path, "commit", "-q", "-m", f"{name}: vaultmap config")
        git(path, "pull", "-q", "--no-rebase", "--no-edit", check=False)
        git(path, "push", "-q")
    return Clone(path, vault)
