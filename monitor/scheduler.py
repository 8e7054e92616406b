"""What the daemon's tick decides: which due pages go to the crawler now, and which are in flight.

Each tick takes the pages whose ``next_check_at`` has passed, oldest first, through the index on
that column (O(due), not O(pages)), skips those already being fetched, and hands at most
``batch`` pages to the crawler at a time. After downtime the backlog is therefore worked through
in order at the crawler's pace instead of being queued in one burst.

Every batch is a *cycle*: a row in ``cycles`` when it starts, completed with its counts when its
last result is recorded. A page whose result never comes (the crawl died, or a fetch stalled far
beyond its timeouts) is dropped from the in-flight set after ``stall_after`` seconds, so it is
picked again; a crash loses nothing either, because a page stays due until its result is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storage.cycles import finish_cycle, start_cycle
from storage.pages import due_pages

if TYPE_CHECKING:
    import sqlite_utils

    from monitor.config import Config
    from monitor.record import Outcome
    from storage.pages import PageRow

logger = logging.getLogger(__name__)


@dataclass
class Cycle:
    """One batch of pages handed to the crawler, and what became of them so far."""

    id: int
    started_at: float
    pages: int
    waiting: set[int] = field(default_factory=set)
    checked: int = 0
    changed: int = 0
    errors: int = 0
    abandoned: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one page's recorded outcome."""
        self.checked += 1
        if outcome.changes:
            self.changed += 1
        if outcome.failed:
            self.errors += 1


class Dispatcher:
    """Chooses the pages of each tick and follows them until their results are stored."""

    def __init__(self, db: sqlite_utils.Database, *, batch: int, stall_after: float) -> None:
        self.db = db
        self.batch = batch
        self.stall_after = stall_after
        self._in_flight: dict[int, tuple[Cycle, float]] = {}  # page id -> (cycle, give up at)
        self._open: dict[int, Cycle] = {}  # cycle id -> cycle

    @property
    def in_flight(self) -> int:
        """Pages handed to the crawler whose result has not been stored yet."""
        return len(self._in_flight)

    @property
    def open_cycles(self) -> list[Cycle]:
        """Cycles still waiting for results."""
        return list(self._open.values())

    def pick(self, now: float) -> list[PageRow]:
        """The due pages to fetch now: oldest due first, not in flight, at most the free room."""
        room = self.batch - len(self._in_flight)
        if room <= 0:
            return []
        # Pages in flight are still due (their row changes only when the result is stored), so
        # ask for that many more: the query stays an index range of O(batch) rows.
        rows = due_pages(self.db, now, limit=room + len(self._in_flight))
        return [page for page in rows if page.id not in self._in_flight][:room]

    def begin(self, pages: list[PageRow], now: float) -> Cycle:
        """Record the start of a cycle for ``pages`` and track them as in flight."""
        cycle = Cycle(
            id=start_cycle(self.db, started_at=now, pages=len(pages)),
            started_at=now,
            pages=len(pages),
            waiting={page.id for page in pages},
        )
        give_up = now + self.stall_after
        for page in pages:
            self._in_flight[page.id] = (cycle, give_up)
        self._open[cycle.id] = cycle
        return cycle

    def settle(self, page_id: int, outcome: Outcome, now: float) -> Cycle | None:
        """Count a stored result; return its cycle when that was the cycle's last page."""
        entry = self._in_flight.pop(page_id, None)
        if entry is None:  # a late result of a page given up on: stored, not counted
            return None
        cycle = entry[0]
        cycle.waiting.discard(page_id)
        cycle.add(outcome)
        return self._close_if_done(cycle, now)

    def expire(self, now: float) -> list[Cycle]:
        """Give up on pages in flight past their deadline; return the cycles this completes."""
        stalled = [page_id for page_id, (_, give_up) in self._in_flight.items() if give_up <= now]
        done: list[Cycle] = []
        for page_id in stalled:
            cycle, _ = self._in_flight.pop(page_id)
            cycle.waiting.discard(page_id)
            cycle.abandoned += 1
            closed = self._close_if_done(cycle, now)
            if closed is not None:
                done.append(closed)
        if stalled:
            logger.warning("%d fetches stalled; their pages will be picked again", len(stalled))
        return done

    def abandon_all(self, now: float) -> list[Cycle]:
        """Give up on everything in flight (shutdown, or the crawl died); complete the cycles."""
        for cycle, _ in self._in_flight.values():
            cycle.abandoned += 1
            cycle.waiting.clear()
        self._in_flight.clear()
        done = list(self._open.values())
        for cycle in done:
            self._store(cycle, now)
        self._open.clear()
        return done

    def _close_if_done(self, cycle: Cycle, now: float) -> Cycle | None:
        if cycle.waiting:
            return None
        self._open.pop(cycle.id, None)
        self._store(cycle, now)
        return cycle

    def _store(self, cycle: Cycle, now: float) -> None:
        finish_cycle(
            self.db, cycle.id, finished_at=now, checked=cycle.checked, changed=cycle.changed,
            errors=cycle.errors, abandoned=cycle.abandoned,
        )


class ConfigIntervals(dict[int, float | None]):
    """Fixed intervals from the config by page id, for :class:`~monitor.record.Recorder`.

    The recorder only calls ``get(page_id)``. Looking the page up then (page first, then its
    topic) keeps start-up O(1) and also covers pages that ``veille add`` inserts while the
    daemon runs, which a table built once at start would miss.
    """

    def __init__(self, db: sqlite_utils.Database, config: Config) -> None:
        super().__init__()
        self.db = db
        self._by_url = {page.url: page.interval for page in config.pages if page.interval}
        self._by_topic = {topic.name: topic.interval for topic in config.topics if topic.interval}

    def __bool__(self) -> bool:
        """Always true: the mapping is computed, not stored (``intervals or {}`` must keep it)."""
        return True

    def get(self, page_id: int, default: float | None = None) -> float | None:  # type: ignore[override]
        """The page's fixed interval, else its topic's, else ``default``."""
        if not self._by_url and not self._by_topic:
            return default
        row = self.db.execute("SELECT url, topic FROM pages WHERE id = ?", [page_id]).fetchone()
        if row is None:
            return default
        url, topic = row
        return self._by_url.get(url) or self._by_topic.get(topic) or default
