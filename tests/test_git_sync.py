"""``vaultmap sync --git`` end to end: a bare repository as "GitHub", two clones, real git."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from gitsync_repos import Clone, clone, git, make_origin

PLAN = """\
# Plan

- [ ] one
- [ ] two
- [ ] three
- [ ] four

Some prose that both sides may edit.
"""


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return make_origin(tmp_path, {"Plan.md": PLAN, "Other.md": "# Other\n\n- [ ] alpha\n"})


@pytest.fixture
def a(origin: Path, tmp_path: Path) -> Clone:
    return clone(origin, tmp_path, "a")


@pytest.fixture
def b(origin: Path, tmp_path: Path, a: Clone) -> Clone:
    return clone(origin, tmp_path, "b")


def test_round_trip_commits_merges_and_pushes(a: Clone, b: Clone, origin: Path) -> None:
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    result = a.sync()
    assert "committed 'vaultmap: 1 done (1 note)'" in result.stdout
    assert "pushed 1 commit(s) to origin/main" in result.stdout
    body = a.git("log", "-1", "--format=%b")
    assert "Plan.md:\n  done: one" in body

    # b ticked a task two lines away (git merges that on its own) and added a task elsewhere.
    b.write("Plan.md", PLAN.replace("[ ] three", "[x] three"))
    b.write("Other.md", "# Other\n\n- [ ] alpha\n- [ ] beta\n")
    result = b.sync()
    assert "committed 'vaultmap: 1 done, 1 added (2 notes)'" in result.stdout
    assert "merged 1 commit(s) from origin/main" in result.stdout
    assert b.read("Plan.md") == PLAN.replace("[ ] one", "[x] one").replace("[ ] three", "[x] three")

    result = a.sync()
    assert "merged" in result.stdout
    assert a.read("Plan.md") == b.read("Plan.md")
    assert a.read("Other.md") == "# Other\n\n- [ ] alpha\n- [ ] beta\n"
    # Everything is pushed and both clones agree with the remote.
    assert a.git("rev-parse", "HEAD") == git(origin, "rev-parse", "main")
    assert "up to date with origin/main" in a.sync().stdout


def test_message_without_task_change_and_what_is_never_committed(a: Clone) -> None:
    a.write("Plan.md", PLAN.replace("Some prose", "Some better prose"))
    a.write(".vaultmap/cache.bin", b"state")  # vaultmap's own folder: never committed
    a.write(".gitignore", "scratch/\n")
    a.write("scratch/tmp.md", "- [ ] ignored by the user's .gitignore\n")
    a.sync()
    assert a.head_subject() == "vaultmap: notes edited (2)"
    files = a.git("show", "--name-only", "--format=", "HEAD").split()
    assert sorted(files) == [".gitignore", "Plan.md"]


def test_message_template_is_configurable(origin: Path, tmp_path: Path) -> None:
    c = clone(origin, tmp_path, "c", config='message = "notes ({summary}) from {host}"\n')
    c.write("Plan.md", PLAN.replace("[ ] two", "[/] two"))
    c.sync()
    subject = c.head_subject()
    assert subject.startswith("notes (1 started (1 note)) from ")
    assert "{host}" not in subject


def test_dry_run_changes_nothing(a: Clone, b: Clone) -> None:
    b.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    b.sync()
    a.git("fetch", "-q")
    a.write("Plan.md", PLAN.replace("[ ] four", "[x] four"))
    head = a.git("rev-parse", "HEAD")
    result = a.sync("--dry-run")
    assert "would commit 'vaultmap: 1 done (1 note)'" in result.stdout
    assert "1 commit(s) to merge from origin/main" in result.stdout
    assert "done: four" in result.stdout
    assert a.git("rev-parse", "HEAD") == head
    assert a.git("status", "--porcelain").strip() == "M Plan.md"


def test_vault_in_a_subfolder_syncs_only_its_files(tmp_path: Path) -> None:
    bare = make_origin(tmp_path, {"Plan.md": PLAN}, subfolder="notes")
    c = clone(bare, tmp_path, "c", subfolder="notes")
    (c.path / "code.py").write_text("print('not a note')\n")
    c.git("add", "code.py")  # staged by the user, outside the vault: stays staged, uncommitted
    c.write("Plan.md", PLAN.replace("[ ] two", "[x] two"))
    c.sync()
    assert c.git("show", "--name-only", "--format=", "HEAD").split() == ["notes/Plan.md"]
    assert c.git("status", "--porcelain").strip() == "A  code.py"
    assert "  done: two" in c.git("log", "-1", "--format=%b")


def test_genuine_conflict_stops_then_finishes(a: Clone, b: Clone, origin: Path) -> None:
    a.write("Plan.md", PLAN.replace("Some prose", "Prose rewritten by A"))
    a.sync()
    b.write("Plan.md", PLAN.replace("Some prose", "Prose rewritten by B"))
    result = b.sync(code=19)
    assert "merge conflict in Plan.md (line " in result.stderr
    assert "vaultmap sync --git --abort" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    text = b.read("Plan.md")
    assert "<<<<<<<" in text and ">>>>>>>" in text
    remote_head = git(origin, "rev-parse", "main")

    # Markers still there: refused again, nothing pushed.
    assert "conflict markers still in Plan.md" in b.sync(code=19).stderr
    assert git(origin, "rev-parse", "main") == remote_head
    assert "unresolved conflict: Plan.md" in b.vaultmap("status", str(b.vault)).stdout

    b.write("Plan.md", PLAN.replace("Some prose", "Prose rewritten by A and B"))
    result = b.sync()
    assert "finished the merge" in result.stdout and "pushed" in result.stdout
    a.sync()
    assert a.read("Plan.md") == PLAN.replace("Some prose", "Prose rewritten by A and B")


def test_abort_goes_back_to_the_local_notes(a: Clone, b: Clone) -> None:
    a.write("Plan.md", PLAN.replace("Some prose", "Prose by A"))
    a.sync()
    mine = PLAN.replace("Some prose", "Prose by B")
    b.write("Plan.md", mine)
    b.sync(code=19)
    assert "merge aborted" in b.sync("--abort").stdout
    assert b.read("Plan.md") == mine
    assert not (b.path / ".git" / "MERGE_HEAD").exists()
    assert "nothing to abort" in b.sync("--abort").stdout


def test_on_conflict_abort_keeps_local_files_and_pauses(a: Clone, b: Clone) -> None:
    a.write("Plan.md", PLAN.replace("Some prose", "Prose by A"))
    a.sync()
    mine = PLAN.replace("Some prose", "Prose by B")
    b.write("Plan.md", mine)
    result = b.sync("--on-conflict", "abort", code=19)
    assert "merge aborted" in result.stderr and "paused" in result.stderr
    assert b.read("Plan.md") == mine
    assert not (b.path / ".git" / "MERGE_HEAD").exists()
    assert b.git("status", "--porcelain").strip() == ""  # committed locally, nothing half-way
    assert "git sync is paused" in b.sync("--on-conflict", "abort", code=19).stderr
    assert "sync paused since" in b.vaultmap("status", str(b.vault)).stdout
    # A person runs it: the conflict is shown to them, like git.
    assert "merge conflict in Plan.md" in b.sync(code=19).stderr


def test_a_note_with_conflict_markers_is_never_committed(a: Clone) -> None:
    a.write("Plan.md", PLAN + "<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> other\n")
    head = a.git("rev-parse", "HEAD")
    result = a.sync(code=19)
    assert "conflict markers in Plan.md (line 9)" in result.stderr
    assert a.git("rev-parse", "HEAD") == head


def test_rebase_mode_keeps_both_ticks(origin: Path, tmp_path: Path) -> None:
    c = clone(origin, tmp_path, "c", config='pull = "rebase"\n')
    d = clone(origin, tmp_path, "d", config='pull = "rebase"\n')
    c.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    c.sync()
    d.write("Plan.md", PLAN.replace("[ ] four", "[x] four"))
    d.sync()
    assert d.git("log", "--merges", "--format=%H").strip() == ""  # linear history
    assert d.read("Plan.md") == PLAN.replace("[ ] one", "[x] one").replace("[ ] four", "[x] four")


# --------------------------------------------------------------------------- repository states


def test_not_a_work_tree(tmp_path: Path) -> None:
    vault = tmp_path / "plain"
    vault.mkdir()
    c = Clone(vault, vault)
    result = c.sync(code=17)
    assert "is not inside a git work tree" in result.stderr


def test_no_upstream(tmp_path: Path) -> None:
    path = tmp_path / "local"
    git(tmp_path, "init", "-q", "-b", "main", str(path))
    c = Clone(path, path)
    c.git("config", "user.name", "l")
    c.git("config", "user.email", "l@example.invalid")
    c.write("Plan.md", PLAN)
    c.commit_all("start")
    result = c.sync(code=17)
    assert "branch 'main' has no upstream: run `git push -u origin main`" in result.stderr


def test_detached_head(a: Clone) -> None:
    a.git("checkout", "-q", "--detach")
    assert "HEAD is detached" in a.sync(code=17).stderr


def test_mid_rebase_left_by_another_tool(a: Clone, b: Clone) -> None:
    a.write("Plan.md", PLAN.replace("Some prose", "A prose"))
    a.commit_all("a")
    a.git("push", "-q")
    b.write("Plan.md", PLAN.replace("Some prose", "B prose"))
    b.commit_all("b")
    b.git("fetch", "-q")
    b.git("rebase", "origin/main", check=False)  # stops on the conflict
    result = b.sync(code=17)
    assert "in the middle of a rebase" in result.stderr
    assert "not started by vaultmap" in b.sync("--abort", code=17).stderr
    assert (b.path / ".git" / "rebase-merge").exists()  # left alone


def test_a_held_index_lock_is_waited_for_and_never_deleted(a: Clone) -> None:
    lock = a.path / ".git" / "index.lock"
    lock.write_text("")
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    result = a.sync(code=17)
    assert "index.lock is held by another git process" in result.stderr
    assert lock.exists()
    lock.unlink()
    a.sync()
    assert a.head_subject() == "vaultmap: 1 done (1 note)"


def test_unreachable_remote_is_one_line_and_masks_credentials(a: Clone) -> None:
    a.git("remote", "set-url", "origin", "https://someone:s3cret-token@127.0.0.1:9/x.git")
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    result = a.sync(code=18)
    assert "cannot fetch from origin" in result.stderr
    assert "s3cret-token" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    # The local commit is whole; the next run pushes it.
    assert a.head_subject() == "vaultmap: 1 done (1 note)"
    assert a.git("status", "--porcelain").strip() == ""


def _pre_push_hook(clone_dir: Path, other: Clone, times: int) -> None:
    """Before each of ``clone_dir``'s first ``times`` pushes, ``other`` pushes a commit: the
    remote then rejects ours, as when someone pushes meanwhile."""
    hook = clone_dir / ".git" / "hooks" / "pre-push"
    counter = clone_dir / ".git" / "push-count"
    hook.write_text(f"""#!/bin/sh
n=$(cat {counter} 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > {counter}
if [ $n -le {times} ]; then
  cd {other.path} && echo "- [ ] from the other side $n" >> Other.md && git add -A &&
  git commit -q -m "other $n" && git push -q origin main >/dev/null 2>&1
fi
exit 0
""")
    hook.chmod(0o755)


def test_rejected_push_fetches_merges_and_retries(a: Clone, b: Clone, origin: Path) -> None:
    _pre_push_hook(a.path, b, times=1)
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    result = a.sync()
    assert "pushed" in result.stdout
    remote_other = git(origin, "show", "main:Other.md")
    assert "from the other side 1" in remote_other
    assert "[x] one" in git(origin, "show", "main:Plan.md")


def test_push_still_rejected_after_retries(a: Clone, b: Clone) -> None:
    _pre_push_hook(a.path, b, times=100)
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    result = a.sync(code=18)
    assert "still rejected after 4 attempts" in result.stderr


def test_no_process_or_descriptor_left_behind(a: Clone) -> None:
    before = len(os.listdir("/proc/self/fd"))
    for n in range(3):
        a.write("Plan.md", PLAN.replace("Some prose", f"Prose {n}"))
        a.sync()
    assert len(os.listdir("/proc/self/fd")) <= before


def test_a_tick_kept_over_a_deletion_is_reported(a: Clone, b: Clone) -> None:
    a.write("Plan.md", PLAN.replace("- [ ] two\n", ""))
    a.sync()
    b.write("Plan.md", PLAN.replace("[ ] two", "[x] two"))
    result = b.sync()
    assert "vaultmap: note: Plan.md: " in result.stderr and "two" in result.stderr
    assert "[x] two" in b.read("Plan.md")
    status = b.vaultmap("status", str(b.vault)).stdout
    assert "last merge: Plan.md: " in status


def test_rebase_conflict_stops_then_finishes(origin: Path, tmp_path: Path) -> None:
    c = clone(origin, tmp_path, "c", config='pull = "rebase"\n')
    d = clone(origin, tmp_path, "d", config='pull = "rebase"\n')
    c.write("Plan.md", PLAN.replace("Some prose", "Prose by C"))
    c.sync()
    d.write("Plan.md", PLAN.replace("Some prose", "Prose by D"))
    assert "merge conflict in Plan.md" in d.sync(code=19).stderr
    assert (d.path / ".git" / "rebase-merge").exists()
    d.write("Plan.md", PLAN.replace("Some prose", "Prose by C and D"))
    result = d.sync()
    assert "finished the merge" in result.stdout
    assert not (d.path / ".git" / "rebase-merge").exists()
    assert d.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    c.sync()
    assert c.read("Plan.md") == PLAN.replace("Some prose", "Prose by C and D")
    assert d.git("log", "--merges", "--format=%H").strip() == ""


def test_a_hanging_remote_times_out_in_one_line(a: Clone) -> None:
    # A remote that never answers: git's ext helper runs `sleep` (killed with its group).
    # Its duration is unique to this test run (60 s and a fraction no other run picks), so
    # the look for a left-over child finds only ours, never another run's on this machine.
    duration = f"60.{uuid.uuid4().int % 10**12:012d}"
    a.git("config", "protocol.ext.allow", "always")
    a.git("remote", "set-url", "origin", f"ext::sleep {duration}")
    (a.vault / ".vaultmap.toml").write_text("[git]\ntimeout = 1\n")
    result = a.sync(code=18)
    assert "git fetch took longer than 1 s" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    ours = b"sleep\x00" + duration.encode() + b"\x00"
    assert not any(_cmdline(pid).endswith(ours) for pid in os.listdir("/proc")
                   if pid.isdigit())


def test_a_symlinked_note_is_committed_as_a_link_and_never_read(a: Clone, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("- [x] a task outside the vault\n")
    (a.vault / "link.md").symlink_to(outside)
    a.sync()
    assert a.head_subject() == "vaultmap: notes edited (1)"
    assert "outside the vault" not in a.git("log", "-1", "--format=%B")
    assert a.git("ls-tree", "HEAD", "link.md").startswith("120000")


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_a_briefly_held_index_lock_is_waited_out(a: Clone) -> None:
    import threading
    import time

    lock = a.path / ".git" / "index.lock"
    lock.write_text("")
    # Another git process that holds the lock for a moment, then lets go.
    holder = threading.Timer(0.3, lock.unlink)
    holder.start()
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    started = time.monotonic()
    a.sync()
    holder.join()
    assert a.head_subject() == "vaultmap: 1 done (1 note)"
    assert time.monotonic() - started >= 0.3


def test_status_shows_ahead_behind_and_the_last_sync(a: Clone, b: Clone) -> None:
    assert "git: never synced by vaultmap" in a.vaultmap("status", str(a.vault)).stdout
    b.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    b.sync()
    a.git("fetch", "-q")
    a.write("Other.md", "# Other\n\n- [x] alpha\n")
    a.commit_all("local")
    a.write("Plan.md", PLAN.replace("Some prose", "Edited prose"))
    status = a.vaultmap("status", str(a.vault)).stdout
    assert ("git: branch main, 1 ahead and 1 behind origin/main (as last fetched); "
            "1 changed file(s) not committed") in status
    a.sync()
    status = a.vaultmap("status", str(a.vault)).stdout
    assert "0 ahead and 0 behind" in status and "git: last sync 20" in status


def test_on_conflict_abort_in_rebase_mode_keeps_local_commits_and_pauses(
        origin: Path, tmp_path: Path) -> None:
    c = clone(origin, tmp_path, "c", config='pull = "rebase"\n')
    d = clone(origin, tmp_path, "d", config='pull = "rebase"\n')
    c.write("Plan.md", PLAN.replace("Some prose", "Prose by C"))
    c.sync()
    mine = PLAN.replace("Some prose", "Prose by D").replace("[ ] two", "[x] two")
    d.write("Plan.md", mine)
    local_branch = d.git("rev-parse", "main")
    result = d.sync("--on-conflict", "abort", code=19)
    assert "aborted" in result.stderr and "paused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    # No rebase left in progress, the branch checked out again with the local commit on it.
    assert not (d.path / ".git" / "rebase-merge").exists()
    assert not (d.path / ".git" / "rebase-apply").exists()
    assert d.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    assert d.read("Plan.md") == mine
    assert d.git("status", "--porcelain").strip() == ""
    assert d.git("log", "-1", "--format=%s", "main").startswith("vaultmap: 1 done")
    assert d.git("rev-parse", "main") != local_branch  # the local commit is there, not lost
    assert "git sync is paused" in d.sync("--on-conflict", "abort", code=19).stderr
    assert "sync paused since" in d.vaultmap("status", str(d.vault)).stdout


def test_mid_merge_left_by_another_tool(a: Clone, b: Clone) -> None:
    a.write("Plan.md", PLAN.replace("Some prose", "A prose"))
    a.commit_all("a")
    a.git("push", "-q")
    b.write("Plan.md", PLAN.replace("Some prose", "B prose"))
    b.commit_all("b")
    b.git("fetch", "-q")
    b.git("merge", "--no-edit", "origin/main", check=False)  # stops on the conflict
    assert (b.path / ".git" / "MERGE_HEAD").exists()
    result = b.sync(code=17)
    assert "in the middle of a merge" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not started by vaultmap" in b.sync("--abort", code=17).stderr
    assert (b.path / ".git" / "MERGE_HEAD").exists()  # left alone
    assert "<<<<<<<" in b.read("Plan.md")
