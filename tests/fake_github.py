"""A fake GitHub REST server for tests: real HTTP on 127.0.0.1, in a thread.

It speaks the issues part of REST API version 2022-11-28 as far as vaultmap can see it:
create, get, update and list issues (``state``, ``since`` on ``updated_at``, ``sort``,
``direction``, ``per_page`` up to 100, ``page``, absolute ``Link`` headers), pull requests in
the issue list (``pull_request`` key, ``merged_at``), ``GET /user`` and ``GET /rate_limit``.

Behaviour copied from the real service:

* ``Authorization: token X`` and ``Bearer X`` both work; a wrong token gets 401 "Bad
  credentials" (``status`` is a string); an unknown or private repository gets 404, never 403;
  a repository with issues disabled gets 410.
* every answer carries ``x-ratelimit-*`` headers; a request answered 304 (``If-None-Match``
  with the exact ETag, weak or strong) does not use up the primary rate limit; when the limit
  is used up the answer is 403 with ``x-ratelimit-remaining: 0``.
* ``updated_at`` is whole seconds from a clock the test controls; two edits in one second
  share it (the ETag still changes).
* bodies written through the API come back byte for byte; an edit "on github.com"
  (:meth:`FakeGitHub.web_edit`, :meth:`FakeGitHub.web_tick`) stores the body with CRLF.
* a body over 65,536 characters is refused with 422.

A person's edit can be made to land just as a request arrives (:meth:`FakeGitHub.on_request`).
Faults are injected with :meth:`FakeGitHub.inject`: ``primary`` and ``secondary`` rate limits
(403 or 429, ``retry-after``), ``500``/``502``/``503``, ``drop`` (connection closed, nothing
applied) and ``drop_after`` (applied, then the connection is closed: a create whose answer was
lost). :meth:`FakeGitHub.before` runs a person's edit right before a given request is
applied (between a client's read and its write). The server plumbing is ``fake_http``'s.

Usage::

    with FakeGitHub() as fake:
        fake.add_repo("ada/roadmap")
        ...  # point vaultmap at fake.api_url with fake.token
        fake.web_tick("ada/roadmap", 1, "Write the parser")
        assert fake.count("PATCH /repos/{o}/{r}/issues/{n}") == 1
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fake_http import FakeHandler, FakeServer, Fault

API_VERSIONS = ("2022-11-28", "2026-03-10")
SUNSET_VERSIONS = ("2021-01-01",)
MAX_BODY = 65536
FAULT_KINDS = ("primary", "secondary", "500", "502", "503", "drop", "drop_after")
STORM_FAULTS = ("secondary", "500", "502", "503", "drop", "drop_after")
_DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error answer, turned into GitHub's JSON error body."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None,
                 errors: list[dict[str, Any]] | None = None, count: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.errors = errors
        self.count = count


class FakeClock:
    """Wall time plus an offset the test moves; GitHub shows it in whole seconds."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + timedelta(seconds=self._offset)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


def iso(moment: datetime) -> str:
    """GitHub's timestamp format: UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    pull_request: bool = False
    merged: bool = False
    version: int = 0  # bumped on every change: the ETag changes with it
    edits: list[str] = field(default_factory=list)  # "api" | "web" per body change


@dataclass
class Repo:
    full_name: str
    visible: bool = True
    issues_enabled: bool = True
    issues: dict[int, Issue] = field(default_factory=dict)


class FakeGitHub(FakeServer):
    """The fake server; use as a context manager. See the module docstring."""

    thread_name = "fake-github"
    known_faults = FAULT_KINDS

    def __init__(self, *, token: str | None = None, login: str = "ada",
                 rate_limit: int = 5000, fault_rate: float = 0.0, fault_seed: int = 0,
                 min_write_interval: float = 0.0) -> None:
        super().__init__(fault_rate=fault_rate, fault_seed=fault_seed)
        self.token = token or "ghp_fake" + uuid.uuid4().hex
        self.login = login
        self.clock = FakeClock()
        self.limit = rate_limit
        self.remaining = rate_limit
        self.reset_at = int(time.time()) + 3600
        self.min_write_interval = min_write_interval
        self._repos: dict[str, Repo] = {}
        self._next_id = 1000
        self._hooks: list[tuple[str, Callable[[], None], list[int]]] = []
        self._last_write = 0.0
        self.log: list[tuple[str, str, int]] = []  # (method, path with query, status)
        self.units_used = 0  # primary rate-limit units spent (304s are free)
        self.user_agents: set[str] = set()

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT``, what ``VAULTMAP_GITHUB_API_URL`` should hold."""
        return self.url

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()
            self.units_used = 0
            self.faults_served.clear()

    # ----------------------------------------------------------------- faults
    # ``inject(kind, route="PATCH /repos/{o}/{r}/issues/{n}", times=..., status=403,
    # retry_after="0")``; ``before``, ``clear_faults`` and ``reseed`` come from FakeServer.
    def new_fault(self, kind: str, method: str | None, route: str | None, times: int,
                  **options: Any) -> Fault:
        options.setdefault("status", 403)
        return Fault(kind, method, route, times, **options)

    def storm_fault(self) -> Fault:
        kind = self._random.choice(STORM_FAULTS)
        return Fault(kind, status=self._random.choice((403, 429)))

    def on_request(self, route: str, action: Callable[[], None], *, times: int = 1) -> None:
        """Run ``action`` when each of the next ``times`` requests for ``route`` (``"METHOD
        /route"``) arrives, before it is answered: a person's edit that lands between a
        client's read and its write."""
        with self._lock:
            self._hooks.append((route, action, [times]))

    def _run_hooks(self, route: str) -> None:
        for wanted, action, left in list(self._hooks):
            if wanted == route and left[0] > 0:
                left[0] -= 1
                action()

    # ----------------------------------------------------------------- seeding, "github.com"
    def add_repo(self, full_name: str, *, visible: bool = True,
                 issues_enabled: bool = True) -> None:
        """A repository; ``visible=False`` is a private one the token cannot see."""
        with self._lock:
            self._repos[full_name.lower()] = Repo(full_name, visible, issues_enabled)

    def add_issue(self, repo: str, title: str, body: str | None = None, *,
                  pull_request: bool = False) -> int:
        """An issue (or pull request) made by a person; returns its number."""
        with self._lock:
            return self._create(self._repo(repo), title, body, pull_request=pull_request).number

    def issue(self, repo: str, number: int) -> Issue:
        with self._lock:
            return self._issue(self._repo(repo), number)

    def issues(self, repo: str) -> list[Issue]:
        with self._lock:
            return list(self._repo(repo).issues.values())

    def web_edit(self, repo: str, number: int, body: str) -> None:
        """Save ``body`` as the web editor does: with CRLF line endings."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            crlf = body.replace("\r\n", "\n").replace("\n", "\r\n")
            self._touch(issue)
            issue.body = crlf
            issue.edits.append("web")

    def web_tick(self, repo: str, number: int, text: str, checked: bool = True) -> None:
        """Click the checkbox of the first task line containing ``text`` (body becomes CRLF)."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            lines = (issue.body or "").replace("\r\n", "\n").split("\n")
            for index, line in enumerate(lines):
                match = re.match(r"^(\s*[-*+] \[)([ xX])(\] )(.*)$", line)
                if match and text in match.group(4):
                    lines[index] = (match.group(1) + ("x" if checked else " ")
                                    + match.group(3) + match.group(4))
                    break
            else:
                raise KeyError(f"no task line with {text!r} in #{number}")
        self.web_edit(repo, number, "\n".join(lines))

    def close(self, repo: str, number: int, reason: str = "completed", *,
              merged: bool = False) -> None:
        """Close an issue (``completed`` / ``not_planned``) or a pull request (``merged``)."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            self._touch(issue)
            issue.state = "closed"
            issue.state_reason = None if issue.pull_request else reason
            issue.merged = merged
            issue.closed_at = self.clock.now()

    def reopen(self, repo: str, number: int) -> None:
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            self._touch(issue)
            issue.state = "open"
            issue.state_reason = None if issue.pull_request else "reopened"
            issue.closed_at = None

    # ----------------------------------------------------------------- model
    def _repo(self, full_name: str) -> Repo:
        repo = self._repos.get(full_name.lower())
        if repo is None:
            raise KeyError(full_name)
        return repo

    def _issue(self, repo: Repo, number: int) -> Issue:
        issue = repo.issues.get(number)
        if issue is None:
            raise KeyError(f"{repo.full_name}#{number}")
        return issue

    def _touch(self, issue: Issue) -> None:
        issue.updated_at = self.clock.now().replace(microsecond=0)
        issue.version += 1

    def _create(self, repo: Repo, title: str, body: str | None, *,
                pull_request: bool = False) -> Issue:
        now = self.clock.now().replace(microsecond=0)
        number = max(repo.issues, default=0) + 1
        self._next_id += 1
        issue = Issue(number, self._next_id, title, body, now, now, pull_request=pull_request)
        repo.issues[number] = issue
        return issue

    def issue_json(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        base = f"{self.api_url}/repos/{repo.full_name}"
        data: dict[str, Any] = {
            "url": f"{base}/issues/{issue.number}", "id": issue.id,
            "node_id": f"I_{issue.id}", "number": issue.number, "title": issue.title,
            "body": issue.body, "state": issue.state, "state_reason": issue.state_reason,
            "locked": False, "labels": [], "assignees": [], "comments": 0,
            "user": {"login": self.login},
            "html_url": f"https://github.com/{repo.full_name}/issues/{issue.number}",
            "created_at": iso(issue.created_at), "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at) if issue.closed_at else None,
        }
        if issue.pull_request:
            data["html_url"] = f"https://github.com/{repo.full_name}/pull/{issue.number}"
            data["pull_request"] = {
                "url": f"{base}/pulls/{issue.number}",
                "merged_at": iso(issue.closed_at) if issue.merged and issue.closed_at
                else None}
        return data

    def _rate_headers(self) -> dict[str, str]:
        return {"x-ratelimit-limit": str(self.limit),
                "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-used": str(self.limit - self.remaining),
                "x-ratelimit-reset": str(self.reset_at), "x-ratelimit-resource": "core"}

    def _spend(self) -> None:
        self.remaining = max(0, self.remaining - 1)
        self.units_used += 1

    def _etag(self, payload: Any, *, weak: bool) -> str:
        digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return f'W/"{digest}"' if weak else f'"{digest}"'

    # ----------------------------------------------------------------- routing
    def route(self, method: str, parts: list[str], query: Mapping[str, list[str]],
              body: Any) -> tuple[int, Any, dict[str, str]]:
        """Apply one request; returns (status, payload, extra headers)."""
        if parts == ["user"] and method == "GET":
            return 200, {"login": self.login, "id": 1, "type": "User"}, {}
        if parts == ["rate_limit"] and method == "GET":
            core = {"limit": self.limit, "remaining": self.remaining,
                    "used": self.limit - self.remaining, "reset": self.reset_at}
            return 200, {"resources": {"core": core}, "rate": core}, {}
        if len(parts) >= 4 and parts[0] == "repos" and parts[3] == "issues":
            repo = self._repos.get(f"{parts[1]}/{parts[2]}".lower())
            if repo is None or not repo.visible:
                raise ApiError(404, "Not Found")
            if not repo.issues_enabled:
                raise ApiError(410, "Issues are disabled for this repo")
            if len(parts) == 4 and method == "POST":
                return 201, self._post_issue(repo, body), {}
            if len(parts) == 4 and method == "GET":
                return self._list(repo, query)
            if len(parts) == 5 and parts[4].isdigit():
                issue = repo.issues.get(int(parts[4]))
                if issue is None:
                    raise ApiError(404, "Not Found")
                if method == "PATCH":
                    self._patch_issue(issue, body)
                elif method != "GET":
                    raise ApiError(404, "Not Found")
                return 200, self.issue_json(repo, issue), {}
        raise ApiError(404, "Not Found")

    def _post_issue(self, repo: Repo, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "Body should be a JSON object")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _invalid("title", "missing_field")
        text = body.get("body")
        if text is not None and not isinstance(text, str):
            raise _invalid("body", "invalid")
        _check_length(text)
        issue = self._create(repo, title, text)
        issue.edits.append("api")
        return self.issue_json(repo, issue)

    def _patch_issue(self, issue: Issue, body: Any) -> None:
        if not isinstance(body, dict):
            raise ApiError(400, "Body should be a JSON object")
        if "state" in body and body["state"] not in ("open", "closed"):
            raise _invalid("state", "invalid")
        if "body" in body:
            if body["body"] is not None and not isinstance(body["body"], str):
                raise _invalid("body", "invalid")
            _check_length(body["body"])
        if "title" in body and (not isinstance(body["title"], str) or not body["title"]):
            raise _invalid("title", "missing_field")
        changed = False
        if "title" in body and body["title"] != issue.title:
            issue.title, changed = body["title"], True
        if "body" in body and body["body"] != issue.body:
            issue.body, changed = body["body"], True
            issue.edits.append("api")
        state = body.get("state")
        if state is not None and state != issue.state:
            changed = True
            issue.state = state
            if state == "closed":
                issue.closed_at = self.clock.now()
                issue.state_reason = body.get("state_reason") or "completed"
            else:
                issue.closed_at = None
                issue.state_reason = "reopened"
        # state_reason alone is ignored unless the state changes (as on GitHub).
        if changed:
            self._touch(issue)

    def _list(self, repo: Repo, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        def arg(name: str, default: str) -> str:
            return query.get(name, [default])[0]

        state = arg("state", "open")
        if state not in ("open", "closed", "all"):
            raise _invalid("state", "invalid")
        try:
            per_page = min(100, max(1, int(arg("per_page", "30"))))
            page = max(1, int(arg("page", "1")))
        except ValueError:
            raise ApiError(422, "Invalid request") from None
        items = [i for i in repo.issues.values() if state == "all" or i.state == state]
        since = query.get("since")
        if since:
            try:
                moment = datetime.strptime(since[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            except ValueError:
                raise _invalid("since", "invalid") from None
            items = [i for i in items if i.updated_at >= moment]
        sort = arg("sort", "created")
        reverse = arg("direction", "desc") == "desc"
        key = {"updated": lambda i: (i.updated_at, i.number)}.get(
            sort, lambda i: (i.created_at, i.number))
        items.sort(key=key, reverse=reverse)
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers: dict[str, str] = {}
        if pages > 1:
            def link(number: int, rel: str) -> str:
                params = {k: v[0] for k, v in query.items()}
                params.update(per_page=str(per_page), page=str(number))
                return (f'<{self.api_url}/repos/{repo.full_name}/issues?'
                        f'{urlencode(params)}>; rel="{rel}"')
            rels = []
            if page > 1:
                rels += [link(page - 1, "prev"), link(1, "first")]
            if page < pages:
                rels += [link(page + 1, "next"), link(pages, "last")]
            headers["Link"] = ", ".join(rels)
        return 200, [self.issue_json(repo, i) for i in chunk], headers

def _invalid(field_name: str, code: str) -> ApiError:
    return ApiError(422, "Validation Failed",
                    errors=[{"resource": "Issue", "field": field_name, "code": code}])

def _check_length(text: str | None) -> None:
    if text is not None and len(text) > MAX_BODY:
        raise ApiError(422, "Validation Failed", errors=[{
            "resource": "Issue", "code": "custom", "field": "body",
            "message": f"body is too long (maximum is {MAX_BODY} characters)"}])

def _route_template(path: str) -> tuple[str, list[str]]:
    parts = [p for p in path.split("/") if p]
    template = list(parts)
    if len(parts) >= 3 and parts[0] == "repos":
        template[1], template[2] = "{o}", "{r}"
        if len(parts) >= 5 and parts[4].isdigit():
            template[4] = "{n}"
    return "/" + "/".join(template), parts

class _Handler(FakeHandler):
    owner: FakeGitHub

    def handle_request(self, method: str) -> None:
        fake = self.owner
        raw = self.read_body()
        split = urlsplit(self.path)
        template, parts = _route_template(split.path)
        route = f"{method} {template}"
        fake.count_request(route)
        with fake._lock:
            fake.user_agents.add(self.headers.get("User-Agent", ""))
        status = 0
        try:
            with fake._lock:
                status, payload, headers = self._answer(method, route, parts,
                                                        parse_qs(split.query), raw)
            if status == -1:
                return  # connection dropped
            self._send(status, payload, headers)
        except ApiError as error:
            status = error.status
            with fake._lock:
                if error.count:
                    fake._spend()
                headers = {**fake._rate_headers(), **error.headers}
            envelope: dict[str, Any] = {"message": error.message, "documentation_url": _DOCS,
                                        "status": str(error.status)}
            if error.errors:
                envelope["errors"] = error.errors
            self._send(error.status, envelope, headers)
        finally:
            with fake._lock:
                fake.log.append((method, self.path, status))

    def _answer(self, method: str, route: str, parts: list[str],
                query: Mapping[str, list[str]], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        fake = self.owner
        if not self.headers.get("User-Agent"):
            raise ApiError(403, "Request forbidden by administrative rules. Please make sure "
                           "your request has a User-Agent header", count=False)
        version = self.headers.get("X-GitHub-Api-Version")
        if version in SUNSET_VERSIONS:
            raise ApiError(410, f"API version {version} has been sunset", count=False)
        if version is not None and version not in API_VERSIONS:
            raise ApiError(400, f"Invalid API version provided: {version}", count=False)
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if not auth:
            raise ApiError(401, "Requires authentication", count=False)
        if scheme.lower() not in ("token", "bearer") or token != fake.token:
            raise ApiError(401, "Bad credentials", count=False)
        if fake.remaining <= 0:
            raise ApiError(403, "API rate limit exceeded for user ID 1.", count=False,
                           headers={"x-ratelimit-remaining": "0"})
        fake._run_hooks(route)
        fault = fake.next_fault(method, route.split(" ", 1)[1])
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError(400, "Problems parsing JSON") from None
        if fault is not None:
            if fault.kind in ("drop", "drop_after"):
                if fault.kind == "drop_after":
                    with contextlib.suppress(ApiError):
                        fake._spend()
                        fake.route(method, parts, query, body)
                self.drop_connection()
                return -1, None, {}
            self._raise_fault(fault)
        fake.run_before(route, urlsplit(self.path).path, body)
        if method in ("POST", "PATCH") and fake.min_write_interval:
            now = time.monotonic()
            if now - fake._last_write < fake.min_write_interval:
                raise ApiError(403, "You have exceeded a secondary rate limit. Please wait a "
                               "few minutes before you try again.", headers={"retry-after": "1"})
            fake._last_write = now
        status, payload, headers = fake.route(method, parts, query, body)
        if method == "GET":
            weak = isinstance(payload, list)
            etag = fake._etag(payload, weak=weak)
            headers["ETag"] = etag
            sent = self.headers.get("If-None-Match", "")
            if sent and (sent == etag or sent.removeprefix("W/") == etag.removeprefix("W/")):
                # A conditional hit costs no primary rate limit.
                return 304, None, {**fake._rate_headers(), "ETag": etag}
        fake._spend()
        return status, payload, {**fake._rate_headers(), **headers}

    def _raise_fault(self, fault: Fault) -> None:
        if fault.kind == "primary":
            raise ApiError(fault.status, "API rate limit exceeded for user ID 1.", count=False,
                           headers={"x-ratelimit-remaining": "0",
                                    "x-ratelimit-reset": str(int(time.time()) + 1)})
        if fault.kind == "secondary":
            raise ApiError(fault.status, "You have exceeded a secondary rate limit. Please wait "
                           "a few minutes before you try again.",
                           headers={"retry-after": fault.retry_after})
        if fault.kind == "502":
            raise ApiError(502, "Server Error")
        raise ApiError(int(fault.kind), "Service Unavailable" if fault.kind == "503"
                       else "Server Error")

    def _send(self, status: int, payload: Any, headers: Mapping[str, str]) -> None:
        data = b"" if status == 304 else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Api-Version-Selected", API_VERSIONS[0])
        self.send_header("Cache-Control", "private, max-age=60, s-maxage=60")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

FakeGitHub.handler = _Handler

@contextlib.contextmanager
def running(**options: Any) -> Iterator[FakeGitHub]:
    """``with running() as fake:`` — a started FakeGitHub."""
    with FakeGitHub(**options) as fake:
        yield fake
