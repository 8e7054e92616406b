"""Turn the HTML of an article page into an :class:`~spiders.items.Article`.

The page is parsed once with lxml; the same tree feeds the body extractor, trafilatura in
precision mode (navigation, ads, "most read" lists, share bars and comments are not the article)
or, when the page is configured with a CSS selector, the text of the matching elements, and the
metadata reader.

Metadata comes, in this order, from JSON-LD (``NewsArticle``, ``Article``, ``BlogPosting``... also
inside ``@graph``), OpenGraph and ``article:*`` meta tags, other meta tags (``author``, ``dc.*``,
``parsely-*``), ``<html lang>``, ``<link rel=canonical>`` and ``<link rel=alternate hreflang>``.
htmldate is asked for the publication date only when none of those gave one: it is the slow part.
Dates are returned as ISO 8601, a date staying a date and a datetime a datetime.

``ignore`` patterns remove volatile text that sits *inside* the article ("Mis à jour il y a
3 minutes", a live view counter): every match of each regex is deleted from the normalised body
(paragraphs joined by a blank line, single spaces, NFC), then the body is normalised again so an
emptied paragraph disappears. Patterns are applied to the normalised text because that is the
text a user sees in veille's history and writes patterns against; a match never spans two
paragraphs unless the pattern itself matches the blank line between them.

Odd HTML never raises: an empty page gives an empty article, a page too deep for libxml2 keeps what
was parsed before the limit. :class:`ExtractionError` is raised only when lxml cannot build a tree.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import trafilatura
from cssselect import SelectorError
from htmldate import find_date
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HTMLParser, document_fromstring

from spiders.errors import SpiderError
from spiders.items import Article, normalise_body, normalise_line, paragraphs

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

# The parser trafilatura itself uses: comments and processing instructions are never content.
# No huge_tree: libxml2 then stops at 256 levels of nesting, which keeps a hostile page cheap.
_PARSER = HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
# Characters XML cannot hold: lxml refuses them or silently drops the text around them.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Elements whose text becomes its own paragraph in selector mode.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote caption center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre "
    "section summary table tbody tfoot thead tr ul".split()
)
_SKIPPED_TAGS = frozenset("script style noscript template svg math iframe object select".split())
_CELL_TAGS = frozenset({"td", "th"})
_WORD = re.compile(r"\w")
# Ads and counters named plainly (class="ad", class="views") that trafilatura's own lists miss
# because they look for longer names. Whole class tokens or a whole id only, so "header",
# "download" or "pubdate" never match.
_NOISE_NAMES = frozenset(
    "ad ads advert adverts advertisement advertising adsbygoogle ad-slot ad-container pub "
    "publicite publicité sponsor sponsored promo views view-count viewcount post-views page-views "
    "pageviews hit-counter read-count nb-vues vues".split()
)
# Site chrome that may show a date unrelated to the article (today's date, a comment's date):
# removed before htmldate looks for a publication date. Matched on whole class or id tokens,
# prefixed or suffixed ("site-footer", "comments-area"), never layout flags ("no-sidebar").
_CHROME_TAGS = frozenset({"nav", "footer", "aside", "form"})
_CHROME_TOKEN = re.compile(
    r"(?:[a-z0-9]+[-_])*(?:sidebar|widget-area|widgets|menu|navbar|masthead|ticker|weather|"
    r"clock|today|current-date|date-du-jour|breaking-news|trending|most-read|popular|related|"
    r"relatedposts|comments?|commentlist|footer|site-header)s?(?:[-_][a-z0-9]+)*"
)
_LAYOUT_FLAGS = ("no-", "has-", "with-", "without-", "is-")
# A wrapper holding the headline or the article is never chrome, whatever its name (a site
# header may hold the logo in an <h1>: only <article> or <main> protect it).
_HOLDS_ARTICLE = etree.XPath("boolean(.//h1 | .//article | .//main)")
_HOLDS_MAIN = etree.XPath("boolean(.//article | .//main)")
_NAMED = etree.XPath(".//*[@class or @id]")
_CHROME_CANDIDATES = etree.XPath(
    ".//nav | .//footer | .//aside | .//form | .//header | .//*[@class or @id]"
)
# Microdata of the article itself, and its authors not nested in another item.
_ARTICLE_ITEM = etree.XPath(
    '//*[@itemscope][contains(@itemtype, "Article") or contains(@itemtype, "BlogPosting")]'
)
_ITEM_AUTHORS = etree.XPath('.//*[@itemprop="author"]')
_REL_AUTHORS = etree.XPath('//a[@rel="author"]')


class ExtractionError(SpiderError):
    """The HTML of ``url`` could not be parsed at all (``reason`` says why)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(
            f"cannot parse the HTML of {url}: {reason}; check that the URL serves an HTML page "
            "(open it in a browser, or fetch it with curl and look at the Content-Type)"
        )


def extract_article(
    html: str,
    url: str,
    *,
    selector: str | None = None,
    ignore: Sequence[re.Pattern[str]] = (),
) -> Article:
    """Extract the article of a page: title, normalised body and metadata.

    ``selector`` (CSS) replaces trafilatura's guess: the body is the text of the matching
    elements, one paragraph per block element. ``ignore`` regexes are deleted from the body.
    An invalid selector raises :class:`ValueError` (see :func:`check_selector`).
    """
    if selector is not None:
        check_selector(selector)
    tree = parse_html(html, url)
    if tree is None:
        return Article(title="", body="")
    meta = read_metadata(tree, url)
    drop_noise(tree)
    if selector is not None:
        body = selected_text(tree, selector)
    else:
        body = _trafilatura_body(tree, url)
    body = clean_body(body)
    if ignore:
        body = remove_ignored(body, ignore)
    published = meta.published
    if published is None and meta.modified is None:
        published = guess_published(tree, url)  # last: it prunes the tree
    return Article(
        title=meta.title,
        body=body,
        authors=meta.authors,
        published=published,
        modified=meta.modified,
        language=meta.language,
        canonical_url=meta.canonical_url,
        alternates=meta.alternates,
        description=meta.description,
    )


def parse_html(html: str, url: str) -> HtmlElement | None:
    """Parse a page into an lxml tree rooted at ``<html>``; None for a page with no markup or text.

    Raises :class:`ExtractionError` when lxml cannot build a tree at all.
    """
    if not html or html.isspace():
        return None
    # Bytes with an explicit encoding: an <?xml encoding?> or <meta charset> left in the text
    # must not make libxml2 decode the (already decoded) text a second time.
    data = _INVALID_XML_CHARS.sub("", html).encode("utf-8", errors="replace")
    try:
        return document_fromstring(data, parser=_PARSER)
    except etree.ParserError as error:
        if "empty" in str(error).lower():  # only comments, or markup lxml drops entirely
            return None
        raise ExtractionError(url, str(error)) from error
    except (ValueError, etree.LxmlError) as error:
        raise ExtractionError(url, str(error)) from error


def drop_noise(tree: HtmlElement) -> None:
    """Remove, in place, the elements plainly named as ads or counters (their tail text stays)."""
    _drop(tree, _NAMED, _is_noise)


def _is_noise(el: HtmlElement) -> bool:
    names = el.get("class")
    if names and not _NOISE_NAMES.isdisjoint(names.lower().split()):
        return True
    name = el.get("id")
    return bool(name) and name.lower() in _NOISE_NAMES


def _is_chrome(el: HtmlElement) -> bool:
    """Site chrome, unless it wraps the article (a page-wide ``<div class="has-menu">``)."""
    if el.tag in _CHROME_TAGS or el.tag == "header":
        if el.tag == "header" and any(a.tag in ("article", "main") for a in el.iterancestors()):
            return False  # the article's own header, with its dates
        return not _HOLDS_MAIN(el)
    names = f"{el.get('class') or ''} {el.get('id') or ''}".lower().split()
    chrome = any(
        _CHROME_TOKEN.fullmatch(name) and not name.startswith(_LAYOUT_FLAGS) for name in names
    )
    return chrome and not _HOLDS_ARTICLE(el)


def _drop(
    tree: HtmlElement, candidates: etree.XPath, matches: Callable[[HtmlElement], bool]
) -> None:
    """Remove the ``candidates`` of ``<body>`` for which ``matches`` is true, keeping tail text.

    XPath picks the few candidates in C, Python decides: an XPath with EXSLT regexes would call
    back into Python for every element and is several times slower.
    """
    body = tree.find("body")
    if body is None:
        return
    doomed = [el for el in candidates(body) if matches(el)]
    for el in doomed:
        el.drop_tree()


def _trafilatura_body(tree: HtmlElement, url: str) -> str:
    """The main text according to trafilatura (it works on its own copy of the tree)."""
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=False,
            deduplicate=False,
        )
    except (RecursionError, etree.LxmlError) as error:
        # trafilatura walks the tree recursively in places; a pathological page is not fatal.
        logger.warning("trafilatura failed on %s: %s", url, error)
        return ""
    if document is None:  # trafilatura found nothing it trusts (it logs why at WARNING)
        return ""
    text = getattr(document, "text", None)
    return text if isinstance(text, str) else ""


@lru_cache(maxsize=256)
def _compile_selector(selector: str) -> CSSSelector:
    return CSSSelector(selector)


def check_selector(selector: str) -> None:
    """Raise :class:`ValueError` with a useful message when ``selector`` is not valid CSS."""
    try:
        _compile_selector(selector)
    except SelectorError as error:
        raise ValueError(
            f"invalid CSS selector {selector!r}: {error}; write a CSS3 selector such as "
            "'article .content' or 'div#story p'"
        ) from error


def selected_text(tree: HtmlElement, selector: str) -> str:
    """Text of the elements matching ``selector``, one line per block element (not normalised)."""
    check_selector(selector)
    matches = _compile_selector(selector)(tree)
    chosen = set(matches)
    # An element inside another match is already part of that match's text.
    roots = [el for el in matches if not any(a in chosen for a in el.iterancestors())]
    return "\n".join(element_text(el) for el in roots)


def element_text(root: HtmlElement) -> str:
    """Text of an element, each block element on its own line, scripts and styles skipped.

    Iterative (no recursion), so depth is never a problem.
    """
    parts: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if not tag or tag in _SKIPPED_TAGS:
                walker.skip_subtree()
                continue
            if tag in _BLOCK_TAGS or tag == "br":
                parts.append("\n")
            elif tag in _CELL_TAGS:
                parts.append(" ")
            if el.text:
                parts.append(el.text)
        else:
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if el is not root and el.tail:
                parts.append(el.tail)
    return "".join(parts)


def remove_ignored(body: str, ignore: Sequence[re.Pattern[str]]) -> str:
    """Delete every match of each pattern from a normalised body, then normalise it again."""
    for pattern in ignore:
        body = pattern.sub("", body)
    # Drops the paragraphs a pattern emptied and the double spaces it left.
    return clean_body(body)


def clean_body(text: str) -> str:
    """:func:`normalise_body`, without the paragraphs that hold no letter or digit.

    Those are separators ("* * *") and the cells of empty tables ("| | |"): no content, only
    spurious changes when a layout table gains a row.
    """
    return "\n\n".join(p for p in paragraphs(normalise_body(text)) if _WORD.search(p))


# --- metadata -------------------------------------------------------------------------------

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
        data = json.loads(_CDATA.sub("", text), strict=False)
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


def guess_published(tree: HtmlElement, url: str) -> str | None:
    """htmldate's guess at the publication date, for pages whose markup gives none.

    The date is part of a version, so it must not come from a widget that shows today's date or
    from a comment: site chrome and comment sections are removed from ``tree`` (in place) first,
    and htmldate searches markup only (``extensive_search=False``).
    """
    _drop(tree, _CHROME_CANDIDATES, _is_chrome)
    try:
        # htmldate deep-copies a tree it is given.
        return find_date(tree, url=url, extensive_search=False, original_date=True)
    except (ValueError, TypeError, RecursionError, etree.LxmlError) as error:
        logger.debug("htmldate failed on %s: %s", url, error)
        return None


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
