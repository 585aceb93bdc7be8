"""The HTTP layer under the Notion SDK: the token kept secret and redacted, the API address
checked, an overall deadline per request, pacing, and which failures are worth a retry."""

from __future__ import annotations

import base64
import functools
import re
import ssl
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
from notion_client.errors import (
    HTTPResponseError,
    RequestTimeoutError,
)

from vaultmap.config import NotionSettings
from vaultmap.errors import ConfigError
from vaultmap.sync.remote import (
    RemoteAuthError,
)

API_VERSION = "2025-09-03"
DEFAULT_BASE_URL = "https://api.notion.com"
BASE_URL_ENV = "VAULTMAP_NOTION_BASE_URL"


# ------------------------------------------------------------------------------------ options
# The HTTP tunables are the [notion] settings themselves (one type, defaults in the config
# schema); the old name stays for callers.
NotionOptions = NotionSettings


class _Secret:
    """A string that never shows itself in a repr, a traceback's locals or ``vars()``."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"


def check_token(token: str, token_env: str) -> None:
    """Refuse a token that cannot be a Notion secret before it is sent anywhere.

    Notion secrets are printable ASCII. A line break would end the HTTP header (and httpx
    would echo the header, token included, in its error); a copy-pasted no-break or
    zero-width space makes httpx fail to encode it. The message names the variable and
    the position, never the token.
    """
    for position, char in enumerate(token, 1):
        if "!" <= char <= "~":
            continue
        if char in "\r\n":
            what = "a line break"
        elif unicodedata.category(char) == "Cc" or char == " ":
            what = f"a {'space' if char == ' ' else 'control character'} (U+{ord(char):04X})"
        else:
            name = unicodedata.name(char, "").lower() or "unnamed character"
            what = f"a non-ASCII character (U+{ord(char):04X} {name})"
        raise RemoteAuthError(f"the Notion token in ${token_env} contains {what} at position "
                              f"{position}; copy the integration's secret again")


def _secret_forms(token: str, base_url: str) -> list[str]:
    """Every form a secret may take in a message: raw, repr-escaped, unicode-escaped, and
    the password of a ``user:pw@`` base URL (raw, percent-decoded, and inside the base64 of
    HTTP Basic auth)."""
    forms = [token, repr(token)[1:-1], token.encode("unicode_escape").decode("ascii")]
    try:
        parts = urlsplit(base_url)
        user, password = parts.username, parts.password
    except ValueError:
        user = password = None
    if password:
        for name, secret in ((user or "", password), (unquote(user or ""), unquote(password))):
            forms += [secret, f"{name}:{secret}",
                      base64.b64encode(f"{name}:{secret}".encode()).decode("ascii")]
    return sorted({f for f in forms if len(f) >= 4}, key=len, reverse=True)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class _DeadlineStream(httpx.SyncByteStream):
    """A response body that must arrive before a deadline (httpx's timeout is per read: a
    server sending a byte every second would never time out)."""

    def __init__(self, inner: httpx.SyncByteStream, request: httpx.Request,
                 deadline: float) -> None:
        self._inner = inner
        self._request = request
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("the answer did not arrive in time",
                                        request=self._request)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _DeadlineTransport(httpx.BaseTransport):
    """Gives every request one overall deadline, from sending it to the last body byte."""

    def __init__(self, inner: httpx.BaseTransport, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._seconds
        response = self._inner.handle_request(request)
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_DeadlineStream(stream, request, deadline),
                              extensions=response.extensions, request=request)

    def close(self) -> None:
        self._inner.close()


class _Pacer:
    """Spaces request starts ``1/rate`` seconds apart (shared by threads)."""

    def __init__(self, rate: float, sleep: Callable[[float], None],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._sleep = sleep
        self._monotonic = monotonic
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


# ------------------------------------------------------------------------------------ errors
_TRANSIENT_CODES = {"rate_limited", "conflict_error", "internal_server_error",
                    "service_unavailable", "gateway_timeout", "service_overload",
                    "database_connection_unavailable"}


def _code(error: BaseException) -> str:
    code = getattr(error, "code", "")
    return str(getattr(code, "value", code))


def is_transient(error: BaseException) -> bool:
    """Worth another try: rate limits, conflicts, 5xx, 529, timeouts, network trouble."""
    if isinstance(error, RequestTimeoutError | httpx.TransportError):
        return True
    if isinstance(error, HTTPResponseError):
        return _code(error) in _TRANSIENT_CODES or error.status >= 500 or error.status == 429
    return False


def _may_have_applied(error: BaseException) -> bool:
    """After this failure a write may have happened (the answer, not the request, was lost)."""
    if isinstance(error, HTTPResponseError):
        return error.status != 429 and _code(error) != "rate_limited"
    return not isinstance(error, httpx.ConnectError)


def _retry_after(error: BaseException, cap: float) -> float | None:
    headers = getattr(error, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), cap)


_PROPERTY_IN_MESSAGE = (
    re.compile(r"body\.properties\.([^.\[\s]+)"),
    re.compile(r"^(.+?) is expected to be "),
    re.compile(r"^(.+?) is not a property that exists"),
    re.compile(r"Could not find property with name or id: (.+?)\.?$"),
)


def _property_named(message: str) -> str | None:
    for pattern in _PROPERTY_IN_MESSAGE:
        found = pattern.search(message)
        if found:
            return found.group(1)
    return None


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(slots=True)
class _Counter:
    count: int = 0
    server_date: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


# ------------------------------------------------------------------------------------ helpers
@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~50 ms; one verified context serves every remote.
    return httpx.create_ssl_context()


def _json_object(answer: object) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise ValueError("Notion's answer is not a JSON object")
    return answer


def _clean_base_url(url: str) -> str:
    """The API address, or one line (exit 3) saying why it cannot be one; the address is
    shown without any ``user:password@``."""
    url = url.strip().rstrip("/")
    url = url[: -len("/v1")] if url.endswith("/v1") else url
    problem = ""
    if any(unicodedata.category(c) in ("Cc", "Zs", "Zl", "Zp") for c in url):
        problem = " (it contains a space or a control character)"
    else:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - a malformed port raises here
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problem = " "
        except ValueError as error:
            problem = f" ({error})"
    if problem:
        problem = ("must be an http(s) URL such as https://api.notion.com"
                   + problem.rstrip())
        shown = "".join(c if c.isprintable() else "?" for c in url)
        try:
            shown = _without_userinfo(shown)
        except ValueError:
            shown = shown.rpartition("@")[2]
        raise ConfigError(f"the Notion API address {shown[:80]!r} (${BASE_URL_ENV}) {problem}")
    return url


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "an unknown failure"
    status = getattr(error, "status", None)
    return f"{type(error).__name__}" + (f" HTTP {status}" if status else "")
