"""The fake Notion server itself: faithful to Notion's API where vaultmap can see it.

These talk to the fake with plain httpx (to see headers and raw bodies) and with the real
notion-client, never through vaultmap's adapter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import notion_client
import pytest
from notion_client.errors import APIResponseError, UnknownHTTPResponseError

from fake_notion import FakeClock, FakeNotion

ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def fake() -> Iterator[FakeNotion]:
    clock = FakeClock(datetime(2026, 6, 27, 5, 51, 42, 123000, tzinfo=UTC))
    with FakeNotion(clock=clock) as server:
        yield server


@pytest.fixture
def http(fake: FakeNotion) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {fake.token}", "Notion-Version": "2025-09-03"}
    with httpx.Client(base_url=fake.base_url + "/v1/", headers=headers) as client:
        yield client


@pytest.fixture
def sdk(fake: FakeNotion) -> notion_client.Client:
    return notion_client.Client(auth=fake.token, base_url=fake.base_url, retry=False,
                                logger=logging.getLogger("test.fake.sdk"))


@pytest.fixture
def source(fake: FakeNotion) -> tuple[str, str]:
    return fake.add_database(fake.add_page(), "Tasks", {
        "Task": "title", "Done": "checkbox", "Key": "rich_text", "Due": "date",
        "Status": {"select": {"options": [{"name": "Todo"}, {"name": "Done"}]}},
        "Tags": "multi_select", "Open": "url"})


def _error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["object"] == "error" and body["status"] == response.status_code
    assert body["request_id"] == response.headers["x-notion-request-id"]
    return body


def test_auth_and_version_headers_are_required(fake: FakeNotion,
                                               source: tuple[str, str]) -> None:
    database_id, _ = source
    with httpx.Client(base_url=fake.base_url + "/v1/") as bare:
        no_auth = bare.get(f"databases/{database_id}", headers={"Notion-Version": "2025-09-03"})
        assert (no_auth.status_code, _error(no_auth)["code"]) == (401, "unauthorized")
        no_version = bare.get(f"databases/{database_id}",
                              headers={"Authorization": f"Bearer {fake.token}"})
        assert (no_version.status_code, _error(no_version)["code"]) == (400, "missing_version")
        old = bare.get(f"data_sources/{source[1]}", headers={
            "Authorization": f"Bearer {fake.token}", "Notion-Version": "2022-06-28"})
        assert _error(old)["code"] == "invalid_request_url"


def test_ids_dashed_or_not_and_404_for_unknown(http: httpx.Client,
                                               source: tuple[str, str]) -> None:
    database_id, source_id = source
    answer = http.get(f"databases/{database_id.replace('-', '').upper()}")
    body = answer.json()
    assert body["id"] == database_id and ID_RE.match(body["id"])
    assert body["data_sources"] == [{"id": source_id, "name": "Tasks"}]
    assert body["request_id"] == answer.headers["x-notion-request-id"]
    missing = http.get("pages/" + "ab" * 16)
    error = _error(missing)
    assert (missing.status_code, error["code"]) == (404, "object_not_found")
    assert error["message"].startswith("Could not find page with ID: abababab-abab-")
    bad = http.get("pages/12345")
    assert _error(bad)["code"] == "validation_error"
    assert http.get("users/me").status_code == 400


def test_page_objects_match_the_recorded_shape(fake: FakeNotion, sdk: notion_client.Client,
                                               source: tuple[str, str]) -> None:
    database_id, source_id = source
    page = sdk.pages.create(parent={"data_source_id": source_id.replace("-", "")},
                            properties={"Task": {"title": [{"text": {"content": "Buy milk"}}]}})
    assert page["object"] == "page" and "request_id" in page
    assert page["parent"] == {"type": "data_source_id", "data_source_id": source_id,
                              "database_id": database_id}
    assert page["created_time"] == page["last_edited_time"] == "2026-06-27T05:51:00.000Z"
    assert page["in_trash"] is False and page["archived"] is False
    props = page["properties"]
    assert props["Task"]["id"] == "title"
    assert props["Task"]["title"][0]["plain_text"] == "Buy milk"
    assert props["Task"]["title"][0]["annotations"]["color"] == "default"
    # Every property is present, empty ones with their empty value.
    assert (props["Done"]["checkbox"], props["Key"]["rich_text"], props["Due"]["date"],
            props["Status"]["select"], props["Tags"]["multi_select"], props["Open"]["url"]) == (
        False, [], None, None, [], None)
    listed = sdk.data_sources.query(source_id)
    assert "request_id" not in listed["results"][0]
    assert (listed["type"], listed["page_or_data_source"]) == ("page_or_data_source", {})


def test_edit_times_round_down_and_follow_the_clock(fake: FakeNotion, sdk: notion_client.Client,
                                                    source: tuple[str, str]) -> None:
    row = fake.add_row(source[0], {"Task": "x"})
    fake.clock.advance(95)
    updated = sdk.pages.update(row, properties={"Done": {"checkbox": True}})
    assert updated["last_edited_time"] == "2026-06-27T05:53:00.000Z"
    assert updated["created_time"] == "2026-06-27T05:51:00.000Z"


def test_filters_sorts_and_cursors(fake: FakeNotion, sdk: notion_client.Client,
                                   source: tuple[str, str]) -> None:
    _, source_id = source
    for i in range(12):
        fake.add_row(source_id, {"Task": f"task {i:02}", "Key": f"k:{i}", "Done": i % 3 == 0})
        fake.clock.advance(60)
    done = sdk.data_sources.query(source_id, filter={"property": "Done",
                                                     "checkbox": {"equals": True}})
    assert len(done["results"]) == 4
    either = sdk.data_sources.query(source_id, filter={"or": [
        {"property": "Key", "rich_text": {"equals": "k:1"}},
        {"and": [{"property": "Task", "title": {"contains": "1"}},
                 {"property": "Done", "checkbox": {"equals": False}}]}]})
    assert sorted(r["properties"]["Key"]["rich_text"][0]["plain_text"]
                  for r in either["results"]) == ["k:1", "k:10", "k:11"]
    recent = sdk.data_sources.query(source_id, filter={
        "timestamp": "last_edited_time", "last_edited_time": {"on_or_after":
                                                              "2026-06-27T06:00:00Z"}})
    assert len(recent["results"]) == 3
    # Default order: newest first; explicit sorts win. Pages of 5 with opaque cursors.
    names: list[str] = []
    cursor = None
    while True:
        page = sdk.data_sources.query(source_id, page_size=5, start_cursor=cursor,
                                      sorts=[{"property": "Task", "direction": "ascending"}])
        names += [r["properties"]["Task"]["title"][0]["plain_text"] for r in page["results"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
        assert cursor.startswith(f"s:{source_id}:")
    assert names == sorted(f"task {i:02}" for i in range(12))
    newest = sdk.data_sources.query(source_id, page_size=1)["results"][0]
    assert newest["properties"]["Task"]["title"][0]["plain_text"] == "task 11"


@pytest.mark.parametrize(("body", "fragment"), [
    ({"filter": {"property": "Nope", "checkbox": {"equals": True}}},
     "Could not find property with name or id: Nope"),
    ({"page_size": 101}, "page_size should be ≤ `100`"),
    ({"start_cursor": "s:made:up"}, "start_cursor"),
    ({"filter": {"property": "Done", "rich_text": {"equals": "x"}}}, "checkbox should be defined"),
])
def test_bad_queries_are_validation_errors(http: httpx.Client, source: tuple[str, str],
                                           body: dict[str, Any], fragment: str) -> None:
    answer = http.post(f"data_sources/{source[1]}/query", json=body)
    error = _error(answer)
    assert (answer.status_code, error["code"]) == (400, "validation_error")
    assert fragment in error["message"]


@pytest.mark.parametrize(("properties", "fragment"), [
    ({"Task": {"title": [{"text": {"content": "x" * 2001}}]}},
     "title[0].text.content.length should be ≤ `2000`, instead was `2001`"),
    ({"Task": {"title": [{"text": {"content": "x"}}] * 101}}, "title.length should be ≤ `100`"),
    ({"Nope": {"checkbox": True}}, "Nope is not a property that exists."),
    ({"Done": {"rich_text": []}}, "Done is expected to be checkbox."),
    ({"Due": {"date": {"start": "2023-12-32"}}}, "valid ISO 8601"),
    ({"Task": {"title": [{"text": {"content": "a", "link": {"url": "notes/a.md"}}}]}},
     "Invalid URL for link"),
    ({"Tags": {"multi_select": [{"name": "a,b"}]}}, "cannot contain commas"),
])
def test_invalid_writes_are_validation_errors(sdk: notion_client.Client, fake: FakeNotion,
                                              source: tuple[str, str],
                                              properties: dict[str, Any], fragment: str) -> None:
    with pytest.raises(APIResponseError) as caught:
        sdk.pages.create(parent={"data_source_id": source[1]}, properties=properties)
    assert caught.value.code == "validation_error" and caught.value.status == 400
    assert fragment in str(caught.value)
    assert fake.table(source[0]) == []  # nothing half-written


def test_trash_and_the_archived_alias(fake: FakeNotion, sdk: notion_client.Client,
                                      source: tuple[str, str]) -> None:
    database_id, source_id = source
    a = fake.add_row(source_id, {"Task": "a"})
    b = fake.add_row(source_id, {"Task": "b"})
    c = fake.add_row(source_id, {"Task": "c"})
    assert sdk.pages.update(a, in_trash=True)["in_trash"] is True
    assert sdk.pages.update(b, archived=True)["archived"] is True
    sdk.blocks.delete(c)
    assert sdk.data_sources.query(source_id, in_trash=False)["results"] == []
    assert len(sdk.data_sources.query(source_id, in_trash=True)["results"]) == 3
    assert sdk.data_sources.query(source_id)["results"] == []  # absent flag: live rows
    assert sdk.pages.retrieve(a)["in_trash"] is True  # still addressable
    with pytest.raises(APIResponseError, match="Can't edit block that is archived"):
        sdk.pages.update(a, properties={"Done": {"checkbox": True}})
    sdk.pages.update(a, in_trash=False)
    assert [r["_id"] for r in fake.table(database_id)] == [a]


def test_schema_patch_adds_deletes_renames(fake: FakeNotion, sdk: notion_client.Client,
                                           source: tuple[str, str]) -> None:
    database_id, source_id = source
    answer = sdk.data_sources.update(source_id, properties={
        "Section": {"rich_text": {}}, "Open": None, "Due": {"name": "Deadline"},
        "Key": {"name": "Done"}})
    props = answer["properties"]
    assert props["Section"]["type"] == "rich_text"
    assert "Open" not in props and props["Deadline"]["type"] == "date"
    assert props["Done 1"]["type"] == "rich_text"  # Notion de-duplicates a clashing name
    assert sdk.data_sources.update(source_id, properties={})["properties"] == props
    with pytest.raises(APIResponseError, match="Cannot delete the title property"):
        sdk.data_sources.update(source_id, properties={"Task": None})
    assert fake.schema(database_id)["Deadline"] == "date"


def test_database_create_under_a_page(fake: FakeNotion, sdk: notion_client.Client) -> None:
    parent = fake.add_page("Home")
    db = sdk.databases.create(parent={"type": "page_id", "page_id": parent},
                              title=[{"text": {"content": "Tasks"}}],
                              initial_data_source={"properties": {"Name": {"title": {}}}})
    assert ID_RE.match(db["data_sources"][0]["id"])
    with pytest.raises(APIResponseError, match="exactly one title"):
        sdk.databases.create(parent={"page_id": parent}, title=[],
                             initial_data_source={"properties": {"A": {"rich_text": {}}}})
    fake.unshare(parent)
    with pytest.raises(APIResponseError) as caught:
        sdk.databases.create(parent={"page_id": parent}, title=[])
    assert caught.value.status == 404


@pytest.mark.parametrize(("kind", "status", "code"), [
    ("429", 429, "rate_limited"), ("409", 409, "conflict_error"),
    ("500", 500, "internal_server_error"), ("503", 503, "service_unavailable"),
    ("504", 504, "gateway_timeout"), ("529", 529, "service_overload"),
])
def test_json_faults(fake: FakeNotion, http: httpx.Client, source: tuple[str, str], kind: str,
                     status: int, code: str) -> None:
    fake.inject(kind, route="GET /v1/databases/{id}", retry_after="7")
    answer = http.get(f"databases/{source[0]}")
    assert (answer.status_code, _error(answer)["code"]) == (status, code)
    if kind == "429":
        assert answer.headers["Retry-After"] == "7"
        assert answer.json()["additional_data"]["rate_limit_reason"]
    assert http.get(f"databases/{source[0]}").status_code == 200  # only once


def test_502_is_html_and_the_sdk_cannot_read_it(fake: FakeNotion, sdk: notion_client.Client,
                                                source: tuple[str, str]) -> None:
    fake.inject("502")
    with pytest.raises(UnknownHTTPResponseError) as caught:
        sdk.databases.retrieve(source[0])
    assert caught.value.status == 502 and "<html>" in caught.value.body


def test_drop_after_applies_then_hangs_up(fake: FakeNotion, sdk: notion_client.Client,
                                          source: tuple[str, str]) -> None:
    fake.inject("drop_after", route="POST /v1/pages")
    with pytest.raises(httpx.RemoteProtocolError):
        sdk.pages.create(parent={"data_source_id": source[1]},
                         properties={"Task": {"title": [{"text": {"content": "ghost"}}]}})
    assert [r["Task"] for r in fake.table(source[0])] == ["ghost"]
    fake.inject("drop", route="POST /v1/pages")
    with pytest.raises(httpx.RemoteProtocolError):
        sdk.pages.create(parent={"data_source_id": source[1]}, properties={})
    assert len(fake.table(source[0])) == 1


def test_random_faults_are_seeded(source: tuple[str, str]) -> None:
    def run() -> list[int]:
        with FakeNotion(fault_rate=0.5, fault_seed=3,
                        fault_kinds=("500", "409", "429")) as server:
            headers = {"Authorization": f"Bearer {server.token}",
                       "Notion-Version": "2025-09-03"}
            with httpx.Client(base_url=server.base_url + "/v1/", headers=headers) as client:
                return [client.get("pages/" + "0" * 32).status_code for _ in range(40)]
    first = run()
    assert first == run()
    assert {500, 409, 429, 404} <= set(first)


def test_request_counts_per_route(fake: FakeNotion, sdk: notion_client.Client,
                                  source: tuple[str, str]) -> None:
    fake.reset_counts()
    sdk.data_sources.query(source[1])
    sdk.data_sources.query(source[1])
    sdk.databases.retrieve(source[0])
    assert fake.count("POST /v1/data_sources/{id}/query") == 2
    assert fake.count("GET /v1/databases/{id}") == 1
    assert fake.total_requests == 3
