"""The GitHub REST client: token, conditional requests, paced writes, rate limits, retries.

Built on httpx directly (already installed with notion-client). PyGithub keeps an ETag per
object in memory only and githubkit's cache honours GitHub's ``max-age=60`` (a read right after
our own write can come back stale); what sync needs is a *persisted* ETag cache whose 304s
cost no rate limit, which is a few lines on top of httpx.

* The API address: ``VAULTMAP_GITHUB_API_URL`` when set (an explicit URL wins), else the
  GitHub CLI's ``GH_HOST`` (``https://HOST/api/v3`` for GitHub Enterprise Server,
  ``https://api.NAME.ghe.com`` for GHE.com), else https://api.github.com. See
  :func:`api_url_from` and ``docs/github.md``.
* The token comes from ``GH_TOKEN``, then ``GITHUB_TOKEN`` (the GitHub CLI's own order); for
  an Enterprise Server host ``GH_ENTERPRISE_TOKEN`` and ``GITHUB_ENTERPRISE_TOKEN`` come
  first; then ``gh auth token --hostname HOST`` for the host the API address names. It is
  checked for shape, kept out of every repr, message and log.
* GETs are conditional: the ETag and the body of the last 200 are kept in an
  :class:`EtagCache` (persisted in the vault's sync state); a 304 answers from it.
* Writes are serial and at least ``write_interval`` seconds apart, as GitHub asks for
  content-creating requests.
* A primary rate limit (``x-ratelimit-remaining: 0``) is waited out until
  ``x-ratelimit-reset``; a secondary one for ``retry-after`` seconds (a minute without it,
  doubling); each wait is announced through ``on_wait``. Server errors and dropped
  connections are retried with tenacity, except a POST whose request may have been applied.

Usage::

    client = GitHubClient(resolve_token(os.environ), api_url=api_url_from(os.environ))
    issue = client.get_json("/repos/ada/roadmap/issues/1")
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import httpx
import tenacity

from vaultmap import __version__
from vaultmap.errors import (
    GitHubIssueGoneError,
    GitHubNotFoundError,
    RemoteAuthError,
    RemoteError,
    RemoteSchemaError,
)
from vaultmap.sync.secret import Secret

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
API_URL_ENV = "VAULTMAP_GITHUB_API_URL"
HOST_ENV = "GH_HOST"  # the GitHub CLI's choice of host (GitHub Enterprise)
TOKEN_ENVS = ("GH_TOKEN", "GITHUB_TOKEN")
ENTERPRISE_TOKEN_ENVS = ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
DEFAULT_HOST = "github.com"
_HOST_SHAPE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?$")
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_.\-]{8,255}$")


@dataclass(frozen=True, slots=True)
class GitHubOptions:
    """Tunables of the HTTP side. Tests make everything fast; users keep the defaults."""

    timeout: float = 30.0  # seconds per request
    max_attempts: int = 5  # per request for server errors and dropped connections
    backoff: float = 1.0  # first retry delay in seconds (doubles, with jitter)
    backoff_max: float = 60.0
    write_interval: float = 1.0  # seconds between writes ("at least one second")
    secondary_wait: float = 60.0  # a secondary limit without retry-after: "at least a minute"
    max_rate_wait: float = 3600.0  # give up (exit 4) rather than wait longer for a limit


class EtagCache(Protocol):
    """Where conditional requests keep the ETag and the body of the last full answer."""

    def get(self, url: str) -> tuple[str, Any] | None: ...

    def put(self, url: str, etag: str, data: Any) -> None: ...


class MemoryEtagCache:
    """An :class:`EtagCache` for one process (tests, one-off commands)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, Any]] = {}

    def get(self, url: str) -> tuple[str, Any] | None:
        return self._items.get(url)

    def put(self, url: str, etag: str, data: Any) -> None:
        self._items[url] = (etag, data)


@dataclass(slots=True)
class Usage:
    """What the client spent: requests sent, 304s among them, rate-limit units, waits."""

    requests: int = 0
    not_modified: int = 0
    units: int = 0  # answers other than 304 (GitHub counts each against the primary limit)
    writes: int = 0
    rate_waits: int = 0


_Secret = Secret  # the name this module's code uses


def api_url_from(environ: Mapping[str, str]) -> str:
    """The API root (no trailing /). ``VAULTMAP_GITHUB_API_URL`` wins when set; else the
    GitHub CLI's ``GH_HOST`` names the host (:func:`api_url_for_host`); else
    https://api.github.com."""
    url = environ.get(API_URL_ENV, "").strip()
    if not url:
        host = environ.get(HOST_ENV, "").strip()
        if not host:
            return DEFAULT_API_URL
        if not _HOST_SHAPE.match(host):
            # Not repeated: a mistyped value may hold anything, a token included.
            raise RemoteSchemaError(f"{HOST_ENV} must be a host name, like github.example.com "
                                    f"(or set {API_URL_ENV} to the API's URL)")
        return api_url_for_host(host)
    try:  # a bracket left open, a bad port: one line, not httpx's traceback at the first request
        parts = urlsplit(url)
        well_formed = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:
        well_formed = False
    if (not well_formed or not re.match(r"^https?://[^\s/]+", url)
            or any(not c.isprintable() or c.isspace() for c in url)):
        raise RemoteSchemaError(f"{API_URL_ENV} must be an http(s) URL, like "
                                "https://github.example.com/api/v3")
    if "@" in url.split("://", 1)[1].split("/", 1)[0]:
        # A user or password in the URL would be shown in every network error and sent as
        # Basic auth beside the token: refuse it, without repeating it.
        raise RemoteSchemaError(f"{API_URL_ENV} must not carry a user name or password (the "
                                "token goes in GITHUB_TOKEN or GH_TOKEN)")
    return url.rstrip("/")


def checked_issue(data: Any, where: str) -> dict[str, Any]:
    """``data`` when it has the shape of a GitHub issue as vaultmap reads it (a positive
    ``number``, text or null ``body``, text ``title``/``state``/``html_url`` when present);
    else one line, exit 6: an answer of another shape (a proxy, a server that is not GitHub)
    must not end in a traceback or be written into the link table."""
    number = data.get("number") if isinstance(data, dict) else None
    fine = (isinstance(data, dict) and type(number) is int and number > 0
            and isinstance(data.get("body"), str | None)
            and all(isinstance(data.get(k), str) for k in ("title", "state", "html_url")
                    if k in data))
    if not fine:
        raise RemoteSchemaError(f"GitHub answered {where} with something that is not an "
                                f"issue (is {API_URL_ENV} the API of a GitHub server?)")
    return cast(dict[str, Any], data)


def api_url_for_host(host: str) -> str:
    """The REST API root of a GitHub host as ``gh`` names it: github.com's is
    https://api.github.com, a GHE.com tenant's (``NAME.ghe.com``) is
    ``https://api.NAME.ghe.com``, a GitHub Enterprise Server's is ``https://HOST/api/v3``."""
    lowered = host.lower()
    if lowered in (DEFAULT_HOST, "api.github.com"):
        return DEFAULT_API_URL
    if lowered.endswith(".ghe.com"):
        return f"https://api.{lowered.removeprefix('api.')}"
    return f"https://{lowered}/api/v3"


def web_host_of(api_url: str) -> str:
    """The host people see in issue URLs (and ``gh`` logs in to) for an API root: the
    inverse of :func:`api_url_for_host` (``127.0.0.1:PORT`` for a test server)."""
    netloc = urlsplit(api_url).netloc.rpartition("@")[2].lower()
    if netloc == "api.github.com":
        return DEFAULT_HOST
    if netloc.startswith("api.") and netloc.endswith(".ghe.com"):
        return netloc.removeprefix("api.")
    return netloc or DEFAULT_HOST


def _is_enterprise_server(host: str) -> bool:
    host = host.lower()
    return host != DEFAULT_HOST and not host.endswith(".ghe.com")


def resolve_token(environ: Mapping[str, str], *, gh: str | None = None,
                  host: str = DEFAULT_HOST) -> str:
    """The token for ``host`` (see the module docstring for the order); checked for shape.

    Raises :class:`RemoteAuthError` (exit 5) naming where to put one, never the value.
    """
    names = (ENTERPRISE_TOKEN_ENVS + TOKEN_ENVS) if _is_enterprise_server(host) \
        else TOKEN_ENVS
    for name in names:
        value = environ.get(name, "")
        if value.strip():
            return _checked(value.strip(), name)
    executable = gh if gh is not None else shutil.which("gh")
    if executable:
        try:
            # The host the API address names, not gh's default one: a token for github.com
            # is no use against an Enterprise Server (and is not sent there).
            done = subprocess.run([executable, "auth", "token", "--hostname", host],
                                  capture_output=True, text=True, timeout=15, check=False,
                                  env={**os.environ, "GH_PROMPT_DISABLED": "1"})
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and done.returncode == 0 and done.stdout.strip():
            return _checked(done.stdout.strip(), "`gh auth token`")
    where = "GH_ENTERPRISE_TOKEN (or GITHUB_TOKEN)" if _is_enterprise_server(host) \
        else "GITHUB_TOKEN (or GH_TOKEN)"
    login = "`gh auth login`" if host == DEFAULT_HOST else f"`gh auth login --hostname {host}`"
    raise RemoteAuthError(f"no GitHub token for {host}: set {where} to a token with read and "
                          f"write access to issues, or log in with {login}")


def _checked(token: str, source: str) -> str:
    if not _TOKEN_SHAPE.match(token):
        raise RemoteAuthError(f"the token in {source} is not a GitHub token (it has spaces, "
                              "quotes or other characters a token never has)")
    return token


class _Transient(Exception):
    """A failure worth retrying (5xx, dropped connection); ``message`` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _RateLimited(Exception):
    """403/429 for a rate limit: wait ``seconds``, then try again."""

    def __init__(self, seconds: float, *, primary: bool) -> None:
        super().__init__(seconds)
        self.seconds = seconds
        self.primary = primary


class GitHubClient:
    """A small, typed GitHub REST client. Not thread-safe for writes; one per sync."""

    def __init__(self, token: str, *, api_url: str = DEFAULT_API_URL,
                 options: GitHubOptions | None = None, etags: EtagCache | None = None,
                 on_wait: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._token = _Secret(token)
        # An ETag belongs to the token that read it (GitHub varies answers on Authorization).
        self._cache_prefix = hashlib.blake2b(token.encode(), digest_size=8).hexdigest() + " "
        self.api_url = api_url.rstrip("/")
        self.options = options or GitHubOptions()
        self.etags: EtagCache = etags if etags is not None else MemoryEtagCache()
        self.on_wait = on_wait or (lambda message: None)
        self._sleep = sleep
        self._last_write = 0.0
        self._write_lock = threading.Lock()
        self.usage = Usage()
        self.rate_remaining: int | None = None
        self._http = httpx.Client(
            base_url=self.api_url, timeout=self.options.timeout, transport=transport,
            follow_redirects=True,
            # Loading the CA bundle costs a quarter second; a plain-http API (a test server,
            # an Enterprise Server behind a proxy) never uses it.
            verify=not self.api_url.startswith("http://"),
            headers={"Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": API_VERSION,
                     "User-Agent": f"vaultmap/{__version__}"})

    def __repr__(self) -> str:
        return f"GitHubClient({self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public calls --------------------------------------------------------------------
    def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET ``path``, conditionally: an unchanged answer costs a 304 and no rate limit."""
        return self._call("GET", path, params=params)[0]

    def paginate(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"``."""
        url: str | None = path
        query: Mapping[str, str] | None = {"per_page": "100", **(params or {})}
        while url is not None:
            data, headers = self._call("GET", url, params=query)
            if not isinstance(data, list):
                raise RemoteError(f"GitHub answered {path} with something other than a list")
            yield from data
            url = _next_link(headers.get("link", ""))
            query = None  # the next link carries the query

    def post_json(self, path: str, payload: Mapping[str, Any]) -> Any:
        """POST once per attempt that surely did not apply: a dropped connection after the
        request was sent raises :class:`RemoteError` (the caller checks what landed)."""
        return self._call("POST", path, payload=payload, retry_after_send=False)[0]

    def patch_json(self, path: str, payload: Mapping[str, Any]) -> Any:
        """PATCH (idempotent: the same fields again change nothing, so it is retried)."""
        return self._call("PATCH", path, payload=payload)[0]

    def patch_fresh(self, path: str,
                    build: Callable[[], Mapping[str, Any] | None]) -> Any | None:
        """PATCH what ``build()`` returns, calling it anew right before each attempt: after
        the pause between writes, a rate-limit wait or a retry, never before them.

        ``build`` reads what the write depends on (an issue body: a 304 when nobody touched
        it) and returns the fields to send, or None when there is nothing to write (then
        nothing is sent and None is returned). GitHub has no conditional write for issues,
        so this keeps the time between that read and the write to one request.
        """
        return self._call("PATCH", path, build=build)[0]

    # -- the machinery -------------------------------------------------------------------
    def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
              payload: Mapping[str, Any] | None = None,
              build: Callable[[], Mapping[str, Any] | None] | None = None,
              retry_after_send: bool = True) -> tuple[Any, httpx.Headers]:
        waited = 0.0
        secondary_streak = 0
        while True:
            try:
                return self._with_retries(method, path, params, payload, build,
                                          retry_after_send)
            except _RateLimited as limited:
                seconds = limited.seconds
                if not limited.primary:
                    # "wait for an exponentially increasing amount of time between retries"
                    seconds = max(seconds, 0.0) * (2 ** secondary_streak)
                    secondary_streak += 1
                if waited + seconds > self.options.max_rate_wait:
                    kind = "primary" if limited.primary else "secondary"
                    raise RemoteError(f"GitHub's {kind} rate limit would need a wait of "
                                      f"{int(seconds)} s more; try again later") from None
                self.usage.rate_waits += 1
                self.on_wait(f"GitHub {'rate limit' if limited.primary else 'asks to slow down'}"
                             f": waiting {seconds:.0f} s")
                self._sleep(seconds)
                waited += seconds

    def _with_retries(self, method: str, path: str, params: Mapping[str, str] | None,
                      payload: Mapping[str, Any] | None,
                      build: Callable[[], Mapping[str, Any] | None] | None,
                      retry_after_send: bool) -> tuple[Any, httpx.Headers]:
        options = self.options

        def transient(error: BaseException) -> bool:
            return isinstance(error, _Transient) and (retry_after_send
                                                      or error.message.startswith("refused"))

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, options.max_attempts)),
            wait=tenacity.wait_random_exponential(multiplier=options.backoff,
                                                  max=options.backoff_max),
            retry=tenacity.retry_if_exception(transient), sleep=self._sleep, reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, path, params, payload, build)
        except _Transient as failure:
            raise RemoteError(f"GitHub failed: {failure.message}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, params: Mapping[str, str] | None,
              payload: Mapping[str, Any] | None,
              build: Callable[[], Mapping[str, Any] | None] | None = None,
              ) -> tuple[Any, httpx.Headers]:
        headers = {"Authorization": f"token {self._token.value}"}
        cache_key = ""
        cached: tuple[str, Any] | None = None
        if method == "GET":
            cache_key = self._cache_prefix + str(
                self._http.build_request("GET", path, params=params).url)
            cached = self.etags.get(cache_key)
            if cached is not None:
                headers["If-None-Match"] = cached[0]
        else:
            paced_from = self._last_write
            self._pace_write()
            if build is not None:
                # After the pause, not before it: the read the payload rests on is fresh.
                payload = build()
                if payload is None:
                    self._last_write = paced_from  # nothing sent: the next write need not wait
                    return None, httpx.Headers()
        try:
            response = self._http.request(method, path, params=params, json=payload,
                                          headers=headers)
        except httpx.ConnectError as error:
            raise _Transient(f"refused: cannot reach {self.api_url} ({type(error).__name__})") \
                from None
        except httpx.TransportError as error:
            raise _Transient(f"the connection to {self.api_url} broke "
                             f"({type(error).__name__})") from None
        finally:
            self.usage.requests += 1
            if method != "GET":
                self.usage.writes += 1
        remaining = response.headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            self.rate_remaining = int(remaining)
        if response.status_code == 304 and cached is not None:
            self.usage.not_modified += 1
            return cached[1], response.headers
        self.usage.units += 1
        if response.is_success:
            data = response.json() if response.content else None
            # A list read "since" a moment is never asked for again: not worth keeping.
            if method == "GET" and "etag" in response.headers and "since=" not in cache_key:
                self.etags.put(cache_key, response.headers["etag"], data)
            return data, response.headers
        raise self._error(response, path)

    def _pace_write(self) -> None:
        with self._write_lock:
            gap = self.options.write_interval - (time.monotonic() - self._last_write)
            if gap > 0:
                self._sleep(gap)
            self._last_write = time.monotonic()

    def _error(self, response: httpx.Response, path: str) -> Exception:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        headers = response.headers
        if status in (403, 429):
            retry_after = headers.get("retry-after", "")
            if headers.get("x-ratelimit-remaining") == "0" and "secondary" not in message:
                reset = headers.get("x-ratelimit-reset", "")
                wait = float(reset) - time.time() + 1 if reset.isdigit() else 60.0
                return _RateLimited(max(wait, 0.0), primary=True)
            if retry_after.isdigit():
                return _RateLimited(float(retry_after), primary=False)
            if "rate limit" in message.lower() or "abuse" in message.lower():
                return _RateLimited(self.options.secondary_wait, primary=False)
        if status == 401:
            return RemoteAuthError("GitHub rejected the token (401 Bad credentials): set "
                                   "GITHUB_TOKEN to a valid token, or run `gh auth login`")
        if status == 403:
            needed = headers.get("x-accepted-github-permissions", "")
            hint = f" (it needs: {needed})" if needed else ""
            return RemoteAuthError(f"GitHub refused {path}: {message or 'forbidden'}{hint}")
        if status == 404:
            return GitHubNotFoundError(
                f"GitHub has no {_what(path)} (or it is private and this token cannot see it: "
                "GitHub answers 404 rather than confirming a private repository)")
        if status == 410:
            if "disabled" in message.lower():
                return RemoteSchemaError(f"{_repo_of(path)}: issues are disabled for this "
                                         "repository")
            return GitHubIssueGoneError(f"GitHub: {_what(path)} was deleted", trashed=True)
        if status == 422:
            details = "; ".join(str(e.get("message") or f"{e.get('field')} {e.get('code')}")
                                for e in body.get("errors", []) if isinstance(e, dict)) \
                if isinstance(body, dict) else ""
            return RemoteSchemaError(f"GitHub refused the change to {_what(path)}: "
                                     f"{details or message or 'validation failed'}")
        if status >= 500:
            return _Transient(f"{status} {message or response.reason_phrase}".strip())
        return RemoteError(f"GitHub answered {status} for {_what(path)}: "
                           f"{message or response.reason_phrase}")


def _next_link(link: str) -> str | None:
    for part in link.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="next"', part)
        if match:
            return match.group(1)
    return None


def _repo_of(path: str) -> str:
    parts = [p for p in path.split("?")[0].split("/") if p]
    return "/".join(parts[1:3]) if len(parts) >= 3 and parts[0] == "repos" else path


def _what(path: str) -> str:
    parts = [p for p in path.split("?")[0].split("/") if p]
    if len(parts) >= 5 and parts[0] == "repos" and parts[3] == "issues":
        return f"issue {parts[1]}/{parts[2]}#{parts[4]}"
    if len(parts) >= 3 and parts[0] == "repos":
        return f"repository {parts[1]}/{parts[2]}"
    return path
