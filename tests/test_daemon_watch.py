"""The watcher's pieces on their own: which paths are notes, and the quiet-period drain."""

from __future__ import annotations

from pathlib import Path

from vaultmap.config import load_settings
from vaultmap.daemon.lock import DaemonLock, lock_is_held, read_pid
from vaultmap.daemon.logs import SecretMask
from vaultmap.daemon.watch import DirtySet, NoteFilter
from vaultmap.errors import DaemonRunningError


class Clock:
    """A hand-driven monotonic clock (time is an input of the drain, not a mock)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_note_filter_follows_the_walk_rules(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text('[vault]\nexclude = ["Templates/", "*.draft.md"]\n')
    notes = NoteFilter(load_settings(tmp_path))
    root = tmp_path.resolve()
    assert notes.relative(str(root / "Plan.md")) == "Plan.md"
    assert notes.relative(str(root / "Sub" / "Deep.markdown")) == "Sub/Deep.markdown"
    for ignored in (".git/x.md", ".obsidian/x.md", ".vaultmap/x.md", ".trash/x.md",
                    "Templates/Day.md", "a.draft.md", "image.png", ".Plan.md.swp"):
        assert notes.relative(str(root / ignored)) is None, ignored
    assert notes.relative(str(tmp_path.parent / "elsewhere.md")) is None


def test_a_burst_is_taken_once_after_the_quiet_period() -> None:
    clock = Clock()
    dirty = DirtySet(clock)
    for step in range(100):
        clock.now += 0.01
        dirty.mark("Plan.md")
        if step == 50:
            dirty.mark("Other.md")
    assert dirty.take_quiet(2.0) == ([], False)
    assert dirty.busy(2.0)
    clock.now += 1.6
    assert dirty.take_quiet(2.0) == (["Other.md"], False)  # its last event was 2.09 s ago
    assert dirty.next_due(2.0) is not None
    clock.now += 0.5
    assert dirty.take_quiet(2.0) == (["Plan.md"], False)
    assert len(dirty) == 0 and not dirty.busy(2.0) and dirty.next_due(2.0) is None
    dirty.mark_rescan()
    assert dirty.take_quiet(2.0) == ([], True)


def test_lock_refuses_a_live_holder_and_is_free_after_release(tmp_path: Path) -> None:
    with DaemonLock(tmp_path) as first:
        assert lock_is_held(first.path) and read_pid(first.path) is not None
        try:
            DaemonLock(tmp_path).acquire()
        except DaemonRunningError as error:
            assert f"pid {read_pid(first.path)}" in str(error)
        else:
            raise AssertionError("a second lock was granted")
    assert not lock_is_held(tmp_path / "daemon.lock")
    with DaemonLock(tmp_path):  # taken over at once
        pass


def test_secret_mask_hides_tokens_in_messages_and_tracebacks() -> None:
    import logging

    token = "ntn_secret_value_123"
    record = logging.LogRecord("vaultmap", logging.ERROR, __file__, 1, "auth %s failed",
                               (token,), None)
    try:
        raise ValueError(f"header Bearer {token}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    SecretMask([token]).filter(record)
    assert token not in record.getMessage() and "***" in record.getMessage()
    assert record.exc_info is None


def test_git_commits_after_the_quiet_not_the_interval(tmp_path: Path) -> None:
    from vaultmap.daemon.loop import Daemon, RemoteSchedule

    (tmp_path / ".vaultmap.toml").write_text(
        "[daemon]\ngit_commit_after = 300\ngit_interval = 600\n")
    clock = Clock()
    daemon = Daemon(tmp_path, clock=clock)
    git = RemoteSchedule("git", next_at=clock.now + 600, wanted=False)
    assert not daemon._due(git, clock.now)
    git.wanted, daemon.last_change = True, clock.now  # a note changed just now
    assert not daemon._due(git, clock.now + 299)
    assert daemon._due(git, clock.now + 300)  # five minutes of quiet, long before the interval
    git.backoff, git.next_at = 2.0, clock.now + 400  # failing: the back-off decides
    assert not daemon._due(git, clock.now + 300)
