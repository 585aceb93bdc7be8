"""Running git: the plumbing every git feature of vaultmap shares.

git is run as a subprocess (``git`` on PATH), never through a long-lived library object, so
nothing leaks in a process that runs for days: each call starts and reaps one short process.
Example::

    root = find_repo_root(Path("~/notes").expanduser())
    head = run_git(["rev-parse", "HEAD"], root).text.strip()

What this module guarantees:

- a clean environment (:func:`git_env`): variables a hook or a merge driver inherits from an
  outer git (``GIT_DIR``, ``GIT_INDEX_FILE`` ...) are dropped so a command acts on the
  repository it is pointed at; messages are in English (``LC_ALL=C``) so they can be
  recognised; git never prompts on the terminal (credentials come from the user's credential
  helper or SSH agent, or the command fails);
- a busy ``index.lock`` is waited for with backoff up to a limit, then reported in one line
  naming the file; a lock is never deleted (another git process may hold it);
- error messages never carry a credential (:func:`redact`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vaultmap.errors import GitError, GitRepositoryError

#: How long a command waits for another git process's ``index.lock`` before giving up.
LOCK_WAIT_SECONDS = 10.0
_LOCK_FIRST_DELAY = 0.02
_LOCK_MAX_DELAY = 0.5

# What `git rev-parse --local-env-vars` lists (git 2.39): they tie a command to one repository,
# so an inherited value would point our command at the wrong one.
_REPOSITORY_VARIABLES = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT", "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE", "GIT_INDEX_FILE", "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE", "GIT_PREFIX", "GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
)
# `scheme://user:secret@host` -> `scheme://***@host`; also a bare token in an http header echo.
_CREDENTIAL_IN_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s]+@")  # greedy: the last "@"
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*\w+\s+)\S+")
_LOCK_MESSAGE = re.compile(r"Unable to create '([^']*index\.lock)': File exists")


@dataclass(frozen=True, slots=True)
class GitResult:
    """What one git command did."""

    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def text(self) -> str:
        """stdout decoded as UTF-8 (paths git prints unquoted with ``-z`` are bytes-exact)."""
        return self.stdout.decode("utf-8", "surrogateescape")

    @property
    def message(self) -> str:
        """The first meaningful line of stderr (or stdout), credentials removed."""
        return first_line(self.stderr) or first_line(self.stdout)


def redact(text: str) -> str:
    """``text`` with credentials in URLs and authorization headers replaced by ``***``."""
    return _AUTH_HEADER.sub(r"\1***", _CREDENTIAL_IN_URL.sub(r"\1***@", text))


def first_line(output: bytes | str) -> str:
    """The first non-empty line of a command's output, without git's ``fatal:``/``error:``
    prefix, credentials removed."""
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
    for line in text.splitlines():
        line = line.strip()
        if line:
            for prefix in ("fatal: ", "error: "):
                if line.startswith(prefix):
                    line = line[len(prefix):]
            return redact(line)
    return ""


def git_env(extra: Mapping[str, str] | None = None, *, read_only: bool = False) -> dict[str, str]:
    """The environment for a git subprocess: the user's, minus repository-binding variables,
    plus English messages, no terminal prompts and no editor.

    ``read_only`` adds ``GIT_OPTIONAL_LOCKS=0`` so a status/log run in the background never
    takes the index lock a user's own git command needs.
    """
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
    env.update(LC_ALL="C", LANGUAGE="C", GIT_TERMINAL_PROMPT="0", GIT_EDITOR="true",
               GIT_MERGE_AUTOEDIT="no", GIT_PAGER="cat", PAGER="cat")
    if read_only:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    if extra:
        env.update(extra)
    return env


def run_process(argv: Sequence[str], cwd: Path, env: Mapping[str, str], *,
                input: bytes | None = None, timeout: float | None = None
                ) -> tuple[int, bytes, bytes]:
    """Run ``argv`` once, the one way vaultmap starts git: its own process group, killed
    as a group on timeout (a ``git fetch`` over SSH, or an alias, has children of its own
    that would otherwise linger), then ``subprocess.TimeoutExpired`` is raised. Returns the
    exit code, stdout and stderr."""
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = process.communicate(input, timeout=timeout)
    except BaseException:
        _kill_group(process)
        process.communicate()
        raise
    return process.returncode, stdout, stderr


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def run_git(
    args: Sequence[str],
    cwd: Path,
    *,
    check: bool = True,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    read_only: bool = False,
    lock_wait: float = LOCK_WAIT_SECONDS,
    timeout: float | None = None,
) -> GitResult:
    """Run ``git ARGS`` in ``cwd`` and return its result.

    A command that fails because another process holds ``index.lock`` is retried with backoff
    until ``lock_wait`` seconds have passed, then :class:`GitRepositoryError` names the lock.
    With ``check`` a non-zero exit raises :class:`GitError` carrying git's first message line
    (credentials removed); without it the caller inspects :attr:`GitResult.returncode`.
    ``stdin`` is fed to the command; ``env`` adds variables to :func:`git_env`.
    """
    command = ["git", *args]
    deadline = time.monotonic() + lock_wait
    delay = _LOCK_FIRST_DELAY
    while True:
        try:
            returncode, stdout, stderr = run_process(
                command, cwd, git_env(env, read_only=read_only), input=stdin, timeout=timeout)
        except FileNotFoundError:
            if not Path(cwd).is_dir():
                raise GitRepositoryError(f"{cwd}: no such folder") from None
            raise GitError("git is not installed (or not on PATH)") from None
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} did not finish within {timeout:g} s") from None
        result = GitResult(tuple(args), returncode, stdout, stderr)
        if result.ok:
            return result
        lock = _LOCK_MESSAGE.search(stderr.decode("utf-8", "replace"))
        if lock is None:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _lock_error(Path(lock.group(1)))
        time.sleep(min(delay, remaining))  # backoff: another git process is working
        delay = min(delay * 2, _LOCK_MAX_DELAY)
    if check:
        raise GitError(f"git {args[0]} failed: {result.message or f'exit {result.returncode}'}")
    return result


def _lock_error(lock: Path) -> GitRepositoryError:
    return GitRepositoryError(
        f"{lock} is held by another git process; wait for it to finish (if no git process is "
        "running, a crashed one left it behind: remove the file)")


def wait_for_index_lock(git_directory: Path, *, timeout: float = LOCK_WAIT_SECONDS) -> None:
    """Return once ``GIT_DIR/index.lock`` does not exist, waiting with backoff up to
    ``timeout`` seconds; then raise :class:`GitRepositoryError` naming the file.

    The lock is never removed: another git process (the user's, an editor plugin's) may hold
    it, and deleting a live lock corrupts the index.
    """
    lock = git_directory / "index.lock"
    deadline = time.monotonic() + timeout
    delay = _LOCK_FIRST_DELAY
    while lock.exists():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _lock_error(lock)
        time.sleep(min(delay, remaining))  # backoff: another git process is working
        delay = min(delay * 2, _LOCK_MAX_DELAY)


def find_repo_root(path: Path) -> Path:
    """The top folder of the git work tree that holds ``path`` (a folder or a file).

    Raises :class:`GitRepositoryError` when ``path`` is not inside a work tree (a bare
    repository, a ``.git`` folder, or no repository at all).
    """
    start = path.absolute()
    folder = start if start.is_dir() else start.parent
    result = run_git(["rev-parse", "--show-toplevel"], folder, check=False, read_only=True)
    top = result.text.strip()
    if not result.ok or not top:
        why = result.message
        if why and "not a git repository" not in why:
            # A repository git refuses to use (another user's: "dubious ownership", a broken
            # .git): say git's reason, not "run `git init`".
            raise GitRepositoryError(f"{path}: {why}")
        raise GitRepositoryError(f"{path}: not inside a git work tree (run `git init` or "
                                 "clone the repository first)")
    return Path(top)


def git_dir(root: Path) -> Path:
    """The absolute git directory of the work tree at ``root`` (``.git``, or the per-worktree
    folder of a linked worktree, where merge and rebase state lives)."""
    result = run_git(["rev-parse", "--absolute-git-dir"], root, check=False, read_only=True)
    if not result.ok:
        raise GitRepositoryError(f"{root}: not inside a git work tree")
    return Path(result.text.strip())


def repo_state(git_directory: Path) -> str | None:
    """What the repository is in the middle of: ``"rebase"``, ``"merge"``, ``"cherry-pick"``,
    ``"revert"``, ``"am"``, or ``None``.

    During a rebase, git's ``%A`` (ours) is the branch being rebased onto, i.e. the upstream,
    and ``%B`` (theirs) is the local commit being replayed.
    """
    if (git_directory / "rebase-merge").is_dir():
        return "rebase"
    apply_dir = git_directory / "rebase-apply"
    if apply_dir.is_dir():
        return "am" if (apply_dir / "applying").exists() else "rebase"
    for name, state in (("MERGE_HEAD", "merge"), ("CHERRY_PICK_HEAD", "cherry-pick"),
                        ("REVERT_HEAD", "revert")):
        if (git_directory / name).exists():
            return state
    return None
