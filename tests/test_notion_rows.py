"""The Notion adapter's row round trips, over real HTTP to the fake, with the real SDK."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_notion import FakeClock, FakeNotion, new_database, record
from hypothesis_budget import examples
from vaultmap.sync.notion import NotionRemote
from vaultmap.sync.notion.ids import obsidian_url
from vaultmap.sync.remote import RemoteError, RemoteGoneError, TaskRecord


def test_create_writes_every_property(fake: FakeNotion, remote: NotionRemote) -> None:
    rec = record("k:1", "Call **Ann** about [the plan](https://example.org/p)", "/",
                 section=("Month 3", "Week 10"), due="2026-07-01", priority="high",
                 tags=("home", "calls"), note="Projects/Home.md",
                 open_url=obsidian_url("My Vault", "Projects/Home.md"))
    row = remote.create(rec)
    [stored] = fake.table(remote.database_id)
    assert stored["_id"] == row.remote_id
    assert stored["Task"] == "Call Ann about the plan"
    assert stored["Key"] == "k:1"
    assert stored["Done"] is False
    assert stored["Status"] == "Doing"
    assert stored["Section"] == "Month 3 › Week 10"
    assert stored["Note"] == "Projects/Home.md"
    assert stored["Due"] == "2026-07-01"
    assert stored["Scheduled"] is None
    assert stored["Priority"] == "high"
    assert sorted(stored["Tags"]) == ["calls", "home"]
    assert stored["Open"] == "obsidian://open?vault=My%20Vault&file=Projects%2FHome"
    assert row.key == "k:1"
    assert row.status == "/"
    assert row.status_type == "doing"
    # What Notion holds hashes like the record it came from (formatting round-trips).
    assert row.content_hash == rec.content_hash()
    assert row.content_hash == remote.expected_hash(rec)


def test_record_open_url_wins_over_the_computed_one(fake: FakeNotion,
                                                   remote: NotionRemote) -> None:
    remote.create(record("k:1", open_url="obsidian://open?vault=V&file=a"))
    assert fake.table(remote.database_id)[0]["Open"] == "obsidian://open?vault=V&file=a"


def test_full_snapshot_reads_back_what_was_created(remote: NotionRemote) -> None:
    made = {remote.create(record(f"k:{i}", f"task {i}", "x" if i % 2 else " ")).remote_id
            for i in range(5)}
    snap = remote.snapshot(None)
    assert snap.complete
    assert {row.remote_id for row in snap.rows} == made
    assert {row.key: row.status for row in snap.rows} == {
        "k:0": " ", "k:1": "x", "k:2": " ", "k:3": "x", "k:4": " "}
    assert all(not row.trashed for row in snap.rows)
    assert snap.notes == ()


def test_status_only_update_leaves_content_alone(fake: FakeNotion, remote: NotionRemote) -> None:
    row = remote.create(record("k:1", "Original"))
    after = remote.update(row.remote_id, record("k:1", "Reworded", "x"), content=False)
    [stored] = fake.table(remote.database_id)
    assert (stored["Task"], stored["Done"], stored["Status"]) == ("Original", True, "Done")
    assert after.status == "x"
    assert after.content_hash == row.content_hash


def test_content_update_rewrites_text_and_fields(fake: FakeNotion, remote: NotionRemote) -> None:
    row = remote.create(record("k:1", "Original", due="2026-01-01", tags=("a",)))
    new = record("k:1", "Reworded", "-", due=None, tags=())
    after = remote.update(row.remote_id, new)
    [stored] = fake.table(remote.database_id)
    assert (stored["Task"], stored["Due"], stored["Tags"]) == ("Reworded", None, [])
    assert (stored["Done"], stored["Status"]) == (False, "Cancelled")
    assert after.content_hash == remote.expected_hash(new) != row.content_hash


def test_trash_hides_the_row_and_retrieve_still_finds_it(fake: FakeNotion,
                                                         remote: NotionRemote) -> None:
    keep = remote.create(record("k:1"))
    gone = remote.create(record("k:2"))
    remote.trash(gone.remote_id)
    remote.trash(gone.remote_id)  # twice is fine
    assert [r.remote_id for r in remote.snapshot(None).rows] == [keep.remote_id]
    with_trash = remote.snapshot(None, include_trashed=True)
    assert {(r.remote_id, r.trashed) for r in with_trash.rows} == {
        (keep.remote_id, False), (gone.remote_id, True)}
    found = remote.retrieve(gone.remote_id)
    assert found is not None and found.trashed and found.key == "k:2"
    assert remote.retrieve("0" * 32) is None


def test_update_of_a_trashed_row_raises_gone(fake: FakeNotion, remote: NotionRemote) -> None:
    row = remote.create(record("k:1"))
    fake.trash_row(row.remote_id)
    with pytest.raises(RemoteGoneError) as caught:
        remote.update(row.remote_id, record("k:1", status="x"))
    assert caught.value.trashed and caught.value.remote_id == row.remote_id


def test_find_by_key(remote: NotionRemote) -> None:
    row = remote.create(record("block:Projects/Home.md#^abc"))
    remote.create(record("k:other"))
    found = remote.find_by_key("block:Projects/Home.md#^abc")
    assert found is not None and found.remote_id == row.remote_id
    assert remote.find_by_key("k:missing") is None
    remote.trash(row.remote_id)
    assert remote.find_by_key("block:Projects/Home.md#^abc") is None


def test_person_edits_in_notion_are_read_as_statuses(fake: FakeNotion,
                                                     remote: NotionRemote) -> None:
    ids = [remote.create(record(f"k:{i}")).remote_id for i in range(4)]
    fake.tick(ids[0])
    fake.set_select(ids[1], "Status", "Cancelled")
    fake.set_select(ids[2], "Status", "Doing")
    fake.edit_row(ids[3], {"Task": "Changed in Notion"})
    rows = {r.remote_id: r for r in remote.snapshot(None).rows}
    assert [rows[i].status for i in ids] == ["x", "-", "/", " "]
    assert rows[ids[3]].text == "Changed in Notion"
    assert rows[ids[3]].content_hash != record("k:3").content_hash()


def test_a_row_made_by_a_person_has_no_key(fake: FakeNotion, remote: NotionRemote) -> None:
    fake.add_row(remote.database_id, {"Task": "Typed in Notion", "Done": True})
    [row] = remote.snapshot(None).rows
    assert row.key is None and row.status == "x" and row.text == "Typed in Notion"


def test_pagination_follows_cursors_through_short_pages() -> None:
    with FakeNotion(page_cap=7) as fake, new_database(fake) as remote:
        source = remote.data_source_id
        for i in range(40):
            fake.add_row(source, {"Task": f"t{i}", "Key": f"k:{i}"})
        snap = remote.snapshot(None)
        assert sorted(r.key or "" for r in snap.rows) == sorted(f"k:{i}" for i in range(40))
        assert snap.requests == math.ceil(40 / 7)


def test_incremental_snapshot_with_nothing_changed_costs_one_request() -> None:
    clock = FakeClock()
    with FakeNotion(clock=clock) as fake, new_database(fake, clock=clock.now) as remote:
        for i in range(3):
            remote.create(record(f"k:{i}"))
        clock.advance(600)
        first = remote.snapshot(None)
        assert len(first.rows) == 3
        clock.advance(600)
        quiet = remote.snapshot(first.started_at)
        assert (quiet.rows, quiet.requests, quiet.complete) == ((), 1, False)
        # A person ticks one row: the next incremental read returns just that row.
        target = first.rows[1].remote_id
        fake.tick(target)
        changed = remote.snapshot(quiet.started_at)
        assert [(r.remote_id, r.status) for r in changed.rows] == [(target, "x")]


def test_incremental_window_looks_back_two_minutes() -> None:
    clock = FakeClock()
    with FakeNotion(clock=clock) as fake, new_database(fake, clock=clock.now) as remote:
        row = remote.create(record("k:1"))
        clock.advance(600)
        # An edit in the same (rounded) minute as the snapshot must still be seen next time.
        snap = remote.snapshot(None)
        fake.tick(row.remote_id)
        assert [r.status for r in remote.snapshot(snap.started_at).rows] == ["x"]
        _, _, body = fake.log[-1]
        edge = body["filter"]["last_edited_time"]["on_or_after"]
        expected = snap.started_at - timedelta(minutes=2)
        assert abs(datetime.fromisoformat(edge.replace("Z", "+00:00")) - expected) < timedelta(
            seconds=1)


def test_started_at_follows_a_server_clock_behind_ours() -> None:
    clock = FakeClock()
    clock.advance(-3600)  # Notion's clock an hour behind the local one
    with FakeNotion(clock=clock) as fake, new_database(fake) as remote:
        snap = remote.snapshot(None)
        assert snap.started_at < datetime.now(UTC) - timedelta(minutes=50)
        row = remote.create(record("k:1"))
        fake.tick(row.remote_id)
        assert [r.status for r in remote.snapshot(snap.started_at).rows] == ["x"]


def test_duplicate_keys_are_reported(fake: FakeNotion, remote: NotionRemote) -> None:
    remote.create(record("k:1"))
    fake.add_row(remote.database_id, {"Task": "copy", "Key": "k:1"})
    assert remote.snapshot(None).notes == ("2 live rows carry the key k:1",)


def test_known_data_source_skips_discovery(fake: FakeNotion, remote: NotionRemote) -> None:
    cached = remote.data_source_id
    with NotionRemote(fake.token, base_url=fake.base_url, database_id=remote.database_id,
                      data_source_id=cached, options=remote.options) as again:
        fake.reset_counts()
        assert again.snapshot(None).requests == 1
        assert fake.count("GET /v1/databases/{id}") == 0
    with NotionRemote(fake.token, base_url=fake.base_url, database_id=remote.database_id,
                      options=remote.options) as cold:
        assert cold.snapshot(None).requests == 2
        assert cold.data_source_id == cached


def test_a_naive_since_is_taken_as_utc(fake: FakeNotion, remote: NotionRemote) -> None:
    remote.snapshot(datetime(2026, 6, 27, 5, 51))
    _, _, body = fake.log[-1]
    assert body["filter"]["last_edited_time"] == {"on_or_after": "2026-06-27T05:49:00.000Z"}


class _LoopingFake(FakeNotion):
    """A broken server whose every page says 'more, at the same cursor'."""

    def _query(self, source_id: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = super()._query(source_id, {k: v for k, v in body.items()
                                            if k != "start_cursor"})
        answer.update(has_more=True, next_cursor="s:same:cursor")
        return answer


def test_a_looping_cursor_stops_with_an_error() -> None:
    with _LoopingFake() as fake, new_database(fake) as remote:
        with pytest.raises(RemoteError, match="repeated a page cursor"):
            remote.snapshot(None)
        assert fake.count("POST /v1/data_sources/{id}/query") == 2


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[FakeNotion, NotionRemote]]:
    with FakeNotion() as server, new_database(server) as bound:
        yield server, bound


_word = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=6)
_styled = st.sampled_from(["{}", "**{}**", "*{}*", "~~{}~~", "`{}`", "[{}](https://e.org/a)"])
_text = st.lists(st.tuples(_word, _styled), min_size=1, max_size=6).map(
    lambda runs: " ".join(style.format(word) for word, style in runs))
_day = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(date.isoformat)
_records = st.builds(
    lambda n, text, status, section, due, tags, prio: record(
        f"k:{n}", text, status, section=tuple(section), due=due, tags=tuple(tags),
        priority=prio, note=f"Folder {n % 3}/Note {n}.md",
        open_url=obsidian_url("My Vault", f"Folder {n % 3}/Note {n}.md")),
    st.integers(0, 10**9), _text, st.sampled_from([" ", "x", "/", "-"]),
    st.lists(_word, max_size=3), st.none() | _day,
    st.lists(_word, max_size=3, unique=True),
    st.none() | st.sampled_from(["highest", "high", "medium", "low", "lowest"]))


@settings(max_examples=examples(25), deadline=None)
@given(_records)
def test_any_record_round_trips_through_notion(shared: tuple[FakeNotion, NotionRemote],
                                               rec: TaskRecord) -> None:
    _, remote = shared
    row = remote.create(rec)
    again = remote.retrieve(row.remote_id)
    assert again is not None
    # What Notion holds hashes like the vault record, whichever way it is read back.
    assert row.content_hash == again.content_hash == rec.content_hash()
    assert remote.expected_hash(rec) == rec.content_hash()
    assert (again.key, again.status, again.note) == (rec.key, rec.status, rec.note)
    remote.trash(row.remote_id)


def test_a_key_and_note_that_are_not_valid_utf8_round_trip(fake: FakeNotion,
                                                           remote: NotionRemote) -> None:
    # A note whose file name is not valid UTF-8 holds its bytes as lone surrogates, which no
    # JSON request can carry: creating its rows raised UnicodeEncodeError. The key comes back
    # exactly (it is the task's identity), the note shows U+FFFD, the link opens the file.
    key, note = "block:caf\udce9 \udcff.md#^abc", "caf\udce9 \udcff.md"
    rec = record(key, "hello", note=note, open_url=obsidian_url("My Vault", note))
    row = remote.create(rec)
    [stored] = fake.table(remote.database_id)
    assert stored["Note"] == "caf\ufffd \ufffd.md"
    assert stored["Open"] == "obsidian://open?vault=My%20Vault&file=caf%E9%20%FF"
    assert stored["Key"].isascii()
    assert row.key == key
    assert row.content_hash == remote.expected_hash(rec)
    found = remote.find_by_key(key)
    assert found is not None and found.remote_id == row.remote_id
    again = remote.retrieve(row.remote_id)
    assert again is not None and (again.key, again.content_hash) == (key, row.content_hash)
    (listed,) = remote.snapshot(None).rows
    assert listed.key == key


@pytest.mark.parametrize("key", ["k:0123", "id:a b", "block:n.md#^x", "pct:", "block:%41.md#^x"])
def test_a_valid_key_is_written_as_it_is(fake: FakeNotion, remote: NotionRemote,
                                         key: str) -> None:
    remote.create(record(key))
    assert [r["Key"] for r in fake.table(remote.database_id)] == [key]
