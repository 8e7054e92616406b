"""Run discovery: read the sources, keep the articles on topic, watch them and say why.

:func:`discover_cycle` runs the :class:`~spiders.discovery.spider.DiscoverySpider` over the
chosen ``[[sources]]`` and judges each candidate it hands back (:class:`Judge`):

1. a URL already watched, or already judged in an earlier run, is skipped (only candidates whose
   page failed or was not fetched are tried again);
2. the article page is fetched (the spider asks :meth:`Judge.wants_page`) for its canonical
   URL, its language, its translations and, when title and summary do not settle it, its body;
3. the URL is canonicalised (:mod:`spiders.discovery.canonical`): another URL of an article
   already watched is a *duplicate*, merged into it;
4. the source's topic query is matched on the title, then the summary, then the body
   (:mod:`monitor.topics`), and the language checked against the topic's;
5. a match becomes a watched page of the topic (``storage.pages.add_pages``) with an
   ``article_new`` change (in ``change_feed``, with its alerts) and a ``discoveries`` row saying
   which source, which terms, which field and which language; its translations (hreflang or an
   "available in" block) are watched too, as the same story (:mod:`monitor.stories`).

Comment sources of the new pages are detected by the next check, as for any watched page.
Every candidate's outcome is kept in ``discovery_seen``; every run of a source in
``source_runs`` (counts, the limits it reached, its errors).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from monitor.topics import TopicMatch, TopicMatcher
from spiders.discovery.canonical import canonical_url, clean_url, url_key
from spiders.discovery.items import DEFAULT_INTERVAL, LINKS, SEARCH, Candidate, Source, SourceRun
from spiders.discovery.safety import AddressPolicy
from storage.db import utcnow_iso, write_transaction
from storage.discovery import (
    ADDED,
    BLOCKED,
    DUPLICATE,
    ERROR,
    LANGUAGE,
    OFF_TOPIC,
    RETRIED,
    UNFETCHED,
    add_translations,
    last_source_runs,
    mark_seen,
    record_discovery,
    record_source_run,
    seen_outcomes,
    translation_links,
)
from storage.pages import add_pages, ensure_topic, get_page
from storage.versions import insert_change

if TYPE_CHECKING:
    import sqlite_utils
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from scrapy.crawler import AsyncCrawlerRunner

    from monitor.config import Config, Topic
    from monitor.record import ChangeHook

logger = logging.getLogger(__name__)

TRANSLATION = "translation"  # discoveries.field of a page watched as a translation
START_PAGES = 50  # watched articles a links source starts from, newest first
SEEN_BATCH = 500  # candidate outcomes written per transaction
DISCOVERY_TICK = 30.0  # seconds between two looks at which sources are due (veille run)


@dataclass(frozen=True)
class Added:
    """One article that became a watched page."""

    url: str
    topic: str
    source: str
    field: str  # title | summary | body | translation
    terms: tuple[str, ...]
    language: str | None
    title: str | None
    translation_of: str | None = None


@dataclass
class SourceReport:
    """What one source gave in one run."""

    source: Source
    run: SourceRun
    outcomes: Counter[str] = field(default_factory=Counter)
    added: list[Added] = field(default_factory=list)

    def line(self) -> str:
        """``clubic (feed): 40 listed, 12 fetched, 2 added, 30 off topic …``."""
        o = self.outcomes
        parts = [f"{self.run.entries} listed", f"{self.run.fetched} fetched",
                 f"{len(self.added)} added"]
        parts += [f"{o[k]} {k.replace('_', ' ')}" for k in (
            "known", DUPLICATE, OFF_TOPIC, LANGUAGE, BLOCKED, ERROR, UNFETCHED) if o[k]]
        if self.run.errors:
            parts.append(f"{len(self.run.errors)} source errors")
        return f"{self.source.name} ({self.source.type}): " + ", ".join(parts)


@dataclass
class DiscoveryReport:
    """What a discovery run did, per source."""

    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def added(self) -> list[Added]:
        """Every article added, in order."""
        return [a for report in self.sources for a in report.added]

    @property
    def errors(self) -> list[str]:
        """Every source error, prefixed by the source's name."""
        return [f"{r.source.name}: {e}" for r in self.sources for e in r.run.errors]

    def line(self) -> str:
        """The summary line ``veille discover`` ends with."""
        total: Counter[str] = Counter()
        for report in self.sources:
            total.update(report.outcomes)
        listed = sum(r.run.entries for r in self.sources)
        added = self.added
        translations = sum(1 for a in added if a.field == TRANSLATION)
        return (
            f"{len(self.sources)} sources read: {listed} entries, {len(added)} articles added "
            f"({translations} translations), {total[OFF_TOPIC]} off topic, "
            f"{total[DUPLICATE]} duplicates, {total[LANGUAGE]} in other languages, "
            f"{total[BLOCKED]} blocked, {len(self.errors)} errors, {self.seconds:.1f}s"
        )


class Judge:
    """Decides what each candidate of a run becomes, and records it (the spider's sink)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        sources: Sequence[Source],
        topics: Sequence[Topic],
        *,
        policy: AddressPolicy | None = None,
        hooks: Sequence[ChangeHook] = (),
        on_added: Callable[[Added], None] | None = None,
    ) -> None:
        self.db = db
        self.sources = {s.name: s for s in sources}
        self.matchers = {t.name: TopicMatcher(t.name, t.query, t.languages) for t in topics}
        self.policy = policy or AddressPolicy()
        self.hooks = tuple(hooks)
        self.on_added = on_added
        self.reports = {s.name: SourceReport(s, SourceRun(s.name)) for s in sources}
        # url_key -> page id of every watched page; url_key -> outcome of every judged URL.
        rows = db.execute("SELECT id, url FROM pages").fetchall()
        self.pages = {url_key(str(url)): int(pid) for pid, url in rows}
        self.seen = seen_outcomes(db)
        self._pending: list[tuple[str, str, str, str, float, str | None, str | None]] = []

    # -- what the spider asks -----------------------------------------------------------------

    def known(self, url: str) -> bool:
        """True for a watched URL, or one judged for good in an earlier run."""
        key = url_key(url)
        if key in self.pages:
            return True
        outcome = self.seen.get(key)
        return outcome is not None and outcome not in RETRIED

    def wants_page(self, candidate: Candidate) -> bool:
        """Fetch the article page unless it is known, or its feed's full text rules it out."""
        if self.known(candidate.url):
            return False
        source = self.sources[candidate.source]
        matcher = self._matcher(source)
        if candidate.content and matcher.match_text(
            candidate.title, candidate.summary, candidate.content
        ) is None:
            return False  # the feed carried the whole article, and it is off topic
        return True

    # -- the sink -----------------------------------------------------------------------------

    def __call__(self, candidate: Candidate) -> None:
        """Judge one candidate and record the outcome."""
        report = self.reports[candidate.source]
        source = self.sources[candidate.source]
        key = url_key(candidate.url)
        if self.known(candidate.url):
            report.outcomes["known"] += 1
            return
        now = time.time()
        if candidate.blocked:
            self._seen(key, candidate, BLOCKED, now, detail=candidate.error)
            report.outcomes[BLOCKED] += 1
            return
        page = candidate.page
        if page is None and candidate.error:
            self._seen(key, candidate, ERROR, now, detail=candidate.error)
            report.outcomes[ERROR] += 1
            return
        if page is not None:
            url = canonical_url(page.final_url, page.canonical_url)
        else:
            url = clean_url(candidate.url)
        problem = self.policy.url_problem(url)
        if problem:  # a canonical link pointing somewhere unsafe: keep the URL fetched
            url = clean_url(page.final_url if page else candidate.url)
        canonical_key = url_key(url)
        if canonical_key in self.pages:
            self._seen(key, candidate, DUPLICATE, now, detail=url)
            report.outcomes[DUPLICATE] += 1
            return
        title = (page.title if page else None) or candidate.title
        summary = candidate.summary or (page.description if page else None)
        body = "\n".join(p for p in (candidate.content, page.body if page else None) if p)
        language = (page.language if page else None) or candidate.language
        matcher = self._matcher(source)
        found = matcher.match_text(title, summary, body or None)
        if found is None:
            outcome = OFF_TOPIC if page is not None or candidate.content else UNFETCHED
            self._seen(key, candidate, outcome, now)
            report.outcomes[outcome] += 1
            return
        match = matcher.match(title, summary, body or None, language)
        if match is None:
            self._seen(key, candidate, LANGUAGE, now, detail=language)
            report.outcomes[LANGUAGE] += 1
            return
        page_id = self._add(url, source, candidate, match, title=title)
        self._seen(key, candidate, ADDED, now, detail=url)
        if canonical_key != key:
            self._seen(canonical_key, candidate, ADDED, now, detail=url)
        if page is not None and page.translations and page_id is not None:
            self._translations(page_id, url, source, candidate, page.translations)

    # -- recording ----------------------------------------------------------------------------

    def _matcher(self, source: Source) -> TopicMatcher:
        return self.matchers.get(source.topic) or TopicMatcher(source.topic, None)

    def _seen(
        self, key: str, candidate: Candidate, outcome: str, now: float, detail: str | None = None
    ) -> None:
        # Written in batches: one transaction per candidate cost a third of a 10,000-entry
        # run. A crash loses only outcomes, which the next run works out again.
        self._pending.append((key, candidate.url, candidate.source, outcome, now,
                              candidate.title, detail))
        self.seen[key] = outcome
        if len(self._pending) >= SEEN_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the outcomes not written yet."""
        if not self._pending:
            return
        with write_transaction(self.db):
            for key, url, source, outcome, now, title, detail in self._pending:
                mark_seen(self.db, key=key, url=url, source=source, outcome=outcome, now=now,
                          title=title, detail=detail)
        self._pending.clear()

    def _add(
        self,
        url: str,
        source: Source,
        candidate: Candidate,
        match: TopicMatch,
        *,
        title: str | None,
        via_page_id: int | None = None,
        via_url: str | None = None,
    ) -> int | None:
        """Watch ``url`` in the topic, with its article_new change and discovery row."""
        now = time.time()
        detected = utcnow_iso()
        with write_transaction(self.db):
            added, _ = add_pages(self.db, [url], topic=source.topic, now=now)
            row = get_page(self.db, url)
            if row is None or not added:  # already watched under this exact URL
                if row is not None:
                    self.pages[url_key(url)] = row.id
                return row.id if row is not None else None
            summary = _summary(source, match, title, via_url)
            change_id = insert_change(
                self.db, page_id=row.id, detected_at=detected, kind="article_new", summary=summary
            )
            record_discovery(
                self.db, page_id=row.id, topic=source.topic, source=source.name,
                found_url=candidate.url, found_on=candidate.found_on, found_at=detected,
                field=match.field, terms=match.terms, language=match.language,
                via_page_id=via_page_id, change_id=change_id,
            )
            for hook in self.hooks:
                hook(self.db, [change_id])
        self.pages[url_key(url)] = row.id
        item = Added(url, source.topic, source.name, match.field, match.terms, match.language,
                     title, via_url)
        self.reports[source.name].added.append(item)
        logger.info("new article for %s: %s (%s)", source.topic, url, summary)
        if self.on_added is not None:
            self.on_added(item)
        return row.id

    def _translations(
        self,
        page_id: int,
        page_url: str,
        source: Source,
        candidate: Candidate,
        links: Iterable[tuple[str, str, str]],
    ) -> None:
        """Record the page's language versions; watch them when the source says so."""
        clean = [(lang, clean_url(url), via) for lang, url, via in links]
        clean = [(lang, url, via) for lang, url, via in clean if url_key(url) != url_key(page_url)]
        with write_transaction(self.db):
            add_translations(
                self.db, page_id, [(lang, url, url_key(url), via) for lang, url, via in clean],
                utcnow_iso(),
            )
        if source.translations:
            for lang, url, _via in clean:
                self.add_translation(url, lang, source, candidate, page_id, page_url)

    def add_translation(
        self,
        url: str,
        language: str,
        source: Source,
        candidate: Candidate,
        via_page_id: int,
        via_url: str,
    ) -> None:
        """Watch one language version of a watched article (whatever the topic's languages)."""
        key = url_key(url)
        if key in self.pages:
            return
        problem = self.policy.url_problem(url)
        if problem:
            logger.info("translation %s of %s not watched: %s", url, via_url, problem)
            return
        match = TopicMatch(source.topic, TRANSLATION, (), language)
        if self._add(url, source, candidate, match, title=None, via_page_id=via_page_id,
                     via_url=via_url) is not None:
            self._seen(key, candidate, ADDED, time.time(), detail=url)


def _summary(source: Source, match: TopicMatch, title: str | None, via_url: str | None) -> str:
    """The one line of an article_new change."""
    if via_url is not None:
        lang = f"{match.language} " if match.language else ""
        return f"new article: {lang}translation of {via_url} (found by {source.name})"
    what = f"«{title}»" if title else "new article"
    terms = ", ".join(match.terms)
    where = f"matched {terms} in the {match.field}" if terms else "no query: every article"
    language = f"; language {match.language}" if match.language else ""
    return f"new article {what}: found by {source.name} ({source.type}), {where}{language}"


# --- running it -------------------------------------------------------------------------------


def search_query(source: Source, topic: Topic | None) -> str | None:
    """The words a search source puts in its URL: its own query, else the topic's terms."""
    if source.query:
        return source.query
    if topic is None or not topic.query:
        return None
    from monitor.topics import parse_query

    return " ".join(term.rstrip("*") for term in parse_query(topic.query).terms()[:4])


def prepare_sources(config: Config, names: Sequence[str] | None = None) -> list[Source]:
    """The sources to run (all, or those named), search queries filled in.

    Raises ValueError naming an unknown source.
    """
    sources: Sequence[Source] = getattr(config, "sources", ())
    if names:
        known = {s.name for s in sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            listed = ", ".join(sorted(known)) or "none"
            raise ValueError(
                f"no source named {', '.join(map(repr, unknown))} (sources: {listed})"
            )
        sources = [s for s in sources if s.name in names]
    out = []
    for source in sources:
        if source.type == SEARCH and not source.query:
            source = replace(source, query=search_query(source, config.topic(source.topic)))
        out.append(source)
    return out


def start_pages(db: sqlite_utils.Database, sources: Sequence[Source]) -> dict[str, list[str]]:
    """The watched articles each links source starts from: its topic's newest pages."""
    out: dict[str, list[str]] = {}
    for source in sources:
        if source.type != LINKS:
            continue
        rows = db.execute(
            "SELECT url FROM pages WHERE topic = ? AND state = 'active' ORDER BY id DESC LIMIT ?",
            [source.topic, START_PAGES],
        ).fetchall()
        out[source.name] = [str(r[0]) for r in rows]
    return out


def discovery_settings(config: Config) -> dict[str, Any]:
    """Scrapy settings for a discovery crawl: the watch crawl's (SSRF guard included)."""
    from monitor.crawl import scrapy_settings

    settings = scrapy_settings(config.http, config.allow_networks)
    # The watch crawl's pipeline stores FetchResults; discovery hands candidates to its sink.
    settings["ITEM_PIPELINES"] = {}
    settings["CONCURRENT_ITEMS"] = 100
    return settings


async def discover_cycle(
    db: sqlite_utils.Database,
    config: Config,
    *,
    sources: Sequence[Source] | None = None,
    hooks: Sequence[ChangeHook] = (),
    on_added: Callable[[Added], None] | None = None,
    runner: AsyncCrawlerRunner | None = None,
) -> DiscoveryReport:
    """Run the sources once (default: all of the config's); needs a running asyncio reactor.

    ``runner`` is the crawler runner to use (a daemon keeps it to stop it on SIGTERM).
    """
    from scrapy.crawler import AsyncCrawlerRunner

    from spiders.discovery.spider import DiscoverySpider

    started = time.monotonic()
    chosen = list(sources) if sources is not None else prepare_sources(config)
    report = DiscoveryReport()
    if not chosen:
        return report
    for topic in config.topics:
        ensure_topic(db, topic.name, topic.query)
    judge = Judge(
        db, chosen, config.topics, policy=AddressPolicy(config.allow_networks), hooks=hooks,
        on_added=on_added,
    )
    runs = {name: r.run for name, r in judge.reports.items()}
    began = time.time()
    runner = runner or AsyncCrawlerRunner(discovery_settings(config))
    try:
        await runner.crawl(
            DiscoverySpider, sources=chosen, sink=judge, wants_page=judge.wants_page,
            start_pages=start_pages(db, chosen), runs=runs,
            max_size=config.http.max_response_size,
        )
        adopt_translations(judge)
    finally:
        judge.flush()
    report.seconds = time.monotonic() - started
    with write_transaction(db):
        for name, source_report in judge.reports.items():
            run = source_report.run
            record_source_run(
                db, source=name, started_at=began, seconds=report.seconds, files=run.files,
                entries=run.entries, fetched=run.fetched, added=len(source_report.added),
                notes=run.notes, errors=run.errors,
            )
    report.sources = list(judge.reports.values())
    logger.info("discovery: %s", report.line())
    return report


def adopt_translations(judge: Judge) -> int:
    """Watch the language versions that watched pages of discovery topics link to.

    A page added by hand, or before its translations existed, names them in its stored
    ``alternates`` (hreflang) or in ``translations`` ("available in"): they join its story.
    Returns how many pages were added.
    """
    by_topic = {s.topic: s for s in judge.sources.values() if s.translations}
    if not by_topic:
        return 0
    db = judge.db
    before = len(judge.pages)
    links: list[tuple[int, str, str, str, str]] = []  # page id, url, topic, language, other URL
    for page_id, url, topic, alternates in db.execute(
        "SELECT pages.id, pages.url, pages.topic, versions.alternates FROM pages "
        "JOIN versions ON versions.id = pages.current_version "
        "WHERE versions.alternates IS NOT NULL AND versions.alternates != '[]'"
    ).fetchall():
        for lang, href in json.loads(alternates):
            links.append((int(page_id), str(url), str(topic), str(lang), str(href)))
    pages = {int(pid): (str(url), str(topic)) for pid, url, topic in db.execute(
        "SELECT id, url, topic FROM pages WHERE id IN (SELECT page_id FROM translations)"
    ).fetchall()}
    for page_id, href, lang, _via in translation_links(db):
        if page_id in pages:
            links.append((page_id, *pages[page_id], lang, href))
    for page_id, url, topic, lang, href in links:
        source = by_topic.get(topic)
        if source is None or lang.lower() == "x-default":
            continue
        candidate = Candidate(url=href, source=source.name, found_at=time.time(), found_on=url)
        judge.add_translation(clean_url(href), lang, source, candidate, page_id, url)
    return len(judge.pages) - before


def run_discover(
    config: Config,
    names: Sequence[str] | None = None,
    *,
    on_added: Callable[[Added], None] | None = None,
) -> DiscoveryReport:
    """Open the database and run discovery once on a reactor started for it."""
    from alerts.outbox import outbox_hook
    from monitor.crawl import run_in_reactor
    from storage.db import open_database

    chosen = prepare_sources(config, names)
    db = open_database(config.database)
    try:
        hooks = [outbox_hook(config.alerts)] if config.alerts else []

        async def main() -> DiscoveryReport:
            return await discover_cycle(db, config, sources=chosen, hooks=hooks, on_added=on_added)

        return run_in_reactor(main)
    finally:
        db.close()


def source_interval(source: Source) -> float:
    """Seconds between two runs of a source in the daemon."""
    return source.interval or DEFAULT_INTERVAL


# --- in the daemon ----------------------------------------------------------------------------


def due_sources(db: sqlite_utils.Database, config: Config, now: float) -> list[Source]:
    """The sources whose interval has passed since their last run (never run: all)."""
    last = last_source_runs(db)
    due = []
    for source in prepare_sources(config):
        started = last.get(source.name, {}).get("started_at")
        if not isinstance(started, int | float) or now - started >= source_interval(source):
            due.append(source)
    return due


def add_discovery_jobs(daemon: Any, scheduler: AsyncIOScheduler) -> None:
    """Register discovery in ``veille run``: each source runs when its interval is due.

    One job looks every ``DISCOVERY_TICK`` seconds at which sources are due, from the
    config the daemon holds now (so a reload's new or removed sources count) and from
    ``source_runs`` (so a restart does not read every source again at once). The new pages
    are due at once: the daemon's own tick checks them.
    """
    from datetime import UTC, datetime

    async def job() -> None:
        await discovery_tick(daemon)

    # A source due every 10 s is not left waiting for a 30 s look (the demo's sources are).
    intervals = [source_interval(source) for source in prepare_sources(daemon.config)]
    every = min([DISCOVERY_TICK, *intervals])
    scheduler.add_job(
        job, "interval", seconds=every, id="discover", name="discover",
        next_run_time=datetime.now(UTC), max_instances=1, coalesce=True, misfire_grace_time=None,
    )


async def discovery_tick(daemon: Any) -> None:
    """Run the due sources of ``daemon`` (a :class:`monitor.daemon.Daemon`) once."""
    from scrapy.crawler import AsyncCrawlerRunner

    config = daemon.config
    if daemon.stopping or daemon.db is None or not getattr(config, "sources", ()):
        return
    try:
        due = due_sources(daemon.db, config, time.time())
    except Exception:  # a locked database: try again at the next tick
        logger.exception("could not read which sources are due")
        return
    if not due:
        return
    runner = AsyncCrawlerRunner(discovery_settings(config))
    daemon.runners.append(runner)
    try:
        await discover_cycle(
            daemon.db, config, sources=due, hooks=daemon.recorder.on_changes, runner=runner
        )
    except Exception:  # one failed run never stops the daemon; the sources stay due
        logger.exception("discovery run failed for %s", ", ".join(s.name for s in due))
    finally:
        if runner in daemon.runners:
            daemon.runners.remove(runner)
