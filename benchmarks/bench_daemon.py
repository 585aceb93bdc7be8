"""Daemon benchmarks: save -> Notion latency, one changed note in a big vault, idle cost, and
resources after many sync cycles. A real ``vaultmap daemon`` subprocess, the fake Notion.

Run: ``.venv/bin/python benchmarks/bench_daemon.py [--saves 100] [--notes 5000] [--runs 20]
[--soak-seconds 60] [--idle-poll 30] [--cycles 1000] [--only PART ...]`` (Linux: reads /proc
for CPU, RSS, fds and threads).

1. Latency from a save (in place) to the Notion row updated, over SAVES saves, with
   ``quiet_period`` 0.2 s (the default is 2 s; the rest is the daemon's own cost).
2. One changed note in a NOTES-note vault (a real save before every run): a full scan without
   the index plus a plan of every task (the baseline, same run); the indexed scan; re-parsing
   the note in memory with a plan of every task (the daemon before focused plans); with a
   focused plan (the daemon now); and the daemon's whole sync path without HTTP (base entries
   read from SQLite by note, the lock, the empty plan run). Medians of RUNS.
3. Idle soak of SOAK seconds, Notion poll IDLE_POLL s (30 s, the default): CPU seconds, the
   context switches of the main thread (its wake-ups, and each blocking call of a poll) and
   of all threads, RSS, requests.
4. CYCLES Notion sync cycles (poll 0.01 s): open fds, threads and RSS at the start and end,
   and the TCP connections the daemon opened meanwhile (one client for its life: none).
5. An idle GitHub poll of the NOTES-note vault with three published notes (every issue
   answers 304): the scanning path (two scans; the daemon's before) and the tasks in memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_vault

from daemon_proc import DaemonProcess, NotionDaemons, notion_daemons, wait_for, write_vault
from fake_github import FakeGitHub
from vaultmap.config import load_settings
from vaultmap.daemon.tasks import VaultTasks
from vaultmap.model import normalise_text
from vaultmap.sync.engine import Focus, plan_sync
from vaultmap.sync.github.publish import publish
from vaultmap.sync.github.runner import github_client, sync_github
from vaultmap.sync.github.store import GitHubStore
from vaultmap.sync.remote import AgreedStatus, RemoteRow, RemoteSnapshot, TaskRecord
from vaultmap.sync.runner import read_vault, run_sync
from vaultmap.sync.state import BaseEntry, StateStore

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
            "threads": int(fields[17]),
            "wakeups_main": _switches(pid, pid),
            "wakeups_all": sum(_switches(pid, int(t)) for t in os.listdir(f"/proc/{pid}/task"))}


def _switches(pid: int, tid: int) -> int:
    """Context switches of one thread of ``pid``: each voluntary one is a wake-up after a
    wait (a thread that sleeps in a loop shows them at its tick rate)."""
    try:
        text = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    except OSError:  # the thread ended meanwhile
        return 0
    return sum(int(line.split()[1]) for line in text.splitlines()
               if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


@contextmanager
def running_daemon(root: Path, *, quiet: float, poll: float,
                   tasks: int) -> Iterator[tuple[NotionDaemons, DaemonProcess]]:
    """A vault of one note with ``tasks`` tasks linked to a fake Notion, and its daemon after
    its first sync; the daemon is stopped (killed if need be) at the end."""
    vault = write_vault(root / "Vault", CONFIG.format(quiet=quiet, poll=poll),
                        {"Plan.md": "".join(f"- [ ] task {i}\n" for i in range(tasks)).encode()})
    with notion_daemons(vault) as fleet:
        daemon = fleet.start()
        try:
            daemon.wait_ready(timeout=120)
            yield fleet, daemon
        finally:
            if daemon.proc.poll() is None:
                daemon.terminate(timeout=10)


def bench_latency(saves: int) -> list[tuple[str, str]]:
    latencies = []
    with tempfile.TemporaryDirectory() as tmp, \
            running_daemon(Path(tmp), quiet=0.2, poll=30, tasks=10) as (fleet, _):
        fake, database = fleet.fake, fleet.database_id
        note = fleet.vault / "Plan.md"
        lines = note.read_text().splitlines(keepends=True)
        for index in range(saves):
            done = index % 2 == 0
            lines[0] = f"- [{'x' if done else ' '}] task 0\n"
            started = time.perf_counter()
            note.write_text("".join(lines))
            wait_for(lambda d=done: next(r for r in fake.table(database)
                                         if r["Task"] == "task 0")["Done"] is d,
                     timeout=30, what="the row")
            latencies.append(time.perf_counter() - started)
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


def _median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class QuietRemote:
    """A remote in which nothing changed since the last sync (an incremental read finds no
    row): the sync's own cost, without a server. Reads only; a write would be a bug here."""

    name = "notion"
    target = ""

    def bind(self, agreed_status: Callable[[str], AgreedStatus | None],
             cache: Mapping[str, str]) -> None:
        pass

    def cache(self) -> dict[str, str]:
        return {}

    def snapshot(self, since: datetime | None, *, include_trashed: bool = False
                 ) -> RemoteSnapshot:
        return RemoteSnapshot(rows=(), complete=since is None, started_at=datetime.now(UTC))

    def stored_form(self, record: TaskRecord) -> TaskRecord:
        return record

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the benchmark's remote was asked to {name}")


def bench_one_note(notes: int, runs: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "Big"
        generate_vault(root, notes=notes)
        settings = load_settings(root)
        snapshot = read_vault(settings)  # builds the index
        records = snapshot.records
        rows, base = _agreed(records)
        # The sync state as a daemon finds it: every task agreed, one completed sync.
        with StateStore.open(settings.state_dir, "notion") as state, state.batch():
            for entry in base.values():
                state.put(entry)
        with StateStore.open(settings.state_dir, "notion") as state:
            state.finish_sync(datetime.now(UTC))
        changed = next(root / r.note for r in records.values())
        rel = changed.relative_to(root).as_posix()
        flips = [changed.read_bytes(), changed.read_bytes().replace(b"- [ ]", b"- [x]", 1)]
        assert flips[0] != flips[1]
        tasks = VaultTasks(settings)
        tasks.rescan()
        flip_count = [0]

        def save() -> None:  # a real save between two runs: each run sees a changed note
            flip_count[0] += 1
            changed.write_bytes(flips[flip_count[0] % 2])

        def plan(recs: dict[str, TaskRecord]) -> None:
            plan_sync(recs, rows, base, complete=True)

        def full() -> None:
            save()
            plan(read_vault(settings, use_index=False).records)

        def indexed() -> None:
            save()
            plan(read_vault(settings).records)

        def one_plan_all() -> None:
            save()
            tasks.update([rel])
            plan(tasks.snapshot().records)

        def one_focused() -> None:
            save()
            tasks.update([rel])
            vault = tasks.snapshot()
            assert vault.by_note is not None
            keys = vault.by_note[rel]
            plan_sync({k: vault.records[k] for k in keys}, [],
                      {k: base[k] for k in keys if k in base}, complete=False,
                      focus=Focus(frozenset({rel}), len(base), len(vault.records)))

        def daemon_path() -> None:
            # What the daemon's Notion sync does for one saved note, less the HTTP: re-parse
            # it, read its base entries (SQLite), plan it, run the (empty) plan.
            save()
            tasks.update([rel])
            report = run_sync(settings, QuietRemote(), vault=tasks.snapshot(),  # type: ignore[arg-type]
                              changed={rel}, periodic_full=False)
            assert report.focused and report.ok

        # The seconds-long rows get fewer runs: they are the baselines, not the claim.
        slow_runs = max(3, runs // 4)
        focused_s = _median(one_focused, runs)
        daemon_s = _median(daemon_path, runs)
        full_s = _median(full, slow_runs)
        indexed_s = _median(indexed, slow_runs)
        all_s = _median(one_plan_all, slow_runs)
    label = f"{notes} notes, {len(records)} tasks"
    return [(f"one changed note, {label}: full scan + plan all (baseline, median of "
             f"{slow_runs})", f"{full_s * 1000:.0f} ms"),
            (f"  indexed scan (stat all, re-parse 1) + plan all (median of {slow_runs})",
             f"{indexed_s * 1000:.0f} ms ({full_s / indexed_s:.1f}x faster)"),
            (f"  re-parse 1 in memory + plan all (the daemon before; median of {slow_runs})",
             f"{all_s * 1000:.0f} ms ({full_s / all_s:.0f}x faster)"),
            (f"  re-parse 1 in memory + focused plan (target < 30 ms; median of {runs})",
             f"{focused_s * 1000:.1f} ms ({full_s / focused_s:.0f}x faster)"),
            (f"  daemon's sync path: + base entries from SQLite, lock, run (no HTTP; {runs})",
             f"{daemon_s * 1000:.1f} ms ({full_s / daemon_s:.0f}x faster)")]


def bench_idle(soak: float, poll: float) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp, \
            running_daemon(Path(tmp), quiet=2, poll=poll, tasks=50) as (fleet, daemon):
        fake = fleet.fake
        wait_for(lambda: not daemon.status().get("waiting"), timeout=60, what="settle")
        fake.reset_counts()
        cycles_before = daemon.status()["cycles"]
        before = proc_figures(daemon.proc.pid)
        deadline = time.monotonic() + soak
        while time.monotonic() < deadline:
            time.sleep(1)  # the soak itself: nothing happens on purpose
        after = proc_figures(daemon.proc.pid)
        polls = daemon.status()["cycles"] - cycles_before
        queries = sum(1 for _, path, _ in fake.log if "query" in path)
    return [(f"idle {soak:.0f} s (poll {poll:g} s, 50 tasks): CPU",
             f"{after['cpu_s'] - before['cpu_s']:.2f} s"),
            ("  wake-ups (context switches): main thread; all threads",
             f"{after['wakeups_main'] - before['wakeups_main']:.0f}; "
             f"{after['wakeups_all'] - before['wakeups_all']:.0f}"),
            ("  RSS start -> end", f"{before['rss_mb']:.1f} -> {after['rss_mb']:.1f} MB"),
            ("  fds, threads start -> end", f"{before['fds']:.0f} -> {after['fds']:.0f}, "
             f"{before['threads']:.0f} -> {after['threads']:.0f}"),
            ("  Notion polls; requests (of which queries)",
             f"{polls}; {fake.total_requests} ({queries}), "
             f"{fake.total_requests / max(1, polls):.2f} per poll")]


def bench_cycles(cycles: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp, \
            running_daemon(Path(tmp), quiet=0.05, poll=0.01, tasks=20) as (fleet, daemon):
        start_status = daemon.wait_ready(cycles=10)
        before = proc_figures(daemon.proc.pid)
        connections = fleet.fake.connections
        first = start_status["cycles"]
        wait_for(lambda: daemon.status().get("cycles", 0) >= first + cycles,
                 timeout=cycles, what="cycles")
        after = proc_figures(daemon.proc.pid)
        connections = fleet.fake.connections - connections
    return [(f"{cycles} sync cycles: fds", f"{before['fds']} -> {after['fds']}"),
            ("  threads", f"{before['threads']} -> {after['threads']}"),
            ("  RSS", f"{before['rss_mb']:.1f} -> {after['rss_mb']:.1f} MB"),
            ("  TCP connections opened to Notion during the cycles", f"{connections}")]


def bench_github_poll(notes: int, runs: int) -> list[tuple[str, str]]:
    """An idle GitHub poll (every issue answers 304) of a NOTES-note vault with 3 published
    notes, over real HTTP to the fake GitHub: the scanning path (``vaultmap sync``'s, and the
    daemon's before: a scan for the layout, another for the plan) against the daemon's path
    now (the tasks in memory, no note read). Medians of RUNS."""
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub() as fake:
        root = Path(tmp) / "Big"
        generate_vault(root, notes=notes)
        fake.add_repo("bench/vault")
        environ = {"GITHUB_TOKEN": fake.token, "VAULTMAP_GITHUB_API_URL": fake.api_url}
        settings = load_settings(root)
        published = sorted({r.note for r in read_vault(settings).records.values()})[:3]
        with GitHubStore.open(settings.state_dir) as store, \
                github_client(settings, store, environ=environ) as client:
            for rel in published:
                publish(settings, client, store, str(root / rel), repo="bench/vault")
        tasks = VaultTasks(settings)
        tasks.rescan()
        with github_client(settings, None, environ=environ) as client:
            sync_github(settings, client=client)  # the ETags are stored: polls answer 304

            def scanning() -> None:
                assert not sync_github(settings, client=client).plan.actions

            def in_memory() -> None:
                assert not sync_github(settings, client=client,
                                       vault=tasks.known_vault()).plan.actions

            scanning_s = _median(scanning, runs)
            fake.reset_counts()
            memory_s = _median(in_memory, runs)
            requests = fake.total_requests / runs
    return [(f"idle GitHub poll, {notes} notes, 3 issues: two scans (baseline; {runs})",
             f"{scanning_s * 1000:.0f} ms"),
            ("  the daemon now: tasks in memory, no note read",
             f"{memory_s * 1000:.0f} ms ({scanning_s / memory_s:.0f}x faster); "
             f"{requests:.0f} requests per poll")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20,
                        help="runs per row of the one-changed-note part (median)")
    parser.add_argument("--soak-seconds", "--soak", dest="soak", type=float, default=60.0)
    parser.add_argument("--idle-poll", type=float, default=30.0,
                        help="the Notion poll interval of the idle soak (a long one leaves "
                             "only the loop's own wake-ups in the count)")
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--only", choices=("latency", "one-note", "idle", "cycles",
                                           "github-poll"),
                        action="append", help="run only these parts (repeatable)")
    args = parser.parse_args()
    parts: list[tuple[str, Callable[[], list[tuple[str, str]]]]] = [
        ("latency", lambda: bench_latency(args.saves)),
        ("one-note", lambda: bench_one_note(args.notes, args.runs)),
        ("idle", lambda: bench_idle(args.soak, args.idle_poll)),
        ("cycles", lambda: bench_cycles(args.cycles)),
        ("github-poll", lambda: bench_github_poll(args.notes, args.runs)),
    ]
    # Each part prints its rows as soon as it is done (a long run still reports what it has).
    width = 72
    for name, part in parts:
        if args.only and name not in args.only:
            continue
        for label, value in part():
            print(f"{label:<{width}}  {value}", flush=True)


if __name__ == "__main__":
    main()
