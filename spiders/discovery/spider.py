"""The discovery spider: read each source, hand every candidate article to ``sink``.

For each :class:`~spiders.discovery.items.Source` it reads the feed, the sitemap (and the
sitemaps an index lists), the search or listing pages, or the watched articles a ``links``
source starts from, and turns every article URL listed there into a
:class:`~spiders.discovery.items.Candidate`. When ``wants_page(candidate)`` says so (the caller
knows which URLs are new, and which titles already match a topic), the article page is fetched
too, and the candidate goes to ``sink`` with its :class:`~spiders.discovery.items.PageInfo`:
the canonical link, the body (for matching), the language and the translations. A ``links``
source also follows the related links of those pages, ``depth`` links away at most.

Every loop ends at a limit of the source (see :mod:`spiders.discovery.items`): each sitemap
and listing page is read once per run (a visited set: an index listing itself ends at once),
an index is followed ``DEFAULT_SITEMAP_DEPTH`` levels deep and ``DEFAULT_MAX_SITEMAPS`` files
wide, at most ``max_entries`` candidates and ``max_fetches`` article pages per run, pagination
stops at ``max_pages`` or at a page with nothing new. What stopped a source, and its errors, go
to its :class:`~spiders.discovery.items.SourceRun` in ``runs``.

Results go straight to ``sink`` (no item pipeline): ``spiders/`` never imports ``monitor/``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from parsel import Selector

from spiders.decode import decode_html
from spiders.discovery.canonical import url_key
from spiders.discovery.errors import DiscoveryError
from spiders.discovery.feeds import parse_feed
from spiders.discovery.items import (
    DEFAULT_MAX_SITEMAPS,
    DEFAULT_SITEMAP_DEPTH,
    FEED,
    LINKS,
    SEARCH,
    SITEMAP,
    Candidate,
    PageInfo,
    Source,
    SourceRun,
)
from spiders.discovery.links import related_links, translation_links
from spiders.discovery.listing import next_page, page_url, paginates_by_number, result_links
from spiders.discovery.safety import url_syntax_problem
from spiders.discovery.sitemaps import INDEX, parse_sitemap
from spiders.extract import extract_article
from spiders.fetchstate import HTML_TYPES, classify_failure

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

BODY_CHARS = 200_000  # of an article's text kept for matching


@dataclass
class _State:
    """What one source has done so far in this run."""

    source: Source
    run: SourceRun
    seen: set[str] = field(default_factory=set)  # url_key of candidates offered
    visited: set[str] = field(default_factory=set)  # url_key of sitemaps and listing pages
    pending: deque[tuple[str, int]] = field(default_factory=deque)  # sitemaps still to read
    full: bool = False  # max_entries reached


class DiscoverySpider(scrapy.Spider):
    """Read discovery sources; call ``sink`` with each :class:`Candidate`."""

    name = "veille-discovery"

    def __init__(
        self,
        sources: Sequence[Source] = (),
        sink: Callable[[Candidate], None] | None = None,
        wants_page: Callable[[Candidate], bool] | None = None,
        start_pages: Mapping[str, Sequence[str]] | None = None,
        runs: MutableMapping[str, SourceRun] | None = None,
        max_size: int = 10 * 1024 * 1024,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = list(sources)
        self.sink = sink
        self.wants_page = wants_page
        self.start_pages = dict(start_pages or {})  # links sources: the watched articles
        self.runs: MutableMapping[str, SourceRun] = runs if runs is not None else {}
        self.max_size = max_size
        self.states: dict[str, _State] = {}
        for source in self.sources:
            run = self.runs.setdefault(source.name, SourceRun(source.name))
            self.states[source.name] = _State(source, run)

    # -- start --------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The first request(s) of each source."""
        for state in self.states.values():
            for request in self._first_requests(state):
                yield request

    def _first_requests(self, state: _State) -> Iterator[scrapy.Request]:
        source = state.source
        try:
            if source.type == FEED and source.url:
                yield self._request(source.url, self.parse_feed, state)
            elif source.type == SITEMAP and source.url:
                state.visited.add(url_key(source.url))
                yield self._request(source.url, self.parse_sitemap, state, depth=0)
            elif source.type == SEARCH and source.url:
                url = page_url(source.url, source.query, 1)
                state.visited.add(url_key(url))
                yield self._request(url, self.parse_listing, state, page=1)
            elif source.type == LINKS:
                starts = ([source.url] if source.url else []) + list(
                    self.start_pages.get(source.name, ())
                )
                if not starts:
                    state.run.note("no start page: the topic has no watched article yet")
                for url in dict.fromkeys(starts):
                    state.visited.add(url_key(url))
                    yield self._request(url, self.parse_article, state, depth=0)
            else:
                state.run.errors.append(f"{source.name}: type {source.type!r} needs a url")
        except DiscoveryError as exc:
            state.run.errors.append(str(exc))

    def _request(
        self, url: str, callback: Callable[..., Any], state: _State, **meta: Any
    ) -> scrapy.Request:
        # dont_filter: each source keeps its own visited set (Scrapy's dupefilter would also
        # drop a page two sources share).
        return scrapy.Request(
            url, callback=callback, errback=self.on_error, dont_filter=True,
            meta={"veille_source": state.source.name, **meta},
        )

    def _state(self, response_or_request: Any) -> _State:
        return self.states[response_or_request.meta["veille_source"]]

    # -- feeds --------------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """Every entry of a feed is a candidate."""
        state = self._state(response)
        state.run.files += 1
        try:
            feed = parse_feed(
                response.body, response.url, content_type=_content_type(response),
                max_entries=state.source.max_entries, max_bytes=self.max_size,
            )
        except DiscoveryError as exc:
            state.run.errors.append(str(exc))
            return
        if feed.warning:
            state.run.note(f"{response.url}: {feed.warning}")
        if feed.truncated:
            state.run.note(f"{response.url}: {feed.truncated} entries past max_entries left out")
        for entry in feed.entries:
            yield from self._offer(state, Candidate(
                url=entry.url, source=state.source.name, found_at=time.time(),
                title=entry.title, summary=entry.summary, content=entry.content,
                language=entry.language, published=entry.published, found_on=response.url,
            ))

    # -- sitemaps -----------------------------------------------------------------------------

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """A URL set gives candidates; an index gives more sitemaps, within the limits.

        The sitemaps an index lists are read one after the other (the next once this one is
        done), so a 1,000-file index costs nothing past the file that reaches max_entries.
        """
        state = self._state(response)
        state.run.files += 1
        depth: int = response.meta.get("depth", 0)
        remaining = max(0, state.source.max_entries - state.run.entries)
        try:
            document = parse_sitemap(
                response.body, response.url, max_entries=max(remaining, 1),
                max_bytes=self.max_size,
            )
        except DiscoveryError as exc:
            state.run.errors.append(str(exc))
            yield from self._next_sitemap(state)
            return
        if document.kind == INDEX:
            self._queue_index(state, document.entries, response.url, depth)
        else:
            if document.truncated:
                state.run.note(
                    f"stopped at max_entries={state.source.max_entries} in {response.url}"
                )
            for entry in document.entries:
                yield from self._offer(state, Candidate(
                    url=entry.url, source=state.source.name, found_at=time.time(),
                    title=entry.title, language=entry.language,
                    published=entry.published or entry.lastmod, found_on=response.url,
                ))
        yield from self._next_sitemap(state)

    def _queue_index(
        self, state: _State, entries: Sequence[Any], index_url: str, depth: int
    ) -> None:
        if depth >= DEFAULT_SITEMAP_DEPTH:
            state.run.note(
                f"sitemap index {index_url} is nested deeper than {DEFAULT_SITEMAP_DEPTH} "
                "levels: not followed"
            )
            return
        for entry in entries:
            key = url_key(entry.url)
            if key in state.visited:
                state.run.note(f"sitemap {entry.url} listed again (a cycle): read once")
                continue
            if len(state.visited) >= DEFAULT_MAX_SITEMAPS:
                state.run.note(f"stopped at {DEFAULT_MAX_SITEMAPS} sitemap files")
                return
            state.visited.add(key)
            state.pending.append((entry.url, depth + 1))

    def _next_sitemap(self, state: _State) -> Iterator[scrapy.Request]:
        """The request for the next sitemap to read, unless the source is full."""
        if state.full and state.pending:
            state.run.note(f"{len(state.pending)} sitemaps not read: max_entries reached")
            state.pending.clear()
        if state.pending:
            url, depth = state.pending.popleft()
            yield self._request(url, self.parse_sitemap, state, depth=depth)

    # -- search and listing pages -------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """The result links of one page, then the next page while there is something new."""
        state = self._state(response)
        source = state.source
        state.run.files += 1
        page: int = response.meta.get("page", 1)
        selector = source.selector or "a[href]"
        try:
            links = result_links(response.selector, response.url, selector)
        except DiscoveryError as exc:
            state.run.errors.append(str(exc))
            return
        new = [(url, text) for url, text in links if url_key(url) not in state.seen]
        if links and not new:
            state.run.note(f"page {page} listed nothing new (a repeat): pagination stopped")
            return
        for url, text in new:
            yield from self._offer(state, Candidate(
                url=url, source=source.name, found_at=time.time(), title=text,
                found_on=response.url,
            ))
        if not new or state.full:  # the end of the results, or of the budget
            return
        if paginates_by_number(source.url or ""):
            following: str | None = page_url(source.url or "", source.query, page + 1)
        else:
            following = next_page(response.selector, response.url, source.next_selector)
        if following is None:
            return
        if page >= source.max_pages:
            state.run.note(f"stopped at max_pages={source.max_pages}; more pages were offered")
            return
        key = url_key(following)
        if key in state.visited:
            state.run.note(f"the next page {following} was already read (a loop): stopped")
            return
        state.visited.add(key)
        yield self._request(following, self.parse_listing, state, page=page + 1)

    # -- candidates and article pages ---------------------------------------------------------

    def _offer(self, state: _State, candidate: Candidate) -> Iterator[scrapy.Request]:
        """Count a candidate; fetch its page when wanted (and the budget allows), else sink it."""
        key = url_key(candidate.url)
        if key in state.seen or state.full:
            return
        state.seen.add(key)
        state.run.entries += 1
        if state.run.entries >= state.source.max_entries:
            state.full = True
            state.run.note(f"stopped at max_entries={state.source.max_entries}")
        problem = url_syntax_problem(candidate.url)
        if problem:
            # Refused before Scrapy rewrites it: w3lib reads a backslash as "/", Python as part
            # of the host, so such a URL names two hosts depending on who reads it.
            self._emit(replace(candidate, error=f"blocked_address: {candidate.url}: {problem}"))
            return
        wanted = self.wants_page(candidate) if self.wants_page is not None else True
        if wanted and state.run.fetched < state.source.max_fetches:
            state.run.fetched += 1
            yield self._request(
                candidate.url, self.parse_article, state, candidate=candidate,
                depth=candidate.depth,
            )
            return
        if wanted:
            state.run.note(
                f"stopped fetching article pages at max_fetches={state.source.max_fetches}"
            )
        self._emit(candidate)

    def parse_article(self, response: Response) -> Iterator[scrapy.Request]:
        """Read an article page: its metadata and text, translations, and related links."""
        state = self._state(response)
        candidate: Candidate | None = response.meta.get("candidate")
        depth: int = response.meta.get("depth", 0)
        content_type = _content_type(response) or ""
        mime = content_type.split(";")[0].strip().lower()
        if mime not in HTML_TYPES:
            if candidate is not None:
                self._emit(replace(candidate, error=f"not an HTML page ({mime})"))
            return
        html, _ = decode_html(response.body, content_type or None)
        selector = Selector(text=html, base_url=response.url)
        if candidate is not None:
            self._emit(replace(candidate, page=self._page_info(response, html, selector)))
        source = state.source
        if source.type == LINKS and depth < source.depth:
            domains = source.domains or (_host(response.url),)
            try:
                links = related_links(
                    selector, response.url, domains, selector=source.selector
                )
            except (ValueError, DiscoveryError) as exc:
                state.run.errors.append(f"{response.url}: {exc}")
                return
            for url, text in links:
                yield from self._offer(state, Candidate(
                    url=url, source=source.name, found_at=time.time(), title=text,
                    depth=depth + 1, found_on=response.url,
                ))
        elif source.type == LINKS and candidate is not None and depth >= source.depth:
            state.run.note(f"links not followed past depth={source.depth}")

    def _page_info(self, response: Response, html: str, selector: Selector) -> PageInfo:
        try:
            article = extract_article(html, response.url)
        except Exception as exc:  # odd HTML: keep what the page's head says
            logger.debug("extraction failed for %s: %s", response.url, exc)
            return PageInfo(final_url=response.url, status=response.status)
        return PageInfo(
            final_url=response.url,
            status=response.status,
            title=article.title or None,
            description=article.description,
            body=article.body[:BODY_CHARS],
            language=article.language,
            canonical_url=article.canonical_url,
            translations=tuple(translation_links(selector, response.url)),
        )

    def _emit(self, candidate: Candidate) -> None:
        if self.sink is None:
            return
        try:
            self.sink(candidate)
        except Exception:  # one candidate that cannot be handled never stops the run
            logger.exception("could not handle the candidate %s", candidate.url)

    # -- failures -----------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        """A request that failed for good: a source document, or an article page."""
        request = failure.request  # type: ignore[attr-defined]
        state = self._state(request)
        kind, error = classify_failure(failure)
        if "blocked_address" in error:  # the guard's middleware, or its resolver
            kind, error = "blocked_address", error[error.index("blocked_address"):]
        else:
            error = f"{kind}: {error}"
        candidate: Candidate | None = request.meta.get("candidate")
        if candidate is not None:
            self._emit(replace(candidate, error=error))
            return
        state.run.errors.append(f"{request.url}: {error}")
        logger.info("discovery source %s: %s failed: %s", state.source.name, request.url, error)
        if request.callback == self.parse_sitemap:
            yield from self._next_sitemap(state)


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1").strip() if value else None


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")
