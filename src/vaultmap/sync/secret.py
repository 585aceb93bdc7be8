"""A token held so that it never shows itself (shared by every remote's HTTP layer)."""

from __future__ import annotations


class Secret:
    """A string that never shows itself in a repr, a traceback's locals or ``vars()``."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"
