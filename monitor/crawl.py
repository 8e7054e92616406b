"""Scrapy settings from veille's config, and running crawls in this process.

The asyncio reactor is installed once per process (Playwright needs it later); every crawl of a
process goes through one :class:`AsyncCrawlerRunner`, so a cycle can run several crawls in a
row (a confirming re-fetch) without ``ReactorNotRestartable``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from monitor.config import HttpSettings
    from spiders.browser import BrowserSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def scrapy_settings(
    http: HttpSettings, allow_networks: Sequence[str] = (), browser: BrowserSettings | None = None
) -> dict[str, Any]:
    """Scrapy settings for a watch crawl; politeness and limits come from Scrapy itself.

    ``allow_networks`` (the config's) are the private networks the SSRF guard lets through.
    With ``browser``, requests marked ``playwright`` are rendered in Chromium: pass it only for
    a crawl that has such requests, as the handler starts a Node driver (~240 MB) every crawl.
    """
    settings = _http_settings(http, allow_networks)
    if browser is not None:
        from spiders.browser import playwright_settings

        extra = playwright_settings(browser, allow_networks)
        for table in ("DOWNLOAD_HANDLERS", "DOWNLOADER_MIDDLEWARES"):
            settings[table] = {**settings[table], **extra.pop(table)}
        settings.update(extra)
    _drop_unused_components(settings)
    return settings


def _http_settings(http: HttpSettings, allow_networks: Sequence[str]) -> dict[str, Any]:
    """The settings of every crawl, with or without a browser."""
    return {
        "BOT_NAME": "veille",
        "USER_AGENT": http.user_agent,
        "ROBOTSTXT_OBEY": http.obey_robots_txt,
        "CONCURRENT_REQUESTS": http.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": http.concurrency_per_domain,
        "DOWNLOAD_DELAY": http.download_delay,
        "AUTOTHROTTLE_ENABLED": http.autothrottle,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(http.concurrency_per_domain),
        # Scrapy starts every site at 5 s between requests; veille's pages are few per site
        # per cycle, so start lower and let the measured latency set the pace.
        "AUTOTHROTTLE_START_DELAY": max(http.download_delay, 0.5),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "DOWNLOAD_TIMEOUT": http.timeout,
        "DNS_TIMEOUT": min(http.timeout, 20.0),
        "DOWNLOAD_MAXSIZE": http.max_response_size,
        "DOWNLOAD_WARNSIZE": http.max_response_size // 2,
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "REDIRECT_MAX_TIMES": http.max_redirects,
        "RETRY_TIMES": http.retries,
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",
        # A cookie jar would make pages differ by session; watching wants the public page.
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 opens a remote-control HTTP port per crawl: a daemon must not.
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_ENABLED": True,
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        # Only http and https: a watched or discovered URL must never read local files.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
        "DOWNLOADER_MIDDLEWARES": {
            # Before anything else, on every request and redirect hop: no private address.
            "spiders.discovery.ssrf.SSRFGuardMiddleware": 50,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "monitor.backoff.BackoffRetryMiddleware": 550,
            # Scrapy's own, minus decoding every page to look for a refresh (spiders/metarefresh).
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "spiders.metarefresh.QuickMetaRefreshMiddleware": 580,
        },
        # Each response yields one result: Scrapy's default of 100 parallel item workers per
        # response costs 100 asyncio tasks each time (a third of a 304 cycle's CPU).
        "CONCURRENT_ITEMS": 1,
        "ITEM_PIPELINES": {"monitor.pipeline.StorePipeline": 300},
        # Every middleware costs a few async hops per request; these do nothing for known URLs.
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            # Warns when a spider copies Scrapy's own meta keys into new requests; this one
            # builds every request itself, and the check wraps each response's output in one
            # async generator less.
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
        },
        "EXTENSIONS": {
            "scrapy.extensions.logstats.LogStats": None,
            "scrapy.extensions.memusage.MemoryUsage": None,
        },
        # Byte counts per request that nothing here reads (about 1 % of a cycle's CPU).
        "DOWNLOADER_STATS": False,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        # Scrapy 2.19's own lets a site get every queued request at once (see the module).
        "DOWNLOADER": "spiders.downloader.PoliteDownloader",
        # The SSRF guard (spiders.discovery.ssrf): the resolver used for each connection
        # refuses private answers too (DNS rebinding), except in the allowed networks.
        "TWISTED_DNS_RESOLVER": "spiders.discovery.ssrf.GuardedResolver",
        "VEILLE_ALLOW_NETWORKS": list(allow_networks),
    }


# Scrapy imports every default component, even one its setting turns off; these pull in
# aiohttp, tldextract, requests and ftplib: about 12 MB of a daemon that idles under 100 MB, and
# half a second at the start of every `veille check`. Each is dropped only when veille's
# settings disable it anyway: path -> (table, setting that turns it on).
_UNUSED_COMPONENTS: Final = {
    "scrapy.extensions.remote_control.RemoteControl": ("EXTENSIONS_BASE", "REMOTE_CONTROL_ENABLED"),
    "scrapy.extensions.telnet.TelnetConsole": ("EXTENSIONS_BASE", "TELNETCONSOLE_ENABLED"),
    "scrapy.extensions.feedexport.FeedExporter": ("EXTENSIONS_BASE", "FEEDS"),
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": (
        "DOWNLOADER_MIDDLEWARES_BASE", "COOKIES_ENABLED",
    ),
}


def _drop_unused_components(settings: dict[str, Any]) -> None:
    """Leave out of Scrapy's base tables the components ``settings`` turn off (in place)."""
    from scrapy.settings import default_settings

    for path, (table, setting) in _UNUSED_COMPONENTS.items():
        if settings.get(setting):  # on (or a feed configured): keep the component
            continue
        base = settings.setdefault(table, dict(getattr(default_settings, table)))
        base.pop(path, None)


# What a crawl imports besides its components (engine, scheduler, HTTP client, signals).
_CRAWL_MODULES: Final = (
    "scrapy.crawler", "scrapy.core.engine", "scrapy.core.scheduler", "scrapy.core.scraper",
    "scrapy.core.downloader.middleware", "scrapy.core.spidermw", "scrapy.pqueues",
    "scrapy.squeues", "scrapy.dupefilters", "scrapy.statscollectors", "scrapy.logformatter",
    "scrapy.resolver", "scrapy.spiderloader", "twisted.web.client", "spiders.watch",
)
# Settings that name one class each; the component tables are read with their base.
_CLASS_SETTINGS: Final = (
    "SCHEDULER", "SCHEDULER_PRIORITY_QUEUE", "SCHEDULER_MEMORY_QUEUE", "DUPEFILTER_CLASS",
    "STATS_CLASS", "LOG_FORMATTER", "DOWNLOADER", "TWISTED_DNS_RESOLVER",
)
# Tables of class path -> order (None: off).
_COMPONENT_TABLES: Final = (
    "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "ITEM_PIPELINES",
)


def import_crawl_modules(settings: dict[str, Any]) -> None:
    """Import what a crawl with ``settings`` loads, without starting it.

    Called before the processes of a parallel check are forked: they then share these modules
    (about 10 MB) instead of each importing its own copy once its crawl starts.
    """
    import importlib

    from scrapy.settings import Settings
    from scrapy.utils.misc import load_object

    from monitor.quickstack import callers_without_source

    loaded = Settings(settings)
    paths = [loaded.get(name) for name in _CLASS_SETTINGS]
    for table in _COMPONENT_TABLES:
        paths.extend(path for path, order in loaded.getwithbase(table).items() if order is not None)
    # Download handlers are the other way round: scheme -> class path (None: off).
    paths.extend(loaded.getwithbase("DOWNLOAD_HANDLERS").values())
    with callers_without_source():  # 35 ms less of Scrapy's TLS imports (monitor.quickstack)
        for module in _CRAWL_MODULES:
            importlib.import_module(module)
        for path in paths:
            if isinstance(path, str):
                try:
                    load_object(path)
                except (ImportError, NameError, ValueError):  # the crawl will say so, clearly
                    logger.debug("could not import %s ahead of the crawl", path)


def freeze_crawl_imports(http: HttpSettings, allow_networks: Sequence[str] = ()) -> None:
    """Import what a crawl loads, then keep the garbage collector off every object so far.

    Those objects live as long as the process: full collections walked them all (57 ms of a
    1,000-page check, 14 ms once frozen), and in forked processes wrote to each one's header.
    """
    from monitor.lifetime import start_up

    with start_up():
        import_crawl_modules(scrapy_settings(http, allow_networks))


def extract_workers() -> int:
    """Worker processes for extraction: every core but one is left to Scrapy's own loop."""
    configured = os.environ.get("VEILLE_EXTRACT_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    return os.cpu_count() or 1


def run_in_reactor(main: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine function ``main`` on the asyncio reactor and return its result.

    Starts (and stops) the reactor; call once per process.
    """
    from scrapy.utils.reactor import install_reactor

    install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import reactor

    box: dict[str, Any] = {}

    async def wrapper() -> None:
        try:
            box["result"] = await main()
        except BaseException as exc:  # re-raised below, outside the reactor
            box["error"] = exc
        finally:
            reactor.callLater(0, reactor.stop)  # type: ignore[attr-defined]

    reactor.callWhenRunning(lambda: asyncio.ensure_future(wrapper()))  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]
    if "error" in box:
        raise box["error"]
    if "result" not in box:  # a signal (Ctrl-C, SIGTERM) stopped the reactor before main ended
        raise KeyboardInterrupt
    return box["result"]  # type: ignore[no-any-return]
