"""Daemon benchmarks: save -> Notion latency, one changed note in a big vault, idle cost, and
resources after many sync cycles. A real ``vaultmap daemon`` subprocess, the fake Notion.

Run: ``.venv/bin/python benchmarks/bench_daemon.py [--saves 100] [--notes 5000]
[--soak 60] [--cycles 1000]`` (Linux: reads /proc for CPU, RSS, fds and threads).

1. Latency from a save (in place) to the Notion row updated, over SAVES saves, with
   ``quiet_period`` 0.2 s (the default is 2 s; the rest is the daemon's own cost).
2. One changed note in a NOTES-note vault: what a daemon sync reads today (the vault through
   its index: stat every note, re-parse the changed one) and parsing the one note alone, each
   plus planning all the vault's tasks; against a full scan without the index, in the same run.
3. Idle soak of SOAK seconds, Notion poll 30 s (the default): CPU seconds, RSS, requests.
4. CYCLES Notion sync cycles (poll 0.01 s): open fds, threads and RSS at the start and end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from click.testing import CliRunner
from generate import generate_vault

from daemon_proc import DaemonProcess, wait_for
from fake_notion import FakeNotion
from vaultmap.cli import main as cli
from vaultmap.config import load_settings
from vaultmap.model import normalise_text
from vaultmap.parse import parse_note
from vaultmap.sync.engine import plan_sync, task_record
from vaultmap.sync.remote import RemoteRow, TaskRecord
from vaultmap.sync.runner import read_vault
from vaultmap.sync.state import BaseEntry

CONFIG = """\
[notion]
requests_per_second = 0
timeout = 5
backoff = 0.01

[daemon]
quiet_period = {quiet}
notion_poll = {poll}
log_level = "warning"
"""
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def proc_figures(pid: int) -> dict[str, float]:
    """CPU seconds, RSS MB, open fds and threads of ``pid``, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    statm = Path(f"/proc/{pid}/statm").read_text().split()
    return {"cpu_s": (int(fields[11]) + int(fields[12])) / TICKS,
            "rss_mb": int(statm[1]) * PAGE / 1e6,
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "threads": int(fields[17])}


def setup(root: Path, fake: FakeNotion, *, quiet: float, poll: float, tasks: int) -> Path:
    vault = root / "Vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text(CONFIG.format(quiet=quiet, poll=poll))
    (vault / "Plan.md").write_text("".join(f"- [ ] task {i}\n" for i in range(tasks)))
    env = {"NOTION_TOKEN": fake.token, "VAULTMAP_NOTION_BASE_URL": fake.base_url}
    result = CliRunner().invoke(cli, ["notion", "init", "--parent", fake.add_page(),
                                      str(vault)], env=env)
    assert result.exit_code == 0, result.output
    return vault


def start(vault: Path, fake: FakeNotion) -> DaemonProcess:
    daemon = DaemonProcess(vault, {"NOTION_TOKEN": fake.token,
                                   "VAULTMAP_NOTION_BASE_URL": fake.base_url})
    try:
        daemon.wait_ready(timeout=120)
    except BaseException:
        daemon.close()  # never leave a daemon behind
        raise
    return daemon


def bench_latency(saves: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp, FakeNotion() as fake:
        vault = setup(Path(tmp), fake, quiet=0.2, poll=30, tasks=10)
        database = load_settings(vault).notion.database_id
        daemon = start(vault, fake)
        note = vault / "Plan.md"
        lines = note.read_text().splitlines(keepends=True)
        latencies = []
        try:
            for index in range(saves):
                done = index % 2 == 0
                lines[0] = f"- [{'x' if done else ' '}] task 0\n"
                started = time.perf_counter()
                note.write_text("".join(lines))
                wait_for(lambda d=done: next(r for r in fake.table(database)
                                             if r["Task"] == "task 0")["Done"] is d,
                         timeout=30, what="the row")
                latencies.append(time.perf_counter() - started)
        finally:
            daemon.terminate(timeout=10)
            daemon.close()
    cuts = statistics.quantiles(latencies, n=20)
    return [(f"save -> Notion row, {saves} saves, quiet 0.2 s: p50",
             f"{statistics.median(latencies) * 1000:.0f} ms"),
            ("  p95", f"{cuts[18] * 1000:.0f} ms"),
            ("  p50 minus the quiet period (the daemon's own cost)",
             f"{(statistics.median(latencies) - 0.2) * 1000:.0f} ms")]


def _agreed(records: dict[str, TaskRecord]) -> tuple[list[RemoteRow], dict[str, BaseEntry]]:
    rows, base = [], {}
    for i, rec in enumerate(records.values()):
        rows.append(RemoteRow(remote_id=f"r{i}", key=rec.key, status=rec.status, text=rec.text,
                              note=rec.note, content_hash=rec.content_hash()))
        base[rec.key] = BaseEntry(rec.key, f"r{i}", rec.status, rec.status, rec.content_hash(),
                                  rec.content_hash(), rec.note, normalise_text(rec.text),
                                  rec.section)
    return rows, base


def _median(fn: object, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_one_note(notes: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "Big"
        generate_vault(root, notes=notes)
        settings = load_settings(root)
        snapshot = read_vault(settings)  # builds the index
        records = snapshot.records
        rows, base = _agreed(records)
        changed = next(root / r.note for r in records.values())
        rel = changed.relative_to(root).as_posix()
        data = changed.read_bytes()
        flipped = data.replace(b"- [ ]", b"- [x]", 1)
        changed.write_bytes(flipped)
        read_vault(settings)  # the index learns the new version once

        def plan(recs: dict[str, TaskRecord]) -> None:
            plan_sync(recs, rows, base, complete=True)

        def full() -> None:
            plan(read_vault(settings, use_index=False).records)

        def indexed() -> None:
            plan(read_vault(settings).records)

        def one() -> None:
            note = parse_note(changed.read_bytes(), rel, flavor=settings.vault.flavor,
                              statuses=settings.statuses)
            recs = {k: r for k, r in records.items() if r.note != rel}
            for task in note.tasks:
                recs[task.key] = task_record(task, vault_name=root.name)
            plan(recs)

        def plan_only() -> None:
            plan(records)

        full_s, indexed_s = _median(full, 3), _median(indexed)
        one_s, plan_s = _median(one), _median(plan_only)
    label = f"{notes} notes, {len(records)} tasks"
    return [(f"one changed note, {label}: full scan + plan (baseline)", f"{full_s * 1000:.0f} ms"),
            ("  daemon today: indexed scan (stat all, re-parse 1) + plan",
             f"{indexed_s * 1000:.0f} ms ({full_s / indexed_s:.1f}x faster)"),
            ("  re-parse the one note in memory + plan", f"{one_s * 1000:.1f} ms "
             f"({full_s / one_s:.0f}x faster)"),
            ("  of which planning all tasks", f"{plan_s * 1000:.1f} ms")]


def bench_idle(soak: float) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp, FakeNotion() as fake:
        vault = setup(Path(tmp), fake, quiet=2, poll=30, tasks=50)
        daemon = start(vault, fake)
        try:
            wait_for(lambda: not daemon.status().get("waiting"), timeout=60, what="settle")
            fake.reset_counts()
            before = proc_figures(daemon.proc.pid)
            deadline = time.monotonic() + soak
            while time.monotonic() < deadline:
                time.sleep(1)  # the soak itself: nothing happens on purpose
            after = proc_figures(daemon.proc.pid)
            polls = sum(1 for method, path, _ in fake.log if "query" in path)
        finally:
            daemon.terminate(timeout=10)
            daemon.close()
    return [(f"idle {soak:.0f} s (poll 30 s): CPU", f"{after['cpu_s'] - before['cpu_s']:.2f} s"),
            ("  RSS start -> end", f"{before['rss_mb']:.1f} -> {after['rss_mb']:.1f} MB"),
            ("  Notion requests (queries)",
             f"{fake.total_requests} ({polls}), {fake.total_requests / max(1, soak / 30):.1f} "
             "per poll")]


def bench_cycles(cycles: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp, FakeNotion() as fake:
        vault = setup(Path(tmp), fake, quiet=0.05, poll=0.01, tasks=20)
        daemon = start(vault, fake)
        try:
            start_status = daemon.wait_ready(cycles=10)
            before = proc_figures(daemon.proc.pid)
            first = start_status["cycles"]
            wait_for(lambda: daemon.status().get("cycles", 0) >= first + cycles,
                     timeout=cycles, what="cycles")
            after = proc_figures(daemon.proc.pid)
        finally:
            daemon.terminate(timeout=10)
            daemon.close()
    return [(f"{cycles} sync cycles: fds", f"{before['fds']} -> {after['fds']}"),
            ("  threads", f"{before['threads']} -> {after['threads']}"),
            ("  RSS", f"{before['rss_mb']:.1f} -> {after['rss_mb']:.1f} MB")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--soak", type=float, default=60.0)
    parser.add_argument("--cycles", type=int, default=1000)
    args = parser.parse_args()
    # Each part prints its rows as soon as it is done (a long run still reports what it has).
    width = 70
    for part, arg in ((bench_latency, args.saves), (bench_one_note, args.notes),
                      (bench_idle, args.soak), (bench_cycles, args.cycles)):
        for name, value in part(arg):  # type: ignore[operator]
            print(f"{name:<{width}}  {value}", flush=True)

if __name__ == "__main__":
    main()
