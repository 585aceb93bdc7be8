"""``vaultmap doctor``: the checklist on healthy and broken vaults, Notion checks against the fake
server, git checks against real repositories, and the ``--fix`` round trip of mojibake."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fake_notion import FAST_NOTION, FakeNotion
from mojibake_notes import ROADMAP, damaged
from vaultmap.cli import main
from vaultmap.config import load_settings
from vaultmap.parse import parse_note


def run(vault: Path, *args: str, env: dict[str, str] | None = None, code: int | None = None
        ) -> Result:
    result = CliRunner().invoke(main, ["doctor", str(vault), *args], env=env or {},
                                catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def checks_of(vault: Path, env: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    result = run(vault, "--format", "json", env=env)
    data = json.loads(result.stdout)
    assert data["schema"] == "vaultmap.doctor/1"
    assert result.exit_code == (0 if data["ok"] else 1)
    return {f"{c['area']}/{c['name']}": c for c in data["checks"]}


def failed(checks: dict[str, dict[str, object]]) -> set[str]:
    return {name for name, check in checks.items() if not check["ok"]}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull,
                               "GIT_CONFIG_NOSYSTEM": "1"})
    return done.stdout


def make_repo(vault: Path, remote: Path) -> None:
    """``vault`` becomes a repository with one commit, pushed to a local bare ``remote``."""
    git(remote.parent, "init", "-q", "--bare", "-b", "main", str(remote))
    git(vault, "init", "-q", "-b", "main")
    git(vault, "config", "user.name", "Doctor Test")
    git(vault, "config", "user.email", "doctor@example.invalid")
    git(vault, "add", "-A")
    git(vault, "commit", "-q", "-m", "notes")
    git(vault, "remote", "add", "origin", str(remote))
    git(vault, "push", "-q", "-u", "origin", "main")


def install_driver(vault: Path) -> None:
    """What `vaultmap git install` sets up: the driver in the repo config, the attribute in
    .git/info/attributes."""
    git(vault, "config", "merge.vaultmap.name", "vaultmap task-aware merge")
    git(vault, "config", "merge.vaultmap.driver", "vaultmap merge-driver %O %A %B %L %P")
    (vault / ".git" / "info").mkdir(exist_ok=True)
    (vault / ".git" / "info" / "attributes").write_text("*.md merge=vaultmap\n")


def healthy_notes(vault: Path) -> None:
    (vault / "Plan.md").write_text("---\ntags: [plan]\n---\n# Plan\n\n- [ ] café — “ok”\n"
                                   "- [x] done\n", encoding="utf-8")
    (vault / "Other.md").write_text("# Other\n- [ ] one\n", encoding="utf-8")


# --------------------------------------------------------------------------- healthy


def test_healthy_vault_passes_every_check(tmp_path: Path) -> None:
    healthy_notes(tmp_path)
    result = run(tmp_path, code=0)
    assert "✗" not in result.stdout
    assert result.stdout.count("✓") >= 10
    assert result.stdout.rstrip().endswith("all passed")
    checks = checks_of(tmp_path)
    assert failed(checks) == set()
    assert {"config/.vaultmap.toml", "notes/mojibake", "index/scan index", "sync/sync state",
            "daemon/daemon"} <= set(checks)


@dataclass
class NotionVault:
    fake: FakeNotion
    vault: Path
    database_id: str

    def env(self) -> dict[str, str]:
        return {"NOTION_TOKEN": self.fake.token, "VAULTMAP_NOTION_BASE_URL": self.fake.base_url}

    def cli(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(main, list(args), env=self.env(), catch_exceptions=False)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result


@pytest.fixture
def notion_vault(tmp_path: Path) -> Iterator[NotionVault]:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(FAST_NOTION)
    with FakeNotion() as fake:
        page = fake.add_page("Home")
        nv = NotionVault(fake, vault, "")
        nv.cli("notion", "init", "--parent", page, str(vault))
        nv.database_id = load_settings(vault).notion.database_id
        yield nv


def test_healthy_vault_with_notion_git_and_a_sync_passes(notion_vault: NotionVault,
                                                         tmp_path: Path) -> None:
    vault = notion_vault.vault
    healthy_notes(vault)
    notion_vault.cli("sync", str(vault))
    make_repo(vault, tmp_path / "remote.git")
    install_driver(vault)
    notion_vault.cli("report", str(vault))  # the index is current
    notion_vault.fake.reset_counts()
    checks = checks_of(vault, notion_vault.env())
    assert failed(checks) == set()
    assert checks["notion/schema complete"]["ok"] and checks["git/upstream set"]["ok"]
    assert checks["index/scan index"]["detail"] == "readable and current"
    assert "3 tasks" in str(checks["sync/sync state"]["detail"])
    # Read-only: doctor sent GET requests only.
    methods = {method for method, _path, _body in notion_vault.fake.log}
    assert methods == {"GET"}


# --------------------------------------------------------------------------- broken


def test_broken_vault_fails_each_check_once(notion_vault: NotionVault, tmp_path: Path) -> None:
    vault = notion_vault.vault
    healthy_notes(vault)
    (vault / "Damaged.md").write_bytes(damaged())
    (vault / "Legacy.md").write_bytes("# Café\n- [ ] réunion\n".encode("cp1252"))
    (vault / "Front.md").write_text("---\ntags: [unclosed\n---\n- [ ] a\n", encoding="utf-8")
    (vault / "Gone.md").symlink_to(vault / "nowhere.md")  # a broken link: unreadable
    (vault / "Huge.md").write_bytes(b"- [ ] x\n" + b"a" * (10 * 1024 * 1024))
    make_repo(vault, tmp_path / "remote.git")
    git(vault, "checkout", "-q", "-b", "side")  # a branch without upstream
    # A merge stopped half way (what git leaves while a conflict waits).
    head = git(vault, "rev-parse", "HEAD").strip()
    (vault / ".git" / "MERGE_HEAD").write_text(head + "\n")
    state = vault / ".vaultmap"
    state.mkdir(exist_ok=True)
    (state / "scan-index.obsidian.pickle").write_bytes(b"not an index at all")
    (state / "sync.sqlite").write_bytes(b"not a database either" * 100)
    (state / "daemon.json").write_text(json.dumps(
        {"pid": 999_999_999, "started": "2026-01-01T00:00:00Z",
         "last_error": "Notion answered 502"}))

    env = {"VAULTMAP_NOTION_BASE_URL": notion_vault.fake.base_url}  # no token
    checks = checks_of(vault, env)
    assert failed(checks) == {
        "notes/readable", "notes/size limit", "notes/valid UTF-8", "notes/front matter",
        "notes/mojibake", "index/scan index", "sync/sync state", "notion/token",
        "notion/database reachable and shared", "notion/schema complete", "git/upstream set",
        "git/merge driver installed", "git/no merge in progress", "daemon/daemon",
    }
    mojibake = checks["notes/mojibake"]
    (item,) = mojibake["items"]  # type: ignore[misc]
    assert item.startswith("Damaged.md: ") and "->" in item and "🧩 Skill 1 — Python" in item
    assert mojibake["fix"] == "vaultmap doctor --fix (--dry-run shows the diff first)"
    assert checks["git/merge driver installed"]["fix"] == "vaultmap git install"
    assert "git merge --abort" in str(checks["git/no merge in progress"]["fix"])
    assert "side" in str(checks["git/upstream set"]["fix"])
    assert "502" in str(checks["daemon/daemon"]["detail"])

    # The scan behind the checks rebuilt the index (as any report would): spoil it again.
    (state / "scan-index.obsidian.pickle").write_bytes(b"not an index at all")
    text = run(vault, env=env, code=1).stdout
    assert text.count("✗") == 14
    assert "fix: vaultmap doctor --fix" in text
    assert text.rstrip().endswith("failed")


def test_a_config_with_a_wrong_type_fails_the_config_check(tmp_path: Path) -> None:
    healthy_notes(tmp_path)
    (tmp_path / ".vaultmap.toml").write_text('[report]\ndepth = "two"\n')
    checks = checks_of(tmp_path)
    assert failed(checks) == {"config/.vaultmap.toml"}
    (finding,) = checks["config/.vaultmap.toml"]["items"]  # type: ignore[misc]
    assert "depth" in finding


def test_a_misspelled_key_fails_the_config_check_with_the_closest_key(tmp_path: Path) -> None:
    healthy_notes(tmp_path)
    (tmp_path / ".vaultmap.toml").write_text("[report]\ndepht = 3\n")
    checks = checks_of(tmp_path)
    assert failed(checks) == {"config/.vaultmap.toml"}
    (finding,) = checks["config/.vaultmap.toml"]["items"]  # type: ignore[misc]
    assert "depht" in finding and "depth" in finding.replace("depht", "")


# --------------------------------------------------------------------------- Notion, git


def test_notion_not_shared_and_schema_incomplete(notion_vault: NotionVault) -> None:
    vault, fake = notion_vault.vault, notion_vault.fake
    healthy_notes(vault)
    fake.delete_property(notion_vault.database_id, "Key")
    checks = checks_of(vault, notion_vault.env())
    assert failed(checks) == {"notion/schema complete"}
    assert "Key" in str(checks["notion/schema complete"]["detail"])

    fake.unshare(notion_vault.database_id)
    checks = checks_of(vault, notion_vault.env())
    assert {"notion/database reachable and shared", "notion/schema complete"} == failed(checks)
    assert notion_vault.fake.token not in json.dumps(checks)


def test_git_checks_on_a_real_repository(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    healthy_notes(vault)
    make_repo(vault, tmp_path / "remote.git")
    checks = checks_of(vault)
    assert failed(checks) == {"git/merge driver installed"}
    install_driver(vault)
    checks = checks_of(vault)
    assert failed(checks) == set()
    assert "main tracks origin/main" in str(checks["git/upstream set"]["detail"])
    git(vault, "checkout", "-q", "--detach")
    assert failed(checks_of(vault)) == {"git/upstream set"}


def test_daemon_running_is_reported(tmp_path: Path) -> None:
    healthy_notes(tmp_path)
    state = tmp_path / ".vaultmap"
    state.mkdir()
    (state / "daemon.lock").write_text("")
    (state / "daemon.json").write_text(json.dumps(
        {"pid": os.getpid(), "started": "2026-12-01T10:00:00Z", "last_error": None}))
    checks = checks_of(tmp_path)
    assert checks["daemon/daemon"]["ok"]
    assert f"running (pid {os.getpid()}" in str(checks["daemon/daemon"]["detail"])


# --------------------------------------------------------------------------- --fix


def test_fix_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    data = damaged()
    (tmp_path / "Plan.md").write_bytes(data)
    result = run(tmp_path, "--fix", "--dry-run", code=1)
    assert "--- a/Plan.md" in result.stdout
    assert "-# ðŸ§© Skill 1 â€” Python" in result.stdout
    assert "+# 🧩 Skill 1 — Python" in result.stdout
    assert "nothing written" in result.stdout
    assert (tmp_path / "Plan.md").read_bytes() == data
    assert not (tmp_path / ".vaultmap" / "backup").exists()


def test_fix_changes_only_the_damaged_bytes_keeps_bom_crlf_and_mode(tmp_path: Path) -> None:
    original = "\ufeff" + ROADMAP.replace("\n", "\r\n") + "trailing   \r\n"
    data = damaged(original)
    note = tmp_path / "Plan.md"
    note.write_bytes(data)
    note.chmod(0o640)
    result = run(tmp_path, "--fix", code=0)
    assert "repaired Plan.md" in result.stdout
    assert note.read_bytes() == original.encode("utf-8")
    assert stat.S_IMODE(note.stat().st_mode) == 0o640
    (backup,) = (tmp_path / ".vaultmap" / "backup").iterdir()
    assert backup.read_bytes() == data
    assert run(tmp_path, "--fix", code=0).stdout.startswith("nothing to repair")


def test_fix_leaves_a_note_about_encodings_alone(tmp_path: Path) -> None:
    from mojibake_notes import ABOUT_ENCODINGS

    (tmp_path / "Encodings.md").write_text(ABOUT_ENCODINGS, encoding="utf-8")
    result = run(tmp_path, "--fix", code=0)
    assert "nothing to repair" in result.stdout
    assert (tmp_path / "Encodings.md").read_text(encoding="utf-8") == ABOUT_ENCODINGS


def test_fix_round_trip_keeps_tasks_keys_and_notion_rows(notion_vault: NotionVault) -> None:
    vault, fake = notion_vault.vault, notion_vault.fake
    data = damaged()
    (vault / "Plan.md").write_bytes(data)
    before = parse_note(data, "Plan.md")

    notion_vault.cli("sync", str(vault))
    rows = fake.table(notion_vault.database_id)
    assert len(rows) == len(before.tasks)
    titles = {row["Task"] for row in rows}
    assert "Read “Fluent Python” — chapter 1" in titles  # Notion got the repaired text
    assert not any("â€" in title or "ðŸ" in title for title in titles)
    ids = {row["_id"] for row in rows}
    # The rows' titles as a vaultmap without the display repair sent them: the mojibake.
    by_title = {row["Task"]: row["_id"] for row in rows}
    for task in before.tasks:
        fake.edit_row(by_title[task.display_description], {"Task": task.description})
    assert any("â€" in row["Task"] for row in fake.table(notion_vault.database_id))

    run(vault, "--fix", env=notion_vault.env(), code=0)
    after = parse_note((vault / "Plan.md").read_bytes(), "Plan.md")
    assert after.mojibake == 0
    assert [(t.line, t.key, t.text) for t in after.tasks] == [
        (t.line, t.key, t.display_text) for t in before.tasks]
    assert [t.section for t in after.tasks] == [t.display_section for t in before.tasks]

    fake.reset_counts()
    result = notion_vault.cli("sync", str(vault))
    rows = fake.table(notion_vault.database_id)
    assert {row["_id"] for row in rows} == ids  # every row still linked, none created
    assert fake.count("POST /v1/pages") == 0, result.stdout
    assert {row["Task"] for row in rows} == titles  # the titles changed back to readable text
    assert "updated" in result.stdout


def test_fix_refuses_a_read_only_note_in_one_line_and_changes_nothing(tmp_path: Path) -> None:
    data = damaged()
    note = tmp_path / "Plan.md"
    note.write_bytes(data)
    note.chmod(0o444)
    result = run(tmp_path, "--fix", code=1)
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("could not repair")]
    assert "Plan.md" in line and "Traceback" not in result.output
    assert note.read_bytes() == data
    assert stat.S_IMODE(note.stat().st_mode) == 0o444
