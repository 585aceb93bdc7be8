"""The database schema vaultmap needs: a Notion property type per role, the options it
creates, and :class:`Schema`, which property holds each role in a given database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vaultmap.config import NOTION_PROPERTY_DEFAULTS
from vaultmap.model import StatusType
from vaultmap.sync.notion.status import STATUS_NAMES, _status_choices

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


def resolve_schema(existing: Mapping[str, Any], properties: Mapping[str, str]
                   ) -> tuple[Schema, list[str], list[str]]:
    """Roles -> names in a database whose properties are ``existing``, the roles named as in
    ``properties`` (``[notion.properties]``); returns (schema, wrong-type complaints,
    missing roles)."""
    names: dict[str, str] = {}
    wrong: list[str] = []
    missing: list[str] = []
    title_name = next((n for n, p in existing.items() if p.get("type") == "title"), None)
    for role, kind in ROLE_TYPES.items():
        wanted = properties.get(role, NOTION_PROPERTY_DEFAULTS[role])
        if role == "task":
            if wanted in existing and existing[wanted].get("type") != "title":
                wrong.append(f"{wanted!r} is {existing[wanted].get('type')}, "
                             "vaultmap needs title")
            elif title_name is not None:
                names[role] = title_name
            continue
        prop = existing.get(wanted)
        if prop is None:
            missing.append(role)
        elif prop.get("type") != kind and prop.get("type") not in ALSO_ACCEPTED.get(role, ()):
            wrong.append(f"{wanted!r} is {prop.get('type')}, vaultmap needs {kind}")
        else:
            names[role] = wanted
    status = existing.get(names.get("status", ""))
    if isinstance(status, dict) and status.get("type") == "status":
        options, by_name = _status_choices(status.get("status") or {})
        return Schema(names, "status", options, by_name), wrong, missing
    return Schema(names), wrong, missing


def property_configs(properties: Mapping[str, str], roles: list[str]) -> dict[str, Any]:
    """The request shapes that create the properties of ``roles``, named as in
    ``properties`` (a status or priority select gets its options)."""
    configs: dict[str, Any] = {}
    for role in roles:
        kind = ROLE_TYPES[role]
        name = properties.get(role, NOTION_PROPERTY_DEFAULTS[role])
        config: dict[str, Any] = {}
        if role == "status":
            config = {"options": [{"name": n, "color": _STATUS_COLOURS[n]}
                                  for n in STATUS_NAMES.values()]}
        elif role == "priority":
            config = {"options": [{"name": n, "color": c}
                                  for n, c in zip(PRIORITIES, _PRIORITY_COLOURS,
                                                  strict=True)]}
        configs[name] = {kind: config}
    return configs
