"""A fake Notion API server for tests: real HTTP on 127.0.0.1, in a thread.

It speaks API version 2025-09-03 as far as vaultmap can see it (as Notion's public API
reference, https://developers.notion.com/reference, documents it):
databases holding one data source, the data source's schema (create, PATCH add/delete/rename),
rows as pages (create, retrieve, PATCH, trash), queries with filters, sorts and opaque cursors,
minute-rounded timestamps from an injectable clock, validation errors, ``request_id`` on every
answer, dashed or undashed ids, 404 for unknown ids, and fault injection.

Usage::

    with FakeNotion() as fake:
        parent = fake.add_page("Home")
        db, ds = fake.add_database(parent, "Tasks", {"Task": "title", "Done": "checkbox"})
        fake.add_row(db, {"Task": "Buy milk"})
        client = notion_client.Client(auth=fake.token, base_url=fake.base_url)
        ...
        fake.inject("502", method="POST", route="/v1/pages")   # next create answers 502 HTML
        assert fake.count("POST /v1/pages") == 1

"As a person in Notion would" helpers (``add_row``, ``edit_row``, ``tick``, ``set_select``,
``trash_row``) bump ``last_edited_time`` like the UI does. Inspect with ``table`` / ``values``.
The server plumbing (thread, request counts, faults, ``before`` hooks) is ``fake_http``'s.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fake_http import FakeHandler, FakeServer, Fault

# The fake Notion answers at once: no request pacing, short timeouts, near-zero back-off.
FAST_NOTION = """\
[notion]
requests_per_second = 0
timeout = 5
backoff = 0.001
max_attempts = 3
"""


API_VERSION = "2025-09-03"
INTEGRATION = "vaultmap fake"
FAULT_KINDS = ("429", "409", "500", "502", "503", "504", "529", "slow", "drop", "drop_after",
               "403")
# What a random fault storm draws from: everything a client should ride out.
STORM_FAULTS = tuple(kind for kind in FAULT_KINDS if kind != "403")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                      r"[0-9a-fA-F]{12}$")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_TYPES = ("title", "rich_text", "checkbox", "select", "multi_select", "date", "url", "number",
          "status", "created_time", "last_edited_time")
_READ_ONLY = ("created_time", "last_edited_time")


class ApiError(Exception):
    """An error answer: raised inside a handler, turned into Notion's JSON error envelope."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None,
                 additional_data: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.additional_data = dict(additional_data) if additional_data else None


def _validation(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def _dashed(raw: str) -> str:
    hexes = raw.replace("-", "").lower()
    return f"{hexes[:8]}-{hexes[8:12]}-{hexes[12:16]}-{hexes[16:20]}-{hexes[20:]}"


def _new_id() -> str:
    # Notion's own ids are not RFC 4122 v4; a v4 uuid is a fine stand-in for a fake.
    return str(uuid.uuid4())


def _utf16_len(text: str) -> int:
    # Notion counts characters the JavaScript way (UTF-16 code units).
    return len(text.encode("utf-16-le")) // 2


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _parse_when(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise _validation(f"body failed validation: {where} should be a string, "
                          f"instead was `{json.dumps(value)}`.")
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _validation(f"body failed validation: {where} should be a valid ISO 8601 date "
                          f"string, instead was `{json.dumps(value)}`.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _status_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Options and groups of a ``status`` property; Notion's defaults when none are given."""
    given = list(config.get("options") or [])
    groups_given = list(config.get("groups") or [])
    if not given:
        given = [{"name": "Not started", "color": "default"},
                 {"name": "In progress", "color": "blue"}, {"name": "Done", "color": "green"}]
        groups_given = [{"name": "To-do", "option_names": ["Not started"]},
                        {"name": "In progress", "option_names": ["In progress"]},
                        {"name": "Complete", "option_names": ["Done"]}]
    options = [{"id": _new_id(), "name": o["name"], "color": o.get("color", "default"),
                "description": None} for o in given]
    by_name = {o["name"]: o["id"] for o in options}
    groups = [{"id": _new_id(), "name": g["name"], "color": g.get("color", "gray"),
               "option_ids": [by_name[n] for n in g.get("option_names", []) if n in by_name]}
              for g in groups_given]
    return {"options": options, "groups": groups}


class FakeClock:
    """Wall-clock time plus an offset tests can move; ``freeze`` stops it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = start
        self._offset = timedelta()

    def now(self) -> datetime:
        """The fake's current time (aware, UTC)."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's time forward (or back, with a negative number)."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)

    def freeze(self, at: datetime) -> None:
        """Stop the clock at ``at``."""
        with self._lock:
            self._frozen = at


@dataclass
class _Prop:
    id: str
    name: str
    type: str
    config: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": None, "type": self.type,
                self.type: json.loads(json.dumps(self.config))}


@dataclass
class _DataSource:
    id: str
    database_id: str
    title: str
    props: list[_Prop]
    created: datetime
    edited: datetime
    in_trash: bool = False

    def by_name_or_id(self, key: str) -> _Prop | None:
        for prop in self.props:
            if prop.name == key:
                return prop
        for prop in self.props:
            if prop.id == key:
                return prop
        return None

    def title_prop(self) -> _Prop:
        return next(p for p in self.props if p.type == "title")


@dataclass
class _Database:
    id: str
    parent_page: str
    title: str
    data_sources: list[str]
    created: datetime
    shared: bool = True
    in_trash: bool = False


@dataclass
class _Page:
    id: str
    created: datetime
    edited: datetime
    parent_ds: str | None  # None: a plain page (e.g. the parent of a database)
    values: dict[str, Any]  # property id -> response-shaped value
    title: str = ""
    in_trash: bool = False
    shared: bool = True


class FakeNotion(FakeServer):
    """The fake server. Use as a context manager; see the module docstring.

    Options: ``page_cap`` returns at most that many rows per query page (short pages);
    ``rate_limit`` answers 429 when requests exceed that many per second (token bucket with
    ``burst``); ``fault_rate``/``fault_seed``/``fault_kinds`` inject random faults;
    ``trash_default`` decides whether a query without ``in_trash`` returns live rows
    ("live"), trashed rows ("trashed") or both ("all").
    """

    thread_name = "fake-notion"
    known_faults = FAULT_KINDS

    def __init__(self, *, token: str | None = None, clock: FakeClock | None = None,
                 page_cap: int | None = None, rate_limit: float | None = None,
                 burst: int = 10, retry_after: str = "0", fault_rate: float = 0.0,
                 fault_seed: int = 0, fault_kinds: tuple[str, ...] = STORM_FAULTS,
                 slow_delay: float = 2.0, trash_default: str = "live") -> None:
        super().__init__(fault_rate=fault_rate, fault_seed=fault_seed)
        self.token = token or "ntn_fake_" + uuid.uuid4().hex
        self.clock = clock or FakeClock()
        self.page_cap = page_cap
        self.rate_limit = rate_limit
        self.burst = burst
        self.retry_after = retry_after
        self.fault_kinds = fault_kinds  # what a storm (``fault_rate``) draws from
        self.slow_delay = slow_delay
        self.trash_default = trash_default
        self._pages: dict[str, _Page] = {}
        self._databases: dict[str, _Database] = {}
        self._sources: dict[str, _DataSource] = {}
        self._cursors: dict[str, tuple[str, int]] = {}
        self._bucket = float(burst)
        self._bucket_at = time.monotonic()
        self.log: list[tuple[str, str, Any]] = []  # (method, path, body) of every request

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (without ``/v1``), as notion-client's ``base_url``."""
        return self.url

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()
            self.faults_served.clear()

    # ----------------------------------------------------------------- faults
    # ``inject(kind, route=..., times=..., retry_after=..., delay=...)``: ``drop`` closes the
    # connection without applying the request; ``drop_after`` applies it, then closes the
    # connection without an answer (a create whose answer was lost); ``slow`` applies the
    # request, then waits ``delay`` seconds before answering (a client timeout whose write
    # happened anyway). ``before`` and ``clear_faults`` come from ``FakeServer``.
    def new_fault(self, kind: str, method: str | None, route: str | None, times: int,
                  **options: Any) -> Fault:
        options.setdefault("retry_after", self.retry_after)
        options.setdefault("delay", self.slow_delay)
        return Fault(kind, method, route, times, **options)

    def storm_fault(self) -> Fault:
        return Fault(self._random.choice(self.fault_kinds), retry_after=self.retry_after,
                     delay=self.slow_delay)

    def next_fault(self, method: str, route: str) -> Fault | None:
        fault = super().next_fault(method, route)
        if fault is not None or not self.rate_limit:
            return fault
        with self._lock:
            now = time.monotonic()
            self._bucket = min(float(self.burst),
                               self._bucket + (now - self._bucket_at) * self.rate_limit)
            self._bucket_at = now
            if self._bucket < 1.0:
                self.faults_served["429"] += 1
                return Fault("429", retry_after=self.retry_after)
            self._bucket -= 1.0
        return None

    # ----------------------------------------------------------------- seeding
    def add_page(self, title: str = "Home", *, shared: bool = True) -> str:
        """A plain page (e.g. the parent of a database); returns its dashed id."""
        now = _minute(self.clock.now())
        page = _Page(_new_id(), now, now, None, {}, title=title, shared=shared)
        with self._lock:
            self._pages[page.id] = page
        return page.id

    def add_database(self, parent_page: str, title: str,
                     properties: Mapping[str, str | Mapping[str, Any]]) -> tuple[str, str]:
        """Seed a database with one data source; ``properties`` maps name -> type (or config).

        Returns ``(database_id, data_source_id)``.
        """
        schema: dict[str, Any] = {}
        for name, spec in properties.items():
            schema[name] = {spec: {}} if isinstance(spec, str) else dict(spec)
        with self._lock:
            db = self._create_database(_dashed(parent_page), title, schema)
        return db.id, db.data_sources[0]

    def unshare(self, object_id: str) -> None:
        """Make a database or page invisible to the integration (404 from then on)."""
        with self._lock:
            oid = _dashed(object_id)
            if oid in self._databases:
                self._databases[oid].shared = False
            elif oid in self._pages:
                self._pages[oid].shared = False
            else:
                raise KeyError(object_id)

    def add_row(self, database_or_source: str, values: Mapping[str, Any]) -> str:
        """Create a row as a person would. ``values`` maps property name -> a simple value
        (str for text, bool, option name(s), ``YYYY-MM-DD``) or a request-shaped dict."""
        with self._lock:
            source = self._source_of(_dashed(database_or_source))
            props = {name: self._simple_to_request(source, name, value)
                     for name, value in values.items()}
            page = self._create_row(source, props)
        return page.id

    def edit_row(self, page_id: str, values: Mapping[str, Any]) -> None:
        """Change properties of a row as a person would (bumps ``last_edited_time``)."""
        with self._lock:
            page = self._page(_dashed(page_id))
            assert page.parent_ds is not None
            source = self._sources[page.parent_ds]
            props = {name: self._simple_to_request(source, name, value)
                     for name, value in values.items()}
            self._write_props(source, page, props, "body.properties")
            page.edited = _minute(self.clock.now())

    def tick(self, page_id: str, done: bool = True, *, prop: str = "Done") -> None:
        """Tick (or untick) a checkbox as a person would."""
        self.edit_row(page_id, {prop: done})

    def set_select(self, page_id: str, prop: str, option: str | None) -> None:
        """Choose a select option (None clears it)."""
        self.edit_row(page_id, {prop: {"select": None if option is None else {"name": option}}})

    def trash_row(self, page_id: str, trashed: bool = True) -> None:
        """Move a row to Notion's trash (or restore it)."""
        with self._lock:
            page = self._page(_dashed(page_id))
            page.in_trash = trashed
            page.edited = _minute(self.clock.now())

    def schema(self, database_or_source: str) -> dict[str, str]:
        """Property name -> type of the (first) data source."""
        with self._lock:
            source = self._source_of(_dashed(database_or_source))
            return {p.name: p.type for p in source.props}

    def retype_property(self, database_or_source: str, name: str, kind: str) -> None:
        """Change a column's type as a person would (values of the old type are dropped)."""
        with self._lock:
            source = self._source_of(_dashed(database_or_source))
            prop = source.by_name_or_id(name)
            assert prop is not None, name
            prop.type, prop.config = kind, _status_config({}) if kind == "status" else {}
            for page in self._pages.values():
                if page.parent_ds == source.id:
                    page.values.pop(prop.id, None)

    def delete_property(self, database_or_source: str, name: str) -> None:
        """Delete a column as a person would."""
        with self._lock:
            source = self._source_of(_dashed(database_or_source))
            prop = source.by_name_or_id(name)
            assert prop is not None and prop.type != "title", name
            source.props.remove(prop)

    def rename_property(self, database_or_source: str, old: str, new: str) -> None:
        """Rename a column as a person would."""
        with self._lock:
            source = self._source_of(_dashed(database_or_source))
            prop = source.by_name_or_id(old)
            assert prop is not None, old
            prop.name = new

    def page_json(self, page_id: str) -> dict[str, Any]:
        """The page object as the API would return it."""
        with self._lock:
            return self._page_json(self._page(_dashed(page_id)))

    def values(self, page_id: str) -> dict[str, Any]:
        """A row's properties as simple Python values (plain text, bool, names, dates)."""
        with self._lock:
            return self._simple_values(self._page(_dashed(page_id)))

    def table(self, database_or_source: str, *, trashed: bool = False) -> list[dict[str, Any]]:
        """All live rows (or, with ``trashed``, all rows) as simple dicts, oldest first.

        Each dict also holds ``_id``, ``_trashed`` and ``_edited`` (the rounded time).
        """
        with self._lock:
            source = self._source_of(_dashed(database_or_source))
            rows = [p for p in self._pages.values()
                    if p.parent_ds == source.id and (trashed or not p.in_trash)]
            # Oldest first; rows made in the same (rounded) minute in the order they were
            # made, not by their random ids, so a test picking "the n-th row" picks the same
            # one when Hypothesis replays it.
            rows.sort(key=lambda p: p.created)
            out = []
            for page in rows:
                simple = self._simple_values(page)
                simple.update(_id=page.id, _trashed=page.in_trash, _edited=page.edited)
                out.append(simple)
            return out

    def rich_text(self, page_id: str, prop: str) -> list[dict[str, Any]]:
        """The raw rich-text items of a title/rich_text property."""
        with self._lock:
            page = self._page(_dashed(page_id))
            assert page.parent_ds is not None
            source = self._sources[page.parent_ds]
            found = source.by_name_or_id(prop)
            assert found is not None, prop
            return list(page.values.get(found.id, []))

    # ----------------------------------------------------------------- model internals
    def _page(self, page_id: str) -> _Page:
        page = self._pages.get(page_id)
        if page is None or not page.shared:
            raise ApiError(404, "object_not_found",
                           f"Could not find page with ID: {page_id}. Make sure the relevant pages "
                           f"and databases are shared with your integration \"{INTEGRATION}\".")
        return page

    def _database(self, database_id: str) -> _Database:
        db = self._databases.get(database_id)
        if db is None or not db.shared:
            raise ApiError(404, "object_not_found",
                           f"Could not find database with ID: {database_id}. Make sure the "
                           f"relevant pages and databases are shared with your integration "
                           f"\"{INTEGRATION}\".")
        return db

    def _source(self, source_id: str) -> _DataSource:
        source = self._sources.get(source_id)
        if source is None or not self._databases[source.database_id].shared:
            raise ApiError(404, "object_not_found",
                           f"Could not find data source with ID: {source_id}. Make sure the "
                           f"relevant pages and databases are shared with your integration "
                           f"\"{INTEGRATION}\".")
        return source

    def _source_of(self, some_id: str) -> _DataSource:
        if some_id in self._databases:
            return self._sources[self._databases[some_id].data_sources[0]]
        return self._sources[some_id]

    def _prop_id(self, source: _DataSource) -> str:
        taken = {p.id for p in source.props}
        while True:
            raw = "".join(self._random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl%3F")
                          for _ in range(4))
            if raw not in taken:
                return raw

    def _schema_entry(self, source: _DataSource, name: str, spec: Any, where: str) -> _Prop:
        if not isinstance(spec, dict):
            raise _validation(f"body failed validation: {where} should be an object.")
        kinds = [k for k in spec if k in _TYPES]
        kind = spec.get("type") or (kinds[0] if kinds else None)
        if kind not in _TYPES:
            raise _validation(f"body failed validation: {where} should define a property type.")
        config = spec.get(kind) or {}
        if kind == "status":
            config = _status_config(config)
        elif kind in ("select", "multi_select"):
            options = []
            for option in config.get("options", []):
                options.append({"id": _new_id(), "name": option["name"],
                                "color": option.get("color", "default"), "description": None})
            config = {"options": options}
        return _Prop("title" if kind == "title" else self._prop_id(source), name, kind, config)

    def _create_database(self, parent_page: str, title: str,
                         schema: Mapping[str, Any]) -> _Database:
        self._page(parent_page)
        now = self.clock.now()
        db = _Database(_new_id(), parent_page, title, [], now)
        source = _DataSource(_new_id(), db.id, title, [], _minute(now), _minute(now))
        for name, spec in schema.items():
            source.props.append(self._schema_entry(
                source, name, spec, f"body.initial_data_source.properties.{name}"))
        titles = [p for p in source.props if p.type == "title"]
        if len(titles) != 1:
            raise _validation("body failed validation: a data source needs exactly one title "
                              f"property, instead had {len(titles)}.")
        db.data_sources.append(source.id)
        self._databases[db.id] = db
        self._sources[source.id] = source
        return db

    def _empty_value(self, prop: _Prop, page: _Page) -> Any:
        if prop.type in ("title", "rich_text", "multi_select"):
            return []
        if prop.type == "checkbox":
            return False
        if prop.type == "created_time":
            return _iso(page.created)
        if prop.type == "last_edited_time":
            return _iso(page.edited)
        return None

    def _rich_text(self, items: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            raise _validation(f"body failed validation: {where} should be an array, "
                              f"instead was `{json.dumps(items)}`.")
        if len(items) > 100:
            raise _validation(f"body failed validation: {where}.length should be ≤ `100`, "
                              f"instead was `{len(items)}`.")
        out = []
        for index, item in enumerate(items):
            here = f"{where}[{index}]"
            text = item.get("text") if isinstance(item, dict) else None
            if not isinstance(text, dict) or not isinstance(text.get("content"), str):
                raise _validation(f"body failed validation: {here}.text.content should be "
                                  "defined, instead was `undefined`.")
            content = text["content"]
            if _utf16_len(content) > 2000:
                raise _validation(f"body failed validation: {here}.text.content.length should "
                                  f"be ≤ `2000`, instead was `{_utf16_len(content)}`.")
            link = text.get("link")
            url = None
            if link is not None:
                url = link.get("url") if isinstance(link, dict) else None
                if not isinstance(url, str) or not _URL_SCHEME.match(url):
                    raise _validation(f"Invalid URL for link in {here}.text.link.url.")
                if _utf16_len(url) > 2000:
                    raise _validation(f"body failed validation: {here}.text.link.url.length "
                                      f"should be ≤ `2000`, instead was `{_utf16_len(url)}`.")
            given = item.get("annotations") or {}
            annotations = {"bold": False, "italic": False, "strikethrough": False,
                           "underline": False, "code": False, "color": "default"}
            for key in annotations:
                if key in given:
                    annotations[key] = given[key]
            out.append({"type": "text", "text": {"content": content,
                                                 "link": None if url is None else {"url": url}},
                        "annotations": annotations, "plain_text": content, "href": url})
        return out

    def _option(self, prop: _Prop, choice: Any, where: str) -> dict[str, Any]:
        if not isinstance(choice, dict) or not isinstance(choice.get("name", choice.get("id")),
                                                          str):
            raise _validation(f"body failed validation: {where} should be an object with a "
                              "name or an id.")
        options = prop.config.setdefault("options", [])
        for option in options:
            if option["name"] == choice.get("name") or option["id"] == choice.get("id"):
                return {"id": option["id"], "name": option["name"], "color": option["color"]}
        name = choice.get("name")
        if prop.type == "status":
            # The API cannot add status options by writing a value (only the UI can).
            raise _validation(f"Invalid status option. Status option \"{name}\" does not exist.")
        if name is None:
            raise _validation(f"{where}: no select option with id {choice.get('id')}.")
        if "," in name:
            raise _validation(f"{where}.name: select option names cannot contain commas.")
        if _utf16_len(name) > 100:
            raise _validation(f"body failed validation: {where}.name.length should be ≤ `100`, "
                              f"instead was `{_utf16_len(name)}`.")
        option = {"id": _new_id(), "name": name, "color": "default", "description": None}
        options.append(option)
        return {"id": option["id"], "name": name, "color": "default"}

    def _value(self, prop: _Prop, raw: Any, where: str) -> Any:
        if not isinstance(raw, dict):
            raise _validation(f"body failed validation: {where} should be an object.")
        if "type" in raw and raw["type"] != prop.type:
            raise _validation(f"{prop.name} is expected to be {prop.type}.")
        if prop.type not in raw:
            raise _validation(f"{prop.name} is expected to be {prop.type}.")
        value = raw[prop.type]
        kind = prop.type
        if kind in _READ_ONLY:
            raise _validation(f"{prop.name} is a read-only property ({kind}).")
        if kind in ("title", "rich_text"):
            return self._rich_text(value, f"{where}.{kind}")
        if kind == "checkbox":
            if not isinstance(value, bool):
                raise _validation(f"body failed validation: {where}.checkbox should be a boolean, "
                                  f"instead was `{json.dumps(value)}`.")
            return value
        if kind in ("select", "status"):
            return None if value is None else self._option(prop, value, f"{where}.{kind}")
        if kind == "multi_select":
            if not isinstance(value, list):
                raise _validation(f"body failed validation: {where}.multi_select should be an "
                                  "array.")
            if len(value) > 100:
                raise _validation(f"body failed validation: {where}.multi_select.length should "
                                  f"be ≤ `100`, instead was `{len(value)}`.")
            return [self._option(prop, choice, f"{where}.multi_select[{i}]")
                    for i, choice in enumerate(value)]
        if kind == "date":
            if value is None:
                return None
            if not isinstance(value, dict):
                raise _validation(f"body failed validation: {where}.date should be an object.")
            start = value.get("start")
            _parse_when(start, f"{where}.date.start")
            end = value.get("end")
            if end is not None:
                _parse_when(end, f"{where}.date.end")
            return {"start": start, "end": end, "time_zone": value.get("time_zone")}
        if kind == "url":
            if value is None:
                return None
            if not isinstance(value, str) or _utf16_len(value) > 2000:
                raise _validation(f"body failed validation: {where}.url should be a string of "
                                  "at most 2000 characters.")
            return value
        if kind == "number":
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int | float)):
                raise _validation(f"body failed validation: {where}.number should be a number.")
            return value
        raise _validation(f"{prop.name}: unsupported property type {kind}.")  # pragma: no cover

    def _write_props(self, source: _DataSource, page: _Page, props: Any, where: str) -> None:
        if not isinstance(props, dict):
            raise _validation(f"body failed validation: {where} should be an object.")
        staged: dict[str, Any] = {}
        for key, raw in props.items():
            prop = source.by_name_or_id(key)
            if prop is None:
                raise _validation(f"{key} is not a property that exists.")
            staged[prop.id] = self._value(prop, raw, f"{where}.{key}")
        page.values.update(staged)  # all or nothing, like the real API

    def _create_row(self, source: _DataSource, props: Any) -> _Page:
        now = _minute(self.clock.now())
        page = _Page(_new_id(), now, now, source.id, {})
        self._write_props(source, page, props, "body.properties")
        self._pages[page.id] = page
        return page

    def _simple_to_request(self, source: _DataSource, name: str, value: Any) -> Any:
        prop = source.by_name_or_id(name)
        if prop is None or isinstance(value, dict):
            return value
        if prop.type in ("title", "rich_text"):
            return {prop.type: [{"text": {"content": str(value)}}]}
        if prop.type in ("select", "status"):
            return {prop.type: None if value is None else {"name": value}}
        if prop.type == "multi_select":
            return {"multi_select": [{"name": v} for v in value]}
        if prop.type == "date":
            return {"date": None if value is None else {"start": value}}
        return {prop.type: value}

    def _simple_values(self, page: _Page) -> dict[str, Any]:
        assert page.parent_ds is not None
        out: dict[str, Any] = {}
        for prop in self._sources[page.parent_ds].props:
            value = page.values.get(prop.id, self._empty_value(prop, page))
            if prop.type in ("title", "rich_text"):
                out[prop.name] = "".join(item["plain_text"] for item in value)
            elif prop.type in ("select", "status"):
                out[prop.name] = None if value is None else value["name"]
            elif prop.type == "multi_select":
                out[prop.name] = [v["name"] for v in value]
            elif prop.type == "date":
                out[prop.name] = None if value is None else value["start"]
            else:
                out[prop.name] = value
        return out

    def _page_json(self, page: _Page) -> dict[str, Any]:
        user = {"object": "user", "id": "c0ffee00-0000-4000-8000-000000000001"}
        properties: dict[str, Any] = {}
        if page.parent_ds is None:
            parent: dict[str, Any] = {"type": "workspace", "workspace": True}
            properties["title"] = {"id": "title", "type": "title",
                                   "title": self._rich_text([{"text": {"content": page.title}}],
                                                            "title")}
            slug = page.title
        else:
            source = self._sources[page.parent_ds]
            parent = {"type": "data_source_id", "data_source_id": source.id,
                      "database_id": source.database_id}
            for prop in source.props:
                value = page.values.get(prop.id, self._empty_value(prop, page))
                if prop.type == "last_edited_time":
                    value = _iso(page.edited)
                properties[prop.name] = {"id": prop.id, "type": prop.type,
                                         prop.type: value}  # stored values are never mutated
            slug = "".join(i["plain_text"] for i in
                           page.values.get(source.title_prop().id, []))
        slug = re.sub(r"[^A-Za-z0-9]+", "-", slug).strip("-")
        hexid = page.id.replace("-", "")
        return {"object": "page", "id": page.id, "created_time": _iso(page.created),
                "last_edited_time": _iso(page.edited), "created_by": user,
                "last_edited_by": user, "cover": None, "icon": None, "parent": parent,
                "in_trash": page.in_trash, "is_archived": False, "is_locked": False,
                "properties": properties,
                "url": f"https://www.notion.so/{slug + '-' if slug else ''}{hexid}",
                "public_url": None, "archived": page.in_trash}

    def _database_json(self, db: _Database) -> dict[str, Any]:
        stamp = db.created.astimezone(UTC).isoformat(timespec="milliseconds")
        return {"object": "database", "id": db.id,
                "title": self._rich_text([{"text": {"content": db.title}}], "title"),
                "description": [], "parent": {"type": "page_id", "page_id": db.parent_page},
                "is_inline": False, "in_trash": db.in_trash, "is_locked": False,
                "created_time": stamp, "last_edited_time": stamp,
                "data_sources": [{"id": s, "name": self._sources[s].title}
                                 for s in db.data_sources],
                "icon": None, "cover": None,
                "url": f"https://www.notion.so/{db.id.replace('-', '')}", "public_url": None}

    def _source_json(self, source: _DataSource) -> dict[str, Any]:
        db = self._databases[source.database_id]
        user = {"object": "user", "id": "c0ffee00-0000-4000-8000-000000000001"}
        return {"object": "data_source", "id": source.id, "cover": None, "icon": None,
                "created_time": _iso(source.created), "created_by": user,
                "last_edited_by": user, "last_edited_time": _iso(source.edited),
                "title": self._rich_text([{"text": {"content": source.title}}], "title"),
                "description": [], "is_inline": False,
                "properties": {p.name: p.as_json() for p in source.props},
                "parent": {"type": "database_id", "database_id": db.id},
                "database_parent": {"type": "page_id", "page_id": db.parent_page},
                "url": f"https://www.notion.so/{db.id.replace('-', '')}", "public_url": None,
                "in_trash": source.in_trash, "archived": source.in_trash}

    # ----------------------------------------------------------------- query
    def _matches(self, source: _DataSource, page: _Page, flt: Any, depth: int = 0) -> bool:
        if not isinstance(flt, dict):
            raise _validation("body failed validation: body.filter should be an object.")
        if "and" in flt or "or" in flt:
            if depth >= 2:
                raise _validation("body failed validation: filters nest at most two levels.")
            parts = flt.get("and", flt.get("or"))
            results = [self._matches(source, page, part, depth + 1) for part in parts]
            return all(results) if "and" in flt else any(results)
        if "timestamp" in flt:
            stamp = flt["timestamp"]
            if stamp not in ("created_time", "last_edited_time"):
                raise _validation(f"body failed validation: body.filter.timestamp should be "
                                  f"created_time or last_edited_time, instead was `{stamp}`.")
            moment = page.created if stamp == "created_time" else page.edited
            return self._date_condition(moment, flt.get(stamp), "body.filter")
        key = flt.get("property")
        prop = source.by_name_or_id(key) if isinstance(key, str) else None
        if prop is None:
            raise _validation(f"Could not find property with name or id: {key}")
        kind = prop.type
        if kind not in flt:
            raise _validation(f"body failed validation: body.filter.{kind} should be defined, "
                              "instead was `undefined`.")
        cond = flt[kind]
        value = page.values.get(prop.id, self._empty_value(prop, page))
        if kind in ("title", "rich_text"):
            text = "".join(item["plain_text"] for item in value)
            tests: dict[str, Callable[[Any], bool]] = {
                "equals": lambda v: text == v, "does_not_equal": lambda v: text != v,
                "contains": lambda v: v in text, "does_not_contain": lambda v: v not in text,
                "starts_with": lambda v: text.startswith(v),
                "ends_with": lambda v: text.endswith(v),
                "is_empty": lambda v: text == "", "is_not_empty": lambda v: text != ""}
        elif kind == "checkbox":
            tests = {"equals": lambda v: value is v, "does_not_equal": lambda v: value is not v}
        elif kind in ("select", "status"):
            name = None if value is None else value["name"]
            tests = {"equals": lambda v: name == v, "does_not_equal": lambda v: name != v,
                     "is_empty": lambda v: name is None, "is_not_empty": lambda v: name is not None}
        elif kind == "multi_select":
            names = [v["name"] for v in value]
            tests = {"contains": lambda v: v in names, "does_not_contain": lambda v: v not in names,
                     "is_empty": lambda v: not names, "is_not_empty": lambda v: bool(names)}
        elif kind == "date":
            if value is None:
                return bool(cond.get("is_empty"))
            return self._date_condition(_parse_when(value["start"], "date"), cond, "body.filter")
        else:
            raise _validation(f"body failed validation: filtering on {kind} is not supported "
                              "by this fake.")
        if not isinstance(cond, dict) or len(cond) != 1 or next(iter(cond)) not in tests:
            raise _validation(f"body failed validation: body.filter.{kind} should have exactly "
                              f"one of {sorted(tests)}.")
        (op, operand), = cond.items()
        return tests[op](operand)

    def _date_condition(self, moment: datetime, cond: Any, where: str) -> bool:
        if not isinstance(cond, dict) or len(cond) != 1:
            raise _validation(f"body failed validation: {where} date condition should have "
                              "exactly one key.")
        (op, operand), = cond.items()
        if op in ("is_empty", "is_not_empty"):
            return op == "is_not_empty"
        when = _parse_when(operand, f"{where}.{op}")
        checks = {"equals": moment == when, "before": moment < when, "after": moment > when,
                  "on_or_before": moment <= when, "on_or_after": moment >= when}
        if op not in checks:
            raise _validation(f"body failed validation: unsupported date condition {op}.")
        return checks[op]

    def _sort_key(self, source: _DataSource, page: _Page, sort: Any) -> Any:
        if "timestamp" in sort:
            return page.created if sort["timestamp"] == "created_time" else page.edited
        prop = source.by_name_or_id(sort.get("property", ""))
        if prop is None:
            raise _validation(f"Could not find sort property with name or id: "
                              f"{sort.get('property')}")
        value = page.values.get(prop.id, self._empty_value(prop, page))
        if prop.type in ("title", "rich_text"):
            return "".join(item["plain_text"] for item in value)
        if prop.type in ("select", "status"):
            return "" if value is None else value["name"]
        if prop.type == "date":
            return "" if value is None else value["start"]
        if prop.type == "multi_select":
            return ",".join(v["name"] for v in value)
        return value if value is not None else 0

    def _query(self, source_id: str, body: dict[str, Any]) -> dict[str, Any]:
        source = self._source(source_id)
        page_size = body.get("page_size", 100)
        if not isinstance(page_size, int) or not 1 <= page_size <= 100:
            raise _validation(f"body failed validation: body.page_size should be ≤ `100`, "
                              f"instead was `{page_size}`.")
        trash = body.get("in_trash", body.get("archived"))
        fingerprint = json.dumps([source.id, body.get("filter"), body.get("sorts"), trash],
                                 sort_keys=True)
        start = 0
        cursor = body.get("start_cursor")
        if cursor is not None:
            known = self._cursors.get(cursor)
            if known is None or known[0] != fingerprint:
                raise _validation("body failed validation: body.start_cursor should be a valid "
                                  "cursor for this query.")
            start = known[1]
        rows = [p for p in self._pages.values() if p.parent_ds == source.id]
        if trash is None:
            mode = self.trash_default
            rows = [p for p in rows if mode == "all" or p.in_trash == (mode == "trashed")]
        else:
            rows = [p for p in rows if p.in_trash == bool(trash)]
        if "filter" in body and body["filter"] is not None:
            # Validate the filter even when no row would be tested against it, as Notion does.
            probe = _Page("probe", self.clock.now(), self.clock.now(), source.id, {})
            self._matches(source, probe, body["filter"])
            rows = [p for p in rows if self._matches(source, p, body["filter"])]
        # Observed default order: most recently created first.
        rows.sort(key=lambda p: (p.created, p.id), reverse=True)
        for sort in reversed(body.get("sorts") or []):
            rows.sort(key=lambda p, s=sort: self._sort_key(source, p, s),  # type: ignore[misc]
                      reverse=sort.get("direction") == "descending")
        size = min(page_size, self.page_cap or page_size)
        chunk = rows[start:start + size]
        more = start + size < len(rows)
        next_cursor = None
        if more:
            next_cursor = f"s:{source.id}:{_new_id()}"
            self._cursors[next_cursor] = (fingerprint, start + size)
        return {"object": "list", "results": [self._page_json(p) for p in chunk],
                "next_cursor": next_cursor, "has_more": more, "type": "page_or_data_source",
                "page_or_data_source": {}}

    # ----------------------------------------------------------------- routes
    def _route(self, method: str, parts: list[str], body: Any) -> dict[str, Any]:
        """Dispatch one authenticated request; returns the JSON answer (without request_id)."""
        body = body if isinstance(body, dict) else {}
        with self._lock:
            if parts == ["pages"] and method == "POST":
                return self._create_page(body)
            if parts == ["databases"] and method == "POST":
                return self._post_database(body)
            if len(parts) >= 2:
                oid = self._object_id(parts[0], parts[1])
                if parts[0] == "pages" and len(parts) == 2:
                    if method == "GET":
                        return self._page_json(self._page(oid))
                    if method == "PATCH":
                        return self._patch_page(self._page(oid), body)
                if parts[0] == "blocks" and len(parts) == 2 and method == "DELETE":
                    page = self._page(oid)
                    page.in_trash = True
                    page.edited = _minute(self.clock.now())
                    out = self._page_json(page)
                    out.update(object="block", type="child_page", has_children=False)
                    return out
                if parts[0] == "databases" and len(parts) == 2:
                    if method == "GET":
                        return self._database_json(self._database(oid))
                    if method == "PATCH":
                        db = self._database(oid)
                        if "title" in body:
                            db.title = "".join(i["plain_text"] for i in
                                               self._rich_text(body["title"], "body.title"))
                        if "in_trash" in body:
                            db.in_trash = bool(body["in_trash"])
                        return self._database_json(db)
                if parts[0] == "data_sources":
                    if len(parts) == 2 and method == "GET":
                        return self._source_json(self._source(oid))
                    if len(parts) == 2 and method == "PATCH":
                        return self._patch_source(self._source(oid), body)
                    if len(parts) == 3 and parts[2] == "query" and method == "POST":
                        return self._query(oid, body)
        raise ApiError(400, "invalid_request_url", "Invalid request URL.")

    def _object_id(self, kind: str, raw: str) -> str:
        if not _UUID_RE.match(raw):
            field_name = {"pages": "page_id", "databases": "database_id",
                          "data_sources": "data_source_id", "blocks": "block_id"}.get(kind, "id")
            raise _validation(f"path failed validation: path.{field_name} should be a valid uuid, "
                              f"instead was `\"{raw}\"`.")
        return _dashed(raw)

    def _create_page(self, body: dict[str, Any]) -> dict[str, Any]:
        parent = body.get("parent")
        if not isinstance(parent, dict):
            raise _validation("body failed validation: body.parent should be defined, instead "
                              "was `undefined`.")
        if "data_source_id" in parent:
            source = self._source(self._object_id("data_sources", str(parent["data_source_id"])))
        elif "database_id" in parent:
            db = self._database(self._object_id("databases", str(parent["database_id"])))
            if len(db.data_sources) != 1:
                raise _validation("Databases with multiple data sources are not supported in "
                                  "this API version.")
            source = self._sources[db.data_sources[0]]
        elif "page_id" in parent:
            self._page(self._object_id("pages", str(parent["page_id"])))
            now = _minute(self.clock.now())
            props = body.get("properties") or {}
            title = props.get("title", {}).get("title", [])
            text = "".join(i["plain_text"] for i in self._rich_text(title, "body.properties"))
            page = _Page(_new_id(), now, now, None, {}, title=text)
            self._pages[page.id] = page
            return self._page_json(page)
        else:
            raise _validation("body failed validation: body.parent should have a data_source_id, "
                              "database_id or page_id.")
        return self._page_json(self._create_row(source, body.get("properties") or {}))

    def _patch_page(self, page: _Page, body: dict[str, Any]) -> dict[str, Any]:
        trash = body.get("in_trash", body.get("archived"))
        props = body.get("properties")
        if page.in_trash and trash is not False and props:
            raise _validation("Can't edit block that is archived. You must unarchive the block "
                              "before editing.")
        if props:
            if page.parent_ds is None:
                raise _validation("body failed validation: this page has no database properties.")
            self._write_props(self._sources[page.parent_ds], page, props, "body.properties")
        if trash is not None:
            page.in_trash = bool(trash)
        page.edited = _minute(self.clock.now())
        return self._page_json(page)

    def _post_database(self, body: dict[str, Any]) -> dict[str, Any]:
        parent = body.get("parent")
        if not isinstance(parent, dict) or "page_id" not in parent:
            raise _validation("body failed validation: body.parent.page_id should be defined, "
                              "instead was `undefined`.")
        parent_id = self._object_id("pages", str(parent["page_id"]))
        title = "".join(i["plain_text"] for i in self._rich_text(body.get("title", []),
                                                                 "body.title"))
        initial = body.get("initial_data_source") or {}
        schema = initial.get("properties") or {"Name": {"title": {}}}
        db = self._create_database(parent_id, title, schema)
        return self._database_json(db)

    def _patch_source(self, source: _DataSource, body: dict[str, Any]) -> dict[str, Any]:
        props = body.get("properties")
        if props is not None and not isinstance(props, dict):
            raise _validation("body failed validation: body.properties should be an object.")
        for key, spec in (props or {}).items():
            where = f"body.properties.{key}"
            existing = source.by_name_or_id(key)
            if spec is None:
                if existing is None:
                    raise _validation(f"{key} is not a property that exists.")
                if existing.type == "title":
                    raise _validation("Cannot delete the title property.")
                source.props.remove(existing)
                continue
            if not isinstance(spec, dict):
                raise _validation(f"body failed validation: {where} should be an object or null.")
            new_name = spec.get("name")
            has_type = any(k in _TYPES for k in spec) or "type" in spec
            if existing is None:
                if not has_type:
                    raise _validation(f"{key} is not a property that exists.")
                entry = self._schema_entry(source, str(new_name or key), spec, where)
                if entry.type == "title":
                    raise _validation("A data source can have only one title property.")
                source.props.append(entry)
                continue
            if has_type:
                entry = self._schema_entry(source, existing.name, spec, where)
                if (entry.type == "title") != (existing.type == "title"):
                    raise _validation("Cannot change the type of the title property.")
                existing.type, existing.config = entry.type, entry.config
            if isinstance(new_name, str) and new_name != existing.name:
                taken = {p.name for p in source.props}
                candidate, n = new_name, 1
                while candidate in taken:  # observed: Notion de-duplicates ("X" -> "X 1")
                    candidate = f"{new_name} {n}"
                    n += 1
                existing.name = candidate
        if "title" in body:
            source.title = "".join(i["plain_text"] for i in self._rich_text(body["title"],
                                                                            "body.title"))
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None:  # observed: archived:true answers archived and in_trash true
            source.in_trash = bool(trash)
        source.edited = _minute(self.clock.now())
        return self._source_json(source)


def _route_template(path: str) -> tuple[str, list[str]]:
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] != "v1":
        return path, []
    rest = parts[1:]
    template = ["v1"] + [("{id}" if i == 1 else p) for i, p in enumerate(rest)]
    return "/" + "/".join(template), rest


class _Handler(FakeHandler):
    owner: FakeNotion
    server_version = "FakeNotion/1"

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the fake clock, as a real server's follows its own.
        from email.utils import format_datetime
        return format_datetime(self.owner.clock.now(), usegmt=True)

    def handle_request(self, method: str) -> None:
        fake = self.owner
        raw = self.read_body()
        path = urlsplit(self.path).path
        template, parts = _route_template(path)
        route = f"{method} {template}"
        body: Any = None
        fake.count_request(route)
        request_id = _new_id()
        try:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "invalid_json", "Error parsing JSON body.") from None
            with fake._lock:
                fake.log.append((method, path, body))
            auth = self.headers.get("Authorization", "")
            if auth != f"Bearer {fake.token}":
                raise ApiError(401, "unauthorized", "API token is invalid.")
            version = self.headers.get("Notion-Version")
            if not version:
                raise ApiError(400, "missing_version",
                               "Notion-Version header failed validation: Notion-Version header "
                               "should be defined, instead was `undefined`.")
            if parts[:1] == ["data_sources"] and version < API_VERSION:
                raise ApiError(400, "invalid_request_url", "Invalid request URL.")
            fault = fake.next_fault(method, template)
            if fault is not None and self._serve_fault(fault, method, parts, body, request_id):
                return
            fake.run_before(route, path, body)
            answer = fake._route(method, parts, body)
            if fault is not None and fault.kind == "slow":
                # The work is done, the answer is late: a client that times out must not
                # assume the write did not happen.
                fake._stopping.wait(fault.delay)
            answer["request_id"] = request_id
            self._send_json(200, answer, request_id)
        except ApiError as error:
            envelope: dict[str, Any] = {"object": "error", "status": error.status,
                                        "code": error.code, "message": error.message}
            if error.additional_data:
                envelope["additional_data"] = error.additional_data
            envelope["request_id"] = request_id
            self._send_json(error.status, envelope, request_id, error.headers)

    def _serve_fault(self, fault: Fault, method: str, parts: list[str], body: Any,
                     request_id: str) -> bool:
        """Answer with ``fault``; False when the request should then proceed normally."""
        fake = self.owner
        kind = fault.kind
        if kind == "slow":
            return False  # answered late by the caller, after the request was applied
        if kind in ("drop", "drop_after"):
            if kind == "drop_after":
                with contextlib.suppress(ApiError):
                    fake._route(method, parts, body)
            self.drop_connection()
            return True
        if kind == "502":
            html = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare"
                    b"</center>\r\n</body>\r\n</html>\r\n")
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)
            return True
        errors = {
            "429": ApiError(429, "rate_limited", "You have been rate limited. Please try again "
                            "in a few minutes.", {"Retry-After": fault.retry_after},
                            {"rate_limit_reason": "public_api_request_rate_limit"}),
            "403": ApiError(403, "restricted_resource", "Insufficient permissions for this "
                            "endpoint."),
            "409": ApiError(409, "conflict_error", "Conflict occurred while saving. Please try "
                            "again."),
            "500": ApiError(500, "internal_server_error", "Unexpected error occurred."),
            "503": ApiError(503, "service_unavailable", "Notion is unavailable, please try again "
                            "later."),
            "504": ApiError(504, "gateway_timeout", "Gateway timed out."),
            "529": ApiError(529, "service_overload", "Notion is overloaded, please try again "
                            "later."),
        }
        raise errors[kind]

    def _send_json(self, status: int, payload: Mapping[str, Any], request_id: str,
                   headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-notion-request-id", request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


FakeNotion.handler = _Handler


@contextlib.contextmanager
def running(**options: Any) -> Iterator[FakeNotion]:
    """``with running(page_cap=3) as fake:`` — a started FakeNotion."""
    with FakeNotion(**options) as fake:
        yield fake


# --------------------------------------------------------------------------------------------
# Helpers for tests that drive vaultmap's adapter against the fake (imported lazily, so the
# fake itself stays independent of vaultmap).

_STATUS_TYPES = {" ": "todo", "x": "done", "X": "done", "/": "doing", "-": "cancelled"}


def fast_options(**overrides: Any) -> Any:
    """``NotionOptions`` for tests: no pacing, tiny backoff, short timeout."""
    from vaultmap.sync.notion import NotionOptions

    settings: dict[str, Any] = {"requests_per_second": 0, "timeout": 2.0, "max_attempts": 6,
                                "backoff": 0.001, "backoff_max": 0.01}
    settings.update(overrides)
    return NotionOptions(**settings)


def record(key: str, text: str = "Buy milk", status: str = " ", **fields: Any) -> Any:
    """A vault-side ``TaskRecord`` with sensible defaults."""
    from vaultmap.sync.remote import TaskRecord

    fields.setdefault("note", "Projects/Home.md")
    return TaskRecord(key=key, status=status, status_type=_STATUS_TYPES.get(status, "other"),
                      text=text, **fields)


def remote_for(fake: FakeNotion, *, options: Any = None, **kwargs: Any) -> Any:
    """A ``NotionRemote`` talking to ``fake`` at test speed."""
    from vaultmap.sync.notion import NotionRemote

    kwargs.setdefault("vault_name", "My Vault")
    return NotionRemote(fake.token, base_url=fake.base_url,
                        options=options or fast_options(), **kwargs)


def new_database(fake: FakeNotion, **kwargs: Any) -> Any:
    """A ``NotionRemote`` bound to a fresh database created through the adapter itself."""
    remote = remote_for(fake, **kwargs)
    remote.create_database(fake.add_page("Home"), "Tasks")
    return remote
