"""Reader comments: their sources, identities, versions and counts — every SQL statement on them.

Tables (migration :data:`COMMENTS_SCHEMA`)::

    comment_sources   one row per thread of a page (inline, a Discourse topic, a WordPress
                      collection, a Disqus thread), with its last read and its resume point
    comments          one row per comment ever seen: key, author, parent, first/last seen,
                      deleted_at (NULL while it stands), current_version
    comment_versions  each distinct text of a comment (SHA-256, text, when first seen); FTS5 in
                      comment_versions_fts
    comment_counts    per read that says something new: the count the page shows, the comments
                      listed and read, whether the read was complete (partial reads conclude
                      nothing) and why not

Comment changes are rows of ``changes`` with ``comment_id`` set (kinds ``comment_new``,
``comment_edited``, ``comment_deleted``, ``comment_restored``), so they appear in
``change_feed``; ``comment_threads`` lists every comment of a page as it stands.

Like :mod:`storage.cycles`, this module imports nothing from :mod:`storage.db`, so
:mod:`storage.schema` can import :data:`COMMENTS_SCHEMA` without a cycle of imports; callers wrap
the writes of one thread in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import sqlite_utils

COMMENT_CHANGE_KINDS: Final = (
    "comment_new", "comment_edited", "comment_deleted", "comment_restored",
)

# The change_feed of migration 1, with the comment columns added at the end (columns are only
# ever added: same names, same order).
_CHANGE_FEED: Final = """
    CREATE VIEW change_feed AS
    SELECT
        changes.id AS change_id,
        changes.detected_at,
        changes.kind,
        pages.url,
        COALESCE(to_v.title, from_v.title, cur.title) AS title,
        changes.summary,
        changes.stealth,
        pages.topic,
        pages.domain,
        changes.words_added,
        changes.words_removed,
        changes.share_changed,
        changes.from_version,
        changes.to_version,
        pages.id AS page_id,
        changes.comment_id,
        comments.author AS comment_author,
        comments.permalink AS comment_permalink
    FROM changes
    JOIN pages ON pages.id = changes.page_id
    LEFT JOIN versions AS to_v ON to_v.id = changes.to_version
    LEFT JOIN versions AS from_v ON from_v.id = changes.from_version
    LEFT JOIN versions AS cur ON cur.id = pages.current_version
    LEFT JOIN comments ON comments.id = changes.comment_id
"""

# Migration: reader comments.
COMMENTS_SCHEMA: Final[list[str]] = [
    """
    CREATE TABLE comment_sources (
        id INTEGER PRIMARY KEY,
        page_id INTEGER NOT NULL REFERENCES pages(id),
        kind TEXT NOT NULL,                        -- inline | discourse | wordpress | disqus
        url TEXT NOT NULL,                         -- the thread: the page, a topic, a collection
        origin TEXT NOT NULL,                      -- detected | config
        detail TEXT,                               -- JSON: topic, post, shortname, method…
        first_seen TEXT NOT NULL,
        last_read_at TEXT,
        last_state TEXT,                           -- ok | partial | error | unsupported
        last_error TEXT,
        baselined INTEGER NOT NULL DEFAULT 0,      -- 1 once read in full: later comments are news
        high_water INTEGER,                        -- highest post id read (huge threads)
        cursor INTEGER,                            -- where re-reading known posts resumes
        UNIQUE (page_id, kind, url)
    )
    """,
    """
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY,
        page_id INTEGER NOT NULL REFERENCES pages(id),
        source_id INTEGER NOT NULL REFERENCES comment_sources(id),
        key TEXT NOT NULL,                         -- system id, else a hash (author, time, text)
        system_id TEXT,
        author TEXT,
        posted_at TEXT,
        parent_key TEXT,                           -- key of the comment it answers
        permalink TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        deleted_at TEXT,                           -- gone from a complete read; NULL: it stands
        current_version INTEGER,                   -- comment_versions.id of its text as it stands
        UNIQUE (source_id, key)
    )
    """,
    "CREATE INDEX comments_page ON comments(page_id)",
    """
    CREATE TABLE comment_versions (
        id INTEGER PRIMARY KEY,
        comment_id INTEGER NOT NULL REFERENCES comments(id),
        seq INTEGER NOT NULL,                      -- 1, 2, 3 … per comment
        hash TEXT NOT NULL,                        -- SHA-256 of the normalised text
        text TEXT NOT NULL,
        seen_at TEXT NOT NULL,                     -- when this text was first seen
        UNIQUE (comment_id, seq)
    )
    """,
    """
    CREATE TABLE comment_counts (
        id INTEGER PRIMARY KEY,
        page_id INTEGER NOT NULL REFERENCES pages(id),
        source_id INTEGER REFERENCES comment_sources(id),
        at INTEGER NOT NULL,                       -- Unix time (s), as checks.at
        shown INTEGER,                             -- the count the page shows («Commentaires (26)»)
        listed INTEGER,                            -- comments the system says are there
        read INTEGER NOT NULL,                     -- comments read this time
        complete INTEGER NOT NULL,                 -- 1: every comment accounted for
        state TEXT NOT NULL,                       -- ok | partial | error | unsupported
        error TEXT,
        requests INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX comment_counts_page_at ON comment_counts(page_id, at)",
    """
    CREATE VIRTUAL TABLE comment_versions_fts USING fts5(
        text, content='comment_versions', content_rowid='id'
    )
    """,
    """
    CREATE TRIGGER comment_versions_fts_insert AFTER INSERT ON comment_versions BEGIN
        INSERT INTO comment_versions_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER comment_versions_fts_delete AFTER DELETE ON comment_versions BEGIN
        INSERT INTO comment_versions_fts(comment_versions_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
    END
    """,
    "ALTER TABLE changes ADD COLUMN comment_id INTEGER REFERENCES comments(id)",
    "CREATE INDEX changes_comment ON changes(comment_id) WHERE comment_id IS NOT NULL",
    "DROP VIEW change_feed",
    _CHANGE_FEED,
    """
    CREATE VIEW comment_threads AS
    SELECT
        comments.id AS comment_id,
        pages.url,
        comments.page_id,
        comment_sources.kind AS source,
        comment_sources.url AS source_url,
        comments.key,
        comments.system_id,
        comments.parent_key,
        comments.author,
        comments.posted_at,
        comment_versions.text,
        comment_versions.seq AS versions,
        comments.permalink,
        comments.first_seen,
        comments.last_seen,
        comments.deleted_at
    FROM comments
    JOIN pages ON pages.id = comments.page_id
    JOIN comment_sources ON comment_sources.id = comments.source_id
    LEFT JOIN comment_versions ON comment_versions.id = comments.current_version
    """,
    """
    CREATE VIEW comment_counts_readable AS
    SELECT comment_counts.id, pages.url, comment_sources.kind AS source,
           datetime(comment_counts.at, 'unixepoch') || 'Z' AS at,
           comment_counts.shown, comment_counts.listed, comment_counts.read,
           comment_counts.shown - COALESCE(comment_counts.listed, comment_counts.read) AS gap,
           comment_counts.complete, comment_counts.state, comment_counts.error
    FROM comment_counts
    JOIN pages ON pages.id = comment_counts.page_id
    LEFT JOIN comment_sources ON comment_sources.id = comment_counts.source_id
    """,
]

# Keys per IN (…) list: far below SQLite's limit on bound parameters.
_IN_BATCH = 500


@dataclass(frozen=True)
class SourceRow:
    """One comment source of a page, as stored."""

    id: int
    page_id: int
    kind: str
    url: str
    origin: str
    detail: dict[str, str]
    baselined: bool
    high_water: int | None
    cursor: int | None
    last_state: str | None
    last_error: str | None = None
    last_read_at: str | None = None
    read_fp: str | None = None  # see spiders.comments.inline.comment_markup


@dataclass(frozen=True)
class StoredComment:
    """A comment as stored, with the text of its current version."""

    id: int
    key: str
    author: str | None
    posted_at: str | None
    parent_key: str | None
    permalink: str | None
    deleted_at: str | None
    current_version: int | None
    hash: str | None
    text: str | None


_SOURCE_SELECT = (
    "SELECT id, page_id, kind, url, origin, detail, baselined, high_water, cursor, last_state, "
    "last_error, last_read_at, read_fp FROM comment_sources"
)
_COMMENT_SELECT = (
    "SELECT c.id, c.key, c.author, c.posted_at, c.parent_key, c.permalink, c.deleted_at, "
    "c.current_version, v.hash, v.text FROM comments AS c "
    "LEFT JOIN comment_versions AS v ON v.id = c.current_version"
)


def _source(row: Sequence[object]) -> SourceRow:
    detail = json.loads(str(row[5])) if row[5] else {}
    return SourceRow(
        int(row[0]), int(row[1]), str(row[2]), str(row[3]), str(row[4]), detail, bool(row[6]),
        row[7], row[8], row[9], row[10], row[11], row[12],  # type: ignore[arg-type]
    )


def ensure_source(
    db: sqlite_utils.Database,
    *,
    page_id: int,
    kind: str,
    url: str,
    origin: str,
    detail: Mapping[str, str],
    now: str,
) -> SourceRow:
    """The stored source (created on first sight; its origin and detail kept current)."""
    blob = json.dumps(dict(detail), ensure_ascii=False, sort_keys=True) if detail else None
    select = f"{_SOURCE_SELECT} WHERE page_id = ? AND kind = ? AND url = ?"
    row = db.execute(select, [page_id, kind, url]).fetchone()
    if row is not None and row[4] == origin and (blob is None or row[5] == blob):
        return _source(row)  # as stored: a read of a known thread writes nothing here
    db.execute(
        "INSERT INTO comment_sources (page_id, kind, url, origin, detail, first_seen) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(page_id, kind, url) DO UPDATE SET "
        "origin = excluded.origin, detail = COALESCE(excluded.detail, comment_sources.detail)",
        [page_id, kind, url, origin, blob, now],
    )
    return _source(db.execute(select, [page_id, kind, url]).fetchone())


def update_source(db: sqlite_utils.Database, source_id: int, **fields: object) -> None:
    """Set columns of one source (names come from code, never from input)."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    db.execute(
        f"UPDATE comment_sources SET {assignments} WHERE id = ?", [*fields.values(), source_id]
    )


def has_sources(db: sqlite_utils.Database, kind: str) -> bool:
    """True when some page has a known thread of ``kind`` (``disqus``: read in Chromium)."""
    row = db.execute("SELECT 1 FROM comment_sources WHERE kind = ? LIMIT 1", [kind]).fetchone()
    return row is not None


def sources_of(db: sqlite_utils.Database, page_ids: Iterable[int]) -> dict[int, list[SourceRow]]:
    """The stored sources of some pages, by page id."""
    out: dict[int, list[SourceRow]] = {}
    ids = list(page_ids)
    for start in range(0, len(ids), _IN_BATCH):
        batch = ids[start : start + _IN_BATCH]
        marks = ", ".join("?" * len(batch))
        for row in db.execute(f"{_SOURCE_SELECT} WHERE page_id IN ({marks}) ORDER BY id", batch):
            source = _source(row)
            out.setdefault(source.page_id, []).append(source)
    return out


def stored_comments(
    db: sqlite_utils.Database, source_id: int, keys: Iterable[str]
) -> dict[str, StoredComment]:
    """The stored comments of a source among ``keys``, by key."""
    out: dict[str, StoredComment] = {}
    wanted = list(keys)
    for start in range(0, len(wanted), _IN_BATCH):
        batch = wanted[start : start + _IN_BATCH]
        marks = ", ".join("?" * len(batch))
        rows = db.execute(
            f"{_COMMENT_SELECT} WHERE c.source_id = ? AND c.key IN ({marks})", [source_id, *batch]
        ).fetchall()
        for row in rows:
            out[str(row[1])] = StoredComment(*row)
    return out


def live_count(db: sqlite_utils.Database, source_id: int) -> int:
    """Comments of a source that stand (not deleted)."""
    row = db.execute(
        "SELECT COUNT(*) FROM comments WHERE source_id = ? AND deleted_at IS NULL", [source_id]
    ).fetchone()
    return int(row[0])


def missing_comments(
    db: sqlite_utils.Database, source_id: int, present: Iterable[str]
) -> list[StoredComment]:
    """Standing comments of a source whose key is not in ``present`` (in key order)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS comment_keys_present (key TEXT PRIMARY KEY)")
    db.execute("DELETE FROM comment_keys_present")
    db.conn.executemany(
        "INSERT OR IGNORE INTO comment_keys_present (key) VALUES (?)", ((k,) for k in present)
    )
    rows = db.execute(
        f"{_COMMENT_SELECT} WHERE c.source_id = ? AND c.deleted_at IS NULL "
        "AND c.key NOT IN (SELECT key FROM temp.comment_keys_present) ORDER BY c.id",
        [source_id],
    ).fetchall()
    db.execute("DELETE FROM comment_keys_present")
    return [StoredComment(*row) for row in rows]


def touch_standing(db: sqlite_utils.Database, source_id: int, seen_at: str) -> None:
    """Every standing comment of a source was seen present now."""
    db.execute(
        "UPDATE comments SET last_seen = ? WHERE source_id = ? AND deleted_at IS NULL",
        [seen_at, source_id],
    )


def seen_again(db: sqlite_utils.Database, source_id: int, last_read_at: str, now: str) -> int:
    """The standing comments the source's last read saw (read at ``last_read_at``), seen now.

    For a read identical to the last one; returns how many comments that is. (Times have whole
    seconds: a comment seen only by a read in the same second as the last one counts too, a
    case that needs two reads of one thread within a second.)
    """
    cursor = db.execute(
        "UPDATE comments SET last_seen = ? "
        "WHERE source_id = ? AND last_seen = ? AND deleted_at IS NULL",
        [now, source_id, last_read_at],
    )
    return int(cursor.rowcount)


def insert_comment(
    db: sqlite_utils.Database,
    *,
    page_id: int,
    source_id: int,
    key: str,
    system_id: str | None,
    author: str | None,
    posted_at: str | None,
    parent_key: str | None,
    permalink: str | None,
    seen_at: str,
) -> int:
    """Record a comment seen for the first time (its text: :func:`insert_comment_version`)."""
    cursor = db.execute(
        "INSERT INTO comments (page_id, source_id, key, system_id, author, posted_at, parent_key, "
        "permalink, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [page_id, source_id, key, system_id, author, posted_at, parent_key, permalink, seen_at,
         seen_at],
    )
    return int(cursor.lastrowid or 0)


def insert_comment_version(
    db: sqlite_utils.Database, comment_id: int, *, text_hash: str, text: str, seen_at: str
) -> int:
    """Store a new text of a comment (next ``seq``), make it current, and return its id."""
    seq = db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM comment_versions WHERE comment_id = ?", [comment_id]
    ).fetchone()[0]
    cursor = db.execute(
        "INSERT INTO comment_versions (comment_id, seq, hash, text, seen_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [comment_id, seq, text_hash, text, seen_at],
    )
    version_id = int(cursor.lastrowid or 0)
    db.execute("UPDATE comments SET current_version = ? WHERE id = ?", [version_id, comment_id])
    return version_id


def update_comment(db: sqlite_utils.Database, comment_id: int, **fields: object) -> None:
    """Set columns of one comment (names come from code, never from input)."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    db.execute(f"UPDATE comments SET {assignments} WHERE id = ?", [*fields.values(), comment_id])


def insert_comment_change(
    db: sqlite_utils.Database,
    *,
    page_id: int,
    comment_id: int,
    detected_at: str,
    kind: str,
    summary: str,
    words_added: int = 0,
    words_removed: int = 0,
    share_changed: float = 0.0,
    ops: object = None,
    unified: str | None = None,
) -> int:
    """One change row about a comment (it shows in ``change_feed``); return its id."""
    cursor = db.execute(
        "INSERT INTO changes (page_id, detected_at, kind, summary, words_added, words_removed, "
        "share_changed, ops, unified, comment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [page_id, detected_at, kind, summary, words_added, words_removed, round(share_changed, 4),
         json.dumps(ops, ensure_ascii=False) if ops is not None else None, unified, comment_id],
    )
    return int(cursor.lastrowid or 0)


def insert_count(
    db: sqlite_utils.Database,
    *,
    page_id: int,
    source_id: int | None,
    at: float,
    shown: int | None,
    listed: int | None,
    read: int,
    complete: bool,
    state: str,
    error: str | None,
    requests: int,
) -> None:
    """One row of comment counts: what the page shows beside what was read.

    A read that says exactly what the source's last row says adds no row (the source's
    ``last_read_at`` tells when it was read): a quiet thread costs no space.
    """
    last = db.execute(
        "SELECT shown, listed, read, complete, state, error FROM comment_counts "
        "WHERE page_id = ? AND source_id IS ? ORDER BY id DESC LIMIT 1",
        [page_id, source_id],
    ).fetchone()
    if last is not None and tuple(last) == (shown, listed, read, int(complete), state, error):
        return
    db.execute(
        "INSERT INTO comment_counts (page_id, source_id, at, shown, listed, read, complete, "
        "state, error, requests) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [page_id, source_id, int(at), shown, listed, read, int(complete), state, error, requests],
    )


def last_change_id(db: sqlite_utils.Database) -> int:
    """The highest change id so far (0 for none)."""
    return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM changes").fetchone()[0])


def thread(db: sqlite_utils.Database, page_id: int) -> list[dict[str, object]]:
    """A page's comments as they stand (``comment_threads``), oldest first, as dicts."""
    cursor = db.execute(
        "SELECT * FROM comment_threads WHERE page_id = ? ORDER BY comment_id", [page_id]
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def page_language(db: sqlite_utils.Database, page_id: int) -> str | None:
    """The language of a page's current version (for quoting in summaries)."""
    row = db.execute(
        "SELECT versions.language FROM pages JOIN versions ON versions.id = pages.current_version "
        "WHERE pages.id = ?",
        [page_id],
    ).fetchone()
    return str(row[0]) if row and row[0] else None
