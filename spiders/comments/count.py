"""The number of comments a page says it has: « Commentaires (26) », "26 comments".

Recorded beside the number veille actually read, so hidden or moderated comments show up as a
gap. Structured data is trusted first (schema.org ``commentCount`` and an
``interactionStatistic`` of type ``CommentAction``, in JSON-LD or microdata), then short texts in
headings, in elements named for comments and in links to ``#comments`` — WordPress's
``comments_number()`` ("26 Comments", "One Comment", "26 thoughts on “…”") among them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from lxml import etree

from spiders.comments.inline import jsonld_objects
from spiders.items import normalise_line
from spiders.rawscan import holds

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# Texts longer than this are sentences, not a counter.
MAX_COUNT_TEXT = 80

_WORDS = (
    r"commentaires?|comments?|réactions?|reactions?|kommentare?|comentarios?|commenti|"
    r"responses?|replies|réponses?|messages?|thoughts?|réflexions?|gedanken|antworten"
)
_PATTERNS = (
    re.compile(rf"\b(?:{_WORDS})\s*[(\[]\s*(\d[\d\s.,]*)\s*[)\]]", re.IGNORECASE),  # Comments (26)
    re.compile(rf"(?<![\w.,])(\d[\d\s.,]*?)\s+(?:{_WORDS})\b", re.IGNORECASE),  # 26 comments
    re.compile(rf"\b(?:{_WORDS})\s*:\s*(\d+)\b", re.IGNORECASE),  # Comments: 26
)
_ONE = re.compile(
    r"^\s*(?:one|un|une|ein|eine|einen|uno|una)\s+(?:comment|commentaire|kommentar|comentario|"
    r"response|réponse|thought|réflexion|gedanke|reply|réaction|reaction)\b",
    re.IGNORECASE,
)
_NONE = re.compile(
    r"^\s*(?:no|aucun|aucune|pas de|keine|sin|nessun)\s+(?:comments?|commentaires?|kommentare?|"
    r"comentarios?|commenti|responses?|réponses?|réactions?|reactions?)\b",
    re.IGNORECASE,
)
# Headings and links to the comments first, then any element named for comments.
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_COMMENT_ANCHORS = ("#comments", "#respond", "#disqus_thread")
_NAMED_FOR_COMMENTS = etree.XPath('//*[contains(@class, "omment") or contains(@id, "omment")]')
_MICRO = etree.XPath('//*[@itemprop="commentCount" or @itemprop="interactionStatistic"]')


def shown_count(tree: HtmlElement, raw: bytes | None = None) -> int | None:
    """The comment count the page shows, or None when it shows none.

    With the page's ``raw`` bytes, structured data that is plainly absent is not looked for.
    """
    readers = []
    # Both structured forms name the count literally; most pages have JSON-LD without it.
    structured = raw is None or holds(raw, b"commentCount") or holds(raw, b"CommentAction")
    if structured and (raw is None or b"ld+json" in raw):
        readers.append(_from_jsonld)
    if structured and (raw is None or b"itemprop" in raw):
        readers.append(_from_microdata)
    for read in readers:
        found = read(tree)
        if found is not None:
            return found
    return _from_text(tree, raw)


def count_in_text(text: str) -> int | None:
    """The count in a short text such as « Commentaires (26) » or "26 thoughts on …"."""
    text = normalise_line(text)
    if not text or len(text) > MAX_COUNT_TEXT:
        return None
    if _NONE.search(text):
        return 0
    if _ONE.search(text):
        return 1
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            number = _number(match.group(1))
            if number is not None:
                return number
    return None


def _number(text: str) -> int | None:
    digits = re.sub(r"[\s.,]", "", text)
    return int(digits) if digits.isdigit() and len(digits) <= 9 else None


def _from_jsonld(tree: HtmlElement) -> int | None:
    for data in jsonld_objects(tree):
        found = _walk(data, 0)
        if found is not None:
            return found
    return None


def _walk(data: Any, depth: int) -> int | None:
    if depth > 20:
        return None
    if isinstance(data, list):
        for item in data:
            found = _walk(item, depth + 1)
            if found is not None:
                return found
        return None
    if not isinstance(data, dict):
        return None
    count = _int(data.get("commentCount"))
    if count is not None:
        return count
    stats = data.get("interactionStatistic")
    for stat in stats if isinstance(stats, list) else [stats]:
        if isinstance(stat, dict) and "CommentAction" in str(stat.get("interactionType", "")):
            count = _int(stat.get("userInteractionCount"))
            if count is not None:
                return count
    for name in ("@graph", "mainEntity", "mainEntityOfPage"):
        if name in data:
            found = _walk(data[name], depth + 1)
            if found is not None:
                return found
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _from_microdata(tree: HtmlElement) -> int | None:
    found = _MICRO(tree)
    for el in found:
        if el.get("itemprop") != "commentCount":
            continue
        count = _int(el.get("content") or el.text_content())
        if count is not None:
            return count
    for stat in found:
        if stat.get("itemprop") != "interactionStatistic":
            continue
        kind = " ".join(
            (e.get("content") or e.get("href") or e.text_content() or "")
            for e in stat.iter() if "interactionType" in (e.get("itemprop") or "")
        )
        if "CommentAction" not in kind:
            continue
        for e in stat.iter():
            if "userInteractionCount" in (e.get("itemprop") or ""):
                count = _int(e.get("content") or e.text_content())
                if count is not None:
                    return count
    return None


def _from_text(tree: HtmlElement, raw: bytes | None = None) -> int | None:
    for el in _text_candidates(tree, raw):
        count = count_in_text(el.text_content()[: 4 * MAX_COUNT_TEXT])
        if count is not None:
            return count
    return None


def _text_candidates(tree: HtmlElement, raw: bytes | None) -> Iterator[HtmlElement]:
    """Headings and links to the comments in document order, then elements named for comments.

    ``iter`` by tag walks the tree in C (an XPath union walks it once per tag); links are
    looked at only when the bytes hold one of the anchors; the last scan runs only if needed.
    """
    if raw is not None and not any(holds(raw, a.encode()) for a in _COMMENT_ANCHORS):
        yield from tree.iter(*_HEADINGS)
    else:
        for el in tree.iter(*_HEADINGS, "a"):
            if el.tag != "a" or any(a in (el.get("href") or "") for a in _COMMENT_ANCHORS):
                yield el
    yield from _NAMED_FOR_COMMENTS(tree)
