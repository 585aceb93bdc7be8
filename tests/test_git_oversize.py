"""Notes over ``[vault] max_note_mb`` in the git round trip and the merge driver: their size
is checked before any content is read (``git ls-tree -l``, ``stat``), and such a note is
committed and merged as a plain file, as the scan skips it on disk, with one line saying so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitsync_repos import GIT_ENV, clone, git, make_origin

PLAN = "# Plan\n\n- [ ] one\n- [ ] two\n"
CAP = "[vault]\nmax_note_mb = 1\n"


def _big_note(lines: int = 60_000) -> str:
    """About 1.3 MB of tasks: over a 1 MB cap."""
    return "# Big\n\n" + "".join(f"- [ ] pasted task {n}\n" for n in range(lines))


def test_a_changed_note_over_the_cap_is_committed_as_a_plain_file(tmp_path: Path) -> None:
    a = clone(make_origin(tmp_path, {"Plan.md": PLAN, "Big.md": _big_note()}), tmp_path, "a",
              config=CAP)
    a.write("Big.md", _big_note().replace("[ ] pasted task 7\n", "[x] pasted task 7\n"))
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    result = a.sync()
    assert "Big.md: 1.4 MB is over [vault] max_note_mb; git sync commits and merges it as a " \
           "plain file (its tasks are not read)" in result.stdout + result.stderr
    message = a.git("log", "-1", "--format=%B")
    assert "pasted task 7" not in message  # not parsed: no task line named from it
    assert "Plan.md:\n  done: one" in message and "edited: Big.md" in message
    assert a.git("status", "--porcelain") == ""


def test_conflict_markers_in_a_note_over_the_cap_still_stop_the_commit(tmp_path: Path) -> None:
    a = clone(make_origin(tmp_path, {"Plan.md": PLAN, "Big.md": _big_note()}), tmp_path, "a",
              config=CAP)
    a.write("Big.md", _big_note() + "<<<<<<< ours\n- [x] a\n=======\n- [ ] a\n>>>>>>> theirs\n")
    result = a.sync(code=19)
    assert "conflict markers in Big.md" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_merge_of_a_note_over_the_cap_is_git_s_and_said(tmp_path: Path) -> None:
    bare = make_origin(tmp_path, {"Plan.md": PLAN, "Big.md": _big_note()})
    a = clone(bare, tmp_path, "a", config=CAP)
    b = clone(bare, tmp_path, "b", config=CAP)
    b.write("Big.md", "- [ ] added on top by b\n" + _big_note())
    b.sync()
    a.write("Big.md", _big_note() + "- [ ] added at the end by a\n")
    a.write("Plan.md", PLAN.replace("[ ] two", "[x] two"))
    result = a.sync()
    assert "Big.md: 1.4 MB is over [vault] max_note_mb" in result.stdout + result.stderr
    merged = a.read("Big.md")
    assert merged.startswith("- [ ] added on top by b\n")
    assert merged.endswith("- [ ] added at the end by a\n")
    log = (a.vault / ".vaultmap" / "merge-driver.log").read_text()
    assert "is over [vault] max_note_mb; used git's text merge" in log


def test_the_merge_driver_never_reads_a_version_over_the_cap(tmp_path: Path) -> None:
    # Three 64 MB versions (sparse: no disk used) and a 1 MB cap. The driver's peak memory
    # stays far below one version: none is read whole (git's own merge, a child, reads them).
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    (repo / ".vaultmap.toml").write_text(CAP)
    size = 64 * 1024 * 1024
    for name in ("o", "a", "b"):
        with open(repo / name, "wb") as handle:
            handle.truncate(size)
    # VmHWM: the peak of this program's memory (ru_maxrss would also count the forking
    # test process's memory from before the exec).
    probe = ("import sys\n"
             "from vaultmap.sync.git.driver import main\n"
             "code = main(sys.argv[1:])\n"
             "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
             "print(code, peak[0].split()[1])\n")
    env = {**os.environ, **{k: v for k, v in GIT_ENV.items() if v}}
    done = subprocess.run([sys.executable, "-c", probe, "o", "a", "b", "7", "Big.md"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    code, peak_kb = done.stdout.split()
    assert code == "1"  # git's own merge: zeros are binary to it, a conflict
    assert int(peak_kb) * 1024 < size // 2, peak_kb
    assert (repo / "a").stat().st_size == size  # %A was never rewritten from memory
    log = (repo / ".vaultmap" / "merge-driver.log").read_text()
    assert f"{size} bytes is over [vault] max_note_mb; used git's text merge" in log
