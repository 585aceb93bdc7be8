"""Running a command where file permission bits apply, even when the tests run as root."""

from __future__ import annotations

import os
import shutil

import pytest


def without_privileges() -> list[str]:
    """A command prefix under which permission bits apply (root keeps its uid, loses its
    capabilities); skips the test where that cannot be arranged."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permission bits do not apply")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all"]
