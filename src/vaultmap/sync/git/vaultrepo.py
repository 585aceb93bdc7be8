"""The vault inside its git repository: where it sits, its state folder, reading blobs.

Light on imports on purpose: ``vaultmap history`` and ``vaultmap report`` need only this and
:mod:`.process`, not the machinery of a sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import msgspec

from vaultmap.config import STATE_DIR, Settings
from vaultmap.errors import GitStateError
from vaultmap.fs import UnsafePath
from vaultmap.sync.git.process import Git
from vaultmap.vault.paths import open_state_folder

#: The files git sync keeps in ``.vaultmap/``: none of them is ever written through a link.
STATE_FILES = ("git.json", "merge-attributes", "history.sqlite", "history.sqlite-journal",
               "git-merges.jsonl", "merge-driver.log", "merge-driver.log.1")


class Repo(msgspec.Struct, frozen=True):
    """Where the vault sits in its git repository, and how to run git there."""

    git: Git
    top: Path  # the work tree's top folder
    git_dir: Path  # this work tree's git dir (MERGE_HEAD, index.lock live here)
    prefix: str  # the vault folder relative to ``top``, POSIX, "" or ending in "/"
    branch: str | None  # None: detached HEAD

    def vault_path(self, repo_path: str) -> str:
        return repo_path[len(self.prefix):]

    def repo_path(self, vault_path: str) -> str:
        return self.prefix + vault_path

    def pathspec(self) -> list[str]:
        """The vault's files, without ``.vaultmap/``, as pathspecs from ``top``."""
        inside = f":(top,literal){self.prefix}" if self.prefix else ":(top)"
        return [inside, f":(top,literal,exclude){self.prefix}{STATE_DIR}"]


def open_repo(settings: Settings, *, config: Mapping[str, str] | None = None) -> Repo:
    """Find the repository around the vault; :class:`GitStateError` when there is none."""
    probe = Git(settings.root, lock_timeout=settings.git.lock_timeout,
                timeout=settings.git.timeout)
    result = probe.run("rev-parse", "--show-toplevel", "--absolute-git-dir", "--show-prefix",
                       check=False)
    if not result.ok or result.text.count("\n") < 2:
        why = result.message()
        if "not a git repository" in why or "must be run in a work tree" in why:
            raise GitStateError(f"{settings.root} is not inside a git work tree: run `git init` "
                                "and add a remote, or sync without --git")
        raise GitStateError(f"{settings.root}: {why}")
    top, git_dir, prefix = result.text.split("\n")[:3]
    git = Git(Path(top), lock_timeout=settings.git.lock_timeout, timeout=settings.git.timeout,
              config=config, git_dir=Path(git_dir))
    head = git.run("symbolic-ref", "-q", "--short", "HEAD", check=False)
    branch = head.text.strip() if head.ok else None
    return Repo(git, Path(top), Path(git_dir), prefix, branch)


def open_repo_at_head(settings: Settings) -> tuple[Repo, str | None]:
    """:func:`open_repo` and the commit HEAD names (``None`` on a branch with no commit yet).

    One git process instead of three when the repository has a commit (``vaultmap history``
    starts with this, and a warm run does little else); otherwise :func:`open_repo` says
    what is wrong in its words."""
    probe = Git(settings.root, lock_timeout=settings.git.lock_timeout,
                timeout=settings.git.timeout)
    result = probe.run("rev-parse", "--show-toplevel", "--absolute-git-dir", "--show-prefix",
                       "HEAD", "--symbolic-full-name", "HEAD", check=False)
    lines = result.text.split("\n")
    if not result.ok or len(lines) < 5:
        return open_repo(settings), None
    top, git_dir, prefix, head, ref = lines[:5]
    git = Git(Path(top), lock_timeout=settings.git.lock_timeout, timeout=settings.git.timeout,
              git_dir=Path(git_dir))
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    return Repo(git, Path(top), Path(git_dir), prefix, branch), head


def state_dir(settings: Settings) -> Path:
    """``.vaultmap/``, made if needed (ignoring itself for git). A symbolic link there, or in
    place of one of git sync's files in it (either could come from a remote), is refused:
    vaultmap writes its state only inside the vault."""
    try:
        return open_state_folder(settings.state_dir, STATE_FILES)
    except UnsafePath as unsafe:
        raise GitStateError(f"{unsafe.reason}; nothing was written") from None
    except OSError as error:
        raise GitStateError(f"{settings.state_dir}: cannot create the state folder "
                            f"({error.strerror})") from None


def read_blobs(git: Git, shas: Iterable[str]) -> dict[str, bytes]:
    """Blob contents by id, through one ``git cat-file --batch``."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    result = git.run("cat-file", "--batch", input="".join(s + "\n" for s in wanted).encode())
    data = result.stdout
    out: dict[str, bytes] = {}
    pos = 0
    for sha in wanted:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        out[sha] = data[pos:pos + size]
        pos += size + 1
    return out
