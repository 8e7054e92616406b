"""The exceptions of discovery (the tree is drawn in :mod:`spiders.discovery`).

Each carries its data as attributes and a message that says what went wrong and what to do.
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

from spiders.errors import SpiderError


class DiscoveryError(SpiderError):
    """A discovery source could not be read."""

    def __init__(self, message: str, *, url: str | None = None, reason: str = "error") -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason


class FeedError(DiscoveryError):
    """A feed is malformed, hostile or not a feed at all."""


class SitemapError(DiscoveryError):
    """A sitemap is malformed, hostile or not a sitemap at all."""


class ListingError(DiscoveryError):
    """A search or listing page source is misconfigured."""


class BlockedAddress(IgnoreRequest):
    """The SSRF guard refused a request: its host is (or resolves to) a forbidden address.

    The message starts with ``blocked_address:`` so logs and stored errors are easy to grep.
    """

    def __init__(self, url: str, reason: str, address: str | None = None) -> None:
        where = f" ({address})" if address else ""
        super().__init__(
            f"blocked_address: {url}{where}: {reason}; allow the network in `allow_networks` "
            "if this address is really meant to be fetched"
        )
        self.url = url
        self.reason = reason
        self.address = address
