"""A row's encoding: a task record as request-shaped properties (:func:`record_properties`),
and a row's properties back into a :class:`~vaultmap.sync.remote.RemoteRow`
(:func:`decoded_row`), with the value shapes in between (dates, select options, times).

Pure: which status a row means is decided by the remote (it may need the schema and the
agreed state), then handed in."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, unquote

from vaultmap.config import NOTION_PROPERTY_DEFAULTS
from vaultmap.model import StatusType
from vaultmap.sync.notion.ids import obsidian_url
from vaultmap.sync.notion.schema import Schema
from vaultmap.sync.notion.status import STATUS_NAMES, _status_type
from vaultmap.sync.notion.text import (
    markdown_from_rich_text,
    plain_rich_text,
    plain_text,
    rich_text_from_markdown,
    utf16_len,
)
from vaultmap.sync.remote import CONTENT_FIELDS, ContentField, RemoteRow, TaskRecord

SECTION_JOINER = " › "

# Notion text cannot hold a lone surrogate, and a key can: a block id's key holds the note's
# path, and a file name that is not valid UTF-8 holds its bytes as surrogates (os.fsdecode).
# Such a key is written percent-encoded behind a prefix no key the parser makes starts with
# (they start with "k:", "id:" or "block:"), and read back exactly; every other key is written
# as it is.
ENCODED_KEY_PREFIX = "pct:"


def key_text(key: str) -> str:
    """The Key column's text for ``key`` (see ``ENCODED_KEY_PREFIX``)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return ENCODED_KEY_PREFIX + quote(key, safe="", errors="surrogatepass")
    return key


def key_from_text(text: str) -> str:
    """The key a Key column's text stands for: the inverse of :func:`key_text`."""
    if text.startswith(ENCODED_KEY_PREFIX):
        return unquote(text[len(ENCODED_KEY_PREFIX):], errors="surrogatepass")
    return text


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


def record_properties(record: TaskRecord, schema: Schema, *, vault_name: str,
                      content: bool = True, status: bool = True,
                      only: Collection[ContentField] | None = None) -> dict[str, Any]:
    """Request-shaped properties for ``record`` in a database laid out as ``schema``: the
    status when ``status``, the content fields when ``content`` (only those in ``only``,
    when given). ``vault_name`` (when not empty) makes the ``obsidian://`` link."""
    kind = _status_type(record)
    props: dict[str, Any] = {}

    def put(role: str, value: Any) -> None:
        name = schema.get(role)
        if name is not None:
            props[name] = value

    if status:
        put("done", {"checkbox": kind is StatusType.DONE})
        if schema.status_kind == "status":
            # Notion's own status type: only existing options can be chosen; a type
            # without a matching option leaves the column as it is (Done still carries
            # done-ness).
            option = schema.status_options.get(kind)
            if option is not None:
                put("status", {"status": {"name": option}})
        else:
            put("status", {"select": {"name": STATUS_NAMES[kind]}})
    if not content:
        return props
    wanted = set(CONTENT_FIELDS if only is None else only)
    if "text" in wanted:
        put("task", {"title": rich_text_from_markdown(record.text)})
    if "key" in wanted:
        put("key", {"rich_text": plain_rich_text(key_text(record.key))})
    if "note" in wanted:
        put("note", {"rich_text": plain_rich_text(record.note)})
    if "section" in wanted:
        put("section", {"rich_text": plain_rich_text(SECTION_JOINER.join(record.section))})
    for role in ("due", "scheduled", "start"):
        if role in wanted:
            put(role, {"date": _date_value(getattr(record, role))})
    if "priority" in wanted:
        put("priority", {"select": _option(record.priority)})
    if "tags" in wanted:
        tags = [t for t in (_option_name(tag) for tag in record.tags) if t]
        put("tags", {"multi_select": [{"name": t} for t in dict.fromkeys(tags)][:100]})
    if "open_url" in wanted:
        url = record.open_url or (obsidian_url(vault_name, record.note)
                                  if vault_name else "")
        put("open", {"url": url if url and utf16_len(url) <= 2000 else None})
    return props


def property_value(props: Mapping[str, Any], properties: Mapping[str, str], role: str,
                   kind: str) -> Any:
    """The ``kind`` value of ``role``'s property among a row's ``props``, the roles named as
    in ``properties``; the title is found whatever its name."""
    name = properties.get(role, NOTION_PROPERTY_DEFAULTS[role])
    if role == "task":
        # The title property, whatever its name; request shapes carry no "type".
        found = next((v for v in props.values() if isinstance(v, dict) and (
            v.get("type") == "title" or ("type" not in v and "title" in v))), None)
        return _value(found if found is not None else props.get(name), kind)
    return _value(props.get(name), kind)


def decoded_row(props: Mapping[str, Any], properties: Mapping[str, str], *, key: str | None,
                remote_id: str, trashed: bool, edited: datetime | None, status: str,
                status_type: StatusType, status_fields: str, settled: bool) -> RemoteRow:
    """The :class:`RemoteRow` of a row's ``props`` (response or request shape), its status
    already decided from its Done and Status columns; ``fields`` is the record rebuilt from
    the properties, whose hash is the row's ``content_hash``."""

    def value(role: str, kind: str) -> Any:
        return property_value(props, properties, role, kind)

    title = value("task", "title")
    section_text = plain_text(value("section", "rich_text"))
    priority = value("priority", "select")
    tags = value("tags", "multi_select")
    rebuilt = TaskRecord(
        key=key or "", status=status, status_type=status_type.value,
        text=markdown_from_rich_text(title),
        note=plain_text(value("note", "rich_text")),
        section=tuple(section_text.split(SECTION_JOINER)) if section_text else (),
        due=_date_start(value("due", "date")),
        scheduled=_date_start(value("scheduled", "date")),
        start=_date_start(value("start", "date")),
        priority=priority.get("name") if isinstance(priority, dict) else None,
        tags=tuple(str(t.get("name")) for t in tags if isinstance(t, dict))
        if isinstance(tags, list) else (),
        open_url=str(value("open", "url") or ""))
    return RemoteRow(remote_id=remote_id, key=key, status=status, text=plain_text(title),
                     note=rebuilt.note, content_hash=rebuilt.content_hash(),
                     last_edited=edited, trashed=trashed, status_type=status_type.value,
                     status_fields=status_fields, settled=settled, fields=rebuilt)
