"""Typed values that leave the spiders: an extracted article and the result of one fetch.

These are the contract between ``spiders/`` (fetch and extract) and ``monitor/`` (diff and store):
plain frozen dataclasses, so either side can be tested alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spiders.comments.items import CommentPlan

# Every kind of whitespace, including no-break and zero-width spaces that CMSs sprinkle around.
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def normalise_line(text: str) -> str:
    """NFC, every run of whitespace becomes one space, trimmed."""
    text = unicodedata.normalize("NFC", text)
    # str.split() splits on exactly the whitespace \s matches; the two spaces it does not
    # know are made ordinary first. Several times faster than _SPACES.sub on short lines.
    if "\u200b" in text or "\ufeff" in text:
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
    return " ".join(text.split())


def normalise_body(text: str) -> str:
    """Normalise a body: paragraphs (split on single or blank lines) joined by one blank line.

    A re-serialised but identical article (other line wrapping, other whitespace, NFD accents)
    normalises to the same string, so it hashes to the same version.
    """
    lines = (normalise_line(line) for line in text.replace("\r", "\n").split("\n"))
    return "\n\n".join(line for line in lines if line)


def paragraphs(body: str) -> list[str]:
    """The paragraphs of a normalised body."""
    return [p for p in _PARAGRAPH_BREAK.split(body) if p.strip()] if body else []


@dataclass(frozen=True)
class Article:
    """What veille understands of an article page: its content, not its page text.

    ``body`` is normalised (see :func:`normalise_body`): paragraphs separated by a blank line.
    Dates are ISO 8601 strings as found (a date or a datetime). Only the *content fields*
    (title, body, authors, published, modified) make a version; the rest is metadata.
    """

    title: str
    body: str
    authors: tuple[str, ...] = ()
    published: str | None = None
    modified: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, absolute url)
    description: str | None = None

    def content(self) -> dict[str, object]:
        """The normalised fields that define a version."""
        return {
            "title": normalise_line(self.title),
            "body": normalise_body(self.body),
            "authors": [normalise_line(a) for a in self.authors],
            "published": self.published,
            "modified": self.modified,
        }

    def content_hash(self) -> str:
        """SHA-256 of the normalised content fields: the id of a version."""
        blob = json.dumps(self.content(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def word_count(self) -> int:
        """Number of words in the body."""
        return len(self.body.split())


@dataclass(frozen=True)
class FetchResult:
    """One fetch of a watched page, as the spider saw it.

    ``state`` says what the fetch yielded:

    - ``ok``: an article was extracted (``article`` is set, ``raw`` holds the HTML bytes);
    - ``not_modified``: the server answered 304;
    - ``gone``: 404 or 410;
    - an anomaly (``empty``, ``blocked``, ``error_page``): a 200 that is not the article;
    - an error (``http_error``, ``timeout``, ``too_large``, ``redirect_loop``, ``not_html``,
      ``dns_error``, ``connection_error``, ``truncated``, ``robots``, ``parse_error``, ``error``).
    """

    page_id: int
    url: str
    state: str
    fetched_at: float  # Unix time, UTC
    duration_ms: int = 0
    http_status: int | None = None
    final_url: str | None = None
    nbytes: int = 0
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    encoding: str | None = None
    raw: bytes | None = None
    article: Article | None = None
    error: str | None = None
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        """True when the fetch failed: nothing about the content can be concluded."""
        return self.state not in {
            "ok", "same_raw", "same_region", "not_modified", "gone", "empty", "blocked",
            "error_page",
        }


@dataclass(frozen=True)
class WatchTarget:
    """A page the watch spider must fetch, with what it needs for a conditional GET."""

    page_id: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_raw_sha256: str | None = None
    selector: str | None = None
    ignore: tuple[str, ...] = ()
    region: str | None = None  # where the article was found last time (see spiders.fingerprint)
    region_fp: str | None = None
    comments: CommentPlan | None = None  # how to read its reader comments (None: not at all)
    render: str = "http"  # "http", "auto" or "browser" (spiders.browser); "browser" renders now


@dataclass(frozen=True)
class Extracted:
    """What :func:`extract_page` made of a page (picklable: it may come from a worker)."""

    state: str  # ok, same_region, an anomaly, or parse_error
    article: Article | None = None
    encoding: str | None = None
    error: str | None = None
    region: str | None = None  # where the article lives, for the next fetch's fast path
    region_fp: str | None = None
