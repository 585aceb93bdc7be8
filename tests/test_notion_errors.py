"""Clear one-line errors for everything a user can meet, and the token never leaks."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from fake_notion import FakeNotion, fast_options, new_database, record
from vaultmap.config import load_settings
from vaultmap.errors import ConfigError
from vaultmap.sync.notion import NotionRemote
from vaultmap.sync.remote import RemoteAuthError, RemoteError

SECRET = "ntn_TOPSECRET_4f1d9c2ab7"
WRONG = "ntn_WRONGSECRET_99e0aa"


def test_missing_token_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text('[notion]\ntoken_env = "MY_NOTION"\n')
    settings = load_settings(tmp_path)
    with pytest.raises(RemoteAuthError, match=r"no Notion token: set \$MY_NOTION"):
        NotionRemote.from_settings(settings, environ={"NOTION_TOKEN": "not this one"})


def test_from_settings_reads_token_base_url_and_tuning(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text(
        '[notion]\nrequests_per_second = 0\ntimeout = 1.5\nmax_attempts = 3\nbackoff = 0.001\n')
    settings = load_settings(tmp_path)
    with FakeNotion(token=SECRET) as fake:
        remote = NotionRemote.from_settings(
            settings, environ={"NOTION_TOKEN": SECRET, "VAULTMAP_NOTION_BASE_URL":
                               fake.base_url + "/v1/"})
        with remote:
            assert (remote.options.requests_per_second, remote.options.timeout,
                    remote.options.max_attempts) == (0.0, 1.5, 3)
            assert remote.vault_name == tmp_path.name
            remote.create_database(fake.add_page(), "Tasks")
            assert fake.total_requests == 1
            # The headers the SDK sends: bearer token and the data-sources API version.
            assert fake.count("POST /v1/databases") == 1


def test_an_invalid_token_is_one_line() -> None:
    with FakeNotion(token=SECRET) as fake:
        database_id, _ = fake.add_database(fake.add_page(), "T", {"Task": "title"})
        with NotionRemote(WRONG, base_url=fake.base_url, database_id=database_id,
                          options=fast_options()) as remote, pytest.raises(RemoteAuthError) as e:
            remote.snapshot(None)
    assert str(e.value) == ("Notion rejected the token in $NOTION_TOKEN (401 unauthorized): "
                            "copy the integration's secret again")
    assert e.value.exit_code == 5
    assert fake.total_requests == 1  # a 401 is not retried


def _collect_failures(fake: FakeNotion, remote: NotionRemote) -> list[BaseException]:
    """Drive the adapter through every error path it has; return what was raised."""
    caught: list[BaseException] = []

    def expect(action: object) -> None:
        assert callable(action)
        try:
            action()
        except RemoteError as error:
            caught.append(error)
        else:  # pragma: no cover - the test wants every path to fail
            raise AssertionError("no error")

    row = remote.create(record("k:1", "Secret-free text"))
    fake.inject("502", times=20)
    expect(lambda: remote.snapshot(None))
    fake.clear_faults()
    fake.inject("slow", times=20, delay=1.5)
    expect(lambda: remote.update(row.remote_id, record("k:1", status="x")))
    fake.clear_faults()
    fake.inject("drop", times=20)
    expect(lambda: remote.create(record("k:2")))
    fake.clear_faults()
    fake.retype_property(remote.database_id, "Priority", "rich_text")
    expect(lambda: remote.update(row.remote_id, record("k:1", priority="high")))
    fake.retype_property(remote.database_id, "Done", "rich_text")
    expect(lambda: remote.snapshot(None))
    fake.trash_row(row.remote_id)
    expect(lambda: remote.update(row.remote_id, record("k:1")))
    expect(lambda: remote.update("../../v1/users", record("k:1")))
    expect(lambda: remote.create_database("https://evil.example/nothing", "x"))
    fake.unshare(remote.database_id)
    expect(lambda: remote.link_database(remote.database_id))
    with NotionRemote(WRONG, base_url=fake.base_url, database_id=remote.database_id,
                      options=fast_options()) as wrong:
        expect(lambda: wrong.snapshot(None))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with NotionRemote(SECRET, base_url=f"http://127.0.0.1:{port}", database_id="1" * 32,
                      options=fast_options(max_attempts=2)) as offline:
        expect(lambda: offline.snapshot(None))
    return caught


def test_the_token_never_leaks(caplog: pytest.LogCaptureFixture,
                               capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and the SDK included
    for name in ("vaultmap", "vaultmap.notion.sdk", "httpx", "httpcore", "notion_client"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    with FakeNotion(token=SECRET) as fake, new_database(
            fake, options=fast_options(timeout=0.5, max_attempts=2)) as remote:
        caught = _collect_failures(fake, remote)
        texts = [repr(remote), str(remote.options), repr(vars(remote)),
                 repr(vars(remote._client)), repr(remote._client.options),
                 repr(remote._client.client.headers)]
    assert len(caught) == 11
    for error in caught:
        texts += [str(error), repr(error), str(error.args)]
        assert "\n" not in str(error), str(error)
        assert error.__cause__ is None
    texts += [caplog.text, *capsys.readouterr()]
    for text in texts:
        assert SECRET not in text
        assert WRONG not in text
    assert "retrying" in caplog.text  # the logs were really captured


def test_a_missing_capability_is_one_line() -> None:
    with FakeNotion() as fake, new_database(fake) as remote:
        fake.inject("403", route="POST /v1/pages")
        with pytest.raises(RemoteAuthError) as caught:
            remote.create(record("k:1"))
    assert str(caught.value).startswith("the Notion integration may not create the row of task "
                                        "k:1 'Buy milk' (403 restricted_resource)")
    assert fake.count("POST /v1/pages") == 1  # not retried


@pytest.mark.parametrize("url", ["api.notion.com", "ftp://x.y", "http://", ""])
def test_a_bad_base_url_is_refused_up_front(url: str, tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    environ = {"NOTION_TOKEN": SECRET, "VAULTMAP_NOTION_BASE_URL": url}
    if not url:  # empty means "not set": the real API
        with NotionRemote.from_settings(settings, environ=environ) as remote:
            assert remote.base_url == "https://api.notion.com"
        return
    # A wrong address is configuration (exit 3), not a failing remote (exit 4).
    with pytest.raises(ConfigError, match=r"must be an http\(s\) URL") as caught:
        NotionRemote.from_settings(settings, environ=environ)
    assert caught.value.exit_code == 3
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(("line", "fragment"), [
    ("requests_per_second = -1", "requests_per_second must be at least 0, not -1"),
    ("max_attempts = 0", "max_attempts must be at least 1, not 0"),
    ("timeout = 0", "timeout must be more than 0"),
    ('backoff = "fast"', "backoff must be a number, not 'fast'"),
    ("max_attempts = 2.5", "max_attempts must be an integer, not 2.5"),
    ("timeout = true", "timeout must be a number"),
])
def test_bad_notion_tuning_is_a_config_error(tmp_path: Path, line: str, fragment: str) -> None:
    (tmp_path / ".vaultmap.toml").write_text(f"[notion]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert fragment in str(caught.value)


def test_two_roles_on_one_column_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"due and scheduled both name the property 'When'"):
        NotionRemote(SECRET, properties={"due": "When", "scheduled": "When"})
