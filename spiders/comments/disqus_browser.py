"""Reading a Disqus thread in Chromium: the article page, its Disqus frame, every "load more".

One scrapy-playwright request renders the article page and keeps its Playwright page open
(``playwright_include_page``). The callback then finds the thread's frame (``#disqus_thread
iframe``; on a real site it comes from disqus.com, another origin, which Playwright reads all the
same), waits for its posts, clicks "load more" until it is gone or the thread's budget
(``comment_budget``) is spent, and hands the frame's HTML to
:func:`spiders.comments.disqus.parse_embed`. The page is always closed, in the callback or, when
the render itself failed, in the errback.

Nothing is concluded from a read that did not finish: a missing frame, a timeout, a "load more"
that failed or brought nothing, a budget spent, a count above what was read — the result is
``partial`` (or ``error`` when nothing was read), and no comment is marked deleted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import scrapy

from spiders.browser import BrowserSettings, browser_meta
from spiders.comments.disqus import EmbedRead, parse_embed
from spiders.comments.items import DISQUS, CommentsResult
from spiders.comments.readers import ThreadRead
from spiders.fetchstate import classify_failure

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

FRAME_HOST = "#disqus_thread iframe"
POSTS = "li.post"
# True once Disqus's app has drawn the thread: its list, with posts unless threadData (served
# with the frame) says there are none. An empty thread draws an empty list.
THREAD_DRAWN = """() => {
  if (!document.querySelector('#post-list, ul.post-list')) return false;
  if (document.querySelector('li.post')) return true;
  const data = document.getElementById('disqus-threadData');
  if (!data) return true;
  try { return !(JSON.parse(data.textContent).response.posts || []).length; }
  catch (error) { return true; }
}"""
LOAD_MORE = '[data-action="more-posts"], .load-more__button'
# Requests the frame's app makes; a failed one while loading more makes the read partial.
_APP_REQUESTS = frozenset({"xhr", "fetch"})
# How often the wait for new posts also looks for a failed request (ms).
_POLL_MS = 250


@dataclass
class DisqusBrowserRead(ThreadRead):
    """One run's reading of one Disqus thread in Chromium."""

    browser: BrowserSettings = field(default_factory=BrowserSettings)
    clicks: int = 0

    def start(self) -> scrapy.Request:
        """The article page, rendered, with its Playwright page handed to :meth:`on_page`."""
        meta = browser_meta(self.browser)
        meta.update({
            "playwright_include_page": True,
            "veille_comments": DISQUS,
            "handle_httpstatus_all": True,
            # A render that failed is not tried again within the run: the next check reads on.
            "dont_retry": True,
        })
        self.requests += 1
        return scrapy.Request(
            self.page_url, callback=self.on_page, errback=self.on_render_failure,
            dont_filter=True, meta=meta,
        )

    async def on_page(self, response: Response) -> AsyncIterator[CommentsResult]:
        """Read the frame, then close the page whatever happened."""
        page = response.meta.get("playwright_page")
        try:
            if page is None:
                result = self.outcome(error="the browser handed back no page")
            elif response.status >= 400:
                result = self.outcome(error=f"HTTP {response.status} on {response.url}")
            else:
                result = await self.read(page)
        except Exception as exc:  # a browser error must end as a partial read, never a crash
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            result = self.outcome(error=f"reading the Disqus frame failed: {message}")
        finally:
            if page is not None:
                await close_page(page)
        yield result

    async def on_render_failure(self, failure: Failure) -> AsyncIterator[CommentsResult]:
        """The render failed (timeout, refused…): close the page if one was opened."""
        request = getattr(failure, "request", None)
        page = request.meta.get("playwright_page") if request is not None else None
        if page is not None:
            await close_page(page)
        state, error = classify_failure(failure)
        error = error.splitlines()[0] if error else error  # Playwright appends a call log
        yield self.outcome(error=f"{state} on {self.page_url}: {error}")

    async def read(self, page: Any) -> CommentsResult:
        """Find the frame, wait for its posts, load them all, parse them."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        timeout = self.browser.timeout * 1000
        try:
            await page.wait_for_selector(FRAME_HOST, state="attached", timeout=timeout)
        except PlaywrightTimeout:
            return self.outcome(error=f"no Disqus frame in the page after {self.browser.timeout:g} s")
        frame = await _thread_frame(page)
        if frame is None:
            return self.outcome(error="the Disqus frame has no document")
        failed = _watch_failures(page, frame)
        try:
            await frame.wait_for_function(THREAD_DRAWN, timeout=timeout)
        except PlaywrightTimeout:
            return self.outcome(
                error=f"the Disqus frame drew no thread within {self.browser.timeout:g} s"
            )
        more, error = await self.load_all(frame, failed)
        html = await frame.content()
        return self.outcome(html=html, frame=True, more=more, error=error)

    async def load_all(self, frame: Any, failed: list[str]) -> tuple[bool, str | None]:
        """Click "load more" until it is gone: (more left, why the loading stopped early)."""
        button = frame.locator(LOAD_MORE).first
        timeout = self.browser.timeout * 1000
        while await button.is_visible():
            if self.requests >= self.max_requests:
                return True, (
                    f"budget of {self.max_requests} requests spent with more comments to load"
                )
            before = await frame.locator(POSTS).count()
            seen = len(failed)
            await button.click(timeout=timeout)
            self.requests += 1
            self.clicks += 1
            error = await self._wait_for_more(frame, before, failed, seen)
            if error is not None:
                return True, error
        return False, None

    async def _wait_for_more(
        self, frame: Any, before: int, failed: list[str], seen: int
    ) -> str | None:
        """None once new posts are drawn; else why not (a failed request, the timeout)."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.browser.timeout
        grown = f"n => document.querySelectorAll({POSTS!r}).length > n"
        while True:
            if len(failed) > seen:
                return f"loading more comments failed: {failed[seen]}"
            remaining = deadline - loop.time()
            if remaining <= 0:
                return f"'load more' drew no new comments within {self.browser.timeout:g} s"
            try:
                await frame.wait_for_function(
                    grown, arg=before, timeout=min(_POLL_MS, remaining * 1000)
                )
                return None
            except PlaywrightTimeout:
                continue

    def outcome(
        self, *, html: str = "", frame: bool = False, more: bool = False, error: str | None = None
    ) -> CommentsResult:
        """The result of this read: complete only when nothing was left out or failed."""
        read = parse_embed(html, self.page_url) if html else EmbedRead()
        errors = [error] if error else []
        if read.unreadable:
            errors.append(f"{len(read.unreadable)} comments drawn without their text")
        if frame and read.has_more and self.clicks == 0 and not more:
            errors.append("the thread lists more comments than the frame drew, with no 'load more'")
        shown = read.count if read.count is not None else self.shown_count
        comments = tuple(read.comments)
        if frame and not errors and read.count is not None and len(comments) < read.count:
            errors.append(f"read {len(comments)} of the {read.count} comments Disqus counts")
        self.errors.extend(errors)
        complete = frame and not more and not errors
        if errors:
            logger.info("comments of %s (disqus): %s", self.page_url, "; ".join(errors))
        state = "ok" if complete else "partial" if comments else "error"
        self.shown_count = shown
        return self.result(
            comments=comments, complete=complete, state=state, error="; ".join(errors) or None,
        )

    def finish(self) -> CommentsResult:
        """ThreadRead's hook (unused here: every path above ends in :meth:`outcome`)."""
        return self.outcome(error="the read stopped early")


async def close_page(page: Any) -> None:
    """Close a Playwright page; a browser that is gone already has closed it."""
    from playwright.async_api import Error as PlaywrightError

    try:
        if not page.is_closed():
            await page.close()
    except PlaywrightError:
        logger.debug("disqus: the page was gone already", exc_info=True)


async def _thread_frame(page: Any) -> Any:
    """The frame of the thread: the ``#disqus_thread`` iframe that embeds comments, else the first."""
    hosts = await page.query_selector_all(FRAME_HOST)
    chosen = None
    for host in hosts:
        src = await host.get_attribute("src") or ""
        if "/embed/comments" in src:
            chosen = host
            break
    chosen = chosen or (hosts[0] if hosts else None)
    return await chosen.content_frame() if chosen is not None else None


def _watch_failures(page: Any, frame: Any) -> list[str]:
    """A list that grows with every request of the frame's app that fails (4xx, 5xx, network)."""
    failed: list[str] = []

    def on_response(response: Any) -> None:
        request = response.request
        if response.status >= 400 and _of_frame(request, frame):
            failed.append(f"HTTP {response.status} on {response.url}")

    def on_failed(request: Any) -> None:
        if _of_frame(request, frame):
            failed.append(f"{request.failure or 'failed'} on {request.url}")

    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    return failed


def _of_frame(request: Any, frame: Any) -> bool:
    """True for an XHR or fetch the thread's frame made."""
    try:
        return request.resource_type in _APP_REQUESTS and request.frame == frame
    except Exception:  # a request of a worker has no frame
        return False
