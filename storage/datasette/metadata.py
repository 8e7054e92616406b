"""Datasette metadata for a veille database: descriptions, sort orders, facets, canned queries.

:func:`build_metadata` returns the dict ``veille serve`` hands to Datasette. The database's name
in Datasette is its file name without ``.db``, so the metadata is built for a given name. To run
``datasette`` by hand with the same metadata::

    python -m storage.datasette.metadata veille > metadata.json
    datasette serve veille.db --metadata metadata.json

Tables listed in :data:`HIDDEN_TABLES` (alert routes, whose URLs hold passwords and tokens) are
hidden from the lists; the plugin also makes their rows unreadable in any query.
"""

from __future__ import annotations

import json
import sys
from typing import Final

from storage.datasette.queries import CANNED_QUERIES

# Tables never shown in Datasette; their values read as NULL (see plugin.py's authorizer).
HIDDEN_TABLES: Final = frozenset({"alert_routes"})
# Columns that read as NULL wherever they appear, whatever the table.
SECRET_COLUMNS: Final = frozenset({"apprise_url", "apprise_urls", "password", "secret", "token"})
# Tables that exist for veille's bookkeeping, hidden from the lists but readable.
_BOOKKEEPING_TABLES: Final = ("schema_version",)

_CHANGE_KINDS = (
    "`title`, `body`, `byline`, `dates`, `removed`, `restored`, `moved`, `comment_new`, "
    "`comment_edited`, `comment_deleted`, `comment_restored`, `article_new`"
)

TABLES: Final[dict[str, dict[str, object]]] = {
    "change_feed": {
        "description": (
            "Every change of every watched article, newest first: the stable view that "
            "scripts and alerts read. Columns are only ever added. Click a change id for the "
            "word-level diff."
        ),
        "sort_desc": "change_id",
        "facets": ["kind", "topic", "domain", "stealth", {"date": "detected_at"}],
        "columns": {
            "change_id": "Id of the change; opens its diff.",
            "detected_at": "When veille saw the change (ISO 8601, UTC).",
            "kind": f"What changed: {_CHANGE_KINDS}.",
            "url": "The watched page.",
            "title": "The article's headline after the change.",
            "summary": "One line: what changed.",
            "stealth": "1 when the title or body changed but the page's modified date did not.",
            "topic": "Topic of the page.",
            "domain": "Site of the page.",
            "words_added": "Words added by the edit.",
            "words_removed": "Words removed by the edit.",
            "share_changed": "(added + removed words) / words before, at most 1.",
            "from_version": "The version before the change.",
            "to_version": "The version after the change.",
            "page_id": "The page, in the pages table.",
        },
    },
    "pages": {
        "description": "The watched pages: one row per URL, with the state of its last check.",
        "label_column": "url",
        "sort_desc": "last_changed_at",
        "facets": ["topic", "domain", "state", "last_state"],
        "columns": {
            "url": "The watched URL.",
            "domain": "Site of the page.",
            "topic": "Topic the page was added under.",
            "added_at": "When the page was added (ISO 8601, UTC).",
            "state": "`active`, or `removed` after a 404 or 410.",
            "moved_to": "Where the page last redirected to, if it moved.",
            "next_check_at": "Next check due (Unix time).",
            "last_checked_at": "Last check (Unix time).",
            "last_changed_at": "Last change, or when it was added (Unix time).",
            "last_state": "Fetch state of the last check (new, unchanged, changed, …).",
            "errors_in_row": "Failed checks in a row; the interval grows with them.",
            "etag": "ETag of the last answer, sent back as If-None-Match.",
            "last_modified": "Last-Modified of the last answer, sent back as If-Modified-Since.",
            "current_version": "The version of the article as it stands.",
            "last_raw_sha256": "SHA-256 of the raw HTML of the last good fetch.",
            "region": "Where the article sits in the page (XPath).",
            "region_fp": "Fingerprint of that region: unchanged, no re-extraction.",
            "pending_hash": "A large removal waiting for a second fetch to confirm it.",
            "pending_count": "Fetches that saw the pending removal so far.",
        },
    },
    "checks": {
        "description": (
            "One compact row per fetch, times as Unix seconds; checks_readable shows the same "
            "with URLs and ISO 8601 times."
        ),
        "sort_desc": "id",
        "facets": ["state", "http_status"],
        "columns": {
            "page_id": "The page fetched.",
            "at": "When (Unix time, seconds).",
            "http_status": "HTTP status of the answer.",
            "state": "Outcome: new, unchanged, changed, not_modified, removed, or an error state.",
            "ms": "Time taken (milliseconds).",
            "bytes": "Size of the answer (bytes).",
            "version_id": "The version seen, when the article was parsed.",
            "error": "What went wrong, for error states.",
        },
    },
    "checks_readable": {
        "description": "Every fetch, newest first, with its URL and an ISO 8601 time.",
        "sort_desc": "id",
        "facets": ["state", "http_status"],
        "columns": {
            "url": "The page fetched.",
            "at": "When (ISO 8601, UTC).",
            "http_status": "HTTP status of the answer.",
            "state": "Outcome: new, unchanged, changed, not_modified, removed, or an error state.",
            "ms": "Time taken (milliseconds).",
            "bytes": "Size of the answer (bytes).",
            "version_id": "The version seen, when the article was parsed.",
            "error": "What went wrong, for error states.",
        },
    },
    "versions": {
        "description": (
            "One row per distinct version of an article: what it said, and when it was first "
            "and last seen. Search box: SQLite FTS5 over title and body."
        ),
        "label_column": "title",
        "sort_desc": "id",
        "facets": ["language"],
        "fts_table": "versions_fts",
        "fts_pk": "id",
        "columns": {
            "page_id": "The page.",
            "seq": "1, 2, 3 … per page, in the order seen.",
            "hash": "SHA-256 of the normalised title, body, authors and dates.",
            "first_seen": "First fetch that showed this version (ISO 8601, UTC).",
            "last_seen": "Last fetch that still showed it (ISO 8601, UTC).",
            "title": "Headline.",
            "body": "Text, paragraphs separated by a blank line.",
            "authors": "Byline (JSON list).",
            "published": "Publication date the page gives.",
            "modified": "Modification date the page gives.",
            "language": "Language of the article.",
            "canonical_url": "The page's canonical URL.",
            "alternates": "Other language versions (JSON list of [hreflang, url]).",
            "description": "The page's own summary.",
            "word_count": "Words in the body.",
            "snapshot_id": "Raw HTML this version was extracted from.",
        },
    },
    "snapshots": {
        "description": (
            "The raw HTML of each distinct fetch, zlib-compressed, with its own SHA-256 — the "
            "evidence. The compressed bytes are left out of the table view; open a snapshot "
            "id for its source or a sandboxed rendering."
        ),
        "sort_desc": "id",
        "facets": ["http_status", "content_type"],
        "columns": {
            "sha256": "SHA-256 of the raw bytes as received.",
            "page_id": "The page fetched.",
            "url": "Final URL after redirects.",
            "fetched_at": "First fetch that returned these bytes (ISO 8601, UTC).",
            "http_status": "HTTP status.",
            "content_type": "Content-Type header.",
            "encoding": "Character encoding used to decode it.",
            "size": "Uncompressed size (bytes).",
            "html_zlib": "The raw bytes, zlib-compressed.",
        },
    },
    "changes": {
        "description": (
            "The changes as stored, with the diff operations (JSON) and a unified diff; "
            "change_feed is the friendlier view."
        ),
        "sort_desc": "id",
        "facets": ["kind", "stealth"],
        "columns": {
            "page_id": "The page.",
            "detected_at": "When veille saw the change (ISO 8601, UTC).",
            "kind": f"What changed: {_CHANGE_KINDS}.",
            "from_version": "The version before.",
            "to_version": "The version after.",
            "summary": "One line: what changed.",
            "words_added": "Words added.",
            "words_removed": "Words removed.",
            "share_changed": "(added + removed words) / words before, at most 1.",
            "stealth": "1 when the title or body changed but the page's modified date did not.",
            "ops": "Diff operations (JSON, format in monitor/diff.py), drawn as a word diff.",
            "unified": "The same diff as plain unified diff text.",
        },
    },
    "topics": {
        "description": "Topics pages are watched under.",
    },
    "comment_threads": {
        "description": (
            "Every reader comment veille has read, as it stands: author, posting time, current "
            "text, reply structure, and when it was first seen, last seen and deleted."
        ),
        "sort_desc": "comment_id",
        "facets": ["source", "url"],
        "columns": {
            "url": "The article the comment is under.",
            "source": "Where it was read: inline, discourse, wordpress, disqus.",
            "key": "Its identity: the system's id, or a hash of author, time and text start.",
            "parent_key": "The comment it replies to.",
            "text": "Current text.",
            "versions": "How many distinct texts it has had.",
            "deleted_at": "When a complete read no longer had it (ISO 8601, UTC).",
        },
    },
    "comment_counts_readable": {
        "description": (
            "Each read of a thread: the count the page shows beside the comments read, so hidden "
            "or moderated comments show up as a gap; partial reads say why."
        ),
        "sort_desc": "id",
        "facets": ["source", "state", "complete"],
    },
    "comments": {"description": "Reader comments (see comment_threads for a readable view)."},
    "comment_versions": {
        "description": "Each distinct text of each comment. Search box: FTS5 over the text.",
        "fts_table": "comment_versions_fts",
        "fts_pk": "id",
    },
    "comment_sources": {"description": "The comment sources found or configured per page."},
    "cycles": {"description": "One row per batch of pages `veille run` checked."},
    "alert_outbox": {
        "description": (
            "One row per alert to send (change × route): state, attempts, last error (secrets "
            "masked). Apprise URLs are never stored."
        ),
        "sort_desc": "id",
        "facets": ["state", "route"],
    },
}


def build_metadata(database: str) -> dict[str, object]:
    """Datasette metadata for the veille database named ``database``."""
    tables: dict[str, dict[str, object]] = {name: dict(meta) for name, meta in TABLES.items()}
    for name in (*HIDDEN_TABLES, *_BOOKKEEPING_TABLES):
        tables[name] = {"hidden": True}
    return {
        "title": "veille",
        "description": (
            "The history of every watched article: each distinct version, when it was seen, "
            "and what changed. Start with the latest changes."
        ),
        "databases": {
            database: {
                "description": (
                    "Read-only view of the veille database. Canned queries below answer the "
                    "common questions; every page is also JSON (add .json?_shape=array)."
                ),
                "tables": tables,
                # The SQL stays one click away ("show"); the page leads with the answer.
                "queries": {
                    name: {"hide_sql": True, **query} for name, query in CANNED_QUERIES.items()
                },
            }
        },
        "plugins": {"veille": {"database": database}},
    }


def main(argv: list[str] | None = None) -> None:
    """Print the metadata as JSON: ``python -m storage.datasette.metadata [NAME]``."""
    args = sys.argv[1:] if argv is None else argv
    metadata = build_metadata(args[0] if args else "veille")
    json.dump(metadata, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
