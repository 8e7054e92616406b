"""The Scrapy item pipeline that hands each fetch result to the recorder.

Scrapy builds it from ``ITEM_PIPELINES``; the recorder and a progress callback come in through
the crawler settings, so ``spiders/`` never imports ``monitor/``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from spiders.items import FetchResult

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from monitor.record import Outcome, Recorder

logger = logging.getLogger(__name__)

RECORDER_SETTING = "VEILLE_RECORDER"
ON_OUTCOME_SETTING = "VEILLE_ON_OUTCOME"


class StorePipeline:
    """Record every :class:`FetchResult` as it arrives (one transaction each)."""

    def __init__(self, recorder: Recorder, on_outcome: Callable[[Outcome], None] | None) -> None:
        self.recorder = recorder
        self.on_outcome = on_outcome

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        """Take the recorder the check cycle put in the settings."""
        return cls(crawler.settings[RECORDER_SETTING], crawler.settings.get(ON_OUTCOME_SETTING))

    def process_item(self, item: Any) -> Any:
        """Store one result; an error here is logged and the crawl goes on."""
        if not isinstance(item, FetchResult):
            return item
        from monitor.record import Outcome

        try:
            outcome = self.recorder.record(item)
        except Exception as exc:  # one bad page never stops the cycle
            logger.exception("could not record %s", item.url)
            outcome = Outcome(item.url, "store_error", error=f"{type(exc).__name__}: {exc}")
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return item
