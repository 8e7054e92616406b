"""Watched pages and their checks: every SQL statement that touches ``pages`` and ``checks``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlite_utils

from storage.db import utcnow_iso, write_transaction

_PAGE_COLUMNS = (
    "id, url, domain, topic, state, moved_to, next_check_at, last_checked_at, last_changed_at, "
    "last_state, "
    "errors_in_row, etag, last_modified, current_version, last_raw_sha256, region, region_fp, "
    "pending_hash, pending_count"
)


@dataclass(frozen=True)
class PageRow:
    """One watched page as stored."""

    id: int
    url: str
    domain: str
    topic: str | None
    state: str
    moved_to: str | None
    next_check_at: float
    last_checked_at: float | None
    last_changed_at: float | None
    last_state: str | None
    errors_in_row: int
    etag: str | None
    last_modified: str | None
    current_version: int | None
    last_raw_sha256: str | None
    region: str | None
    region_fp: str | None
    pending_hash: str | None
    pending_count: int


def _rows(db: sqlite_utils.Database, sql: str, params: Sequence[object] = ()) -> list[PageRow]:
    return [PageRow(*row) for row in db.execute(sql, list(params)).fetchall()]


def domain_of(url: str) -> str:
    """The host of ``url``, lower case, without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def ensure_topic(db: sqlite_utils.Database, name: str, query: str | None = None) -> None:
    """Record a topic name (idempotent)."""
    db.execute(
        "INSERT INTO topics (name, query, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET query = COALESCE(excluded.query, topics.query)",
        [name, query, utcnow_iso()],
    )


def add_pages(
    db: sqlite_utils.Database, urls: Iterable[str], *, topic: str | None, now: float
) -> tuple[list[str], list[str]]:
    """Add pages to watch, due at once; return (added, already watched)."""
    added: list[str] = []
    existing: list[str] = []
    with write_transaction(db):
        if topic:
            ensure_topic(db, topic)
        for url in urls:
            cursor = db.execute(
                "INSERT INTO pages (url, domain, topic, added_at, next_check_at, last_changed_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO NOTHING",
                [url, domain_of(url), topic, utcnow_iso(), now, now],
            )
            (added if cursor.rowcount else existing).append(url)
    return added, existing


def get_page(db: sqlite_utils.Database, url: str) -> PageRow | None:
    """The page watched at ``url``, if any."""
    rows = _rows(db, f"SELECT {_PAGE_COLUMNS} FROM pages WHERE url = ?", [url])
    return rows[0] if rows else None


def get_page_by_id(db: sqlite_utils.Database, page_id: int) -> PageRow | None:
    """The page with id ``page_id``, if any."""
    rows = _rows(db, f"SELECT {_PAGE_COLUMNS} FROM pages WHERE id = ?", [page_id])
    return rows[0] if rows else None


def due_pages(db: sqlite_utils.Database, now: float, limit: int | None = None) -> list[PageRow]:
    """Pages whose next check is due, oldest due first (an index range scan: O(due))."""
    sql = f"SELECT {_PAGE_COLUMNS} FROM pages WHERE next_check_at <= ? ORDER BY next_check_at"
    params: list[object] = [now]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return _rows(db, sql, params)


def all_pages(db: sqlite_utils.Database, urls: Sequence[str] | None = None) -> list[PageRow]:
    """Every watched page, or those at ``urls``."""
    if urls is None:
        return _rows(db, f"SELECT {_PAGE_COLUMNS} FROM pages ORDER BY id")
    return [page for url in urls if (page := get_page(db, url)) is not None]


def update_page(db: sqlite_utils.Database, page_id: int, **fields: object) -> None:
    """Set columns of one page (names come from code, never from input)."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    db.execute(f"UPDATE pages SET {assignments} WHERE id = ?", [*fields.values(), page_id])


def bring_forward(db: sqlite_utils.Database, page_id: int, *, changed_at: float, check_by: float) -> None:
    """Mark a page as just changed and make it due no later than ``check_by``."""
    db.execute(
        "UPDATE pages SET last_changed_at = ?, next_check_at = MIN(next_check_at, ?) WHERE id = ?",
        [changed_at, check_by, page_id],
    )


def record_check(
    db: sqlite_utils.Database,
    page_id: int,
    *,
    at: float,
    state: str,
    http_status: int | None,
    ms: int,
    nbytes: int,
    version_id: int | None = None,
    error: str | None = None,
) -> None:
    """Append one compact check row (a few dozen bytes for an unchanged fetch)."""
    db.execute(
        "INSERT INTO checks (page_id, at, http_status, state, ms, bytes, version_id, error) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [page_id, int(at), http_status, state, ms, nbytes, version_id, error],
    )


def page_count(db: sqlite_utils.Database) -> int:
    """Number of watched pages."""
    return int(db.execute("SELECT COUNT(*) FROM pages").fetchone()[0])


def pages_needing_browser(db: sqlite_utils.Database) -> set[int]:
    """Ids of the pages an earlier check found to need the browser (``render = "auto"``)."""
    return {int(row[0]) for row in db.execute("SELECT id FROM pages WHERE needs_browser = 1")}


def remember_needs_browser(db: sqlite_utils.Database, page_ids: Iterable[int]) -> None:
    """Remember that these pages show their article only in the browser."""
    with write_transaction(db):
        for page_id in page_ids:
            db.execute("UPDATE pages SET needs_browser = 1 WHERE id = ?", [page_id])
