"""Keep Chromium pages open and send the next rendered page through one of them.

scrapy-playwright opens a new page (a new tab, so a new renderer process) for every request and
closes it after. For veille's pages that is most of the work: measured on the test pages with
Debian's chromium, a page reused for the next same-site URL costs half the CPU (195 against
365 ms per page, the whole machine counted) and, with 8 pages, 10.9 pages/s against 6.0.

This downloader middleware asks scrapy-playwright to leave each article page open
(``playwright_include_page``), takes it back as soon as the response is built, and hands it to
the next article request (``playwright_page``). At most ``size`` pages are in use or idle at
once. A request that fails (a timeout, a page that hangs, a crashed tab) closes its page: the
next request gets a new one. Only requests made by :func:`spiders.browser.browser_meta` are
pooled; the Disqus reader opens and closes its own pages.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

POOLED = "veille_pooled_page"  # meta: this request holds one of the pool's slots
# A tab that has shown this many pages is closed and replaced: Chromium and Playwright keep a
# little of every page a tab has shown, and over 1,000 pages that added up to 0.5 GB.
MAX_USES = 50


class BrowserPagePool:
    """Downloader middleware: reuse open Chromium pages for rendered article requests."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._slots: asyncio.Semaphore | None = None  # made on the running loop
        self._idle: list[Any] = []  # open pages waiting for a request (Playwright Page objects)
        self._uses: dict[Any, int] = {}  # pages shown, by open Page

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserPagePool:
        return cls(crawler.settings.getint("VEILLE_BROWSER_PAGES", 4))

    async def process_request(self, request: Request) -> None:
        """Wait for a free slot, then give the request an idle open page if there is one."""
        meta = request.meta
        article = meta.get("playwright") and meta.get("veille_render") == "browser"
        if not article or meta.get("playwright_include_page") or meta.get(POOLED):
            return  # not an article render, or a reader that manages its page itself
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        await self._slots.acquire()
        meta[POOLED] = True
        meta["playwright_include_page"] = True
        while self._idle:
            page = self._idle.pop()
            if not page.is_closed():
                meta["playwright_page"] = page
                break
            self._uses.pop(page, None)  # closed meanwhile (a crash): forget it

    async def process_response(self, request: Request, response: Response) -> Response:
        """The response is built: the page goes back to the idle pages (or, worn, is closed)."""
        page = self._release(request)
        if page is not None and not page.is_closed():
            uses = self._uses.get(page, 0) + 1
            if uses >= MAX_USES:
                await self._close(page, request)
            else:
                self._uses[page] = uses
                self._idle.append(page)
        return response

    async def process_exception(self, request: Request, exception: BaseException) -> None:
        """A failed render: its page may hang or be broken, so it is closed, never reused."""
        page = self._release(request)
        if page is not None and not page.is_closed():
            await self._close(page, request)

    async def _close(self, page: Any, request: Request) -> None:
        self._uses.pop(page, None)
        try:
            await page.close()
        except Exception as exc:  # the browser may be gone already
            logger.debug("closing the page of %s failed: %s", request.url, exc)

    def _release(self, request: Request) -> Any:
        """Free the request's slot; its page, taken out of the meta (a retry must not share it)."""
        meta = request.meta
        if not meta.pop(POOLED, False):
            return None
        meta.pop("playwright_include_page", None)
        if self._slots is not None:
            self._slots.release()
        return meta.pop("playwright_page", None)
