"""The HTTP layer under the Notion SDK: the token kept secret and redacted, the API address
checked, an overall deadline per request, pacing, and which failures are worth a retry."""

from __future__ import annotations

import base64
import functools
import ipaddress
import logging
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
import notion_client
import tenacity
from notion_client.errors import (
    APIResponseError,
    HTTPResponseError,
    RequestTimeoutError,
)

from vaultmap.config import NotionSettings
from vaultmap.errors import ConfigError
from vaultmap.sync.remote import (
    RemoteAuthError,
    RemoteError,
    RemoteGoneError,
    RemoteUnavailableError,
)
from vaultmap.sync.secret import Secret

API_VERSION = "2025-09-03"
DEFAULT_BASE_URL = "https://api.notion.com"
BASE_URL_ENV = "VAULTMAP_NOTION_BASE_URL"

log = logging.getLogger("vaultmap.notion")


# ------------------------------------------------------------------------------------ options
# The HTTP tunables are the [notion] settings themselves (one type, defaults in the config
# schema); the old name stays for callers.
NotionOptions = NotionSettings


_Secret = Secret  # the name this module's code uses


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


class NotionHttp:
    """The HTTP side of the Notion remote: one SDK client over httpx, each call paced and
    retried within an overall deadline, its failures worded as one-line RemoteErrors, and
    the token kept out of every message. :class:`~vaultmap.sync.notion.remote.NotionRemote`
    builds on it."""

    def __init__(self, token: str, *, base_url: str | None, options: NotionSettings,
                 token_env: str, sleep: Callable[[float], None],
                 on_wait: Callable[[str], None] | None) -> None:
        """Connect with ``token`` (already checked with :func:`check_token`)."""
        self.options = options
        #: Told (one line) each time a call waits to try again: the CLI shows it.
        self.on_wait = on_wait
        self.token_env = token_env
        self._sleep = sleep
        full_url = _clean_base_url(base_url or DEFAULT_BASE_URL)
        self._token = _Secret(token)
        self._secrets = _Secret("\x00".join(_secret_forms(token, full_url)))
        #: The API address as shown to people: without any ``user:password@``.
        self.base_url = _without_userinfo(full_url)
        self._host = urlsplit(self.base_url).hostname or ""
        self._pacer = _Pacer(self.options.requests_per_second, sleep)
        self._counter = _Counter()
        self._deadline_at = time.monotonic() + self.options.deadline
        transport = _DeadlineTransport(httpx.HTTPTransport(verify=_ssl_context()),
                                       self.options.timeout)
        http = httpx.Client(transport=transport,
                            event_hooks={"request": [self._on_request],
                                         "response": [self._on_response]})
        sdk_log = logging.getLogger("vaultmap.notion.sdk")
        sdk_log.propagate = False  # the SDK warns on every failure; we log retries ourselves
        if not sdk_log.handlers:
            sdk_log.addHandler(logging.NullHandler())
        self._client = notion_client.Client(
            client=http, base_url=full_url,
            timeout_ms=int(self.options.timeout * 1000), notion_version=API_VERSION,
            retry=False, logger=sdk_log, log_level=logging.CRITICAL)
        # The token goes straight into the HTTP client's headers (whose repr masks it), not
        # into the SDK's options dataclass, whose repr would print it.
        http.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def new_round(self) -> None:
        """Start another sync on this client (a long-lived one, the daemon's): a fresh
        ``[notion] deadline``; the connection pool, the pacing and the count go on."""
        self._deadline_at = time.monotonic() + self.options.deadline

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (every attempt counts)."""
        return self._counter.count

    def _on_request(self, request: httpx.Request) -> None:
        with self._counter.lock:
            self._counter.count += 1

    def _on_response(self, response: httpx.Response) -> None:
        stamp = response.headers.get("date")
        if stamp:
            try:
                moment = parsedate_to_datetime(stamp)
            except (TypeError, ValueError):
                return
            if moment.tzinfo is not None:
                self._counter.server_date = moment

    def redact(self, text: str) -> str:
        """``text`` with every form of the token and of base URL credentials masked."""
        for secret in self._secrets.value.split("\x00"):
            if secret:
                text = text.replace(secret, "***")
        return text

    # Last line of defence: nothing the SDK or httpx says may carry a secret out.
    _safe = redact

    def _transient(self, error: BaseException) -> bool:
        """Worth another try, and time left to try: a connection refused by this very
        machine (nothing listens) is not; nor is anything after the deadline."""
        if time.monotonic() >= self._deadline_at:
            return False
        if isinstance(error, httpx.ConnectError) and self._loopback():
            return False
        return is_transient(error)

    def _loopback(self) -> bool:
        if self._host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self._host).is_loopback
        except ValueError:
            return False

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RequestTimeoutError | httpx.TimeoutException):
            # Counted on the call's own retry state: other failures do not use this budget.
            timeouts = int(getattr(state, "vaultmap_timeouts", 0)) + 1
            state.vaultmap_timeouts = timeouts  # type: ignore[attr-defined]
            if timeouts >= self.options.timeout_attempts:
                return True
        return (state.attempt_number >= max(1, self.options.max_attempts)
                or time.monotonic() >= self._deadline_at)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if error is not None:
            after = _retry_after(error, self.options.max_retry_after)
            if after is not None:
                # "Retry-After: 0" still gets a breath, or a burst would meet the limit again.
                return max(after, self.options.backoff / 2)
        backoff = tenacity.wait_random_exponential(multiplier=self.options.backoff,
                                                   max=self.options.backoff_max)
        return max(float(backoff(state)), self.options.backoff / 2)

    def _wait_within_deadline(self, state: tenacity.RetryCallState) -> float:
        return max(0.0, min(self._wait(state), self._deadline_at - time.monotonic()))

    def _retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(
            stop=self._stop, wait=self._wait_within_deadline,
            retry=tenacity.retry_if_exception(self._transient),
            sleep=self._sleep, reraise=True, before_sleep=self._log_retry)

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        what = self._safe(_describe(error))
        log.info("notion: retrying after %s (attempt %d)", what, state.attempt_number)
        if self.on_wait is not None:
            self.on_wait(f"Notion answered {what}; retrying in {delay:.1f}s (attempt "
                         f"{state.attempt_number + 1} of {self.options.max_attempts})")

    def _out_of_time(self) -> RemoteUnavailableError | None:
        if time.monotonic() < self._deadline_at:
            return None
        return RemoteUnavailableError(
            f"Notion gave up after {self.options.deadline:g}s ([notion] deadline): the rest "
            "is left for the next sync")

    def _call(self, what: str, fn: Callable[[], object], *, subject: str = "") -> dict[str, Any]:
        """Run one API call paced and retried; failures become one-line RemoteErrors."""
        late = self._out_of_time()
        if late is not None:
            raise late
        try:
            for attempt in self._retrying():
                with attempt:
                    self._pacer.wait()
                    return _json_object(fn())
        except Exception as error:
            raise self._translate(error, what, subject) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _translate(self, error: BaseException, what: str, subject: str) -> RemoteError:
        attempts = self.options.max_attempts
        if isinstance(error, RemoteError):
            return error
        late = self._out_of_time()
        if late is not None:
            return late
        if isinstance(error, APIResponseError | HTTPResponseError):
            code, status = _code(error), error.status
            message = _one_line(self._safe(str(error)))
            # The SDK's stand-in code for a non-JSON answer says nothing to a person.
            label = f"HTTP {status} {code}" if isinstance(error, APIResponseError) \
                else f"HTTP {status}"
            if status == 401 or code == "unauthorized":
                return RemoteAuthError(f"Notion rejected the token in ${self.token_env} "
                                       "(401 unauthorized): copy the integration's secret again")
            if status == 403 or code == "restricted_resource":
                return RemoteAuthError(f"the Notion integration may not {what} (403 "
                                       "restricted_resource): give it read, update and insert "
                                       "content capabilities")
            if status == 404 or code == "object_not_found":
                if subject.startswith("row "):
                    return RemoteGoneError(f"Notion row {subject[4:]} no longer exists",
                                           remote_id=subject[4:], trashed=False)
                return RemoteAuthError(f"{subject or 'the Notion object'} was not found or is "
                                       "not shared with the integration: open it in Notion, "
                                       "••• → Connections → add the integration")
            if code == "validation_error" and "archived" in message and subject.startswith("row "):
                return RemoteGoneError(f"Notion row {subject[4:]} is in the trash",
                                       remote_id=subject[4:], trashed=True)
            if code == "validation_error":
                prop = _property_named(message)
                where = f" (property {prop!r})" if prop else ""
                return RemoteError(f"Notion refused to {what}{where}: {message}")
            if is_transient(error):
                return RemoteUnavailableError(f"Notion kept failing to {what} ({label}) after "
                                              f"{attempts} attempts; try again later")
            return RemoteError(f"Notion refused to {what} ({label}): {message}")
        if isinstance(error, RequestTimeoutError | httpx.TimeoutException):
            tries = min(attempts, self.options.timeout_attempts)
            return RemoteUnavailableError(
                f"Notion did not answer within {self.options.timeout:g}s to {what} "
                f"({tries} attempts); check the network or try later")
        if isinstance(error, httpx.ConnectError):
            host = urlsplit(self.base_url).netloc
            return RemoteError(f"cannot reach Notion at {host} to {what}: "
                               f"{_one_line(self._safe(str(error)) or 'connection failed')} "
                               "(no network?)")
        if isinstance(error, httpx.TransportError):
            return RemoteUnavailableError(f"the connection to Notion broke while trying to {what} "
                               f"({attempts} attempts): "
                               f"{_one_line(self._safe(str(error)) or type(error).__name__)}")
        if isinstance(error, ValueError):
            return RemoteError(f"Notion sent an answer vaultmap cannot read while trying to "
                               f"{what}")
        return RemoteError(f"talking to Notion failed while trying to {what}: "
                           f"{type(error).__name__}")
