"""What every fake remote server of the tests shares: real HTTP on 127.0.0.1, in a thread.

A fake (``fake_notion.FakeNotion``, ``fake_github.FakeGitHub``) subclasses
:class:`FakeServer` for its lifecycle, request counts, injected faults and "a person acts
between a client's read and its write" hooks, and :class:`FakeHandler` for the request
plumbing; it adds only its routes, its error bodies and the faults only it knows.

Usage (a fake of one's own)::

    class _Handler(FakeHandler):
        def handle_request(self, method: str) -> None:
            raw = self.read_body()
            self.owner.count_request(f"{method} /things/{{id}}")
            fault = self.owner.next_fault(method, "/things/{id}")
            ...  # answer the fault, or run_before(route, path, body) and answer

    class FakeThing(FakeServer):
        thread_name = "fake-thing"
        known_faults = ("500", "drop")

    FakeThing.handler = _Handler

    with FakeThing() as fake:
        fake.inject("500", route="GET /things/{id}")
        fake.before("PATCH /things/{id}", lambda path, body: ...)  # a person, in between
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self

BeforeHook = Callable[[str, Any], None]


@dataclass
class Fault:
    """One injected fault: ``kind`` for the next ``times`` requests matching method and route
    (None: any). The other fields are what a kind may need (the HTTP status a rate limit is
    answered with, its ``retry-after``, how late a slow answer comes)."""

    kind: str
    method: str | None = None
    route: str | None = None
    times: int = 1
    status: int = 0
    retry_after: str = "0"
    delay: float = 0.0

    def matches(self, method: str, route: str) -> bool:
        return ((self.method is None or self.method == method)
                and (self.route is None or self.route.split(" ", 1)[-1] == route))


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) or a dropped connection leaves a broken pipe
        # behind: part of the tests, not news.
        pass


class FakeHandler(BaseHTTPRequestHandler):
    """Request plumbing: every method goes to :meth:`handle_request` of the subclass."""

    owner: Any  # the FakeServer, set on the per-server subclass
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; without this, delayed ACKs add 40 ms a
    # request and the benchmarks would measure the fake.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read counts, not logs

    def setup(self) -> None:
        super().setup()
        self.owner.count_connection()  # one handler per TCP connection

    def do_GET(self) -> None:
        self.handle_request("GET")

    def do_POST(self) -> None:
        self.handle_request("POST")

    def do_PATCH(self) -> None:
        self.handle_request("PATCH")

    def do_DELETE(self) -> None:
        self.handle_request("DELETE")

    def handle_request(self, method: str) -> None:
        raise NotImplementedError

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def drop_connection(self) -> None:
        """Close the connection without an answer (what a network fault looks like)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class FakeServer:
    """Lifecycle, request counts, faults and between-read-and-write hooks of a fake.

    ``known_faults`` lists the kinds :meth:`inject` accepts; with ``fault_rate`` above 0 a
    request fails at random with a kind from ``storm_kinds`` (see :meth:`storm_fault`),
    seeded by ``fault_seed`` (``reseed`` to replay a storm).
    """

    handler: ClassVar[type[FakeHandler]]
    thread_name: ClassVar[str] = "fake-http"
    known_faults: ClassVar[tuple[str, ...]] = ()
    storm_kinds: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, fault_rate: float = 0.0, fault_seed: int = 0) -> None:
        self.fault_rate = fault_rate
        self._random = random.Random(fault_seed)
        self._lock = threading.RLock()
        self._faults: deque[Fault] = deque()
        # (route, action): run ``action(path, body)`` once, just before the first request on
        # ``route`` is applied (a person editing between a client's read and write).
        self._before: list[tuple[str, BeforeHook]] = []
        self.requests: Counter[str] = Counter()  # "METHOD /route/{id}" -> count
        self.connections = 0  # TCP connections accepted (a client reusing one opens one)
        self.faults_served: Counter[str] = Counter()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        handler = type(f"{type(self).__name__}Handler", (self.handler,), {"owner": self})
        server = QuietServer(("127.0.0.1", 0), handler)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=self.thread_name,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (slow answers in flight are cut short)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ----------------------------------------------------------------- counts
    def count(self, route: str) -> int:
        """Requests seen for ``"METHOD /route"`` (variable parts as the fake templates them)."""
        return self.requests[route]

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def count_request(self, route: str) -> None:
        with self._lock:
            self.requests[route] += 1

    def count_connection(self) -> None:
        with self._lock:
            self.connections += 1

    # ----------------------------------------------------------------- faults
    def new_fault(self, kind: str, method: str | None, route: str | None, times: int,
                  **options: Any) -> Fault:
        """The fault :meth:`inject` queues (a fake adds its defaults here)."""
        return Fault(kind, method, route, times, **options)

    def inject(self, kind: str, *, method: str | None = None, route: str | None = None,
               times: int = 1, **options: Any) -> None:
        """Make the next ``times`` requests matching ``method`` and ``route`` (``"PATCH
        /v1/pages/{id}"`` names both) fail with ``kind``."""
        if kind not in self.known_faults:
            raise ValueError(f"unknown fault {kind!r}")
        if route is not None and method is None and " " in route:
            method, route = route.split(" ", 1)
        fault = self.new_fault(kind, method, route, times,
                               **{k: v for k, v in options.items() if v is not None})
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """No queued faults, no storm."""
        with self._lock:
            self._faults.clear()
            self.fault_rate = 0.0

    def reseed(self, seed: int) -> None:
        """Replay the same random storm (with the same requests)."""
        with self._lock:
            self._random.seed(seed)

    def storm_fault(self) -> Fault:
        """A random fault of the storm (``fault_rate``)."""
        return Fault(self._random.choice(self.storm_kinds))

    def next_fault(self, method: str, route: str) -> Fault | None:
        """The fault for this request, if any: a queued one first, then the storm's."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, route):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    self.faults_served[fault.kind] += 1
                    return fault
            if self.fault_rate and self._random.random() < self.fault_rate:
                fault = self.storm_fault()
                self.faults_served[fault.kind] += 1
                return fault
        return None

    # ----------------------------------------------------------------- people in between
    def before(self, route: str, action: BeforeHook) -> None:
        """Run ``action(path, body)`` once, right before the next ``route`` request (e.g.
        ``"PATCH /v1/pages/{id}"``) is applied: what a person does in between a read and a
        write."""
        with self._lock:
            self._before.append((route, action))

    def clear_before(self) -> None:
        with self._lock:
            self._before.clear()

    def run_before(self, route: str, path: str, body: Any) -> None:
        with self._lock:
            due = [hook for hook in self._before if hook[0] == route]
            for hook in due:
                self._before.remove(hook)
        for _, action in due:
            action(path, body)
