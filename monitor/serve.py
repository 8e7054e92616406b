"""``veille serve``: Datasette on the veille database, read-only, with veille's metadata and plugin.

Datasette runs in this process (uvicorn on a socket bound here, so ``--port 0`` picks a free
port and the address printed is the real one). It opens the live file in its default *mutable*
mode: never ``--immutable``, which would promise SQLite that the file never changes while the
daemon keeps writing it (WAL lets both run; see docs/datasette.md). The plugin makes every
connection read-only and hides alert-route secrets (``storage/datasette/access.py``).

Bound to 127.0.0.1 unless told otherwise; any other address prints a warning, and setting
``VEILLE_SERVE_PASSWORD`` makes every request need that password (HTTP basic auth).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from monitor.errors import VeilleError
from storage.datasette.access import PASSWORD_ENV, password_from_env
from storage.datasette.metadata import build_metadata
from storage.db import SCHEMA_VERSION, StorageError, open_database, schema_version

if TYPE_CHECKING:
    from datasette.app import Datasette

logger = logging.getLogger(__name__)

SERVE_HOST: Final = "127.0.0.1"
SERVE_PORT: Final = 8001
# Datasette settings: long article bodies are cut in table cells (the version page shows them
# whole); no suggested facets (each table has its own, and suggesting them scans the long text
# columns: 1.3 s instead of 0.2 s for the versions page of 10,000 versions); nothing to download
# (the file is live, and holds every snapshot).
SERVE_SETTINGS: Final[dict[str, object]] = {
    "truncate_cells_html": 300,
    "suggest_facets": False,
    "allow_download": False,
    "default_page_size": 50,
}


class ServeError(VeilleError):
    """Datasette cannot be started: no database, an old schema, an address in use."""


@dataclass(frozen=True)
class Bound:
    """A listening socket and the URL it serves."""

    sock: socket.socket
    url: str


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, *, password: bool) -> str | None:
    """The warning to print when serving on ``host``; ``None`` for a loopback address."""
    if is_loopback(host):
        return None
    if password:
        return (
            f"warning: serving on {host}: reachable from other machines; a password is "
            f"required ({PASSWORD_ENV}), but it travels in clear over HTTP: put a reverse "
            "proxy with TLS in front on untrusted networks"
        )
    return (
        f"warning: serving on {host}: anyone who can reach this machine can read the whole "
        f"history; set {PASSWORD_ENV} to require a password, or put a reverse proxy with "
        "authentication and TLS in front (see docs/datasette.md)"
    )


def bind(host: str, port: int) -> Bound:
    """Listen on ``host:port`` (port 0: a free one) and return the socket and its URL."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot use --host {host}: {exc.strerror}; give an IP address") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ServeError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port "
            "(0 picks a free one)"
        ) from exc
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return Bound(sock, f"http://{shown}:{real_port}")


def check_database(path: Path) -> str | None:
    """Fail early, with the fix, when ``path`` cannot be shown; a warning when it is old."""
    try:
        db = open_database(path, readonly=True)
    except StorageError as exc:
        raise ServeError(str(exc)) from exc
    try:
        level = schema_version(db)
    except sqlite3.DatabaseError as exc:
        raise ServeError(f"{path}: not a veille database ({exc})") from exc
    finally:
        db.close()
    if level < SCHEMA_VERSION:
        # Datasette shows an old schema fine; only what later versions added is missing.
        return (
            f"warning: {path}: database schema {level} is older than this veille "
            f"({SCHEMA_VERSION}); run `veille check` once to upgrade it"
        )
    return None


def make_datasette(path: Path) -> Datasette:
    """A Datasette on ``path`` with veille's metadata and plugin, in mutable (live) mode."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from storage.datasette import plugin

    # The entry point registers the plugin when veille is installed; from a bare checkout
    # (or with Datasette's plugin loading turned off) register it here.
    if not pm.is_registered(plugin) and pm.get_plugin(plugin.__name__) is None:
        pm.register(plugin, name=plugin.__name__)
    name = path.stem
    return Datasette(
        [str(path)],
        metadata=build_metadata(name),
        settings=dict(SERVE_SETTINGS),
        cors=False,
    )


def serve(path: Path, host: str, port: int, *, out: TextIO | None = None) -> None:
    """Serve the database at ``path`` until interrupted; print the address (and any warning)."""
    import uvicorn

    out = out or sys.stdout
    warnings = [
        check_database(path),
        exposure_warning(host, password=password_from_env() is not None),
    ]
    bound = bind(host, port)
    ds = make_datasette(path)
    for warning in filter(None, warnings):
        print(warning, file=sys.stderr, flush=True)
    print(
        f"Datasette: {bound.url}{ds.urls.database(path.stem)} (read-only; Ctrl-C to stop)",
        file=out,
        flush=True,
    )
    level = "info" if logger.isEnabledFor(logging.INFO) else "warning"
    config = uvicorn.Config(ds.app(), log_level=level, lifespan="on", workers=1)
    try:
        uvicorn.Server(config).run(sockets=[bound.sock])
    finally:
        bound.sock.close()
