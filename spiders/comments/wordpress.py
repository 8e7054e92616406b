"""WordPress comments through the REST API: ``/wp-json/wp/v2/comments?post=<id>``, every page.

The post id comes from the article's HTML: ``<link rel="shortlink" href="…?p=123">``, the body
class ``postid-123``, or a ``wp-json/wp/v2/posts/123`` link; the API root from
``<link rel="https://api.w.org/">`` (a site without pretty permalinks gives
``index.php?rest_route=/``). Pages are asked for oldest comment first (``orderby=id``), so a
comment posted while veille reads lands on the last page instead of shifting the others; a total
(``X-WP-Total``) that moves during the read makes it partial all the same.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

import scrapy
from lxml import etree

from spiders.comments.identity import html_text, normalise_date
from spiders.comments.items import WORDPRESS, Comment, CommentSource, CommentsResult
from spiders.comments.readers import ThreadRead, json_body

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from scrapy.http import Response

logger = logging.getLogger(__name__)

PER_PAGE = 100  # the API's maximum
_API_LINK = etree.XPath('//link[@rel="https://api.w.org/"]/@href')
_SHORTLINK = etree.XPath('//link[@rel="shortlink"]/@href')
_POST_JSON = etree.XPath('//link[@rel="alternate"][contains(@href, "/wp/v2/posts/")]/@href')
_BODY_CLASS = etree.XPath("//body/@class")
_SHORT_ID = re.compile(r"[?&]p=(\d+)\b")
_POST_CLASS = re.compile(r"\bpostid-(\d+)\b")
_POST_PATH = re.compile(r"/wp/v2/posts/(\d+)\b")
_WP_MARKS = (b"/wp-content/", b"/wp-includes/", b"wp-json")
# Each way post_id finds an id needs one of these in the page's bytes.
_POST_ID_MARKS = (b"shortlink", b"postid-", b"/wp/v2/posts/")


def detect(tree: HtmlElement, page_url: str, raw: bytes | None = None) -> list[CommentSource]:
    """The page's WordPress comment collection, when the page is a WordPress post."""
    if raw is not None and not any(mark in raw for mark in _POST_ID_MARKS):
        return []  # no post id anywhere: three scans of the tree saved
    post = post_id(tree)
    if post is None:
        return []
    api = next((urljoin(page_url, h.strip()) for h in _API_LINK(tree) if h.strip()), None)
    if api is None:
        if raw is not None and not any(mark in raw for mark in _WP_MARKS):
            return []
        parts = urlsplit(page_url)
        api = f"{parts.scheme}://{parts.netloc}/wp-json/"
    return [collection_source(api, post)]


def post_id(tree: HtmlElement) -> str | None:
    """The WordPress post id of the page, if it says."""
    for href in _SHORTLINK(tree):
        match = _SHORT_ID.search(href)
        if match:
            return match.group(1)
    for cls in _BODY_CLASS(tree):
        match = _POST_CLASS.search(cls)
        if match:
            return match.group(1)
    for href in _POST_JSON(tree):
        match = _POST_PATH.search(href)
        if match:
            return match.group(1)
    return None


def collection_source(api_root: str, post: str, *, origin: str = "detected") -> CommentSource:
    """The source for post ``post`` of the site whose REST root is ``api_root``."""
    if "rest_route=" in api_root:  # plain permalinks: index.php?rest_route=/
        root = api_root.split("rest_route=")[0]
        url = f"{root}rest_route=/wp/v2/comments&{urlencode({'post': post})}"
    else:
        url = api_root.rstrip("/") + "/wp/v2/comments?" + urlencode({"post": post})
    return CommentSource(WORDPRESS, url, origin, (("post", post),))


@dataclass
class WordPressRead(ThreadRead):
    """One run's reading of one post's comments: page 1, 2… up to ``X-WP-TotalPages``."""

    total: int | None = None
    pages: int | None = None
    page: int = 0
    fallback: CommentsResult | None = None  # the inline comments, if the API is closed

    def start(self) -> scrapy.Request:
        """The first page."""
        return self.next_page()

    def next_page(self) -> scrapy.Request:
        """The request for the next page of comments."""
        self.page += 1
        query = urlencode(
            {"per_page": PER_PAGE, "page": self.page, "orderby": "id", "order": "asc"}
        )
        return self.request(f"{self.source.url}&{query}", self.on_page)

    def on_page(self, response: Response) -> Iterator[scrapy.Request | CommentsResult]:
        """One page of comments."""
        if self.page == 1 and response.status in (401, 403, 404, 410) and self.fallback is not None:
            # The REST API is closed on this site: the comments printed in the page stand in.
            self.errors.append(f"REST API answered HTTP {response.status}; inline comments read")
            yield self.finish()
            yield self.fallback
            return
        data, error = json_body(response)
        if error is None and not isinstance(data, list):
            error = "expected a JSON list of comments"
        if error is not None:
            yield self.fail(error, response)
            return
        total = _header_int(response, b"X-WP-Total")
        pages = _header_int(response, b"X-WP-TotalPages")
        if self.total is not None and total is not None and total != self.total:
            yield self.fail(
                f"the number of comments changed during the read ({self.total} → {total})"
            )
            return
        self.total = total if total is not None else self.total
        self.pages = pages if pages is not None else self.pages
        for item in data:
            comment = _comment(item)
            if comment is not None:
                self.comments[comment.key] = comment
        more = len(data) >= PER_PAGE if self.pages is None else self.page < self.pages
        if more and self.requests < self.max_requests:
            yield self.next_page()
            return
        if more:
            self.errors.append(
                f"budget of {self.max_requests} requests reached on page {self.page}"
            )
        yield self.finish()

    def finish(self) -> CommentsResult:
        """The comments read; complete when every page was read and the total adds up."""
        complete = not self.errors and self.page > 0 and (
            self.total is None or len(self.comments) >= self.total
        )
        error = "; ".join(self.errors) or None
        if not self.errors and not complete:
            error = f"read {len(self.comments)} comments of {self.total}"
        return self.result(
            comments=tuple(self.comments.values()),
            complete=complete,
            state="ok" if complete else "partial",
            error=error,
        )


def _comment(item: Any) -> Comment | None:
    """A comment of the REST API (``status`` other than approved is not public: skipped)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        return None
    if item.get("status", "approved") not in ("approved", "publish"):
        return None
    content = item.get("content")
    rendered = content.get("rendered") if isinstance(content, dict) else content
    key = str(item["id"])
    parent = item.get("parent")
    gmt = item.get("date_gmt")
    if isinstance(gmt, str) and gmt and not gmt.endswith("Z"):
        gmt = f"{gmt}Z"  # date_gmt is UTC without saying so
    posted = normalise_date(gmt)
    return Comment(
        key=key,
        system_id=key,
        author=str(item.get("author_name") or "") or None,
        posted_at=posted or normalise_date(item.get("date")),
        text=html_text(str(rendered or "")),
        parent_key=str(parent) if isinstance(parent, int) and parent > 0 else None,
        permalink=item.get("link") if isinstance(item.get("link"), str) else None,
    )


def comment_from_api(item: Any) -> Comment | None:
    """A comment of a ``/wp/v2/comments`` answer (public for tests and tools)."""
    return _comment(item)


def _header_int(response: Response, name: bytes) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
