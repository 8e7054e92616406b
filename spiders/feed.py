"""The feed spider: one long-lived watch crawl that the daemon's scheduler keeps feeding.

A crawl per cycle would rebuild Scrapy's engine, connection pools, robots.txt cache and (later)
the browser every few seconds. Instead this spider's ``start()`` never runs dry: it waits on an
:class:`asyncio.Queue` for batches of :class:`~spiders.items.WatchTarget` and turns each into the
same conditional GETs as :class:`~spiders.watch.WatchSpider`, whose ``parse`` and ``on_error``
it reuses. ``None`` on the queue ends the feed; the spider then closes once its last fetch is
done. Results go to ``sink``, as for the watch spider.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from spiders.watch import WatchSpider

if TYPE_CHECKING:
    from collections.abc import Sequence

    import scrapy
    from scrapy.crawler import Crawler

    from spiders.items import WatchTarget

logger = logging.getLogger(__name__)

class FeedSpider(WatchSpider):
    """A watch spider that stays open and fetches whatever batches arrive on ``queue``."""

    name = "veille-feed"

    def __init__(self, queue: asyncio.Queue[Sequence[WatchTarget] | None], **kwargs: Any) -> None:
        # No extraction pool: a daemon's batches are small and mostly 304s or fingerprint
        # matches, and idle worker processes would cost ~60 MB each.
        kwargs["extract_workers"] = 0
        super().__init__(targets=(), **kwargs)
        self.queue = queue
        self.feed_open = True

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FeedSpider:
        """Scrapy's constructor hook: also keep the spider open while it waits for work."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The requests of each batch as it arrives; returns when the feed is closed."""
        while True:
            batch = await self.queue.get()
            if batch is None:
                self.feed_open = False
                logger.debug("feed closed")
                return
            self.targets = list(batch)
            async for request in super().start():
                yield request

    def on_idle(self) -> None:
        """Nothing to download right now: stay open while the feed is (Scrapy's idle signal)."""
        if self.feed_open:
            raise DontCloseSpider
