"""The daemon's in-memory tasks: re-reading notes one by one ends where a full scan does; an
idle Notion poll costs one request and a trash made meanwhile is still learned."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from daemon_proc import DaemonProcess, wait_for
from fake_notion import FakeNotion
from vaultmap.cli import main
from vaultmap.config import load_settings
from vaultmap.daemon.tasks import VaultTasks
from vaultmap.sync.engine import UpdateRow
from vaultmap.sync.github.remote import layout_of
from vaultmap.sync.github.store import Link
from vaultmap.sync.notion import NotionRemote
from vaultmap.sync.runner import read_vault, run_sync
from vaultmap.vault import scan_vault


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())


def same_as_a_scan(tasks: VaultTasks, root: Path) -> None:
    mine = tasks.snapshot()
    scan = read_vault(load_settings(root), use_index=False)
    assert mine.records == scan.records
    assert list(mine.records) == list(scan.records) or set(mine.records) == set(scan.records)
    assert {n: list(k) for n, k in (mine.by_note or {}).items() if k} == \
        {n: list(k) for n, k in (scan.by_note or {}).items() if k}
    assert sorted(mine.duplicate_keys) == sorted(scan.duplicate_keys)
    assert set(mine.unreadable) == set(scan.unreadable)


def owner_of_twin(tasks: VaultTasks) -> str:
    return next(r.note for r in tasks.snapshot().records.values() if "twin" in r.key)


def test_notes_read_one_by_one_end_where_a_scan_does(tmp_path: Path) -> None:
    write(tmp_path, "A.md", "# A\n- [ ] one\n- [x] two\n")
    write(tmp_path, "B.md", "- [ ] three 🆔 shared\n")
    write(tmp_path, "sub/C.md", "- [/] four\n")
    tasks = VaultTasks(load_settings(tmp_path))
    tasks.rescan()
    same_as_a_scan(tasks, tmp_path)
    # Edit, create, delete, and a move of a task from one note to another.
    write(tmp_path, "A.md", "# A\n- [x] one\n- [x] two\n- [ ] five\n")
    write(tmp_path, "D.md", "- [ ] four\n")
    write(tmp_path, "sub/C.md", "nothing left\n")
    (tmp_path / "B.md").unlink()
    tasks.update(["A.md", "D.md", "sub/C.md", "B.md"])
    same_as_a_scan(tasks, tmp_path)
    # The same explicit id in two notes: the first note in path order keeps it, whichever
    # was read last, and the other one takes it over once the first lets go.
    write(tmp_path, "Z.md", "- [ ] zed 🆔 twin\n")
    write(tmp_path, "B.md", "- [ ] bee 🆔 twin\n")
    tasks.update(["Z.md"])
    tasks.update(["B.md"])
    same_as_a_scan(tasks, tmp_path)
    assert owner_of_twin(tasks) == "B.md"
    write(tmp_path, "B.md", "- [ ] bee\n")
    tasks.update(["B.md"])
    same_as_a_scan(tasks, tmp_path)
    assert owner_of_twin(tasks) == "Z.md"
    # A note that cannot be read is set aside, not taken for empty.
    write(tmp_path, "A.md", "binary\x00data")
    tasks.update(["A.md"])
    assert "A.md" in tasks.snapshot().unreadable
    assert not any(r.note == "A.md" for r in tasks.snapshot().records.values())
    same_as_a_scan(tasks, tmp_path)


CONFIG = """\
[notion]
requests_per_second = 0
timeout = 5
backoff = 0.001

[daemon]
quiet_period = 0.2
notion_poll = 0.2
log_level = "debug"
"""


def test_idle_polls_cost_one_request_each_and_a_trash_is_still_learned(
        tmp_path: Path) -> None:
    vault = tmp_path / "Vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(CONFIG)
    (vault / "Plan.md").write_bytes(b"- [ ] one\n- [ ] two\n- [ ] three\n")
    with FakeNotion() as fake:
        env = {"NOTION_TOKEN": fake.token, "VAULTMAP_NOTION_BASE_URL": fake.base_url}
        result = CliRunner().invoke(main, ["notion", "init", "--parent", fake.add_page(),
                                           str(vault)], env=env)
        assert result.exit_code == 0, result.output
        database = load_settings(vault).notion.database_id
        daemon = DaemonProcess(vault, env)
        try:
            first = daemon.wait_ready(cycles=2)["cycles"]
            fake.reset_counts()
            polls = wait_for(lambda: daemon.status().get("cycles", 0) >= first + 10 and
                             daemon.status()["cycles"], what="ten idle polls")
            requests = fake.total_requests
            done = daemon.status()["cycles"]
            # Each poll is one query of the rows edited since the last; never a second one.
            assert requests <= done - first, (requests, done - first, fake.log)
            assert polls - first >= 10
            assert all("query" in path for _, path, _ in fake.log), fake.log
            # A row trashed in Notion during idle polls is learned at the next change.
            rows = {r["Task"]: r["_id"] for r in fake.table(database)}
            fake.trash_row(rows["two"])
            at = daemon.status()["cycles"]
            wait_for(lambda: daemon.status().get("cycles", 0) >= at + 3, what="more polls")
            (vault / "Plan.md").write_bytes(b"- [x] one\n- [ ] two\n- [ ] three\n")
            wait_for(lambda: "was trashed in Notion" in daemon.log(), what="the unlink")
            wait_for(lambda: next(r for r in fake.table(database) if r["Task"] == "one")
                     ["Done"], what="the tick")
            assert daemon.terminate() < 5.0
        finally:
            daemon.close()


def test_a_focused_sync_reads_no_whole_base(tmp_path: Path) -> None:
    """In process: after a first full sync, a sync given the changed note plans it alone,
    pushes its tick, and also takes a tick made in Notion on a task of another note."""
    for n in range(5):
        write(tmp_path, f"N{n}.md", "".join(f"- [ ] task {n}.{i}\n" for i in range(4)))
    (tmp_path / ".vaultmap.toml").write_text("[notion]\nrequests_per_second = 0\n")
    with FakeNotion() as fake:
        env = {"NOTION_TOKEN": fake.token, "VAULTMAP_NOTION_BASE_URL": fake.base_url}
        assert CliRunner().invoke(main, ["notion", "init", "--parent", fake.add_page(),
                                         str(tmp_path)], env=env).exit_code == 0
        settings = load_settings(tmp_path)
        tasks = VaultTasks(settings)
        tasks.rescan()
        remote_env = dict(os.environ, **env)
        with NotionRemote.from_settings(settings, environ=remote_env) as remote:
            assert run_sync(settings, remote, vault=tasks.snapshot()).done["CreateRow"] == 20
        rows = {r["Task"]: r["_id"] for r in fake.table(settings.notion.database_id)}
        fake.tick(rows["task 3.2"])
        write(tmp_path, "N1.md", "- [x] task 1.0\n- [ ] task 1.1\n- [ ] task 1.2\n"
              "- [ ] task 1.3\n")
        tasks.update(["N1.md"])
        with NotionRemote.from_settings(settings, environ=remote_env) as remote:
            report = run_sync(settings, remote, vault=tasks.snapshot(), changed={"N1.md"})
        assert report.focused and report.ok
        # The tick pushed; the tick from Notion written to the note and its agreed status
        # written back to the row (Done and Status agree).
        assert report.done["UpdateRow"] == 2 and report.done["SetVaultStatus"] == 1
        assert (tmp_path / "N3.md").read_text().splitlines()[2] == "- [x] task 3.2"
        # Only the two notes were planned.
        notes = {getattr(a, "note", "") or a.entry.note for a in report.plan.actions
                 if not isinstance(a, UpdateRow)}
        notes |= {a.record.note for a in report.plan.actions if isinstance(a, UpdateRow)}
        assert notes == {"N1.md", "N3.md"}
        values = {r["Task"]: r["Done"] for r in fake.table(settings.notion.database_id)}
        assert values["task 1.0"] and values["task 3.2"]
        assert sum(values.values()) == 2


def same_layout_as_a_scan(tasks: VaultTasks, root: Path, links: list[Link]) -> None:
    settings = load_settings(root)
    scanned = [t for note in scan_vault(settings, use_index=False).notes for t in note.tasks]
    published = {link.note for link in links if link.number > 0}
    mine = layout_of(tasks.known_vault().tasks(published), links, settings.github)
    assert mine == layout_of(scanned, links, settings.github)


def test_the_tasks_kept_for_github_lay_out_as_a_scan_does(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text('[github]\ndefault_repo = "ada/plan"\n')
    write(tmp_path, "Plan.md", "# Plan\n## Week 1\n- [ ] one #tag\n  - [x] two\n"
                               "## Week 2\n- [ ] three #7\n")
    write(tmp_path, "Refs.md", "- [ ] fix ada/plan#12\n- [x] see https://github.com/a/b/pull/3\n"
                               "- [ ] a #tag only\n- [ ] nothing\n- [ ] bee 🆔 twin\n")
    write(tmp_path, "Z.md", "- [ ] zed #9 🆔 twin\n- [/] plain\n")
    links = [Link("Plan.md", ("Plan", "Week 1"), "ada/plan", 1, "m1", "Week 1"),
             Link("Z.md", (), "ada/plan", 2, "m2", "Z"),
             Link("Other.md", (), "ada/plan", 0, "m3", "not created yet")]
    tasks = VaultTasks(load_settings(tmp_path))
    tasks.rescan()
    same_layout_as_a_scan(tasks, tmp_path, links)
    # A reference added, one removed, a published note deleted, a key's first owner gone.
    write(tmp_path, "Refs.md", "- [ ] fix ada/plan#12 now\n- [ ] a #tag only, then #4\n")
    write(tmp_path, "Plan.md", "# Plan\n## Week 1\n- [x] one #tag\n- [ ] new\n")
    (tmp_path / "Z.md").unlink()
    write(tmp_path, "A.md", "- [ ] first twin 🆔 twin\n")
    tasks.update(["Refs.md", "Plan.md", "Z.md", "A.md"])
    same_layout_as_a_scan(tasks, tmp_path, links)
    layout = layout_of(tasks.known_vault().tasks({"Plan.md"}), links,
                       load_settings(tmp_path).github)
    assert {p.text for p in layout.placements.values()} == {
        "one #tag", "new", "fix ada/plan#12 now", "a #tag only, then #4"}
