"""Disqus threads: detected in the page; read from an export file; a live read needs a browser.

A Disqus thread is drawn by JavaScript inside Disqus's own frame, so the page's HTML holds none
of its comments. Without an API key, reading it live means rendering the page in a browser
(scrapy-playwright with Debian's chromium), which veille's crawler does not run yet: a detected
thread is recorded as a source in state ``unsupported``, with its shortname and identifier, so
the gap is visible and nothing is concluded. A site's own Disqus export (XML) can be read with
:func:`parse_export`.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from lxml import etree

from spiders.comments.identity import html_text, normalise_date, unique_keys
from spiders.comments.items import DISQUS, Comment, CommentSource, CommentsResult

if TYPE_CHECKING:
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

UNSUPPORTED = (
    "Disqus draws its comments with JavaScript in its own frame; reading them needs the "
    "browser (scrapy-playwright), which veille does not run yet"
)
_SCRIPTS = etree.XPath('//script[contains(., "disqus") or contains(@src, "disqus.com")]')
_THREAD_DIV = etree.XPath('//*[@id="disqus_thread"]')
_SHORTNAME_VARS = (
    re.compile(r"disqus_shortname\s*=\s*['\"]([\w-]+)['\"]"),
    re.compile(r"['\"/]([\w-]+)\.disqus\.com/(?:embed|count)\.js"),
    re.compile(r"shortname\s*:\s*['\"]([\w-]+)['\"]"),
)
_IDENTIFIER = re.compile(r"(?:disqus_identifier|page\.identifier)\s*=\s*['\"]([^'\"]+)['\"]")
_NS = {"d": "http://disqus.com", "dsq": "http://disqus.com/disqus-internals"}
_DSQ_ID = "{http://disqus.com/disqus-internals}id"


def detect(tree: HtmlElement, page_url: str, raw: bytes | None = None) -> list[CommentSource]:
    """The page's Disqus thread, when it embeds one."""
    if raw is not None and b"disqus" not in raw.lower():
        return []
    shortname = identifier = None
    for script in _SCRIPTS(tree):
        text = (script.text or "") + " " + (script.get("src") or "")
        for pattern in _SHORTNAME_VARS:
            match = pattern.search(text)
            if match and match.group(1) not in ("www", "disqus", "c", "a"):
                shortname = shortname or match.group(1)
        found = _IDENTIFIER.search(text)
        if found:
            identifier = identifier or found.group(1)
    if shortname is None and not _THREAD_DIV(tree):
        return []
    detail = [("shortname", shortname or "")]
    if identifier:
        detail.append(("identifier", identifier))
    return [CommentSource(DISQUS, page_url.split("#")[0], "detected", tuple(detail))]


def unsupported(
    page_id: int, page_url: str, source: CommentSource, shown: int | None
) -> CommentsResult:
    """The result for a Disqus thread veille cannot read live: a state, never a deletion."""
    name = source.get("shortname") or "?"
    return CommentsResult(
        page_id=page_id,
        page_url=page_url,
        source=source,
        fetched_at=time.time(),
        shown_count=shown,
        complete=False,
        state="unsupported",
        error=f"{UNSUPPORTED} (forum {name})",
    )


def parse_export(data: bytes) -> dict[str, list[Comment]]:
    """The comments of a Disqus XML export, by thread link (deleted and spam posts left out).

    Entities are never resolved and nothing is fetched (FAULTS F21).
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(data, parser=parser)
    links: dict[str, str] = {}
    for thread in root.iterfind("d:thread", _NS):
        link = thread.findtext("d:link", default="", namespaces=_NS).strip()
        links[thread.get(_DSQ_ID, "")] = link
    threads: dict[str, list[Comment]] = defaultdict(list)
    for post in root.iterfind("d:post", _NS):
        if _true(post.findtext("d:isDeleted", namespaces=_NS)) or _true(
            post.findtext("d:isSpam", namespaces=_NS)
        ):
            continue
        pid = post.get(_DSQ_ID, "")
        thread = post.find("d:thread", _NS)
        parent = post.find("d:parent", _NS)
        link = links.get(thread.get(_DSQ_ID, "") if thread is not None else "", "")
        author = post.findtext("d:author/d:name", namespaces=_NS) or None
        threads[link].append(
            Comment(
                key=pid,
                system_id=pid or None,
                author=author.strip() if author else None,
                posted_at=normalise_date(post.findtext("d:createdAt", namespaces=_NS)),
                text=html_text(post.findtext("d:message", default="", namespaces=_NS)),
                parent_key=parent.get(_DSQ_ID) if parent is not None else None,
            )
        )
    return {link: unique_keys(comments) for link, comments in threads.items()}


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
