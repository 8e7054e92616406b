"""Typed values of discovery: a source to read, a candidate article found, what a run did.

They leave ``spiders/`` for ``monitor/`` as :class:`spiders.items.FetchResult` does: frozen
dataclasses, so either side can be tested alone. :class:`Source` is also what one
``[[sources]]`` entry of ``veille.toml`` becomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Kinds of source.
FEED = "feed"
SITEMAP = "sitemap"
SEARCH = "search"
LINKS = "links"
SOURCE_TYPES = (FEED, SITEMAP, SEARCH, LINKS)

# Limits of one run of one source: every loop that a hostile or broken site could make endless
# (a sitemap index that lists itself, "next page" forever, a 50,000-URL x 1,000-file index)
# ends at one of these, with a note saying so.
DEFAULT_MAX_PAGES = 5  # search/listing pages read per run
DEFAULT_DEPTH = 1  # link following: links of watched articles (1), and of those (2) ...
MAX_DEPTH = 5
DEFAULT_MAX_ENTRIES = 2000  # candidate URLs taken per run (F20: sitemap bombs)
DEFAULT_MAX_FETCHES = 100  # article pages fetched per run to read their body and links
DEFAULT_MAX_SITEMAPS = 50  # sitemap files read per run
DEFAULT_SITEMAP_DEPTH = 3  # index -> index -> index -> urlset
DEFAULT_INTERVAL = 3600.0  # seconds between two runs of a source in the daemon


@dataclass(frozen=True)
class Source:
    """Where to look for new articles: one ``[[sources]]`` entry.

    ``url`` is a feed or sitemap address, a search URL template (``{query}`` is replaced by the
    query, ``{page}`` by the page number when present), a listing page, or, for ``links``, an
    optional start page (the topic's watched articles are the usual start).
    """

    name: str
    type: str  # feed | sitemap | search | links
    topic: str
    url: str | None = None
    query: str | None = None  # search terms put in the URL template (default: the topic's)
    selector: str | None = None  # CSS selector of result links (search) or related links
    next_selector: str | None = None  # CSS selector of the "next page" link
    max_pages: int = DEFAULT_MAX_PAGES
    depth: int = DEFAULT_DEPTH
    domains: tuple[str, ...] = ()  # links: domains it may follow (default: the start pages')
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_fetches: int = DEFAULT_MAX_FETCHES
    interval: float | None = None  # seconds; None: DEFAULT_INTERVAL
    translations: bool = True  # also watch the translations of a matching article


@dataclass(frozen=True)
class PageInfo:
    """What the article page itself said, when the spider fetched it."""

    final_url: str  # after redirects
    status: int
    title: str | None = None
    description: str | None = None
    body: str = ""
    language: str | None = None
    canonical_url: str | None = None  # <link rel=canonical>, absolute
    # Other language versions: (language tag, absolute URL, how it was found: "hreflang" or
    # "available_in" for a visible "Available in: English, Deutsch…" block).
    translations: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A URL a source offered as an article, with whatever the source said about it."""

    url: str  # absolute, as found
    source: str  # the source's name
    found_at: float  # Unix time
    title: str | None = None
    summary: str | None = None
    content: str | None = None  # the article's text when the source carries it (a full feed)
    language: str | None = None
    published: str | None = None
    depth: int = 0  # links: how many links away from a watched article
    found_on: str | None = None  # the feed, sitemap or page that listed it
    page: PageInfo | None = None  # set when the article page was fetched
    error: str | None = None  # why the article page could not be fetched

    @property
    def blocked(self) -> bool:
        """True when the SSRF guard refused the article page."""
        return bool(self.error and self.error.startswith("blocked_address"))


@dataclass
class SourceRun:
    """What one run of one source did: counts, the limits it hit, the errors it met."""

    source: str
    files: int = 0  # feeds, sitemaps, listing pages read
    entries: int = 0  # candidate URLs listed
    fetched: int = 0  # article pages fetched
    notes: list[str] = field(default_factory=list)  # limits reached ("stopped at max_pages=5")
    errors: list[str] = field(default_factory=list)  # one line each, with the URL

    def note(self, text: str) -> None:
        """Record a limit that was reached (once)."""
        if text not in self.notes:
            self.notes.append(text)
