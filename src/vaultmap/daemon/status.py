"""``.vaultmap/daemon.json``: what a running daemon tells ``daemon status`` and ``doctor``.

Fields: ``pid``, ``started``, ``last_error`` (the names ``doctor`` reads), plus ``vault``,
``updated``, ``last_sync`` (remote -> ISO time of its last successful sync), ``queued``
(notes changed and not yet synced), ``paused`` (remote -> why it is paused), ``dashboards``
(note with a report region -> ``{"refreshed": ISO time or null, "error": text or null}``) and
``stopped`` (set on a clean exit).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vaultmap.fs import Unreadable, atomic_write, read_regular

STATUS_NAME = "daemon.json"  # the name `vaultmap doctor` reads
MAX_STATUS_BYTES = 1024 * 1024  # a status is a few hundred bytes


def read_status(state_dir: Path) -> dict[str, Any]:
    """The last status written, or ``{}`` when there is none or it cannot be read."""
    try:
        # Through the safe reader: a FIFO or a link to /dev/zero is "no status", not a hang.
        data = json.loads(read_regular(state_dir / STATUS_NAME, MAX_STATUS_BYTES)[0])
    except (Unreadable, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_status(state_dir: Path, status: dict[str, Any]) -> None:
    """Replace the status file atomically (a reader never sees half of it)."""
    data = json.dumps(status, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    atomic_write(state_dir / STATUS_NAME, data, new_mode=0o644)
