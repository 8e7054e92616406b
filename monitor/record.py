"""Record one fetch result: check row, and when the article changed, version + changes.

Everything for one page happens in one transaction, so a crash leaves either the whole result
or nothing. The rules that keep alerts true live here:

- a failed or suspicious fetch (error, empty page, bot challenge, soft 404) records a check
  state and nothing else;
- a new version is stored only when the normalised article content changes;
- a change that removes most of the article waits for a second fetch that says the same.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.diff import diff_articles, removed_share
from monitor.schedule import next_check_at
from spiders.items import Article, FetchResult
from storage.db import iso_from_unix, write_transaction
from storage.pages import PageRow, get_page_by_id, record_check, update_page
from storage.versions import (
    VersionRow,
    get_version,
    insert_change,
    insert_snapshot,
    insert_version,
    touch_version,
    version_hash,
)

if TYPE_CHECKING:
    import sqlite_utils

logger = logging.getLogger(__name__)

# A function given the database and the ids of new change rows, inside their transaction.
ChangeHook = Callable[["sqlite_utils.Database", list[int]], None]

# Share of the old body that must vanish before a second fetch is asked to confirm it.
CONFIRM_REMOVED_SHARE = 0.5
CONTENT_KINDS = ("title", "body", "byline", "dates")


@dataclass
class Outcome:
    """What recording one result did (for the cycle's summary)."""

    url: str
    state: str  # new, unchanged, changed, not_modified, removed, restored, pending_confirm, or an error
    changes: list[str] = field(default_factory=list)  # kinds recorded
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True when the page could not be checked."""
        return self.state not in {
            "new", "unchanged", "changed", "not_modified", "removed", "restored",
            "pending_confirm", "gone",
        }


def article_from_version(version: VersionRow) -> Article:
    """Rebuild the Article a version was made from."""
    return Article(
        title=version.title or "",
        body=version.body or "",
        authors=tuple(version.authors),
        published=version.published,
        modified=version.modified,
        language=version.language,
        canonical_url=version.canonical_url,
        alternates=tuple((a[0], a[1]) for a in version.alternates),
        description=version.description,
    )


def version_fields(article: Article) -> dict[str, object]:
    """The columns of a version row for ``article``."""
    content = article.content()
    return {
        "title": content["title"],
        "body": content["body"],
        "authors": content["authors"],
        "published": article.published,
        "modified": article.modified,
        "language": article.language,
        "canonical_url": article.canonical_url,
        "alternates": [list(a) for a in article.alternates],
        "description": article.description,
        "word_count": len(str(content["body"]).split()),
    }


class Recorder:
    """Writes fetch results of one cycle into the database."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        intervals: dict[int, float | None] | None = None,
        on_changes: Sequence[ChangeHook] = (),
    ) -> None:
        self.db = db
        self.intervals = intervals or {}
        # Called inside the page's transaction with the ids of the change rows just written,
        # so what they write (an alert in the outbox) commits or rolls back with the change.
        self.on_changes = tuple(on_changes)

    def record(self, result: FetchResult) -> Outcome:
        """Record ``result`` in one transaction and return what happened."""
        with write_transaction(self.db):
            page = get_page_by_id(self.db, result.page_id)
            if page is None:  # removed from the database while the fetch ran
                return Outcome(result.url, "ignored")
            before = self._last_change_id() if self.on_changes else 0
            outcome = self._record(page, result)
            if outcome.changes and self.on_changes:
                self.run_change_hooks(page.id, before)
        if outcome.changes:
            logger.info("%s: %s", page.url, ", ".join(outcome.changes))
        return outcome

    def _last_change_id(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM changes").fetchone()[0])

    def run_change_hooks(self, page_id: int, after_id: int) -> None:
        """Hand the page's change rows newer than ``after_id`` to every hook (in the transaction)."""
        ids = [
            int(row[0])
            for row in self.db.execute(
                "SELECT id FROM changes WHERE id > ? AND page_id = ? ORDER BY id", [after_id, page_id]
            ).fetchall()
        ]
        for hook in self.on_changes:
            hook(self.db, ids)

    def _record(self, page: PageRow, result: FetchResult) -> Outcome:
        now = result.fetched_at
        state = result.state
        if state in ("not_modified", "same_raw", "same_region"):
            return self._unchanged(page, result, "not_modified" if state == "not_modified" else "unchanged")
        if state == "gone":
            return self._gone(page, result)
        if state != "ok" or result.article is None:
            return self._failed(page, result)
        return self._article(page, result, result.article, now)

    # -- outcomes ---------------------------------------------------------------------------

    def _schedule(self, page: PageRow, now: float, *, errors: int = 0, changed: bool = False) -> float:
        quiet_for = 0.0 if changed else self._quiet_for(page, now)
        return next_check_at(
            now, quiet_for=quiet_for, errors_in_row=errors, override=self.intervals.get(page.id)
        )

    @staticmethod
    def _quiet_for(page: PageRow, now: float) -> float:
        return max(0.0, now - (page.last_changed_at or now))

    def _unchanged(self, page: PageRow, result: FetchResult, state: str) -> Outcome:
        seen = iso_from_unix(result.fetched_at)
        if page.current_version is not None:
            touch_version(self.db, page.current_version, seen)
        record_check(
            self.db, page.id, at=result.fetched_at, state=state, http_status=result.http_status,
            ms=result.duration_ms, nbytes=result.nbytes, version_id=None,
        )
        update_page(
            self.db, page.id,
            last_checked_at=result.fetched_at, last_state=state, errors_in_row=0,
            etag=result.etag or page.etag, last_modified=result.last_modified or page.last_modified,
            next_check_at=self._schedule(page, result.fetched_at),
        )
        return Outcome(page.url, state)

    def _gone(self, page: PageRow, result: FetchResult) -> Outcome:
        now = result.fetched_at
        changes: list[str] = []
        # A page that never had a version was never "published" as far as we know.
        if page.state != "removed" and page.current_version is not None:
            insert_change(
                self.db, page_id=page.id, detected_at=iso_from_unix(now), kind="removed",
                summary=f"page removed (HTTP {result.http_status})",
                from_version=page.current_version,
            )
            changes.append("removed")
        record_check(
            self.db, page.id, at=now, state="gone", http_status=result.http_status,
            ms=result.duration_ms, nbytes=result.nbytes,
        )
        update_page(
            self.db, page.id, state="removed", last_checked_at=now, last_state="gone",
            # Whatever comes back next must be judged in full (it is a restoration).
            errors_in_row=0, etag=None, last_modified=None, last_raw_sha256=None, region_fp=None,
            next_check_at=self._schedule(page, now),
        )
        if page.current_version is None:  # never seen: the URL is probably wrong
            return Outcome(page.url, "not_found", error=f"HTTP {result.http_status}")
        return Outcome(page.url, "removed" if changes else "gone", changes)

    def _failed(self, page: PageRow, result: FetchResult) -> Outcome:
        now = result.fetched_at
        # Anomalies (empty, blocked, soft 404) are answers, not outages: keep the normal pace.
        is_error = result.is_error
        errors = page.errors_in_row + 1 if is_error else 0
        record_check(
            self.db, page.id, at=now, state=result.state, http_status=result.http_status,
            ms=result.duration_ms, nbytes=result.nbytes, error=result.error,
        )
        update_page(
            self.db, page.id, last_checked_at=now, last_state=result.state, errors_in_row=errors,
            next_check_at=self._schedule(page, now, errors=errors),
        )
        return Outcome(page.url, result.state, error=result.error)

    def _article(self, page: PageRow, result: FetchResult, article: Article, now: float) -> Outcome:
        seen = iso_from_unix(now)
        raw_sha = hashlib.sha256(result.raw).hexdigest() if result.raw else None
        changes: list[str] = []
        page_updates: dict[str, object] = {}
        if page.state == "removed":
            insert_change(
                self.db, page_id=page.id, detected_at=seen, kind="restored",
                summary=f"page is back (HTTP {result.http_status})",
                to_version=page.current_version,
            )
            changes.append("restored")
            page_updates["state"] = "active"
        moved_to = self._moved_to(page, result)
        if moved_to != page.moved_to:
            if moved_to:
                insert_change(
                    self.db, page_id=page.id, detected_at=seen, kind="moved",
                    summary=f"now redirects to {moved_to}", to_version=page.current_version,
                )
                changes.append("moved")
            page_updates["moved_to"] = moved_to

        content_hash = article.content_hash()
        current_hash = version_hash(self.db, page.current_version) if page.current_version else None
        state = "unchanged"
        version_id: int | None = None
        if current_hash is None:
            version_id = self._store_version(page, result, article, content_hash, seen)
            state = "new"
        elif current_hash == content_hash:
            touch_version(self.db, page.current_version, seen)  # type: ignore[arg-type]
            if page.pending_hash:
                page_updates.update(pending_hash=None, pending_count=0)
        else:
            current = get_version(self.db, page.current_version)  # type: ignore[arg-type]
            assert current is not None
            old = article_from_version(current)
            if removed_share(old, article) > CONFIRM_REMOVED_SHARE and page.pending_hash != content_hash:
                # Most of the article vanished: believe it only if the next fetch says the same.
                record_check(
                    self.db, page.id, at=now, state="pending_confirm", http_status=result.http_status,
                    ms=result.duration_ms, nbytes=result.nbytes,
                )
                update_page(
                    self.db, page.id, pending_hash=content_hash, pending_count=page.pending_count + 1,
                    last_checked_at=now, last_state="pending_confirm", errors_in_row=0,
                    next_check_at=now, **page_updates,
                )
                return Outcome(page.url, "pending_confirm", changes)
            records = diff_articles(old, article)
            version_id = self._store_version(page, result, article, content_hash, seen)
            for rec in records:
                insert_change(
                    self.db, page_id=page.id, detected_at=seen, kind=rec.kind, summary=rec.summary,
                    from_version=current.id, to_version=version_id, words_added=rec.words_added,
                    words_removed=rec.words_removed, share_changed=rec.share_changed,
                    stealth=rec.stealth, ops=rec.ops, unified=rec.unified,
                )
                changes.append(rec.kind)
            state = "changed"
            page_updates.update(pending_hash=None, pending_count=0)
        if version_id is not None:
            page_updates["current_version"] = version_id
        record_check(
            self.db, page.id, at=now, state=state, http_status=result.http_status,
            ms=result.duration_ms, nbytes=result.nbytes, version_id=version_id,
        )
        update_page(
            self.db, page.id, last_checked_at=now, last_state=state, errors_in_row=0,
            etag=result.etag, last_modified=result.last_modified, last_raw_sha256=raw_sha,
            # The fingerprint now describes the current version (see spiders.fingerprint).
            region=result.extras.get("region"), region_fp=result.extras.get("region_fp"),
            next_check_at=self._schedule(page, now, changed=bool(changes)),
            **({"last_changed_at": now} if changes else {}),
            **page_updates,
        )
        if "restored" in changes and state == "unchanged":
            state = "restored"
        return Outcome(page.url, state, changes)

    def _store_version(
        self, page: PageRow, result: FetchResult, article: Article, content_hash: str, seen: str
    ) -> int:
        snapshot_id = None
        if result.raw is not None:
            snapshot_id = insert_snapshot(
                self.db, page_id=page.id, raw=result.raw, url=result.final_url or page.url,
                fetched_at=seen, http_status=result.http_status, content_type=result.content_type,
                encoding=result.encoding,
            )
        return insert_version(
            self.db, page_id=page.id, content_hash=content_hash, fields=version_fields(article),
            seen_at=seen, snapshot_id=snapshot_id,
        )

    @staticmethod
    def _moved_to(page: PageRow, result: FetchResult) -> str | None:
        """The new address when the page now redirects to another URL, else None."""
        final = (result.final_url or page.url).split("#")[0]
        if final.rstrip("/") == page.url.split("#")[0].rstrip("/"):
            return None
        return final
