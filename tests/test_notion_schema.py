"""Creating and linking the task database; ids and URLs; the schema rules."""

from __future__ import annotations

import pytest

from fake_notion import FakeNotion, new_database, record, remote_for
from vaultmap.sync.notion.ids import parse_notion_id
from vaultmap.sync.notion.status import STATUS_NAMES
from vaultmap.sync.remote import RemoteError, RemoteSchemaError

EXPECTED_SCHEMA = {"Task": "title", "Done": "checkbox", "Status": "select", "Note": "rich_text",
                   "Section": "rich_text", "Due": "date", "Scheduled": "date", "Start": "date",
                   "Priority": "select", "Tags": "multi_select", "Key": "rich_text",
                   "Open": "url"}


@pytest.mark.parametrize("text", [
    "26899f72bada80dc843deacaf51e89ad",
    "26899f72-bada-80dc-843d-eacaf51e89ad",
    " 26899F72BADA80DC843DEACAF51E89AD ",
    "https://www.notion.so/Home-26899f72bada80dc843deacaf51e89ad",
    "https://www.notion.so/team/26899f72bada80dc843deacaf51e89ad?v=0123456789abcdef0123456789abcdef",
    "https://app.notion.com/p/My-Page-26899f72bada80dc843deacaf51e89ad#heading",
])
def test_parse_notion_id_accepts_ids_and_urls(text: str) -> None:
    assert parse_notion_id(text) == "26899f72-bada-80dc-843d-eacaf51e89ad"


@pytest.mark.parametrize("text", ["", "not an id", "https://www.notion.so/Home", "1234",
                                  "../../etc/passwd", "26899f72bada80dc843deacaf51e89ad00"])
def test_parse_notion_id_refuses_the_rest(text: str) -> None:
    with pytest.raises(RemoteError, match="neither a Notion id nor a Notion URL"):
        parse_notion_id(text)


def test_create_database_from_a_url_makes_the_full_schema(fake: FakeNotion) -> None:
    parent = fake.add_page("Home")
    url = f"https://www.notion.so/Home-{parent.replace('-', '')}?pvs=4"
    with remote_for(fake) as remote:
        database_id = remote.create_database(url, "Vault tasks")
        assert fake.schema(database_id) == EXPECTED_SCHEMA
        assert remote.data_source_id
        _, _, body = next(entry for entry in fake.log if entry[0] == "POST"
                          and entry[1] == "/v1/databases")
        options = body["initial_data_source"]["properties"]["Status"]["select"]["options"]
        assert [o["name"] for o in options] == list(STATUS_NAMES.values())
        # The new database is usable at once, with no further discovery.
        fake.reset_counts()
        remote.create(record("k:1"))
        assert fake.count("GET /v1/databases/{id}") == 0


def test_create_database_in_a_page_not_shared(fake: FakeNotion) -> None:
    parent = fake.add_page("Private", shared=False)
    with remote_for(fake) as remote, pytest.raises(RemoteError) as caught:
        remote.create_database(parent, "Tasks")
    assert "not shared with the integration" in str(caught.value)
    assert parent in str(caught.value)


def test_link_adds_missing_properties_in_one_patch(fake: FakeNotion) -> None:
    database_id, _ = fake.add_database(fake.add_page(), "Mine",
                                       {"Name": "title", "Done": "checkbox", "Notes": "rich_text"})
    with remote_for(fake) as remote:
        changes = remote.link_database(database_id.replace("-", ""))
        assert changes[0] == "using the title property 'Name' for the task text"
        assert "added property 'Key' (rich_text)" in changes
        assert len(changes) == 1 + len(EXPECTED_SCHEMA) - 2  # all but the title and Done
        assert fake.count("PATCH /v1/data_sources/{id}") == 1
        schema = fake.schema(database_id)
        assert schema["Notes"] == "rich_text"  # the person's own column stays
        assert {k: v for k, v in schema.items() if k != "Notes"} == {
            **{k: v for k, v in EXPECTED_SCHEMA.items() if k != "Task"}, "Name": "title"}
        row = remote.create(record("k:1", "Into the Name column"))
        assert fake.values(row.remote_id)["Name"] == "Into the Name column"
        assert remote.link_database(database_id) == ["using the title property 'Name' for the "
                                                     "task text"]
        assert fake.count("PATCH /v1/data_sources/{id}") == 1  # nothing more to add


def test_link_refuses_a_property_of_the_wrong_type(fake: FakeNotion) -> None:
    database_id, _ = fake.add_database(fake.add_page(), "Mine",
                                       {"Task": "title", "Done": "rich_text", "Due": "checkbox"})
    with remote_for(fake) as remote, pytest.raises(RemoteSchemaError) as caught:
        remote.link_database(database_id)
    message = str(caught.value)
    assert "'Done' is rich_text, vaultmap needs checkbox" in message
    assert "'Due' is checkbox, vaultmap needs date" in message
    assert "\n" not in message
    assert fake.count("PATCH /v1/data_sources/{id}") == 0  # nothing changed
    assert fake.schema(database_id) == {"Task": "title", "Done": "rich_text", "Due": "checkbox"}


def test_link_refuses_a_non_title_property_named_like_the_title(fake: FakeNotion) -> None:
    database_id, _ = fake.add_database(fake.add_page(), "Mine",
                                       {"Name": "title", "Task": "rich_text"})
    with remote_for(fake) as remote, pytest.raises(RemoteSchemaError, match="'Task' is "
                                                                         "rich_text"):
        remote.link_database(database_id)


def test_link_of_a_database_not_shared(fake: FakeNotion) -> None:
    database_id, _ = fake.add_database(fake.add_page(), "Hidden", {"Task": "title"})
    fake.unshare(database_id)
    with remote_for(fake) as remote, pytest.raises(RemoteError) as caught:
        remote.link_database(database_id)
    assert "not found or is not shared with the integration" in str(caught.value)
    assert type(caught.value).__name__ == "RemoteAuthError"


def test_custom_property_names(fake: FakeNotion) -> None:
    names = {"task": "Todo item", "done": "Finished?", "key": "vaultmap id", "tags": "Labels"}
    with remote_for(fake, properties=names) as remote:
        database_id = remote.create_database(fake.add_page(), "Custom")
        schema = fake.schema(database_id)
        assert schema["Todo item"] == "title" and schema["Finished?"] == "checkbox"
        assert schema["Labels"] == "multi_select" and schema["vaultmap id"] == "rich_text"
        row = remote.create(record("k:1", "Custom", "x", tags=("a",)))
        assert fake.values(row.remote_id)["Finished?"] is True
        assert remote.find_by_key("k:1") is not None
        assert [r.status for r in remote.snapshot(None).rows] == ["x"]


def test_optional_columns_a_person_deleted_are_not_written(fake: FakeNotion) -> None:
    with new_database(fake) as remote:
        for column in ("Open", "Tags", "Status", "Section"):
            fake.delete_property(remote.database_id, column)
        remote._schema = None  # a new run reads the schema afresh
        row = remote.create(record("k:1", "Still fine", "/", tags=("x",), section=("A",)))
        assert fake.values(row.remote_id)["Done"] is False
        assert row.status == " "  # without a Status column, "doing" reads back as open
        updated = remote.update(row.remote_id, record("k:1", status="x"), content=False)
        assert updated.status == "x"


def test_a_missing_key_column_is_a_schema_error(fake: FakeNotion) -> None:
    with new_database(fake) as remote:
        remote.create(record("k:1"))
        fake.delete_property(remote.database_id, "Key")
        with pytest.raises(RemoteSchemaError, match="has no 'Key' property: run `vaultmap "
                                                    "notion link"):
            remote.snapshot(None)
        remote._schema = None
        with pytest.raises(RemoteSchemaError, match="lacks the Key property"):
            remote.create(record("k:2"))


def test_a_column_retyped_by_a_person_is_caught_on_read(fake: FakeNotion) -> None:
    with new_database(fake) as remote:
        remote.create(record("k:1"))
        fake.retype_property(remote.database_id, "Done", "rich_text")
        with pytest.raises(RemoteSchemaError, match="'Done' is rich_text, vaultmap needs "
                                                    "checkbox"):
            remote.snapshot(None)


def test_a_validation_error_names_the_property_and_the_task(fake: FakeNotion) -> None:
    with new_database(fake) as remote:
        row = remote.create(record("k:7", "Book the dentist"))
        # A person changes a column's type while vaultmap runs with the schema it read.
        fake.retype_property(remote.database_id, "Priority", "rich_text")
        with pytest.raises(RemoteError) as caught:
            remote.update(row.remote_id, record("k:7", "Book the dentist", priority="high"))
    message = str(caught.value)
    assert "(property 'Priority')" in message
    assert "k:7" in message and "Book the dentist" in message
    assert "\n" not in message


def test_no_database_configured(fake: FakeNotion) -> None:
    with remote_for(fake) as remote, pytest.raises(RemoteError, match="no Notion database "
                                                                      "configured"):
        remote.snapshot(None)


def test_a_native_status_property_is_used_with_its_own_options(fake: FakeNotion) -> None:
    # Notion's own "status" type (defaults: Not started / In progress / Done) is accepted:
    # vaultmap writes the existing option of each type and cannot add options.
    database_id, _ = fake.add_database(fake.add_page(), "Mine", {
        "Task": "title", "Done": "checkbox", "Key": "rich_text", "Status": "status"})
    with remote_for(fake) as remote:
        changes = remote.link_database(database_id)
        assert not any("Status" in line for line in changes)
        assert fake.schema(database_id)["Status"] == "status"
        rows = {s: remote.create(record(f"k:{ord(s)}", status=s)) for s in (" ", "/", "x", "-")}
        assert {s: fake.values(r.remote_id)["Status"] for s, r in rows.items()} == {
            " ": "Not started", "/": "In progress", "x": "Done", "-": None}
        assert {s: r.status for s, r in rows.items()} == {" ": " ", "/": "/", "x": "x", "-": " "}
        fake.edit_row(rows[" "].remote_id, {"Status": {"status": {"name": "In progress"}}})
        read = {r.key: r.status for r in remote.snapshot(None).rows}
        assert read[f"k:{ord(' ')}"] == "/"


def test_custom_status_options_are_read_by_their_group(fake: FakeNotion) -> None:
    options = {"options": [{"name": "Backlog"}, {"name": "Working"}, {"name": "Shipped"}],
               "groups": [{"name": "To-do", "option_names": ["Backlog"]},
                          {"name": "In progress", "option_names": ["Working"]},
                          {"name": "Complete", "option_names": ["Shipped"]}]}
    database_id, _ = fake.add_database(fake.add_page(), "Mine", {
        "Task": "title", "Done": "checkbox", "Key": "rich_text", "Status": {"status": options}})
    with remote_for(fake) as remote:
        remote.link_database(database_id)
        row = remote.create(record("k:1", status="/"))
        assert fake.values(row.remote_id)["Status"] == "Working"
        fake.edit_row(row.remote_id, {"Status": {"status": {"name": "Shipped"}}, "Done": True})
        assert [r.status for r in remote.snapshot(None).rows] == ["x"]
    # A fresh run reads a custom option by its group too (one schema read, on demand).
    with remote_for(fake, database_id=database_id) as fresh:
        fake.edit_row(row.remote_id, {"Status": {"status": {"name": "Working"}}, "Done": False})
        fake.reset_counts()
        assert [r.status for r in fresh.snapshot(None).rows] == ["/"]
        assert fake.count("GET /v1/data_sources/{id}") == 1
