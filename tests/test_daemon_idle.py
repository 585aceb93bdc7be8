"""An idle daemon sleeps until something is due: its loop waits on events (the watcher, the
signals, a wake-up sent by another thread) with a timeout equal to the next timer, not on a
fixed tick. In process with a clock the test moves (the waits it asks for), and a real daemon
subprocess (its main thread's wake-ups, read from /proc)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from daemon_proc import FAST_NOTION, DaemonProcess, notion_daemons, wait_for, write_vault
from vaultmap.daemon.loop import STATUS_HEARTBEAT, Daemon, RemoteSchedule
from vaultmap.daemon.watch import Wakeup

PLAN = "# Plan\n\n- [ ] write the parser\n- [x] buy a domain\n"
DAEMON = """
[daemon]
quiet_period = 2.0
notion_poll = 30.0
github_poll = 120.0
git_commit_after = 50.0
"""


class Clock:
    """A hand-driven monotonic clock (time is an input of the loop, not a mock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_idle_daemon_sleeps_until_its_next_timer(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    vault = write_vault(tmp_path / "Vault", FAST_NOTION + DAEMON, {"Plan.md": PLAN.encode()})
    with notion_daemons(vault) as fleet, ExitStack() as cleanup:
        for name, value in fleet.env().items():
            monkeypatch.setenv(name, value)
        clock = Clock()
        daemon = Daemon(vault, clock=clock)
        # Driven by step(), not run(): close its kept client as run() does on the way out,
        # or the fake's thread serving that connection outlives the test.
        cleanup.callback(daemon.close_clients)
        daemon.step()  # the first sync, over real HTTP to the fake
        assert daemon.remotes["notion"].last_sync
        # Nothing to do: the next timer is the Notion poll, 30 s away (it was 0.5 s).
        assert daemon._sleep_for() == pytest.approx(30.0)
        clock.now += 29.0
        assert daemon._sleep_for() == pytest.approx(1.0)
        # A note saved: the loop wakes when its quiet period ends.
        daemon.dirty.mark("Plan.md")
        assert daemon._sleep_for() == pytest.approx(1.0)
        clock.now += 0.5
        assert daemon._sleep_for() == pytest.approx(0.5)
        # The poll ran (nothing changed): the next wake is a poll interval on.
        clock.now += 1.0
        (vault / "Plan.md").write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
        daemon.dirty.mark("Plan.md")
        clock.now += 2.5
        daemon.step()
        assert fleet.done_in_notion("write the parser")
        assert daemon._sleep_for() == pytest.approx(30.0)
        # Without Notion, the status heartbeat (and the look for a first GitHub publish) are
        # all that is left.
        daemon.remotes["notion"].paused = "test: paused"
        assert daemon._sleep_for() == pytest.approx(STATUS_HEARTBEAT)


def test_a_sync_held_by_another_process_is_retried_a_second_later(tmp_path: Path) -> None:
    # git's commit-after-quiet is due; a user's sync holds the lock: the loop must not spin.
    vault = write_vault(tmp_path / "Vault", DAEMON, {"Plan.md": PLAN.encode()})
    clock = Clock()
    daemon = Daemon(vault, clock=clock)
    daemon.step()  # no remote configured: the first pass writes the status
    git = daemon.remotes["git"] = RemoteSchedule("git", next_at=clock.now + 600)
    daemon.last_change = clock.now - 60  # quiet for a minute: a commit is due
    assert daemon._sleep_for() == pytest.approx(0.01)
    git.not_before = clock.now + 1.0  # as SyncBusyError leaves it
    assert daemon._sleep_for() == pytest.approx(1.0)


def test_a_status_file_it_cannot_write_is_tried_again_later_not_at_once(
        tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "Vault", DAEMON, {"Plan.md": PLAN.encode()})
    (vault / ".vaultmap" / "daemon.json").mkdir(parents=True)  # cannot be replaced by a file
    clock = Clock()
    daemon = Daemon(vault, clock=clock)
    daemon.step()
    assert daemon._sleep_for() == pytest.approx(STATUS_HEARTBEAT)
    daemon.dirty.mark("Plan.md")  # a change: the next pass tries again
    clock.now += 3.0
    daemon.step()
    assert daemon._sleep_for() == pytest.approx(STATUS_HEARTBEAT)


def test_a_wakeup_sent_before_the_wait_is_not_lost() -> None:
    wakeup = Wakeup()
    try:
        wakeup.set()  # while the loop was busy with a pass
        start = time.monotonic()
        assert wakeup.wait(30.0) is True
        assert time.monotonic() - start < 5.0
        assert wakeup.wait(0.01) is False  # taken: the next wait sleeps
        threading.Timer(0.05, wakeup.set).start()  # from another thread (the watcher)
        assert wakeup.wait(30.0) is True
        for _ in range(100_000):  # a burst fills the socket's buffer: never blocks
            wakeup.set()
        assert wakeup.wait(0.0) is True and wakeup.wait(0.0) is False
    finally:
        wakeup.close()


def _main_thread_switches(pid: int) -> int:
    text = Path(f"/proc/{pid}/task/{pid}/status").read_text()
    return sum(int(line.split()[1]) for line in text.splitlines()
               if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_real_idle_daemon_does_not_wake_and_still_answers_signals(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "Vault", FAST_NOTION + DAEMON, {"Plan.md": PLAN.encode()})
    with notion_daemons(vault) as fleet:
        daemon = fleet.start()
        daemon.wait_ready()
        wait_for(lambda: not daemon.status().get("waiting"), what="nothing left to send")
        pid = daemon.proc.pid
        before = _main_thread_switches(pid)
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            time.sleep(0.25)  # the measured window: nothing happens on purpose
        woke = _main_thread_switches(pid) - before
        # On a 0.5 s tick this was one switch per tick (8 over 4 s).
        assert woke <= 2, woke
        # A save wakes it; SIGHUP and SIGTERM still act at once.
        (vault / "Plan.md").write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
        wait_for(lambda: fleet.done_in_notion("write the parser"), what="the save synced")
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: "config reloaded" in daemon.log(), what="the reload")
        assert daemon.terminate() < 5.0 and daemon.proc.returncode == 0


def test_a_polling_watcher_wakes_the_loop_too(tmp_path: Path) -> None:
    # --poll-files (and the fallback when inotify cannot watch): the polling thread's marks
    # wake the sleeping loop as the event watcher's do.
    config = (FAST_NOTION + DAEMON).replace("quiet_period = 2.0", "quiet_period = 0.3")
    vault = write_vault(tmp_path / "Vault", config, {"Plan.md": PLAN.encode()})
    with notion_daemons(vault) as fleet:
        daemon = DaemonProcess(vault, fleet.env(), args=("--poll-files",))
        fleet.daemons.append(daemon)
        daemon.wait_ready()
        (vault / "Plan.md").write_bytes(PLAN.replace("[ ] write", "[x] write").encode())
        wait_for(lambda: fleet.done_in_notion("write the parser"), what="the save synced")
        assert daemon.terminate() < 5.0 and daemon.proc.returncode == 0
