"""The fake GitHub behaves as the real service does where vaultmap can tell (raw HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fake_github import FakeGitHub


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_repo("ada/roadmap")
        yield server


def call(fake: FakeGitHub, method: str, path: str, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {fake.token}", "User-Agent": "test",
               "X-GitHub-Api-Version": "2022-11-28"}
    headers.update(kwargs.pop("headers", {}))  # type: ignore[arg-type]
    return httpx.request(method, fake.api_url + path, headers=headers, **kwargs)  # type: ignore[arg-type]


def test_versions_user_agent_and_tokens(fake: FakeGitHub) -> None:
    assert call(fake, "GET", "/user").status_code == 200
    assert call(fake, "GET", "/user", headers={"Authorization": f"token {fake.token}"}) \
        .status_code == 200
    bad = call(fake, "GET", "/user", headers={"Authorization": "token nope"})
    assert bad.status_code == 401 and bad.json()["status"] == "401"
    assert call(fake, "GET", "/user", headers={"X-GitHub-Api-Version": "1999-01-01"}) \
        .status_code == 400
    assert call(fake, "GET", "/user", headers={"X-GitHub-Api-Version": "2021-01-01"}) \
        .status_code == 410
    assert call(fake, "GET", "/user", headers={"User-Agent": ""}).status_code == 403


def test_conditional_requests_are_free_and_lists_have_weak_etags(fake: FakeGitHub) -> None:
    fake.add_issue("ada/roadmap", "one")
    listed = call(fake, "GET", "/repos/ada/roadmap/issues")
    assert listed.headers["etag"].startswith('W/"')
    remaining = int(listed.headers["x-ratelimit-remaining"])
    again = call(fake, "GET", "/repos/ada/roadmap/issues",
                 headers={"If-None-Match": listed.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-remaining"]) == remaining
    unquoted = listed.headers["etag"].removeprefix("W/").strip('"')
    assert call(fake, "GET", "/repos/ada/roadmap/issues",
                headers={"If-None-Match": unquoted}).status_code == 200


def test_state_reason_needs_a_state_change_and_reopen_says_so(fake: FakeGitHub) -> None:
    fake.add_issue("ada/roadmap", "one")
    path = "/repos/ada/roadmap/issues/1"
    before = call(fake, "GET", path).json()
    same = call(fake, "PATCH", path, json={"state_reason": "not_planned"}).json()
    assert same["state_reason"] is None and same["updated_at"] == before["updated_at"]
    closed = call(fake, "PATCH", path, json={"state": "closed",
                                             "state_reason": "not_planned"}).json()
    assert (closed["state"], closed["state_reason"]) == ("closed", "not_planned")
    assert closed["closed_at"] is not None
    reopened = call(fake, "PATCH", path, json={"state": "open"}).json()
    assert (reopened["state_reason"], reopened["closed_at"]) == ("reopened", None)
    assert call(fake, "PATCH", path, json={"state": "shut"}).status_code == 422


def test_validation_errors_and_pages_past_the_end(fake: FakeGitHub) -> None:
    missing = call(fake, "POST", "/repos/ada/roadmap/issues", json={"body": "x"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "title"
    broken = call(fake, "POST", "/repos/ada/roadmap/issues", content=b"{nope",
                  headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["message"] == "Problems parsing JSON"
    assert call(fake, "GET", "/repos/ada/roadmap/issues?page=9").json() == []
    assert "link" not in call(fake, "GET", "/repos/ada/roadmap/issues").headers


def test_a_web_edit_stores_crlf_and_bumps_the_etag(fake: FakeGitHub) -> None:
    fake.add_issue("ada/roadmap", "one", "- [ ] a\n- [ ] b\n")
    first = call(fake, "GET", "/repos/ada/roadmap/issues/1")
    fake.web_tick("ada/roadmap", 1, "b")
    second = call(fake, "GET", "/repos/ada/roadmap/issues/1",
                  headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.json()["body"] == "- [ ] a\r\n- [x] b\r\n"
    assert fake.issue("ada/roadmap", 1).edits == ["web"]  # seeded by a person, then clicked
