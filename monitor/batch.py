"""Group commit: the results of a check cycle are written a few dozen per transaction.

Each page result is still all-or-nothing: it is recorded inside its own savepoint (the
recorders' ``write_transaction`` nests as one), so a page that cannot be stored leaves no row
behind while the pages around it are kept. What changes is how often SQLite's write lock is
taken and a commit is written: once per group instead of twice per page (the page, then its
reader comments). With two check processes on one database, each waited for the other's lock
for about a tenth of its time when every page took it twice.

Outcomes (the summary, the progress bar) are handed on only once their group is committed. A
``kill -9`` loses at most the group in progress: those pages were not stored, so they are still
due and the next check takes them. A group that fails as a whole (a full disk, a commit
refused) is rolled back and written again one result per transaction, as without grouping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from storage.db import write_transaction

if TYPE_CHECKING:
    import sqlite_utils

logger = logging.getLogger(__name__)

# A result is stored by a function that writes it and returns what to do once it is committed.
Store = Callable[[], Callable[[], None]]

# About a fifth of a second of pages at full speed; a slow crawl is flushed by the timer.
GROUP_SIZE = 64
GROUP_DELAY = 0.2  # seconds a result may wait for its group


class _GroupLost(Exception):
    """An error inside a result ended the whole transaction (SQLite rolled it back)."""


class WriteGroups:
    """Collect ``Store`` calls and run them a group per write transaction.

    Call :meth:`flush` when results must be in the database (the end of a crawl); a timer on
    the running event loop flushes a group that waited ``delay`` seconds.
    """

    def __init__(
        self, db: sqlite_utils.Database, *, size: int = GROUP_SIZE, delay: float = GROUP_DELAY
    ) -> None:
        self.db = db
        self.size = size
        self.delay = delay
        self._pending: list[Store] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, store: Store) -> None:
        """Queue one result; its group is written when full or ``delay`` seconds old."""
        self._pending.append(store)
        if len(self._pending) >= self.size:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (a direct call): write at once
                self.flush()
                return
            self._timer = loop.call_later(self.delay, self.flush)

    def flush(self) -> None:
        """Write every queued result now, then hand their outcomes on."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        group, self._pending = self._pending, []
        if not group:
            return
        conn = self.db.conn
        try:
            with write_transaction(self.db):
                done = []
                for store in group:
                    done.append(store())
                    if not conn.in_transaction:
                        raise _GroupLost
        except Exception as exc:  # noqa: BLE001 - written again below, one at a time
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            logger.warning(
                "could not store %d results together (%s); storing them one by one",
                len(group), exc if not isinstance(exc, _GroupLost) else "transaction ended",
            )
            done = [store() for store in group]
        for deliver in done:
            deliver()
