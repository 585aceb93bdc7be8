"""The GitHub client against the fake server: tokens, conditional requests, limits, errors."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from fake_github import FakeGitHub, iso
from vaultmap.errors import GitHubNotFoundError
from vaultmap.sync.github.http import (
    GitHubClient,
    GitHubOptions,
    api_url_for_host,
    api_url_from,
    resolve_token,
    web_host_of,
)
from vaultmap.sync.remote import RemoteAuthError, RemoteError, RemoteSchemaError

FAST = GitHubOptions(timeout=5.0, max_attempts=4, backoff=0.001, backoff_max=0.01,
                     write_interval=0.0, secondary_wait=0.01)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_repo("ada/roadmap")
        yield server


class Sleeps:
    """Records the waits the client asks for instead of waiting them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client_for(fake: FakeGitHub, **kwargs: object) -> GitHubClient:
    kwargs.setdefault("options", FAST)
    return GitHubClient(fake.token, api_url=fake.api_url, **kwargs)  # type: ignore[arg-type]


def test_an_unchanged_issue_costs_a_304_and_no_rate_limit(fake: FakeGitHub) -> None:
    number = fake.add_issue("ada/roadmap", "Roadmap", "body")
    with client_for(fake) as client:
        first = client.get_json(f"/repos/ada/roadmap/issues/{number}")
        used = fake.units_used
        again = client.get_json(f"/repos/ada/roadmap/issues/{number}")
        assert again == first
        assert fake.units_used == used  # the 304 was free
        assert client.usage.not_modified == 1
        fake.web_edit("ada/roadmap", number, "new\nbody")
        changed = client.get_json(f"/repos/ada/roadmap/issues/{number}")
        assert changed["body"] == "new\r\nbody"
        assert fake.units_used == used + 1
    assert any(agent.startswith("vaultmap/") for agent in fake.user_agents)


def test_lists_follow_link_pages_and_since(fake: FakeGitHub) -> None:
    for n in range(230):
        fake.add_issue("ada/roadmap", f"issue {n}")
    with client_for(fake) as client:
        items = list(client.paginate("/repos/ada/roadmap/issues", {"state": "all"}))
        assert len(items) == 230
        assert fake.count("GET /repos/{o}/{r}/issues") == 3
        assert len({i["number"] for i in items}) == 230
        fake.clock.advance(120)
        since = iso(fake.clock.now())
        fake.web_edit("ada/roadmap", 7, "edited")
        recent = list(client.paginate("/repos/ada/roadmap/issues",
                                      {"state": "all", "since": since}))
        assert [i["number"] for i in recent] == [7]


def test_a_wrong_token_is_exit_5_and_never_shown(fake: FakeGitHub) -> None:
    secret = "ghp_wrongwrongwrongwrong1234"
    with GitHubClient(secret, api_url=fake.api_url, options=FAST) as client, \
            pytest.raises(RemoteAuthError) as caught:
        client.get_json("/repos/ada/roadmap/issues/1")
    assert caught.value.exit_code == 5
    assert secret not in str(caught.value) and secret not in repr(client)
    assert "Bad credentials" in str(caught.value)


def test_a_private_repository_is_explained(fake: FakeGitHub) -> None:
    fake.add_repo("ada/secret", visible=False)
    with client_for(fake) as client, pytest.raises(GitHubNotFoundError) as caught:
        client.get_json("/repos/ada/secret/issues/1")
    assert caught.value.exit_code == 6
    assert "ada/secret" in str(caught.value) and "private" in str(caught.value)


def test_issues_disabled_is_said_plainly(fake: FakeGitHub) -> None:
    fake.add_repo("ada/noissues", issues_enabled=False)
    with client_for(fake) as client, pytest.raises(RemoteSchemaError, match="disabled"):
        client.post_json("/repos/ada/noissues/issues", {"title": "x"})


def test_a_body_over_the_limit_is_a_schema_error(fake: FakeGitHub) -> None:
    with client_for(fake) as client, pytest.raises(RemoteSchemaError, match="too long"):
        client.post_json("/repos/ada/roadmap/issues", {"title": "x", "body": "y" * 70000})


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_limit_is_waited_out_with_a_progress_line(fake: FakeGitHub,
                                                              status: int) -> None:
    fake.inject("secondary", route="POST /repos/{o}/{r}/issues", status=status,
                retry_after="3")
    sleeps, lines = Sleeps(), []
    with client_for(fake, sleep=sleeps, on_wait=lines.append) as client:
        created = client.post_json("/repos/ada/roadmap/issues", {"title": "T"})
    assert created["number"] == 1
    assert 3.0 in sleeps.waits
    assert lines and "waiting 3 s" in lines[0]
    assert len(fake.issues("ada/roadmap")) == 1


def test_a_primary_limit_waits_until_the_reset(fake: FakeGitHub) -> None:
    fake.inject("primary", route="GET /repos/{o}/{r}/issues/{n}", status=429)
    fake.add_issue("ada/roadmap", "T")
    sleeps, lines = Sleeps(), []
    with client_for(fake, sleep=sleeps, on_wait=lines.append) as client:
        assert client.get_json("/repos/ada/roadmap/issues/1")["title"] == "T"
    assert sleeps.waits and 0 < sleeps.waits[0] <= 3
    assert "rate limit" in lines[0]


def test_a_limit_that_would_take_too_long_fails_with_exit_4(fake: FakeGitHub) -> None:
    fake.inject("secondary", route="GET /repos/{o}/{r}/issues/{n}", retry_after="7200")
    options = replace(FAST, max_rate_wait=60.0)
    with client_for(fake, options=options, sleep=Sleeps()) as client, \
            pytest.raises(RemoteError) as caught:
        client.get_json("/repos/ada/roadmap/issues/1")
    assert caught.value.exit_code == 4


def test_server_errors_are_retried(fake: FakeGitHub) -> None:
    fake.add_issue("ada/roadmap", "T")
    fake.inject("502", route="PATCH /repos/{o}/{r}/issues/{n}", times=2)
    with client_for(fake, sleep=Sleeps()) as client:
        client.patch_json("/repos/ada/roadmap/issues/1", {"body": "b"})
    assert fake.issue("ada/roadmap", 1).body == "b"
    assert fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 3


def test_a_create_whose_answer_was_lost_is_not_sent_twice(fake: FakeGitHub) -> None:
    fake.inject("drop_after", route="POST /repos/{o}/{r}/issues")
    with client_for(fake, sleep=Sleeps()) as client, pytest.raises(RemoteError):
        client.post_json("/repos/ada/roadmap/issues", {"title": "T"})
    assert len(fake.issues("ada/roadmap")) == 1  # applied once, not retried blindly


def test_writes_are_paced(fake: FakeGitHub) -> None:
    fake.add_issue("ada/roadmap", "T")
    sleeps = Sleeps()
    with client_for(fake, options=replace(FAST, write_interval=0.2), sleep=sleeps) as client:
        for n in range(3):
            client.patch_json("/repos/ada/roadmap/issues/1", {"body": str(n)})
    assert len([w for w in sleeps.waits if 0 < w <= 0.2]) == 2


def test_token_sources_in_order(tmp_path: Path) -> None:
    good = "ghp_" + "a" * 36
    assert resolve_token({"GH_TOKEN": good, "GITHUB_TOKEN": "ghp_other_token"}) == good
    assert resolve_token({"GITHUB_TOKEN": good}, gh="") == good
    with pytest.raises(RemoteAuthError, match="not a GitHub token") as caught:
        resolve_token({"GITHUB_TOKEN": "ghp_abc def ghi"}, gh="")
    assert "abc" not in str(caught.value)
    # `gh auth token` when the environment has none (a real subprocess).
    gh = tmp_path / "gh"
    gh.write_text(f"#!/bin/sh\n[ \"$1 $2\" = 'auth token' ] && echo {good}\n")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    assert resolve_token({}, gh=str(gh)) == good
    with pytest.raises(RemoteAuthError, match="GITHUB_TOKEN"):
        resolve_token({}, gh="")


def test_gh_host_names_the_api_and_an_explicit_url_wins() -> None:
    assert api_url_from({"GH_HOST": "github.com"}) == "https://api.github.com"
    assert api_url_from({"GH_HOST": "GitHub.Example.com"}) == \
        "https://github.example.com/api/v3"
    assert api_url_from({"GH_HOST": "ghe.local:8443"}) == "https://ghe.local:8443/api/v3"
    assert api_url_from({"GH_HOST": "acme.ghe.com"}) == "https://api.acme.ghe.com"
    assert api_url_from({"GH_HOST": "ghe.local", "VAULTMAP_GITHUB_API_URL":
                         "http://127.0.0.1:9/api/v3/"}) == "http://127.0.0.1:9/api/v3"
    with pytest.raises(RemoteSchemaError, match="GH_HOST must be a host name") as caught:
        api_url_from({"GH_HOST": "https://ghp_secretvalue@ghe.local/"})
    assert "secretvalue" not in str(caught.value)
    # The host gh logs in to, for each API address (the inverse).
    for host in ("github.com", "github.example.com", "ghe.local:8443", "acme.ghe.com"):
        assert web_host_of(api_url_for_host(host)) == host


def test_the_token_follows_the_host(tmp_path: Path) -> None:
    enterprise, public = "ghp_" + "e" * 36, "ghp_" + "p" * 36
    both = {"GH_ENTERPRISE_TOKEN": enterprise, "GITHUB_TOKEN": public}
    assert resolve_token(both, gh="", host="ghe.local") == enterprise
    assert resolve_token({"GITHUB_ENTERPRISE_TOKEN": enterprise, "GITHUB_TOKEN": public},
                         gh="", host="ghe.local") == enterprise
    assert resolve_token(both, gh="") == public  # an Enterprise token never goes to github.com
    assert resolve_token(both, gh="", host="acme.ghe.com") == public
    assert resolve_token({"GITHUB_TOKEN": public}, gh="", host="ghe.local") == public
    # `gh auth token` is asked for the host the API address names.
    gh = tmp_path / "gh"
    gh.write_text("#!/bin/sh\n[ \"$*\" = 'auth token --hostname ghe.local' ] && "
                  f"echo {enterprise}\nexit 0\n")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    assert resolve_token({}, gh=str(gh), host="ghe.local") == enterprise
    with pytest.raises(RemoteAuthError, match=r"no GitHub token for github\.com"):
        resolve_token({}, gh=str(gh))
    with pytest.raises(RemoteAuthError,
                       match=r"GH_ENTERPRISE_TOKEN.*gh auth login --hostname ghe\.other"):
        resolve_token({}, gh=str(gh), host="ghe.other")


def test_api_url_override() -> None:
    assert api_url_from({}) == "https://api.github.com"
    assert api_url_from({"VAULTMAP_GITHUB_API_URL": "http://127.0.0.1:9/"}) == \
        "http://127.0.0.1:9"
    with pytest.raises(RemoteSchemaError):
        api_url_from({"VAULTMAP_GITHUB_API_URL": "ftp:/nope"})


def test_a_fresh_write_reads_after_the_pause_and_again_after_a_refusal(fake: FakeGitHub) -> None:
    number = fake.add_issue("ada/roadmap", "Roadmap", "- [ ] one\n- [ ] two\n")
    path = f"/repos/ada/roadmap/issues/{number}"
    events: list[str] = []

    def sleep(seconds: float) -> None:
        events.append("wait")

    def tick(text: str) -> Callable[[], dict[str, str] | None]:
        def build() -> dict[str, str] | None:
            events.append("read")
            body = client.get_json(path)["body"]
            new = body.replace(f"[ ] {text}", f"[x] {text}")
            return {"body": new} if new != body else None
        return build

    with client_for(fake, options=replace(FAST, write_interval=0.2), sleep=sleep) as client:
        client.patch_fresh(path, tick("one"))
        events.clear()
        # The second write waits for its turn, then reads: never the other way round.
        fake.inject("secondary", route="PATCH /repos/{o}/{r}/issues/{n}", retry_after="0")
        fake.on_request("PATCH /repos/{o}/{r}/issues/{n}",
                        lambda: fake.web_edit("ada/roadmap", number, "- [x] one\n- [ ] two\n"
                                              "- [ ] three\n"))
        client.patch_fresh(path, tick("two"))
        assert events[:2] == ["wait", "read"] and events[-1] == "read"
        assert events.count("read") == 2  # read again after the refused (429) attempt
        assert fake.issue("ada/roadmap", number).body == \
            "- [x] one\r\n- [x] two\r\n- [ ] three\r\n"
        # Nothing to change: nothing is sent.
        writes = fake.count("PATCH /repos/{o}/{r}/issues/{n}")
        assert client.patch_fresh(path, tick("one")) is None
        assert fake.count("PATCH /repos/{o}/{r}/issues/{n}") == writes
