"""Search and listing pages: build the URL of each page, read its result links, find the next one.

A search source is a URL template such as ``https://www.example.org/recherche?q={query}`` (the
query is URL-encoded into ``{query}``) and, for pagination, either a ``{page}`` placeholder
(pages 1, 2, 3 ...) or a "next" link (the source's ``next_selector``, else ``<link rel=next>``
or ``<a rel=next>``). A listing source is the same without ``{query}``.

Pagination always ends: at ``max_pages``, at a page that lists no link not seen before (a site
that answers every page number with the same results), or at a "next" URL already visited (a
loop). The spider notes which limit stopped it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import quote_plus, urljoin, urlsplit

from cssselect import SelectorError

from spiders.discovery.errors import ListingError
from spiders.items import normalise_line

if TYPE_CHECKING:
    from parsel import Selector

logger = logging.getLogger(__name__)

QUERY = "{query}"
PAGE = "{page}"


def page_url(template: str, query: str | None, page: int) -> str:
    """The URL of result page ``page`` (from 1): ``{query}`` and ``{page}`` filled in."""
    if QUERY in template and not query:
        raise ListingError(
            f"{template}: the URL template has {QUERY} but the source has no query; add "
            "query = \"…\" to the source or a query to its topic",
            url=template, reason="bad_template",
        )
    url = template.replace(QUERY, quote_plus(query or ""))
    return url.replace(PAGE, str(page))


def paginates_by_number(template: str) -> bool:
    """True when the template numbers its pages itself (``{page}``)."""
    return PAGE in template


def result_links(sel: Selector, base_url: str, selector: str) -> list[tuple[str, str | None]]:
    """(absolute URL, link text) of each result, in page order, without repeats.

    ``selector`` may match the links themselves or the result blocks holding them (the first
    link of each block is its article).
    """
    try:
        matches = sel.css(selector)
    except (SelectorError, ValueError) as exc:
        raise ListingError(
            f"invalid CSS selector {selector!r}: {exc}", url=base_url, reason="bad_selector"
        ) from None
    found: dict[str, str | None] = {}
    for match in matches:
        link = match if getattr(match.root, "tag", None) == "a" else None
        if link is None:
            inner = match.css("a[href]")
            if not inner:
                continue
            link = inner[0]
        href = link.attrib.get("href")
        if not href:
            continue
        url = urljoin(base_url, href.strip())
        if urlsplit(url).scheme not in ("http", "https") or url in found:
            continue
        text = normalise_line(" ".join(link.css("::text").getall()))
        found[url] = text or None
    return list(found.items())


def next_page(sel: Selector, base_url: str, next_selector: str | None = None) -> str | None:
    """The absolute URL of the next result page, when the page links to one."""
    hrefs: list[str] = []
    if next_selector:
        try:
            for match in sel.css(next_selector):
                href = match.attrib.get("href") or match.css("a::attr(href)").get()
                if href:
                    hrefs.append(href)
        except (SelectorError, ValueError) as exc:
            raise ListingError(
                f"invalid CSS selector {next_selector!r}: {exc}", url=base_url,
                reason="bad_selector",
            ) from None
    hrefs += sel.xpath(
        "//link[contains(concat(' ', normalize-space(@rel), ' '), ' next ')]/@href"
        " | //a[contains(concat(' ', normalize-space(@rel), ' '), ' next ')]/@href"
    ).getall()
    for href in hrefs:
        url = urljoin(base_url, href.strip())
        if urlsplit(url).scheme in ("http", "https"):
            return url
    return None
