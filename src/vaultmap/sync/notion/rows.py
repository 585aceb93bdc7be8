"""Pieces of a row's encoding: property values in and out of Notion's request and response
shapes (dates, select options, times)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from vaultmap.sync.notion.text import (
    utf16_len,
)

SECTION_JOINER = " › "


def _excerpt(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _value(prop: Any, kind: str) -> Any:
    """The typed value of a property, from a response (``{"type":…, kind: v}``) or a request
    (``{kind: v}``) shape."""
    if not isinstance(prop, dict):
        return None
    return prop.get(kind)


def _date_value(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        date.fromisoformat(text)
    except ValueError:
        return None  # a malformed date in a note (2023-12-32) is not sent; the note keeps it
    return {"start": text}


def _date_start(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("start"), str):
        return str(value["start"])[:10]
    return None


def _option_name(text: str) -> str:
    # Select option names may not contain commas and hold at most 100 characters.
    cleaned = text.replace(",", " ").strip()
    while utf16_len(cleaned) > 100:
        cleaned = cleaned[:-1]
    return cleaned


def _option(text: str | None) -> dict[str, str] | None:
    name = _option_name(text) if text else ""
    return {"name": name} if name else None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
