"""The plugin's pages: a change as a word diff, a version's text, a raw snapshot.

Routes (registered by :mod:`storage.datasette.plugin`)::

    /-/veille/change/<id>          the change: diff, links to its versions, snapshot, live URL
    /-/veille/version/<id>         one version's title, byline, dates and text
    /-/veille/snapshot/<id>        the raw HTML: escaped source and a sandboxed rendering
    /-/veille/snapshot/<id>/raw    the raw bytes, served with ``Content-Security-Policy: sandbox``

Every query goes through Datasette's read connections, so the plugin sees exactly what a reader
may see. Templates autoescape; the diff HTML comes from :mod:`storage.datasette.render`.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import zlib
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit

from datasette.utils.asgi import NotFound, Response

from storage.datasette.render import parse_ops, render_ops, split_paragraphs

if TYPE_CHECKING:
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.utils.asgi import Request

logger = logging.getLogger(__name__)

ROUTE_PREFIX: Final = "/-/veille"
# Source view of a snapshot: characters shown before "download the rest".
SNAPSHOT_SOURCE_CHARS: Final = 2_000_000
# The raw snapshot may style itself and show inline images; nothing else loads, nothing runs.
SNAPSHOT_CSP: Final = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
)


def veille_database(datasette: Datasette) -> Database:
    """The database holding veille's tables: the one the plugin config names, else the first
    file attached (``datasette veille.db`` without veille's metadata)."""
    config = datasette.plugin_config("veille") or {}
    name = config.get("database")
    if name and name in datasette.databases:
        return datasette.get_database(name)
    for db_name, db in datasette.databases.items():
        if db_name != "_internal" and not db.is_memory:
            return db
    raise NotFound("No veille database is attached to this Datasette")


async def _allowed(datasette: Datasette, request: Request, db: Database, table: str) -> None:
    await datasette.ensure_permissions(
        request.actor,
        [("view-table", (db.name, table)), ("view-database", db.name), "view-instance"],
    )


def live_link(url: object) -> str | None:
    """``url`` when it is an http(s) address safe to link to, else ``None``."""
    text = str(url or "")
    return text if urlsplit(text).scheme in ("http", "https") else None


def plugin_path(datasette: Datasette, what: str, ident: object) -> str:
    """Path of a plugin page, e.g. ``plugin_path(ds, "change", 3)``."""
    return datasette.urls.path(f"{ROUTE_PREFIX}/{what}/{ident}")


def timeline_path(datasette: Datasette, db: Database, url: object) -> str:
    """Path of the article-timeline canned query for ``url``."""
    return datasette.urls.query(db.name, "article_timeline") + "?" + urlencode({"url": str(url)})


async def _one(db: Database, sql: str, params: list[Any] | dict[str, Any]) -> dict[str, Any] | None:
    row = (await db.execute(sql, params)).first()
    return dict(row) if row is not None else None


async def _all(db: Database, sql: str, params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in (await db.execute(sql, params)).rows]


def _ident(request: Request) -> int:
    return int(request.url_vars["id"])


async def change_page(datasette: Datasette, request: Request) -> Response:
    """One change: its word diff with whole paragraphs, and links to everything around it."""
    db = veille_database(datasette)
    await _allowed(datasette, request, db, "changes")
    ident = _ident(request)
    change = await _one(
        db,
        "SELECT changes.*, pages.url, pages.moved_to, pages.topic, pages.domain, "
        "pages.state AS page_state FROM changes JOIN pages ON pages.id = changes.page_id "
        "WHERE changes.id = ?",
        [ident],
    )
    if change is None:
        raise NotFound(f"No change {ident}")
    version_sql = (
        "SELECT id, seq, title, body, first_seen, last_seen, snapshot_id FROM versions WHERE id = ?"
    )
    old = await _one(db, version_sql, [change["from_version"]])
    new = await _one(db, version_sql, [change["to_version"]])
    ops = parse_ops(change["ops"])
    diff = render_ops(
        change["kind"],
        ops or [],
        new_paragraphs=split_paragraphs(new["body"]) if new else None,
        new_title=new["title"] if new else None,
    )
    # Changes recorded together with this one (an edit often touches title, body and dates).
    together = await _all(
        db,
        "SELECT id, kind, summary FROM changes WHERE page_id = ? AND id != ? "
        "AND detected_at = ? AND to_version IS ? ORDER BY id",
        [change["page_id"], ident, change["detected_at"], change["to_version"]],
    )
    around = await _one(
        db,
        "SELECT (SELECT MAX(id) FROM changes WHERE page_id = :p AND id < :id) AS previous, "
        "(SELECT MIN(id) FROM changes WHERE page_id = :p AND id > :id) AS next",
        {"p": change["page_id"], "id": ident},
    )
    title = (new or old or {}).get("title") or change["url"]
    context = {
        "change": change,
        "old": old,
        "new": new,
        "diff": diff,
        "has_ops": bool(ops),
        "together": together,
        "around": around or {},
        "page_title": title,
        "live_url": live_link(change["url"]),
        "moved_to": live_link(change["moved_to"]) if change["kind"] == "moved" else None,
        "timeline_url": timeline_path(datasette, db, change["url"]),
        "row_url": datasette.urls.row(db.name, "changes", str(ident)),
        "json_url": datasette.urls.row(db.name, "changes", str(ident), format="json"),
        "database": db.name,
        "link": lambda what, ident: plugin_path(datasette, what, ident),
    }
    html = await datasette.render_template("veille_change.html", context, request=request)
    return Response.html(html)


async def version_page(datasette: Datasette, request: Request) -> Response:
    """One version of an article: its text as veille extracted it, and its neighbours."""
    db = veille_database(datasette)
    await _allowed(datasette, request, db, "versions")
    ident = _ident(request)
    version = await _one(
        db,
        "SELECT versions.*, pages.url FROM versions JOIN pages ON pages.id = versions.page_id "
        "WHERE versions.id = ?",
        [ident],
    )
    if version is None:
        raise NotFound(f"No version {ident}")
    around = await _one(
        db,
        "SELECT (SELECT id FROM versions WHERE page_id = :p AND seq = :s - 1) AS previous, "
        "(SELECT id FROM versions WHERE page_id = :p AND seq = :s + 1) AS next, "
        "(SELECT MAX(seq) FROM versions WHERE page_id = :p) AS last",
        {"p": version["page_id"], "s": version["seq"]},
    )
    changes = await _all(
        db,
        "SELECT id, kind, summary, detected_at, to_version = :id AS is_into FROM changes "
        "WHERE to_version = :id OR from_version = :id ORDER BY id",
        {"id": ident},
    )
    context = {
        "version": version,
        "paragraphs": split_paragraphs(version["body"]),
        "authors": _json_list(version["authors"]),
        "alternates": [a for a in _json_list(version["alternates"]) if isinstance(a, list)],
        "around": around or {},
        "changes": changes,
        "live_url": live_link(version["url"]),
        "canonical_url": live_link(version["canonical_url"]),
        "timeline_url": timeline_path(datasette, db, version["url"]),
        "row_url": datasette.urls.row(db.name, "versions", str(ident)),
        "database": db.name,
        "link": lambda what, ident: plugin_path(datasette, what, ident),
    }
    html = await datasette.render_template("veille_version.html", context, request=request)
    return Response.html(html)


async def _snapshot(
    datasette: Datasette, request: Request
) -> tuple[Database, int, dict[str, Any]]:
    """The database, id and row of the snapshot a request names, or 404 (permission checked)."""
    db = veille_database(datasette)
    await _allowed(datasette, request, db, "snapshots")
    ident = _ident(request)
    snapshot = await _one(db, "SELECT * FROM snapshots WHERE id = ?", [ident])
    if snapshot is None:
        raise NotFound(f"No snapshot {ident}")
    return db, ident, snapshot


async def snapshot_page(datasette: Datasette, request: Request) -> Response:
    """A raw snapshot: its facts, a sandboxed rendering (scripts off) and its escaped source."""
    db, ident, snapshot = await _snapshot(datasette, request)
    raw = _raw_bytes(snapshot)
    text = raw.decode(_codec(snapshot["encoding"]), errors="replace")
    versions = await _all(
        db, "SELECT id, seq, title FROM versions WHERE snapshot_id = ? ORDER BY id", [ident]
    )
    context = {
        "snapshot": {k: v for k, v in snapshot.items() if k != "html_zlib"},
        "verified": hashlib.sha256(raw).hexdigest() == snapshot["sha256"],
        "source": text[:SNAPSHOT_SOURCE_CHARS],
        "source_cut": len(text) > SNAPSHOT_SOURCE_CHARS,
        "versions": versions,
        "live_url": live_link(snapshot["url"]),
        "raw_url": plugin_path(datasette, "snapshot", f"{ident}/raw"),
        "row_url": datasette.urls.row(db.name, "snapshots", str(ident)),
        "database": db.name,
        "link": lambda what, ident: plugin_path(datasette, what, ident),
    }
    html = await datasette.render_template("veille_snapshot.html", context, request=request)
    return Response.html(html)


async def snapshot_raw(datasette: Datasette, request: Request) -> Response:
    """The raw bytes of a snapshot, sandboxed: an opaque origin, no scripts, nothing fetched."""
    db, ident, snapshot = await _snapshot(datasette, request)
    headers = {
        "Content-Security-Policy": SNAPSHOT_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, max-age=3600",
    }
    if request.args.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="snapshot-{ident}.html"'
    charset = _codec(snapshot["encoding"])
    return Response(
        _raw_bytes(snapshot),
        headers=headers,
        content_type=f"text/html; charset={charset}",
    )


def _raw_bytes(snapshot: dict[str, Any]) -> bytes:
    blob = snapshot["html_zlib"]
    if blob is None:  # hidden by the authorizer, or an empty row
        return b""
    try:
        return zlib.decompress(blob)
    except zlib.error as exc:
        raise NotFound(f"Snapshot {snapshot['id']} cannot be decompressed: {exc}") from None


def _codec(encoding: object) -> str:
    """A codec Python knows for ``encoding``, UTF-8 when unknown."""
    try:
        return codecs.lookup(str(encoding)).name if encoding else "utf-8"
    except LookupError:
        return "utf-8"


def _json_list(value: object) -> list[Any]:
    try:
        parsed = json.loads(str(value)) if value else []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []
