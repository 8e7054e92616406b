"""From an article's response to the requests and items of its comments.

:func:`comment_work` is what :class:`~spiders.watch.WatchSpider` calls after it has judged a
page: given the response, the page's :class:`~spiders.items.FetchResult` and its
:class:`~spiders.comments.items.CommentPlan`, it returns the inline comments as a finished
:class:`~spiders.comments.items.CommentsResult` and one request per external thread, whose
callbacks end with that thread's result.

Which sources are read:

- ``auto`` (the default): every source found in the page. The inline comments are left out
  when the page also links a Discourse topic or a WordPress collection, which hold the same
  thread in full (a page usually prints only part of it); they still stand in when the
  WordPress API turns out to be closed.
- ``explicit``: the sources the config names; a kind named without an address
  (``"inline"``, ``"discourse"``…) is looked for in the page.
- ``none``: nothing.

A page answered 304, or with the same bytes as last time, has nothing new inline; its external
threads (remembered in the plan) are read all the same, since a forum moves on its own.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from spiders.comments import discourse, disqus, wordpress
from spiders.comments.count import shown_count
from spiders.comments.inline import read_inline
from spiders.comments.items import (
    DISCOURSE,
    DISQUS,
    INLINE,
    WORDPRESS,
    CommentPlan,
    CommentSource,
    CommentsResult,
)
from spiders.decode import decode_html
from spiders.extract import parse_html

if TYPE_CHECKING:
    import scrapy
    from lxml.html import HtmlElement
    from scrapy.http import Response

    from spiders.items import FetchResult

logger = logging.getLogger(__name__)

# Fetch states whose page is the article: its comments can be read.
READABLE_STATES = frozenset({"ok", "same_region", "same_raw", "not_modified"})
# States whose bytes are new: the inline comments may have changed.
PARSED_STATES = frozenset({"ok", "same_region"})


def comment_work(
    response: Response, result: FetchResult, plan: CommentPlan
) -> list[scrapy.Request | CommentsResult]:
    """The inline result and the first request of each external thread of one page."""
    if plan.mode == "none" or result.state not in READABLE_STATES:
        return []
    page_url = result.url
    tree = None
    if result.state in PARSED_STATES and result.raw is not None:
        tree = _tree(result.raw, result.content_type, response.url)
    shown = shown_count(tree, result.raw) if tree is not None else None
    sources = _sources(plan, tree, page_url, result.raw)
    work: list[scrapy.Request | CommentsResult] = []
    inline = None
    wants_inline = (plan.mode == "auto" or INLINE in plan.kinds) and tree is not None
    if wants_inline:
        inline = _inline_result(result.page_id, page_url, tree, plan, shown, result.raw)
    full_thread = any(s.kind in (DISCOURSE, WORDPRESS) for s in sources)
    if inline is not None and not (plan.mode == "auto" and full_thread):
        work.append(inline)
    for source in sources:
        state = plan.state_of(source)
        if source.kind == DISCOURSE:
            reader = discourse.DiscourseRead(
                page_id=result.page_id, page_url=page_url, source=source,
                max_requests=plan.max_requests, shown_count=shown, state=state,
                chunk=max(1, min(plan.chunk, discourse.MAX_CHUNK)),
            )
            work.append(reader.start())
        elif source.kind == WORDPRESS:
            usable = plan.mode == "auto" and inline is not None and inline.comments
            fallback = inline if usable else None
            reader_wp = wordpress.WordPressRead(
                page_id=result.page_id, page_url=page_url, source=source,
                max_requests=plan.max_requests, shown_count=shown, fallback=fallback,
            )
            work.append(reader_wp.start())
        elif source.kind == DISQUS:
            work.append(disqus.unsupported(result.page_id, page_url, source, shown))
    return work


def _tree(raw: bytes, content_type: str | None, url: str) -> HtmlElement | None:
    try:
        text, _ = decode_html(raw, content_type)
        return parse_html(text, url)
    except Exception:  # the article side already said what is wrong with this page
        logger.debug("comments: cannot parse %s", url, exc_info=True)
        return None


def _sources(
    plan: CommentPlan, tree: HtmlElement | None, page_url: str, raw: bytes | None
) -> list[CommentSource]:
    """The external threads to read this run, config first, without duplicates."""
    kinds = (DISCOURSE, WORDPRESS, DISQUS) if plan.mode == "auto" else plan.kinds
    found: list[CommentSource] = [s for s in plan.sources if s.kind != INLINE]
    if tree is not None:
        if DISCOURSE in kinds:
            found += discourse.detect(tree, page_url, raw)
        if WORDPRESS in kinds:
            found += wordpress.detect(tree, page_url, raw)
        if DISQUS in kinds:
            found += disqus.detect(tree, page_url, raw)
    else:  # nothing new to look at: the threads found before
        found += [s.source for s in plan.known if s.source.kind in kinds]
    out: list[CommentSource] = []
    for source in found:
        if all((s.kind, s.url) != (source.kind, source.url) for s in out):
            out.append(source)
    return out


def _inline_result(
    page_id: int,
    page_url: str,
    tree: HtmlElement,
    plan: CommentPlan,
    shown: int | None,
    raw: bytes | None = None,
) -> CommentsResult | None:
    """The comments printed in the page, or None when there are none and none were expected."""
    source = CommentSource(INLINE, page_url, "config" if INLINE in plan.kinds else "detected")
    read = read_inline(tree, page_url, plan.selectors, raw)
    known = plan.state_of(source) is not None
    if read is None:
        if not known and plan.mode == "auto":
            return None
        # Comments seen before and none now: a changed template is likelier than a thread wiped
        # out, unless the page itself says there are none.
        believed = shown == 0
        return CommentsResult(
            page_id=page_id, page_url=page_url, source=source, fetched_at=time.time(),
            shown_count=shown, complete=believed, state="ok" if believed else "partial",
            error=None if believed else "no comments found in the page",
        )
    detail = (("method", read.method),)
    # A page that prints part of its thread (the last few, a first page) says so by its count:
    # what it leaves out is not gone, and what appears may be old.
    whole = shown is None or shown <= len(read.comments)
    return CommentsResult(
        page_id=page_id, page_url=page_url,
        source=CommentSource(INLINE, page_url, source.origin, detail),
        fetched_at=time.time(), comments=read.comments, complete=whole, shown_count=shown,
        state="ok" if whole else "partial",
        error=None if whole else f"the page prints {len(read.comments)} of its {shown} comments",
    )
