"""The watch spider: fetch a list of known article URLs and yield one FetchResult each.

It sends conditional GETs (If-None-Match / If-Modified-Since), lets Scrapy's own middlewares do
robots.txt, politeness, retries and redirects, and turns whatever happens into a fetch state.
Extraction can run in a process pool (``extract_workers``) so a large cycle uses every core.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

import scrapy

from spiders.browser import BrowserSettings, browser_meta
from spiders.comments.items import CommentsResult
from spiders.comments.spider import PARSED_STATES, comment_work, page_tree
from spiders.fetchstate import classify_failure, extract_page, result_from_response
from spiders.fingerprint import quick_check
from spiders.items import Extracted, FetchResult, WatchTarget

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# Below this many pages a pool costs more to start than it saves.
POOL_THRESHOLD = 64


class WatchSpider(scrapy.Spider):
    """Fetch watched pages; yield :class:`FetchResult` items."""

    name = "veille-watch"
    # We judge every status ourselves (304, 404, 410, 5xx after retries).
    custom_settings: dict[str, Any] = {"HTTPERROR_ALLOW_ALL": True}

    def __init__(
        self,
        targets: Sequence[WatchTarget] = (),
        sink: Callable[[FetchResult], None] | None = None,
        extract_workers: int = 0,
        max_size: int = 10 * 1024 * 1024,
        browser: BrowserSettings | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Targets with render = "browser", and Disqus threads, go to Chromium (the crawl's
        # settings must enable it).
        self.browser = browser
        self.targets = list(targets)
        # Where results go: the item pipeline calls it (it lives in monitor/, not here).
        self.sink = sink
        self.max_size = max_size
        # Pages without a fingerprint need a full extraction (~10 ms); only many of them pay for
        # starting workers (about 1 s of imports and 60 MB each). Quick checks (~2 ms) stay
        # here: measured, a worker for them gained 12 % in pages/s for 100 MB more memory.
        full = sum(1 for t in self.targets if not t.region_fp)
        self._executor = _pool(extract_workers) if extract_workers > 1 and full >= POOL_THRESHOLD else None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One conditional GET per target; a rendered page is always fetched in full."""
        for target in self.targets:
            headers: dict[str, str] = {}
            meta: dict[str, Any] = {"veille_target": target, "veille_started": time.monotonic()}
            if target.render == "browser" and self.browser is not None:
                meta.update(browser_meta(self.browser))
            else:
                if target.etag:
                    headers["If-None-Match"] = target.etag
                if target.last_modified:
                    headers["If-Modified-Since"] = target.last_modified
            yield scrapy.Request(
                target.url,
                headers=headers,
                callback=self.parse,
                errback=self.on_error,
                dont_filter=True,
                meta=meta,
            )

    async def parse(
        self, response: Response, **kwargs: Any
    ) -> AsyncIterator[FetchResult | CommentsResult | scrapy.Request]:
        """Judge the response, then extract the article when there is one to extract."""
        target: WatchTarget = response.meta["veille_target"]
        result, needs_extraction = result_from_response(target, response, max_size=self.max_size)
        result = replace(result, duration_ms=_ms_since(response.meta))
        tree = early = None
        if needs_extraction and result.raw is not None and target.comments is not None:
            # One parse serves both sides: the comments are read first, since the fast path
            # strips the tree in place. They are used only if the page proves readable.
            tree = page_tree(result.raw, result.content_type, response.url)
            if tree is not None:
                early = comment_work(
                    response, replace(result, state="ok"), target.comments, self.browser, tree
                )
        if needs_extraction and result.raw is not None:
            done = await self._extract(
                target, result.raw, result.content_type, response.url, tree
            )
            result = replace(
                result, state=done.state, article=done.article, encoding=done.encoding,
                error=done.error, extras={"region": done.region, "region_fp": done.region_fp},
            )
        yield result
        if target.comments is not None:
            # Reader comments: the inline ones as a result, one request per external thread
            # (a Disqus thread goes to Chromium when this crawl has it).
            if early is not None and result.state in PARSED_STATES:
                work = early
            else:
                work = comment_work(response, result, target.comments, self.browser)
            for item in work:
                yield item

    async def _extract(
        self,
        target: WatchTarget,
        raw: bytes,
        content_type: str | None,
        url: str,
        tree: HtmlElement | None = None,
    ) -> Extracted:
        """The fast path first (a fingerprint), the full extraction only when it says so.

        ``tree``, the page already parsed, saves the fast path a parse (and is stripped by it).
        """
        args = (raw, content_type, url, target.selector, target.ignore)
        # After a redirect the page may have moved: no shortcut, judge it in full.
        region_fp = target.region_fp if url == target.url else None
        if region_fp and target.region:
            done = quick_check(*args, target.region, region_fp, tree)
            if done is not None:
                return done
        if self._executor is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, extract_page, *args)
        return extract_page(*args)

    def on_error(self, failure: Failure) -> FetchResult:
        """A download that failed for good (after Scrapy's retries)."""
        request = failure.request  # type: ignore[attr-defined]
        target: WatchTarget = request.meta["veille_target"]
        state, error = classify_failure(failure)
        error = error.splitlines()[0] if error else error  # Playwright appends a call log
        logger.debug("fetch of %s failed: %s (%s)", target.url, state, error)
        response = getattr(failure.value, "response", None)
        return FetchResult(
            page_id=target.page_id,
            url=target.url,
            state=state,
            fetched_at=time.time(),
            duration_ms=_ms_since(request.meta),
            http_status=getattr(response, "status", None),
            error=error,
        )

    async def closed(self, reason: str) -> None:  # noqa: D401 - Scrapy hook
        """Shut the extraction pool down with the spider."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


def _pool(workers: int) -> Executor:
    # spawn: forking a process that runs a reactor and threads is unsafe, and workers that are
    # our own children can ask to die with us (see _die_with_parent).
    return ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_die_with_parent
    )


def _die_with_parent() -> None:
    """Worker start-up: on Linux, ask for SIGKILL when the parent dies (even by kill -9)."""
    try:
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown still applies
        pass


def _ms_since(meta: dict[str, Any]) -> int:
    started = meta.get("veille_started")
    return int((time.monotonic() - started) * 1000) if isinstance(started, float) else 0
