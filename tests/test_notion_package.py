"""The Notion package's layering: the pure parts import without the HTTP stack, and the
package still offers the remote's public API."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PURE = ("ids", "status", "schema", "rows", "text")
_HEAVY = ("httpx", "notion_client", "tenacity")


@pytest.mark.parametrize("module", _PURE)
def test_a_pure_notion_module_imports_without_the_http_stack(module: str) -> None:
    probe = (f"import sys, vaultmap.sync.notion.{module}; "
             f"print(sorted(m for m in {_HEAVY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_package_offers_the_remote_and_its_options() -> None:
    import vaultmap.sync.notion as notion
    from vaultmap.config import NotionSettings
    from vaultmap.sync.notion.remote import NotionRemote

    assert notion.NotionRemote is NotionRemote
    assert notion.NotionOptions is NotionSettings
    with pytest.raises(AttributeError, match="no attribute 'status_fields'"):
        notion.status_fields  # noqa: B018 - the package is not a shim for every name
