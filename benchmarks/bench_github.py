"""GitHub benchmarks: requests and rate-limit units against the fake GitHub, and time.

Run: ``.venv/bin/python benchmarks/bench_github.py [--tasks 300] [--issues 50] [--runs 3]``

1. Publishing a roadmap of TASKS tasks (one note, nested) as one checklist issue.
2. A no-change sync of ISSUES published checklists (6 tasks each), measured after a first sync
   has stored the ETags; the baseline is the same sync with an empty ETag cache (what a client
   without conditional requests pays every time).
3. One tick each way: a box ticked on "github.com", then a task ticked in a note; ten
   tasks of the roadmap ticked in the note (they leave in one write); one task of the
   roadmap moved under another parent (its line moves in one write).

"units" are answers GitHub counts against the primary rate limit (every answer but a 304).
Times are medians of RUNS rounds on the local fake (no network, writes not paced): they show
vaultmap's own cost, not GitHub's latency. Writes to the real GitHub are paced at 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_github import FakeGitHub
from vaultmap.config import GitHubSettings, Settings
from vaultmap.sync.github.http import GitHubClient, GitHubOptions, MemoryEtagCache
from vaultmap.sync.github.publish import publish
from vaultmap.sync.github.remote import GitHubRemote, layout_of
from vaultmap.sync.github.runner import sync_github
from vaultmap.sync.github.store import GitHubStore
from vaultmap.sync.runner import SyncReport, run_sync
from vaultmap.vault import scan_vault

REPO = "bench/roadmap"
OPTIONS = GitHubOptions(write_interval=0.0, backoff=0.01, backoff_max=0.1)


def roadmap(count: int) -> str:
    lines = ["# Roadmap\n"]
    for i in range(count):
        if i % 25 == 0:
            lines.append(f"\n## Month {i // 25 + 1}\n")
        indent = "  " if i % 5 else ""
        lines.append(f"{indent}- [{'x' if i % 4 == 0 else ' '}] roadmap step {i} with words\n")
    return "".join(lines)


def sync(settings: Settings, fake: FakeGitHub, *, etags: bool = True) -> SyncReport:
    """What `vaultmap sync --github` runs; ``etags=False`` forgets every ETag (the baseline)."""
    if etags:
        return sync_github(settings, environ={"GITHUB_TOKEN": fake.token,
                                              "VAULTMAP_GITHUB_API_URL": fake.api_url})
    with GitHubStore.open(settings.state_dir) as store, \
            GitHubClient(fake.token, api_url=fake.api_url, options=OPTIONS,
                         etags=MemoryEtagCache()) as client:
        links = store.links()
        tasks = [t for note in scan_vault(settings).notes for t in note.tasks]
        layout = layout_of(tasks, links, settings.github)
        remote = GitHubRemote(client, links, layout, settings.github, settings.statuses)
        return run_sync(settings, remote, select=layout.covers)


def measure(fake: FakeGitHub, action: Callable[[], object]) -> tuple[float, int, int, int]:
    fake.reset_counts()
    start = time.perf_counter()
    action()
    writes = sum(n for route, n in fake.requests.items() if not route.startswith("GET"))
    return time.perf_counter() - start, fake.total_requests, fake.units_used, writes


def one_round(tasks: int, issues: int, rows: dict[str, list[tuple[float, int, int, int]]]) -> None:
    """One round of every measure, appended to ``rows``."""
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub() as fake:
        fake.add_repo(REPO)
        root = Path(tmp) / "vault"
        root.mkdir()
        settings = Settings(root=root, github=GitHubSettings(write_interval=0.0))
        (root / "Roadmap.md").write_text(roadmap(tasks))
        for n in range(issues):
            (root / f"Checklist {n:02}.md").write_text(
                "".join(f"- [ ] item {i} of list {n}\n" for i in range(6)))

        def publish_roadmap() -> None:
            with GitHubStore.open(settings.state_dir) as store, \
                    GitHubClient(fake.token, api_url=fake.api_url, options=OPTIONS,
                                 etags=store) as client:
                publish(settings, client, store, str(root / "Roadmap.md"), repo=REPO)

        rows.setdefault(f"publish a {tasks}-task roadmap", []).append(
            measure(fake, publish_roadmap))
        with GitHubStore.open(settings.state_dir) as store, \
                GitHubClient(fake.token, api_url=fake.api_url, options=OPTIONS,
                             etags=store) as client:
            for n in range(issues):
                publish(settings, client, store, str(root / f"Checklist {n:02}.md"),
                        repo=REPO)
        sync(settings, fake)  # the first sync stores every issue's ETag
        total = issues + 1
        rows.setdefault(f"no-change sync, {total} issues, no ETags (baseline)", []).append(
            measure(fake, lambda: sync(settings, fake, etags=False)))
        rows.setdefault(f"no-change sync, {total} issues, ETags kept", []).append(
            measure(fake, lambda: sync(settings, fake)))
        fake.web_tick(REPO, 2, "item 3 of list 0")
        rows.setdefault("one tick on github.com -> note", []).append(
            measure(fake, lambda: sync(settings, fake)))
        note = root / "Checklist 01.md"
        note.write_text(note.read_text().replace("- [ ] item 2", "- [x] item 2"))
        rows.setdefault("one tick in a note -> issue", []).append(
            measure(fake, lambda: sync(settings, fake)))
        text = (root / "Roadmap.md").read_text()
        for i in range(1, 100, 10):  # ten open tasks of the roadmap ticked offline
            text = text.replace(f"- [ ] roadmap step {i} ", f"- [x] roadmap step {i} ")
        (root / "Roadmap.md").write_text(text)
        rows.setdefault("ten ticks in the roadmap -> issue", []).append(
            measure(fake, lambda: sync(settings, fake)))
        # A task moved under another parent: one line moves and is re-indented.
        text = (root / "Roadmap.md").read_text()
        moved = "  - [ ] roadmap step 2 with words\n"
        text = text.replace(moved, "").replace("- [x] roadmap step 20 with words\n",
                                               "- [x] roadmap step 20 with words\n" + moved)
        (root / "Roadmap.md").write_text(text)
        rows.setdefault("one task re-nested in the roadmap -> issue", []).append(
            measure(fake, lambda: sync(settings, fake)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--issues", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, int, int, int]]] = {}

    for _ in range(args.runs):
        one_round(args.tasks, args.issues, rows)

    baseline = statistics.median(sample[0] for sample in
                                 next(v for k, v in rows.items() if "baseline" in k))
    print(f"| measure (median of {args.runs}) | time | vs baseline | requests | units | writes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, samples in rows.items():
        seconds, requests, units, writes = (statistics.median(s[i] for s in samples)
                                            for i in range(4))
        ratio = f"{seconds / baseline:.2f}x" if "sync" in name else ""
        print(f"| {name} | {seconds * 1000:.0f} ms | {ratio} | {requests:.0f} | {units:.0f} "
              f"| {writes:.0f} |")


if __name__ == "__main__":
    main()
