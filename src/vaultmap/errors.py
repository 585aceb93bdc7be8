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


# --- Reading the vault (vaultmap.vault) and the file-system edge (vaultmap.fs).


class VaultReadError(VaultmapError):
    """A note or folder the user named cannot be read (missing, outside the vault, binary...)."""

    exit_code = 16


class OutsideVaultError(EditError):
    """A write would land outside the vault's real path (through a symbolic link); refused."""

    exit_code = 1
