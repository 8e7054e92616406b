"""The database schema and its forward migrations.

Each migration is a list of SQL statements applied in one transaction; ``schema_version`` records
which ones ran. Never edit a released migration: add a new one (as ``sqlite_utils/migrations.py``
does), so a database created by any earlier veille upgrades in place.
"""

from __future__ import annotations

from typing import Final

from storage.comments import COMMENTS_SCHEMA
from storage.cycles import CYCLES_SCHEMA
from storage.discovery import DISCOVERY_SCHEMA

# Version 1: pages, checks, versions, raw snapshots, changes, FTS, change_feed.
_V1: Final[list[str]] = [
    """
    CREATE TABLE topics (
        name TEXT PRIMARY KEY,
        query TEXT,
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE pages (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        domain TEXT NOT NULL,
        topic TEXT,
        added_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'active',      -- active | removed
        moved_to TEXT,                             -- last redirect target, when the page moved
        next_check_at REAL NOT NULL DEFAULT 0,     -- Unix time; picked by an index, O(due)
        last_checked_at REAL,
        last_changed_at REAL,                      -- Unix time of the last change (or of adding)
        last_state TEXT,                           -- fetch state of the last check
        errors_in_row INTEGER NOT NULL DEFAULT 0,
        etag TEXT,
        last_modified TEXT,
        current_version INTEGER,                   -- versions.id of the article as it stands
        last_raw_sha256 TEXT,                      -- raw HTML of the last good fetch: equal bytes skip extraction
        region TEXT,                               -- where the article lives in the page (XPath)
        region_fp TEXT,                            -- fingerprint of that region + metadata: equal skips extraction
        pending_hash TEXT,                         -- a large removal waiting for a confirming fetch
        pending_count INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX pages_next_check_at ON pages(next_check_at)",
    """
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,               -- of the raw bytes as received
        page_id INTEGER NOT NULL REFERENCES pages(id),
        url TEXT NOT NULL,                         -- final URL after redirects
        fetched_at TEXT NOT NULL,
        http_status INTEGER,
        content_type TEXT,
        encoding TEXT,
        size INTEGER NOT NULL,                     -- uncompressed bytes
        html_zlib BLOB NOT NULL
    )
    """,
    """
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        page_id INTEGER NOT NULL REFERENCES pages(id),
        seq INTEGER NOT NULL,                      -- 1, 2, 3 … per page, in order seen
        hash TEXT NOT NULL,                        -- SHA-256 of the normalised content fields
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        title TEXT,
        body TEXT,
        authors TEXT,                              -- JSON list
        published TEXT,
        modified TEXT,
        language TEXT,
        canonical_url TEXT,
        alternates TEXT,                           -- JSON list of [hreflang, url]
        description TEXT,
        word_count INTEGER,
        snapshot_id INTEGER REFERENCES snapshots(id),
        UNIQUE (page_id, seq)
    )
    """,
    "CREATE INDEX versions_hash ON versions(hash)",
    """
    CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        page_id INTEGER NOT NULL REFERENCES pages(id),
        at INTEGER NOT NULL,                       -- Unix time (s); see the checks_readable view
        http_status INTEGER,
        state TEXT NOT NULL,
        ms INTEGER,
        bytes INTEGER,
        version_id INTEGER,
        error TEXT
    )
    """,
    "CREATE INDEX checks_page_at ON checks(page_id, at)",
    """
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        page_id INTEGER NOT NULL REFERENCES pages(id),
        detected_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        from_version INTEGER REFERENCES versions(id),
        to_version INTEGER REFERENCES versions(id),
        summary TEXT NOT NULL,
        words_added INTEGER NOT NULL DEFAULT 0,
        words_removed INTEGER NOT NULL DEFAULT 0,
        share_changed REAL NOT NULL DEFAULT 0,
        stealth INTEGER NOT NULL DEFAULT 0,
        ops TEXT,                                  -- JSON operations of the diff engine
        unified TEXT                               -- plain unified diff
    )
    """,
    "CREATE INDEX changes_page ON changes(page_id, id)",
    "CREATE INDEX changes_detected_at ON changes(detected_at)",
    """
    CREATE VIRTUAL TABLE versions_fts USING fts5(
        title, body, content='versions', content_rowid='id'
    )
    """,
    """
    CREATE TRIGGER versions_fts_insert AFTER INSERT ON versions BEGIN
        INSERT INTO versions_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
    """
    CREATE TRIGGER versions_fts_delete AFTER DELETE ON versions BEGIN
        INSERT INTO versions_fts(versions_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END
    """,
    """
    CREATE TRIGGER versions_fts_update AFTER UPDATE OF title, body ON versions BEGIN
        INSERT INTO versions_fts(versions_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO versions_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END
    """,
    # The stable interface read by Datasette users, alerts and scripts: add columns, never
    # rename or drop them.
    """
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
        pages.id AS page_id
    FROM changes
    JOIN pages ON pages.id = changes.page_id
    LEFT JOIN versions AS to_v ON to_v.id = changes.to_version
    LEFT JOIN versions AS from_v ON from_v.id = changes.from_version
    LEFT JOIN versions AS cur ON cur.id = pages.current_version
    """,
    """
    CREATE VIEW checks_readable AS
    SELECT checks.id, pages.url, datetime(checks.at, 'unixepoch') || 'Z' AS at,
           checks.http_status, checks.state, checks.ms, checks.bytes, checks.version_id, checks.error
    FROM checks JOIN pages ON pages.id = checks.page_id
    """,
]

# Version 2: the daemon's cycles (see storage.cycles).
_V2: Final[list[str]] = CYCLES_SCHEMA

# The alert outbox (see alerts.outbox): one row per (change, route), written in the change's own
# transaction, then sent by the delivery job. Routes are named, never stored as Apprise URLs
# (they hold passwords and tokens). No foreign key to changes: `veille reextract` rebuilds them.
_ALERT_OUTBOX: Final[list[str]] = [
    """
    CREATE TABLE alert_digests (
        id INTEGER PRIMARY KEY,
        route TEXT NOT NULL,                       -- [[alerts]] name
        state TEXT NOT NULL,                       -- pending | sent | failed
        changes INTEGER NOT NULL DEFAULT 0,        -- alerts grouped in it
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,             -- Unix time
        last_error TEXT,                           -- secrets masked
        created_at REAL NOT NULL,
        delivered_at REAL,
        message_id TEXT NOT NULL,                  -- stable id sent as a header, spots duplicates
        delivered_to TEXT NOT NULL DEFAULT '',     -- indexes of the route's services reached
        lease_until REAL,                          -- a sender holds it until then
        lease_owner TEXT                           -- pid@host of that sender
    )
    """,
    """
    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY,
        change_id INTEGER NOT NULL,                -- changes.id
        route TEXT NOT NULL,                       -- [[alerts]] name
        state TEXT NOT NULL,                       -- pending | digest | sent | failed | skipped
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,             -- Unix time
        last_error TEXT,                           -- secrets masked
        created_at REAL NOT NULL,
        delivered_at REAL,
        message_id TEXT NOT NULL,
        delivered_to TEXT NOT NULL DEFAULT '',
        digest_id INTEGER REFERENCES alert_digests(id),  -- set when grouped into a digest
        lease_until REAL,
        lease_owner TEXT,
        UNIQUE (change_id, route)
    )
    """,
    "CREATE INDEX alert_outbox_due ON alert_outbox(state, next_attempt_at)",
    "CREATE INDEX alert_outbox_route ON alert_outbox(route, state, delivered_at)",
    "CREATE INDEX alert_outbox_digest ON alert_outbox(digest_id)",
    "CREATE INDEX alert_digests_due ON alert_digests(state, next_attempt_at)",
    """
    CREATE VIEW alerts_readable AS
    SELECT alert_outbox.id, alert_outbox.change_id, change_feed.kind, change_feed.url,
           alert_outbox.route, alert_outbox.state, alert_outbox.attempts, alert_outbox.last_error,
           datetime(alert_outbox.created_at, 'unixepoch') || 'Z' AS created_at,
           datetime(alert_outbox.delivered_at, 'unixepoch') || 'Z' AS delivered_at,
           datetime(alert_outbox.next_attempt_at, 'unixepoch') || 'Z' AS next_attempt_at,
           alert_outbox.digest_id, alert_outbox.message_id
    FROM alert_outbox LEFT JOIN change_feed ON change_feed.change_id = alert_outbox.change_id
    """,
]

# Reader comments: sources, comments, versions, counts, comment changes in change_feed.
_COMMENTS: Final[list[str]] = COMMENTS_SCHEMA

# Discovery: why each article entered, candidates judged, translations, source runs.
_DISCOVERY: Final[list[str]] = DISCOVERY_SCHEMA

# Pages that show their article only in a browser (render = "auto" found it out).
_NEEDS_BROWSER: Final[list[str]] = [
    "ALTER TABLE pages ADD COLUMN needs_browser INTEGER NOT NULL DEFAULT 0",
]

# The fingerprint of what a source's last inline read read (spiders.comments.inline
# .comment_markup): the same markup next time is the same comments, not read again.
_READ_FINGERPRINT: Final[list[str]] = [
    "ALTER TABLE comment_sources ADD COLUMN read_fp TEXT",
]

MIGRATIONS: Final[list[list[str]]] = [
    _V1, _V2, _ALERT_OUTBOX, _COMMENTS, _DISCOVERY, _NEEDS_BROWSER, _READ_FINGERPRINT,
]
SCHEMA_VERSION: Final[int] = len(MIGRATIONS)
