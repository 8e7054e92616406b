"""Raw snapshots, article versions and changes: every SQL statement that touches them."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import sqlite_utils

# Fields of a version as stored, in the order the versions table lists them.
VERSION_FIELDS = (
    "title",
    "body",
    "authors",
    "published",
    "modified",
    "language",
    "canonical_url",
    "alternates",
    "description",
    "word_count",
)


@dataclass(frozen=True)
class VersionRow:
    """One distinct version of an article."""

    id: int
    page_id: int
    seq: int
    hash: str
    first_seen: str
    last_seen: str
    title: str | None
    body: str | None
    authors: list[str]
    published: str | None
    modified: str | None
    language: str | None
    canonical_url: str | None
    alternates: list[list[str]]
    description: str | None
    word_count: int | None
    snapshot_id: int | None


_VERSION_SELECT = (
    "SELECT id, page_id, seq, hash, first_seen, last_seen, title, body, authors, published, "
    "modified, language, canonical_url, alternates, description, word_count, snapshot_id "
    "FROM versions"
)


def _version(row: tuple[object, ...]) -> VersionRow:
    values = list(row)
    values[8] = json.loads(str(values[8])) if values[8] else []
    values[13] = json.loads(str(values[13])) if values[13] else []
    return VersionRow(*values)  # type: ignore[arg-type]


def insert_snapshot(
    db: sqlite_utils.Database,
    *,
    page_id: int,
    raw: bytes,
    url: str,
    fetched_at: str,
    http_status: int | None,
    content_type: str | None,
    encoding: str | None,
) -> int:
    """Keep the raw bytes of a fetch, compressed, keyed by their SHA-256; return the row id.

    Identical bytes are stored once: the first fetch time is the proof of when they were seen.
    """
    sha = hashlib.sha256(raw).hexdigest()
    row = db.execute("SELECT id FROM snapshots WHERE sha256 = ?", [sha]).fetchone()
    if row:
        return int(row[0])
    cursor = db.execute(
        "INSERT INTO snapshots (sha256, page_id, url, fetched_at, http_status, content_type, "
        "encoding, size, html_zlib) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [sha, page_id, url, fetched_at, http_status, content_type, encoding, len(raw),
         zlib.compress(raw, 6)],
    )
    return int(cursor.lastrowid or 0)


def snapshot_bytes(db: sqlite_utils.Database, snapshot_id: int) -> tuple[bytes, str | None, str]:
    """The raw bytes, content type and URL of a snapshot (its hash is checked on the way out)."""
    row = db.execute(
        "SELECT sha256, html_zlib, content_type, url FROM snapshots WHERE id = ?", [snapshot_id]
    ).fetchone()
    if row is None:
        raise KeyError(snapshot_id)
    raw = zlib.decompress(row[1])
    if hashlib.sha256(raw).hexdigest() != row[0]:
        raise ValueError(f"snapshot {snapshot_id}: stored bytes do not match their SHA-256")
    return raw, row[2], row[3]


def insert_version(
    db: sqlite_utils.Database,
    *,
    page_id: int,
    content_hash: str,
    fields: Mapping[str, object],
    seen_at: str,
    snapshot_id: int | None,
) -> int:
    """Store a new version of a page (next ``seq``) and return its id."""
    seq = db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM versions WHERE page_id = ?", [page_id]
    ).fetchone()[0]
    values = [_stored(fields.get(name)) for name in VERSION_FIELDS]
    cursor = db.execute(
        f"INSERT INTO versions (page_id, seq, hash, first_seen, last_seen, {', '.join(VERSION_FIELDS)}, "
        f"snapshot_id) VALUES (?, ?, ?, ?, ?, {', '.join('?' * len(VERSION_FIELDS))}, ?)",
        [page_id, seq, content_hash, seen_at, seen_at, *values, snapshot_id],
    )
    return int(cursor.lastrowid or 0)


def _stored(value: object) -> object:
    if isinstance(value, list | tuple):
        return json.dumps([list(v) if isinstance(v, tuple) else v for v in value], ensure_ascii=False)
    return value


def touch_version(db: sqlite_utils.Database, version_id: int, seen_at: str) -> None:
    """Record that a version was seen again."""
    db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", [seen_at, version_id])


def version_hash(db: sqlite_utils.Database, version_id: int) -> str | None:
    """The content hash of a version, without loading its text."""
    row = db.execute("SELECT hash FROM versions WHERE id = ?", [version_id]).fetchone()
    return str(row[0]) if row else None


def get_version(db: sqlite_utils.Database, version_id: int) -> VersionRow | None:
    """One version by id."""
    row = db.execute(f"{_VERSION_SELECT} WHERE id = ?", [version_id]).fetchone()
    return _version(row) if row else None


def versions_of(db: sqlite_utils.Database, page_id: int) -> list[VersionRow]:
    """All versions of a page, oldest first."""
    rows = db.execute(f"{_VERSION_SELECT} WHERE page_id = ? ORDER BY seq", [page_id]).fetchall()
    return [_version(row) for row in rows]


def insert_change(
    db: sqlite_utils.Database,
    *,
    page_id: int,
    detected_at: str,
    kind: str,
    summary: str,
    from_version: int | None = None,
    to_version: int | None = None,
    words_added: int = 0,
    words_removed: int = 0,
    share_changed: float = 0.0,
    stealth: bool = False,
    ops: object = None,
    unified: str | None = None,
) -> int:
    """Record one change of a page; return its id."""
    cursor = db.execute(
        "INSERT INTO changes (page_id, detected_at, kind, from_version, to_version, summary, "
        "words_added, words_removed, share_changed, stealth, ops, unified) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [page_id, detected_at, kind, from_version, to_version, summary, words_added,
         words_removed, round(share_changed, 4), int(stealth),
         json.dumps(ops, ensure_ascii=False) if ops is not None else None, unified],
    )
    return int(cursor.lastrowid or 0)


def changes_of(db: sqlite_utils.Database, page_id: int) -> list[dict[str, object]]:
    """The changes of one page, oldest first, as dicts."""
    cursor = db.execute(
        "SELECT id, detected_at, kind, from_version, to_version, summary, words_added, "
        "words_removed, share_changed, stealth FROM changes WHERE page_id = ? ORDER BY id",
        [page_id],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def delete_content_history(db: sqlite_utils.Database, page_id: int, kinds: tuple[str, ...]) -> None:
    """Drop a page's versions and its content changes (for re-extraction), keeping snapshots."""
    placeholders = ", ".join("?" * len(kinds))
    db.execute(
        f"DELETE FROM changes WHERE page_id = ? AND kind IN ({placeholders})", [page_id, *kinds]
    )
    # Changes of other kinds (removed, moved…) keep their rows but lose version links.
    db.execute(
        "UPDATE changes SET from_version = NULL, to_version = NULL WHERE page_id = ?", [page_id]
    )
    db.execute("UPDATE checks SET version_id = NULL WHERE page_id = ?", [page_id])
    db.execute("UPDATE pages SET current_version = NULL WHERE id = ?", [page_id])
    db.execute("DELETE FROM versions WHERE page_id = ?", [page_id])
