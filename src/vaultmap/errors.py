"""Errors a user can meet. Each carries a one-line message and a distinct CLI exit code.

The CLI prints ``str(error)`` and exits with ``error.exit_code``; no traceback reaches a user
for anything raised as a :class:`VaultmapError`. Messages must never contain secrets.
"""

from __future__ import annotations


class VaultmapError(Exception):
    """Base of every error vaultmap reports to a user."""

    exit_code: int = 1


class ConfigError(VaultmapError):
    """``.vaultmap.toml`` is missing a value, has a wrong type or does not parse."""

    exit_code = 3


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


# --- git (vaultmap.sync.git). Messages name the repository state or the remote's answer in one
# line; they never contain a credential (see vaultmap.sync.git.repo.redact).


class GitError(VaultmapError):
    """A git command vaultmap ran failed in a way the user has to look at."""

    exit_code = 17


class GitRepositoryError(GitError):
    """The repository is in a state vaultmap will not work in: not a work tree, mid-merge or
    mid-rebase, a detached HEAD, no upstream, or an index lock that is never released."""

    exit_code = 17


class GitRemoteError(GitError):
    """The remote could not be reached, refused the credentials, or kept rejecting a push."""

    exit_code = 18


class GitConflictError(GitError):
    """A merge left a conflict (markers in a note) for the user to resolve."""

    exit_code = 19


# The name `vaultmap sync --git` uses for code 17 (the same class).
GitStateError = GitRepositoryError
