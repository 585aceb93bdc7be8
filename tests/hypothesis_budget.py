"""How many examples a property test runs: CI's counts, or a deep campaign's.

``VAULTMAP_HYPOTHESIS=deep`` selects the ``deep`` profile (registered in ``conftest.py``):
every property test and state machine runs ``VAULTMAP_HYPOTHESIS_SCALE`` times (default 20)
as many examples as it does in CI. Tests that choose their own count write
``@settings(max_examples=examples(150))`` so that the count scales with the profile instead
of overriding it (an explicit ``max_examples`` always wins over a profile's).

Without the variable nothing changes: the counts written in the tests, fresh random examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("VAULTMAP_HYPOTHESIS", "default") or "default"
PROFILES = ("default", "deep")
if PROFILE not in PROFILES:
    raise RuntimeError(f"VAULTMAP_HYPOTHESIS={PROFILE!r}: expected one of {', '.join(PROFILES)}")

SCALE = int(os.environ.get("VAULTMAP_HYPOTHESIS_SCALE") or "20") if PROFILE == "deep" else 1


def examples(ci_count: int) -> int:
    """``ci_count`` in CI; ``ci_count`` times the campaign's scale under the deep profile."""
    return ci_count * SCALE


def register_profiles() -> None:
    """Register the profiles and load the one ``VAULTMAP_HYPOTHESIS`` names."""
    # A campaign: more examples, no per-example deadline (a slow example is not a bug here),
    # and the failing example printed in full so it can be pinned as an explicit test.
    settings.register_profile(
        "deep", max_examples=examples(100), deadline=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(PROFILE)
