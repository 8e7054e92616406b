"""scrapy-playwright's download handler, made once per crawl for both http and https.

Scrapy builds one download handler per URL scheme, at the start of every crawl, and each
scrapy-playwright handler starts its own Playwright driver (a Node process of about 80 MB) and,
at its first page, its own Chromium. A crawl that renders pages needs one of each: this handler
class hands Scrapy the same instance for both schemes and closes it once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

_ON_CRAWLER = "_veille_playwright_handler"


class SharedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """One scrapy-playwright handler (one driver, one browser) per crawler."""

    _veille_closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPlaywrightHandler:  # type: ignore[override]
        handler = getattr(crawler, _ON_CRAWLER, None)
        if not isinstance(handler, cls):
            handler = cls(crawler)
            setattr(crawler, _ON_CRAWLER, handler)
        return handler

    async def close(self) -> None:  # type: ignore[override]
        """Close the browser and the driver once, though Scrapy closes each scheme's handler."""
        if self._veille_closed:
            return
        self._veille_closed = True
        await super().close()
