"""The canned queries veille offers in Datasette: one entry per question a reader asks.

Each entry becomes ``/<database>/<name>`` (and ``.json``); ``:name`` in the SQL is a parameter
Datasette asks for in a form. To add one, append to :data:`CANNED_QUERIES`. They read the stable
``change_feed`` view where it has what they need, so they keep working as columns are added.

Column names matter to the plugin, which renders them in HTML pages (the JSON stays raw):
``change_id`` links to the change's diff page, ``version_id`` to the version, ``snapshot_id``
to the raw snapshot, ``ops`` is drawn as a word diff, ``snippet`` highlights ``**matches**``
and ``url`` links to the live page and to the article's timeline.
"""

from __future__ import annotations

from typing import Final

# How many rows the list queries return (Datasette's own cap is max_returned_rows, 1000).
QUERY_ROWS: Final = 200

_CHANGE_COLUMNS = """
    change_id, detected_at, kind, stealth, title, summary, url, topic, domain,
    words_added, words_removed, from_version, to_version
"""

CANNED_QUERIES: Final[dict[str, dict[str, object]]] = {
    "latest_changes": {
        "title": "Latest changes",
        "description": "Every change veille recorded, newest first: edits, removals, moves.",
        "sql": f"""
SELECT {_CHANGE_COLUMNS}
FROM change_feed
ORDER BY change_id DESC
LIMIT {QUERY_ROWS}
""",
    },
    "stealth_edits": {
        "title": "Stealth edits",
        "description": (
            "Title or body changes made while the page's own modified date did not move: "
            "edits the publisher did not own up to."
        ),
        "sql": f"""
SELECT {_CHANGE_COLUMNS}
FROM change_feed
WHERE stealth = 1
ORDER BY change_id DESC
LIMIT {QUERY_ROWS}
""",
    },
    "most_edited_articles": {
        "title": "Most edited articles",
        "description": "Articles by number of content changes (title, body, byline, dates).",
        "sql": f"""
SELECT
    url,
    title,
    COUNT(*) AS edits,
    SUM(kind = 'title') AS title_edits,
    SUM(kind = 'body') AS body_edits,
    SUM(stealth) AS stealth_edits,
    SUM(words_added + words_removed) AS words_changed,
    MAX(change_id) AS change_id,
    detected_at AS last_edit,
    topic,
    domain,
    page_id
FROM change_feed
WHERE kind IN ('title', 'body', 'byline', 'dates')
GROUP BY page_id
ORDER BY edits DESC, change_id DESC
LIMIT {QUERY_ROWS}
""",
    },
    "headline_changes": {
        "title": "Headline changes",
        "description": "Every change of an article's title, with the old and the new headline.",
        "sql": f"""
SELECT
    feed.change_id,
    feed.detected_at,
    old.title AS old_title,
    new.title AS new_title,
    changes.ops,
    feed.stealth,
    feed.url,
    feed.topic,
    feed.domain
FROM change_feed AS feed
JOIN changes ON changes.id = feed.change_id
LEFT JOIN versions AS old ON old.id = feed.from_version
LEFT JOIN versions AS new ON new.id = feed.to_version
WHERE feed.kind = 'title'
ORDER BY feed.change_id DESC
LIMIT {QUERY_ROWS}
""",
    },
    "removed_articles": {
        "title": "Removed articles",
        "description": (
            "Articles that disappeared (HTTP 404 or 410), and whether they came back since."
        ),
        "sql": f"""
SELECT
    feed.change_id,
    feed.detected_at AS removed_at,
    feed.url,
    feed.title,
    feed.summary,
    (SELECT MIN(back.detected_at) FROM changes AS back
     WHERE back.page_id = feed.page_id AND back.kind = 'restored'
       AND back.id > feed.change_id) AS restored_at,
    pages.state AS state_now,
    feed.topic,
    feed.domain
FROM change_feed AS feed
JOIN pages ON pages.id = feed.page_id
WHERE feed.kind = 'removed'
ORDER BY feed.change_id DESC
LIMIT {QUERY_ROWS}
""",
    },
    "article_timeline": {
        "title": "Article timeline",
        "description": (
            "All versions and changes of one article, oldest first. Give the URL as watched "
            "(or the address it moved to)."
        ),
        "params": ["url"],
        "sql": """
WITH page AS (SELECT id FROM pages WHERE url = :url OR moved_to = :url)
SELECT at, event, kind, title, detail, ops, change_id, version_id, snapshot_id, sha256
FROM (
    SELECT
        versions.first_seen AS at,
        'version ' || versions.seq AS event,
        NULL AS kind,
        versions.title,
        printf('%d words, seen until %s', versions.word_count, versions.last_seen) AS detail,
        NULL AS ops,
        NULL AS change_id,
        versions.id AS version_id,
        versions.snapshot_id,
        versions.hash AS sha256,
        0 AS rank,
        versions.id AS tiebreak
    FROM versions WHERE versions.page_id IN page
    UNION ALL
    SELECT
        changes.detected_at,
        'change',
        changes.kind,
        NULL,
        changes.summary,
        changes.ops,
        changes.id,
        changes.to_version,
        NULL,
        NULL,
        1,
        changes.id
    FROM changes WHERE changes.page_id IN page
)
ORDER BY at, rank, tiebreak
""",
    },
    "search": {
        "title": "Search article text",
        "description": (
            "Full-text search over the title and body of every version ever seen (words as "
            "typed; the versions table's own search box takes SQLite FTS5 syntax)."
        ),
        "params": ["q"],
        "sql": f"""
SELECT
    versions.id AS version_id,
    pages.url,
    versions.seq,
    versions.title,
    snippet(versions_fts, -1, '**', '**', '…', 16) AS snippet,
    versions.first_seen,
    versions.last_seen,
    pages.current_version = versions.id AS is_current
FROM versions_fts
JOIN versions ON versions.id = versions_fts.rowid
JOIN pages ON pages.id = versions.page_id
WHERE :q != '' AND versions_fts MATCH escape_fts(:q)
ORDER BY rank
LIMIT {QUERY_ROWS}
""",
    },
    "new_comments_per_article": {
        "title": "New comments per article",
        "description": "Articles by number of reader comments that appeared since veille first "
        "read their thread, busiest first.",
        "sql": f"""
SELECT
    pages.url,
    versions.title,
    COUNT(*) AS new_comments,
    MIN(changes.detected_at) AS first_new,
    MAX(changes.detected_at) AS last_new
FROM changes
JOIN pages ON pages.id = changes.page_id
LEFT JOIN versions ON versions.id = pages.current_version
WHERE changes.kind = 'comment_new'
GROUP BY pages.id
ORDER BY new_comments DESC, last_new DESC
LIMIT {QUERY_ROWS}
""",
    },
    "deleted_comments": {
        "title": "Deleted comments",
        "description": "Reader comments gone from a complete read of their thread, newest first, "
        "with their last known text.",
        "sql": f"""
SELECT url, source, author, posted_at, text, first_seen, deleted_at, permalink, comment_id
FROM comment_threads
WHERE deleted_at IS NOT NULL
ORDER BY deleted_at DESC
LIMIT {QUERY_ROWS}
""",
    },
    "search_comments": {
        "title": "Search reader comments",
        "description": "Full-text search over every version of every reader comment.",
        "params": ["q"],
        "sql": f"""
SELECT
    pages.url,
    comments.author,
    comments.posted_at,
    snippet(comment_versions_fts, -1, '**', '**', '…', 16) AS snippet,
    comment_versions.seen_at,
    comments.deleted_at,
    comments.permalink
FROM comment_versions_fts
JOIN comment_versions ON comment_versions.id = comment_versions_fts.rowid
JOIN comments ON comments.id = comment_versions.comment_id
JOIN pages ON pages.id = comments.page_id
WHERE :q != '' AND comment_versions_fts MATCH escape_fts(:q)
ORDER BY rank
LIMIT {QUERY_ROWS}
""",
    },
}
