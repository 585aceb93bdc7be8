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
