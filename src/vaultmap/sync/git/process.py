"""Running git: one short-lived subprocess per command, credentials and locks handled safely.

* Every command is its own process, started in its own process group and killed as a group on
  timeout, so nothing lingers (a ``git fetch`` over SSH has children of its own).
* git's own credential helpers and SSH agent are used; vaultmap never sees a credential. Git is
  told not to prompt on a terminal (``GIT_TERMINAL_PROMPT=0``), so a missing credential fails
  at once instead of hanging an unattended run. Anything that looks like a credential inside a
  URL is masked in the messages we pass on.
* ``.git/index.lock`` held by another git process: wait with backoff up to a limit, then fail
  with one line naming the file. The lock is never deleted: only its owner may remove it.

The running, the waiting and the wording of failures are those of
:mod:`vaultmap.sync.git.repo` (one place for all of git); :class:`Git` adds what a sync's
commands share: a working folder, ``-c`` options, time limits from ``[git]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from vaultmap.sync.git.repo import GitResult as Result
from vaultmap.sync.git.repo import LockBackoff, git_env, git_failure, held_lock, redact, run_once
from vaultmap.sync.git.repo import first_message as first_message

__all__ = ["Git", "Result", "first_message", "mask_credentials"]


def mask_credentials(text: str) -> str:
    """``https://user:token@host/x`` -> ``https://***@host/x`` (also in error text)."""
    return redact(text)


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
        backoff = LockBackoff(self.lock_timeout)
        while True:
            if locks and self.git_dir is not None:
                backoff.wait_until_free(self.git_dir)
            result = run_once(self._argv(args), self.cwd, {**self.env, **(env or {})},
                              args=args, input=input, timeout=timeout or self.timeout)
            held = held_lock(result)
            if not (locks and held is not None and not result.ok):
                break
            backoff.pause(held)  # another git process holds the lock: back off and retry
        if check and not result.ok:
            raise git_failure(result)
        return result
