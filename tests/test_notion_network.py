"""Hostile tokens and base URLs, and network waits that end: real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from fake_notion import FakeNotion, fast_options, new_database
from vaultmap.cli import main
from vaultmap.config import NotionSettings, Settings
from vaultmap.errors import ConfigError
from vaultmap.sync.notion import NotionRemote
from vaultmap.sync.remote import RemoteAuthError, RemoteError
from vaultmap.sync.runner import SyncBusyError, run_sync

SECRET = "ntn_SECRETVALUE_51c0e9"


# -- the token --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\r\n", "\n", "\u00a0", "\u200b", "\x00", "é"])
def test_a_token_with_a_bad_character_is_refused_before_any_request(bad: str) -> None:
    token = SECRET[:8] + bad + SECRET[8:]
    with FakeNotion(token=token) as fake:
        with pytest.raises(RemoteAuthError) as caught:
            NotionRemote(token, base_url=fake.base_url, database_id="0" * 32,
                         options=fast_options()).snapshot(None)
        assert fake.total_requests == 0
    message = str(caught.value)
    assert caught.value.exit_code == 5
    assert "\n" not in message and "NOTION_TOKEN" in message
    assert SECRET[:8] not in message and SECRET[8:] not in message


def test_the_cli_says_one_line_for_a_token_with_a_line_break(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text(
        '[notion]\ndatabase_id = "' + "1" * 32 + '"\nmax_attempts = 8\n')
    (tmp_path / "Plan.md").write_text("- [ ] one\n")
    with FakeNotion() as fake:
        result = CliRunner().invoke(main, ["sync", str(tmp_path)], env={
            "NOTION_TOKEN": SECRET + "\r\nX-Evil: 1", "VAULTMAP_NOTION_BASE_URL": fake.base_url})
        assert fake.total_requests == 0
    assert result.exit_code == 5, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert SECRET not in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_basic_auth_in_the_base_url_is_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = "hunter2pass"
    remote = NotionRemote(SECRET, base_url=f"http://user:{password}@127.0.0.1:{port}",
                          database_id="0" * 32, options=fast_options(max_attempts=2))
    with remote, pytest.raises(RemoteError) as caught:
        remote.snapshot(None)
    encoded = base64.b64encode(f"user:{password}".encode()).decode()
    for text in (str(caught.value), repr(remote), caplog.text, repr(vars(remote))):
        assert password not in text and encoded not in text and SECRET not in text


def test_every_form_of_the_token_is_redacted() -> None:
    remote = NotionRemote(SECRET, base_url="http://user:pw%20x@127.0.0.1:9",
                          options=fast_options())
    escaped = SECRET.encode("unicode_escape").decode()
    b64 = base64.b64encode(b"user:pw x").decode()
    text = f"a {SECRET} b {SECRET!r} c {escaped} d Basic {b64} e pw%20x f pw x"
    cleaned = remote.redact(text)
    for secret in (SECRET, b64, "pw%20x", "pw x"):
        assert secret not in cleaned


# -- base URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://[::1", "http://example.com\n/v1", "ftp://x",
                                 "http://", "http://exa mple.com"])
def test_a_bad_base_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        NotionRemote(SECRET, base_url=url, options=fast_options())
    assert caught.value.exit_code == 3
    assert "\n" not in str(caught.value)


def test_the_cli_gives_exit_3_for_a_bad_base_url(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text('[notion]\ndatabase_id = "' + "1" * 32 + '"\n')
    result = CliRunner().invoke(main, ["sync", str(tmp_path)], env={
        "NOTION_TOKEN": SECRET, "VAULTMAP_NOTION_BASE_URL": "http://[::1"})
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output + result.stderr


# -- waits that end -------------------------------------------------------------------------------


@pytest.fixture
def trickler() -> Iterator[str]:
    """A server that answers 200 and then sends its body one byte every 0.2 s, forever."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _trickle(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            while not stop.is_set():
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                stop.wait(0.2)

        do_GET = do_POST = do_PATCH = _trickle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}"
    stop.set()
    server.shutdown()
    server.server_close()


def test_a_trickling_server_ends_at_the_request_deadline(trickler: str) -> None:
    options = fast_options(timeout=1.0, max_attempts=2)
    remote = NotionRemote(SECRET, base_url=trickler, database_id="0" * 32, options=options)
    start = time.monotonic()
    with remote, pytest.raises(RemoteError, match="did not answer within"):
        remote.snapshot(None)
    assert time.monotonic() - start < 6  # 2 attempts of at most 1 s each, plus slack


def test_a_closed_port_on_this_machine_fails_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    remote = NotionRemote(SECRET, base_url=f"http://127.0.0.1:{port}", database_id="0" * 32,
                          options=fast_options(max_attempts=8, backoff=1.0, backoff_max=5.0))
    start = time.monotonic()
    with remote, pytest.raises(RemoteError, match="cannot reach Notion"):
        remote.snapshot(None)
    assert time.monotonic() - start < 1.0  # refused by this machine: no retries


def test_a_sync_has_an_overall_deadline() -> None:
    with FakeNotion() as fake, new_database(fake) as made:
        database = made.database_id
        fake.inject("503", route="POST /v1/data_sources/{id}/query", times=1000)
        options = fast_options(max_attempts=1000, backoff=0.05, backoff_max=0.05,
                               deadline=1.0)
        start = time.monotonic()
        with NotionRemote(fake.token, base_url=fake.base_url, database_id=database,
                          options=options) as remote, pytest.raises(RemoteError,
                                                                    match="gave up after"):
            remote.snapshot(None)
        assert time.monotonic() - start < 3.0


def test_retries_are_reported_while_they_wait() -> None:
    heard: list[str] = []
    with FakeNotion() as fake, new_database(fake) as made:
        fake.inject("502", route="POST /v1/data_sources/{id}/query", times=2)
        with NotionRemote(fake.token, base_url=fake.base_url, database_id=made.database_id,
                          options=fast_options(), on_wait=heard.append) as remote:
            remote.snapshot(None)
    assert len(heard) == 2 and all("HTTP 502" in h and "retrying" in h for h in heard)


def test_a_second_sync_says_at_once_that_it_waits(tmp_path: Path) -> None:
    from filelock import FileLock

    settings = Settings(root=tmp_path, notion=NotionSettings(database_id="1" * 32))
    settings.state_dir.mkdir(parents=True)
    heard: list[tuple[str, int, int | None]] = []
    with FileLock(str(settings.state_dir / "sync-notion.lock")), FakeNotion() as fake:
        remote = NotionRemote(fake.token, base_url=fake.base_url, database_id="1" * 32,
                              options=fast_options())
        with remote, pytest.raises(SyncBusyError):
            run_sync(settings, remote, lock_timeout=0.3,
                     progress=lambda what, done, total: heard.append((what, done, total)))
    assert heard and "waiting" in heard[0][0] and heard[0][2] is None
