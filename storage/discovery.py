"""Discovery: why each article entered, what was already judged, translations — all its SQL.

Tables (migration :data:`DISCOVERY_SCHEMA`)::

    discoveries      one row per article discovery added: the page, its topic, the source, the
                     URL as listed and where, which field matched (title, summary, body, or
                     ``translation``), the terms found, the language, the page it is a
                     translation of (``via_page_id``) and its ``article_new`` change
    discovery_seen   every candidate URL judged, by url_key, with its outcome, so the next run
                     does not fetch it again (outcomes ``unfetched`` and ``error`` are retried)
    translations     the language versions a watched page links to (hreflang or a visible
                     "available in" block): what ties translations into one story
    source_runs      one row per run of a source: counts, limits reached, errors

The ``article_new`` change itself is a row of ``changes`` (:func:`storage.versions.insert_change`),
so it shows in ``change_feed``. ``discoveries_readable`` joins the URLs in.

Like :mod:`storage.comments`, this module does not import :mod:`storage.db`, so
:mod:`storage.schema` can import :data:`DISCOVERY_SCHEMA`; callers hold the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import sqlite_utils

# Outcomes of a candidate (discovery_seen.outcome).
ADDED = "added"  # became a watched page
DUPLICATE = "duplicate"  # another URL of an article already watched
OFF_TOPIC = "off_topic"
LANGUAGE = "language"  # on topic, in a language the topic does not follow
BLOCKED = "blocked"  # the SSRF guard refused it
ERROR = "error"  # its page could not be fetched: tried again next run
UNFETCHED = "unfetched"  # not matched on title/summary, and no fetch budget left: next run
RETRIED = (ERROR, UNFETCHED)

DISCOVERY_SCHEMA: Final[list[str]] = [
    """
    CREATE TABLE discoveries (
        id INTEGER PRIMARY KEY,
        page_id INTEGER NOT NULL REFERENCES pages(id),
        topic TEXT,
        source TEXT NOT NULL,                      -- [[sources]] name
        found_url TEXT NOT NULL,                   -- the URL as the source listed it
        found_on TEXT,                             -- the feed, sitemap or page that listed it
        found_at TEXT NOT NULL,                    -- ISO 8601 UTC
        field TEXT NOT NULL,                       -- title | summary | body | translation
        terms TEXT NOT NULL DEFAULT '[]',          -- JSON list of the query terms found
        language TEXT,
        via_page_id INTEGER REFERENCES pages(id),  -- a translation: of this page
        change_id INTEGER                          -- its article_new change
    )
    """,
    "CREATE INDEX discoveries_page ON discoveries(page_id)",
    """
    CREATE TABLE discovery_seen (
        url_key TEXT PRIMARY KEY,                  -- spiders.discovery.canonical.url_key
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        outcome TEXT NOT NULL,                     -- added | duplicate | off_topic | language |
                                                   -- blocked | error | unfetched
        title TEXT,
        detail TEXT,                               -- the error, or the page it duplicates
        first_seen REAL NOT NULL,                  -- Unix time
        last_seen REAL NOT NULL
    )
    """,
    """
    CREATE TABLE translations (
        page_id INTEGER NOT NULL REFERENCES pages(id),
        url TEXT NOT NULL,                         -- the other language version
        url_key TEXT NOT NULL,
        language TEXT NOT NULL,
        via TEXT NOT NULL,                         -- hreflang | available_in
        seen_at TEXT NOT NULL,
        PRIMARY KEY (page_id, url_key)
    )
    """,
    """
    CREATE TABLE source_runs (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        started_at REAL NOT NULL,                  -- Unix time
        seconds REAL NOT NULL,
        files INTEGER NOT NULL,                    -- feeds, sitemaps, listing pages read
        entries INTEGER NOT NULL,                  -- candidate URLs listed
        fetched INTEGER NOT NULL,                  -- article pages fetched
        added INTEGER NOT NULL,                    -- articles that became watched pages
        notes TEXT NOT NULL DEFAULT '[]',          -- JSON: limits reached
        errors TEXT NOT NULL DEFAULT '[]'          -- JSON: one line each
    )
    """,
    "CREATE INDEX source_runs_source ON source_runs(source, id)",
    """
    CREATE VIEW discoveries_readable AS
    SELECT discoveries.id, pages.url, discoveries.topic, discoveries.source, discoveries.field,
           discoveries.terms, discoveries.language, discoveries.found_at, discoveries.found_url,
           discoveries.found_on, via.url AS translation_of, discoveries.change_id
    FROM discoveries
    JOIN pages ON pages.id = discoveries.page_id
    LEFT JOIN pages AS via ON via.id = discoveries.via_page_id
    """,
]


@dataclass(frozen=True)
class DiscoveryRow:
    """Why one page entered the corpus."""

    page_id: int
    url: str
    topic: str | None
    source: str
    found_url: str
    field: str
    terms: tuple[str, ...]
    language: str | None
    via_page_id: int | None
    change_id: int | None


def record_discovery(
    db: sqlite_utils.Database,
    *,
    page_id: int,
    topic: str | None,
    source: str,
    found_url: str,
    found_on: str | None,
    found_at: str,
    field: str,
    terms: Sequence[str],
    language: str | None,
    via_page_id: int | None = None,
    change_id: int | None = None,
) -> int:
    """Record why a page entered; return the row id."""
    cursor = db.execute(
        "INSERT INTO discoveries (page_id, topic, source, found_url, found_on, found_at, field, "
        "terms, language, via_page_id, change_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [page_id, topic, source, found_url, found_on, found_at, field,
         json.dumps(list(terms), ensure_ascii=False), language, via_page_id, change_id],
    )
    return int(cursor.lastrowid or 0)


def discoveries(db: sqlite_utils.Database, page_id: int | None = None) -> list[DiscoveryRow]:
    """Discovery rows (of one page, or all), oldest first."""
    sql = (
        "SELECT d.page_id, p.url, d.topic, d.source, d.found_url, d.field, d.terms, d.language, "
        "d.via_page_id, d.change_id FROM discoveries d JOIN pages p ON p.id = d.page_id"
    )
    params: list[object] = []
    if page_id is not None:
        sql += " WHERE d.page_id = ?"
        params.append(page_id)
    rows = db.execute(sql + " ORDER BY d.id", params).fetchall()
    return [
        DiscoveryRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(json.loads(r[6] or "[]")), r[7],
                     r[8], r[9])
        for r in rows
    ]


def mark_seen(
    db: sqlite_utils.Database,
    *,
    key: str,
    url: str,
    source: str,
    outcome: str,
    now: float,
    title: str | None = None,
    detail: str | None = None,
) -> None:
    """Remember the outcome of a candidate (the latest outcome wins)."""
    db.execute(
        "INSERT INTO discovery_seen (url_key, url, source, outcome, title, detail, first_seen, "
        "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url_key) DO UPDATE SET "
        "outcome = excluded.outcome, title = COALESCE(excluded.title, discovery_seen.title), "
        "detail = excluded.detail, last_seen = excluded.last_seen",
        [key, url, source, outcome, title, detail, now, now],
    )


def seen_outcomes(db: sqlite_utils.Database) -> dict[str, str]:
    """The outcome of every candidate judged so far, by url_key."""
    return dict(db.execute("SELECT url_key, outcome FROM discovery_seen").fetchall())


def outcome_counts(db: sqlite_utils.Database, source: str | None = None) -> dict[str, int]:
    """How many candidates ended in each outcome (of one source, or all)."""
    sql = "SELECT outcome, COUNT(*) FROM discovery_seen"
    params: list[object] = []
    if source is not None:
        sql += " WHERE source = ?"
        params.append(source)
    return dict(db.execute(sql + " GROUP BY outcome", params).fetchall())


def add_translations(
    db: sqlite_utils.Database,
    page_id: int,
    links: Iterable[tuple[str, str, str, str]],
    seen_at: str,
) -> int:
    """Record (language, url, url_key, via) versions a page links to; return how many were new."""
    added = 0
    for language, url, key, via in links:
        cursor = db.execute(
            "INSERT INTO translations (page_id, url, url_key, language, via, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(page_id, url_key) DO NOTHING",
            [page_id, url, key, language, via, seen_at],
        )
        added += cursor.rowcount or 0
    return added


def translation_links(db: sqlite_utils.Database) -> list[tuple[int, str, str, str]]:
    """Every recorded translation link: (page_id, url, language, via)."""
    rows = db.execute(
        "SELECT page_id, url, language, via FROM translations ORDER BY page_id, language"
    ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def record_source_run(
    db: sqlite_utils.Database,
    *,
    source: str,
    started_at: float,
    seconds: float,
    files: int,
    entries: int,
    fetched: int,
    added: int,
    notes: Sequence[str],
    errors: Sequence[str],
) -> int:
    """One row for one run of one source."""
    cursor = db.execute(
        "INSERT INTO source_runs (source, started_at, seconds, files, entries, fetched, added, "
        "notes, errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source, started_at, round(seconds, 3), files, entries, fetched, added,
         json.dumps(list(notes), ensure_ascii=False), json.dumps(list(errors), ensure_ascii=False)],
    )
    return int(cursor.lastrowid or 0)


def last_source_runs(db: sqlite_utils.Database) -> dict[str, dict[str, object]]:
    """The latest run of each source, as dicts, by source name."""
    cursor = db.execute(
        "SELECT source, started_at, seconds, files, entries, fetched, added, notes, errors "
        "FROM source_runs WHERE id IN (SELECT MAX(id) FROM source_runs GROUP BY source)"
    )
    names = [d[0] for d in cursor.description]
    out: dict[str, dict[str, object]] = {}
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        item["notes"] = json.loads(str(item["notes"]))
        item["errors"] = json.loads(str(item["errors"]))
        out[str(item["source"])] = item
    return out
