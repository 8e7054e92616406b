"""Typed values of the comments side: a comment, a source, what to read, what was read.

They leave ``spiders/`` for ``monitor/`` exactly as :class:`spiders.items.FetchResult` does:
frozen dataclasses, so either side can be tested alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# Kinds of comment source.
INLINE = "inline"
DISCOURSE = "discourse"
WORDPRESS = "wordpress"
DISQUS = "disqus"
SOURCE_KINDS = (INLINE, DISCOURSE, WORDPRESS, DISQUS)
# Kinds drawn by JavaScript in the reader's browser: read in Chromium (or through an API key).
BROWSER_KINDS = (DISQUS,)
# The state of a thread read in a crawl without Chromium: it waits for one (never a deletion).
NEEDS_BROWSER = "needs_browser"
# Disqus's public API; ``[comments] disqus_api_url`` points elsewhere (tests, a proxy).
DISQUS_API_URL = "https://disqus.com/api/3.0"

# Requests one thread may cost per run (F22): a 100k-post topic is read over many runs.
DEFAULT_MAX_REQUESTS = 50
# Posts asked for per Discourse request (its own chunk size).
DEFAULT_CHUNK = 20


@dataclass(frozen=True)
class Comment:
    """One reader comment as read: ``text`` is normalised (paragraphs split by a blank line)."""

    key: str  # the system's id, else a stable hash (see spiders.comments.identity)
    system_id: str | None
    author: str | None
    posted_at: str | None  # ISO 8601 as found, UTC with a Z when the source says so
    text: str
    parent_key: str | None = None
    permalink: str | None = None

    def text_hash(self) -> str:
        """SHA-256 of the normalised text: the id of a comment version."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CommentSettings:
    """Settings of every page's comments: the ``[comments]`` table.

    ``disqus_api_key`` is a secret: it is left out of ``repr`` and, by the Disqus reader, out of
    logs, stored errors and every message (see :mod:`spiders.comments.disqus_api`).
    """

    disqus_api_key: str | None = field(default=None, repr=False)
    disqus_api_url: str = DISQUS_API_URL


@dataclass(frozen=True)
class CommentSelectors:
    """A generic selector set for any site's inline comments (``[pages.comment_selectors]``).

    ``item`` is required; the others are CSS selectors inside an item, except ``id`` and
    ``parent``, which are attribute names on the item (without ``parent``, a comment nested in
    another item is its reply).
    """

    item: str
    container: str | None = None
    id: str | None = None
    author: str | None = None
    date: str | None = None
    text: str | None = None
    parent: str | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class CommentSource:
    """Where one thread of a page is read.

    ``url`` identifies the thread: the page itself (inline, Disqus), the topic's JSON URL
    (Discourse), the REST collection of the post's comments (WordPress). ``detail`` holds what
    the reader needs beyond it, as sorted (name, value) pairs (``("post", "123")``).
    """

    kind: str
    url: str
    origin: str = "detected"  # detected | config
    detail: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        """One value of ``detail``."""
        return next((value for key, value in self.detail if key == name), default)


@dataclass(frozen=True)
class SourceState:
    """What the last runs left for a known source: where a huge thread's reading resumes."""

    source: CommentSource
    high_water: int | None = None  # highest system id read so far (Discourse post ids grow)
    cursor: int | None = None  # the re-reading of known posts resumes after this id
    read_fp: str | None = None  # what the last inline read read (inline.comment_markup)


@dataclass(frozen=True)
class CommentPlan:
    """How to read a page's comments, set by the monitor from the config and the database.

    ``mode`` is ``auto`` (detect sources in the page), ``explicit`` (only ``sources``) or
    ``none``. ``known`` are the sources read before, with their resume state: on a 304 there is
    no page to detect anything in, and a forum thread still moves.
    """

    mode: str = "auto"
    sources: tuple[CommentSource, ...] = ()
    kinds: tuple[str, ...] = ()  # explicit mode: kinds to detect in the page ("inline"...)
    selectors: CommentSelectors | None = None
    known: tuple[SourceState, ...] = ()
    max_requests: int = DEFAULT_MAX_REQUESTS
    chunk: int = DEFAULT_CHUNK
    settings: CommentSettings = CommentSettings()

    @property
    def needs_browser(self) -> bool:
        """True when a thread to read is drawn in the browser (Disqus) and no API key reads it.

        Only sources already known or configured count: a thread first found in this run's page
        is answered ``needs_browser`` by a crawl without Chromium (see spiders.comments.spider).
        """
        if self.mode == "none":
            return False
        sources = list(self.sources) + [
            state.source for state in self.known
            if self.mode == "auto" or state.source.kind in self.kinds
        ]
        return any(s.kind in BROWSER_KINDS and not self.by_api(s) for s in sources)

    def by_api(self, source: CommentSource) -> bool:
        """True when ``source`` is read through its system's API (a Disqus key is configured)."""
        return bool(
            source.kind == DISQUS and self.settings.disqus_api_key and source.get("shortname")
        )

    def state_of(self, source: CommentSource) -> SourceState | None:
        """The resume state of ``source``, if it was read before."""
        return next(
            (s for s in self.known if (s.source.kind, s.source.url) == (source.kind, source.url)),
            None,
        )


@dataclass(frozen=True)
class CommentsResult:
    """One read of one thread.

    ``complete`` is True only when every comment of the thread is accounted for: then a stored
    comment absent from ``listed`` (or, without it, from ``comments``) is gone. ``listed`` is
    given when the system names every comment present even if not all were read this run (a
    Discourse topic's post stream). ``state`` is ``ok``, ``partial`` (some request failed or the
    per-run budget ran out), ``error`` (nothing usable) or ``needs_browser`` (a Disqus thread met by
    a crawl without Chromium: nothing was read, nothing is concluded).
    """

    page_id: int
    page_url: str
    source: CommentSource
    fetched_at: float
    comments: tuple[Comment, ...] = ()
    complete: bool = False
    shown_count: int | None = None
    listed: frozenset[str] | None = None
    state: str = "ok"
    error: str | None = None
    requests: int = 0
    high_water: int | None = None
    cursor: int | None = None
    extras: dict[str, object] = field(default_factory=dict)
    # An inline read: the fingerprint of what it read (spiders.comments.inline.comment_markup)
    read_fp: str | None = None
    # True when ``read_fp`` is the last read's: the same comments, so none were built again
    # (``comments`` is empty; the recorder takes the last read's and says so).
    same_as_last: bool = False

    @property
    def present(self) -> frozenset[str]:
        """Keys of the comments known to be in the thread now."""
        if self.listed is not None:
            return self.listed
        return frozenset(c.key for c in self.comments)
