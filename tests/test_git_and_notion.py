"""``vaultmap sync`` with Notion and git both configured: each prints its own result line,
and a failure of one does not stop the other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fake_notion import FakeNotion
from gitsync_repos import GIT_ENV, Clone, clone, make_origin
from vaultmap.cli import main

NOTION_CONFIG = """
[notion]
requests_per_second = 0
timeout = 5
backoff = 0.001
max_attempts = 2
"""


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Clone, FakeNotion]]:
    bare = make_origin(tmp_path, {"Plan.md": "# Plan\n\n- [ ] one\n- [ ] two\n"})
    c = clone(bare, tmp_path, "c", config=NOTION_CONFIG)
    with FakeNotion() as fake:
        page = fake.add_page("Home")
        result = _run(fake, "notion", "init", "--parent", page, str(c.vault))
        assert result.exit_code == 0, result.stderr
        yield c, fake


def _run(fake: FakeNotion, *args: str, token: bool = True) -> Result:
    env = {k: v for k, v in GIT_ENV.items() if v}
    env["VAULTMAP_NOTION_BASE_URL"] = fake.base_url
    env["NOTION_TOKEN"] = fake.token if token else ""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_both_remotes_each_with_a_result_line(setup: tuple[Clone, FakeNotion]) -> None:
    c, fake = setup
    c.write("Plan.md", "# Plan\n\n- [x] one\n- [ ] two\n")
    result = _run(fake, "sync", str(c.vault))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("notion: ") and "2 created" in line for line in lines)
    assert any(line.startswith("git: committed 'vaultmap: 1 done (1 note)'") for line in lines)
    assert lines[0].startswith("notion: ")  # Notion first: its edits go into the commit
    # The config change (the database id) went in with it, listed as an edit.
    assert "edited: .vaultmap.toml" in c.git("log", "-1", "--format=%b")


def test_git_failure_does_not_stop_notion(setup: tuple[Clone, FakeNotion]) -> None:
    c, fake = setup
    c.git("remote", "set-url", "origin", str(c.path.parent / "gone.git"))
    c.write("Plan.md", "# Plan\n\n- [x] one\n- [ ] two\n")
    result = _run(fake, "sync", str(c.vault))
    assert result.exit_code == 18
    assert "notion: " in result.stdout and "2 created" in result.stdout
    assert result.stderr.startswith("vaultmap: git: cannot fetch from origin")
    assert len(fake.table(fake_database(c))) == 2


def test_notion_failure_does_not_stop_git(setup: tuple[Clone, FakeNotion]) -> None:
    c, fake = setup
    c.write("Plan.md", "# Plan\n\n- [x] one\n- [ ] two\n")
    result = _run(fake, "sync", str(c.vault), token=False)
    assert result.exit_code == 5, result.stderr
    assert "vaultmap: notion: no Notion token" in result.stderr
    assert "git: committed" in result.stdout and "pushed 1 commit(s)" in result.stdout


def test_flags_select_one_remote(setup: tuple[Clone, FakeNotion]) -> None:
    c, fake = setup
    c.write("Plan.md", "# Plan\n\n- [x] one\n- [ ] two\n")
    result = _run(fake, "sync", "--notion", str(c.vault))
    assert result.exit_code == 0 and "git:" not in result.stdout
    assert fake.table(fake_database(c))
    assert c.git("status", "--porcelain").strip() != ""  # git left alone
    result = _run(fake, "sync", "--git", str(c.vault), token=False)
    assert result.exit_code == 0 and result.stdout.startswith("git: committed")


def fake_database(c: Clone) -> str:
    from vaultmap.config import load_settings

    return load_settings(c.vault).notion.database_id


def test_plain_sync_with_only_git_configured(tmp_path: Path) -> None:
    bare = make_origin(tmp_path, {"Plan.md": "- [ ] one\n"})
    c = clone(bare, tmp_path, "solo")
    c.write("Plan.md", "- [x] one\n")
    result = c.vaultmap("sync", str(c.vault))
    assert result.stdout.startswith("git: committed 'vaultmap: 1 done (1 note)'")
    (c.vault / ".vaultmap.toml").write_text("[git]\nenabled = false\n")
    # Nothing configured any more: the usual advice about Notion, exit 3.
    assert "no Notion database is set" in c.vaultmap("sync", str(c.vault), code=3).stderr
