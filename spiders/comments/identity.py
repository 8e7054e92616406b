"""A comment's identity: the system's own id, else a stable hash of what does not move.

Reordering, paging and new comments above it must not change a comment's key, so the hash is
made of the comment alone: its author, its posting time (when absolute) and the start of its
text. Editing the start of a comment that has no system id therefore gives it a new key (it is
recorded as deleted and new); every system veille reads through an API has ids.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lxml import etree

from spiders.items import normalise_body, normalise_line

if TYPE_CHECKING:
    from lxml.html import HtmlElement

    from spiders.comments.items import Comment

# Characters of the text's start that enter the hash: enough to tell two short replies apart,
# short enough that a fix near the end of a long comment keeps its key.
KEY_TEXT_CHARS = 80

_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_BLOCKS = frozenset({
    "p", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
    "table", "section", "article", "aside", "header", "footer", "figure", "figcaption", "dd",
    "dt", "dl", "hr",
})
_SKIP = frozenset({"script", "style", "noscript", "template", "button", "form", "svg"})


def comment_key(
    system_id: str | None, author: str | None, posted_at: str | None, text: str
) -> str:
    """The key of a comment: its system id, else ``h`` + a hash of author, time and text start."""
    if system_id:
        return str(system_id)
    basis = "\x1f".join(
        [normalise_line(author or "").casefold(), posted_at or "", text[:KEY_TEXT_CHARS]]
    )
    return "h" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:20]


def unique_keys(comments: Iterable[Comment]) -> list[Comment]:
    """The comments with repeated keys made unique (``~2``, ``~3`` in reading order).

    Two identical comments without ids ("+1", same author, no date) are two comments.
    """
    from dataclasses import replace

    seen: Counter[str] = Counter()
    out: list[Comment] = []
    for comment in comments:
        seen[comment.key] += 1
        n = seen[comment.key]
        out.append(comment if n == 1 else replace(comment, key=f"{comment.key}~{n}"))
    return out


def normalise_date(value: object) -> str | None:
    """An absolute posting time: ISO 8601 (UTC with a Z when an offset is given), else None.

    A date written for humans ("26 abril 2022 a las 14:02") is kept as text when it names a year;
    a relative one ("il y a 3 minutes") changes every run, so it is dropped.
    """
    if value is None:
        return None
    text = normalise_line(str(value))
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return text if _YEAR.search(text) else None
    if parsed.tzinfo is None:
        return parsed.replace(microsecond=0).isoformat()
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def element_text(element: HtmlElement) -> str:
    """The text of an element, one paragraph per block or ``<br>``, normalised.

    A comment that is only a picture or an embedded video has no text: it is then known by what
    it shows (the titles and addresses of its media and links), so it still has a version.
    """
    parts: list[str] = []
    _walk(element, parts)
    text = normalise_body("".join(parts))
    if text:
        return text
    media = []
    for el in element.iter("a", "img", "video", "iframe", "source"):
        label = el.get("title") or el.get("alt") or ""
        target = el.get("href") or el.get("src") or ""
        line = normalise_line(f"{label} {target}")
        if line and line not in media:
            media.append(line)
    return "\n\n".join(media)


def html_text(fragment: str, drop: etree.XPath | None = None) -> str:
    """The normalised text of an HTML fragment (a comment body from an API).

    ``drop`` selects parts that are not the comment's words (a forum's image captions).
    """
    if not fragment or not fragment.strip():
        return ""
    from lxml import html

    try:
        root = html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return normalise_body(re.sub(r"<[^>]+>", " ", fragment))
    if drop is not None:
        for el in drop(root):
            el.drop_tree()
    return element_text(root)


def _walk(element: HtmlElement, parts: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP:
        if element.tail:
            parts.append(element.tail)
        return
    block = tag in _BLOCKS
    if block:
        parts.append("\n")
    if tag == "br":
        parts.append("\n")
    if element.text and tag:
        parts.append(element.text)
    for child in element:
        _walk(child, parts)
    if block:
        parts.append("\n")
    if element.tail:
        parts.append(element.tail)
