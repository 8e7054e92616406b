"""Read an article page's metadata: title, authors, dates, language, canonical URL, alternates.

In this order: JSON-LD (``NewsArticle``, ``Article``, ``BlogPosting``... also inside ``@graph``),
OpenGraph and ``article:*`` meta tags, other meta tags (``author``, ``dc.*``, ``parsely-*``),
microdata, ``<html lang>``, ``<link rel=canonical>`` and ``<link rel=alternate hreflang>``. Cheap
(well under a millisecond) and free of trafilatura, so the fingerprint fast path can use it.
Dates are ISO 8601, a date staying a date and a datetime a datetime.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from html import unescape
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from lxml import etree

from spiders.items import normalise_line

if TYPE_CHECKING:
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

# Microdata of the article itself, and its authors not nested in another item.
_ARTICLE_ITEM = etree.XPath(
    '//*[@itemscope][contains(@itemtype, "Article") or contains(@itemtype, "BlogPosting")]'
)
_ITEM_AUTHORS = etree.XPath('.//*[@itemprop="author"]')
_REL_AUTHORS = etree.XPath('//a[@rel="author"]')

_JSONLD_ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "liveblogposting", "reportagenewsarticle",
     "analysisnewsarticle", "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
     "techarticle", "scholarlyarticle", "report", "socialmediaposting"}
)
# Meta tag names (property, name or itemprop, lower case) in order of trust.
_TITLE_KEYS = ("og:title", "twitter:title", "parsely-title", "dc.title", "dcterms.title",
               "sailthru.title", "headline", "title")
_AUTHOR_KEYS = ("author", "article:author", "og:article:author", "parsely-author",
                "sailthru.author", "dc.creator", "dcterms.creator", "byl", "cxenseparse:author")
_PUBLISHED_KEYS = ("article:published_time", "og:article:published_time", "article:published",
                   "datepublished", "parsely-pub-date", "sailthru.date", "dc.date.issued",
                   "dcterms.issued", "dcterms.date", "dc.date", "dcterms.created",
                   "dc.date.created", "og:published_time", "published_time", "publishdate",
                   "publish-date", "publication_date", "pubdate", "date", "datecreated")
_MODIFIED_KEYS = ("article:modified_time", "og:article:modified_time", "og:updated_time",
                  "article:updated_time", "datemodified", "dcterms.modified", "dc.date.modified",
                  "modified_time", "last-modified", "lastmod")
_DESCRIPTION_KEYS = ("description", "og:description", "twitter:description", "dc.description",
                     "dcterms.description")
_LANGUAGE_KEYS = ("content-language", "dc.language", "dcterms.language", "language", "og:locale")
_META_ATTRIBUTES = ("property", "name", "itemprop", "http-equiv")
_BYLINE_PREFIX = re.compile(r"^(?:by|par|von|por|di|door)\s+", re.IGNORECASE)
_SITE_SUFFIX = re.compile(r"\s*[|\-–—:·•»_]")
_DATE_ONLY = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
_CDATA = re.compile(r"^\s*(?://|/\*)?\s*<!\[CDATA\[|(?://|/\*)?\s*\]\]>\s*(?:\*/)?\s*$")


@dataclass
class PageMetadata:
    """What the page says about its article, outside the body."""

    title: str = ""
    authors: tuple[str, ...] = ()
    published: str | None = None
    modified: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    alternates: tuple[tuple[str, str], ...] = ()
    description: str | None = None


@dataclass
class _Signals:
    """Everything the metadata reader looks at, gathered in one walk over the head."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)
    title_tag: str | None = None
    canonical: str | None = None
    alternates: list[tuple[str, str]] = field(default_factory=list)
    base: str | None = None

    def first(self, keys: Sequence[str]) -> str | None:
        """The first non-empty meta content among ``keys``."""
        for key in keys:
            for value in self.meta.get(key, ()):
                if value:
                    return value
        return None


def read_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """Read title, authors, dates, language, canonical URL, alternates and description."""
    signals = _scan(tree)
    base = urljoin(url, signals.base) if signals.base else url
    article = next((obj for obj in signals.jsonld if _is_article(obj)), None)
    ld: dict[str, Any] = article or {}
    parsely = _parsely_page(signals)

    title = (
        _ld_title(ld, signals) or signals.first(_TITLE_KEYS)
        or _ld_text(parsely.get("title")) or _title_tag_or_h1(tree, signals.title_tag) or ""
    )
    authors = (
        _ld_authors(ld.get("author") or ld.get("creator"), signals.ids)
        or _meta_authors(signals, parsely) or _markup_authors(tree)
    )
    published = _iso_date(ld.get("datePublished") or ld.get("dateCreated")) or _meta_date(
        signals, _PUBLISHED_KEYS, parsely.get("pub_date"))
    modified = _iso_date(ld.get("dateModified")) or _meta_date(signals, _MODIFIED_KEYS, None)
    if published is None or modified is None:
        found_published, found_modified = _itemprop_dates(tree)
        published = published or found_published
        modified = modified or found_modified
    canonical = signals.canonical or signals.first(("og:url",))
    return PageMetadata(
        title=normalise_line(title),
        authors=authors,
        published=published,
        modified=modified,
        language=_language(tree, ld, signals),
        canonical_url=_absolute(base, canonical),
        alternates=tuple(dict.fromkeys(
            (lang, absolute) for lang, href in signals.alternates
            if (absolute := _absolute(base, href)) is not None
        )),
        description=(signals.first(_DESCRIPTION_KEYS) or _ld_text(ld.get("description")) or None),
    )


def _scan(tree: HtmlElement) -> _Signals:
    signals = _Signals()
    for el in tree.iter("meta", "link", "script", "title", "base"):
        tag = el.tag
        if tag == "meta":
            content = el.get("content")
            if content is None or not content.strip():
                continue
            for attribute in _META_ATTRIBUTES:
                key = el.get(attribute)
                if key:
                    signals.meta.setdefault(key.strip().lower(), []).append(normalise_line(content))
        elif tag == "link":
            href = (el.get("href") or "").strip()
            rel = (el.get("rel") or "").lower().split()
            if not href:
                continue
            if "canonical" in rel and signals.canonical is None:
                signals.canonical = href
            elif "alternate" in rel and el.get("hreflang"):
                signals.alternates.append((normalise_line(el.get("hreflang", "")), href))
        elif tag == "script":
            if (el.get("type") or "").strip().lower() == "application/ld+json" and el.text:
                _add_jsonld(signals, el.text)
        elif tag == "title":
            if signals.title_tag is None and el.text_content().strip():
                signals.title_tag = normalise_line(el.text_content())
        elif signals.base is None and el.get("href"):  # <base>
            signals.base = el.get("href", "").strip()
    return signals


def _add_jsonld(signals: _Signals, text: str) -> None:
    """Parse one JSON-LD block; keep its objects in document order (``@graph`` flattened)."""
    try:
        if "<![CDATA[" in text or "]]>" in text:  # rare; the regex is slow on long blocks
            text = _CDATA.sub("", text)
        data = json.loads(text, strict=False)
    except (ValueError, RecursionError):
        logger.debug("skipping a JSON-LD block that is not valid JSON")
        return
    stack: list[Any] = [data]
    while stack:  # depth-first, document order, no recursion
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            signals.jsonld.append(item)
            node_id = item.get("@id")
            if isinstance(node_id, str):
                signals.ids.setdefault(node_id, item)
            nested = [v for k, v in item.items() if k != "@context" and isinstance(v, (dict, list))]
            stack.extend(reversed(nested))


def _is_article(obj: dict[str, Any]) -> bool:
    types = obj.get("@type")
    names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1].lower() in _JSONLD_ARTICLE_TYPES
               for t in names)


def _ld_text(value: object) -> str | None:
    """A JSON-LD value as one clean line (entities that some CMSs double-escape are decoded)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    return normalise_line(unescape(value)) or None


def _ld_title(ld: dict[str, Any], signals: _Signals) -> str | None:
    """``headline``, or ``name`` when only that one appears in ``<title>`` (Wikipedia's headline
    is a description) and it is not the site's name."""
    headline, name = _ld_text(ld.get("headline")), _ld_text(ld.get("name"))
    title_tag = signals.title_tag
    if headline and name and title_tag and name in title_tag and headline not in title_tag:
        publisher = ld.get("publisher")
        site_names = {
            signals.first(("og:site_name", "application-name")),
            _ld_text(publisher.get("name")) if isinstance(publisher, dict) else None,
        }
        if name not in site_names:
            return name
    return headline or name


def _ld_authors(value: object, ids: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """Author names from a JSON-LD author: a string, a Person, an ``@id`` reference, or a list."""
    names: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and "name" not in item and isinstance(item.get("@id"), str):
            item = ids.get(item["@id"], item)
        name = _ld_text(item.get("name")) if isinstance(item, dict) else _ld_text(item)
        if name and not _looks_like_url(name):
            names.append(_BYLINE_PREFIX.sub("", name))
    return tuple(dict.fromkeys(n for n in names if n))


def _meta_authors(signals: _Signals, parsely: dict[str, Any]) -> tuple[str, ...]:
    for key in _AUTHOR_KEYS:
        names = [_BYLINE_PREFIX.sub("", v) for v in signals.meta.get(key, ()) if
                 not _looks_like_url(v)]
        if any(names):
            return tuple(dict.fromkeys(n for n in names if n))
    return _ld_authors(parsely.get("authors") or parsely.get("author"), {})


def _markup_authors(tree: HtmlElement) -> tuple[str, ...]:
    """Authors marked up in the page itself, when the markup is unambiguous.

    ``itemprop="author"`` counts inside the first Article item only (comments, answers and
    related-article lists carry authors too), and ``rel="author"`` links only when they all
    name the same person. A wrong author would make a new version each time a comment or a
    "related" list changes: no author is better.
    """
    names: list[str] = []
    item = next(iter(_ARTICLE_ITEM(tree)), None)
    if item is not None:
        for el in _ITEM_AUTHORS(item):
            owner = next((a for a in el.iterancestors() if a.get("itemscope") is not None), None)
            if owner is not item:  # the author of a comment or review inside the article
                continue
            named = el.xpath('.//*[@itemprop="name"]')
            source = named[0] if named else el
            names.append(_author_name(source.get("content") or source.text_content()))
    found = tuple(dict.fromkeys(n for n in names if n))
    if found:
        return found
    linked = {_author_name(el.text_content()) for el in _REL_AUTHORS(tree)}
    return (linked.pop(),) if len(linked) == 1 and "" not in linked else ()


def _author_name(text: str) -> str:
    """A clean author name, or "" for what is not one (a URL, a sentence)."""
    name = _BYLINE_PREFIX.sub("", normalise_line(text))
    return name if 0 < len(name) <= 80 and not _looks_like_url(name) else ""


def _looks_like_url(text: str) -> bool:
    # article:author is often a profile URL, not a name.
    return text.startswith(("http://", "https://", "//", "www."))


def _parsely_page(signals: _Signals) -> dict[str, Any]:
    """The JSON object of a ``parsely-page`` meta tag, or {}."""
    raw = signals.first(("parsely-page",))
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _meta_date(signals: _Signals, keys: Sequence[str], extra: object) -> str | None:
    for key in keys:
        for value in signals.meta.get(key, ()):
            if (found := _iso_date(value)) is not None:
                return found
    return _iso_date(extra)


def _itemprop_dates(tree: HtmlElement) -> tuple[str | None, str | None]:
    """datePublished / dateModified microdata on any element (``<time itemprop datetime>``)."""
    found: dict[str, str] = {}
    for el in tree.xpath('//*[@itemprop="datePublished" or @itemprop="dateModified"]'):
        prop = el.get("itemprop")
        if prop in found:
            continue
        value = _iso_date(el.get("datetime") or el.get("content") or el.text_content())
        if value is not None:
            found[prop] = value
    return found.get("datePublished"), found.get("dateModified")


def _iso_date(value: object) -> str | None:
    """A date or datetime as ISO 8601 (a date stays a date), or None when it is not one.

    The Unix epoch (a timestamp of 0 rendered by a CMS) is not a date.
    """
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if not isinstance(value, str) or not (text := value.strip()):
        return None
    if text.startswith(("1970-01-01", "1969-12-31")):
        return None
    try:
        if _DATE_ONLY.match(text):
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:  # RFC 2822, as in some dc.date and HTTP-style tags
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _language(tree: HtmlElement, ld: dict[str, Any], signals: _Signals) -> str | None:
    found = (
        tree.get("lang") or tree.get("xml:lang") or _ld_text(ld.get("inLanguage"))
        or signals.first(_LANGUAGE_KEYS)
    )
    if not found or not found.strip():
        return None
    return found.strip().replace("_", "-").split(",")[0].strip() or None


def _title_tag_or_h1(tree: HtmlElement, title_tag: str | None) -> str | None:
    """The first ``<h1>`` when ``<title>`` is that plus the site name ("Headline | Site")."""
    h1 = next((text for el in tree.iter("h1") if (text := normalise_line(el.text_content()))), None)
    if title_tag and h1 and title_tag.startswith(h1) and _SITE_SUFFIX.match(title_tag[len(h1):]):
        return h1
    return title_tag or h1


def _absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    try:
        return urljoin(base, href.strip())
    except ValueError:  # a malformed IPv6 host and the like
        return None
