"""End to end: the ``vaultmap`` CLI, the real notion-client, real HTTP to the fake Notion.

Every scenario starts from ``vaultmap notion init`` in a temp vault; Notion-side edits are made
through the fake "as a person would" (they bump the minute-rounded edit time).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fake_notion import FakeNotion
from terminal import run_on_terminal
from vaultmap.cli import main
from vaultmap.cli.sync_cmds import record_database
from vaultmap.config import load_settings

FAST_CONFIG = """\
# vaultmap settings for this vault (a comment the CLI must keep)
[vault]
flavor = "obsidian"

[notion]
# pacing off and tiny backoff: the fake answers at once
requests_per_second = 0
timeout = 5
backoff = 0.001
max_attempts = 8
"""


@dataclass
class Env:
    fake: FakeNotion
    vault: Path
    runner: CliRunner
    database_id: str = ""

    def env(self) -> dict[str, str]:
        return {"NOTION_TOKEN": self.fake.token, "VAULTMAP_NOTION_BASE_URL": self.fake.base_url}

    def run(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(main, [*args], env=self.env(), catch_exceptions=False)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    def sync(self, *args: str, code: int = 0) -> Result:
        return self.run("sync", str(self.vault), *args, code=code)

    def rows(self) -> list[dict[str, Any]]:
        return self.fake.table(self.database_id)

    def row(self, text: str) -> dict[str, Any]:
        (found,) = [r for r in self.rows() if r["Task"] == text]
        return found

    def note(self, rel: str, text: str | None = None) -> str:
        path = self.vault / rel
        if text is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode())
        return path.read_bytes().decode()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    vault = tmp_path / "My Vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(FAST_CONFIG)
    with FakeNotion() as fake:
        e = Env(fake, vault, CliRunner())
        page = fake.add_page("Home")
        result = e.run("notion", "init", "--parent",
                       f"https://www.notion.so/Home-{page.replace('-', '')}", str(vault))
        assert "created Notion database" in result.stdout
        e.database_id = load_settings(vault).notion.database_id
        assert e.database_id
        yield e


def test_init_keeps_comments_and_refuses_twice(env: Env) -> None:
    text = (env.vault / ".vaultmap.toml").read_text()
    assert text.startswith("# vaultmap settings for this vault (a comment the CLI must keep)")
    assert "# pacing off and tiny backoff" in text
    assert f'database_id = "{env.database_id}"' in text
    result = env.run("notion", "init", "--parent", env.fake.add_page(), str(env.vault), code=3)
    assert "already names the Notion database" in result.stderr
    assert env.fake.token not in result.stderr + result.stdout


def test_first_push_tick_both_ways_and_no_change_cost(env: Env) -> None:
    original = "# Plan\n\n- [ ] write the **parser** 📅 2026-06-01 #code\n- [x] pick a name\n"
    env.note("Plan.md", original)
    result = env.sync()
    assert "2 created" in result.stdout
    rows = {r["Task"]: r for r in env.rows()}
    assert rows["write the parser #code"]["Done"] is False
    assert rows["write the parser #code"]["Due"] == "2026-06-01"
    assert rows["pick a name"]["Done"] is True and rows["pick a name"]["Status"] == "Done"
    assert rows["pick a name"]["Note"] == "Plan.md"

    # Tick in Notion: the note changes by exactly one byte.
    env.fake.tick(rows["write the parser #code"]["_id"])
    env.sync()
    after = env.note("Plan.md")
    assert after == original.replace("[ ] write", "[x] write")
    # Tick in the note (untick, here): the row follows.
    env.note("Plan.md", after.replace("[x] pick", "[ ] pick"))
    env.sync()
    assert env.row("pick a name")["Done"] is False
    assert env.row("pick a name")["Status"] == "Todo"

    # Nothing changed: at most 2 requests, whatever the size.
    env.fake.reset_counts()
    result = env.sync()
    assert "nothing to do" in result.stdout
    assert env.fake.total_requests <= 2, env.fake.requests


def test_a_note_whose_file_name_is_not_utf8_syncs_like_any_other(env: Env) -> None:
    # Its path (and its block id's key) hold lone surrogates: the whole sync stopped with an
    # "unexpected internal error", the other notes' tasks unsynced.
    env.note("ok.md", "- [ ] fine task\n")
    odd = Path(os.fsdecode(os.fsencode(env.vault) + b"/caf\xe9.md"))
    odd.write_bytes(b"- [ ] hello ^abc\n- [x] two\n")
    assert "3 created" in env.sync().stdout
    assert "nothing to do" in env.sync().stdout
    assert env.row("hello")["Note"] == "caf\ufffd.md"
    env.fake.tick(env.row("hello")["_id"])
    env.sync()
    assert odd.read_bytes() == b"- [x] hello ^abc\n- [x] two\n"
    odd.write_bytes(b"- [x] hello ^abc\n- [ ] two\n")
    env.sync()
    assert env.row("two")["Done"] is False
    assert "nothing to do" in env.sync().stdout


def test_status_select_and_both_sides_conflict(env: Env) -> None:
    env.note("Plan.md", "- [ ] one\n- [ ] two\n")
    env.sync()
    env.fake.set_select(env.row("one")["_id"], "Status", "Doing")
    env.note("Plan.md", "- [ ] one\n- [-] two\n")
    env.fake.tick(env.row("two")["_id"])
    result = env.sync("--verbose")
    assert "* note Plan.md: [ ] -> [/] 'one'" in result.stdout
    assert "! conflict Plan.md: 'two' is [-] in the note and [x] in Notion; keeping [x]" in (
        result.stdout)
    # "done" policy: done beats cancelled.
    assert env.note("Plan.md") == "- [/] one\n- [x] two\n"
    status = env.run("status", str(env.vault))
    assert "1 conflict(s)" in status.stdout and "'two'" in status.stdout
    assert "in sync" in status.stdout
    env.run("status", str(env.vault), "--clear-conflicts", "--offline")
    assert "no conflicts" in env.run("status", str(env.vault), "--offline").stdout


def test_reword_and_moves_keep_rows(env: Env) -> None:
    env.note("Plan.md", "# Month 1\n- [ ] read the notion api docs\n- [ ] draft the schema\n"
             "# Month 2\n")
    env.sync()
    ids = {r["Task"]: r["_id"] for r in env.rows()}
    env.note("Plan.md", "# Month 1\n- [ ] read the notion api docs twice\n# Month 2\n"
             "- [ ] draft the schema\n")
    env.sync()
    assert env.row("read the notion api docs twice")["_id"] == ids["read the notion api docs"]
    assert env.row("draft the schema")["Section"] == "Month 2"
    assert env.row("draft the schema")["_id"] == ids["draft the schema"]
    # Into another note, then that note is renamed.
    env.note("Plan.md", "# Month 1\n- [ ] read the notion api docs twice\n# Month 2\n")
    env.note("Archive/Old.md", "- [x] draft the schema\n")
    env.sync()
    row = env.row("draft the schema")
    assert (row["_id"], row["Note"], row["Done"]) == (ids["draft the schema"],
                                                       "Archive/Old.md", True)
    (env.vault / "Archive" / "Old.md").rename(env.vault / "Archive" / "Older.md")
    env.sync()
    assert env.row("draft the schema")["Note"] == "Archive/Older.md"
    assert len(env.fake.table(env.database_id, trashed=True)) == 2


def test_delete_trashes_and_notion_trash_unlinks(env: Env) -> None:
    env.note("Plan.md", "- [ ] keep me\n- [ ] delete me\n- [ ] trash me in notion\n")
    env.sync()
    env.note("Plan.md", "- [ ] keep me\n- [ ] trash me in notion\n")
    env.sync()
    trashed = [r for r in env.fake.table(env.database_id, trashed=True) if r["_trashed"]]
    assert [r["Task"] for r in trashed] == ["delete me"]
    env.fake.trash_row(env.row("trash me in notion")["_id"])
    result = env.sync()
    assert "was trashed in Notion; the task stays in the note" in result.stderr
    assert env.note("Plan.md") == "- [ ] keep me\n- [ ] trash me in notion\n"
    env.sync("--full")
    assert [r["Task"] for r in env.rows()] == ["keep me"]  # never re-created
    status = env.run("status", str(env.vault), "--offline").stdout
    assert "1 task(s) linked to rows, 1 unlinked" in status


def test_inbox_takes_rows_made_in_notion(env: Env) -> None:
    env.note("Plan.md", "- [ ] one\n")
    env.sync()
    env.fake.add_row(env.database_id, {"Task": "call the bank", "Done": True})
    result = env.sync()
    assert "no key" in result.stderr and not (env.vault / "Inbox.md").exists()
    with (env.vault / ".vaultmap.toml").open("a") as config:
        config.write('inbox = "Inbox/From Notion.md"\n')
    env.sync()
    assert env.note("Inbox/From Notion.md") == "- [x] call the bank\n"
    row = env.row("call the bank")
    assert row["Key"] and row["Note"] == "Inbox/From Notion.md"
    assert "nothing to do" in env.sync().stdout


def test_guard_and_force(env: Env) -> None:
    env.note("Plan.md", "".join(f"- [ ] task {i}\n" for i in range(12)))
    env.sync()
    env.note("Plan.md", "- [ ] task 0\n")
    result = env.sync(code=13)
    assert "11 of 12" in result.stderr and "--force" in result.stderr
    assert len(env.rows()) == 12
    env.sync("--force")
    assert [r["Task"] for r in env.rows()] == ["task 0"]


def test_dry_run_and_clear_errors(env: Env) -> None:
    env.note("Plan.md", "- [ ] one\n")
    result = env.sync("--dry-run")
    assert "+ create row [ ] Plan.md: 'one'" in result.stdout and not env.rows()
    bad = env.runner.invoke(main, ["sync", str(env.vault)],
                            env={"NOTION_TOKEN": "ntn_wrong_secret_123",
                                 "VAULTMAP_NOTION_BASE_URL": env.fake.base_url})
    assert bad.exit_code == 5, bad.stderr
    assert bad.stderr.startswith("vaultmap: ") and len(bad.stderr.strip().splitlines()) == 1
    assert "ntn_wrong_secret_123" not in bad.stderr
    empty = env.runner.invoke(main, ["sync", str(env.vault)],
                              env={"NOTION_TOKEN": "", "VAULTMAP_NOTION_BASE_URL": "x"})
    assert empty.exit_code == 5 and "NOTION_TOKEN" in empty.stderr


def test_link_existing_database_and_switch(env: Env) -> None:
    env.note("Plan.md", "- [ ] one\n")
    env.sync()
    db, _ = env.fake.add_database(env.fake.add_page("Other"), "Mine", {"Name": "title",
                                                                        "Done": "number"})
    result = env.run("notion", "link", db, str(env.vault), code=6)
    assert "'Done' is number" in result.stderr
    db2, _ = env.fake.add_database(env.fake.add_page("Other"), "Mine", {"Name": "title"})
    result = env.run("notion", "link", db2, str(env.vault))
    assert "added property 'Key'" in result.stdout
    env.database_id = db2
    preview = env.sync("--dry-run")
    assert "database changed" in preview.stderr and "+ create row" in preview.stdout
    result = env.sync()
    assert "database changed" in result.stderr and "1 created" in result.stdout
    assert [r["Name"] for r in env.rows()] == ["one"]


@pytest.mark.slow
def test_fault_storm_converges(env: Env) -> None:
    lines = "".join(f"- [{' x'[i % 2]}] storm task {i}\n" for i in range(30))
    env.note("Plan.md", lines)
    env.fake.fault_rate = 0.3
    env.fake.fault_kinds = ("429", "409", "500", "502", "503", "504", "529", "drop",
                            "drop_after")
    for _ in range(10):
        result = env.runner.invoke(main, ["sync", str(env.vault)], env=env.env())
        if result.exit_code == 0:
            break
    assert sum(env.fake.faults_served.values()) >= 5, env.fake.faults_served
    env.fake.clear_faults()
    env.sync()
    rows = env.rows()
    assert sorted(r["Task"] for r in rows) == sorted(f"storm task {i}" for i in range(30))
    assert all(r["Done"] is bool(int(r["Task"].split()[-1]) % 2) for r in rows)
    assert len({r["Key"] for r in rows}) == 30
    assert "nothing to do" in env.sync().stdout


def test_record_database_creates_config(tmp_path: Path) -> None:
    from vaultmap.config import Settings

    record_database(Settings(root=tmp_path), "abc")
    assert load_settings(tmp_path).notion.database_id == "abc"


@pytest.mark.slow
def test_sigkill_during_push_then_rerun(env: Env) -> None:
    count = 40
    env.note("Plan.md", "".join(f"- [ ] pushed task {i}\n" for i in range(count)))
    # Slow answers so the kill lands in the middle of the push.
    env.fake.inject("slow", method="POST", route="/v1/pages", times=10_000, delay=0.05)
    process = subprocess.Popen(
        [sys.executable, "-m", "vaultmap.cli", "sync", str(env.vault)],
        env={**os.environ, **env.env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(env.rows()) < 8 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    made = len(env.rows())
    assert 0 < made < count, made
    env.fake.clear_faults()
    # A change on each side while the push was cut short: neither may be lost.
    env.fake.tick(env.rows()[0]["_id"])
    first_text = env.rows()[0]["Task"]
    env.note("Plan.md", env.note("Plan.md").replace("[ ] pushed task 39", "[x] pushed task 39"))
    env.sync()
    rows = env.rows()
    assert len(rows) == count and len({r["Key"] for r in rows}) == count
    assert env.row("pushed task 39")["Done"] is True
    assert f"- [x] {first_text}\n" in env.note("Plan.md")
    assert "nothing to do" in env.sync().stdout


def test_no_change_sync_costs_two_requests_whatever_the_size(env: Env) -> None:
    from vaultmap.config import load_settings as load
    from vaultmap.sync.notion.ids import obsidian_url
    from vaultmap.sync.runner import read_vault

    count = 250  # three pages of query results
    env.note("Plan.md", "".join(f"- [{' x'[i % 2]}] row number {i}\n" for i in range(count)))
    env.fake.clock.advance(-600)  # the rows were made ten minutes ago
    for rec in read_vault(load(env.vault)).records.values():
        done = rec.status == "x"
        env.fake.add_row(env.database_id, {
            "Task": rec.text, "Key": rec.key, "Done": done, "Note": rec.note,
            "Status": {"select": {"name": "Done" if done else "Todo"}},
            "Open": obsidian_url(env.vault.name, rec.note)})
    env.fake.reset_counts()
    env.sync()  # adopts every row: a full read, no writes
    assert env.fake.count("PATCH /v1/pages/{id}") == 0 and env.fake.count("POST /v1/pages") == 0
    env.fake.clock.advance(600)
    env.sync()
    env.fake.reset_counts()
    assert "nothing to do" in env.sync().stdout
    assert env.fake.total_requests <= 2, env.fake.requests


def _sync_with_stderr_on_a_terminal(env: Env) -> tuple[str, str]:
    """Run ``vaultmap sync`` with stderr on a pseudo-terminal; returns (stdout, terminal)."""
    terminal, stdout = run_on_terminal(
        [sys.executable, "-m", "vaultmap.cli", "sync", str(env.vault)],
        {**os.environ, **env.env(), "TERM": "xterm-256color", "COLUMNS": "100"},
        stream="stderr")
    return stdout, terminal


def test_long_push_shows_progress_on_a_terminal_only(env: Env) -> None:
    env.note("Plan.md", "".join(f"- [ ] bar task {i}\n" for i in range(25)))
    env.fake.inject("slow", method="POST", route="/v1/pages", times=25, delay=0.04)
    stdout, terminal = _sync_with_stderr_on_a_terminal(env)
    assert "25 created" in stdout
    assert "syncing with Notion" in terminal  # the bar, drawn on the terminal
    env.note("Plan.md", "".join(f"- [x] bar task {i}\n" for i in range(25)))
    result = env.sync()  # no terminal: no bar
    assert "25 updated" in result.stdout and "syncing with" not in result.stderr


# -- what the CLI loads ---------------------------------------------------------------------

_HEAVY = ("notion_client", "httpx", "tenacity")  # the Notion HTTP stack
# Runs the CLI in a fresh interpreter and, at exit (``--help`` exits too), prints which of
# the heavy modules got imported.
_PROBE = """\
import atexit, sys
atexit.register(lambda: print("loaded:", *[m for m in {heavy!r} if m in sys.modules]))
from vaultmap.cli import main
main({args!r}, prog_name="vaultmap")
"""


def _loaded_after(args: list[str], *, code: int = 0) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("NOTION_TOKEN",
                                                              "VAULTMAP_NOTION_BASE_URL")}
    result = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=_HEAVY, args=args)],
                            capture_output=True, text=True, env=environ, timeout=60)
    assert result.returncode == code, result.stderr
    (line,) = [ln for ln in result.stdout.splitlines() if ln.startswith("loaded:")]
    return line.split()[1:]


def test_importing_the_cli_loads_no_notion_client() -> None:
    probe = ("import vaultmap.cli, sys; "
             "print('notion_client' in sys.modules, 'httpx' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("args", [["--help"], ["sync", "--help"], ["notion", "--help"],
                                  ["report", "VAULT"], ["done", "--help"],
                                  ["status", "--offline", "VAULT"]])
def test_commands_that_do_not_talk_to_notion_never_load_its_http_stack(
        tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "Plan.md").write_text("- [ ] one\n")
    args = [str(tmp_path) if a == "VAULT" else a for a in args]
    assert _loaded_after(args) == []


def test_the_probe_sees_the_notion_stack_when_a_command_loads_it(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text('[notion]\ndatabase_id = "' + "1" * 32 + '"\n')
    # No token: sync stops with a message, after building the Notion remote.
    assert sorted(_loaded_after(["sync", str(tmp_path)], code=5)) == sorted(_HEAVY)
