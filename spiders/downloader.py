"""Scrapy's downloader, with a site's concurrency limit that holds.

In Scrapy 2.19, ``Downloader._process_queue`` hands queued requests to tasks that only mark
themselves as transferring once they start running, so one pass of its loop sees every slot
free and sends a site all its queued requests at once: measured on 127.0.0.1, 15 requests in
flight to one host with ``CONCURRENT_REQUESTS_PER_DOMAIN = 2``. This copy of the method marks
a request as transferring before its task is scheduled, so the loop stops at the limit. Marking
it twice is harmless: ``transferring`` is a set, and the task removes the request when done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core import downloader as scrapy_downloader

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot


class PoliteDownloader(scrapy_downloader.Downloader):
    """``DOWNLOADER`` for every veille crawl: per-domain concurrency as configured."""

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return  # a download delay is running: its timer calls us again
        now = scrapy_downloader.monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = scrapy_downloader.call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # the fix: counted before the task runs
            scrapy_downloader._schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:  # one request per delay
                self._process_queue(slot)
                break
