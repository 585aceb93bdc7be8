"""Fixtures shared by the Notion test modules: a fake Notion on 127.0.0.1 and an adapter
bound to a fresh database in it (a module may override either with its own tuning); and the
Hypothesis profile of the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_notion import FakeNotion, new_database
from hypothesis_budget import register_profiles
from vaultmap.sync.notion import NotionRemote

# VAULTMAP_HYPOTHESIS=deep: a bigger campaign of every property test (tests/hypothesis_budget.py).
register_profiles()


@pytest.fixture
def fake() -> Iterator[FakeNotion]:
    """A started fake Notion (real HTTP on 127.0.0.1, in a thread)."""
    with FakeNotion() as server:
        yield server


@pytest.fixture
def remote(fake: FakeNotion) -> Iterator[NotionRemote]:
    """A ``NotionRemote`` at test speed, bound to a fresh database in ``fake``."""
    with new_database(fake) as bound:
        yield bound
