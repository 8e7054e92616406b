"""``veille run``: one long-lived process that keeps every watched page checked on time.

Scrapy runs on Twisted's asyncio reactor and an APScheduler 3 ``AsyncIOScheduler`` shares the
same event loop. One crawl lives as long as the process (:class:`~spiders.feed.FeedSpider`): the
``tick`` job hands it the due pages in batches (see :mod:`monitor.scheduler`), so connection
pools and robots.txt caches are kept from one cycle to the next. Results are stored as they
arrive by the same :class:`~monitor.record.Recorder` as ``veille check``, one transaction per
page, so a crash at any moment loses at most the fetches in flight (their pages stay due).

Jobs (each ``max_instances=1, coalesce=True``: a slow run makes the next one wait, never pile
up): ``tick`` (due pages), ``maintenance`` (check-row retention, ``PRAGMA optimize``, WAL
checkpoint). Later jobs (discovery per source, alert delivery) go in :meth:`Daemon.add_jobs`.

Chromium (scrapy-playwright) is in the crawl only when something may need it
(:func:`browser_for`); a page that turns out to need it later (an ``"auto"`` page whose plain
fetch shows no article, see :mod:`monitor.autorender`; a comment thread read only in the browser)
makes the daemon start a crawler with it, as a reload does, and the page goes there.

Signals: SIGTERM and SIGINT stop taking work, give fetches in flight :data:`SHUTDOWN_GRACE`
seconds, store what arrived and exit 0 (a second signal, a second later, exits at once); SIGHUP
reloads the config, and an invalid one is refused with one log line while the old one keeps
running.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from monitor.autorender import AutoRender
from monitor.backoff import BACKOFF_CAP
from monitor.check import sync_config_pages, watch_targets
from monitor.config import check_browser_executable, load_config
from monitor.crawl import ASYNCIO_REACTOR, scrapy_settings
from monitor.errors import ConfigError
from monitor.memory import release_memory
from monitor.notify import Notifier
from monitor.record import Outcome, Recorder
from monitor.record_comments import CommentRecorder
from monitor.scheduler import ConfigIntervals, Cycle, Dispatcher
from spiders.browser import BROWSER_ERROR
from spiders.comments.items import DISQUS, NEEDS_BROWSER, CommentPlan, CommentsResult
from spiders.items import FetchResult
from storage.comments import has_sources
from storage.cycles import (
    bring_forward,
    changes_since,
    cycle_totals,
    optimize,
    page_total,
    prune_checks,
    prune_cycles,
)
from storage.db import StorageError, open_database
from storage.pages import all_pages, remember_needs_browser

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    import sqlite_utils
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from scrapy.crawler import AsyncCrawlerRunner

    from monitor.config import Config
    from spiders.browser import BrowserSettings
    from spiders.items import WatchTarget

logger = logging.getLogger(__name__)

# A second stop signal sooner than this after the first is the same request, not "exit now".
REPEAT_SIGNAL_WINDOW = 1.0

# Seconds the fetches in flight get to finish after SIGTERM; then they are abandoned (their
# pages stay due). The hard limit is a last resort under systemd's TimeoutStopSec.
SHUTDOWN_GRACE: Final = 5.0
SHUTDOWN_HARD_LIMIT: Final = 9.0
MAINTENANCE_EVERY: Final = 6 * 3600.0
MAINTENANCE_FIRST_AFTER: Final = 60.0
ALERTS_EVERY: Final = 5.0  # seconds between two passes of the alert delivery job (cheap idle)
PRUNE_CHUNK: Final = 5000
# The STATUS line is refreshed after cycles, at most this often (it counts the pages).
STATUS_EVERY: Final = 10.0
# When nothing is in flight after a cycle, memory is given back at most this often.
RELEASE_EVERY: Final = 60.0
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1


def crawler_settings(config: Config, browser: BrowserSettings | None = None) -> dict[str, Any]:
    """The daemon's Scrapy settings, the same as ``veille check``'s (monitor.crawl).

    With ``browser``, requests marked ``playwright`` are rendered in Chromium.
    """
    return scrapy_settings(config.http, config.allow_networks, browser)


def browser_for(
    config: Config, db: sqlite_utils.Database | None = None
) -> BrowserSettings | None:
    """The browser settings when a page may need Chromium, else None (no Node driver started).

    A page with ``render = "browser"`` or ``"auto"`` may; so may a known Disqus thread, read
    only in the browser. (Pages remembered in ``pages.needs_browser`` are ``"auto"`` ones: a
    page rendered only because the database says so would be one the config no longer lists
    as ``"auto"``, and ``watch_targets`` fetches those plainly.) Anything else that turns out to
    need it later starts a crawler with Chromium then (:meth:`Daemon.to_browser`).
    """
    if any(page.render != "http" for page in config.pages):
        return config.browser
    if db is not None and not config.comments.disqus_api_key and has_sources(db, DISQUS):
        return config.browser
    return None


def _needs_browser(target: WatchTarget) -> bool:
    """True when ``target`` is rendered, or has a comment thread read, in Chromium."""
    return target.render == "browser" or (
        target.comments is not None and target.comments.needs_browser
    )


def stall_after(config: Config) -> float:
    """Seconds after which a fetch whose result never came is given up (and its page re-picked).

    Far above what Scrapy itself allows a request (every retry timing out after its pause), so
    only a lost request is ever given up on.
    """
    http = config.http
    worst = (http.timeout + BACKOFF_CAP) * (http.retries + 1)
    return max(15 * 60.0, 4 * worst)


class Daemon:
    """The long-running process: crawler, scheduler, signals, reload and notify."""

    def __init__(self, config: Config, db: sqlite_utils.Database) -> None:
        self.config = config
        self.db: sqlite_utils.Database | None = db
        self.notifier = Notifier()
        self.recorder = Recorder(db, intervals=ConfigIntervals(db, config))
        self.comment_recorder = CommentRecorder(db, intervals=self.recorder.intervals)
        self.dispatcher = Dispatcher(db, batch=config.daemon.batch, stall_after=stall_after(config))
        self.scheduler: AsyncIOScheduler | None = None
        self.runner: AsyncCrawlerRunner | None = None
        self.runners: list[AsyncCrawlerRunner] = []
        self.queue: asyncio.Queue[Sequence[WatchTarget] | None] | None = None
        self.crawl_task: asyncio.Task[None] | None = None
        # The current crawler's browser: None when it renders nothing (no Node driver).
        self.browser: BrowserSettings | None = None
        self.autorender = AutoRender()  # render = "auto" pages retried in the browser
        # Comment threads (page id, thread URL) sent to the browser crawler, result awaited.
        self._threads_to_browser: set[tuple[int, str]] = set()
        self._rereading: set[int] = set()  # their pages: the article result is not stored twice
        self._browser_error_logged = False  # once per crawler, not once per page
        self.stopping = False
        self._first_stop_signal = 0.0  # monotonic time of the first SIGTERM/SIGINT
        self.exit_code = EXIT_OK
        self.ready = False
        self._status_at = 0.0
        self._last_tick = time.monotonic()
        self._released_at = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- start ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the crawler, the jobs, the signal handlers and the watchdog; then say READY."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_stop_signal, signum)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        self._start_crawler()
        self.scheduler = AsyncIOScheduler(event_loop=loop, timezone=UTC)
        self.add_jobs(self.scheduler)
        self.scheduler.start()
        period = self.notifier.watchdog_period()
        if period:
            self._spawn(self._watchdog(period))
        self._spawn(self._clock_guard())
        self.ready = True
        self.notifier.ready(self._summary())
        logger.info(
            "veille running: %d pages, checking due pages every %gs, database %s",
            page_total(self.db_), self.config.daemon.tick, self.config.database,
        )

    def add_jobs(self, scheduler: AsyncIOScheduler) -> None:
        """Register the periodic jobs. Later jobs (discovery per source, alert delivery) go here."""
        now = datetime.now(UTC)
        self._add_job(scheduler, self.tick, "tick", self.config.daemon.tick, first=now)
        self._add_job(
            scheduler, self.maintenance, "maintenance", MAINTENANCE_EVERY,
            first=datetime.fromtimestamp(time.time() + MAINTENANCE_FIRST_AFTER, UTC),
        )
        # Alerts: written with their changes (the outbox, routes read at each change so a
        # reload applies), sent by their own job; digests are cut by it when due.
        from alerts.outbox import outbox_hook

        hook = outbox_hook(lambda: self.config.alerts)
        self.recorder.on_changes = (*self.recorder.on_changes, hook)
        self.comment_recorder.on_changes = (*self.comment_recorder.on_changes, hook)
        self._add_job(scheduler, self.deliver_alerts, "alerts", ALERTS_EVERY, first=now)
        # Discovery: each [[sources]] entry read when its interval is due (monitor.discover).
        from monitor.discover import add_discovery_jobs

        add_discovery_jobs(self, scheduler)

    async def deliver_alerts(self) -> None:
        """Send the due alerts and digests (Apprise blocks: a thread, with its own connection)."""
        from alerts.deliver import deliver_database

        config = self.config
        if self.stopping or self.db is None or not config.alerts:
            return
        await asyncio.to_thread(
            deliver_database, config.database, config.alerts, config.alerts_settings
        )

    @staticmethod
    def _add_job(
        scheduler: AsyncIOScheduler,
        func: Callable[[], Awaitable[None]],
        name: str,
        every: float,
        *,
        first: datetime,
    ) -> None:
        """One periodic coroutine job; a run never overlaps the previous one."""
        # Coroutine jobs run on the loop; a plain function would run in a thread, away from
        # the database connection and the crawler.
        scheduler.add_job(
            func, "interval", seconds=every, id=name, name=name, next_run_time=first,
            max_instances=1, coalesce=True, misfire_grace_time=None,
        )

    def _start_crawler(self, *, browser: bool = False) -> None:
        """Start one long-lived feed crawl with the current [http] settings.

        It has Chromium when ``browser`` says so or when :func:`browser_for` does.
        """
        from scrapy.crawler import AsyncCrawlerRunner

        from spiders.feed import FeedSpider

        self.browser = self.config.browser if browser else browser_for(self.config, self.db)
        self._browser_error_logged = False
        self.runner = AsyncCrawlerRunner(crawler_settings(self.config, self.browser))
        self.runners.append(self.runner)
        self.queue = asyncio.Queue()
        task = self.runner.crawl(
            FeedSpider, queue=self.queue, sink=self._sink,
            max_size=self.config.http.max_response_size, browser=self.browser,
        )
        task.add_done_callback(self._crawl_ended)
        self.crawl_task = task

    def _replace_crawler(self, *, browser: bool) -> None:
        """A new crawler takes the next batches; the old one finishes its fetches, then closes."""
        if self.queue is not None:
            self.queue.put_nowait(None)
        self._start_crawler(browser=browser)

    def to_browser(self, targets: Sequence[WatchTarget], why: str) -> None:
        """Hand ``targets`` to a crawler with Chromium, starting one if the current has none."""
        if self.browser is None:
            logger.info(
                "%s: starting a crawler with Chromium (the current one finishes its fetches)", why
            )
            self._replace_crawler(browser=True)
        assert self.queue is not None
        self.queue.put_nowait(targets)

    def _crawl_ended(self, task: asyncio.Task[None]) -> None:
        if self.stopping or task is not self.crawl_task:
            return  # a shutdown, or the crawler replaced by a reload, finishing
        error = task.exception() if not task.cancelled() else None
        logger.error(
            "the crawler stopped unexpectedly (%s); starting a new one", error or "no error"
        )
        self.crawl_task = None
        self.autorender.clear()
        self._threads_to_browser.clear()
        self._rereading.clear()
        self._finish(self.dispatcher.abandon_all(time.time()))

    # -- jobs -----------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Hand the due pages to the crawler (at most ``batch`` in flight)."""
        self._last_tick = time.monotonic()
        if self.stopping or self.db is None:
            return
        now = time.time()
        self._finish(self.dispatcher.expire(now))
        if self.crawl_task is None:
            self._start_crawler(browser=self.browser is not None)
        try:
            pages = self.dispatcher.pick(now)
            if not pages or self.queue is None:
                return
            cycle = self.dispatcher.begin(pages, now)
        except sqlite3.OperationalError as exc:  # locked by another writer past busy_timeout
            logger.warning("no pages picked this time (%s); trying again next tick", exc)
            return
        logger.debug("cycle %d: %d pages handed to the crawler", cycle.id, len(pages))
        targets = watch_targets(pages, self.config, self.db)
        self.autorender.expect(targets)
        wanted = [target.url for target in targets if _needs_browser(target)]
        if self.browser is None and wanted:  # a reload, or a Disqus thread found meanwhile
            self.to_browser(targets, f"{wanted[0]} needs the browser")
        else:
            self.queue.put_nowait(targets)

    async def maintenance(self) -> None:
        """Delete check rows past the retention, refresh SQLite's statistics, checkpoint the WAL."""
        before = time.time() - self.config.daemon.retention
        deleted = 0
        after: int | None = 0
        while after is not None and not self.stopping and self.db is not None:
            count, after = prune_checks(self.db, before, after_id=after, limit=PRUNE_CHUNK)
            deleted += count
            await asyncio.sleep(0)  # let fetches and the watchdog run between chunks
        if self.db is not None and not self.stopping:
            cycles = prune_cycles(self.db, before)
            optimize(self.db)
            logger.info(
                "maintenance: %d check rows and %d cycles older than the retention deleted",
                deleted, cycles,
            )

    # -- results --------------------------------------------------------------------------------

    def _sink(self, result: FetchResult | CommentsResult) -> None:
        """Store one fetch or comment-thread result (called by the item pipeline, on the loop)."""
        if self.db is None:
            return  # closed at shutdown: the page stays due and is fetched next time
        if isinstance(result, FetchResult) and result.page_id in self._rereading:
            self._rereading.discard(result.page_id)  # fetched again for a thread: stored already
            return
        # render = "auto" and no article: not recorded; the page stays in flight meanwhile.
        retry = None if self.stopping else self.autorender.hold(result)
        if retry is not None:
            self.to_browser([retry], f'{retry.url} (render = "auto") shows no article')
            return
        if isinstance(result, CommentsResult):
            self._store_comments(result)
            return
        found = self.autorender.rendered(result)
        try:
            outcome = self.recorder.record(result)
        except Exception as exc:  # one page that cannot be stored never stops the daemon
            logger.exception("could not record %s", result.url)
            outcome = Outcome(result.url, "store_error", error=f"{type(exc).__name__}: {exc}")
        if found and not outcome.failed:
            self._remember_needs_browser(result)
        if outcome.state == BROWSER_ERROR and not self._browser_error_logged:
            # Every page that needed Chromium fails alike: say it once per crawler.
            self._browser_error_logged = True
            logger.error(
                "%s (first page: %s; each page that needs the browser is recorded with state "
                "%s until it starts)", outcome.error, result.url, BROWSER_ERROR,
            )
        elif outcome.failed:
            logger.debug("%s: %s %s", result.url, outcome.state, outcome.error or "")
        cycle = self.dispatcher.settle(result.page_id, outcome, time.time())
        if cycle is not None:
            self._finish([cycle])

    def _remember_needs_browser(self, result: FetchResult) -> None:
        """An "auto" page showed its article only in the browser: render it at once from now on."""
        try:
            remember_needs_browser(self.db_, [result.page_id])
        except Exception:  # the next round retries it in the browser all the same
            logger.exception("could not remember that %s needs the browser", result.url)
            return
        logger.info("%s needs the browser: rendered at once from now on", result.url)

    def _store_comments(self, result: CommentsResult) -> None:
        """Record one thread's read; one that needs Chromium is read again in a crawler with it.

        ``needs_browser`` concludes nothing (see :class:`~monitor.record_comments.CommentRecorder`)
        but makes the thread known, so a restart brings Chromium at once.
        """
        thread = (result.page_id, result.source.url)
        again = result.state == NEEDS_BROWSER and thread not in self._threads_to_browser
        if result.state != NEEDS_BROWSER or not again:
            self._threads_to_browser.discard(thread)
        try:
            self.comment_recorder.record(result)
        except Exception:  # one thread that cannot be stored never stops the daemon
            logger.exception("could not record the comments of %s", result.page_url)
        if again and not self.stopping:
            self._read_in_browser(result, thread)

    def _read_in_browser(self, result: CommentsResult, thread: tuple[int, str]) -> None:
        """Fetch the page again in a crawler with Chromium, to read only ``result``'s thread.

        Once per thread: one still answered ``needs_browser`` waits for the page's next check.
        """
        pages = all_pages(self.db_, [result.page_url])
        if not pages:
            return
        [target] = watch_targets(pages, self.config, self.db)
        plan = target.comments or CommentPlan()
        # Only the held thread: no inline comments, no other thread read twice.
        only = replace(plan, mode="explicit", sources=(result.source,), kinds=(), known=())
        self._threads_to_browser.add(thread)
        self._rereading.add(result.page_id)
        kind, url = result.source.kind, result.page_url
        self.to_browser(
            [replace(target, comments=only)], f"the {kind} comments of {url} need the browser"
        )

    def _finish(self, cycles: list[Cycle]) -> None:
        for cycle in cycles:
            seconds = time.time() - cycle.started_at
            logger.info(
                "cycle %d: %d pages, %d changed, %d errors%s, %.1f s", cycle.id, cycle.pages,
                cycle.changed, cycle.errors,
                f", {cycle.abandoned} abandoned" if cycle.abandoned else "", seconds,
            )
        if cycles:
            self._refresh_status()
            self._release_memory()

    def _release_memory(self) -> None:
        """Between cycles, hand back the memory extraction caches hold (see monitor.memory)."""
        now = time.monotonic()
        if self.dispatcher.in_flight or now - self._released_at < RELEASE_EVERY:
            return
        self._released_at = now
        release_memory()

    # -- status ---------------------------------------------------------------------------------

    @property
    def db_(self) -> sqlite_utils.Database:
        assert self.db is not None
        return self.db

    def _summary(self) -> str:
        """``1234 pages, 56 checked in the last hour, 3 changes today``."""
        if self.db is None:
            return "stopped"
        now = time.time()
        today = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT00:00:00Z")
        checked = cycle_totals(self.db, now - 3600).checked
        return (
            f"{page_total(self.db)} pages, {checked} checked in the last hour, "
            f"{changes_since(self.db, today)} changes today"
        )

    def _refresh_status(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.notifier.enabled or (not force and now - self._status_at < STATUS_EVERY):
            return
        self._status_at = now
        self.notifier.status(self._summary())

    async def _clock_guard(self) -> None:
        """Keep ticking when the wall clock is set back (FAULTS F31).

        APScheduler 3 times jobs by the wall clock: after the clock goes back two hours, the
        tick would wait two hours. Asyncio's sleep is monotonic, so this notices the silence.
        """
        while not self.stopping:
            await asyncio.sleep(max(1.0, 3 * self.config.daemon.tick))
            self.check_clock()

    def check_clock(self) -> bool:
        """Restart the tick's timer when it stopped firing; True when it had to."""
        tick = self.config.daemon.tick
        if self.stopping or self.scheduler is None or time.monotonic() - self._last_tick < 3 * tick:
            return False
        job = self.scheduler.get_job("tick")
        next_run = job.next_run_time if job is not None else None
        if next_run is None or next_run.timestamp() <= time.time() + tick:
            return False  # paused, or about to run: not a clock problem
        logger.warning("the clock was set back; restarting the tick's timer")
        # A new trigger starts from the current wall clock.
        self.scheduler.reschedule_job("tick", trigger="interval", seconds=tick)
        self._last_tick = time.monotonic()
        return True

    async def _watchdog(self, period: float) -> None:
        """Ping systemd from the event loop: if the loop hangs, the pings stop."""
        while not self.stopping:
            self.notifier.watchdog()
            await asyncio.sleep(period)

    # -- reload ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """SIGHUP: read the config again; keep the old one if the new one is invalid."""
        if self.stopping or self.db is None:
            return
        old = self.config
        try:
            new = load_config(old.path)
            check_browser_executable(new)
        except ConfigError as exc:
            logger.error("config reload refused, still running with the previous config: %s", exc)
            return
        if new.database != old.database:
            logger.error(
                "config reload refused: the database cannot change while veille runs "
                "(%s, was %s); restart veille to switch",
                new.database, old.database,
            )
            return
        before = page_total(self.db)
        try:
            sync_config_pages(self.db, new, time.time())
        except StorageError as exc:
            logger.error("config reload refused: %s", exc)
            return
        self.config = new
        self.recorder.intervals = ConfigIntervals(self.db, new)
        self.comment_recorder.intervals = self.recorder.intervals
        moved = _apply_interval_changes(self.db, old, new)
        self.dispatcher.batch = new.daemon.batch
        self.dispatcher.stall_after = stall_after(new)
        if new.daemon.tick != old.daemon.tick and self.scheduler is not None:
            self.scheduler.reschedule_job("tick", trigger="interval", seconds=new.daemon.tick)
        browser = self.browser is not None  # a crawler that has Chromium keeps it
        if new.http != old.http or (browser and new.browser != old.browser):
            # A crawler's settings are fixed: start a new one; the old one finishes its fetches.
            self._replace_crawler(browser=browser)
        logger.info(
            "config reloaded: %d topics and %d pages in the file, %d pages added, "
            "%d brought forward by a shorter interval",
            len(new.topics), len(new.pages), page_total(self.db) - before, moved,
        )
        self._refresh_status(force=True)

    # -- stop -----------------------------------------------------------------------------------

    def _on_stop_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        now = time.monotonic()
        if self.stopping and now - self._first_stop_signal < REPEAT_SIGNAL_WINDOW:
            # One stop request delivered several times: a parent-death signal is sent once
            # per thread of the dead parent, and service managers may signal a group too.
            logger.debug("%s again within %gs: the same stop", name, REPEAT_SIGNAL_WINDOW)
            return
        if self.stopping:
            logger.warning("%s again: exiting now", name)
            os._exit(EXIT_OK if self.db is None else EXIT_FAILED)
        self._first_stop_signal = now
        self._spawn(self.stop(name))

    async def stop(self, reason: str) -> None:
        """Stop taking work, let fetches in flight finish (briefly), store, close, stop the loop."""
        if self.stopping:
            return
        self.stopping = True
        _hard_exit_after(SHUTDOWN_HARD_LIMIT, self)
        in_flight = self.dispatcher.in_flight
        logger.info(
            "stopping (%s): no new work; waiting up to %gs for %d fetches in flight",
            reason, SHUTDOWN_GRACE, in_flight,
        )
        self.notifier.stopping()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.queue is not None:
            self.queue.put_nowait(None)
        stopping = asyncio.ensure_future(
            asyncio.gather(*(runner.stop() for runner in self.runners), return_exceptions=True)
        )
        done, _ = await asyncio.wait([stopping], timeout=SHUTDOWN_GRACE)
        if not done:
            logger.warning(
                "abandoning %d fetches still running; their pages stay due",
                self.dispatcher.in_flight,
            )
        self._close()

    def _close(self) -> None:
        if self.db is not None:
            now = time.time()
            try:
                self._finish(self.dispatcher.abandon_all(now))
                self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # the database is closed below whatever happened
                logger.exception("could not complete the open cycles")
                self.exit_code = EXIT_FAILED
            self.db.close()
            self.db = None
        logger.info("veille stopped")
        _reactor().callLater(0, _reactor().stop)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("internal task failed", exc_info=task.exception())


def _apply_interval_changes(db: sqlite_utils.Database, old: Config, new: Config) -> int:
    """Bring forward the pages whose fixed interval the new config shortens or sets."""
    moved = 0
    before = {page.url: page.interval for page in old.pages}
    for page in new.pages:
        if page.interval and (before.get(page.url) or float("inf")) > page.interval:
            moved += bring_forward(db, page.interval, url=page.url)
    topics = {topic.name: topic.interval for topic in old.topics}
    for topic in new.topics:
        if topic.interval and (topics.get(topic.name) or float("inf")) > topic.interval:
            moved += bring_forward(db, topic.interval, topic=topic.name)
    return moved


def _hard_exit_after(seconds: float, daemon: Daemon) -> None:
    """Exit however far the shutdown got, after ``seconds`` (a stuck thread or reactor)."""

    def exit_now() -> None:
        logger.error("shutdown took more than %gs: exiting now", seconds)
        logging.shutdown()
        os._exit(EXIT_OK if daemon.db is None else EXIT_FAILED)

    timer = threading.Timer(seconds, exit_now)
    timer.daemon = True
    timer.start()


def _reactor() -> Any:
    """The installed Twisted reactor (typed loosely: Twisted's stubs describe interfaces)."""
    from twisted.internet import reactor

    return reactor


def run_daemon(config: Config) -> int:
    """Run until SIGTERM or SIGINT; return the exit code.

    Raises StorageError or ConfigError (``[browser] executable_path`` names no file) at start-up.
    """
    from scrapy.utils.reactor import install_reactor

    check_browser_executable(config)
    db = open_database(config.database)
    try:
        sync_config_pages(db, config, time.time())
    except BaseException:
        db.close()
        raise
    install_reactor(ASYNCIO_REACTOR)
    reactor = _reactor()
    daemon = Daemon(config, db)

    async def main() -> None:
        try:
            await daemon.start()
        except BaseException:
            logger.exception("veille could not start")
            daemon.exit_code = EXIT_FAILED
            await daemon.stop("start-up failed")

    reactor.callWhenRunning(lambda: asyncio.ensure_future(main()))
    # Signals are the daemon's own (loop.add_signal_handler), not Twisted's default handlers.
    reactor.run(installSignalHandlers=False)
    if daemon.db is not None:  # the loop stopped some other way
        daemon.db.close()
    return daemon.exit_code
