"""The Notion remote: one row per task in a Notion database (API 2025-09-03).

All HTTP goes through the official ``notion_client.Client``; this package adds what the SDK
leaves out: pacing (about 3 requests a second), retries with backoff for
429 (honouring ``Retry-After``), 409, 5xx, 529, timeouts and dropped connections, a create that
never duplicates (after an ambiguous failure the Key is looked up before trying again), and
errors a person can act on. The token lives only inside the SDK client; it never appears in a
message, a log line or a ``repr``.

Usage::

    remote = NotionRemote.from_settings(settings)          # token from $NOTION_TOKEN
    database_id = remote.create_database(parent_page, "Tasks")   # or remote.link_database(id)
    snap = remote.snapshot(None)                            # every live row
    row = remote.create(record)
    remote.update(row.remote_id, record, content=False)     # status only
    remote.trash(row.remote_id)

Decisions (see also :func:`status_type_from`):

* The title column is whatever the database's title property is called; ``link_database``
  uses an existing title property under its own name rather than renaming a person's column.
* Only the title, Key and Done properties are required. Any other configured property that is
  missing from the database is simply not written, so a person may delete columns they do not
  want. A present property of the wrong type is refused (:class:`RemoteSchemaError`).
* Status may be a select (vaultmap's own databases: Todo, Doing, Done, Cancelled, Other; an
  option is added when first written) or Notion's own "status" type in a linked database,
  whose existing options are used (a type with no option of its own leaves it unchanged).
* The Key is matched exactly; a row whose Key is empty was made by a person (``key`` None).
* ``snapshot`` reads live rows with one paginated query. Rows trashed in Notion are found with
  ``snapshot(since, include_trashed=True)`` (one more query) or one by one with
  :meth:`NotionRemote.retrieve`; updating a trashed row raises :class:`RemoteGoneError`.
* ``RemoteRow.content_hash`` is ``TaskRecord.content_hash()`` of the record rebuilt from the
  row's properties (title rendered back to Markdown). For plain text, bold, italic, strike,
  code and links this equals the vault record's hash; wiki links are written as their text, so
  compare a row against the hash of the row returned by the last create/update (or
  :meth:`NotionRemote.expected_hash`), not against the vault record.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from vaultmap.config import NOTION_PROPERTY_DEFAULTS, Settings
from vaultmap.errors import ConfigError
from vaultmap.model import DEFAULT_STATUS_MAP, StatusMap, StatusType
from vaultmap.sync.notion.http import (
    BASE_URL_ENV,
    NotionHttp,
    NotionOptions,
    _json_object,
    _may_have_applied,
    check_token,
)
from vaultmap.sync.notion.ids import (
    _BARE_ID,
    _checked_id,
    parse_notion_id,
)
from vaultmap.sync.notion.rows import (
    _excerpt,
    _parse_time,
    _value,
    decoded_row,
    key_from_text,
    key_text,
    property_value,
    record_properties,
)
from vaultmap.sync.notion.schema import (
    ALSO_ACCEPTED,
    REQUIRED_ROLES,
    ROLE_TYPES,
    Schema,
    property_configs,
    resolve_schema,
)
from vaultmap.sync.notion.status import (
    _NAME_TO_TYPE,
    _named_type,
    status_fields,
    status_type_from,
)
from vaultmap.sync.notion.text import (
    plain_rich_text,
    plain_text,
)
from vaultmap.sync.remote import (
    AgreedStatus,
    ContentField,
    Remote,
    RemoteAuthError,
    RemoteError,
    RemoteGoneError,
    RemoteRow,
    RemoteSchemaError,
    RemoteSnapshot,
    RemoteUnavailableError,
    TaskRecord,
)

# Notion rounds edit times down to the minute; an incremental query looks back this far.
EDIT_TIME_SLACK = timedelta(minutes=2)
# The name under which the data source id is cached between syncs (kept in the sync state
# as "data_source:<database id>").
_DATA_SOURCE = "data_source"

log = logging.getLogger("vaultmap.notion")


class NotionRemote(NotionHttp, Remote):
    """A :class:`~vaultmap.sync.remote.Remote` backed by one Notion database."""

    name = "notion"

    def __init__(
        self,
        token: str,
        *,
        database_id: str = "",
        properties: Mapping[str, str] = NOTION_PROPERTY_DEFAULTS,
        vault_name: str = "",
        base_url: str | None = None,
        options: NotionOptions | None = None,
        statuses: StatusMap = DEFAULT_STATUS_MAP,
        token_env: str = "NOTION_TOKEN",
        data_source_id: str = "",
        agreed_status: Callable[[str], AgreedStatus | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        if not token:
            raise RemoteAuthError(f"no Notion token: set ${token_env} to your integration's "
                                  "secret (Notion → Settings → Connections → Develop)")
        check_token(token, token_env)
        self.database_id = parse_notion_id(database_id, what="database") if database_id else ""
        self.data_source_id = self._given_source = data_source_id
        self.properties = {role: properties.get(role, default)
                           for role, default in NOTION_PROPERTY_DEFAULTS.items()}
        seen: dict[str, str] = {}
        for role, name in self.properties.items():
            if name in seen:
                raise ConfigError(f"[notion.properties] {seen[name]} and {role} both name the "
                                  f"property {name!r}; each needs a column of its own")
            seen[name] = role
        self.vault_name = vault_name
        self.statuses = statuses
        #: remote_id -> the status character both sides agreed on (set by the runner; lets
        #: :func:`status_type_from` tell which of Done / Status a person changed).
        self.agreed_status = agreed_status
        self._clock = clock
        super().__init__(token, base_url=base_url, options=options or NotionOptions(),
                         token_env=token_env, sleep=sleep, on_wait=on_wait)
        self._schema: Schema | None = None
        self._read_columns: dict[str, tuple[bool | None, str | None]] = {}

    # -------------------------------------------------------------- construction
    @classmethod
    def from_settings(cls, settings: Settings, *, environ: Mapping[str, str] | None = None,
                      vault_name: str | None = None, options: NotionOptions | None = None,
                      **kwargs: Any) -> NotionRemote:
        """Build from ``.vaultmap.toml``: token from ``$token_env``, base URL from
        ``$VAULTMAP_NOTION_BASE_URL`` (tests, proxies), pacing/timeouts from ``[notion]``."""
        env = os.environ if environ is None else environ
        notion = settings.notion
        if options is None:
            options = notion
        return cls(env.get(notion.token_env, "").strip(), database_id=notion.database_id,
                   properties=notion.properties,
                   vault_name=settings.root.name if vault_name is None else vault_name,
                   base_url=env.get(BASE_URL_ENV) or None, options=options,
                   statuses=settings.statuses, token_env=notion.token_env, **kwargs)

    def __repr__(self) -> str:
        return (f"NotionRemote(database_id={self.database_id!r}, base_url={self.base_url!r})")

    def new_round(self) -> None:
        """Start another sync on this remote: what one sync learned (the schema, the data
        source, the columns as read, the agreed statuses) is read again, as by a new remote;
        only the connection is kept (the daemon keeps one remote for its life)."""
        super().new_round()
        self.data_source_id = self._given_source
        self.agreed_status = None
        self._schema = None
        self._read_columns = {}

    def __enter__(self) -> NotionRemote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- what the runner keeps
    @property
    def target(self) -> str:
        """The database this remote reads and writes ("" before init/link)."""
        return self.database_id

    def bind(self, agreed_status: Callable[[str], AgreedStatus | None],
             cache: Mapping[str, str]) -> None:
        """Take the agreed status per row (it tells which of Done / Status a person changed)
        and the data source id cached at an earlier sync (saves one request)."""
        self.agreed_status = agreed_status
        cached = cache.get(_DATA_SOURCE, "")
        # Read back from the state file, it becomes part of request paths: only an id is
        # taken (anything else is found again, one request).
        if not self.data_source_id and _BARE_ID.fullmatch(cached):
            self.data_source_id = cached

    def cache(self) -> dict[str, str]:
        """The data source id, once known, for :meth:`bind` at the next sync."""
        return {_DATA_SOURCE: self.data_source_id} if self.data_source_id else {}

    # -------------------------------------------------------------- discovery and schema
    def _need_database(self) -> str:
        if not self.database_id:
            raise RemoteError("no Notion database configured: run `vaultmap notion init "
                              "--parent PAGE` or `vaultmap notion link DATABASE`")
        return self.database_id

    def _source_id(self) -> str:
        """The database's first data source (rows live there); one GET the first time."""
        if not self.data_source_id:
            database_id = self._need_database()
            answer = self._call("read the database",
                                lambda: self._client.databases.retrieve(database_id),
                                subject=f"Notion database {database_id}")
            sources = answer.get("data_sources") or []
            if not sources:
                raise RemoteSchemaError(f"Notion database {database_id} has no data source")
            self.data_source_id = str(sources[0]["id"])
        return self.data_source_id

    def _read_schema(self) -> dict[str, Any]:
        source_id = self._source_id()
        answer = self._call(
            "read the database's properties",
            lambda: self._client.data_sources.retrieve(source_id),
            subject=f"Notion database {self.database_id}")
        return dict(answer.get("properties") or {})

    def _resolve(self, existing: Mapping[str, Any]) -> tuple[Schema, list[str], list[str]]:
        """Roles -> names; returns (schema, wrong-type complaints, missing roles)."""
        return resolve_schema(existing, self.properties)

    def _wrong_type(self, wrong: list[str]) -> RemoteSchemaError:
        return RemoteSchemaError(
            f"Notion database {self.database_id}: property {'; '.join(wrong)}; rename or "
            "delete it in Notion, or name another property in [notion.properties]")

    def schema(self) -> Schema:
        """The database's property names per role (read once, then cached)."""
        if self._schema is None:
            schema, wrong, missing = self._resolve(self._read_schema())
            if wrong:
                raise self._wrong_type(wrong)
            absent = [self.properties.get(r, r) for r in REQUIRED_ROLES if r in missing]
            if absent:
                raise RemoteSchemaError(
                    f"Notion database {self.database_id} lacks the {', '.join(absent)} "
                    f"propert{'y' if len(absent) == 1 else 'ies'}: run `vaultmap notion link "
                    f"{self.database_id}` to add them")
            self._schema = schema
        return self._schema

    def _property_configs(self, roles: list[str]) -> dict[str, Any]:
        return property_configs(self.properties, roles)

    def create_database(self, parent_page: str, title: str) -> str:
        """Create the task database inside ``parent_page`` (an id or a Notion URL).

        Returns the new database's dashed id and binds this remote to it.
        """
        page_id = parse_notion_id(parent_page)
        properties = self._property_configs(list(ROLE_TYPES))
        answer = self._call(
            "create the database",
            lambda: self._client.databases.create(
                parent={"type": "page_id", "page_id": page_id},
                title=plain_rich_text(title or "Tasks"),
                initial_data_source={"properties": properties}),
            subject=f"Notion page {page_id}")
        self.database_id = str(answer["id"])
        sources = answer.get("data_sources") or []
        self.data_source_id = str(sources[0]["id"]) if sources else ""
        self._schema = None
        return self.database_id

    def link_database(self, database_id: str) -> list[str]:
        """Use an existing database: add the properties it lacks (one PATCH).

        Returns one line per change made (empty when nothing was needed). Refuses, changing
        nothing, when a property has the wrong type.
        """
        self.database_id = parse_notion_id(database_id, what="database")
        self.data_source_id = ""
        self._schema = None
        existing = self._read_schema()
        schema, wrong, missing = self._resolve(existing)
        if wrong:
            raise self._wrong_type(wrong)
        changes: list[str] = []
        patch = self._property_configs(missing)
        if "task" not in schema.names:  # a data source always has a title; defensive only
            raise RemoteSchemaError(f"Notion database {self.database_id} has no title property")
        title_name = schema.names["task"]
        wanted_title = self.properties.get("task", NOTION_PROPERTY_DEFAULTS["task"])
        if title_name != wanted_title:
            changes.append(f"using the title property {title_name!r} for the task text")
        if patch:
            source_id = self._source_id()
            self._call("add properties to the database",
                       lambda: self._client.data_sources.update(source_id, properties=patch),
                       subject=f"Notion database {self.database_id}")
            for name, config in patch.items():
                changes.append(f"added property {name!r} ({next(iter(config))})")
        self._schema = None
        self.schema()
        return changes

    # -------------------------------------------------------------- rows: writing
    def properties_for(self, record: TaskRecord, *, content: bool = True, status: bool = True,
                       only: Collection[ContentField] | None = None) -> dict[str, Any]:
        """Request-shaped properties for ``record``: the status when ``status``, the content
        fields when ``content`` (only those in ``only``, when given)."""
        return record_properties(record, self.schema(), vault_name=self.vault_name,
                                 content=content, status=status, only=only)

    def stored_form(self, record: TaskRecord) -> TaskRecord:
        """``record`` as its row reads back right after it was written."""
        fields = self._row(record.key, self.properties_for(record), "", False, None).fields
        return fields if fields is not None else record

    def expected_hash(self, record: TaskRecord) -> str:
        """The ``content_hash`` a row reads back with right after ``record`` was written."""
        return self._row(record.key, self.properties_for(record), "", False, None).content_hash

    def create(self, record: TaskRecord) -> RemoteRow:
        """Create the row of ``record``. Never duplicates: after a failure that may have
        created it anyway (timeout, dropped connection, 5xx), the Key is looked up first."""
        source_id = self._source_id()
        props = self.properties_for(record)
        what = f"create the row of task {record.key} {_excerpt(record.text)}"
        last: BaseException | None = None
        try:
            for attempt in self._retrying():
                with attempt:
                    if last is not None and _may_have_applied(last):
                        found = self.find_by_key(record.key)
                        if found is not None:
                            log.info("notion: the lost create of %s had worked", record.key)
                            return found
                    self._pacer.wait()
                    try:
                        answer = self._client.pages.create(
                            parent={"type": "data_source_id", "data_source_id": source_id},
                            properties=props)
                    except Exception as error:
                        last = error
                        raise
                    return self.row_from_page(_json_object(answer))
        except Exception as error:
            raise self._translate(error, what, f"Notion database {self.database_id}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def update(self, remote_id: str, record: TaskRecord, *, content: bool = True,
               status: bool = True,
               only: Collection[ContentField] | None = None) -> RemoteRow:
        """Write a row: its status (Done and Status) when ``status``, its content when
        ``content`` (only the fields in ``only``, when given). Properties not sent keep
        whatever a person set meanwhile.

        A row that is in Notion's trash or gone raises :class:`RemoteGoneError`.
        """
        page_id = _checked_id(remote_id)
        props = self.properties_for(record, content=content, status=status, only=only)
        read = self._read_columns.get(page_id)
        if status and read is not None:
            # Only the status column that differs from the row as read is sent.
            done_name, status_name = self.schema().get("done"), self.schema().get("status")
            if done_name in props and props[done_name].get("checkbox") is read[0]:
                del props[done_name]
            if status_name in props:
                chosen = props[status_name].get("select") or props[status_name].get("status")
                if isinstance(chosen, dict) and chosen.get("name") == read[1]:
                    del props[status_name]
        if not props:
            # Nothing to send: read the row back instead (the caller records what it holds).
            answer = self._call("read a row", lambda: self._client.pages.retrieve(page_id),
                                subject=f"row {page_id}")
            if answer.get("in_trash") or answer.get("archived"):
                raise RemoteGoneError(f"Notion row {page_id} is in the trash",
                                      remote_id=page_id, trashed=True)
            return self.row_from_page(answer)
        answer = self._call(f"update the row of task {record.key} {_excerpt(record.text)}",
                            lambda: self._client.pages.update(page_id, properties=props),
                            subject=f"row {page_id}")
        return self.row_from_page(answer)

    def trash(self, remote_id: str) -> None:
        """Move a row to Notion's trash (a row already trashed or gone is fine)."""
        page_id = _checked_id(remote_id)
        with contextlib.suppress(RemoteGoneError):
            self._call("move a row to the trash",
                       lambda: self._client.pages.update(page_id, in_trash=True),
                       subject=f"row {page_id}")

    # -------------------------------------------------------------- rows: reading
    def retrieve(self, remote_id: str) -> RemoteRow | None:
        """One row by id (trashed rows too, with ``trashed`` set); None when it is gone."""
        page_id = _checked_id(remote_id)
        try:
            answer = self._call("read a row", lambda: self._client.pages.retrieve(page_id),
                                subject=f"row {page_id}")
        except RemoteGoneError:
            return None
        return self.row_from_page(answer)

    def find_by_key(self, key: str) -> RemoteRow | None:
        """The live row carrying ``key`` (the oldest, should there be several)."""
        name = self.properties.get("key", NOTION_PROPERTY_DEFAULTS["key"])
        rows = list(self._query({"property": name, "rich_text": {"equals": key_text(key)}},
                                in_trash=False, what="look a row up by its key"))
        return rows[0] if rows else None

    def snapshot(self, since: datetime | None, *,
                 include_trashed: bool = False) -> RemoteSnapshot:
        """Every live row (``since`` None), or the rows edited at or after ``since``.

        Notion rounds edit times down to the minute, so the query looks back two minutes
        more; the engine compares content hashes, so an overlap costs nothing. With
        ``include_trashed`` a second query returns the rows trashed in the same window
        (every trashed row when ``since`` is None). ``started_at`` is the earlier of the
        local clock and Notion's clock, so the next incremental read misses no edit.
        """
        before = self._counter.count
        started_local = self._clock()
        self._counter.server_date = None
        flt: dict[str, Any] | None = None
        if since is not None:
            if since.tzinfo is None:  # a naive time from storage is UTC, never local time
                since = since.replace(tzinfo=UTC)
            edge = (since - EDIT_TIME_SLACK).astimezone(UTC)
            flt = {"timestamp": "last_edited_time",
                   "last_edited_time": {"on_or_after": edge.strftime("%Y-%m-%dT%H:%M:%S.000Z")}}
        rows: list[RemoteRow] = []
        notes: list[str] = []
        partial = self._read_into(rows, flt, in_trash=False, what="read the database's rows",
                                  notes=notes)
        server = self._counter.server_date
        if include_trashed and not partial:
            partial = self._read_into(rows, flt, in_trash=True,
                                      what="read the database's trashed rows", notes=notes)
        started = min(started_local, server) if server is not None else started_local
        seen: dict[str, int] = {}
        for row in rows:
            if row.key and not row.trashed:
                seen[row.key] = seen.get(row.key, 0) + 1
        notes.extend(f"{count} live rows carry the key {key}"
                     for key, count in sorted(seen.items()) if count > 1)
        return RemoteSnapshot(rows=tuple(rows), complete=since is None and not partial,
                              started_at=started, requests=self._counter.count - before,
                              notes=tuple(notes), partial=partial)

    def _read_into(self, rows: list[RemoteRow], flt: dict[str, Any] | None, *,
                   in_trash: bool, what: str, notes: list[str]) -> bool:
        """Append the rows of one query to ``rows``; True when reading stopped early.

        A page that keeps failing after every retry, once an earlier page was answered, ends
        the read, not the sync: the rows read so far are planned like an incremental read,
        so each run makes progress even on a network that fails most requests. Any other
        failure (token, schema, a server that loops) still stops the sync.
        """
        pages: list[int] = []
        try:
            for row in self._query(flt, in_trash=in_trash, what=what, pages=pages):
                rows.append(row)
        except RemoteUnavailableError as error:
            if not pages:
                raise  # not one page could be read: nothing to go on
            notes.append(f"Notion stopped answering after {len(rows)} row(s) were read "
                         f"({error}); this sync goes on with those, the rest is read next time")
            return True
        return False

    def _query(self, flt: dict[str, Any] | None, *, in_trash: bool, what: str,
               pages: list[int] | None = None) -> Iterator[RemoteRow]:
        source_id = self._source_id()
        cursor: str | None = None
        seen_cursors: set[str] = set()
        while True:
            body: dict[str, Any] = {
                "page_size": 100, "in_trash": in_trash,
                "sorts": [{"timestamp": "created_time", "direction": "ascending"}]}
            if flt is not None:
                body["filter"] = flt
            if cursor is not None:
                body["start_cursor"] = cursor
            answer = self._call(what, functools.partial(self._client.data_sources.query,
                                                        source_id, **body),
                                subject=f"Notion database {self.database_id}")
            if pages is not None:
                pages.append(len(answer.get("results") or []))
            for page in answer.get("results") or []:
                if page.get("object", "page") == "page":
                    yield self.row_from_page(page)
            cursor = answer.get("next_cursor")
            if not answer.get("has_more") or not cursor:
                return
            if cursor in seen_cursors:  # a server that loops must not hang a sync
                raise RemoteError(f"Notion repeated a page cursor while trying to {what}")
            seen_cursors.add(cursor)

    def row_from_page(self, page: Mapping[str, Any]) -> RemoteRow:
        """A page object (as Notion returns it) -> :class:`RemoteRow`."""
        props = page.get("properties")
        if not isinstance(props, dict):
            raise RemoteError("Notion sent a row without properties")
        self._check_page_types(props)
        edited = _parse_time(page.get("last_edited_time"))
        trashed = bool(page.get("in_trash") or page.get("archived"))
        key_name = self.properties.get("key", NOTION_PROPERTY_DEFAULTS["key"])
        raw_key = plain_text(_value(props.get(key_name), "rich_text"))
        # Exactly as written (keys are compared), but for the encoding of key_text.
        key = key_from_text(raw_key) if raw_key.strip() else None
        return self._row(key, props, str(page.get("id", "")), trashed, edited)

    def _check_page_types(self, props: Mapping[str, Any]) -> None:
        # A page carries every property of its data source with its type: check the roles
        # the adapter relies on without an extra request.
        wrong: list[str] = []
        for role in ("key", "done", "status"):
            name = self.properties.get(role, NOTION_PROPERTY_DEFAULTS[role])
            value = props.get(name)
            if value is None:
                if role == "key":
                    raise RemoteSchemaError(
                        f"Notion database {self.database_id} has no {name!r} property: run "
                        f"`vaultmap notion link {self.database_id}` to add it")
                continue
            kind = value.get("type") if isinstance(value, dict) else None
            if kind is not None and kind != ROLE_TYPES[role] and kind not in ALSO_ACCEPTED.get(
                    role, ()):
                wrong.append(f"{name!r} is {kind}, vaultmap needs {ROLE_TYPES[role]}")
        if wrong:
            raise self._wrong_type(wrong)

    def _row(self, key: str | None, props: Mapping[str, Any], remote_id: str, trashed: bool,
             edited: datetime | None) -> RemoteRow:
        def value(role: str, kind: str) -> Any:
            return property_value(props, self.properties, role, kind)

        done_raw = value("done", "checkbox")
        done = done_raw if isinstance(done_raw, bool) else None
        status_raw = value("status", "select") or value("status", "status")
        status_name = status_raw.get("name") if isinstance(status_raw, dict) else None
        agreed_row = self.agreed_status(remote_id) if self.agreed_status and remote_id else None
        if (self._schema is None and remote_id and status_name
                and value("status", "status") is not None
                and status_name.casefold() not in _NAME_TO_TYPE):
            # A Notion "status" option with a name of its own is read by its group, which
            # only the schema tells: read it once (rows only; never for a quiet sync).
            self.schema()
        extra = self._schema.status_names if self._schema is not None else None
        fields = status_fields(done, status_name)
        if remote_id:
            # Remembered so a status write sends only the column that differs (a person may
            # be changing the other one meanwhile).
            self._read_columns[remote_id] = (done, status_name)
        if agreed_row is not None and agreed_row.fields == fields:
            # Neither column moved since both sides agreed: the row means what was agreed,
            # even when its two columns disagree (a write-back that has not happened yet).
            kind = self.statuses.type_of(agreed_row.status)
            char = agreed_row.status
        else:
            agreed = (self.statuses.type_of(agreed_row.status)
                      if agreed_row is not None else None)
            kind = status_type_from(done, status_name, agreed, names=extra,
                                    agreed_fields=agreed_row.fields if agreed_row else "")
            char = (agreed_row.status if agreed_row is not None and agreed is kind
                    else self._char(kind))
        named = _named_type(status_name, extra)
        # Settled: the columns agree (an empty Status column counts as not agreeing, so a
        # row made by a person gets its Status filled in once).
        has_status = self.properties.get("status", "") in props
        settled = done is None or ((named is not None or not has_status)
                                   and (named is None or (named is StatusType.DONE) == done))
        return decoded_row(props, self.properties, key=key, remote_id=remote_id,
                           trashed=trashed, edited=edited, status=char, status_type=kind,
                           status_fields=fields, settled=settled)

    def _char(self, kind: StatusType) -> str:
        try:
            return self.statuses.char_for(kind)
        except KeyError:
            return "?"  # "other" with no configured character: any non-standard one will do
