"""Output streams that fail or cannot encode: one line on stderr, never a traceback, and a
write that succeeded is never reported as a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "vaultmap.cli"]


def _vault(tmp_path: Path, tasks: int = 2) -> Path:
    (tmp_path / ".vaultmap.toml").write_text("")
    lines = ["- [ ] call mum 🎉 today"] + [f"- [ ] task {n} ✅ 🎉" for n in range(tasks - 1)]
    (tmp_path / "n.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "COLUMNS")}
    env.update(extra)
    return env


@pytest.mark.parametrize("args", [["done", "n.md:1"], ["tasks"], ["report"],
                                  ["done", "--dry-run", "n.md:1"]])
def test_a_stdout_that_cannot_encode_emoji_shows_replacements(tmp_path: Path,
                                                              args: list[str]) -> None:
    vault = _vault(tmp_path)
    proc = subprocess.run([*CLI, *args], cwd=vault, capture_output=True, timeout=60,
                          env=_env(PYTHONIOENCODING="cp1252"))
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr and proc.stderr == b""
    assert b"call mum ? today" in proc.stdout
    if args == ["done", "n.md:1"]:
        assert (vault / "n.md").read_text(encoding="utf-8").startswith("- [x] call mum 🎉")
        assert b"-> [x]" in proc.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["tasks"], ["tasks", "--json"], ["report"],
                                  ["report", "--format", "json"],
                                  ["report", "--format", "markdown"], ["done", "n.md:1"]])
def test_stdout_on_a_full_disk_is_one_line(tmp_path: Path, args: list[str]) -> None:
    vault = _vault(tmp_path, tasks=50)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*CLI, *args], cwd=vault, stdout=full, stderr=subprocess.PIPE,
                              timeout=60, env=_env())
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines() == [
        "vaultmap: cannot write the output (No space left on device)"]


def test_a_reader_that_goes_away_is_no_error(tmp_path: Path) -> None:
    vault = _vault(tmp_path, tasks=5000)  # far more than a pipe holds
    process = subprocess.Popen([*CLI, "tasks"], cwd=vault, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=_env())
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10)
    process.stdout.close()  # `vaultmap tasks | head -1`
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""
