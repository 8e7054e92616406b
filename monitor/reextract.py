"""Rebuild a page's versions and changes from its stored raw snapshots, with today's extractor.

An extractor fix then repairs history without fetching anything: each stored snapshot is
extracted again in the order it was first seen; consecutive snapshots that now extract to the
same article collapse into one version, and the content changes between them are recomputed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.diff import diff_articles
from monitor.record import CONTENT_KINDS, version_fields
from spiders.decode import decode_html
from spiders.extract import extract_article
from spiders.items import Article
from storage.db import write_transaction
from storage.pages import PageRow, update_page
from storage.versions import (
    delete_content_history,
    insert_change,
    insert_version,
    snapshot_bytes,
    versions_of,
)

if TYPE_CHECKING:
    import sqlite_utils

logger = logging.getLogger(__name__)


@dataclass
class ReextractResult:
    """Versions before and after re-extraction of one page."""

    url: str
    versions_before: int
    versions_after: int
    changes_after: int


def reextract_page(
    db: sqlite_utils.Database,
    page: PageRow,
    *,
    selector: str | None = None,
    ignore: tuple[str, ...] = (),
) -> ReextractResult:
    """Re-run extraction over ``page``'s snapshots and rebuild its history in one transaction."""
    old_versions = versions_of(db, page.id)
    patterns = tuple(re.compile(p) for p in ignore)
    # (first_seen, last_seen, snapshot_id, article) for every version that has its raw bytes.
    rebuilt: list[tuple[str, str, int | None, Article]] = []
    for version in old_versions:
        if version.snapshot_id is None:
            continue
        raw, content_type, url = snapshot_bytes(db, version.snapshot_id)
        text, _encoding = decode_html(raw, content_type)
        rebuilt.append(
            (version.first_seen, version.last_seen, version.snapshot_id,
             extract_article(text, url, selector=selector, ignore=patterns))
        )
    changes = 0
    with write_transaction(db):
        delete_content_history(db, page.id, CONTENT_KINDS)
        previous: tuple[int, Article] | None = None
        current_id: int | None = None
        for first_seen, last_seen, snapshot_id, article in rebuilt:
            content_hash = article.content_hash()
            if previous is not None and previous[1].content_hash() == content_hash:
                db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", [last_seen, previous[0]])
                continue
            version_id = insert_version(
                db, page_id=page.id, content_hash=content_hash, fields=version_fields(article),
                seen_at=first_seen, snapshot_id=snapshot_id,
            )
            db.execute("UPDATE versions SET last_seen = ? WHERE id = ?", [last_seen, version_id])
            if previous is not None:
                for rec in diff_articles(previous[1], article):
                    insert_change(
                        db, page_id=page.id, detected_at=first_seen, kind=rec.kind,
                        summary=rec.summary, from_version=previous[0], to_version=version_id,
                        words_added=rec.words_added, words_removed=rec.words_removed,
                        share_changed=rec.share_changed, stealth=rec.stealth, ops=rec.ops,
                        unified=rec.unified,
                    )
                    changes += 1
            previous = (version_id, article)
            current_id = version_id
        # The next fetch compares against the rebuilt article, so drop the raw-bytes shortcut.
        update_page(db, page.id, current_version=current_id, last_raw_sha256=None)
    after = len(versions_of(db, page.id))
    logger.info("re-extracted %s: %d versions -> %d", page.url, len(old_versions), after)
    return ReextractResult(page.url, len(old_versions), after, changes)
