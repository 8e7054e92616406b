"""``python -m tests.discovery.rebinding URL``: fetch URL as if DNS rebinding fooled the middleware.

The SSRF middleware's own lookup is made to answer "public" (what a rebinding name answers
first); the connection then resolves the name again, through the resolver the middleware
installed. Prints one JSON line: how the fetch ended (and the fetch state it is stored as).
``python -m tests.discovery.rebinding veille ARGS…`` runs the real ``veille ARGS…`` fooled the
same way. Used by test_ssrf.py (FAULTS F18).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import scrapy

from monitor.config import HttpSettings
from monitor.crawl import run_in_reactor, scrapy_settings
from spiders.discovery.ssrf import SSRFGuardMiddleware
from spiders.fetchstate import classify_failure

results: list[dict[str, Any]] = []


class OneFetch(scrapy.Spider):
    """Fetch one URL; record how it ended."""

    name = "one-fetch"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url

    async def start(self) -> Any:
        """The one request."""
        yield scrapy.Request(self.url, callback=self.ok, errback=self.failed, dont_filter=True)

    def ok(self, response: Any) -> None:
        """It was fetched."""
        results.append({"fetched": True, "status": response.status})

    def failed(self, failure: Any) -> None:
        """It was not."""
        state, error = classify_failure(failure)
        results.append({"fetched": False, "error": type(failure.value).__name__,
                        "state": state, "detail": error})


async def _fooled(self: SSRFGuardMiddleware, host: str, port: int | None) -> None:
    return None


def main() -> None:
    """Run the fetch with an allowlist that excludes the URL's address."""
    import logging

    from scrapy.crawler import AsyncCrawlerRunner

    SSRFGuardMiddleware._name_problem = _fooled  # type: ignore[method-assign]
    if sys.argv[1] == "veille":  # the real command line, fooled the same way
        from monitor.cli import cli

        cli(sys.argv[2:])  # exits with the command's code
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("scrapy").setLevel(logging.ERROR)
    settings = scrapy_settings(HttpSettings(obey_robots_txt=False, retries=0), ["10.0.0.0/8"])
    settings["ITEM_PIPELINES"] = {}

    async def crawl() -> None:
        await AsyncCrawlerRunner(settings).crawl(OneFetch, url=sys.argv[1])

    run_in_reactor(crawl)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
