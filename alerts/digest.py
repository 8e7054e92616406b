"""Digests: when a route's waiting alerts are grouped into one message.

Two kinds of alerts wait for a digest (state ``digest`` in the outbox):

- every alert of a ``mode = "digest"`` route: its digest is due at the first time of the route's
  ``schedule`` (a cron line in its ``timezone``) after the oldest waiting alert was written;
- alerts of an immediate route that went over its ``rate_limit``: they go out together as one
  message as soon as the limit allows one more, so nothing over the limit is ever dropped.

A digest is itself a message under the route's rate limit. Cutting a digest
(:func:`cut_due_digests`) only groups rows into an ``alert_digests`` row; :mod:`alerts.deliver`
sends it like any alert, with the same retries.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from alerts.outbox import create_digest, oldest_sent_since, sent_since, waiting

if TYPE_CHECKING:
    from collections.abc import Sequence

    import sqlite_utils

    from alerts.routes import Route

logger = logging.getLogger(__name__)


def next_fire(route: Route, after: float) -> float | None:
    """The first time at or after ``after`` (Unix) in the route's schedule, or None without one."""
    if not route.schedule:
        return None
    from apscheduler.triggers.cron import CronTrigger

    zone = ZoneInfo(route.timezone)
    trigger = CronTrigger.from_crontab(route.schedule, timezone=zone)
    moment = trigger.get_next_fire_time(None, datetime.fromtimestamp(after, UTC).astimezone(zone))
    return None if moment is None else moment.timestamp()


def room_at(db: sqlite_utils.Database, route: Route, now: float) -> float:
    """When the route may send its next message under its rate limit (``now`` when it may now)."""
    limit = route.rate_limit
    if limit is None:
        return now
    since = now - limit.seconds
    if sent_since(db, route.name, since) < limit.count:
        return now
    oldest = oldest_sent_since(db, route.name, since)
    return now if oldest is None else oldest + limit.seconds


def digest_due_at(db: sqlite_utils.Database, route: Route, now: float) -> float | None:
    """When the route's waiting alerts are due as a digest, or None when none wait."""
    count, oldest = waiting(db, route.name)
    if not count or oldest is None:
        return None
    when = next_fire(route, oldest) if route.digest else oldest
    if when is None:  # a digest route always has a schedule; be safe all the same
        when = oldest
    return max(when, room_at(db, route, now)) if when <= now else when


def cut_due_digests(db: sqlite_utils.Database, routes: Sequence[Route], now: float) -> list[int]:
    """Group the waiting alerts of every route whose digest is due; the new digests' ids."""
    made = []
    for route in routes:
        when = digest_due_at(db, route, now)
        if when is None or when > now:
            continue
        digest_id = create_digest(db, route.name, now)
        if digest_id is not None:
            logger.info("route %s: digest %d cut", route.name, digest_id)
            made.append(digest_id)
    return made


def next_digest_at(db: sqlite_utils.Database, routes: Sequence[Route], now: float) -> float | None:
    """The soonest time a digest of any route will be due (for a scheduler), or None."""
    times = [t for t in (digest_due_at(db, route, now) for route in routes) if t is not None]
    return min(times) if times else None
