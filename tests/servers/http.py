"""A local HTTP site for tests and benchmarks: routes that a test changes between rounds.

``LocalSite`` runs a ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) in a daemon thread::

    with LocalSite() as site:
        site.set("/a.html", "<html>…</html>")          # 200, strong ETag and Last-Modified
        site.redirect("/old", "/a.html")                # 301
        site.remove("/gone", status=410)
        fetch(site.url("/a.html"))
        assert site.hits("/a.html") == 1

With ``conditional=True`` (the default) a route sends a strong ``ETag`` (a hash of the body) and a
``Last-Modified``, and answers 304 when ``If-None-Match`` (or, without it, ``If-Modified-Since``)
matches. Setting the same body again keeps both validators; a new body gets a later
``Last-Modified``, always past the second of any earlier request, so a client's
``If-Modified-Since`` never hides a change made within the same second.

The fault routes of the shared FAULTS.md (``/fault/huge``, ``/fault/gzip-bomb``…) are installed on
every site; see :mod:`tests.servers.faults`. A handler error answers 500 and never stops the
server; a client that hangs up is ignored quietly.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import logging
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

logger = logging.getLogger(__name__)

HTML: Final = "text/html; charset=utf-8"
# Errors that only mean the client went away.
CLIENT_GONE: Final = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


@dataclass
class Route:
    """What one path answers. ``handler``, when set, writes the whole response itself."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True
    etag: str | None = None
    last_modified: int | None = None  # Unix seconds
    handler: Callable[[SiteHandler], None] | None = None
    _gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        """The body compressed once, on first use."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


class SiteHandler(BaseHTTPRequestHandler):
    """Serves the routes of ``self.server.site``."""

    protocol_version = "HTTP/1.1"  # keep-alive, as real sites and crawlers use
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK stall each keep-alive response by ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    @property
    def site(self) -> LocalSite:
        """The site this request is for."""
        return self.server.site

    @property
    def query(self) -> dict[str, str]:
        """The query string as a flat dict (last value wins)."""
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Quiet: tests read ``site.requests`` instead."""

    def handle_one_request(self) -> None:
        """Serve one request; a vanished client is not an error."""
        try:
            super().handle_one_request()
        except CLIENT_GONE:
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        """Serve a GET."""
        self._serve(head=False)

    def do_POST(self) -> None:  # noqa: N802
        """Serve a POST like a GET (the body is read and dropped)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        """Serve a HEAD: the GET's headers, no body."""
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        site = self.site
        site._record(self.command, self.path, dict(self.headers.items()))
        route = site._lookup(self.path)
        try:
            if route.handler is not None:
                route.handler(self)
            else:
                self._send_route(route, head=head)
        except CLIENT_GONE:
            self.close_connection = True
        except Exception:
            logger.exception("handler for %s failed", self.path)
            self.close_connection = True
            try:
                self.send_error(500)
            except Exception:  # the response may be half sent already
                logger.debug("could not send the 500 for %s", self.path)

    def _send_route(self, route: Route, *, head: bool) -> None:
        validators = self.site.conditional and route.conditional and route.status == 200
        if validators and self._not_modified(route):
            self.site._served(304)
            self.send_response(304)
            self._validator_headers(route)
            self.end_headers()
            return
        body = route.body
        use_gzip = (
            self.site.compress
            and route.status == 200
            and len(body) > 1024
            and "gzip" in self.headers.get("Accept-Encoding", "")
            and "Content-Encoding" not in route.headers
        )
        if use_gzip:
            body = route.gzipped()
        self.site._served(route.status)
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        if self.site.compress:
            self.send_header("Vary", "Accept-Encoding")
        if validators:
            self._validator_headers(route)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _validator_headers(self, route: Route) -> None:
        if route.etag:
            self.send_header("ETag", route.etag)
        if route.last_modified is not None:
            self.send_header(
                "Last-Modified", email.utils.formatdate(route.last_modified, usegmt=True)
            )

    def _not_modified(self, route: Route) -> bool:
        # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since counts only without it.
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or route.etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims and route.last_modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return route.last_modified <= since
        return False


class _Server(ThreadingHTTPServer):
    """One thread per connection; the threads never block shutdown."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # crawlers open 64 connections at once
    site: LocalSite

    def handle_error(self, request: object, client_address: object) -> None:
        """Log at DEBUG instead of printing a traceback: clients hang up all the time."""
        logger.debug("error serving %s", client_address, exc_info=True)


def _not_found() -> Route:
    return Route(
        404, b"<html><body><h1>404 Not Found</h1></body></html>", {"Content-Type": HTML}, False
    )


class LocalSite:
    """An HTTP server on 127.0.0.1 whose routes a test sets and changes.

    ``record=False`` keeps no request log (long benchmarks); ``compress=True`` gzips bodies over
    1 KB for clients that accept it, as real news sites do; ``faults=False`` leaves out the
    ``/fault/...`` routes.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        record: bool = True,
        compress: bool = False,
        faults: bool = True,
    ) -> None:
        self.record = record
        self.compress = compress
        self.conditional = True  # False: no route sends validators or answers 304
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.served: Counter[int] = Counter()  # statuses answered by routes set with set()
        self.stopping = threading.Event()  # streaming fault handlers stop when it is set
        self._routes: dict[str, Route] = {}
        self._prefixes: list[tuple[str, Callable[[SiteHandler], None]]] = []
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _Server((host, port), SiteHandler)
        self._server.site = self
        self._thread: threading.Thread | None = None
        if faults:
            from tests.servers.faults import install

            install(self)

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> LocalSite:
        """Serve in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path``."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- routes --------------------------------------------------------------------------------

    def set(
        self,
        path: str,
        body: str | bytes,
        *,
        status: int = 200,
        content_type: str = HTML,
        headers: dict[str, str] | None = None,
        conditional: bool = True,
    ) -> None:
        """Serve ``body`` at ``path`` (a ``str`` is encoded as UTF-8)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        all_headers = {"Content-Type": content_type, **(headers or {})}
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        with self._lock:
            old = self._routes.get(path)
            if old is not None and old.etag == etag and old.last_modified is not None:
                last_modified = old.last_modified
            else:
                # One second ahead of now, and of the old body: an If-Modified-Since sent for
                # the old body (same second) must not match the new one.
                floor = (old.last_modified or 0) + 1 if old is not None else 0
                last_modified = max(int(time.time()) + 1, floor)
            self._routes[path] = Route(status, data, all_headers, conditional, etag, last_modified)

    def set_many(
        self,
        bodies: dict[str, bytes],
        *,
        content_type: str = HTML,
        gzipped: dict[str, bytes] | None = None,
    ) -> None:
        """Serve many pages at once (a benchmark round); same rules as :meth:`set`.

        ``gzipped`` gives bodies already compressed; others are compressed now (with
        ``compress=True``), not while a crawl is being timed.
        """
        for path, body in bodies.items():
            self.set(path, body, content_type=content_type)
            if gzipped and path in gzipped:
                self._routes[path]._gzipped = gzipped[path]
            elif self.compress:
                self._routes[path].gzipped()

    def redirect(self, path: str, target: str, status: int = 301) -> None:
        """Redirect ``path`` to ``target`` (a path or an absolute URL)."""
        location = self.url(target) if target.startswith("/") else target
        with self._lock:
            self._routes[path] = Route(
                status, b"", {"Location": location, "Content-Type": HTML}, conditional=False
            )

    def remove(self, path: str, status: int = 404) -> None:
        """Make ``path`` answer ``status`` (404 or 410) with a short error page."""
        body = f"<html><body><h1>{status}</h1><p>Not here.</p></body></html>".encode()
        with self._lock:
            self._routes[path] = Route(status, body, {"Content-Type": HTML}, conditional=False)

    def handle(
        self, path: str, func: Callable[[SiteHandler], None], *, prefix: bool = False
    ) -> None:
        """Let ``func(handler)`` write the whole response for ``path`` (or every path under it)."""
        with self._lock:
            if prefix:
                self._prefixes = sorted(
                    [*(p for p in self._prefixes if p[0] != path), (path, func)],
                    key=lambda p: -len(p[0]),
                )
            else:
                self._routes[path] = Route(handler=func, conditional=False)

    def robots(self, text: str) -> None:
        """Serve ``text`` as ``/robots.txt``."""
        self.set("/robots.txt", text, content_type="text/plain; charset=utf-8", conditional=False)

    # -- what happened ---------------------------------------------------------------------------

    def hits(self, path: str) -> int:
        """How many requests asked for ``path`` (with or without a query string)."""
        with self._lock:
            return self._hits[path]

    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        bare = urlsplit(path).path
        with self._lock:
            self._hits[path] += 1
            if bare != path:
                self._hits[bare] += 1
            if self.record:
                self.requests.append((method, path, headers))

    def _served(self, status: int) -> None:
        with self._lock:
            self.served[status] += 1

    def _lookup(self, path: str) -> Route:
        bare = urlsplit(path).path
        with self._lock:
            route = self._routes.get(path) or self._routes.get(bare)
            if route is not None:
                return route
            for prefix, func in self._prefixes:
                if bare.startswith(prefix):
                    return Route(handler=func, conditional=False)
        return _not_found()


def unused_port_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused, FAULTS.md F6)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
