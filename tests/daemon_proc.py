"""A real ``vaultmap daemon`` subprocess for tests, and polling with a deadline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 20.0, what: str = "") -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.05)  # polling interval, not synchronisation


class DaemonProcess:
    """``python -m vaultmap daemon VAULT`` with its output in files next to the test."""

    def __init__(self, vault: Path, env: dict[str, str], *, args: tuple[str, ...] = ()) -> None:
        self.vault = vault
        self.out = vault.parent / f"daemon-{time.monotonic_ns()}.out"
        self._log = self.out.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vaultmap", "daemon", *args, str(vault)],
            env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT)

    def status(self) -> dict[str, Any]:
        try:
            data = json.loads((self.vault / ".vaultmap" / "daemon.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if data.get("pid") == self.proc.pid else {}

    def wait_ready(self, cycles: int = 1, timeout: float = 30.0) -> dict[str, Any]:
        """Until the daemon has finished ``cycles`` syncs (the first one catches up)."""
        return wait_for(lambda: self._alive_status(cycles), timeout, "the daemon's first sync")

    def _alive_status(self, cycles: int) -> dict[str, Any]:
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited {self.proc.returncode}: {self.output()}")
        status = self.status()
        return status if status.get("cycles", 0) >= cycles else {}

    def output(self) -> str:
        self._log.flush()
        return self.out.read_text(errors="replace")

    def log(self) -> str:
        path = self.vault / ".vaultmap" / "daemon.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def terminate(self, timeout: float = 5.0) -> float:
        """SIGTERM; returns the seconds it took to exit (fails past ``timeout``)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=timeout)
        return time.monotonic() - start

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._log.close()
