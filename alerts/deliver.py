"""The delivery job: send the outbox's due alerts and digests through Apprise.

:func:`deliver_due` is one pass, safe to run as often as wanted and from several processes:

1. group the waiting alerts of every route whose digest is due (:mod:`alerts.digest`);
2. send each due digest, then each due alert, oldest first. A row is taken with a lease
   (:func:`alerts.outbox.claim`, which counts the attempt), rendered from ``change_feed``, sent
   to each of the route's services that has not had it yet, and marked sent in its own
   transaction right after the last service accepted it. A failed attempt waits
   ``retry_delay × 2^(attempts−1)`` (at most ``max_retry_delay``); after ``max_attempts`` the row
   is ``failed`` and ``veille status`` lists it. Once a route fails in a pass, its other rows
   wait for the next pass instead of each timing out in turn;
3. an alert over its route's rate limit is held for the route's next digest, never dropped.

Delivery guarantee: exactly one message per (change, route) in normal operation. When the
process dies between a service accepting a message and the row being marked sent (a window of
milliseconds), the next pass sends it again: at most one duplicate, carrying the same
``X-Veille-Alert`` id. Never zero: the row stays pending until marked sent.

Apprise calls block (an unreachable SMTP server takes up to its 15 s connect timeout), so a
daemon runs this in a worker thread, with its own database connection: see
:func:`deliver_database`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alerts import outbox
from alerts.digest import cut_due_digests, room_at
from alerts.errors import RouteError
from alerts.outbox import DIGESTS, OUTBOX, Pending
from alerts.render import Message, render_change, render_digest, render_test
from alerts.secrets import guard_logging, redact
from alerts.services import Service, load_services, make_asset, send

if TYPE_CHECKING:
    from collections.abc import Sequence

    import sqlite_utils

    from alerts.routes import AlertSettings, Route

logger = logging.getLogger(__name__)

_WARNED: set[str] = set()  # routes gone from the config, already warned about


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0  # messages sent (a digest counts once)
    retrying: int = 0  # failed attempts that will be tried again
    failed: int = 0  # given up on after max_attempts
    held: int = 0  # alerts held for the next digest by a rate limit
    skipped: int = 0  # alerts whose change no longer exists
    errors: list[str] = field(default_factory=list)  # route: why (secrets masked)

    @property
    def ok(self) -> bool:
        """True when no attempt failed in this pass."""
        return not self.retrying and not self.failed

    @property
    def busy(self) -> bool:
        """True when the pass did anything worth a line."""
        return bool(self.sent or self.retrying or self.failed or self.held or self.skipped)

    def line(self) -> str:
        """``alerts: 3 sent, 1 to retry, 0 failed, 2 held for the next digest``."""
        text = f"alerts: {self.sent} sent, {self.retrying} to retry, {self.failed} failed"
        if self.held:
            text += f", {self.held} held for the next digest"
        return text


class _Pass:
    """One delivery pass: the routes' services, loaded once, and the pass's report."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        routes: Sequence[Route],
        settings: AlertSettings,
        now: float,
    ) -> None:
        self.db = db
        self.routes = {route.name: route for route in routes}
        self.settings = settings
        self.now = now
        self._started = time.monotonic()
        self.report = DeliveryReport()
        self.asset = make_asset()
        self._services: dict[str, list[Service] | RouteError] = {}
        self.broken: set[str] = set()  # routes that failed in this pass

    def clock(self) -> float:
        """Now: the pass's start time (which tests may set) plus the time spent since."""
        return self.now + (time.monotonic() - self._started)

    def services(self, route: Route) -> list[Service]:
        if route.name not in self._services:
            try:
                self._services[route.name] = load_services(route, self.asset)
            except RouteError as exc:
                self._services[route.name] = exc
        loaded = self._services[route.name]
        if isinstance(loaded, RouteError):
            raise loaded
        return loaded

    def run(self) -> DeliveryReport:
        cut_due_digests(self.db, list(self.routes.values()), self.now)
        for row in outbox.due(self.db, DIGESTS, self.now):
            self.deliver(row)
        for row in outbox.due(self.db, OUTBOX, self.now):
            self.deliver(row)
        return self.report

    def deliver(self, row: Pending) -> None:
        route = self.routes.get(row.route)
        if route is None:  # no longer configured: its rows wait for it to come back
            if row.route not in _WARNED:
                _WARNED.add(row.route)
                logger.warning("alerts wait for route %r, which is not in the config", row.route)
            return
        if route.name in self.broken:
            return
        now = self.clock()
        if row.table == OUTBOX and room_at(self.db, route, now) > now:
            if outbox.hold_for_digest(self.db, row, now):
                self.report.held += 1
                logger.info(
                    "route %s: over its rate limit, alert %s held for the next digest",
                    route.name,
                    row.message_id,
                )
            return
        if not outbox.claim(self.db, row, now):
            return  # another sender took it
        try:
            message = self.message(row, route)
        except Exception as exc:  # rendering must never stop the pass
            logger.exception("could not render alert %s", row.message_id)
            self.failed(row, route, f"could not render the message: {type(exc).__name__}")
            return
        if message is None:
            outbox.mark_skipped(self.db, row, "its change no longer exists (history rebuilt)")
            self.report.skipped += 1
            return
        try:
            services = self.services(route)
        except RouteError as exc:
            self.failed(row, route, redact(exc.message))
            return
        delivered = set(row.delivered_to)
        errors = []
        for service in services:
            if service.index in delivered:
                continue
            try:
                error = send(service, message, row.message_id)
            except Exception as exc:  # a plugin bug is one failed attempt, not a crash
                error = f"{service.shown}: {type(exc).__name__}: {redact(str(exc))}"[:300]
            if error is not None:
                errors.append(error)
                continue
            delivered.add(service.index)
            if delivered >= {s.index for s in services}:
                outbox.mark_sent(self.db, row, delivered, self.clock())
            else:  # remember it, so a retry skips this service
                outbox.record_progress(self.db, row, delivered)
        if errors:
            self.failed(row, route, "; ".join(errors))
            return
        if not services:  # nothing to send to counts as a failure, not a success
            self.failed(row, route, "the route has no service")
            return
        self.report.sent += 1
        logger.info("route %s: alert %s sent", route.name, row.message_id)

    def failed(self, row: Pending, route: Route, error: str) -> None:
        error = redact(error)
        state = outbox.mark_failed_attempt(self.db, row, error, self.clock(), self.settings)
        self.broken.add(route.name)
        self.report.errors.append(f"route {route.name!r}: {error}")
        if state == "failed":
            self.report.failed += 1
            logger.warning(
                "route %s: alert %s failed after %d attempts: %s",
                route.name,
                row.message_id,
                row.attempts + 1,
                error,
            )
        else:
            self.report.retrying += 1
            logger.warning(
                "route %s: alert %s not delivered (attempt %d), will retry: %s",
                route.name,
                row.message_id,
                row.attempts + 1,
                error,
            )

    def message(self, row: Pending, route: Route) -> Message | None:
        if row.table == DIGESTS:
            changes = outbox.change_rows(self.db, outbox.digest_change_ids(self.db, row.id))
            if not changes:
                return None
            return render_digest(
                changes,
                language=route.language,
                settings=self.settings,
                timezone=route.timezone,
                overflow=None if route.digest else route.rate_limit,
            )
        assert row.change_id is not None
        rows = outbox.change_rows(self.db, [row.change_id])
        if not rows:
            return None
        return render_change(
            rows[0], language=route.language, settings=self.settings, timezone=route.timezone
        )


def deliver_due(
    db: sqlite_utils.Database,
    routes: Sequence[Route],
    settings: AlertSettings,
    *,
    now: float | None = None,
) -> DeliveryReport:
    """Send what is due in the outbox (see the module docstring); return what happened."""
    guard_logging()
    if not routes:
        return DeliveryReport()
    report = _Pass(db, routes, settings, time.time() if now is None else now).run()
    if report.busy:
        logger.info("%s", report.line())
    return report


def deliver_database(
    path: Path, routes: Sequence[Route], settings: AlertSettings
) -> DeliveryReport:
    """:func:`deliver_due` with its own connection to the database at ``path`` (for a thread)."""
    from storage.db import open_database

    db = open_database(path, check=False)
    try:
        return deliver_due(db, routes, settings)
    finally:
        db.close()


@dataclass(frozen=True)
class TestOutcome:
    """How a test message fared on one service of a route."""

    route: str
    service: str  # masked URL
    error: str | None  # None: it got through

    @property
    def ok(self) -> bool:
        """True when the service accepted the message."""
        return self.error is None


def send_test(route: Route) -> list[TestOutcome]:
    """Send ``veille test-alert``'s message to every service of ``route``; touches no database."""
    guard_logging()
    try:
        services = load_services(route)
    except RouteError as exc:
        return [TestOutcome(route.name, "(route)", redact(exc.message))]
    message = render_test(route.name, language=route.language, timezone=route.timezone)
    key = f"veille-test-{int(time.time())}-{route.name}"
    outcomes = []
    for service in services:
        try:
            error = send(service, message, key)
        except Exception as exc:
            error = f"{type(exc).__name__}: {redact(str(exc))}"
        outcomes.append(TestOutcome(route.name, service.shown, error))
    return outcomes
