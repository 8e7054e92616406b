"""The Scrapy item pipeline that hands each fetch result to the cycle's recorder.

Scrapy builds it from ``ITEM_PIPELINES``; the recorder travels as the spider's ``sink`` keyword
(settings are deep-copied, a database connection cannot be), so ``spiders/`` never imports
``monitor/``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from spiders.comments.items import CommentsResult
from spiders.items import FetchResult

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class StorePipeline:
    """Pass every :class:`FetchResult` to the spider's ``sink`` as it arrives."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        """Scrapy's constructor hook."""
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        """Store one result; an error here is logged and the crawl goes on."""
        if not isinstance(item, FetchResult | CommentsResult):  # reader comments go there too
            return item
        sink: Callable[[FetchResult], None] | None = getattr(self.crawler.spider, "sink", None)
        url = item.url if isinstance(item, FetchResult) else item.page_url
        if sink is None:
            logger.warning("no result sink on the spider; %s is not recorded", url)
            return item
        try:
            sink(item)
        except Exception:  # one bad page never stops the cycle
            logger.exception("could not record %s", url)
        return item
