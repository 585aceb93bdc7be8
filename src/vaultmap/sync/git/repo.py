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
  naming the file; a lock is never deleted (another git process may hold it). One
  :class:`LockBackoff` does that waiting for every caller;
- one translation of failures (:func:`run_once`, :func:`git_failure`): git missing or the
  folder gone, a command over its time (exit 18), a failed command (exit 17) with git's own
  message;
- error messages never carry a credential (:func:`redact`).

:class:`vaultmap.sync.git.process.Git` runs a sync's commands on top of these.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec

from vaultmap.errors import GitError, GitRemoteError, GitRepositoryError

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


class GitResult(msgspec.Struct, frozen=True):
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

    def message(self) -> str:
        """The line of git's stderr (or stdout) that says what went wrong, credentials
        removed."""
        return first_message(self.stderr or self.stdout, f"git {self.args[0]} failed")


def redact(text: str) -> str:
    """``text`` with credentials in URLs and authorization headers replaced by ``***``."""
    return _AUTH_HEADER.sub(r"\1***", _CREDENTIAL_IN_URL.sub(r"\1***@", text))


def first_message(output: bytes, fallback: str) -> str:
    """The line of a git command's output that says what went wrong (a ``fatal:``, then an
    ``error:``, then a ``remote:`` line, else the last line), without that prefix, masked, on
    one line; ``fallback`` when there is no output."""
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line and not line.startswith(("hint:", "To ", "From "))]
    for prefix in ("fatal:", "error:", "remote:"):
        for line in lines:
            if line.startswith(prefix):
                return redact(line.removeprefix(prefix).strip())
    return redact(lines[-1]) if lines else fallback


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
    With ``check`` a non-zero exit raises :func:`git_failure`'s error carrying git's message
    (credentials removed); without it the caller inspects :attr:`GitResult.returncode`.
    ``stdin`` is fed to the command; ``env`` adds variables to :func:`git_env`.
    """
    command = ["git", *args]
    backoff = LockBackoff(lock_wait)
    while True:
        result = run_once(command, cwd, git_env(env, read_only=read_only), args=args,
                          input=stdin, timeout=timeout)
        if result.ok:
            return result
        lock = held_lock(result)
        if lock is None:
            break
        backoff.pause(lock)  # another git process is working
    if check:
        raise git_failure(result)
    return result


def run_once(argv: Sequence[str], cwd: Path, env: Mapping[str, str], *, args: Sequence[str],
             input: bytes | None = None, timeout: float | None = None) -> GitResult:
    """Run one git command line ``argv`` (``args`` without the ``git`` and ``-c`` options).

    Not starting is one line: :class:`GitRepositoryError` when ``cwd`` is gone, else git is
    not installed. A command over ``timeout`` is killed with its children and is a
    :class:`GitRemoteError` (exit 18): the commands that run long talk to a remote."""
    try:
        returncode, stdout, stderr = run_process(argv, cwd, env, input=input, timeout=timeout)
    except FileNotFoundError:
        if not Path(cwd).is_dir():
            raise GitRepositoryError(f"{cwd}: no such folder") from None
        raise GitRepositoryError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitRemoteError(f"git {args[0]} took longer than {timeout:g} s and did not "
                             "finish; gave up (see [git] timeout)") from None
    return GitResult(tuple(args), returncode, stdout, stderr)


def git_failure(result: GitResult) -> GitError:
    """The error (exit 17) for a git command that failed, with git's own message."""
    return GitRepositoryError(f"git {result.args[0]}: {result.message()}")


def held_lock(result: GitResult) -> Path | None:
    """The ``index.lock`` another process held when ``result``'s command needed it."""
    found = _LOCK_MESSAGE.search(result.stderr.decode("utf-8", "replace"))
    return Path(found.group(1)) if found is not None else None


class LockBackoff:
    """Waiting for another git process's ``index.lock``: one deadline ``seconds`` away for
    every wait of one command, delays doubling from 20 ms to 0.5 s. The lock is never
    removed: its owner (the user's git, an editor plugin) may be alive, and deleting a live
    lock corrupts the index."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline = time.monotonic() + seconds
        self._delay = _LOCK_FIRST_DELAY

    def pause(self, lock: Path) -> None:
        """Sleep before the next try, or raise :class:`GitRepositoryError` naming ``lock``
        once the deadline has passed."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _lock_error(lock, self.seconds)
        time.sleep(min(self._delay, remaining))  # backoff: another git process is working
        self._delay = min(self._delay * 2, _LOCK_MAX_DELAY)

    def wait_until_free(self, git_directory: Path) -> None:
        """Return once ``git_directory/index.lock`` does not exist."""
        lock = git_directory / "index.lock"
        while lock.exists():
            self.pause(lock)


def _lock_error(lock: Path, waited: float) -> GitRepositoryError:
    return GitRepositoryError(
        f"{lock} is held by another git process; waited {waited:g} s for it (if no git "
        "process is running, a crashed one left it behind: remove the file)")


def wait_for_index_lock(git_directory: Path, *, timeout: float = LOCK_WAIT_SECONDS) -> None:
    """Return once ``GIT_DIR/index.lock`` does not exist, waiting with backoff up to
    ``timeout`` seconds; then raise :class:`GitRepositoryError` naming the file.

    The lock is never removed: another git process (the user's, an editor plugin's) may hold
    it, and deleting a live lock corrupts the index.
    """
    LockBackoff(timeout).wait_until_free(git_directory)


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
        why = result.message()
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
