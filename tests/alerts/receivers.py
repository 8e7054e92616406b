"""Real alert receivers on 127.0.0.1: an SMTP server (aiosmtpd) and a JSON webhook.

``SmtpSink`` runs aiosmtpd's ``SMTP`` protocol on its own event loop thread, on a port picked by
the OS and kept across :meth:`SmtpSink.down` / :meth:`SmtpSink.up` (so an Apprise URL stays
valid while the server is away). With ``hold()``, DATA waits until ``release()``: a test can
kill the sending process mid-delivery. With a login, AUTH is offered without TLS (aiosmtpd
refuses that by default) and records each login.

``WebhookSink`` is a ``ThreadingHTTPServer`` that records every POST (path, headers, JSON body)
and answers ``status`` (200 by default; set 500 to refuse).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def wait_for(
    condition: Callable[[], object], timeout: float = 15.0, what: str = "condition"
) -> Any:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:  # noqa: N802
        sink = self.sink
        if sink.hang_up:  # FAULTS F35: the server takes DATA, then drops the connection
            server.transport.close()
            return "250 never sent"
        if sink.holding:
            sink.data_started.set()
            await asyncio.get_running_loop().run_in_executor(None, sink.released.wait)
            if sink.drop_held:
                return "451 lost"  # the client died meanwhile: the message never arrived
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with sink.lock:
            sink.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server that keeps every message it accepts."""

    def __init__(self, *, login: tuple[str, str] | None = None) -> None:
        self.login = login
        self.messages: list[EmailMessage] = []
        self.logins: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.holding = False
        self.drop_held = False
        self.hang_up = False
        self.data_started = threading.Event()
        self.released = threading.Event()
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.up()

    def _protocol(self) -> SMTP:
        return SMTP(
            # AUTH offered without TLS (aiosmtpd refuses that by default); Apprise logs in when
            # its URL has a password, and `logins` records it.
            _Handler(self),
            hostname="smtp.test",
            auth_require_tls=False,
            authenticator=self._authenticate if self.login else None,
        )

    def _authenticate(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            pair = (data.login.decode(), data.password.decode())
            self.logins.append(pair)
            return AuthResult(success=pair == self.login)
        return AuthResult(success=False)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def up(self) -> None:
        """Listen (again, on the same port)."""

        async def start() -> None:
            self._server = await self._loop.create_server(
                self._protocol, "127.0.0.1", self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

        self._run(start())

    def down(self) -> None:
        """Stop listening: connections are refused until :meth:`up`."""

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None

        self._run(stop())

    def hold(self, *, drop: bool = False) -> None:
        """Make DATA wait for :meth:`release`; with ``drop``, refuse the held message then."""
        self.holding, self.drop_held = True, drop
        self.data_started.clear()
        self.released.clear()

    def release(self) -> None:
        """Let held messages finish, and stop holding."""
        self.holding = False
        self.released.set()

    def url(self, user: str | None = None, password: str | None = None, **params: str) -> str:
        """An Apprise ``mailto://`` URL for this server (plain SMTP, no STARTTLS)."""
        auth = f"{user}:{password}@" if user else ""
        query = {"from": "veille@example.org", "to": "ops@example.org", **params}
        return f"mailto://{auth}127.0.0.1:{self.port}?" + "&".join(
            f"{k}={v}" for k, v in query.items()
        )

    def received(self) -> list[EmailMessage]:
        """The messages accepted so far."""
        with self.lock:
            return list(self.messages)

    def close(self) -> None:
        """Stop the server and its loop."""
        self.release()
        self.down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@dataclass
class Post:
    """One POST the webhook received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class WebhookSink:
    """A local HTTP endpoint recording POSTs (behind ``json://127.0.0.1:PORT/hook``)."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.hits = 0  # every POST, accepted or not
        self.status = 200
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status = sink.status
                with sink.lock:
                    sink.hits += 1
                if status == 200:
                    with sink.lock:
                        sink.posts.append(
                            Post(self.path, dict(self.headers.items()), json.loads(raw))
                        )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, extra: str = "") -> str:
        """An Apprise ``json://`` URL for this endpoint."""
        return f"json://127.0.0.1:{self.port}/hook{extra}"

    def received(self) -> list[Post]:
        """The POSTs accepted so far."""
        with self.lock:
            return list(self.posts)

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()
