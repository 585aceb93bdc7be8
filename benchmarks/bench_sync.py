"""Sync benchmarks: requests and time against the fake Notion, planning time in memory.

Run: ``.venv/bin/python benchmarks/bench_sync.py [--push N] [--rows N] [--plan N]``

1. First push of N tasks against the fake Notion with its rate limit on (3 requests/s, burst
   10, 429 + Retry-After beyond that), the adapter pacing itself at its default 3/s.
2. A no-change sync of a vault of ROWS tasks already in Notion (the rows are seeded in the fake,
   a first full sync adopts them, then the measured sync changes nothing).
3. Planning time for PLAN tasks (pure): nothing changed; 1% ticked on each side; 1% reworded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_notion import FakeNotion
from vaultmap.config import NotionSettings, Settings
from vaultmap.model import normalise_text
from vaultmap.sync.engine import plan_sync
from vaultmap.sync.notion import NotionOptions, NotionRemote
from vaultmap.sync.notion.ids import obsidian_url
from vaultmap.sync.remote import RemoteRow, TaskRecord
from vaultmap.sync.runner import run_sync
from vaultmap.sync.state import BaseEntry


def write_vault(root: Path, count: int, per_note: int = 500) -> None:
    for start in range(0, count, per_note):
        lines = [f"- [{'x' if i % 3 == 0 else ' '}] benchmark task number {i}\n"
                 for i in range(start, min(count, start + per_note))]
        (root / f"note{start // per_note:03}.md").write_text("".join(lines))


def make_remote(fake: FakeNotion, settings: Settings, *, paced: bool,
                rate: float = 3.0) -> NotionRemote:
    options = NotionOptions(requests_per_second=rate) if paced else NotionOptions(
        requests_per_second=0, backoff=0.01, backoff_max=0.1)
    return NotionRemote(fake.token, database_id=settings.notion.database_id,
                        vault_name=settings.root.name, base_url=fake.base_url, options=options,
                        statuses=settings.statuses)


def bench_first_push(count: int, rate: float = 3.0) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp, FakeNotion(rate_limit=3.0, burst=10,
                                                          retry_after="1") as fake:
        root = Path(tmp) / "vault"
        root.mkdir()
        write_vault(root, count)
        setup = make_remote(fake, Settings(root=root), paced=False)
        database = setup.create_database(fake.add_page(), "Tasks")
        setup.close()
        fake.reset_counts()
        settings = Settings(root=root, notion=NotionSettings(database_id=database))
        with make_remote(fake, settings, paced=True, rate=rate) as remote:
            started = time.perf_counter()
            report = run_sync(settings, remote, progress=False)
            elapsed = time.perf_counter() - started
        assert report.ok and len(fake.table(database)) == count
        return [(f"first push of {count} tasks, adapter paced at {rate:g}/s "
                 "(fake: 3/s, burst 10)",
                 f"{fake.total_requests} requests ({fake.faults_served['429']} answered 429), "
                 f"{elapsed:.1f} s, {count / elapsed:.2f} tasks/s")]


def bench_no_change(count: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp, FakeNotion() as fake:
        root = Path(tmp) / "vault"
        root.mkdir()
        write_vault(root, count)
        setup = make_remote(fake, Settings(root=root), paced=False)
        database = setup.create_database(fake.add_page(), "Tasks")
        setup.close()
        settings = Settings(root=root, notion=NotionSettings(database_id=database))
        # Seed Notion with the rows a previous sync would have made (keys from the parser).
        from vaultmap.sync.runner import read_vault

        records = read_vault(settings).records
        # The rows were made a while ago: an incremental read looks back only a few minutes.
        fake.clock.advance(-600)
        for rec in records.values():
            done = rec.status == "x"
            fake.add_row(database, {"Task": rec.text, "Key": rec.key, "Done": done,
                                    "Status": {"select": {"name": "Done" if done else "Todo"}},
                                    "Note": rec.note, "Open": obsidian_url(root.name, rec.note)})
        with make_remote(fake, settings, paced=False) as remote:
            fake.reset_counts()
            started = time.perf_counter()
            first = run_sync(settings, remote, progress=False)
            adopt_time = time.perf_counter() - started
            adopt_requests = fake.total_requests
        assert first.ok, first.failures[:3]
        fake.clock.advance(600)
        with make_remote(fake, settings, paced=False) as remote:
            run_sync(settings, remote, progress=False)  # reads the rows adopted just now
        with make_remote(fake, settings, paced=False) as remote:
            fake.reset_counts()
            started = time.perf_counter()
            again = run_sync(settings, remote, progress=False)
            elapsed = time.perf_counter() - started
        assert again.plan.empty, again.plan.describe()[:3]
        return [(f"first sync adopting {count} existing rows (full read)",
                 f"{adopt_requests} requests, {adopt_time:.1f} s"),
                (f"no-change sync of {count} tasks (the next run, minutes later)",
                 f"{fake.total_requests} requests, {elapsed:.2f} s (vault scan included)")]


def synthetic(count: int) -> tuple[dict[str, TaskRecord], list[RemoteRow], dict[str, BaseEntry]]:
    vault: dict[str, TaskRecord] = {}
    rows: list[RemoteRow] = []
    base: dict[str, BaseEntry] = {}
    for i in range(count):
        key = f"k:{i:08x}"
        note = f"notes/n{i // 200}.md"
        rec = TaskRecord(key=key, status="x" if i % 3 == 0 else " ", status_type="",
                         text=f"synthetic task {i} about topic {i % 97}", note=note,
                         section=(f"Week {i % 52}",))
        vault[key] = rec
        rows.append(RemoteRow(remote_id=f"r{i}", key=key, status=rec.status, text=rec.text,
                              note=note, content_hash=rec.content_hash()))
        base[key] = BaseEntry(key, f"r{i}", rec.status, rec.status, rec.content_hash(),
                              rec.content_hash(), note, normalise_text(rec.text), rec.section)
    return vault, rows, base


def bench_planning(count: int) -> list[tuple[str, str]]:
    vault, rows, base = synthetic(count)
    results = []

    started = time.perf_counter()
    plan = plan_sync(vault, rows, base, complete=True)
    results.append((f"plan {count} tasks, nothing changed",
                    f"{time.perf_counter() - started:.2f} s ({len(plan.actions)} actions)"))

    step = 100
    ticked = dict(vault)
    for key in list(vault)[::step]:
        ticked[key] = replace(vault[key], status="x" if vault[key].status == " " else " ")
    remote_ticked = [replace(r, status="/") if i % step == 50 else r for i, r in enumerate(rows)]
    started = time.perf_counter()
    plan = plan_sync(ticked, remote_ticked, base, complete=True)
    results.append((f"plan {count} tasks, 1% ticked in the vault and 1% in Notion",
                    f"{time.perf_counter() - started:.2f} s ({len(plan.actions)} actions)"))

    reworded: dict[str, TaskRecord] = {}
    for index, (key, rec) in enumerate(vault.items()):
        if index % step == 7:
            new = replace(rec, key=key + "-new", text=rec.text + " (reworded)")
            reworded[new.key] = new
        else:
            reworded[key] = rec
    started = time.perf_counter()
    plan = plan_sync(reworded, rows, base, complete=True)
    rekeys = plan.counts.get("Rekey", 0)
    results.append((f"plan {count} tasks, 1% reworded (re-matched)",
                    f"{time.perf_counter() - started:.2f} s ({rekeys} re-matched)"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push", type=int, default=60, help="tasks in the first push")
    parser.add_argument("--rows", type=int, default=10_000, help="tasks in the no-change sync")
    parser.add_argument("--plan", type=int, default=100_000, help="tasks to plan")
    args = parser.parse_args()
    table: list[tuple[str, str]] = []
    for bench, size in ((bench_planning, args.plan), (bench_no_change, args.rows),
                        (bench_first_push, args.push)):
        if size > 0:
            table += bench(size)
    if args.push > 0:
        # Pacing above the limit: Notion's 429 + Retry-After does the pacing instead.
        table += bench_first_push(args.push, rate=10.0)
    width = max(len(name) for name, _ in table)
    print(f"{'benchmark':<{width}}  result")
    print(f"{'-' * width}  {'-' * 40}")
    for name, result in table:
        print(f"{name:<{width}}  {result}")


if __name__ == "__main__":
    main()
