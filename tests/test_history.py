"""``vaultmap history``: numbers against a small history computed by hand, the cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitsync_repos import GIT_ENV, git
from vaultmap.cli import main
from vaultmap.config import load_settings
from vaultmap.sync.git.history import read_history

A1 = "# A\n## S1\n- [ ] a1\n- [ ] a2\n## S2\n- [ ] a3\n"


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        git(path.parent, "init", "-q", "-b", "main", str(path))
        git(path, "config", "user.name", "h")
        git(path, "config", "user.email", "h@example.invalid")
        self.shas: list[str] = []

    def commit(self, when: str, files: dict[str, str | None], message: str = "c") -> str:
        for rel, text in files.items():
            if text is None:
                git(self.path, "rm", "-q", rel)
            else:
                (self.path / rel).write_text(text)
                git(self.path, "add", rel)
        stamp = f"{when}T12:00:00+00:00"
        git(self.path, "commit", "-q", "--allow-empty", "-m", message,
            env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
        sha = git(self.path, "rev-parse", "HEAD").strip()
        self.shas.append(sha)
        return sha


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "vault")
    r.commit("2026-11-16", {"A.md": A1})                                          # c0
    r.commit("2026-11-18", {"A.md": A1.replace("[ ] a1", "[x] a1")})              # c1
    r.commit("2026-11-24", {"B.md": "- [x] b1\n- [-] b2\n- [ ] b3\n"})            # c2
    r.commit("2026-11-25", {"A.md": A1.replace("[ ] a2", "[x] a2")})              # c3: reopen a1
    r.commit("2026-11-26", {"B.md": None, "C.md": "- [x] b1\n- [-] b2\n- [ ] b3\n"})  # c4 rename
    # A side branch ticks a3 while main adds a task; the merge brings the tick in.
    git(r.path, "switch", "-q", "-c", "side")
    r.commit("2026-11-27", {"A.md": A1.replace("[ ] a2", "[x] a2").replace("[ ] a3", "[x] a3")})
    git(r.path, "switch", "-q", "main")
    r.commit("2026-11-27", {"C.md": "- [x] b1\n- [-] b2\n- [ ] b3\n- [ ] b4\n"})  # c6
    stamp = {"GIT_AUTHOR_DATE": "2026-11-28T12:00:00+00:00",
             "GIT_COMMITTER_DATE": "2026-11-28T12:00:00+00:00"}
    git(r.path, "merge", "-q", "--no-edit", "side", env=stamp)
    r.shas.append(git(r.path, "rev-parse", "HEAD").strip())                       # c7 merge
    return r


def _history(path: Path, *args: str) -> dict[str, object]:
    env = {k: v for k, v in GIT_ENV.items() if v}
    result = CliRunner().invoke(main, ["history", *args, "--format", "json", str(path)], env=env)
    assert result.exit_code == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_weeks_match_the_hand_computed_numbers(repo: Repo) -> None:
    data = _history(repo.path)
    assert data["schema"] == "vaultmap.history/1"
    assert data["vault"] == "vault" and data["by"] == "week" and data["note"] is None
    assert data["periods"] == [
        {"period": "2026-W47", "start": "2026-11-16", "end": "2026-11-22", "commit": repo.shas[1],
         "total": 3, "done": 1, "cancelled": 0, "open": 2, "percent": 33.3,
         "done_in_period": 1},
        # a1 reopened, a2 and a3 and b1 done; the rename of B.md to C.md is not new progress.
        {"period": "2026-W48", "start": "2026-11-23", "end": "2026-11-29", "commit": repo.shas[7],
         "total": 7, "done": 3, "cancelled": 1, "open": 3, "percent": 50.0,
         "done_in_period": 3},
    ]


def test_days_since_and_one_note(repo: Repo) -> None:
    days = _history(repo.path, "--by", "day", "--since", "2026-11-25")["periods"]
    assert isinstance(days, list)
    assert [(p["period"], p["done"], p["percent"], p["done_in_period"]) for p in days] == [
        ("2026-11-25", 2, 40.0, 1), ("2026-11-26", 2, 40.0, 0), ("2026-11-27", 2, 33.3, 0),
        ("2026-11-28", 3, 50.0, 1)]
    note = _history(repo.path, "--by", "day", "--note", "A.md")
    assert note["note"] == "A.md"
    periods = note["periods"]
    assert isinstance(periods, list)
    assert [(p["period"], p["total"], p["done"], p["done_in_period"]) for p in periods] == [
        ("2026-11-16", 3, 0, 0), ("2026-11-18", 3, 1, 1), ("2026-11-25", 3, 1, 1),
        ("2026-11-28", 3, 2, 1)]


def test_second_run_reads_only_new_commits(repo: Repo) -> None:
    settings = load_settings(repo.path)
    first = read_history(settings)
    # first-parent: the side commit is not read; B.md and C.md are the same blob
    assert first.commits_read == 7 and first.blobs_parsed == 6
    again = read_history(settings)
    assert again.commits_read == 0 and again.blobs_parsed == 0
    assert again.points == first.points
    repo.commit("2026-12-01", {"C.md": "- [x] b1\n- [-] b2\n- [x] b3\n- [ ] b4\n"})
    third = read_history(settings)
    assert third.commits_read == 1 and third.blobs_parsed == 1
    assert third.points[-1].done == 4 and third.points[-1].newly_done == 1
    # History rewritten (amend): read again, still right.
    git(repo.path, "commit", "-q", "--amend", "-m", "amended")
    assert read_history(settings).points[-1].done == 4


def test_text_output_and_no_repository(repo: Repo, tmp_path: Path) -> None:
    env = {k: v for k, v in GIT_ENV.items() if v}
    result = CliRunner().invoke(main, ["history", str(repo.path)], env=env)
    assert result.exit_code == 0, result.stderr
    assert "2026-W48  ▓▓▓▓▓░░░░░  50.0%      3 of 6     done  +3" in result.stdout
    assert "burn-up (done): " in result.stdout
    plain = tmp_path / "plain"
    plain.mkdir()
    result = CliRunner().invoke(main, ["history", str(plain)], env=env)
    assert result.exit_code == 17
    assert "is not inside a git work tree" in result.stderr


@pytest.mark.parametrize("damage", [
    "UPDATE blobs SET summary = '{\"x\": 1}'",
    "UPDATE blobs SET summary = 'not json'",
    "UPDATE commits SET at = 'garbage'",
    "UPDATE commits SET changes = '[[1, 2, 3]]'",
])
def test_a_damaged_cache_row_is_read_again_from_git(repo: Repo, damage: str) -> None:
    import sqlite3

    settings = load_settings(repo.path)
    first = read_history(settings)
    db = sqlite3.connect(repo.path / ".vaultmap" / "history.sqlite")
    with db:
        db.execute(damage)
    db.close()
    assert read_history(settings).points == first.points
    assert read_history(settings).blobs_parsed == 0  # and the cache is whole again


def test_a_committed_note_over_the_size_cap_counts_as_empty_like_on_disk(tmp_path: Path) -> None:
    r = Repo(tmp_path / "vault")
    (r.path / ".vaultmap.toml").write_text("[vault]\nmax_note_mb = 0.001\n")  # about 1 KB
    r.commit("2026-11-16", {"Small.md": "- [x] one\n- [ ] two\n"})
    r.commit("2026-11-17", {"Big.md": "- [x] pasted\n" * 200})  # 2.6 KB
    points = read_history(load_settings(r.path)).points
    assert (points[-1].total, points[-1].done) == (2, 1)  # as `vaultmap report` counts today


def test_a_warm_run_imports_neither_the_parser_nor_what_only_a_config_or_excludes_need(
        repo: Repo) -> None:
    import os
    import subprocess
    import sys

    heavy = ("vaultmap.parse", "pathspec", "tomllib", "difflib", "rich", "mistune",
             "notion_client", "httpx", "vaultmap.sync.engine", "vaultmap.sync.git.merge")
    probe = ("import atexit, sys\n"
             f"heavy = {heavy!r}\n"
             "atexit.register(lambda: print('LOADED', sorted(m for m in sys.modules\n"
             "                                               if m.startswith(heavy))))\n"
             "from vaultmap.cli import main\n"
             f"main(['history', {str(repo.path)!r}], prog_name='vaultmap')\n")
    env = {k: v for k, v in {**os.environ, **GIT_ENV}.items() if v}

    def loaded() -> str:
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              env=env, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert "progress by week" in done.stdout
        return done.stdout.splitlines()[-1]

    assert "vaultmap.parse" in loaded()  # cold: every note version is parsed once
    assert loaded() == "LOADED []"  # warm: the cache answers


def test_points_kept_for_an_unmoved_head_are_exactly_a_fresh_answer(repo: Repo) -> None:
    settings = load_settings(repo.path)
    whole, one = read_history(settings), read_history(settings, note="A.md")
    cache = repo.path / ".vaultmap" / "history.sqlite"
    assert read_history(settings).points == whole.points  # from the kept points
    assert read_history(settings, note="A.md").points == one.points  # kept per note
    assert one.points != whole.points
    cache.unlink()
    assert read_history(settings).points == whole.points
    # Settings that change what a task is drop the kept points with the rest of the cache.
    (repo.path / ".vaultmap.toml").write_text('[statuses]\n"-" = "done"\n')
    changed = read_history(load_settings(repo.path))
    assert changed.blobs_parsed == 6 and changed.points[-1].done == 4  # b2 [-] counts now
    # A damaged row of kept points is worked out again, not trusted.
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(cache)) as db, db:
        db.execute("UPDATE meta SET value = '[1, 2]' WHERE key LIKE 'points:%'")
    assert read_history(load_settings(repo.path)).points == changed.points


def test_no_commit_yet_and_a_detached_head(repo: Repo, tmp_path: Path) -> None:
    env = {k: v for k, v in GIT_ENV.items() if v}
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", "-b", "main", str(empty))
    (empty / "A.md").write_text(A1)
    result = CliRunner().invoke(main, ["history", str(empty)], env=env)
    assert result.exit_code == 17 and "the repository has no commit yet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    git(repo.path, "checkout", "-q", "--detach", repo.shas[3])
    periods = _history(repo.path)["periods"]
    assert isinstance(periods, list) and periods[-1]["commit"] == repo.shas[3]


def test_the_history_of_a_note_whose_file_name_is_not_utf8(tmp_path: Path) -> None:
    # Its path holds lone surrogates: the cache key could not be bound (an unexpected error),
    # and the JSON could not be written.
    r = Repo(tmp_path / "vault")
    name = os.fsdecode(b"caf\xe9.md")
    r.commit("2026-11-16", {name: "- [ ] a\n- [ ] b\n"})
    r.commit("2026-11-18", {name: "- [x] a\n- [ ] b\n"})
    for _ in range(2):  # worked out, then read from the cache
        model = _history(r.path, "--note", name)
        assert model["note"] == name
        periods = model["periods"]
        assert isinstance(periods, list)
        assert [(p["done"], p["total"]) for p in periods] == [(1, 2)]
    env = {k: v for k, v in GIT_ENV.items() if v}
    text = CliRunner().invoke(main, ["history", "--note", name, str(r.path)], env=env)
    assert text.exit_code == 0, text.output
    assert "vault/caf\ufffd.md: progress by week" in text.stdout
