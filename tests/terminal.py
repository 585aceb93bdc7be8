"""Run a command with one of its streams on a pseudo-terminal, as a person at a terminal would."""

from __future__ import annotations

import os
import subprocess

import pytest


def run_on_terminal(args: list[str], env: dict[str, str], *,
                    stream: str = "stdout") -> tuple[str, str]:
    """Run ``args`` with ``stream`` ("stdout" or "stderr") on a pty and the other one piped.

    Returns (what the terminal showed, what the pipe got); asserts the command exited 0.
    """
    pty = pytest.importorskip("pty")
    primary, secondary = pty.openpty()
    on_terminal = {stream: secondary}
    piped = "stderr" if stream == "stdout" else "stdout"
    process = subprocess.Popen(args, env=env, **on_terminal, **{piped: subprocess.PIPE})
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    pipe = process.stderr if piped == "stderr" else process.stdout
    assert pipe is not None
    piped_text = pipe.read().decode("utf-8", "replace")
    assert process.wait(timeout=60) == 0, piped_text
    return b"".join(chunks).decode("utf-8", "replace"), piped_text
