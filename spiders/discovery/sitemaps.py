"""Read sitemaps: URL sets (with Google News and hreflang extensions) and sitemap indexes.

Parsing is Scrapy's :class:`scrapy.utils.sitemap.Sitemap`: a streaming lxml ``iterparse`` with
``resolve_entities=False`` (no entity expansion, no external entity, no network), which frees
each ``<url>`` once read, so a 50,000-URL file costs the memory of one entry. Scrapy keeps only
the direct children of an entry; :class:`_NewsSitemap` also reads the ``<news:news>`` block
(title, language, publication date) and the language of each ``<xhtml:link hreflang>``.

A document declaring entities is refused before parsing, as feeds are (see
:mod:`spiders.discovery.feeds`). Gzipped sitemaps are unpacked up to ``max_bytes`` (a gzip bomb
stops there). Walking an index (cycles, depth, how many files) is the spider's job; this
module reads one document.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from spiders.discovery.errors import SitemapError
from spiders.discovery.feeds import DEFAULT_MAX_BYTES, declares_entities, looks_like
from spiders.items import normalise_line

logger = logging.getLogger(__name__)

URLSET = "urlset"
INDEX = "sitemapindex"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` of a URL set, or one ``<sitemap>`` of an index."""

    url: str  # absolute
    lastmod: str | None = None
    title: str | None = None  # news:title
    language: str | None = None  # news:publication/news:language
    published: str | None = None  # news:publication_date
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, url) from xhtml:link


@dataclass(frozen=True)
class SitemapDocument:
    """A parsed sitemap file: the entries of a URL set, or the child sitemaps of an index."""

    url: str
    kind: str  # URLSET or INDEX
    entries: tuple[SitemapEntry, ...]
    truncated: bool = False  # more entries than max_entries; the rest were not read
    invalid: int = 0  # entries whose <loc> was not an http(s) URL


class _NewsSitemap(Sitemap):
    """Scrapy's parser, keeping the nested ``news:`` fields and hreflang of each entry."""

    __slots__ = ()

    def _process_sitemap_element(self, elem: etree._Element) -> dict[str, Any] | None:
        entry: dict[str, Any] = {}
        alternates: list[tuple[str, str]] = []
        for child in elem:
            name = self._get_tag_name(child)
            if name == "link":
                href = child.get("href")
                if href:
                    alternates.append((child.get("hreflang") or "", href))
            elif name == "news":
                for item in child.iter():
                    item_name = self._get_tag_name(item)
                    if item_name in ("title", "language", "publication_date") and item.text:
                        entry[f"news_{item_name}"] = item.text.strip()
            elif name:
                entry[name] = child.text.strip() if child.text else ""
            child.clear()
        # Free what was read (as Scrapy does): memory stays flat on a huge file.
        elem.clear()
        parent = elem.getparent()
        if parent is not None:
            while elem.getprevious() is not None:
                del parent[0]
        if not entry.get("loc"):
            return None
        if alternates:
            entry["alternates"] = alternates
        return entry


def parse_sitemap(
    body: bytes, url: str, *, max_entries: int = 50_000, max_bytes: int = DEFAULT_MAX_BYTES
) -> SitemapDocument:
    """Parse one sitemap file (gzipped or not); raise :class:`SitemapError` when it is not one."""
    if body[:2] == _GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_bytes)
        except ValueError:  # Scrapy's "decompressed size over max_size"
            raise SitemapError(
                f"{url}: gzipped sitemap unpacks to more than {max_bytes} bytes; refused "
                "(a compression bomb, or raise [http] max_response_size)",
                url=url, reason="too_large",
            ) from None
        except (OSError, EOFError) as exc:
            raise SitemapError(
                f"{url}: broken gzip data ({exc})", url=url, reason="not_a_sitemap"
            ) from None
    if not body.strip():
        raise SitemapError(f"{url}: empty response, not a sitemap", url=url, reason="empty")
    if len(body) > max_bytes:
        raise SitemapError(
            f"{url}: sitemap of {len(body)} bytes is larger than the {max_bytes}-byte limit",
            url=url, reason="too_large",
        )
    if declares_entities(body):
        raise SitemapError(
            f"{url}: the sitemap declares XML entities (<!ENTITY>), which veille refuses: they "
            "serve entity-expansion ('billion laughs') and external-entity (XXE) attacks",
            url=url, reason="xml_entities",
        )
    try:
        sitemap = _NewsSitemap(body)
    except (etree.XMLSyntaxError, StopIteration) as exc:
        detail = f"; {exc}" if str(exc) else ""
        raise SitemapError(
            f"{url}: not a sitemap ({looks_like(body)}{detail}); check the source's url and type",
            url=url, reason="not_a_sitemap",
        ) from None
    if sitemap.type not in (URLSET, INDEX):
        raise SitemapError(
            f"{url}: not a sitemap (root <{sitemap.type}>, expected <urlset> or <sitemapindex>); "
            "check the source's url and type",
            url=url, reason="not_a_sitemap",
        )
    entries: list[SitemapEntry] = []
    invalid = 0
    truncated = False
    try:
        for raw in sitemap:
            if len(entries) >= max_entries:
                truncated = True
                break
            entry = _entry(raw, url)
            if entry is None:
                invalid += 1
            else:
                entries.append(entry)
    except etree.XMLSyntaxError as exc:  # recover=True makes this rare: keep what was read
        logger.info("%s: sitemap broken after %d entries: %s", url, len(entries), exc)
    return SitemapDocument(
        url=url, kind=sitemap.type, entries=tuple(entries), truncated=truncated, invalid=invalid
    )


def _entry(raw: dict[str, Any], base: str) -> SitemapEntry | None:
    """A SitemapEntry from Scrapy's dict, or None when ``loc`` is not an http(s) URL."""
    loc = urljoin(base, str(raw["loc"]))
    if urlsplit(loc).scheme not in ("http", "https"):
        return None
    alternates = tuple(
        (lang, urljoin(base, href))
        for lang, href in raw.get("alternates", ())
        if lang and urlsplit(urljoin(base, href)).scheme in ("http", "https")
    )
    title = raw.get("news_title")
    return SitemapEntry(
        url=loc,
        lastmod=raw.get("lastmod") or None,
        title=normalise_line(title) if title else None,
        language=raw.get("news_language") or None,
        published=raw.get("news_publication_date") or None,
        alternates=alternates,
    )
