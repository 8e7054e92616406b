"""Turn the HTML of an article page into an :class:`~spiders.items.Article`.

The page is parsed once with lxml; the same tree feeds the body extractor, trafilatura in
precision mode (navigation, ads, "most read" lists, share bars and comments are not the article)
or, when the page is configured with a CSS selector, the text of the matching elements, and the
metadata reader.

Metadata (title, authors, dates, language, canonical URL, alternates) is read by
:mod:`spiders.metadata`; htmldate is asked for the publication date only when the markup gave
none: it is the slow part.

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

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from spiders.items import Article, normalise_body, paragraphs
from spiders.metadata import PageMetadata, read_metadata
from spiders.tree import drop_matching, drop_noise, parse_html

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

# Elements whose text becomes its own paragraph in selector mode.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote caption center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre "
    "section summary table tbody tfoot thead tr ul".split()
)
_SKIPPED_TAGS = frozenset("script style noscript template svg math iframe object select".split())
_CELL_TAGS = frozenset({"td", "th"})
_WORD = re.compile(r"\w")
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
_CHROME_CANDIDATES = etree.XPath(
    ".//nav | .//footer | .//aside | .//form | .//header | .//*[@class or @id]"
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
    return read_article(html, url, selector=selector, ignore=ignore).article


@dataclass(frozen=True)
class ArticleRead:
    """An extracted article, with the tree it was read from and the page's metadata.

    ``tree`` has had its metadata read and its named noise dropped (:func:`drop_noise`); it is
    None when the page has no tree, or when htmldate had to guess the date (it prunes the tree).
    """

    article: Article
    tree: HtmlElement | None
    meta: PageMetadata | None


def read_article(
    html: str,
    url: str,
    *,
    selector: str | None = None,
    ignore: Sequence[re.Pattern[str]] = (),
) -> ArticleRead:
    """:func:`extract_article`, keeping the parsed tree for the caller's own use."""
    if selector is not None:
        check_selector(selector)
    tree = parse_html(html, url)
    if tree is None:
        return ArticleRead(Article(title="", body=""), None, None)
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
    kept: HtmlElement | None = tree
    if published is None and meta.modified is None:
        published = guess_published(tree, url)  # last: it prunes the tree
        kept = None
    article = Article(
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
    return ArticleRead(article, kept, meta)


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


def _trafilatura_body(tree: HtmlElement, url: str) -> str:
    """The main text according to trafilatura (it works on its own copy of the tree)."""
    import trafilatura  # here, not at the top: a cycle of unchanged pages never needs it

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


def guess_published(tree: HtmlElement, url: str) -> str | None:
    """htmldate's guess at the publication date, for pages whose markup gives none.

    The date is part of a version, so it must not come from a widget that shows today's date or
    from a comment: site chrome and comment sections are removed from ``tree`` (in place) first,
    and htmldate searches markup only (``extensive_search=False``).
    """
    drop_matching(tree, _CHROME_CANDIDATES, _is_chrome)
    from htmldate import find_date  # imported with trafilatura, only when a page changed

    try:
        # htmldate deep-copies a tree it is given.
        return find_date(tree, url=url, extensive_search=False, original_date=True)
    except (ValueError, TypeError, RecursionError, etree.LxmlError) as error:
        logger.debug("htmldate failed on %s: %s", url, error)
        return None
