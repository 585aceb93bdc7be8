"""A daemon subprocess through a storm of network faults from the fake Notion (dropped
connections, 5xx, 429s, answers lost after the write) while the user keeps editing notes and a
person ticks rows in Notion: when the storm ends, everything converges, with no duplicate row
and no byte of a note changed but the status characters."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from daemon_proc import DaemonProcess, notion_daemons, wait_for, write_vault

CONFIG = """\
[notion]
requests_per_second = 0
timeout = 2
backoff = 0.001
max_attempts = 2

[daemon]
quiet_period = 0.2
notion_poll = 0.5
log_level = "info"
"""
NOTES = {f"Area {n}/Plan {n}.md": [f"task {n}.{i}" for i in range(6)] for n in range(3)}
STORM = ("429", "500", "502", "503", "504", "drop", "drop_after")


def render(statuses: dict[str, str], texts: list[str]) -> bytes:
    # CRLF and a heading: a note must come back byte for byte, status characters aside.
    return ("# Plan\r\n\r\n" + "".join(f"- [{statuses[t]}] {t}\r\n" for t in texts)).encode()


def attempts(daemon: DaemonProcess) -> int:
    """Syncs the daemon finished, plus the ones that failed (each logs "retrying in")."""
    return int(daemon.status().get("cycles", 0)) + daemon.log().count("retrying in")


@pytest.mark.slow
def test_a_fault_storm_while_editing_converges(tmp_path: Path) -> None:
    statuses = {t: " " for texts in NOTES.values() for t in texts}
    vault = write_vault(tmp_path / "Vault", CONFIG,
                        {rel: render(statuses, texts) for rel, texts in NOTES.items()})
    rng = random.Random(11)
    with notion_daemons(vault, fault_seed=5, fault_kinds=STORM, slow_delay=0.5) as fleet:
        fake, database = fleet.fake, fleet.database_id
        daemon = fleet.start()
        daemon.wait_ready(timeout=60)

        def rows() -> dict[str, dict[str, object]]:
            return {str(r["Task"]): r for r in fake.table(database)}

        fake.fault_rate = 0.4
        # The user keeps editing (the daemon sees each save); a person in Notion ticks
        # tasks the user leaves alone ("task n.5").
        for round_ in range(30):
            rel = rng.choice(list(NOTES))
            text = rng.choice(NOTES[rel][:5])
            statuses[text] = rng.choice([" ", "x", "/", "-"])
            (vault / rel).write_bytes(render(statuses, NOTES[rel]))
            if round_ % 10 == 9:
                ticked = f"task {round_ // 10}.5"
                fake.tick(str(rows()[ticked]["_id"]))
                statuses[ticked] = "x"
            # Between saves: one more sync attempt of the daemon (a sync, or a failure).
            before = attempts(daemon)
            wait_for(lambda b=before: attempts(daemon) > b, timeout=30,
                     what="a sync attempt")
        assert sum(fake.faults_served.values()) >= 10, fake.faults_served
        fake.clear_faults()

        def converged() -> bool:
            table = rows()
            for texts in NOTES.values():
                for text in texts:
                    row = table.get(text)
                    want = {" ": "Todo", "x": "Done", "/": "Doing", "-": "Cancelled"}
                    if row is None or row["Status"] != want[statuses[text]]:
                        return False
            return True

        wait_for(converged, timeout=90, what="Notion to match the notes")
        for rel, texts in NOTES.items():
            assert (vault / rel).read_bytes() == render(statuses, texts), rel
        live = fake.table(database)
        assert len(live) == sum(len(t) for t in NOTES.values())
        assert len({r["Key"] for r in live}) == len(live)  # no duplicate row
        assert fake.token not in daemon.log()
        assert daemon.terminate() < 5.0
