"""``done`` and ``sync --git`` take turns with a running sync (the daemon's) on the vault's
sync locks: one line on stderr when they wait, then they proceed; a bounded wait ends in
exit 14 with nothing changed. The lock is held by another real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon_proc import wait_for

PLAN = "# Plan\n\n- [ ] write the parser\n- [ ] pick a name\n"

HOLDER = """\
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
lock.release()
"""


class Holder:
    """Another process holding one of the vault's sync locks until :meth:`release`."""

    def __init__(self, lock: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "held\n"

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    vault = tmp_path / "Vault"
    (vault / ".vaultmap").mkdir(parents=True)
    (vault / ".vaultmap.toml").write_text("")
    (vault / "Plan.md").write_text(PLAN)
    return vault


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    made: list[Holder] = []
    yield made
    for holder in made:
        holder.close()


def _vaultmap(*args: str, err: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "vaultmap", *args],
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=err.open("w"), text=True)


def test_done_waits_for_a_running_sync_says_so_once_then_writes(
        vault: Path, holders: list[Holder], tmp_path: Path) -> None:
    holders.append(holder := Holder(vault / ".vaultmap" / "sync-notion.lock"))
    err = tmp_path / "done.err"
    done = _vaultmap("done", "--vault", str(vault), "Plan.md:3", err=err)
    wait_for(lambda: "waiting" in err.read_text(), what="the waiting line")
    assert done.poll() is None  # it waits ...
    assert (vault / "Plan.md").read_text() == PLAN  # ... and has not written
    holder.release()
    out, _ = done.communicate(timeout=30)
    assert done.returncode == 0, err.read_text()
    assert "[ ] -> [x]  write the parser" in out
    assert (vault / "Plan.md").read_text() == PLAN.replace("[ ] write", "[x] write")
    lines = err.read_text().splitlines()
    assert lines == ["vaultmap: waiting for a sync of this vault to finish; at most 30 s"]


def test_done_gives_up_after_sync_wait_with_exit_14_and_changes_nothing(
        vault: Path, holders: list[Holder], tmp_path: Path) -> None:
    (vault / ".vaultmap.toml").write_text("[edit]\nsync_wait = 0.5\n")
    holders.append(Holder(vault / ".vaultmap" / "sync-git.lock"))
    err = tmp_path / "done.err"
    done = _vaultmap("done", "--vault", str(vault), "--match", "pick", err=err)
    done.communicate(timeout=30)
    assert done.returncode == 14
    lines = err.read_text().splitlines()
    assert len(lines) == 2 and "waiting" in lines[0]
    assert "still runs after 0.5 s; nothing was changed" in lines[1]
    assert (vault / "Plan.md").read_text() == PLAN


def test_done_in_a_vault_never_synced_creates_no_state(tmp_path: Path) -> None:
    vault = tmp_path / "Fresh"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text("")
    (vault / "Plan.md").write_text(PLAN)
    result = subprocess.run([sys.executable, "-m", "vaultmap", "done", "--vault", str(vault),
                             "Plan.md:4"], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 0 and result.stderr == ""
    assert not (vault / ".vaultmap").exists() or not any(
        p.name.startswith("sync-") for p in (vault / ".vaultmap").iterdir())


@pytest.mark.slow
def test_sync_git_waits_for_the_daemons_git_round(tmp_path: Path, holders: list[Holder]) -> None:
    from gitsync_repos import GIT_ENV, clone, git, make_origin

    bare = make_origin(tmp_path, {"Plan.md": PLAN})
    mine = clone(bare, tmp_path, "laptop")
    (mine.vault / ".vaultmap").mkdir(exist_ok=True)
    holders.append(holder := Holder(mine.vault / ".vaultmap" / "sync-git.lock"))
    mine.write("Plan.md", PLAN.replace("[ ] pick", "[x] pick"))
    err = tmp_path / "sync.err"
    sync = _vaultmap("sync", "--git", str(mine.vault), err=err,
                     env={k: v for k, v in GIT_ENV.items() if v})
    wait_for(lambda: "waiting for another vaultmap sync" in err.read_text(),
             what="the waiting line")
    assert sync.poll() is None
    assert "[x] pick" not in git(tmp_path, "--git-dir", str(bare), "show", "main:Plan.md")
    holder.release()
    sync.communicate(timeout=60)
    assert sync.returncode == 0, err.read_text()
    assert "[x] pick" in git(tmp_path, "--git-dir", str(bare), "show", "main:Plan.md")
    assert err.read_text().count("waiting") == 1
