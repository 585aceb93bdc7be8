"""The database schema vaultmap needs: a Notion property type per role, the options it
creates, and :class:`Schema`, which property holds each role in a given database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vaultmap.model import StatusType

# role -> Notion property type. Roles are the keys of [notion.properties].
ROLE_TYPES: Mapping[str, str] = {
    "task": "title",
    "done": "checkbox",
    "status": "select",
    "note": "rich_text",
    "section": "rich_text",
    "due": "date",
    "scheduled": "date",
    "start": "date",
    "priority": "select",
    "tags": "multi_select",
    "key": "rich_text",
    "open": "url",
}
REQUIRED_ROLES = ("task", "key", "done")
# Other types a role may have in a linked database: Notion's own "status" type works too.
ALSO_ACCEPTED: Mapping[str, tuple[str, ...]] = {"status": ("status",)}


_STATUS_COLOURS = {"Todo": "default", "Doing": "blue", "Done": "green", "Cancelled": "gray",
                   "Other": "yellow"}
PRIORITIES = ("highest", "high", "medium", "low", "lowest")
_PRIORITY_COLOURS = ("red", "orange", "yellow", "blue", "gray")


@dataclass(frozen=True, slots=True)
class Schema:
    """Which Notion property holds each role (absent roles are not written)."""

    names: Mapping[str, str]  # role -> property name in the database
    status_kind: str = "select"  # or "status": Notion's own status type
    # For a "status" property: the option to write per type, and each option's type.
    status_options: Mapping[StatusType, str] = field(default_factory=dict)
    status_names: Mapping[str, StatusType] = field(default_factory=dict)

    def get(self, role: str) -> str | None:
        return self.names.get(role)
