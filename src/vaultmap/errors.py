"""Errors a user can meet. Each carries a one-line message and a documented CLI exit code.

The CLI prints ``str(error)`` and exits with ``error.exit_code``; no traceback reaches a user
for anything raised as a :class:`VaultmapError`. Messages must never contain secrets, and
text that comes from a note or a remote is made printable by the CLI before it is shown.

Every user-facing error lives in this module, so the exit codes are defined once. The table
(:data:`EXIT_CODES`; the README's list is generated from it and a test keeps the two equal):

====  ===============================================  ========================================
code  meaning                                          raised as
====  ===============================================  ========================================
1     a general failure (``init`` would overwrite,     :class:`VaultmapError`, :class:`EditError`,
      a report cannot be written, ``doctor`` found a   :class:`InitError`,
      problem, a write would leave the vault)          :class:`OutsideVaultError`
2     usage, or an ambiguous target                    click's usage errors,
                                                       :class:`AmbiguousTargetError`
3     configuration                                    :class:`ConfigError`
4     a remote failed after retries                    :class:`RemoteError`,
                                                       :class:`RemoteGoneError`,
                                                       :class:`RemoteUnavailableError`,
                                                       :class:`GitHubIssueGoneError`
5     token, access or sharing                         :class:`RemoteAuthError`
6     the remote's schema, or the wrong target         :class:`RemoteSchemaError`,
      (GitHub: a missing or private repository,        :class:`GitHubNotFoundError`,
      issues disabled, a body too long)                :class:`BodyTooLongError`
7     a read-only note                                 :class:`ReadOnlyNoteError`
8     a note vanished                                  :class:`NoteVanishedError`
9     the task changed meanwhile                       :class:`TaskMovedError`
10    a note kept changing                             :class:`NoteBusyError`
11    no such task                                     :class:`TargetNotFoundError`
12    the sync state file                              :class:`StateError`
13    the mass-deletion guard                          :class:`SyncGuardError`
14    another sync is running                          :class:`SyncBusyError`
15    some changes failed: run ``vaultmap sync``       :class:`SyncIncompleteError`
      again
16    a note or folder you named cannot be read        :class:`VaultReadError`
17    the git repository's state (mid-merge or         :class:`GitStateError`,
      rebase, detached HEAD, no upstream, not a        :class:`GitError`
      work tree)
18    the git remote failed (unreachable, auth, push   :class:`GitRemoteError`
      still rejected after retries)
19    a git merge left a conflict for you              :class:`GitConflictError`
20    another daemon runs for this vault               :class:`DaemonRunningError`
21    a status cannot be written in the note's         :class:`NoteEncodingError`
      encoding
====  ===============================================  ========================================
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# code -> the phrase the README's list uses for it. Keep in step with the table above (a test
# checks that every error class's code is here and that the README shows exactly these).
EXIT_CODES: Mapping[int, str] = MappingProxyType({
    1: "a general failure (also: `vaultmap doctor` found a problem)",
    2: "usage or ambiguous target",
    3: "configuration",
    4: "a remote failed after retries",
    5: "token, access or sharing",
    6: "the remote's schema or the wrong target",
    7: "read-only note",
    8: "vanished note",
    9: "task changed meanwhile",
    10: "note kept changing",
    11: "no such task",
    12: "sync state file",
    13: "the mass-deletion guard",
    14: "another sync is running",
    15: "some changes failed — run `vaultmap sync` again",
    16: "a note or folder you named cannot be read",
    17: "git repository state (mid-merge or rebase, detached HEAD, no upstream, not a work tree)",
    18: "git remote failed (unreachable, auth, push still rejected after retries)",
    19: "a git merge left a conflict for you",
    20: "another daemon runs for this vault",
    21: "a status cannot be written in the note's encoding",
})


def exit_codes_markdown() -> str:
    """The README's list of exit codes, generated from :data:`EXIT_CODES` (one bullet each)."""
    return "\n".join(f"- `{code}` {meaning}" for code, meaning in EXIT_CODES.items()) + "\n"


class VaultmapError(Exception):
    """Base of every error vaultmap reports to a user."""

    exit_code: int = 1


class ConfigError(VaultmapError):
    """``.vaultmap.toml`` is missing a value, has a wrong type or does not parse."""

    exit_code = 3


class InitError(VaultmapError):
    """``vaultmap init`` would overwrite a file, or cannot find its template."""

    exit_code = 1


class VaultReadError(VaultmapError):
    """A note or folder the user named cannot be read (missing, outside the vault, binary...)."""

    exit_code = 16


# --- Editing notes (vaultmap.edit). Exit code 2 is the usual "usage" code: an ambiguous target
# is a question back to the user, not a failure.


class EditError(VaultmapError):
    """A status change could not be written; nothing was changed."""

    exit_code = 1


class AmbiguousTargetError(EditError):
    """A target matches several tasks; the message lists them. Nothing changed (use --all)."""

    exit_code = 2


class ReadOnlyNoteError(EditError):
    """The note's permission bits have no write bit; vaultmap refuses even as root."""

    exit_code = 7


class NoteVanishedError(EditError):
    """The note was deleted or moved away between finding it and writing it."""

    exit_code = 8


class TaskMovedError(EditError):
    """The task is no longer where it was, or its status is not the expected one."""

    exit_code = 9


class NoteBusyError(EditError):
    """The note kept changing under us; gave up after a bounded number of retries."""

    exit_code = 10


class TargetNotFoundError(EditError):
    """A target (PATH:LINE, key or --match) names no task."""

    exit_code = 11


class OutsideVaultError(EditError):
    """A write would land outside the vault's real path (through a symbolic link); refused,
    nothing was changed."""

    exit_code = 1


class NoteEncodingError(EditError):
    """The new status (or a done date, or an appended line) cannot be written in the note's
    encoding (a cp1252 note cannot hold ✅); nothing was changed."""

    exit_code = 21


# --- Sync with a remote (vaultmap.sync).


class RemoteError(VaultmapError):
    """A remote failed in a way a user must hear about (after retries were exhausted)."""

    exit_code = 4


class RemoteUnavailableError(RemoteError):
    """The remote kept failing (timeouts, 5xx, rate limits) until the retries or the deadline
    ran out: a later try may work. A read that meets it after some rows keeps what it read."""


class RemoteAuthError(RemoteError):
    """The token is missing, invalid, or the database is not shared with the integration."""

    exit_code = 5


class RemoteSchemaError(RemoteError):
    """The remote's schema cannot hold vaultmap's data (a property of the wrong type), or the
    target is not what vaultmap expects."""

    exit_code = 6


class RemoteGoneError(RemoteError):
    """A row is in the remote's trash (``trashed``) or no longer exists: unlink it."""

    def __init__(self, message: str, *, remote_id: str = "", trashed: bool = False) -> None:
        super().__init__(message)
        self.remote_id = remote_id
        self.trashed = trashed


class GitHubNotFoundError(RemoteSchemaError):
    """A GitHub repository or issue the token cannot see (GitHub answers 404, not 403, for a
    private repository, so the message says it may be either)."""


class GitHubIssueGoneError(RemoteGoneError):
    """A GitHub issue was deleted or transferred away (410/404 in a repository we can read)."""


class BodyTooLongError(RemoteSchemaError):
    """An issue body would exceed what GitHub stores (65,536 characters); nothing was sent."""


class StateError(VaultmapError):
    """The sync state file cannot be opened or written."""

    exit_code = 12


class SyncGuardError(VaultmapError):
    """A side lost most of its tasks at once; nothing was changed (vdirsyncer's rule)."""

    exit_code = 13


class SyncBusyError(VaultmapError):
    """Another sync of this vault is running."""

    exit_code = 14


class SyncIncompleteError(VaultmapError):
    """Some actions of a sync failed; the next sync retries them."""

    exit_code = 15


# --- Git sync and the daemon. Git messages name the repository state or the remote's answer in
# one line; they never contain a credential (see vaultmap.sync.git.repo.redact).


class GitError(VaultmapError):
    """A git command vaultmap ran failed in a way the user has to look at."""

    exit_code = 17


class GitStateError(GitError):
    """The git repository is in a state a sync must not touch: mid-merge or mid-rebase, a
    detached HEAD, a branch without upstream, or not a work tree at all."""

    exit_code = 17


class GitRemoteError(GitError):
    """The git remote failed: unreachable, authentication refused, or a push still rejected
    after its retries."""

    exit_code = 18


class GitConflictError(GitError):
    """A git merge left a conflict the user has to resolve (the message says where)."""

    exit_code = 19


#: The name the git plumbing uses for code 17 (the same class).
GitRepositoryError = GitStateError


class DaemonRunningError(VaultmapError):
    """Another vaultmap daemon already runs for this vault."""

    exit_code = 20


__all__ = [
    "EXIT_CODES",
    "AmbiguousTargetError",
    "ConfigError",
    "DaemonRunningError",
    "EditError",
    "GitConflictError",
    "GitError",
    "GitRemoteError",
    "GitRepositoryError",
    "GitStateError",
    "InitError",
    "NoteBusyError",
    "NoteEncodingError",
    "NoteVanishedError",
    "OutsideVaultError",
    "ReadOnlyNoteError",
    "RemoteAuthError",
    "RemoteError",
    "RemoteGoneError",
    "RemoteSchemaError",
    "StateError",
    "SyncBusyError",
    "SyncGuardError",
    "SyncIncompleteError",
    "TargetNotFoundError",
    "TaskMovedError",
    "VaultReadError",
    "VaultmapError",
    "exit_codes_markdown",
]
