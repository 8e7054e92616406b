"""Record reader comments: one thread's read in one transaction, and its changes.

The rules that keep comment changes true:

- the first reads of a thread, until it has been read in full once, record its comments without
  ``comment_new`` changes (as a page's first version is not a change);
- later reads record ``comment_new``, ``comment_edited`` (with a word diff), ``comment_restored``
  and, only after a *complete* read, ``comment_deleted``: a read that failed half-way, ran out
  of budget before listing the thread, or found nothing where comments stood never deletes;
- each read leaves a ``comment_counts`` row: the count the page shows, what was listed and read,
  and whether the read was complete (a partial read says why).

Changes are rows of ``changes`` (with ``comment_id``), handed to the same change hooks as the
article's (the alert outbox), inside the same transaction.

:func:`comment_plans` builds what the spider needs per page from the config and from the sources
read before (a 304 still reads a forum thread; a huge thread resumes where it stopped).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from monitor.schedule import next_check_at
from monitor.wordiff import WordDiff, count_words
from spiders.comments import discourse, wordpress
from spiders.comments.items import (
    NEEDS_BROWSER,
    CommentPlan,
    CommentSource,
    CommentsResult,
    SourceState,
)
from storage.comments import (
    SourceRow,
    StoredComment,
    ensure_source,
    insert_comment,
    insert_comment_change,
    insert_comment_version,
    insert_count,
    last_change_id,
    live_count,
    missing_comments,
    page_language,
    seen_again,
    sources_of,
    stored_comments,
    touch_standing,
    update_comment,
    update_source,
)
from storage.db import iso_from_unix, write_transaction
from storage.pages import bring_forward, get_page_by_id

if TYPE_CHECKING:
    import sqlite_utils

    from monitor.config import Config, PageConfig
    from monitor.record import ChangeHook
    from spiders.comments.items import Comment
    from storage.pages import PageRow

logger = logging.getLogger(__name__)

# Quoted comment text in summaries is cut to about this many characters.
COMMENT_QUOTE_WIDTH = 60
# States of a read whose comments were recorded: the next identical read may skip them.
_READ_STATES = ("ok", "partial")


@dataclass
class CommentOutcome:
    """What recording one thread's read did."""

    url: str
    source: str  # kind of source
    state: str  # ok | partial | error | needs_browser | ignored | store_error
    read: int = 0
    changes: list[str] = field(default_factory=list)
    error: str | None = None


class CommentRecorder:
    """Writes the comment results of one cycle into the database."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        on_changes: Sequence[ChangeHook] = (),
        intervals: Mapping[int, float | None] | None = None,
    ) -> None:
        self.db = db
        self.on_changes = tuple(on_changes)
        self.intervals = intervals

    def record(self, result: CommentsResult) -> CommentOutcome:
        """Record one thread's read in one transaction and return what happened."""
        with write_transaction(self.db):
            page = get_page_by_id(self.db, result.page_id)
            if page is None:  # removed from the database while the read ran
                return CommentOutcome(result.page_url, result.source.kind, "ignored")
            before = last_change_id(self.db)
            outcome = self._record(page, result)
            if outcome.changes:
                # A busy thread brings the page's next check forward, like an article edit.
                override = self.intervals.get(page.id) if self.intervals is not None else None
                soon = next_check_at(result.fetched_at, quiet_for=0.0, override=override)
                bring_forward(self.db, page.id, changed_at=result.fetched_at, check_by=soon)
            if outcome.changes and self.on_changes:
                ids = [
                    int(row[0])
                    for row in self.db.execute(
                        "SELECT id FROM changes WHERE id > ? AND page_id = ? ORDER BY id",
                        [before, page.id],
                    ).fetchall()
                ]
                for hook in self.on_changes:
                    hook(self.db, ids)
        if outcome.changes:
            logger.info("%s: comments: %s", page.url, ", ".join(outcome.changes))
        if outcome.state in ("partial", "error"):
            logger.info(
                "%s: %s comments read partially: %s", page.url, result.source.kind, outcome.error
            )
        return outcome

    # -- one thread ----------------------------------------------------------------------------

    def _record(self, page: PageRow, result: CommentsResult) -> CommentOutcome:
        now = iso_from_unix(result.fetched_at)
        source = result.source
        src = ensure_source(
            self.db, page_id=page.id, kind=source.kind, url=source.url, origin=source.origin,
            detail=dict(source.detail), now=now,
        )
        state, error = result.state, result.error
        outcome = CommentOutcome(page.url, source.kind, state, len(result.comments), error=error)
        if state == NEEDS_BROWSER:
            # Nothing was read (a crawl without Chromium met a Disqus thread): the source is
            # known from now on, so the next crawl brings Chromium; a thread read before keeps
            # its state and its comments, and no count row says "0 read".
            if src.last_state in (None, NEEDS_BROWSER):
                update_source(self.db, src.id, last_state=state, last_error=error)
            return outcome
        if result.same_as_last:
            return self._same_as_last(src, result, now, outcome)
        quotes = _quotes(page_language(self.db, page.id))
        stored = stored_comments(self.db, src.id, [c.key for c in result.comments])
        authors = {key: s.author for key, s in stored.items()}
        authors.update({c.key: c.author for c in result.comments})
        for comment in result.comments:
            self._one(page, src.id, comment, stored.get(comment.key), now, src.baselined,
                      quotes, authors, outcome)
        complete = result.complete
        present = result.present
        if complete and not present and live_count(self.db, src.id) > 0:
            # Every comment gone at once is likelier a broken page or API than a wiped thread.
            complete = False
            outcome.state = state = "partial"
            outcome.error = error = "the thread read empty while comments stood: not believed"
        if complete:
            for gone in missing_comments(self.db, src.id, present):
                update_comment(self.db, gone.id, deleted_at=now)
                self._change(page, gone.id, now, "comment_deleted",
                             f"comment by {_who(gone.author)} deleted: {_quote(gone.text, quotes)}",
                             outcome, words_removed=count_words(gone.text or ""))
            touch_standing(self.db, src.id, now)
        baselined = src.baselined
        if not baselined and complete and live_count(self.db, src.id) >= len(present):
            baselined = True  # read in full once: from now on, a comment is news
        insert_count(
            self.db, page_id=page.id, source_id=src.id, at=result.fetched_at,
            shown=result.shown_count,
            listed=len(result.listed) if result.listed is not None else None,
            read=len(result.comments), complete=complete, state=state, error=error,
            requests=result.requests,
        )
        update_source(
            self.db, src.id, last_read_at=now, last_state=state, last_error=error,
            baselined=int(baselined), high_water=result.high_water, cursor=result.cursor,
            read_fp=result.read_fp if state in _READ_STATES else None,
        )
        return outcome

    def _same_as_last(
        self, src: SourceRow, result: CommentsResult, now: str, outcome: CommentOutcome
    ) -> CommentOutcome:
        """A read of the very markup the last read read: the same comments, seen again.

        What reading them again would store: each comment seen now; no version, change or count
        row (the count row would repeat the last one), the source's state as it was.
        """
        if (
            src.read_fp is None or src.read_fp != result.read_fp
            or src.last_state not in _READ_STATES or src.last_read_at is None
        ):
            # Read otherwise since this check was planned: nothing can be concluded from it.
            update_source(self.db, src.id, read_fp=None)
            outcome.state = "error"
            outcome.error = "the thread was read again meanwhile; it is read in full next time"
            return outcome
        outcome.read = seen_again(self.db, src.id, src.last_read_at, now)
        outcome.state, outcome.error = str(src.last_state), src.last_error
        update_source(self.db, src.id, last_read_at=now)
        logger.debug("%s: %s comments as last read (%d)", result.page_url, src.kind, outcome.read)
        return outcome

    def _one(
        self,
        page: PageRow,
        source_id: int,
        comment: Comment,
        stored: StoredComment | None,
        now: str,
        baselined: bool,
        quotes: tuple[str, str],
        authors: dict[str, str | None],
        outcome: CommentOutcome,
    ) -> None:
        text_hash = comment.text_hash()
        if stored is None:
            comment_id = insert_comment(
                self.db, page_id=page.id, source_id=source_id, key=comment.key,
                system_id=comment.system_id, author=comment.author, posted_at=comment.posted_at,
                parent_key=comment.parent_key, permalink=comment.permalink, seen_at=now,
            )
            insert_comment_version(
                self.db, comment_id, text_hash=text_hash, text=comment.text, seen_at=now
            )
            if baselined:
                reply = ""
                if comment.parent_key and comment.parent_key in authors:
                    reply = f" (reply to {_who(authors[comment.parent_key])})"
                self._change(
                    page, comment_id, now, "comment_new",
                    f"new comment by {_who(comment.author)}{reply}: {_quote(comment.text, quotes)}",
                    outcome, words_added=count_words(comment.text),
                )
            return
        updates: dict[str, object] = {"last_seen": now}
        for name in ("author", "posted_at", "permalink", "parent_key"):
            value = getattr(comment, name)
            if value is not None and value != getattr(stored, name):
                updates[name] = value  # metadata follows the source without a change row
        if stored.deleted_at is not None:
            updates["deleted_at"] = None
            self._change(page, stored.id, now, "comment_restored",
                         f"comment by {_who(comment.author or stored.author)} is back: "
                         f"{_quote(comment.text, quotes)}", outcome)
        update_comment(self.db, stored.id, **updates)
        if stored.hash == text_hash:
            return
        insert_comment_version(
            self.db, stored.id, text_hash=text_hash, text=comment.text, seen_at=now
        )
        if stored.hash is None:
            return
        old = stored.text or ""
        words = WordDiff.of(old, comment.text)
        added, removed = words.words_added, words.words_removed
        self._change(
            page, stored.id, now, "comment_edited",
            f"comment by {_who(comment.author or stored.author)} edited: "
            f"{_edit_phrase(words, quotes)}",
            outcome, words_added=added, words_removed=removed,
            share_changed=min(1.0, (added + removed) / max(1, count_words(old))),
            ops=words.ops(), unified=_unified(old, comment.text),
        )

    def _change(
        self, page: PageRow, comment_id: int, now: str, kind: str, summary: str,
        outcome: CommentOutcome, **sizes: object,
    ) -> None:
        insert_comment_change(
            self.db, page_id=page.id, comment_id=comment_id, detected_at=now, kind=kind,
            summary=summary, **sizes,  # type: ignore[arg-type]
        )
        outcome.changes.append(kind)


def _who(author: str | None) -> str:
    return author or "anonymous"


def _quotes(language: str | None) -> tuple[str, str]:
    return ("« ", " »") if (language or "").lower().startswith("fr") else ("“", "”")


def _quote(text: str | None, quotes: tuple[str, str]) -> str:
    flat = " ".join((text or "").split())
    if len(flat) > COMMENT_QUOTE_WIDTH:
        cut = flat[: COMMENT_QUOTE_WIDTH - 1]
        space = cut.rfind(" ")
        flat = (cut[:space] if space > COMMENT_QUOTE_WIDTH // 2 else cut).rstrip() + "…"
    return f"{quotes[0]}{flat}{quotes[1]}"


def _edit_phrase(words: WordDiff, quotes: tuple[str, str]) -> str:
    """``2 words changed: « a » → « b »``; only the side with words when one side has none."""
    added, removed = words.words_added, words.words_removed
    before, after = words.span()
    if added and not removed:
        before = ""
    elif removed and not added:
        after = ""
    head = _words_phrase(added, removed)
    if before and after:
        return f"{head}: {_quote(before, quotes)} → {_quote(after, quotes)}"
    return f"{head}: {_quote(before or after, quotes)}"


def _words_phrase(added: int, removed: int) -> str:
    def plural(n: int) -> str:
        return f"{n} word" if n == 1 else f"{n} words"

    if not added and not removed:
        return "punctuation changed"
    if not removed:
        return f"{plural(added)} added"
    if not added:
        return f"{plural(removed)} removed"
    return f"{plural(added + removed)} changed"


def _unified(old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.split("\n\n"), new.split("\n\n"), "comment", "comment", lineterm="", n=1
    )
    return "\n".join(lines)


# --- plans for the spider ---------------------------------------------------------------------


def comment_plans(
    db: sqlite_utils.Database, pages: Sequence[PageRow], config: Config
) -> dict[int, CommentPlan]:
    """What the spider needs to read each page's comments, by page id."""
    settings = {p.url: p for p in config.pages}
    known = sources_of(db, [p.id for p in pages])
    plans: dict[int, CommentPlan] = {}
    for page in pages:
        plan = plan_for(page.url, settings.get(page.url))
        if plan.mode == "none":
            continue
        states = tuple(
            SourceState(
                CommentSource(s.kind, s.url, s.origin, tuple(sorted(s.detail.items()))),
                high_water=s.high_water, cursor=s.cursor, read_fp=s.read_fp,
            )
            for s in known.get(page.id, ())
        )
        plans[page.id] = CommentPlan(
            mode=plan.mode, sources=plan.sources, kinds=plan.kinds, selectors=plan.selectors,
            known=states, max_requests=plan.max_requests, settings=config.comments,
        )
    return plans


def plan_for(page_url: str, cfg: PageConfig | None) -> CommentPlan:
    """The plan the config asks for one page (without what the database knows)."""
    if cfg is None:
        return CommentPlan()
    entries = cfg.comments
    budget = cfg.comment_budget
    if entries == ("auto",):
        return CommentPlan(selectors=cfg.comment_selectors, max_requests=budget)
    if entries == ("none",):
        return CommentPlan(mode="none")
    kinds: list[str] = []
    sources: list[CommentSource] = []
    for entry in entries:
        kind, _, where = entry.partition(":")
        if not where:
            kinds.append(kind)
            continue
        source = explicit_source(kind, where, page_url)
        if source is not None:
            sources.append(source)
    return CommentPlan(
        mode="explicit", sources=tuple(sources), kinds=tuple(kinds),
        selectors=cfg.comment_selectors, max_requests=budget,
    )


def explicit_source(kind: str, where: str, page_url: str) -> CommentSource | None:
    """A source the config names: ``discourse:<topic URL>`` or ``wordpress:<post>``.

    A WordPress post is its id on the page's own site (``wordpress:123``), its short link
    (``https://blog.example.org/?p=123``) or its comment collection
    (``https://blog.example.org/wp-json/wp/v2/comments?post=123``).
    """
    if kind == "discourse":
        return discourse.topic_source(where, origin="config")
    if kind != "wordpress":
        return None
    if where.isdigit():
        parts = urlsplit(page_url)
        root = f"{parts.scheme}://{parts.netloc}/wp-json/"
        return wordpress.collection_source(root, where, origin="config")
    parts = urlsplit(where)
    query = parse_qs(parts.query)
    if "/wp/v2/comments" in where or "rest_route" in query:
        post = (query.get("post") or [""])[0]
        if "rest_route" in query:
            root = where.split("rest_route=")[0] + "rest_route=/"
        else:
            root = where.split("/wp/v2/comments")[0] + "/"
        return wordpress.collection_source(root, post, origin="config") if post.isdigit() else None
    post = (query.get("p") or [""])[0]
    if post.isdigit():
        root = f"{parts.scheme}://{parts.netloc}/wp-json/"
        return wordpress.collection_source(root, post, origin="config")
    return None


