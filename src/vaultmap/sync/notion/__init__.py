"""The Notion remote, one module per job.

* :mod:`~vaultmap.sync.notion.ids`: Notion ids and URLs, the ``obsidian://`` link of a note.
* :mod:`~vaultmap.sync.notion.status`: Done / Status columns <-> status types.
* :mod:`~vaultmap.sync.notion.schema`: the properties vaultmap needs and where they are.
* :mod:`~vaultmap.sync.notion.rows`: task records <-> request-shaped properties and rows.
* :mod:`~vaultmap.sync.notion.text`: inline Markdown <-> Notion rich text.
* :mod:`~vaultmap.sync.notion.http`: token, pacing, deadlines, retries, error wording, and
  :class:`~vaultmap.sync.notion.http.NotionHttp`, the client that does them.
* :mod:`~vaultmap.sync.notion.remote`: :class:`NotionRemote`, which ties them together.

Only ``http`` and ``remote`` import httpx and the Notion SDK, so the pure parts import
cheaply. The remote's public API is re-exported here and loaded on first use, so that
importing a pure submodule does not pull the HTTP stack in through this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaultmap.sync.notion.http import NotionOptions
    from vaultmap.sync.notion.remote import NotionRemote

__all__ = ["NotionOptions", "NotionRemote"]

_HOMES = {"NotionOptions": "vaultmap.sync.notion.http",
          "NotionRemote": "vaultmap.sync.notion.remote"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
