"""The daemon's log: ``.vaultmap/daemon.log``, rotated, with every secret masked."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from collections.abc import Iterable
from pathlib import Path

from vaultmap.display import printable_lines

LOG_NAME = "daemon.log"
LOG_BYTES = 1024 * 1024  # one file's size before it rotates
LOG_BACKUPS = 3  # daemon.log.1 .. .3 are kept
_FORMAT = "%(asctime)s %(levelname)s %(message)s"


class SecretMask(logging.Filter):
    """Replace every known secret in a record's final text with ``***``, and show its control
    characters as U+FFFD.

    The sync layer never puts a token in a message; this is the second lock on that door, for
    a library's exception text quoting a header (raw, or escaped as in a ``repr``). Note names
    and remote text reach the log too, and ``tail -f daemon.log`` (or the foreground daemon's
    stderr) must not let them retitle or clear a terminal."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms = {form for s in secrets for form in (s, repr(s)[1:-1]) if len(s) >= 8}
        self.secrets = sorted(forms, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        for secret in self.secrets:
            text = text.replace(secret, "***")
        record.msg, record.args = printable_lines(text), None
        return True


class _NoLinkRotatingHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler that never opens its file through a symbolic link, so a link
    planted in ``.vaultmap/`` after the start-up check still cannot redirect the log."""

    def _open(self) -> io.TextIOWrapper:
        def no_follow(path: str, flags: int) -> int:
            return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o644)

        return open(self.baseFilename, "a", encoding=self.encoding,  # rotation forces "a"
                    errors=self.errors, opener=no_follow)


def secrets_from_environment(names: Iterable[str]) -> list[str]:
    """The values of the variables that hold tokens (``[notion] token_env``, GitHub's)."""
    return [os.environ[name].strip() for name in names if os.environ.get(name, "").strip()]


def setup_logging(state_dir: Path, level: str, secrets: Iterable[str], *,
                  to_stderr: bool = True) -> logging.Logger:
    """Send the ``vaultmap`` loggers to the rotating file (and stderr, for a terminal or a
    service manager's journal)."""
    logger = logging.getLogger("vaultmap")
    for handler in list(logger.handlers):
        if not isinstance(handler, logging.NullHandler):
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level.upper())
    mask = SecretMask(secrets)
    state_dir.mkdir(exist_ok=True)
    handlers: list[logging.Handler] = [_NoLinkRotatingHandler(
        state_dir / LOG_NAME, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")]
    if to_stderr:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(mask)
        logger.addHandler(handler)
    logger.propagate = False
    return logger
