"""Notion ids and URLs: parsing a page or database id out of what a person pastes, and the
``obsidian://`` link a row carries back to its note."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from vaultmap.sync.remote import (
    RemoteError,
)

_ID_IN_TEXT = re.compile(r"([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                         r"[0-9a-fA-F]{12})(?![0-9a-fA-F])")
_BARE_ID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                      r"[0-9a-fA-F]{12}$")


def parse_notion_id(text: str, *, what: str = "Notion page") -> str:
    """The dashed id in ``text``: a bare id (dashed or not) or a Notion URL.

    >>> parse_notion_id("https://www.notion.so/Home-26899f72bada80dc843deacaf51e89ad?v=1")
    '26899f72-bada-80dc-843d-eacaf51e89ad'
    """
    candidate = text.strip()
    if not _BARE_ID.match(candidate):
        parts = urlsplit(candidate)
        # The id is the last 32 hex digits of the path (a "?v=" view id must not win).
        found = _ID_IN_TEXT.findall(parts.path) if parts.scheme else []
        if not found:
            raise RemoteError(f"{what} {text.strip()[:80]!r} is neither a Notion id nor a "
                              "Notion URL containing one")
        candidate = found[-1]
    hexes = candidate.replace("-", "").lower()
    return f"{hexes[:8]}-{hexes[8:12]}-{hexes[12:16]}-{hexes[16:20]}-{hexes[20:]}"


def obsidian_url(vault_name: str, note: str) -> str:
    """``obsidian://open?vault=…&file=…`` for a note (``.md`` dropped, as Obsidian writes it)."""
    file = note[:-3] if note.endswith(".md") else note
    return f"obsidian://open?vault={_quoted(vault_name)}&file={_quoted(file)}"


def _quoted(name: str) -> str:
    """A path or vault name percent-encoded; a name that is not valid UTF-8 holds its bytes
    as surrogates (``os.fsdecode``), which are encoded back to those bytes."""
    try:
        return quote(name, safe="", errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate no byte decodes to: never from a file name
        return quote(name, safe="", errors="surrogatepass")


def _checked_id(remote_id: str) -> str:
    if not _BARE_ID.match(remote_id.strip()):
        raise RemoteError(f"{remote_id[:80]!r} is not a Notion row id")
    return parse_notion_id(remote_id)
