"""The campaign switch: CI's example counts unless VAULTMAP_HYPOTHESIS=deep asks for more."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
PROBE = ("import hypothesis_budget as b; from hypothesis import settings; "
         "b.register_profiles(); print(b.examples(150), settings().max_examples, "
         "settings().deadline is None)")


def _probe(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VAULTMAP_HYPOTHESIS")}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=TESTS, capture_output=True,
                          text=True, env={**environ, **env}, timeout=60, check=False)


def test_without_the_variable_the_counts_are_as_written() -> None:
    assert _probe().stdout.split() == ["150", "100", "False"]


def test_the_deep_profile_scales_explicit_and_default_counts() -> None:
    assert _probe(VAULTMAP_HYPOTHESIS="deep").stdout.split() == ["3000", "2000", "True"]
    assert _probe(VAULTMAP_HYPOTHESIS="deep", VAULTMAP_HYPOTHESIS_SCALE="3").stdout.split() \
        == ["450", "300", "True"]


def test_an_unknown_profile_is_refused() -> None:
    result = _probe(VAULTMAP_HYPOTHESIS="deeper")
    assert result.returncode != 0 and "expected one of default, deep" in result.stderr
