"""How a row's Done checkbox and Status column map to a :class:`~vaultmap.model.StatusType`,
and the option names vaultmap writes and reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vaultmap.model import StatusType
from vaultmap.sync.remote import (
    TaskRecord,
)

STATUS_NAMES: Mapping[StatusType, str] = {
    StatusType.TODO: "Todo",
    StatusType.DOING: "Doing",
    StatusType.DONE: "Done",
    StatusType.CANCELLED: "Cancelled",
    StatusType.OTHER: "Other",
}
# Status option names read as a status type (what vaultmap writes, plus the names of Notion's
# default "status" options and common spellings). Matching ignores case.
_NAME_TO_TYPE: Mapping[str, StatusType] = {
    **{name.casefold(): kind for kind, name in STATUS_NAMES.items()},
    "to do": StatusType.TODO, "to-do": StatusType.TODO, "not started": StatusType.TODO,
    "in progress": StatusType.DOING, "started": StatusType.DOING,
    "complete": StatusType.DONE, "completed": StatusType.DONE, "finished": StatusType.DONE,
    "canceled": StatusType.CANCELLED,
}
# Groups of a Notion "status" property, for options with names of their own.
_GROUP_TO_TYPE: Mapping[str, StatusType] = {
    "to-do": StatusType.TODO, "to do": StatusType.TODO, "in progress": StatusType.DOING,
    "complete": StatusType.DONE,
}


def status_fields(done: bool | None, status_name: str | None) -> str:
    """The raw status columns of a row as one string (kept in the base as agreed)."""
    return json.dumps([done, status_name], ensure_ascii=False)


def _parse_fields(fields: str) -> tuple[bool | None, str | None] | None:
    try:
        value = json.loads(fields)
    except (ValueError, RecursionError):  # read back from the state file: any text
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not isinstance(value[0], bool | None) or not isinstance(value[1], str | None)):
        return None
    return value[0], value[1]


def status_type_from(done: bool | None, status_name: str | None,
                     agreed: StatusType | None = None, *,
                     names: Mapping[str, StatusType] | None = None,
                     agreed_fields: str = "") -> StatusType:
    """The status a row means, from its Done checkbox and Status select.

    vaultmap writes the two consistently (Done ticked exactly when the status is done), so
    when they disagree a person changed one of them (people tick the box and never touch the
    select). The column that changed since the last agreement decides:

    * With ``agreed_fields`` (the two columns as they were when both sides last agreed,
      :func:`status_fields`): the column that changed wins; ticking Done makes a task done,
      unticking it reopens it as todo, choosing a Status sets that status. When both changed
      and disagree, the more finished one wins.
    * Else with ``agreed`` (the status type agreed on; a base written by an older vaultmap),
      the column that still matches it is taken as stale.
    * Without either (no base: a lost state, a first meeting), the more finished of the two
      wins, ranked as the default conflict policy ranks statuses: a ticked box means done
      whatever the Status says, an unticked box with Status "Done" stays done. Never the
      stale one.

    An empty or unknown Status counts as no opinion: the checkbox decides. ``names`` adds
    option names (casefolded) of a linked database's own Notion "status" property.
    """
    named = _named_type(status_name, names)
    if done is None:
        return named or StatusType.TODO
    if named is None:
        return StatusType.DONE if done else StatusType.TODO
    if (named is StatusType.DONE) == done:
        return named
    before = _parse_fields(agreed_fields) if agreed_fields else None
    if before is not None:
        box_changed = before[0] is not None and done != before[0]
        status_changed = _named_type(before[1], names) is not named
        if box_changed and not status_changed:
            return StatusType.DONE if done else StatusType.TODO
        if status_changed and not box_changed:
            return named
    elif agreed is not None:
        box_changed = done != (agreed is StatusType.DONE)
        status_changed = named is not agreed
        if box_changed and not status_changed:
            return StatusType.DONE if done else StatusType.TODO
        if status_changed and not box_changed:
            return named
    box = StatusType.DONE if done else StatusType.TODO
    return max(box, named, key=lambda status: status.rank)


def _named_type(status_name: str | None,
                names: Mapping[str, StatusType] | None) -> StatusType | None:
    if not status_name:
        return None
    folded = status_name.casefold()
    return _NAME_TO_TYPE.get(folded) or (names or {}).get(folded)


def _status_choices(config: Mapping[str, Any]) -> tuple[dict[StatusType, str],
                                                        dict[str, StatusType]]:
    """For a Notion "status" property: the option to write per type, and each option's type.

    An option is read by its name when that is a known spelling ("Not started", "Done"),
    else by its group (To-do, In progress, Complete). The option written for a type is the
    first one whose name says that type, else the first of the type's group.
    """
    options = [o for o in config.get("options") or [] if isinstance(o, dict) and o.get("name")]
    group_of: dict[str, StatusType] = {}
    for group in config.get("groups") or []:
        kind = _GROUP_TO_TYPE.get(str(group.get("name", "")).casefold())
        if kind is not None:
            for option_id in group.get("option_ids") or []:
                group_of[str(option_id)] = kind
    by_name: dict[str, StatusType] = {}
    for option in options:
        name = str(option["name"])
        kind = _NAME_TO_TYPE.get(name.casefold()) or group_of.get(str(option.get("id")))
        if kind is not None:
            by_name[name.casefold()] = kind
    to_write: dict[StatusType, str] = {}
    for option in options:  # names that say the type outright come first
        kind = _NAME_TO_TYPE.get(str(option["name"]).casefold())
        if kind is not None:
            to_write.setdefault(kind, str(option["name"]))
    for option in options:
        kind = group_of.get(str(option.get("id")))
        if kind is not None:
            to_write.setdefault(kind, str(option["name"]))
    return to_write, by_name


def _status_type(record: TaskRecord) -> StatusType:
    try:
        return StatusType(record.status_type)
    except ValueError:
        return StatusType.OTHER
