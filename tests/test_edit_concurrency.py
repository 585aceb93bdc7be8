"""vaultmap.edit against other processes: a concurrent appender and a writer killed mid-write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vaultmap.config import Settings
from vaultmap.edit import StatusChange, append_tasks, set_statuses
from vaultmap.edit.atomic import TEMP_SUFFIX, wait_for_writers
from vaultmap.edit.patch import plan_status_changes
from vaultmap.parse import parse_note

APPENDER = r"""
import os, sys, time
path, stop = sys.argv[1], sys.argv[2]
print("ready", flush=True)
i = 0
while not os.path.exists(stop) and i < 1_000_000:
    with open(path, "ab") as handle:  # like an editor or a script adding one line, then closing
        handle.write(b"appended %d\n" % i)
    i += 1
    if i % 2 == 0:
        # Pacing (about 1000 lines a second), not synchronisation. The cap above is only a
        # safety net: on a loaded machine the writes take longer, and the appender must still
        # be running when the last one finishes (asserted), so it is far out of reach.
        time.sleep(0.001)
print(i, flush=True)
"""

FLIPPER = r"""
import sys
from pathlib import Path
from vaultmap.config import Settings
from vaultmap.edit import StatusChange, set_statuses
from vaultmap.parse import parse_note

root, rel = Path(sys.argv[1]), sys.argv[2]
settings = Settings(root=root)
print("ready", flush=True)
while True:
    data = (root / rel).read_bytes()
    note = parse_note(data, rel)
    flip = "x" if note.tasks[0].status == " " else " "
    set_statuses(settings, Path(rel), [StatusChange(t.key, t.status, flip, line=t.line)
                                       for t in note.tasks])
    print("wrote", flush=True)
"""


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _toggle_first(settings: Settings, rel: str) -> bool:
    data = (settings.root / rel).read_bytes()
    task = parse_note(data, rel).tasks[0]
    new = "x" if task.status == " " else " "
    result = set_statuses(settings, Path(rel), [StatusChange(task.key, task.status, new)])[0]
    assert result.applied, result.reason
    return True


@pytest.mark.slow
def test_no_line_appended_by_another_process_is_lost(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path)
    note_file = tmp_path / "log.md"
    header = b"# Daily log\n- [ ] water the plants\n- [x] feed the cat\n"
    note_file.write_bytes(header)
    stop = tmp_path / "stop"
    appender = subprocess.Popen([sys.executable, "-c", APPENDER, str(note_file), str(stop)],
                                stdout=subprocess.PIPE, env=_env())
    assert appender.stdout is not None
    assert appender.stdout.readline() == b"ready\n"
    for round_ in range(24):  # every write runs while the appender is appending
        assert _toggle_first(settings, "log.md")
        if round_ % 3 == 0:
            append_tasks(settings, Path("log.md"), [f"- [ ] inbox {round_}"])
    assert appender.poll() is None  # it was still appending when the last write finished
    stop.write_bytes(b"")
    count = int(appender.stdout.readline())
    assert appender.wait(timeout=60) == 0
    data = note_file.read_bytes()
    appended = [line for line in data.split(b"\n") if line.startswith(b"appended ")]
    # Every line is there exactly once. (Lines that land in the replaced file in the last
    # microseconds before a rename may swap places with lines appended just after; none is lost.)
    assert count > 24  # lines were appended all along
    assert sorted(appended) == sorted(b"appended %d" % i for i in range(count))
    assert data.startswith(b"# Daily log\n- [ ] water the plants\n- [x] feed the cat\n")
    inbox = [line for line in data.split(b"\n") if line.startswith(b"- [ ] inbox ")]
    assert inbox == [b"- [ ] inbox %d" % i for i in range(0, 24, 3)]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def _sizeable_note() -> bytes:
    rng = random.Random(7)
    parts = []
    for week in range(1, 40):
        parts.append(f"### **Week {week}: topic {rng.randrange(1000)}**\r\n")
        for item in range(8):
            filler = "lorem ipsum " * rng.randrange(2, 40)
            parts.append(f"- [ ] Study item {week}.{item} — {filler}\r\n")
            parts.append(f"\t- [ ] Exercise {week}.{item} 📅 2025-0{1 + item % 9}-1{item}\r\n")
        parts.append("Some prose between the lists, " * 30 + "\r\n\r\n")
    return "".join(parts).encode()


@pytest.mark.slow
def test_a_writer_killed_at_random_moments_leaves_the_old_or_the_new_note(tmp_path: Path) -> None:
    old = _sizeable_note()
    note = parse_note(old, "big.md")
    new, _ = plan_status_changes(
        old, note, [StatusChange(t.key, " ", "x", line=t.line) for t in note.tasks],
        Settings(root=tmp_path).statuses)
    assert len(old) > 100_000 and len(note.tasks) > 500 and new != old
    note_file = tmp_path / "big.md"
    note_file.write_bytes(old)
    rng = random.Random(20250314)
    kills_after_a_write = 0
    for run in range(12):
        writer = subprocess.Popen([sys.executable, "-c", FLIPPER, str(tmp_path), "big.md"],
                                  stdout=subprocess.PIPE, env=_env())
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"ready\n"
        if run % 2:
            # Every other run first lets a write or two complete, so kills also land in the
            # middle of later writes, not only in the first read and parse.
            for _ in range(rng.randint(1, 2)):
                assert writer.stdout.readline() == b"wrote\n"
            kills_after_a_write += 1
        time.sleep(rng.uniform(0.0, 0.25))  # a random moment to kill at, not synchronisation
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL  # killed, not crashed on its own
        writer.stdout.close()
        content = note_file.read_bytes()
        assert content in (old, new), "the note is neither the old nor the new version"
    assert kills_after_a_write == 6
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".md" and p.name != "big.md"]


OPENER = r"""
import os, sys, time
path = sys.argv[1]
print("ready", flush=True)
end = time.monotonic() + 1.0
while time.monotonic() < end:
    os.close(os.open(path, os.O_WRONLY))
"""


def test_waiting_for_writers_survives_a_lease_break(tmp_path: Path) -> None:
    """A hard link keeps the replaced file reachable; an open for writing through it breaks
    our lease, which must not kill us (the default lease-break signal, SIGIO, would)."""
    note_file = tmp_path / "n.md"
    note_file.write_bytes(b"- [ ] a\n")
    os.link(note_file, tmp_path / "hard-link.md")
    opener = subprocess.Popen([sys.executable, "-c", OPENER, str(tmp_path / "hard-link.md")],
                              stdout=subprocess.PIPE, env=_env())
    assert opener.stdout is not None
    assert opener.stdout.readline() == b"ready\n"
    fd = os.open(note_file, os.O_RDONLY)
    try:
        granted = 0
        while opener.poll() is None:
            granted += wait_for_writers(fd, timeout=0.05)
    finally:
        os.close(fd)
    assert opener.wait(timeout=30) == 0
    assert granted > 0  # still alive, and leases were taken between the opens
