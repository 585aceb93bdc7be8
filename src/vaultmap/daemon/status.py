"""``.vaultmap/daemon.json``: what a running daemon tells ``daemon status`` and ``doctor``.

Fields: ``pid``, ``started``, ``last_error`` (the names ``doctor`` reads), plus ``vault``,
``updated``, ``last_sync`` (remote -> ISO time of its last successful sync),
``remote_errors`` (remote -> its failure since its last successful sync, or null),
``queued`` (notes changed and not yet synced), ``waiting`` (remotes with changes to send),
``cycles``, ``paused`` (remote -> why it is paused), ``dashboards`` (note with a report region
-> ``{"refreshed": ISO time or null, "error": text or null}``) and ``stopped`` (set on a clean
exit).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vaultmap.fs import Unreadable, atomic_write, is_pid, read_regular

STATUS_NAME = "daemon.json"  # the name `vaultmap doctor` reads
MAX_STATUS_BYTES = 1024 * 1024  # a status is a few hundred bytes


def read_status(state_dir: Path) -> dict[str, Any]:
    """The last status written, or ``{}`` when there is none or it cannot be read."""
    try:
        # Through the safe reader: a FIFO or a link to /dev/zero is "no status", not a hang.
        data = json.loads(read_regular(state_dir / STATUS_NAME, MAX_STATUS_BYTES)[0])
    except (Unreadable, ValueError, RecursionError):
        return {}
    return _checked(data) if isinstance(data, dict) else {}


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """The fields the readers use, each in the shape :func:`write_status` gives it; one of
    another shape (an edited or damaged file) is left out. A pid is one that can be
    signalled safely (:func:`vaultmap.fs.is_pid`): ``daemon stop`` sends it SIGTERM."""
    status: dict[str, Any] = {}
    if is_pid(data.get("pid")):
        status["pid"] = data["pid"]
    for name in ("vault", "started", "updated", "last_error"):
        if isinstance(data.get(name), str):
            status[name] = data[name]
    if isinstance(data.get("stopped"), bool):
        status["stopped"] = data["stopped"]
    for name in ("queued", "cycles"):
        count = data.get(name)
        if type(count) is int and count >= 0:
            status[name] = count
    waiting = data.get("waiting")
    if isinstance(waiting, list):
        status["waiting"] = [w for w in waiting if isinstance(w, str)]
    for name in ("last_sync", "paused", "remote_errors"):
        value = data.get(name)
        if isinstance(value, dict):
            status[name] = {k: v for k, v in value.items()
                            if isinstance(k, str) and (v is None or isinstance(v, str))}
    dashboards = data.get("dashboards")
    if isinstance(dashboards, dict):
        status["dashboards"] = {
            note: {field: value.get(field) for field in ("refreshed", "error")
                   if value.get(field) is None or isinstance(value.get(field), str)}
            for note, value in dashboards.items()
            if isinstance(note, str) and isinstance(value, dict)}
    return status


def write_status(state_dir: Path, status: dict[str, Any]) -> None:
    """Replace the status file atomically (a reader never sees half of it)."""
    data = json.dumps(status, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    atomic_write(state_dir / STATUS_NAME, data, new_mode=0o644)
