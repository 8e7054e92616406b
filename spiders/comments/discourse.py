"""Discourse forum topics: found from the article, read through the forum's JSON.

Detection: a link to ``/t/<slug>/<id>`` whose text or surroundings speak of the forum, messages
or comments (« Voir tous les messages sur le forum »), or a Discourse embed
(``DiscourseEmbed = {discourseUrl: …, topicId: …}``).

Reading (FAULTS F22): ``/t/<slug>/<id>.json`` gives the first posts and ``post_stream.stream``,
the ids of every post in the topic. Those ids say which posts exist, whatever the topic's size;
the others are then asked for by id, ``chunk`` at a time, with
``/t/<id>/posts.json?post_ids[]=…``. A thread costs at most ``max_requests`` requests per run:
posts newer than the highest id read before come first, then known posts are re-read in turn
from a cursor, so a 100,000-post topic is read over many runs in bounded memory while its new
posts are seen at once. The topic's opening post is the article itself and is not a comment.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import scrapy
from lxml import etree

from spiders.comments.identity import html_text, normalise_date
from spiders.comments.items import (
    DISCOURSE,
    Comment,
    CommentSource,
    CommentsResult,
    SourceState,
)
from spiders.comments.readers import ThreadRead, json_body

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from scrapy.http import Response

logger = logging.getLogger(__name__)

_TOPIC_PATH = re.compile(
    r"^(?P<prefix>.*?)/t/(?:(?P<slug>[^/?#]+)/)?(?P<id>\d+)(?:/\d+)?/?(?:\.json)?$"
)
_FORUM_WORDS = re.compile(
    r"forum|discu|message|comment|réag|reag|débat|debat|conversation|topic|sujet|thread|"
    r"répon|repon|reply|replies|kommentar|diskussion",
    re.IGNORECASE,
)
_LINKS = etree.XPath('//a[contains(@href, "/t/")]')
_EMBED_SCRIPTS = etree.XPath('//script[contains(., "DiscourseEmbed")]')
_EMBED_URL = re.compile(r"discourseUrl\s*:\s*['\"]([^'\"]+)['\"]")
_EMBED_TOPIC = re.compile(r"topicId\s*:\s*['\"]?(\d+)")
# Parts of a cooked post that are not its words: an image's file name and size (which the
# forum's own RSS leaves out too).
CAPTIONS = etree.XPath(
    './/div[contains(@class, "lightbox-wrapper")]//div[contains(@class, "meta")]'
)
# Discourse's own chunk: a posts.json request asks for at most this many ids.
MAX_CHUNK = 100


def topic_source(url: str, *, origin: str = "detected") -> CommentSource | None:
    """The source for a topic URL (``https://forum/t/slug/123``), or None if it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    match = _TOPIC_PATH.match(parts.path)
    if not match:
        return None
    base = f"{parts.scheme}://{parts.netloc}{match.group('prefix')}"
    slug, topic = match.group("slug"), match.group("id")
    if slug and slug.isdigit():  # /t/<id>/<post number>, no slug
        slug, topic = None, slug
    detail = [("base", base), ("topic", topic)]
    if slug:
        detail.append(("slug", slug))
    return CommentSource(DISCOURSE, f"{base}/t/{topic}", origin, tuple(sorted(detail)))


def detect(tree: HtmlElement, page_url: str, raw: bytes | None = None) -> list[CommentSource]:
    """Discourse topics the page links to or embeds (usually one)."""
    found: list[CommentSource] = []
    if raw is not None and b"/t/" not in raw and b"DiscourseEmbed" not in raw:
        return found
    for script in _EMBED_SCRIPTS(tree):
        text = script.text or ""
        base, topic = _EMBED_URL.search(text), _EMBED_TOPIC.search(text)
        if base and topic:
            forum = urljoin(page_url, base.group(1)).rstrip("/")
            source = topic_source(f"{forum}/t/{topic.group(1)}")
            if source and source not in found:
                found.append(source)
    for link in _LINKS(tree):
        href = urljoin(page_url, link.get("href", "").strip())
        if "/t/" not in href:
            continue
        source = topic_source(href.split("#")[0].split("?")[0])
        if source is None or any(s.url == source.url for s in found):
            continue
        if _speaks_of_forum(link):
            found.append(source)
    return found


def _speaks_of_forum(link: HtmlElement) -> bool:
    """A topic link meant as "the discussion of this article", not a link in the body text."""
    texts = [link.text_content(), link.get("title") or "", link.get("class") or ""]
    parent = link.getparent()
    if parent is not None:
        texts += [parent.get("class") or "", parent.get("id") or ""]
    return any(_FORUM_WORDS.search(t) for t in texts if t)


@dataclass
class DiscourseRead(ThreadRead):
    """One run's reading of one topic: the topic JSON, then chunks of posts by id."""

    state: SourceState | None = None
    chunk: int = 20
    opening: set[int] = field(default_factory=set)
    gone: set[int] = field(default_factory=set)  # posts shown as a "deleted" stub
    stream: list[int] | None = None
    new_ids: list[int] = field(default_factory=list)  # above the old high-water mark, in order
    known_ids: list[int] = field(default_factory=list)  # the others, from the cursor on
    queue: list[int] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)  # asked for and answered (or given up)
    asked_again: set[int] = field(default_factory=set)
    numbers: dict[int, str] = field(default_factory=dict)  # post number -> key
    parents: dict[str, int] = field(default_factory=dict)  # key -> reply_to_post_number

    def start(self) -> scrapy.Request:
        """The topic request."""
        slug, topic = self.source.get("slug"), self.source.get("topic")
        path = f"/t/{quote(slug)}/{topic}.json" if slug else f"/t/{topic}.json"
        return self.request(f"{self.source.get('base')}{path}", self.on_topic)

    def on_topic(self, response: Response) -> Iterator[scrapy.Request | CommentsResult]:
        """Read the first posts and the stream, then ask for the others."""
        data, error = json_body(response)
        stream = _dig(data, "post_stream", "stream")
        posts = _dig(data, "post_stream", "posts")
        if error is None and (not isinstance(stream, list) or not isinstance(posts, list)):
            error = "topic JSON without post_stream.stream and post_stream.posts"
        if error is not None:
            yield self.fail(error, response)
            return
        self.stream = [i for i in stream if isinstance(i, int) and not isinstance(i, bool)]
        if self.stream:  # the stream runs in post order: its head is the opening post
            self.opening.add(self.stream[0])
        self.consumed |= self.take(posts)
        self.plan()
        yield from self.next_or_finish()

    def plan(self) -> None:
        """Order the ids still to read: new posts first (in order), then known ones in turn."""
        assert self.stream is not None
        high = self.state.high_water if self.state else None
        cursor = self.state.cursor if self.state else None
        ids = [i for i in self.stream if i not in self.opening]
        self.new_ids = [i for i in ids if high is None or i > high]
        known = [i for i in ids if high is not None and i <= high]
        if cursor is not None:
            known = [i for i in known if i > cursor] + [i for i in known if i <= cursor]
        self.known_ids = known
        self.queue = [i for i in self.new_ids + self.known_ids if i not in self.consumed]

    def next_or_finish(self) -> Iterator[scrapy.Request | CommentsResult]:
        """The next chunk request, or the result when nothing (or no budget) is left."""
        if self.queue and self.requests < self.max_requests:
            ids, self.queue = self.queue[: self.chunk], self.queue[self.chunk :]
            params = urlencode([("post_ids[]", str(i)) for i in ids])
            url = f"{self.source.get('base')}/t/{self.source.get('topic')}/posts.json?{params}"
            yield self.request(url, self.on_posts, asked=ids)
            return
        yield self.finish()

    def on_posts(
        self, response: Response, asked: list[int]
    ) -> Iterator[scrapy.Request | CommentsResult]:
        """One chunk of posts; ids the forum left out of a shorter chunk are asked once more."""
        data, error = json_body(response)
        posts = _dig(data, "post_stream", "posts")
        if error is None and not isinstance(posts, list):
            error = "posts JSON without post_stream.posts"
        if error is not None:
            yield self.fail(error, response)
            return
        got = self.take(posts)
        retry: list[int] = []
        if got and len(got) < len(asked):
            # The forum caps its chunks below what was asked: ask that many at a time.
            self.chunk = max(1, min(self.chunk, len(got)))
            retry = [i for i in asked if i not in got and i not in self.asked_again]
            self.asked_again.update(retry)
            self.queue[:0] = retry
        # An id asked twice and never returned was deleted meanwhile: the next run will see.
        self.consumed.update(i for i in asked if i not in retry)
        yield from self.next_or_finish()

    def take(self, posts: list[Any]) -> set[int]:
        """Add the posts of a response; return their ids."""
        ids: set[int] = set()
        base = str(self.source.get("base"))
        for post in posts:
            if not isinstance(post, dict) or not isinstance(post.get("id"), int):
                continue
            pid = int(post["id"])
            ids.add(pid)
            number = post.get("post_number")
            if number == 1:
                self.opening.add(pid)  # the article itself
                continue
            if post.get("deleted_at") or post.get("user_deleted"):
                self.gone.add(pid)
                continue
            key = str(pid)
            if isinstance(number, int):
                self.numbers[number] = key
            reply_to = post.get("reply_to_post_number")
            if isinstance(reply_to, int) and reply_to > 1:
                self.parents[key] = reply_to
            url = post.get("post_url")
            self.comments[key] = Comment(
                key=key,
                system_id=key,
                author=str(post.get("username") or post.get("name") or "") or None,
                posted_at=normalise_date(post.get("created_at")),
                text=html_text(str(post.get("cooked") or ""), CAPTIONS),
                # post_url is absolute from the site's root (a sub-folder forum included).
                permalink=urljoin(base + "/", str(url)) if url else None,
            )
        return ids

    def finish(self) -> CommentsResult:
        """The posts read, the stream as the list of posts present, and where to resume."""
        comments = []
        for key, comment in sorted(self.comments.items(), key=lambda kv: int(kv[0])):
            parent = self.numbers.get(self.parents.get(key, 0))
            comments.append(replace(comment, parent_key=parent) if parent else comment)
        high = self.state.high_water if self.state else None
        for pid in self.new_ids:  # the mark moves over new posts read without a gap
            if pid not in self.consumed:
                break
            high = pid
        cursor = self.state.cursor if self.state else None
        if self.stream is not None and not self.queue and not self.errors:
            cursor = None  # a whole turn is done: the next one starts from the top
        else:
            for pid in self.known_ids:
                if pid not in self.consumed:
                    break
                cursor = pid
        listed = None
        if self.stream is not None:
            listed = frozenset(str(i) for i in self.stream if i not in self.opening | self.gone)
        error = "; ".join(self.errors) or None
        unread = len(listed - self.comments.keys()) if listed is not None else 0
        if error is None and self.queue:
            error = (
                f"read {len(comments)} of {len(listed or ())} posts within the budget of "
                f"{self.max_requests} requests; the next runs read on"
            )
        elif error is None and unread:
            error = f"{unread} posts listed by the topic were not returned by the forum"
        return self.result(
            comments=tuple(comments),
            complete=self.stream is not None and not self.errors,
            listed=listed,
            state="ok" if self.stream is not None and not unread and not self.errors else "partial",
            error=error,
            high_water=high,
            cursor=cursor,
        )


def _dig(data: Any, *names: str) -> Any:
    for name in names:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data


