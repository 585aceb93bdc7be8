"""A real ``vaultmap daemon`` subprocess for tests, polling with a deadline, and the fleet of
daemons a test starts against a fake remote (every one killed at the end)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from click.testing import CliRunner, Result

from fake_notion import FAST_NOTION, FakeNotion
from vaultmap.cli import main
from vaultmap.config import load_settings

T = TypeVar("T")
__all__ = ["FAST_NOTION", "DaemonFleet", "DaemonProcess", "NotionDaemons", "notion_daemons",
           "wait_for", "write_vault"]


def wait_for(condition: Callable[[], T], timeout: float = 20.0, what: str = "") -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s.

    A file the condition reads may be missing for a moment while the daemon or ``git pull``
    replaces it (git unlinks and writes anew): that counts as "not yet", not as a failure."""
    deadline = time.monotonic() + timeout
    last_missing: FileNotFoundError | None = None
    while True:
        try:
            value = condition()
        except FileNotFoundError as missing:
            value, last_missing = None, missing
        else:
            last_missing = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}"
                                 + (f" (last: {last_missing})" if last_missing else ""))
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


@dataclass
class DaemonFleet:
    """The daemons a test started for one vault; :meth:`close` kills whatever still runs."""

    vault: Path
    daemons: list[DaemonProcess] = field(default_factory=list)

    def env(self, token: str | None = None) -> dict[str, str]:
        """The environment a daemon or the CLI gets (a remote's token and address)."""
        return {}

    def start(self, token: str | None = None, **extra: str) -> DaemonProcess:
        """A daemon for the vault, with ``token`` in place of the fake's and ``extra`` set."""
        daemon = DaemonProcess(self.vault, {**self.env(token), **extra})
        self.daemons.append(daemon)
        return daemon

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.close()


@dataclass(kw_only=True)
class NotionDaemons(DaemonFleet):
    """A vault linked to a fake Notion database, and its daemons."""

    fake: FakeNotion
    database_id: str = ""

    def env(self, token: str | None = None) -> dict[str, str]:
        return {"NOTION_TOKEN": token or self.fake.token,
                "VAULTMAP_NOTION_BASE_URL": self.fake.base_url}

    def cli(self, *args: str) -> Result:
        """``vaultmap ARGS`` in this process, with the fake's token and address."""
        return CliRunner().invoke(main, list(args), env=self.env(), catch_exceptions=False)

    def link(self) -> None:
        """``vaultmap notion init`` under a new page of the fake; keeps the database id."""
        result = self.cli("notion", "init", "--parent", self.fake.add_page("Home"),
                          str(self.vault))
        assert result.exit_code == 0, result.output
        self.database_id = load_settings(self.vault).notion.database_id

    def rows(self) -> dict[str, dict[str, Any]]:
        """The database's rows by task text."""
        return {r["Task"]: r for r in self.fake.table(self.database_id)}

    def done_in_notion(self, text: str) -> bool:
        row = self.rows().get(text)
        return bool(row and row["Done"])


@contextmanager
def notion_daemons(vault: Path, **fake_options: Any) -> Iterator[NotionDaemons]:
    """A fake Notion on 127.0.0.1 (``FakeNotion(**fake_options)``) with ``vault`` linked to a
    new database; every daemon started through it is killed at the end if it still runs."""
    with FakeNotion(**fake_options) as fake:
        fleet = NotionDaemons(vault, fake=fake)
        fleet.link()
        try:
            yield fleet
        finally:
            fleet.close()


def write_vault(vault: Path, config: str, notes: dict[str, bytes]) -> Path:
    """A vault folder with ``.vaultmap.toml`` and these notes (vault-relative paths)."""
    vault.mkdir(parents=True, exist_ok=True)
    (vault / ".vaultmap.toml").write_text(config)
    for rel, data in notes.items():
        (vault / rel).parent.mkdir(parents=True, exist_ok=True)
        (vault / rel).write_bytes(data)
    return vault
