"""What Datasette may do with the veille database: read, never write, never see secrets.

- :func:`guard_connection` makes a connection read-only (``PRAGMA query_only``) and installs an
  SQLite authorizer under which hidden tables and secret columns read as NULL, in every query:
  table pages, canned queries and SQL typed by a user alike.
- :class:`BasicAuth` is an ASGI wrapper that asks for a password (HTTP basic auth) on every
  request when :data:`PASSWORD_ENV` is set: the way to expose ``veille serve`` beyond this
  machine without a reverse proxy.
- :class:`DefaultColumns` leaves bulky columns (the compressed raw HTML) out of a table's page
  and JSON unless ``_col``/``_nocol`` asks otherwise.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

logger = logging.getLogger(__name__)

# Environment variable holding the password Datasette asks for (any user name).
PASSWORD_ENV: Final = "VEILLE_SERVE_PASSWORD"
REALM: Final = "veille"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def guard_connection(
    conn: sqlite3.Connection, *, hidden_tables: Collection[str], secret_columns: Collection[str]
) -> None:
    """Make ``conn`` read-only and blind to ``hidden_tables`` and ``secret_columns``.

    Datasette's own write connection goes through here too, so even a write canned query
    added by hand fails ("attempt to write a readonly database").
    """
    conn.execute("PRAGMA query_only = 1")
    tables = frozenset(t.lower() for t in hidden_tables)
    columns = frozenset(c.lower() for c in secret_columns)

    def authorize(
        action: int, arg1: str | None, arg2: str | None, _db: str | None, _source: str | None
    ) -> int:
        # SQLITE_IGNORE on a read makes the column read as NULL instead of failing the query,
        # so counts and table pages still work and nothing secret comes out.
        if action == sqlite3.SQLITE_READ and (
            (arg1 or "").lower() in tables or (arg2 or "").lower() in columns
        ):
            return sqlite3.SQLITE_IGNORE
        return sqlite3.SQLITE_OK

    conn.set_authorizer(authorize)


class BasicAuth:
    """ASGI wrapper: every HTTP request needs ``password`` (HTTP basic auth, any user name)."""

    def __init__(self, app: ASGIApp, password: str) -> None:
        self.app = app
        self._password = password.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass authorised requests (and lifespan events) on; answer 401 to the others."""
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        body = b"veille: this Datasette needs a password.\n"
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()),
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _allowed(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers") or [])
        value = headers.get(b"authorization", b"")
        scheme, _, encoded = value.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            return False
        _user, _, password = decoded.partition(b":")
        return hmac.compare_digest(password, self._password)


def password_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The password to require, from :data:`PASSWORD_ENV`; ``None`` when unset or empty."""
    value = (os.environ if environ is None else environ).get(PASSWORD_ENV, "")
    return value or None


class DefaultColumns:
    """ASGI wrapper: leave ``columns`` out of the pages at ``paths`` unless the URL picks columns.

    ``paths`` maps a table's path (``/veille/snapshots``) to the columns to leave out; its
    ``.json`` and ``.csv`` forms are covered too.
    """

    def __init__(self, app: ASGIApp, paths: Callable[[], Mapping[str, Collection[str]]]) -> None:
        self.app = app
        self._paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add ``_nocol=`` to matching requests that name no columns themselves."""
        if scope["type"] == "http":
            path = str(scope.get("path", ""))
            base, dot, _format = path.rpartition(".")
            columns = self._paths().get(path) or (self._paths().get(base) if dot else None)
            if columns:
                query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
                if not any(key in ("_col", "_nocol") for key, _ in query):
                    query += [("_nocol", column) for column in columns]
                    scope = dict(scope, query_string=urlencode(query).encode("latin-1"))
        await self.app(scope, receive, send)
