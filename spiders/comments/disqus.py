"""Disqus threads: detected in the page, read from the embed's frame or the API, or an export.

A Disqus thread is drawn by JavaScript inside Disqus's own frame, so the article's HTML holds
none of its comments. :func:`detect` finds the embed (its script, ``disqus_shortname``, the
``#disqus_thread`` div) and the thread's identifier. It is then read one of two ways (see
:func:`spiders.comments.spider.comment_work`):

- with a ``[comments] disqus_api_key``: Disqus's API (:mod:`spiders.comments.disqus_api`);
- else in Chromium, when the crawl has it (:mod:`spiders.comments.disqus_browser`): the frame's
  document is read with :func:`parse_embed`. A crawl without Chromium answers
  :func:`needs_browser`, a state that concludes nothing; ``veille check`` then reads the thread
  in a crawl with Chromium straight away.

:func:`parse_embed` reads the embed's markup as Disqus draws it (``li.post`` with
``id="post-<id>"``, replies in ``ul.children``, ``.author``, ``a.time-ago``, ``.post-message``)
and the ``<script type="text/json" id="disqus-threadData">`` the frame is served with (its first
posts, their parents, exact dates, deleted flags and the thread's count). A site's own Disqus
export (XML) can be read with :func:`parse_export`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from lxml import etree

from spiders.comments.identity import (
    comment_key,
    element_text,
    html_text,
    normalise_date,
    unique_keys,
)
from spiders.comments.items import DISQUS, NEEDS_BROWSER, Comment, CommentSource, CommentsResult

if TYPE_CHECKING:
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

NEEDS_BROWSER_ERROR = (
    "Disqus draws its thread in the browser; it is read at the next check with Chromium"
)
_SCRIPTS = etree.XPath('//script[contains(., "disqus") or contains(@src, "disqus.com")]')
_THREAD_DIV = etree.XPath('//*[@id="disqus_thread"]')
_SHORTNAME_VARS = (
    re.compile(r"disqus_shortname\s*=\s*['\"]([\w-]+)['\"]"),
    re.compile(r"['\"/]([\w-]+)\.disqus\.com/(?:embed|count)\.js"),
    re.compile(r"shortname\s*:\s*['\"]([\w-]+)['\"]"),
)
_IDENTIFIER = re.compile(r"(?:disqus_identifier|page\.identifier)\s*=\s*['\"]([^'\"]+)['\"]")
_LINK = re.compile(r"(?:disqus_url|page\.url)\s*=\s*['\"](https?://[^'\"\s]+)['\"]")
_NS = {"d": "http://disqus.com", "dsq": "http://disqus.com/disqus-internals"}
_DSQ_ID = "{http://disqus.com/disqus-internals}id"

# The embed's markup (the frame's document once Disqus has drawn it).
_CLASS = 'contains(concat(" ", normalize-space(@class), " "), " {} ")'
_POSTS = etree.XPath(f"//li[{_CLASS.format('post')}]")
_THREAD_DATA = etree.XPath('//script[@id="disqus-threadData"]')
_COUNT = etree.XPath(f'//*[{_CLASS.format("comment-count")}]')
_AUTHOR = etree.XPath(f'.//*[{_CLASS.format("author")}]')
_TIME = etree.XPath(f'.//a[{_CLASS.format("time-ago")} or @data-role="relative-time"]')
_MESSAGE = etree.XPath(f'.//*[{_CLASS.format("post-message")} or @data-role="message"]')
_CONTENT = etree.XPath(f'./*[{_CLASS.format("post-content")}]')
_POST_ID = re.compile(r"^post-(\d+)$")
_COMMENT_ANCHOR = re.compile(r"#comment-(\d+)$")
_DIGITS = re.compile(r"\d[\d\s.,\u202f\u00a0]*")
# The English tooltip of a.time-ago ("Tuesday, March 3, 2020 10:15 AM"), in the reader's zone.
_TOOLTIP_FORMAT = "%A, %B %d, %Y %I:%M %p"


def detect(tree: HtmlElement, page_url: str, raw: bytes | None = None) -> list[CommentSource]:
    """The page's Disqus thread, when it embeds one."""
    if raw is not None and b"disqus" not in raw.lower():
        return []
    shortname = identifier = link = None
    for script in _SCRIPTS(tree):
        text = (script.text or "") + " " + (script.get("src") or "")
        for pattern in _SHORTNAME_VARS:
            match = pattern.search(text)
            if match and match.group(1) not in ("www", "disqus", "c", "a"):
                shortname = shortname or match.group(1)
        found = _IDENTIFIER.search(text)
        if found:
            identifier = identifier or found.group(1)
        url = _LINK.search(text)
        if url:
            link = link or url.group(1)
    if shortname is None and not _THREAD_DIV(tree):
        return []
    detail = [("shortname", shortname or "")]
    if identifier:
        detail.append(("identifier", identifier))
    if link:
        detail.append(("link", link))
    return [CommentSource(DISQUS, page_url.split("#")[0], "detected", tuple(sorted(detail)))]


def needs_browser(
    page_id: int, page_url: str, source: CommentSource, shown: int | None
) -> CommentsResult:
    """The result for a Disqus thread met by a crawl without Chromium: a state, never a deletion."""
    return CommentsResult(
        page_id=page_id,
        page_url=page_url,
        source=source,
        fetched_at=time.time(),
        shown_count=shown,
        complete=False,
        state=NEEDS_BROWSER,
        error=NEEDS_BROWSER_ERROR,
    )


# --- the embed's markup -----------------------------------------------------------------------


@dataclass
class EmbedRead:
    """What the frame's document says: its comments, the thread's count, what could not be read."""

    comments: list[Comment] = field(default_factory=list)
    count: int | None = None  # the thread's own count (threadData, else "26 comments")
    has_more: bool = False  # threadData says its first page is not the whole thread
    thread_data: bool = False  # the frame held a readable disqus-threadData script
    posts: int = 0  # li.post elements drawn (deleted ones included)
    unreadable: list[str] = field(default_factory=list)  # posts drawn without a message


def parse_embed(html: str, page_url: str) -> EmbedRead:
    """The comments of a Disqus frame's document (markup and threadData, merged by post id).

    Posts Disqus marks as deleted (``isDeleted``, a ``deleted`` class) are left out: they are not
    in the thread. threadData's fields win over the markup's (exact dates, explicit parents).
    """
    from lxml import html as lxml_html

    read = EmbedRead()
    if not html.strip():
        return read
    try:
        tree = lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        read.unreadable.append("the frame's document")
        return read
    drawn: dict[str, Comment] = {}
    gone: set[str] = set()
    for li in _POSTS(tree):
        read.posts += 1
        key, comment = _drawn_post(li, page_url)
        if comment is None:
            if _deleted(li):
                if key is not None:
                    gone.add(key)
            else:
                read.unreadable.append(key or f"post {read.posts}")
            continue
        drawn[comment.key] = comment
    data = _thread_data(tree)
    listed: dict[str, Comment] = {}
    if data is not None:
        read.thread_data = True
        read.count, read.has_more, link, posts = data
        for post in posts:
            pid = _post_id(post)
            if pid is None:
                continue
            if is_hidden(post):
                gone.add(pid)
                continue
            comment = post_comment(post, link or page_url)
            if comment is not None:
                listed[comment.key] = comment
    if read.count is None:
        read.count = _drawn_count(tree)
    merged = {**drawn, **listed}
    read.comments = [merged[key] for key in _order(drawn, listed) if key not in gone]
    read.unreadable = [key for key in read.unreadable if key not in listed and key not in gone]
    return read


def post_comment(post: Any, thread_link: str | None = None) -> Comment | None:
    """A comment from a Disqus post object (threadData or the API); None if it is not one."""
    pid = _post_id(post)
    if pid is None:
        return None
    author = post.get("author")
    name = (author.get("name") or author.get("username")) if isinstance(author, dict) else None
    parent = post.get("parent")
    parent_key = str(parent) if isinstance(parent, (int, str)) and str(parent).isdigit() else None
    thread = post.get("thread")
    link = thread.get("link") if isinstance(thread, dict) else None
    base = link if isinstance(link, str) and link else thread_link
    created = post.get("createdAt")
    if isinstance(created, str) and created and not created.endswith("Z") and "+" not in created:
        created = f"{created}Z"  # Disqus gives UTC without saying so
    return Comment(
        key=pid,
        system_id=pid,
        author=(str(name).strip() or None) if name else None,
        posted_at=normalise_date(created),
        text=html_text(str(post.get("message") or "")),
        parent_key=parent_key if parent_key != "0" else None,
        permalink=f"{base.split('#')[0]}#comment-{pid}" if base else None,
    )


def _drawn_post(li: HtmlElement, page_url: str) -> tuple[str | None, Comment | None]:
    """(key, comment) of one drawn ``li.post``; the comment is None when it shows no message."""
    own = _own_content(li)
    times = _own(li, _TIME(own))
    href = times[0].get("href") if times else None
    match = _POST_ID.match(li.get("id") or "")
    anchor = _COMMENT_ANCHOR.search(href or "")
    system_id = match.group(1) if match else anchor.group(1) if anchor else None
    messages = _own(li, _MESSAGE(own))
    authors = _own(li, _AUTHOR(own))
    author = (" ".join(authors[0].text_content().split()) or None) if authors else None
    posted = _drawn_date(times[0]) if times else None
    if not messages or _deleted(li):
        return system_id, None
    text = element_text(messages[0])
    parent = _post_of(li)  # a reply sits in its parent's ul.children
    parent_key = None
    if parent is not None:
        parent_match = _POST_ID.match(parent.get("id") or "")
        parent_key = parent_match.group(1) if parent_match else None
    return system_id, Comment(
        key=comment_key(system_id, author, posted, text),
        system_id=system_id,
        author=author,
        posted_at=posted,
        text=text,
        parent_key=parent_key,
        permalink=urljoin(page_url, href) if href and href != "#" else None,
    )


def _own_content(li: HtmlElement) -> HtmlElement:
    """The post's own ``.post-content`` (its replies sit beside it, in ``ul.children``)."""
    content = _CONTENT(li)
    return content[0] if content else li


def _own(li: HtmlElement, found: list[HtmlElement]) -> list[HtmlElement]:
    """The elements of ``found`` that belong to ``li`` itself, not to one of its replies."""
    return [el for el in found if _post_of(el) is li]


def _post_of(element: HtmlElement) -> HtmlElement | None:
    """The nearest ``li.post`` holding ``element``."""
    node = element.getparent()
    while node is not None:
        if node.tag == "li" and "post" in (node.get("class") or "").split():
            return node
        node = node.getparent()
    return None


def _deleted(li: HtmlElement) -> bool:
    """True when Disqus draws the post as deleted (a placeholder kept for its replies)."""
    classes = (li.get("class") or "").split()
    content = _CONTENT(li)
    if content:
        classes += (content[0].get("class") or "").split()
    return any("deleted" in name for name in classes)


def _drawn_date(link: HtmlElement) -> str | None:
    """The posting time of a drawn post: ``datetime=``, else its tooltip (``title=``)."""
    value = link.get("datetime") or link.get("title")
    if not value:
        return None
    flat = " ".join(value.split()).replace(" at ", " ")  # newer browsers write "2026 at 11:30"
    try:  # the English tooltip, a local time without a zone
        return datetime.strptime(flat, _TOOLTIP_FORMAT).isoformat()
    except ValueError:
        return normalise_date(value)


def _thread_data(tree: HtmlElement) -> tuple[int | None, bool, str | None, list[Any]] | None:
    """(count, more posts than listed, thread link, posts) of the disqus-threadData script."""
    scripts = _THREAD_DATA(tree)
    if not scripts:
        return None
    try:
        data = json.loads(scripts[0].text or "")
    except (ValueError, RecursionError):
        logger.debug("disqus: unreadable threadData")
        return None
    response = data.get("response") if isinstance(data, dict) else None
    if not isinstance(response, dict) or not isinstance(response.get("posts"), list):
        return None
    thread = response.get("thread")
    count = thread.get("posts") if isinstance(thread, dict) else None
    link = thread.get("link") if isinstance(thread, dict) else None
    cursor = data.get("cursor")
    more = bool(cursor.get("hasNext")) if isinstance(cursor, dict) else False
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        count = None
    return count, more, link if isinstance(link, str) and link else None, response["posts"]


def _drawn_count(tree: HtmlElement) -> int | None:
    """The count in the frame's tab (``<span class="comment-count">26 comments</span>``)."""
    for element in _COUNT(tree):
        match = _DIGITS.search(element.text_content())
        if match:
            digits = re.sub(r"\D", "", match.group(0))
            if digits:
                return int(digits)
    return None


def _post_id(post: Any) -> str | None:
    if not isinstance(post, dict):
        return None
    pid = post.get("id")
    if isinstance(pid, bool) or not isinstance(pid, (int, str)) or not str(pid).isdigit():
        return None
    return str(pid)


def is_hidden(post: dict[str, Any]) -> bool:
    """A post that is not public: deleted, spam, or awaiting moderation."""
    return bool(post.get("isDeleted") or post.get("isSpam")) or post.get("isApproved") is False


def _order(drawn: dict[str, Comment], listed: dict[str, Comment]) -> list[str]:
    """Keys in reading order: as drawn, then listed-only ones."""
    keys = list(drawn)
    keys += [key for key in listed if key not in drawn]
    return keys


# --- exports ----------------------------------------------------------------------------------


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
