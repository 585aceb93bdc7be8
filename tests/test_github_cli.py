"""End to end: the ``vaultmap`` CLI, the real HTTP client, real HTTP to the fake GitHub.

Edits "on github.com" go through the fake's web helpers (CRLF bodies, as the web editor
saves them); edits in the vault are byte edits of the note files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fake_github import FakeGitHub
from vaultmap.cli import main
from vaultmap.sync.github.body import parse_body

CONFIG = """\
[github]
# no pacing and tiny backoff: the fake answers at once
write_interval = 0
backoff = 0.001
"""

ROADMAP = """\
---
tags: [plan]
---
# Roadmap

Intro text.

## Month 1
- [ ] Learn Python
  - [x] Variables and types
  - [ ] Functions
- [/] Write the parser 📅 2026-12-24

## Month 2
- [ ] Ship it
"""


@dataclass
class Env:
    fake: FakeGitHub
    vault: Path
    runner: CliRunner

    def env(self) -> dict[str, str | None]:
        # The test machine's own GitHub settings never leak in (GH_HOST, Enterprise tokens).
        return {"GITHUB_TOKEN": self.fake.token, "GH_TOKEN": None,
                "VAULTMAP_GITHUB_API_URL": self.fake.api_url, "GH_HOST": None,
                "GH_ENTERPRISE_TOKEN": None, "GITHUB_ENTERPRISE_TOKEN": None}

    def run(self, *args: str, code: int = 0, env: dict[str, str | None] | None = None) -> Result:
        result = self.runner.invoke(main, [*args], env=env or self.env(),
                                    catch_exceptions=False)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    def sync(self, *args: str, code: int = 0) -> Result:
        return self.run("sync", str(self.vault), *args, code=code)

    def publish(self, target: str = "Roadmap.md", *args: str, code: int = 0) -> Result:
        return self.run("github", "publish", str(self.vault / target), "--repo",
                        "ada/roadmap", *args, code=code)

    def note(self, rel: str = "Roadmap.md", text: str | None = None) -> bytes:
        path = self.vault / rel
        if text is not None:
            path.write_bytes(text.encode())
        return path.read_bytes()

    def edit_note(self, old: str, new: str, rel: str = "Roadmap.md") -> None:
        data = self.note(rel).decode()
        assert old in data
        self.note(rel, data.replace(old, new, 1))

    def body(self, number: int = 1) -> str:
        return self.fake.issue("ada/roadmap", number).body or ""

    def lines(self, number: int = 1) -> list[tuple[str, str, int]]:
        parsed = parse_body(self.body(number))
        assert parsed is not None
        return [(t.status if not t.cancelled else "-", t.text, t.depth) for t in parsed.tasks()]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    vault = tmp_path / "My Vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(CONFIG)
    (vault / "Roadmap.md").write_text(ROADMAP)
    with FakeGitHub() as fake:
        fake.add_repo("ada/roadmap")
        yield Env(fake, vault, CliRunner())


def test_publish_creates_one_issue_with_the_nested_checklist(env: Env) -> None:
    out = env.publish().stdout
    assert "published Roadmap.md (5 task(s)) as ada/roadmap#1" in out
    assert env.lines() == [(" ", "Learn Python", 0), ("x", "Variables and types", 1),
                           (" ", "Functions", 1), (" ", "Write the parser", 0),
                           (" ", "Ship it", 0)]
    assert env.fake.issue("ada/roadmap", 1).title == "Roadmap"
    assert "ada/roadmap#1" in env.run("github", "list", "--vault", str(env.vault)).stdout
    # Published tasks are agreed: the first sync has nothing to do (it reads the issue once,
    # and keeps its ETag); the next costs no rate limit at all.
    assert "nothing to do" in env.sync().stdout
    env.fake.reset_counts()
    assert "nothing to do" in env.sync().stdout
    assert env.fake.units_used == 0
    assert env.fake.count("GET /repos/{o}/{r}/issues/{n}") == 1
    assert env.fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 0


def test_publish_into_an_issue_keeps_text_written_while_it_waits(env: Env) -> None:
    number = env.fake.add_issue("ada/roadmap", "Plan", "Our plan.")
    # A person edits the issue as the write arrives; the write is refused (429) and waits.
    env.fake.on_request("PATCH /repos/{o}/{r}/issues/{n}",
                        lambda: env.fake.web_edit("ada/roadmap", number, "Our plan, v2."))
    env.fake.inject("secondary", route="PATCH /repos/{o}/{r}/issues/{n}", status=429,
                    retry_after="0")
    env.publish("Roadmap.md#Month 2", "--issue", str(number))
    assert env.body(number).startswith("Our plan, v2.\n\n<!-- vaultmap:begin")
    assert env.lines(number) == [(" ", "Ship it", 0)]


def test_publish_a_section_and_into_an_existing_issue(env: Env) -> None:
    number = env.fake.add_issue("ada/roadmap", "Plan", "Our plan.\r\n\r\nSee below.")
    env.publish("Roadmap.md#Month 2", "--issue", str(number))
    assert env.lines(number) == [(" ", "Ship it", 0)]
    assert env.body(number).startswith("Our plan.\r\n\r\nSee below.\r\n\r\n<!-- vaultmap:begin")
    assert "\n" not in env.body(number).replace("\r\n", "")  # its own line endings
    env.publish("Roadmap.md#month 1", "--title", "First month")
    assert env.fake.issue("ada/roadmap", 2).title == "First month"
    assert [t for _, t, _ in env.lines(2)] == ["Learn Python", "Variables and types",
                                               "Functions", "Write the parser"]


def test_a_tick_on_github_changes_one_byte_in_the_note(env: Env) -> None:
    env.publish()
    before = env.note()
    env.fake.web_tick("ada/roadmap", 1, "Functions")
    env.fake.reset_counts()
    env.sync()
    after = env.note()
    assert len(after) == len(before)
    assert [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == \
        [before.index(b"[ ] Functions") + 1]
    # The body already says so: nothing is written back.
    assert env.fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 0
    assert "nothing to do" in env.sync().stdout


def test_a_tick_in_the_note_reaches_the_body_and_spares_the_rest(env: Env) -> None:
    env.publish()
    body = env.body().replace("\n", "\r\n")
    person = "Please tick boxes here.\r\n\r\n"
    env.fake.web_edit("ada/roadmap", 1, person + body + "\r\nThanks, Ada  \r\n")
    env.edit_note("- [ ] Ship it", "- [x] Ship it")
    env.sync()
    assert env.lines()[-1] == ("x", "Ship it", 0)
    assert env.body().startswith(person)
    assert env.body().endswith("\r\nThanks, Ada  \r\n")
    assert env.fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 1


def test_reword_add_and_remove_in_the_note(env: Env) -> None:
    env.publish()
    env.edit_note("  - [ ] Functions", "  - [ ] Functions and closures\n  - [ ] Classes")
    env.edit_note("- [ ] Ship it\n", "")
    env.sync()
    assert env.lines() == [(" ", "Learn Python", 0), ("x", "Variables and types", 1),
                           (" ", "Functions and closures", 1), (" ", "Classes", 1),
                           (" ", "Write the parser", 0)]
    assert env.fake.issues("ada/roadmap")[0].number == 1
    assert len(env.fake.issues("ada/roadmap")) == 1
    assert "nothing to do" in env.sync().stdout


def test_a_task_moved_under_another_parent_moves_in_the_body(env: Env) -> None:
    env.publish()
    body = env.body().replace("\n", "\r\n")
    env.fake.web_edit("ada/roadmap", 1, "Our plan.\r\n" + body + "Thanks!\r\n")
    env.edit_note("  - [ ] Functions\n", "")
    env.edit_note("- [/] Write the parser 📅 2026-12-24\n",
                  "- [/] Write the parser 📅 2026-12-24\n  - [ ] Functions\n")
    env.fake.reset_counts()
    env.sync()
    assert env.lines() == [(" ", "Learn Python", 0), ("x", "Variables and types", 1),
                           (" ", "Write the parser", 0), (" ", "Functions", 1),
                           (" ", "Ship it", 0)]
    assert env.fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 1  # one write for the move
    assert env.body().startswith("Our plan.\r\n") and env.body().endswith("Thanks!\r\n")
    assert "nothing to do" in env.sync().stdout
    # Re-indented in place: out of its parent, then back in.
    env.edit_note("  - [x] Variables and types", "- [x] Variables and types")
    env.sync()
    assert env.lines()[:2] == [(" ", "Learn Python", 0), ("x", "Variables and types", 0)]
    env.edit_note("- [x] Variables and types", "  - [x] Variables and types")
    env.sync()
    assert env.lines()[:2] == [(" ", "Learn Python", 0), ("x", "Variables and types", 1)]
    assert "nothing to do" in env.sync().stdout
    assert len(env.fake.issues("ada/roadmap")) == 1


def test_close_when_done_and_a_reopen_changes_nothing(env: Env) -> None:
    (env.vault / ".vaultmap.toml").write_text(CONFIG + "close_when_done = true\n")
    env.note("Todo.md", "- [ ] one\n- [x] two\n")
    env.publish("Todo.md")
    env.fake.web_tick("ada/roadmap", 1, "one")
    env.sync()
    assert env.note("Todo.md") == b"- [x] one\n- [x] two\n"
    assert env.fake.issue("ada/roadmap", 1).state == "closed"
    env.fake.reopen("ada/roadmap", 1)
    env.sync()
    assert env.note("Todo.md") == b"- [x] one\n- [x] two\n"


def test_tasks_naming_issues_follow_them(env: Env) -> None:
    (env.vault / ".vaultmap.toml").write_text(
        CONFIG + 'default_repo = "ada/roadmap"\nenabled = true\n')
    for n in range(4):
        env.fake.add_issue("ada/roadmap", f"issue {n + 1}")
    pull = env.fake.add_issue("ada/roadmap", "the fix", pull_request=True)
    env.note("Bugs.md", "- [ ] login ada/roadmap#1\n- [ ] crash #2\n"
             "- [ ] see https://github.com/ada/roadmap/issues/3\n- [x] docs #4\n"
             f"- [ ] review #{pull}\n")
    env.sync()
    assert "#4 is still open" in env.sync().stderr  # ticked here, GitHub stays the authority
    assert env.fake.issue("ada/roadmap", 4).state == "open"  # close_issues is off
    env.fake.close("ada/roadmap", 1)
    env.fake.close("ada/roadmap", 2, "not_planned")
    env.fake.close("ada/roadmap", pull, merged=True)
    env.sync()
    assert env.note("Bugs.md").decode().splitlines()[:3] == [
        "- [x] login ada/roadmap#1", "- [-] crash #2",
        "- [ ] see https://github.com/ada/roadmap/issues/3"]
    assert env.note("Bugs.md").decode().splitlines()[4] == f"- [x] review #{pull}"
    env.fake.reopen("ada/roadmap", 1)
    env.sync()
    assert env.note("Bugs.md").decode().splitlines()[0] == "- [ ] login ada/roadmap#1"


def test_close_issues_closes_the_named_issue(env: Env) -> None:
    (env.vault / ".vaultmap.toml").write_text(CONFIG + "close_issues = true\nenabled = true\n")
    env.fake.add_issue("ada/roadmap", "bug")
    env.note("Bugs.md", "- [ ] fix ada/roadmap#1\n")
    env.sync()
    env.edit_note("- [ ] fix", "- [x] fix", rel="Bugs.md")
    env.sync()
    issue = env.fake.issue("ada/roadmap", 1)
    assert (issue.state, issue.state_reason) == ("closed", "completed")


def test_a_lost_create_answer_never_makes_a_second_issue(env: Env) -> None:
    env.fake.inject("drop_after", route="POST /repos/{o}/{r}/issues", times=1)
    env.publish()  # the answer is lost; the issue is found by its marker at once
    assert len(env.fake.issues("ada/roadmap")) == 1
    env.publish()  # and a rerun is a no-op
    assert len(env.fake.issues("ada/roadmap")) == 1
    assert "ada/roadmap#1" in env.run("github", "list", "--vault", str(env.vault)).stdout


def test_a_lost_create_found_on_the_next_run(env: Env) -> None:
    # The answer is lost and so is the search right after it: the next publish finds it.
    env.fake.inject("drop_after", route="POST /repos/{o}/{r}/issues", times=1)
    env.fake.inject("drop", route="GET /repos/{o}/{r}/issues", times=10)
    env.publish(code=4)
    env.fake.clear_faults()
    assert "unanswered" in env.run("github", "list", "--vault", str(env.vault)).stdout
    env.publish()
    assert len(env.fake.issues("ada/roadmap")) == 1
    assert "nothing to do" in env.sync().stdout


def test_a_wrong_token_is_explained_without_showing_it(env: Env) -> None:
    wrong = "ghp_" + "z" * 36
    result = env.run("github", "publish", str(env.vault / "Roadmap.md"), "--repo",
                     "ada/roadmap", code=5,
                     env={**env.env(), "GITHUB_TOKEN": wrong})
    assert "Bad credentials" in result.stderr and wrong not in result.output + result.stderr
    assert "Traceback" not in result.stderr


def test_a_private_repository_is_explained(env: Env) -> None:
    env.fake.add_repo("ada/secret", visible=False)
    result = env.run("github", "publish", str(env.vault / "Roadmap.md"), "--repo",
                     "ada/secret", code=6)
    assert "private" in result.stderr and "ada/secret" in result.stderr


def test_a_body_too_long_is_refused_before_sending(env: Env) -> None:
    env.note("Big.md", "".join(f"- [ ] task number {n} with some words\n" for n in range(2000)))
    result = env.run("github", "publish", str(env.vault / "Big.md"), "--repo",
                     "ada/roadmap", code=6)
    assert "65,536" in result.stderr and "NOTE#HEADING" in result.stderr
    assert env.fake.count("POST /repos/{o}/{r}/issues") == 0


def test_unlink_stops_the_sync_and_leaves_the_issue(env: Env) -> None:
    env.publish()
    body = env.body()
    env.run("github", "unlink", str(env.vault / "Roadmap.md"))
    env.edit_note("- [ ] Ship it", "- [x] Ship it")
    env.sync("--github")
    assert env.body() == body


@pytest.mark.slow
def test_a_fault_storm_converges_without_duplicates(env: Env) -> None:
    env.publish()
    env.fake.web_tick("ada/roadmap", 1, "Functions")
    env.edit_note("- [ ] Ship it", "- [x] Ship it")
    env.edit_note("- [ ] Learn Python", "- [ ] Learn Python well\n- [ ] Learn Rust")
    env.fake.fault_rate = 0.3
    for _ in range(30):
        result = env.runner.invoke(main, ["sync", str(env.vault)], env=env.env())
        assert result.exit_code in (0, 4, 15), result.stderr
        assert "Traceback" not in result.stderr
    env.fake.clear_faults()
    env.sync()
    assert "nothing to do" in env.sync().stdout
    assert [t for _, t, _ in env.lines()].count("Learn Rust") == 1
    assert ("x", "Ship it", 0) in env.lines()
    assert b"  - [x] Functions" in env.note()
    assert len(env.fake.issues("ada/roadmap")) == 1


def test_dry_run_and_status_change_nothing(env: Env) -> None:
    env.publish()
    env.fake.web_tick("ada/roadmap", 1, "Ship it")
    env.edit_note("  - [ ] Functions", "  - [x] Functions")
    body, note = env.body(), env.note()
    out = env.sync("--dry-run").stdout
    assert "note Roadmap.md: [ ] -> [x] 'ship it'" in out
    assert "update status [x]" in out and "functions" in out.lower()
    status = env.run("status", str(env.vault)).stdout
    assert "a sync now would:" in status
    assert env.body() == body and env.note() == note
    assert env.fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 0


def test_both_sides_changed_keeps_the_more_finished_status(env: Env) -> None:
    env.publish()
    env.edit_note("- [ ] Ship it", "- [-] Ship it")  # cancelled here ...
    env.fake.web_tick("ada/roadmap", 1, "Ship it")  # ... done there
    out = env.sync("-v").stdout
    assert "conflict Roadmap.md: 'Ship it' is [-] in the note and [x] in GitHub" in out
    assert b"- [x] Ship it" in env.note()
    status = env.run("status", str(env.vault), "--offline").stdout
    assert "1 conflict(s) resolved by the policy ([github] prefer = 'done')" in status
    assert "unlinked (their lines or issues are gone from GitHub)" in status
    assert "'Ship it' was [-] in the note and [x] in GitHub; kept the GitHub ([x])" in status
    assert "notion" not in status.lower()


def test_github_prefer_vault_keeps_the_note_and_status_names_it(env: Env) -> None:
    config = env.vault / ".vaultmap.toml"
    # [notion] prefer says the remote wins: it must not decide for GitHub.
    config.write_text(config.read_text() + 'prefer = "vault"\n\n[notion]\nprefer = "notion"\n')
    env.publish()
    env.edit_note("- [ ] Ship it", "- [-] Ship it")
    env.fake.web_tick("ada/roadmap", 1, "Ship it")
    env.sync()
    assert b"- [-] Ship it" in env.note()
    assert ("-", "Ship it", 0) in env.lines()
    status = env.run("status", str(env.vault), "--offline").stdout
    assert "([github] prefer = 'vault')" in status and "kept the note ([-])" in status


def test_a_block_deleted_on_github_trips_the_guard(env: Env) -> None:
    env.publish()
    env.fake.web_edit("ada/roadmap", 1, "We moved the plan elsewhere.")
    note = env.note()
    result = env.sync(code=13)
    assert "GitHub returned no rows" in result.stderr
    assert "checklist block is gone" in env.sync("--dry-run").stderr
    env.sync("--force")
    assert env.note() == note  # the note is never touched by a vanished checklist
    assert env.body() == "We moved the plan elsewhere."


def test_writes_keep_the_pace_github_asks_for(env: Env) -> None:
    (env.vault / ".vaultmap.toml").write_text(CONFIG.replace("write_interval = 0",
                                                             "write_interval = 0.2"))
    env.publish()
    env.fake.min_write_interval = 0.15  # the fake answers a faster write with a secondary limit
    env.edit_note("- [ ] Learn Python", "- [ ] Learn Python well")
    env.edit_note("  - [ ] Functions", "  - [ ] Functions\n  - [ ] Classes")
    env.edit_note("- [ ] Ship it", "- [ ] Ship it\n- [ ] Celebrate")
    result = env.sync()
    assert env.fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 3
    assert "waiting" not in result.stderr
    assert [s for _, _, s in env.fake.log if s in (403, 429)] == []


def test_unanswered_rate_limits_are_waited_out_with_a_progress_line(env: Env) -> None:
    env.publish()
    env.fake.inject("secondary", route="PATCH /repos/{o}/{r}/issues/{n}", status=429,
                    retry_after="1")
    env.edit_note("- [ ] Ship it", "- [x] Ship it")
    result = env.sync()
    assert "GitHub asks to slow down: waiting 1 s" in result.stderr
    assert env.lines()[-1] == ("x", "Ship it", 0)


def test_a_click_while_a_write_waits_out_a_rate_limit_is_kept(env: Env) -> None:
    env.publish()
    env.edit_note("- [ ] Ship it", "- [x] Ship it")
    # The first PATCH meets a person's click and is refused (429): the body the sync had
    # built is stale by then, so the write after the wait must start from a fresh read.
    env.fake.on_request("PATCH /repos/{o}/{r}/issues/{n}",
                        lambda: env.fake.web_tick("ada/roadmap", 1, "Functions"))
    env.fake.inject("secondary", route="PATCH /repos/{o}/{r}/issues/{n}", status=429,
                    retry_after="0")
    env.sync()
    assert (" ", "Functions", 1) not in env.lines()
    assert ("x", "Functions", 1) in env.lines() and env.lines()[-1] == ("x", "Ship it", 0)
    env.sync()
    assert b"  - [x] Functions" in env.note() and b"- [x] Ship it" in env.note()
    assert "nothing to do" in env.sync().stdout


def test_a_click_landing_as_the_write_arrives_is_the_documented_window(env: Env) -> None:
    """The REST API has no conditional write for an issue body: a click that reaches GitHub
    after the read right before a write, and before that write, is overwritten (the edit
    history on github.com keeps it). docs/github.md says so; this pins how small the window
    is (one request) and that nothing else goes wrong."""
    env.publish()
    env.edit_note("- [ ] Ship it", "- [x] Ship it")
    env.fake.on_request("PATCH /repos/{o}/{r}/issues/{n}",
                        lambda: env.fake.web_tick("ada/roadmap", 1, "Functions"))
    env.fake.reset_counts()
    env.sync()
    # The snapshot's read, the read right before the write, the write.
    assert [m for m, _, _ in env.fake.log] == ["GET", "GET", "PATCH"]
    assert env.fake.issue("ada/roadmap", 1).edits[-2:] == ["web", "api"]
    assert (" ", "Functions", 1) in env.lines()
    assert "nothing to do" in env.sync().stdout
    assert b"  - [ ] Functions" in env.note()


def test_unlink_a_deleted_note_and_publish_a_missing_one(env: Env) -> None:
    env.publish()
    (env.vault / "Roadmap.md").unlink()
    env.run("github", "unlink", str(env.vault / "Roadmap.md"))
    assert "nothing published" in env.run("github", "list", "--vault", str(env.vault)).stdout
    result = env.run("github", "publish", str(env.vault / "Nope.md"), "--repo", "ada/roadmap",
                     code=16)
    assert "Nope.md" in result.stderr and "Traceback" not in result.stderr
    result = env.run("github", "publish", str(env.vault / "Todo.md"), "--repo", "not a repo",
                     code=3)
    assert "OWNER/REPO" in result.stderr


def test_ticks_in_a_note_go_out_in_one_write_and_spare_a_tick_made_on_github(env: Env) -> None:
    env.publish()
    for text in ("Learn Python", "Functions", "Ship it"):
        env.edit_note(f"- [ ] {text}", f"- [x] {text}")
    env.fake.web_tick("ada/roadmap", 1, "Write the parser")  # meanwhile, on github.com
    env.fake.reset_counts()
    env.sync()
    assert env.fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 1
    assert [s for s, _, _ in env.lines()] == ["x", "x", "x", "x", "x"]
    assert b"- [x] Write the parser" in env.note()
    assert "nothing to do" in env.sync().stdout


def test_a_task_moved_to_another_published_section_moves_its_line(env: Env) -> None:
    env.publish("Roadmap.md#Month 1")
    env.publish("Roadmap.md#Month 2")
    env.edit_note("- [/] Write the parser 📅 2026-12-24\n", "")
    env.edit_note("- [ ] Ship it\n", "- [ ] Ship it\n- [/] Write the parser 📅 2026-12-24\n")
    env.sync()
    assert "Write the parser" not in [t for _, t, _ in env.lines(1)]
    assert [t for _, t, _ in env.lines(2)] == ["Ship it", "Write the parser"]
    assert "nothing to do" in env.sync().stdout


def test_a_renamed_note_leaves_its_checklist_until_it_is_published_again(env: Env) -> None:
    env.publish()
    body = env.body()
    (env.vault / "Roadmap.md").rename(env.vault / "Plan.md")
    assert "the vault has no tasks" in env.sync(code=13).stderr  # the guard
    result = env.sync("--force")
    assert "Roadmap.md is published as ada/roadmap#1 but has no tasks" in result.stderr
    assert env.body() == body  # nothing removed from the issue, even forced
    env.run("github", "publish", str(env.vault / "Plan.md"), "--repo", "ada/roadmap",
            "--issue", "1")
    listed = env.run("github", "list", "--vault", str(env.vault)).stdout
    assert "Plan.md -> ada/roadmap#1" in listed and "Roadmap.md" not in listed
    assert "nothing to do" in env.sync().stdout
    env.edit_note("- [ ] Ship it", "- [x] Ship it", rel="Plan.md")
    env.sync()
    assert env.lines()[-1] == ("x", "Ship it", 0)
    assert len(env.fake.issues("ada/roadmap")) == 1


def test_a_task_naming_an_issue_that_does_not_exist_is_said_not_fatal(env: Env) -> None:
    (env.vault / ".vaultmap.toml").write_text(CONFIG + "enabled = true\n")
    env.fake.add_repo("ada/secret", visible=False)
    env.fake.add_issue("ada/roadmap", "real")
    env.note("Bugs.md", "- [ ] typo ada/roadmap#99\n- [/] hidden ada/secret#1\n"
             "- [ ] real ada/roadmap#1\n")
    result = env.sync()
    assert "'typo ada/roadmap#99' names ada/roadmap#99, but GitHub has no" in result.stderr
    assert "ada/secret#1" in result.stderr
    env.fake.close("ada/roadmap", 1)
    env.sync()
    assert env.note("Bugs.md") == (b"- [ ] typo ada/roadmap#99\n- [/] hidden ada/secret#1\n"
                                   b"- [x] real ada/roadmap#1\n")
    assert "nothing to do" in env.sync().stdout


def test_a_double_encoded_note_is_published_with_its_repaired_text(env: Env) -> None:
    from mojibake_notes import double_encode

    env.note("Skills.md", double_encode("# Skill 1 — Python 🧩\n\n- [ ] Café visit 1️⃣\n"
                                        "- [x] Zoë’s review\n"))
    before = env.note("Skills.md")
    # The heading can be named as vaultmap shows it; title and lines carry the repaired text.
    env.publish("Skills.md#Skill 1 — Python 🧩")
    issue = env.fake.issue("ada/roadmap", 1)
    assert issue.title == "Skills: Skill 1 — Python 🧩"
    assert env.lines() == [(" ", "Café visit 1️⃣", 0), ("x", "Zoë’s review", 0)]
    # Agreed as published: nothing to do, and the note's bytes are untouched.
    assert "nothing to do" in env.sync().stdout
    assert env.note("Skills.md") == before


def test_gh_auth_token_is_asked_for_the_host_and_an_explicit_url_beats_gh_host(
        env: Env, tmp_path: Path) -> None:
    host = env.fake.api_url.removeprefix("http://")
    tools = tmp_path / "bin"
    tools.mkdir()
    gh = tools / "gh"
    gh.write_text(f"#!/bin/sh\n[ \"$*\" = 'auth token --hostname {host}' ] && "
                  f"echo {env.fake.token}\nexit 0\n")
    gh.chmod(0o755)
    logged_in = {**env.env(), "GITHUB_TOKEN": None, "GH_HOST": "ghe.example.invalid",
                 "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = env.run("github", "publish", str(env.vault / "Roadmap.md"), "--repo", "ada/roadmap",
                  env=logged_in).stdout
    assert "as ada/roadmap#1" in out and env.fake.token not in out
    # Without the URL, GH_HOST names the host: gh has no token for it, and nothing is sent.
    requests = env.fake.total_requests
    result = env.run("sync", str(env.vault), code=5,
                     env={**logged_in, "VAULTMAP_GITHUB_API_URL": None})
    assert "no GitHub token for ghe.example.invalid" in result.stderr
    assert "gh auth login --hostname ghe.example.invalid" in result.stderr
    assert env.fake.total_requests == requests


def test_a_struck_done_task_and_an_empty_cancelled_task_keep_their_status(env: Env) -> None:
    # The block read `- [x] ~~old plan~~` back as a cancelled "old plan", and showed `- [-] `
    # (no text) as a plain tick that read back as done: GitHub's rows disagreed with the note.
    original = b"# Plan\n- [x] ~~old plan~~ done anyway\n- [x] ~~old plan~~\n- [-] \n- [ ] next\n"
    (env.vault / "Plan.md").write_bytes(original)
    env.publish("Plan.md")
    assert env.lines(1) == [("x", "~~old plan~~ done anyway", 0), ("x", "~~old plan~~", 0),
                            ("-", "", 0), (" ", "next", 0)]
    assert "nothing to do" in env.sync().stdout
    assert env.note("Plan.md") == original
    env.fake.web_tick("ada/roadmap", 1, "next")
    env.sync()
    assert env.note("Plan.md") == original.replace(b"[ ] next", b"[x] next")
    assert "nothing to do" in env.sync().stdout


def test_a_note_whose_file_name_is_not_utf8_publishes_and_syncs(env: Env) -> None:
    # Its path (and its block id's key) hold lone surrogates: publish stopped with an
    # "unexpected internal error" (the key in the block, the title, the link table).
    odd = Path(os.fsdecode(os.fsencode(env.vault) + b"/caf\xe9.md"))
    odd.write_bytes(b"- [ ] hello ^abc\n- [ ] two\n")
    assert "as ada/roadmap#1" in env.run("github", "publish", str(odd), "--repo",
                                         "ada/roadmap").stdout
    assert env.fake.issue("ada/roadmap", 1).title == "caf\ufffd"
    assert "nothing to do" in env.sync().stdout
    env.fake.web_tick("ada/roadmap", 1, "hello")
    env.sync()
    assert odd.read_bytes() == b"- [x] hello ^abc\n- [ ] two\n"
    assert "nothing to do" in env.sync().stdout
