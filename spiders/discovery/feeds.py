"""Read RSS, Atom and JSON Feed documents into a list of entries (article URL, title, summary).

feedparser does the RSS and Atom work, and is lenient: a feed with an unclosed tag still gives
its entries (``Feed.warning`` then says what was wrong). What it must never see:

- **entity declarations** (``<!ENTITY``): a "billion laughs" document expands 10 levels of
  entities into gigabytes, and ``<!ENTITY x SYSTEM "file:///etc/passwd">`` reads local files
  (FAULTS F21). feedparser strips only some declarations (those at the start of a line) and then
  relies on expat's amplification limit, which took over a second and 60 MB on one
  single-line bomb here. Real feeds never declare entities, so such a document is refused
  outright, before any parser sees it;
- **a URL or a path**: ``feedparser.parse(str)`` fetches URLs and opens files. It is only ever
  given bytes, wrapped in :class:`io.BytesIO`.

JSON Feed (https://jsonfeed.org, versions 1 and 1.1) is read here directly: feedparser 6 does
not read it.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from w3lib.html import remove_tags, replace_entities

from spiders.discovery.errors import FeedError
from spiders.items import normalise_line

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
SUMMARY_CHARS = 2000  # enough to match a topic on; a summary is not the article
CONTENT_CHARS = 100_000  # full text a feed may carry (content:encoded)
HTTP = ("http", "https")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_WIDE_ENTITY = re.compile("<!ENTITY", re.IGNORECASE)
# Content type or charset declarations that do not match: common, and harmless to the entries.
_BENIGN = feedparser.exceptions.ThingsNobodyCaresAboutButMe


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed: an article the publisher announces."""

    url: str  # absolute
    title: str | None = None
    summary: str | None = None  # plain text
    content: str | None = None  # plain text of the full article, when the feed carries it
    language: str | None = None
    published: str | None = None  # ISO 8601 UTC


@dataclass(frozen=True)
class Feed:
    """A parsed feed."""

    url: str
    kind: str  # feedparser's version ("rss20", "atom10", ...) or "json"
    title: str | None
    language: str | None
    entries: tuple[FeedEntry, ...]
    skipped: int = 0  # entries without an article link (a podcast episode, a note)
    truncated: int = 0  # entries left out past max_entries
    warning: str | None = None  # what was malformed, when the entries could still be read


def parse_feed(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    max_entries: int = 10_000,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Feed:
    """Parse an RSS, Atom or JSON feed; raise :class:`FeedError` for anything that is not one."""
    if not body.strip():
        raise FeedError(f"{url}: empty response, not a feed", url=url, reason="empty")
    if len(body) > max_bytes:
        raise FeedError(
            f"{url}: feed of {len(body)} bytes is larger than the {max_bytes}-byte limit; "
            "raise [http] max_response_size if it is genuine",
            url=url, reason="too_large",
        )
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"[") or (content_type and "json" in content_type.lower()):
        return _parse_json_feed(stripped, url, max_entries)
    if declares_entities(body):
        raise FeedError(
            f"{url}: the feed declares XML entities (<!ENTITY>), which veille refuses: they "
            "serve entity-expansion ('billion laughs') and external-entity (XXE) attacks",
            url=url, reason="xml_entities",
        )
    # Without a content type feedparser flags every document; a feed served as text/html or
    # with a wrong charset is common and harmless: neither is worth a warning.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(problem, _BENIGN):
        problem = None
    if not parsed.get("version") and not parsed.entries:
        raise FeedError(
            f"{url}: not an RSS, Atom or JSON feed ({looks_like(body)}); check the source's "
            "url and type",
            url=url, reason="not_a_feed",
        )
    channel = parsed.feed
    feed_language = _language(channel.get("language"))
    entries: list[FeedEntry] = []
    skipped = 0
    for raw in parsed.entries:
        if len(entries) >= max_entries:
            break
        entry = _entry(raw, url, feed_language)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    truncated = max(0, len(parsed.entries) - skipped - len(entries))
    warning = f"malformed feed, read leniently: {problem}" if problem else None
    if warning:
        logger.info("%s: %s", url, warning)
    return Feed(
        url=url, kind=str(parsed.get("version") or "unknown"), title=_text(channel.get("title")),
        language=feed_language, entries=tuple(entries), skipped=skipped, truncated=truncated,
        warning=warning,
    )


_ROOT = re.compile(rb"<([A-Za-z][\w:.-]*)")


def looks_like(body: bytes) -> str:
    """What a document that is not the expected one seems to be, for an error message."""
    head = re.sub(rb"<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>]*>", b"", body[:4096], flags=re.S | re.I)
    match = _ROOT.search(head)
    if match is None:
        return "no XML element at the start" if head.strip() else "empty"
    root = match.group(1).decode("ascii", "replace").lower()
    if root in ("html", "head", "body"):
        return "it is an HTML page"
    if root.endswith(("urlset", "sitemapindex")):
        return f"it is a sitemap (<{root}>)"
    if root.endswith(("rss", "feed", "rdf")):
        return f"root <{root}> without any entry that could be read"
    return f"its root element is <{root}>"


def declares_entities(body: bytes) -> bool:
    """True if the document declares entities, in any of the encodings XML allows."""
    if _ENTITY_DECLARATION.search(body):
        return True
    if b"\x00" in body[:512]:  # UTF-16 or UTF-32: look at the decoded text
        for codec in ("utf-16", "utf-32"):
            try:
                return bool(_WIDE_ENTITY.search(body.decode(codec)))
            except UnicodeDecodeError:
                continue
    return False


def _entry(raw: Any, feed_url: str, feed_language: str | None) -> FeedEntry | None:
    """One feedparser entry as a FeedEntry, or None when it links to no web page."""
    link = _article_link(raw, feed_url)
    if link is None:
        return None
    summary = _text(raw.get("summary"), SUMMARY_CHARS)
    contents = [c.get("value", "") for c in raw.get("content") or () if isinstance(c, dict)]
    content = _text(" ".join(contents), CONTENT_CHARS) if contents else None
    detail = raw.get("title_detail") or {}
    language = _language(raw.get("language") or detail.get("language")) or feed_language
    parsed_time = raw.get("published_parsed") or raw.get("updated_parsed")
    published = time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed_time) if parsed_time else None
    return FeedEntry(
        url=link, title=_text(raw.get("title")), summary=summary, content=content,
        language=language, published=published,
    )


def _article_link(raw: Any, feed_url: str) -> str | None:
    """The entry's web page: its link, an alternate link, or a permalink id."""
    candidates = [raw.get("link")]
    candidates += [
        link.get("href") for link in raw.get("links") or ()
        if link.get("rel", "alternate") == "alternate"
    ]
    if raw.get("guidislink") or str(raw.get("id", "")).startswith(("http://", "https://")):
        candidates.append(raw.get("id"))
    for candidate in candidates:
        if not candidate or not isinstance(candidate, str):
            continue
        absolute = urljoin(feed_url, candidate.strip())
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return None


def _text(value: object, limit: int = 1000) -> str | None:
    """Plain text of an HTML or text field: tags removed, entities decoded, one line."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value
    if "<" in text or "&" in text:
        text = replace_entities(remove_tags(text))
    text = normalise_line(text)
    return text[:limit] or None


def _language(value: object) -> str | None:
    """A language tag (``fr``, ``en-US``), or None."""
    if not isinstance(value, str):
        return None
    value = value.strip().replace("_", "-")
    return value if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", value) else None


def _parse_json_feed(body: bytes, url: str, max_entries: int) -> Feed:
    """A JSON Feed (version 1 or 1.1)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." (FAULTS F23)
        raise FeedError(
            f"{url}: invalid JSON feed ({type(exc).__name__}: {str(exc)[:100]})",
            url=url, reason="not_a_feed",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedError(
            f"{url}: JSON without an 'items' list is not a JSON Feed; check the source's url",
            url=url, reason="not_a_feed",
        )
    feed_language = _language(data.get("language"))
    entries: list[FeedEntry] = []
    skipped = 0
    for item in data["items"]:
        if len(entries) >= max_entries:
            break
        if not isinstance(item, dict):
            skipped += 1
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or urlsplit(urljoin(url, link)).scheme not in HTTP:
            skipped += 1
            continue
        content = item.get("content_text") or item.get("content_html")
        entries.append(FeedEntry(
            url=urljoin(url, link),
            title=_text(item.get("title")),
            summary=_text(item.get("summary"), SUMMARY_CHARS),
            content=_text(content, CONTENT_CHARS),
            language=_language(item.get("language")) or feed_language,
            published=_iso(item.get("date_published")),
        ))
    truncated = max(0, len(data["items"]) - skipped - len(entries))
    return Feed(
        url=url, kind="json", title=_text(data.get("title")), language=feed_language,
        entries=tuple(entries), skipped=skipped, truncated=truncated,
    )


def _iso(value: object) -> str | None:
    """A JSON Feed date (RFC 3339) as given, when it looks like one."""
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value
    return None
