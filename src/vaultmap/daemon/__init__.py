"""``vaultmap daemon``: keep the vault, Notion, GitHub and git in step while the user works.

Orchestration only: the watcher (:mod:`.watch`) marks changed notes, the loop (:mod:`.loop`)
calls the sync layer's public functions on a schedule, :mod:`.lock` keeps one daemon per
vault, :mod:`.status` is what ``daemon status`` and ``doctor`` read, :mod:`.logs` the rotating
log, :mod:`.service` the systemd / launchd files, :mod:`.tasks` and :mod:`.dashboards` the
vault's tasks and rollups kept in memory.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path
from typing import Any

from vaultmap.config import Settings, load_settings
from vaultmap.daemon.lock import LOCK_NAME, lock_is_held, read_pid
from vaultmap.daemon.logs import LOG_BACKUPS, LOG_NAME, secrets_from_environment, setup_logging
from vaultmap.daemon.loop import Daemon
from vaultmap.daemon.service import launchd_plist, systemd_unit
from vaultmap.daemon.status import STATUS_NAME, read_status
from vaultmap.errors import DaemonRunningError, StateError
from vaultmap.fs import UnsafePath
from vaultmap.vault.paths import open_state_folder

STOP_TIMEOUT = 10.0  # seconds `daemon stop` waits for the daemon to let go of its lock


def run_daemon(root: Path, *, force_polling: bool = False) -> None:
    """Run in the foreground until SIGTERM / SIGINT (see :class:`~.loop.Daemon`)."""
    settings = load_settings(root)
    _check_state_folder(settings)
    try:
        setup_logging(settings.state_dir, settings.daemon.log_level,
                      secrets_from_environment((settings.notion.token_env, "GITHUB_TOKEN",
                                                "GH_TOKEN", "GH_ENTERPRISE_TOKEN",
                                                "GITHUB_ENTERPRISE_TOKEN")))
    except OSError as error:  # a read-only .vaultmap/, a full disk
        raise StateError(f"{settings.state_dir / LOG_NAME}: cannot write the daemon's log "
                         f"({error.strerror}); the daemon did not start: "
                         f"{_log_advice(error)}") from None
    daemon = Daemon(root, force_polling=force_polling)
    daemon.install_signal_handlers()
    daemon.run()


def _log_advice(error: OSError) -> str:
    """What to do about a log the daemon cannot write."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space on that disk (or raise your quota), then start it again"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ("make the vault's .vaultmap folder and its files writable for the user the "
                "daemon runs as (or run it as their owner), then start it again")
    return "check that the vault's .vaultmap folder can be written, then start it again"


#: What the daemon writes in ``.vaultmap/``: its log (and the rotated copies), lock and status.
DAEMON_FILES = (LOG_NAME, *(f"{LOG_NAME}.{n}" for n in range(1, LOG_BACKUPS + 1)), LOCK_NAME,
                STATUS_NAME)


def _check_state_folder(settings: Settings) -> None:
    """Refuse (exit 12) a ``.vaultmap/`` that is a link, or a daemon file in it that is a link
    or not a regular file: a cloned vault must not make the daemon write outside it."""
    try:
        open_state_folder(settings.state_dir, DAEMON_FILES)
    except UnsafePath as unsafe:
        raise StateError(f"{unsafe.reason}; the daemon did not start") from None
    except OSError as error:
        raise StateError(f"{settings.state_dir}: cannot create the state folder "
                         f"({error.strerror})") from None


def running_pid(root: Path) -> int | None:
    """The pid of the daemon that holds this vault's lock, or None."""
    lock = load_settings(root).state_dir / LOCK_NAME
    if not lock_is_held(lock):
        return None
    return read_pid(lock) or read_status(lock.parent).get("pid")


#: The ``schema`` of ``vaultmap daemon status --format json`` (docs/daemon.md); a change that
#: breaks a reader gets a new number.
STATUS_SCHEMA = "vaultmap.daemon-status/1"


def status_data(root: Path) -> dict[str, Any]:
    """What ``vaultmap daemon status`` says, as the documented JSON object (``--format json``;
    the text form is drawn from it by :func:`status_lines`).

    ``running`` and ``pid`` come from the vault's daemon lock, the rest from the status file
    the daemon keeps (``.vaultmap/daemon.json``); when no daemon runs, the facts are those
    the last one left (``updated`` is when it was last seen) and ``queued`` / ``waiting``
    are null: nothing waits in a daemon that is not there.
    """
    settings = load_settings(root)
    pid = running_pid(root)
    status = read_status(settings.state_dir)
    last_sync = status.get("last_sync") or {}
    paused = status.get("paused") or {}
    errors = status.get("remote_errors") or {}
    remotes = {name: {"last_sync": last_sync.get(name),
                      "paused": paused.get(name),
                      "last_error": errors.get(name)}
               for name in sorted({*last_sync, *paused, *errors})}
    dashboards = {rel: {"refreshed": state.get("refreshed"), "error": state.get("error")}
                  for rel, state in sorted((status.get("dashboards") or {}).items())}
    running = pid is not None
    return {
        "schema": STATUS_SCHEMA,
        "vault": str(settings.root),
        "running": running,
        "pid": pid,
        "started": status.get("started") if running else None,
        "updated": status.get("updated"),
        "stopped_cleanly": status.get("stopped") if not running else None,
        "remotes": remotes,
        "queued": status.get("queued", 0) if running else None,
        "waiting": list(status.get("waiting") or []) if running else None,
        "cycles": status.get("cycles"),
        "dashboards": dashboards,
        "last_error": status.get("last_error"),
    }


def status_lines(root: Path) -> list[str]:
    """What ``vaultmap daemon status`` prints: :func:`status_data` as lines."""
    data = status_data(root)
    if not data["running"]:
        lines = ["daemon: not running"]
        if data["updated"]:
            lines[0] += f" (last seen {data['updated']})"
    else:
        lines = [f"daemon: running (pid {data['pid']}, since {data['started'] or '?'})"]
    for remote, facts in data["remotes"].items():
        line = f"  {remote}: last sync {facts['last_sync'] or 'never'}"
        if facts["paused"]:
            line += f"; PAUSED: {facts['paused']}"
        elif facts["last_error"]:
            line += f"; failing: {facts['last_error']}"
        lines.append(line)
    if data["running"]:
        waiting = ", ".join(data["waiting"]) or "none"
        lines.append(f"  queued: {data['queued']} changed note(s) waiting; "
                     f"remotes with changes to send: {waiting}")
    lines += _dashboard_lines(data["dashboards"])
    if data["last_error"]:
        lines.append(f"  last error: {data['last_error']}")
    return lines


def _dashboard_lines(dashboards: dict[str, dict[str, str | None]]) -> list[str]:
    """One line per note whose report region the daemon keeps current."""
    if not dashboards:
        return []
    lines = [f"  dashboards: {len(dashboards)} note(s) with a report region"]
    for rel, state in dashboards.items():
        line = f"    {rel}: refreshed {state['refreshed'] or 'not yet'}"
        if state["error"]:
            line += f"; last error: {state['error']}"
        lines.append(line)
    return lines


def stop_daemon(root: Path, *, timeout: float = STOP_TIMEOUT) -> str:
    """SIGTERM the vault's daemon and wait until it has let go of the lock; raises
    :class:`DaemonRunningError` when it still runs after ``timeout`` seconds."""
    pid = running_pid(root)
    if pid is None:
        return "daemon: not running"
    lock = load_settings(root).state_dir / LOCK_NAME
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "daemon: not running"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lock_is_held(lock):
            return f"daemon: stopped (pid {pid})"
        time.sleep(0.05)  # polling the lock: the daemon is another process
    # It still runs: the same answer as a second start (exit 20).
    raise DaemonRunningError(f"the daemon (pid {pid}) did not stop within {timeout:.0f} s")


__all__ = ["Daemon", "launchd_plist", "run_daemon", "running_pid", "status_data",
           "status_lines", "stop_daemon", "systemd_unit"]
