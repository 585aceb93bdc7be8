"""How the CLI writes to a person: every line made printable, streams that never crash.

- :func:`echo` is ``click.echo`` for text that may hold note text, file names or anything a
  remote sent: each line goes through :func:`vaultmap.display.printable`.
- :func:`tolerant_streams` lets stdout and stderr show what their encoding cannot hold as
  replacement characters (``PYTHONIOENCODING=cp1252`` and an emoji task), so a confirmation
  printed after a write never turns into a traceback that reads like a failure.
- :func:`output_failed` turns a stdout that cannot be written (a full disk, a closed pipe) into
  one line on stderr, and keeps the interpreter from reporting it again at exit.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from typing import TYPE_CHECKING

import click

from vaultmap.display import printable_lines

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print ``message`` (one or more lines) with every control character neutralised."""
    click.echo(printable_lines(message), err=err, nl=nl)


class OutputError(OSError):
    """Writing to stdout failed (a full disk, a closed pipe): told apart from every other
    ``OSError`` so only this one becomes "cannot write the output"."""


class _GuardedWriter(io.RawIOBase):
    """stdout's file descriptor, raising :class:`OutputError` when a write fails."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: ReadableBuffer) -> int:
        try:
            return os.write(self._fd, data)
        except OSError as error:
            raise OutputError(error.errno, error.strerror) from None


def tolerant_streams() -> None:
    """Make stdout and stderr replace what their encoding cannot hold instead of raising, and
    make a failing stdout raise :class:`OutputError`."""
    stdout = sys.stdout
    # Only the interpreter's own stdout: a test runner's capture is left alone.
    if isinstance(stdout, io.TextIOWrapper) and stdout is sys.__stdout__:
        try:
            fd = stdout.fileno()
            stdout.flush()
        except (OSError, ValueError, io.UnsupportedOperation):
            fd = -1
        if fd >= 0:
            sys.stdout = io.TextIOWrapper(
                io.BufferedWriter(_GuardedWriter(fd)), encoding=stdout.encoding,
                errors="replace", line_buffering=stdout.line_buffering)
    stderr = sys.stderr
    if isinstance(stderr, io.TextIOWrapper) and stderr.errors == "strict":
        with contextlib.suppress(ValueError, io.UnsupportedOperation):
            stderr.reconfigure(errors="replace")


def output_failed(error: OutputError) -> int:
    """Report a failed write to stdout in one line on stderr; the exit code to use.

    A closed pipe (``vaultmap tasks | head``) is not an error worth a word: exit quietly. The
    unwritten rest of stdout is sent to ``/dev/null`` so the exit-time flush cannot fail again.
    """
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    if error.errno == errno.EPIPE:
        return 0
    reason = error.strerror or str(error)
    with contextlib.suppress(OSError, ValueError):
        click.echo(f"vaultmap: cannot write the output ({reason})", err=True)
    return 1
