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

A Disqus thread is read through Disqus's API when a key is configured, else in Chromium when the
crawl has it (``browser``); a crawl without it answers ``needs_browser``, and
:class:`BrowserThreads` lets ``veille check`` read such a thread at once in a crawl with
Chromium.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from spiders.comments import discourse, disqus, wordpress
from spiders.comments.count import shown_count
from spiders.comments.disqus_api import DisqusApiRead
from spiders.comments.disqus_browser import DisqusBrowserRead
from spiders.comments.inline import comment_markup, read_inline
from spiders.comments.items import (
    DISCOURSE,
    DISQUS,
    INLINE,
    NEEDS_BROWSER,
    WORDPRESS,
    CommentPlan,
    CommentSource,
    CommentsResult,
)
from spiders.decode import decode_html
from spiders.extract import parse_html
from spiders.items import FetchResult

if TYPE_CHECKING:
    from collections.abc import Iterable

    import scrapy
    from lxml.html import HtmlElement
    from scrapy.http import Response

    from spiders.browser import BrowserSettings
    from spiders.items import WatchTarget

logger = logging.getLogger(__name__)

# Fetch states whose page is the article: its comments can be read.
READABLE_STATES = frozenset({"ok", "same_region", "same_raw", "not_modified"})
# States whose bytes are new: the inline comments may have changed.
PARSED_STATES = frozenset({"ok", "same_region"})


def comment_work(
    response: Response,
    result: FetchResult,
    plan: CommentPlan,
    browser: BrowserSettings | None = None,
    tree: HtmlElement | None = None,
) -> list[scrapy.Request | CommentsResult]:
    """The inline result and the first request of each external thread of one page.

    ``browser`` is the crawl's Chromium, if it has one: Disqus threads are read there.
    ``tree`` is the page already parsed by :func:`page_tree` and not yet changed (the spider
    shares one parse with the fingerprint fast path); without it the page is parsed here.
    """
    if plan.mode == "none" or result.state not in READABLE_STATES:
        return []
    page_url = result.url
    if result.state not in PARSED_STATES or result.raw is None:
        tree = None
    elif tree is None:
        tree = page_tree(result.raw, result.content_type, response.url)
    shown = shown_count(tree, result.raw) if tree is not None else None
    sources = _sources(plan, tree, page_url, result.raw)
    work: list[scrapy.Request | CommentsResult] = []
    inline = None
    wants_inline = (plan.mode == "auto" or INLINE in plan.kinds) and tree is not None
    full_thread = any(s.kind in (DISCOURSE, WORDPRESS) for s in sources)
    if wants_inline:
        # Beside a full thread the inline comments may stand in for it: read them for real.
        inline = _inline_result(
            result.page_id, page_url, tree, plan, shown, result.raw, may_skip=not full_thread
        )
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
            work.append(_disqus(result.page_id, page_url, source, plan, shown, browser))
    return work


def _disqus(
    page_id: int,
    page_url: str,
    source: CommentSource,
    plan: CommentPlan,
    shown: int | None,
    browser: BrowserSettings | None,
) -> scrapy.Request | CommentsResult:
    """Disqus: its API with a key, else Chromium, else a ``needs_browser`` state."""
    if plan.by_api(source):
        return DisqusApiRead(
            page_id=page_id, page_url=page_url, source=source, max_requests=plan.max_requests,
            shown_count=shown, api_url=plan.settings.disqus_api_url,
            api_key=plan.settings.disqus_api_key or "",
        ).start()
    if browser is None:
        return disqus.needs_browser(page_id, page_url, source, shown)
    return DisqusBrowserRead(
        page_id=page_id, page_url=page_url, source=source, max_requests=plan.max_requests,
        shown_count=shown, browser=browser,
    ).start()


class BrowserThreads:
    """Threads met by a crawl without Chromium, to be read at once in one that has it.

    ``veille check`` hands each crawl's targets to :meth:`expect`; :meth:`hold` then keeps a
    ``needs_browser`` result out of the database and remembers a target that reads only that
    thread; :meth:`take` gives those targets for a crawl with Chromium. That crawl's article
    results are held back too: the page was recorded by the first crawl.
    """

    def __init__(self) -> None:
        self._targets: dict[int, WatchTarget] = {}
        self._held: dict[int, WatchTarget] = {}
        self._rereading: set[int] = set()

    def expect(self, targets: Iterable[WatchTarget]) -> None:
        """The targets of the crawl about to run."""
        self._targets = {target.page_id: target for target in targets}
        self._rereading = set()

    def hold(self, result: FetchResult | CommentsResult) -> bool:
        """True when ``result`` must not be recorded."""
        if isinstance(result, FetchResult):
            return result.page_id in self._rereading
        page = result.page_id
        if result.state != NEEDS_BROWSER or page not in self._targets or page in self._rereading:
            return False
        target = self._targets[page]
        plan = target.comments or CommentPlan()
        held = self._held.get(page)
        before = held.comments.sources if held is not None and held.comments else ()
        # Only the threads held: no inline comments, no other thread read twice.
        only = replace(
            plan, mode="explicit", sources=(*before, result.source), kinds=(), known=()
        )
        self._held[page] = replace(target, comments=only)
        return True

    def take(self) -> list[WatchTarget]:
        """The targets to crawl with Chromium now (each page once per check)."""
        targets = list(self._held.values())
        self._targets = {target.page_id: target for target in targets}
        self._rereading = set(self._held)
        self._held.clear()
        return targets


def page_tree(raw: bytes, content_type: str | None, url: str) -> HtmlElement | None:
    """The page's tree for reading comments; None when it cannot be parsed."""
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
    *,
    may_skip: bool = True,
) -> CommentsResult | None:
    """The comments printed in the page, or None when there are none and none were expected.

    With ``may_skip``, a thread whose markup is what the last read read is not read again: the
    result says so (``same_as_last``) and the recorder takes the last read's comments.
    """
    source = CommentSource(INLINE, page_url, "config" if INLINE in plan.kinds else "detected")
    state = plan.state_of(source)
    markup = comment_markup(tree, page_url, plan.selectors, raw, shown)
    fingerprint = markup.fingerprint
    if may_skip and fingerprint is not None and state is not None and state.read_fp == fingerprint:
        return CommentsResult(
            page_id=page_id, page_url=page_url,
            source=CommentSource(INLINE, page_url, source.origin, (("method", "wordpress"),)),
            fetched_at=time.time(), shown_count=shown, read_fp=fingerprint, same_as_last=True,
        )
    read = read_inline(tree, page_url, plan.selectors, raw, markup)
    known = state is not None
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
        read_fp=fingerprint,
    )
