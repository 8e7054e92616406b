"""One check cycle: pick pages, crawl them in-process, record the results as they arrive.

``veille check`` calls :func:`run_check`, which also starts and stops the reactor (and splits a
large cycle over several processes, :mod:`monitor.parallel`). Results are written a few dozen
per transaction (:mod:`monitor.batch`). The daemon (:mod:`monitor.daemon`) keeps one
long-lived crawl instead and records each result as it arrives.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alerts.deliver import deliver_due
from alerts.outbox import outbox_hook
from monitor.autorender import AutoRender
from monitor.batch import WriteGroups
from monitor.config import check_browser_executable
from monitor.crawl import extract_workers, freeze_crawl_imports, run_in_reactor, scrapy_settings
from monitor.record import ChangeHook, Outcome, Recorder
from monitor.record_comments import CommentOutcome, CommentRecorder, comment_plans
from spiders.comments.items import CommentsResult
from spiders.comments.spider import BrowserThreads
from spiders.items import FetchResult, WatchTarget
from spiders.watch import WatchSpider
from storage.db import open_database
from storage.pages import (
    PageRow,
    all_pages,
    due_pages,
    ensure_topic,
    pages_needing_browser,
    remember_needs_browser,
)

if TYPE_CHECKING:
    import sqlite_utils

    from alerts.deliver import DeliveryReport
    from monitor.config import Config
    from monitor.parallel import Shard

logger = logging.getLogger(__name__)

# Confirming re-fetches per cycle: a page that keeps flapping waits for the next cycle.
MAX_CONFIRM_ROUNDS = 1


@dataclass
class CheckSummary:
    """Counts of one cycle, for the summary line and the exit code."""

    pages: int = 0
    states: Counter[str] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)
    failures: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    alerts: DeliveryReport | None = None  # the alerts sent after the cycle (routes configured)
    comment_reads: Counter[str] = field(default_factory=Counter)  # comment threads, by state
    comment_changes: Counter[str] = field(default_factory=Counter)

    def add_comments(self, outcome: CommentOutcome) -> None:
        """Count one comment thread's read."""
        self.comment_reads[outcome.state] += 1
        self.comment_changes.update(outcome.changes)

    def add(self, outcome: Outcome) -> None:
        """Count one page's outcome."""
        self.states[outcome.state] += 1
        self.changes.update(outcome.changes)
        if outcome.failed:
            self.failures.append(outcome)

    @property
    def checked(self) -> int:
        """Pages with a final outcome (a pending confirmation counts once it is settled)."""
        return sum(self.states.values())

    def line(self) -> str:
        """The one summary line a check ends with."""
        s = self.states
        rate = self.checked / self.seconds if self.seconds > 0 else 0.0
        changed = s["changed"] + s["removed"] + s["restored"]
        line = (
            f"{self.checked} pages checked: {s['unchanged'] + s['new']} unchanged or new "
            f"({s['new']} new), {changed} changed, {s['not_modified']} not modified, "
            f"{len(self.failures)} errors, {rate:.1f} pages/s"
        )
        if self.comment_reads:
            reads = sum(self.comment_reads.values())
            line += (
                f"; {reads} comment threads read ({self.comment_reads['partial']} partial), "
                f"{sum(self.comment_changes.values())} comment changes"
            )
        return line


def watch_targets(
    pages: Sequence[PageRow],
    config: Config,
    db: sqlite_utils.Database | None = None,
    needs_browser: Collection[int] | None = None,
) -> list[WatchTarget]:
    """What the spider needs to fetch ``pages``, with their per-page settings from the config.

    With ``db``, each target also says how to read its reader comments (see
    :func:`monitor.record_comments.comment_plans`); the sink must then record
    :class:`~spiders.comments.items.CommentsResult` items too. A page with ``render = "auto"``
    whose id is in ``needs_browser`` (by default, as ``db`` remembers) is rendered at once.
    """
    settings = {p.url: p for p in config.pages}
    plans = comment_plans(db, pages, config) if db is not None else {}
    if needs_browser is None:
        auto = any(p.render == "auto" for p in config.pages)
        needs_browser = pages_needing_browser(db) if db is not None and auto else set()
    targets = []
    for page in pages:
        cfg = settings.get(page.url)
        render = cfg.render if cfg else "http"
        if render == "auto" and page.id in needs_browser:
            render = "browser"
        targets.append(
            WatchTarget(
                page_id=page.id,
                url=page.url,
                etag=page.etag,
                last_modified=page.last_modified,
                last_raw_sha256=page.last_raw_sha256,
                region=page.region,
                region_fp=page.region_fp,
                selector=cfg.selector if cfg else None,
                ignore=tuple(cfg.ignore) if cfg else (),
                comments=plans.get(page.id),
                render=render,
            )
        )
    return targets


async def crawl_targets(
    targets: Sequence[WatchTarget],
    config: Config,
    sink: Callable[[FetchResult | CommentsResult], None],
    workers: int,
) -> None:
    """One crawl of ``targets``; Chromium is started only when one of them needs it."""
    from scrapy.crawler import AsyncCrawlerRunner

    wanted = any(
        t.render == "browser" or (t.comments is not None and t.comments.needs_browser)
        for t in targets
    )  # a page to render, or a known Disqus thread (read in Chromium)
    browser = config.browser if wanted else None
    runner = AsyncCrawlerRunner(scrapy_settings(config.http, config.allow_networks, browser))
    await runner.crawl(
        WatchSpider, targets=targets, sink=sink, extract_workers=workers,
        max_size=config.http.max_response_size, browser=browser,
    )


_targets = watch_targets  # the name this module used first


def _intervals(db: sqlite_utils.Database, config: Config) -> dict[int, float | None]:
    """Fixed intervals from the config (page first, then its topic), by page id."""
    by_url = {p.url: p for p in config.pages}
    topics = {t.name: t.interval for t in config.topics}
    out: dict[int, float | None] = {}
    for page_id, url, topic in db.execute("SELECT id, url, topic FROM pages").fetchall():
        page_cfg = by_url.get(url)
        interval = page_cfg.interval if page_cfg and page_cfg.interval else None
        out[page_id] = interval or topics.get(topic)
    return out


def sync_config_pages(db: sqlite_utils.Database, config: Config, now: float) -> None:
    """Pages and topics listed in the config are watched too (adding is idempotent)."""
    from storage.pages import add_pages

    for topic in config.topics:
        ensure_topic(db, topic.name, topic.query)
    by_topic: dict[str | None, list[str]] = {}
    for page in config.pages:
        by_topic.setdefault(page.topic, []).append(page.url)
    for topic, urls in by_topic.items():
        add_pages(db, urls, topic=topic, now=now)


async def check_cycle(
    db: sqlite_utils.Database,
    config: Config,
    *,
    check_all: bool = False,
    urls: Sequence[str] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    change_hooks: Sequence[ChangeHook] = (),
    workers: int | None = None,
) -> CheckSummary:
    """Check the due pages (or all, or those at ``urls``); needs a running asyncio reactor.

    ``change_hooks`` run inside each page's transaction with the ids of its new changes.
    ``workers``: extraction processes (default: :func:`monitor.crawl.extract_workers`).
    """
    started = time.monotonic()
    now = time.time()
    pages = select_pages(db, check_all=check_all, urls=urls, now=now)
    summary = CheckSummary(pages=len(pages))
    if on_start:
        on_start(len(pages))
    intervals = _intervals(db, config)
    recorder = Recorder(db, intervals=intervals, on_changes=change_hooks)

    comment_recorder = CommentRecorder(db, on_changes=change_hooks, intervals=intervals)

    # render = "auto": a plain fetch with no article is held back and retried in the browser.
    autorender = AutoRender()
    retry: list[WatchTarget] = []
    rendered: list[int] = []  # retried pages whose browser fetch found the article

    # A Disqus thread met by a crawl without Chromium is held back and read in one with it.
    threads = BrowserThreads()
    # Results are written a group per transaction (monitor.batch); flushed after each crawl.
    groups = WriteGroups(db)

    def sink(result: FetchResult | CommentsResult) -> None:
        if threads.hold(result):
            return
        held = autorender.hold(result)
        if held is not None:
            retry.append(held)
            return
        if isinstance(result, FetchResult) and autorender.rendered(result):
            rendered.append(result.page_id)
        groups.add(lambda: store(result))

    def store(result: FetchResult | CommentsResult) -> Callable[[], None]:
        """Write one result (inside its group's transaction); what to report once committed."""
        if isinstance(result, CommentsResult):
            try:
                read = comment_recorder.record(result)
            except Exception:  # one thread that cannot be stored never stops the cycle
                logger.exception("could not record the comments of %s", result.page_url)
                return lambda: None
            return lambda: summary.add_comments(read)
        try:
            outcome = recorder.record(result)
        except Exception as exc:  # one page that cannot be stored never stops the cycle
            logger.exception("could not record %s", result.url)
            outcome = Outcome(result.url, "store_error", error=f"{type(exc).__name__}: {exc}")

        def report() -> None:
            if outcome.state != "pending_confirm":
                summary.add(outcome)
            if on_outcome:
                on_outcome(outcome)

        return report

    auto_pages = any(p.render == "auto" for p in config.pages)
    needs_browser = pages_needing_browser(db) if auto_pages else set()
    targets = _targets(pages, config, db, needs_browser)
    if workers is None:
        workers = extract_workers()
    for _ in range(1 + MAX_CONFIRM_ROUNDS):
        if not targets:
            break
        autorender.expect(targets)
        threads.expect(targets)
        await _crawl(targets, config, sink, workers, groups)
        if retry:
            # Once, in this cycle: what the browser shows is recorded, whatever it is.
            await _crawl(list(retry), config, sink, workers, groups)
            remember_needs_browser(db, rendered)
            needs_browser.update(rendered)
            retry.clear()
            rendered.clear()
        held_threads = threads.take()
        if held_threads:  # Disqus threads first met in this cycle: read them now, in Chromium
            await _crawl(held_threads, config, sink, workers, groups)
        # Pages whose article mostly vanished are fetched once more to confirm it.
        pending = [p for p in all_pages(db, [t.url for t in targets]) if p.last_state == "pending_confirm"]
        targets = _targets(pending, config, needs_browser=needs_browser)
    for page in all_pages(db, [t.url for t in targets]) if targets else []:
        if page.last_state == "pending_confirm":
            summary.add(Outcome(page.url, "pending_confirm"))
    summary.seconds = time.monotonic() - started
    logger.info("check cycle: %s", summary.line())
    return summary


async def _crawl(
    targets: Sequence[WatchTarget],
    config: Config,
    sink: Callable[[FetchResult | CommentsResult], None],
    workers: int,
    groups: WriteGroups,
) -> None:
    """:func:`crawl_targets`, its last results written before it returns (even on an error).

    Ctrl-C or SIGTERM stops the reactor without letting this coroutine finish: the results
    that came are then written as the reactor shuts down.
    """
    from twisted.internet import reactor

    trigger = reactor.addSystemEventTrigger(  # type: ignore[attr-defined]
        "before", "shutdown", groups.flush
    )
    try:
        await crawl_targets(targets, config, sink, workers)
    finally:
        reactor.removeSystemEventTrigger(trigger)  # type: ignore[attr-defined]
        groups.flush()


def run_check(
    config: Config,
    *,
    check_all: bool = False,
    urls: Sequence[str] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> CheckSummary:
    """Open the database and run one cycle on a reactor started for it (``veille check``)."""
    check_browser_executable(config)  # a ConfigError before anything is fetched
    db = open_database(config.database)
    try:
        sync_config_pages(db, config, time.time())
        # Alerts are written with their changes (outbox); see alerts.outbox.
        hooks = [outbox_hook(config.alerts)] if config.alerts else []

        shards = _shards(db, config, check_all=check_all, urls=urls)
        if len(shards) > 1:  # a large cycle: one process per core (monitor.parallel)
            from monitor.parallel import run_shards

            if on_start:
                on_start(sum(len(shard.urls) for shard in shards))
            db.close()  # the children open their own; never share a connection across fork
            summary = run_shards(config, shards, on_outcome=on_outcome)
            db = open_database(config.database, check=False)  # checked when opened above
        else:
            freeze_crawl_imports(config.http, config.allow_networks)

            async def main() -> CheckSummary:
                return await check_cycle(
                    db, config, check_all=check_all, urls=urls, on_start=on_start,
                    on_outcome=on_outcome, change_hooks=hooks,
                )

            summary = run_in_reactor(main)
        if config.alerts:  # a one-shot check sends its alerts before it exits (cron)
            summary.alerts = deliver_due(db, config.alerts, config.alerts_settings)
        return summary
    finally:
        db.close()


def select_pages(
    db: sqlite_utils.Database, *, check_all: bool, urls: Sequence[str] | None, now: float
) -> list[PageRow]:
    """The pages a cycle checks: those at ``urls``, or all, or the due ones."""
    if urls:
        return all_pages(db, urls)
    return all_pages(db) if check_all else due_pages(db, now)


def _shards(
    db: sqlite_utils.Database, config: Config, *, check_all: bool, urls: Sequence[str] | None
) -> list[Shard]:
    """The processes this cycle runs in: one unless it is large and the machine has cores."""
    from monitor.parallel import Shard, plan_shards, shard_count

    if config.http.processes == 1:  # the default: no need to select the pages twice
        http = config.http
        return [Shard((), http.concurrent_requests, http.concurrency_per_domain)]
    pages = select_pages(db, check_all=check_all, urls=urls, now=time.time())
    count = shard_count(len(pages), config.http.processes)
    if count <= 1:
        return plan_shards(pages, config, 1)
    # Pages that may go to Chromium stay together: one browser at most.
    rendered = _rendered_urls(config)
    browser = {p.id for p in pages if p.url in rendered}
    browser |= set(pages_needing_browser(db))
    return plan_shards(pages, config, count, browser)


def _rendered_urls(config: Config) -> set[str]:
    return {p.url for p in config.pages if p.render != "http"}
