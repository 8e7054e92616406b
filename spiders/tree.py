"""Parse a page into an lxml tree and remove the plainly named noise: shared by extraction,
the fingerprint fast path and anomaly detection, without importing trafilatura.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    document_fromstring,
)

from spiders.errors import SpiderError

# The parser trafilatura itself uses: comments and processing instructions are never content.
# No huge_tree: libxml2 then stops at 256 levels of nesting, which keeps a hostile page cheap.
# With an id index (unlike trafilatura's): XPath id() then finds an element without a scan.
_PARSER = HTMLParser(
    collect_ids=True,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
# lxml.html gives <form>, <input>, <select>… their own classes through a lookup written in
# Python, called for every element Python touches; veille uses none of those classes, and the
# C lookup of one class for all saves that call (a few per cent of a check's CPU).
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction,
        entity=HtmlEntity,
    )
)
# Characters XML cannot hold: lxml refuses them or silently drops the text around them.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INVALID_XML_BYTES = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0D})


def _has_invalid_xml_chars(html: str, data: bytes) -> bool:
    """True when ``html`` (``data`` is its UTF-8) holds a character of :data:`_INVALID_XML_CHARS`.

    The controls are looked for in the bytes (one C pass); U+FFFE and U+FFFF in the text, where
    Python answers at once for a text with no character above U+00FF and otherwise searches
    2-byte units, 20 times faster than the 3-byte sequences in the UTF-8.
    """
    return (
        len(data.translate(None, _INVALID_XML_BYTES)) != len(data)
        or "\ufffe" in html
        or "\uffff" in html
    )

# Ads and counters named plainly (class="ad", class="views") that trafilatura's own lists miss
# because they look for longer names. Whole class tokens or a whole id only, so "header",
# "download" or "pubdate" never match.
_NOISE_NAMES = frozenset(
    "ad ads advert adverts advertisement advertising adsbygoogle ad-slot ad-container pub "
    "publicite publicité sponsor sponsored promo views view-count viewcount post-views page-views "
    "pageviews hit-counter read-count nb-vues vues".split()
)
_NAMED = etree.XPath(".//*[@class or @id]")


class ExtractionError(SpiderError):
    """The HTML of ``url`` could not be parsed at all (``reason`` says why)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(
            f"cannot parse the HTML of {url}: {reason}; check that the URL serves an HTML page "
            "(open it in a browser, or fetch it with curl and look at the Content-Type)"
        )


def parse_html(html: str, url: str) -> HtmlElement | None:
    """Parse a page into an lxml tree rooted at ``<html>``; None for a page with no markup or text.

    Raises :class:`ExtractionError` when lxml cannot build a tree at all.
    """
    if not html or html.isspace():
        return None
    # Bytes with an explicit encoding: an <?xml encoding?> or <meta charset> left in the text
    # must not make libxml2 decode the (already decoded) text a second time.
    data = html.encode("utf-8", errors="replace")
    if _has_invalid_xml_chars(html, data):  # rare: scanning the bytes is far cheaper than a regex
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
    drop_matching(tree, _NAMED, is_noise)


def drop_matching_in(element: HtmlElement) -> None:
    """:func:`drop_noise` for the descendants of ``element`` only (inside ``<body>``)."""
    for el in [el for el in _NAMED(element) if is_noise(el)]:
        el.drop_tree()


def is_noise(el: HtmlElement) -> bool:
    """True for an element plainly named as an ad or a counter (see :data:`_NOISE_NAMES`)."""
    names = el.get("class")
    if names and not _NOISE_NAMES.isdisjoint(names.lower().split()):
        return True
    name = el.get("id")
    return bool(name) and name.lower() in _NOISE_NAMES


def drop_matching(
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
