"""Running git: one short-lived subprocess per command, credentials and locks handled safely.

* Every command is its own process, started in its own process group and killed as a group on
  timeout, so nothing lingers (a ``git fetch`` over SSH has children of its own).
* git's own credential helpers and SSH agent are used; vaultmap never sees a credential. Git is
  told not to prompt on a terminal (``GIT_TERMINAL_PROMPT=0``), so a missing credential fails
  at once instead of hanging an unattended run. Anything that looks like a credential inside a
  URL is masked in the messages we pass on.
* ``.git/index.lock`` held by another git process: wait with backoff up to a limit, then fail
  with one line naming the file. The lock is never deleted: only its owner may remove it.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vaultmap.errors import GitRemoteError, GitStateError
from vaultmap.sync.git.repo import git_env, redact, run_process

_LOCK_MESSAGE = re.compile(rb"Unable to create '([^']*index\.lock)': File exists")


def mask_credentials(text: str) -> str:
    """``https://user:token@host/x`` -> ``https://***@host/x`` (also in error text)."""
    return redact(text)


def first_message(stderr: bytes, fallback: str) -> str:
    """The line of git's stderr that says what went wrong, masked, on one line."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line and not line.startswith(("hint:", "To ", "From "))]
    for prefix in ("fatal:", "error:", "remote:"):
        for line in lines:
            if line.startswith(prefix):
                return mask_credentials(line.removeprefix(prefix).strip())
    return mask_credentials(lines[-1]) if lines else fallback


@dataclass(frozen=True, slots=True)
class Result:
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
        return self.stdout.decode("utf-8", "surrogateescape")

    def message(self) -> str:
        return first_message(self.stderr or self.stdout, f"git {self.args[0]} failed")


class Git:
    """Runs ``git`` in one working directory (the top of the work tree).

    ``config`` adds ``-c key=value`` pairs to every command (vaultmap's merge driver for one
    run, say); ``git_dir`` is where ``index.lock`` lives (known after the first look).
    """

    def __init__(self, cwd: Path, *, lock_timeout: float = 10.0, timeout: float = 120.0,
                 config: Mapping[str, str] | None = None, git_dir: Path | None = None) -> None:
        self.cwd = cwd
        self.lock_timeout = lock_timeout
        self.timeout = timeout
        self.config = dict(config or {})
        self.git_dir = git_dir
        # English messages (parsed: a rejected push, a held lock), no terminal prompt, and
        # none of an outer git's repository variables (vaultmap may run from a hook).
        self.env = git_env({"GCM_INTERACTIVE": "never"})

    def _argv(self, args: Sequence[str]) -> list[str]:
        argv = ["git"]
        for key, value in self.config.items():
            argv += ["-c", f"{key}={value}"]
        return argv + list(args)

    def run(self, *args: str, input: bytes | None = None, check: bool = True,
            timeout: float | None = None, locks: bool = False,
            env: Mapping[str, str] | None = None) -> Result:
        """Run ``git ARGS``; with ``check`` a failure is a :class:`GitStateError`.

        ``locks``: the command writes the index, so wait for another process's
        ``index.lock`` first (and again if git reports it appeared meanwhile).
        """
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            if locks:
                self._wait_for_lock(deadline)
            result = self._run_once(args, input, timeout or self.timeout, env)
            held = _LOCK_MESSAGE.search(result.stderr)
            if not (locks and held and not result.ok):
                break
            if time.monotonic() >= deadline:
                raise GitStateError(self._lock_message(held.group(1).decode("utf-8", "replace")))
            time.sleep(delay)  # another git process holds the lock: back off and retry
            delay = min(delay * 2, 0.5)
        if check and not result.ok:
            raise GitStateError(f"git {args[0]}: {result.message()}")
        return result

    def _lock_message(self, path: str) -> str:
        return (f"{path} is held by another git process (or left by one that crashed); "
                "waited, gave up. If no git is running, remove that file yourself")

    def _wait_for_lock(self, deadline: float) -> None:
        if self.git_dir is None:
            return
        lock = self.git_dir / "index.lock"
        delay = 0.02
        while lock.exists():
            if time.monotonic() >= deadline:
                raise GitStateError(self._lock_message(str(lock)))
            time.sleep(delay)  # waiting for another process, not for our own work
            delay = min(delay * 2, 0.5)

    def _run_once(self, args: Sequence[str], input: bytes | None, timeout: float,
                  env: Mapping[str, str] | None) -> Result:
        argv = self._argv(args)
        try:
            returncode, stdout, stderr = run_process(
                argv, self.cwd, {**self.env, **(env or {})}, input=input, timeout=timeout)
        except FileNotFoundError:
            raise GitStateError("git is not installed (or not on PATH)") from None
        except subprocess.TimeoutExpired:
            raise GitRemoteError(f"git {args[0]} took longer than {timeout:g} s; "
                                 "gave up (see [git] timeout)") from None
        return Result(tuple(args), returncode, stdout, stderr)
