"""``veille status``: the state of the daemon's database, and whether it looks healthy.

It reads the database only (it works whether the daemon runs or not, and from a monitoring
probe). Unhealthy means one of:

- pages have been due for more than three times the shortest check interval and no cycle
  started in that time (the daemon is down or stuck);
- more than :data:`STATUS_ERROR_SHARE` of the checks of the last hour failed (with at least
  :data:`STATUS_MIN_CHECKS` checks, so one bad page among three does not page anyone).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from monitor.schedule import SCHEDULE_STEPS
from storage.cycles import (
    CycleRow,
    CycleTotals,
    alerts_waiting,
    changes_since,
    cycle_totals,
    database_bytes,
    due_count,
    errors_by_domain,
    last_cycle,
    page_total,
    pages_by_state,
    removed_pages,
)
from storage.db import iso_from_unix

if TYPE_CHECKING:
    from pathlib import Path

    import sqlite_utils

    from monitor.config import Config

STATUS_ERROR_SHARE: Final = 0.5
STATUS_MIN_CHECKS: Final = 10
STATUS_MISSED_INTERVALS: Final = 3
HOUR: Final = 3600.0


@dataclass
class StatusReport:
    """Everything ``veille status`` prints."""

    database: Path
    database_bytes: int
    wal_bytes: int
    pages: int
    removed: int
    by_state: dict[str, int]
    due: int
    oldest_due: float | None
    last_cycle: CycleRow | None
    last_hour: CycleTotals
    changes_today: int
    errors_by_domain: list[tuple[str, int]]
    alerts: tuple[int, int] | None  # (waiting, failed); None without an outbox
    shortest_interval: float
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def shortest_interval(config: Config) -> float:
    """The shortest check interval any page can have: the schedule's first step or an override."""
    intervals = [SCHEDULE_STEPS[0][1]]
    intervals += [page.interval for page in config.pages if page.interval]
    intervals += [topic.interval for topic in config.topics if topic.interval]
    return max(min(intervals), config.daemon.tick)


def gather(db: sqlite_utils.Database, config: Config, now: float | None = None) -> StatusReport:
    """Read the figures of ``veille status`` and judge the health."""
    now = time.time() if now is None else now
    size, wal = database_bytes(config.database)
    due, oldest_due = due_count(db, now)
    today = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT00:00:00Z")
    report = StatusReport(
        database=config.database,
        database_bytes=size,
        wal_bytes=wal,
        pages=page_total(db),
        removed=removed_pages(db),
        by_state=pages_by_state(db),
        due=due,
        oldest_due=oldest_due,
        last_cycle=last_cycle(db),
        last_hour=cycle_totals(db, now - HOUR),
        changes_today=changes_since(db, today),
        errors_by_domain=errors_by_domain(db),
        alerts=alerts_waiting(db),
        shortest_interval=shortest_interval(config),
    )
    report.problems = problems(report, now)
    return report


def problems(report: StatusReport, now: float) -> list[str]:
    """What makes the daemon look unhealthy, one sentence each."""
    found: list[str] = []
    window = STATUS_MISSED_INTERVALS * report.shortest_interval
    overdue = report.oldest_due is not None and report.oldest_due < now - window
    last = report.last_cycle
    if overdue and (last is None or last.started_at < now - window):
        since = f"since {ago(last.started_at, now)}" if last else "ever"
        found.append(
            f"no cycle {since} while {report.due} pages are due (the oldest for "
            f"{duration(now - (report.oldest_due or now))}): is `veille run` running?"
        )
    hour = report.last_hour
    if hour.checked >= STATUS_MIN_CHECKS and hour.errors > STATUS_ERROR_SHARE * hour.checked:
        found.append(
            f"{hour.errors} of the {hour.checked} checks of the last hour failed "
            "(see the errors by domain)"
        )
    return found


def duration(seconds: float) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def ago(ts: float, now: float) -> str:
    """``2026-05-01T12:00:00Z (3m ago)``."""
    return f"{iso_from_unix(ts)} ({duration(now - ts)} ago)"


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


def render(report: StatusReport, now: float) -> str:
    """The report as aligned lines for a terminal."""
    size = f"{_bytes(report.database_bytes)}, WAL {_bytes(report.wal_bytes)}"
    lines = [
        f"database     {report.database} ({size})",
        f"pages        {report.pages} watched, {report.removed} removed by their site",
    ]
    if report.by_state:
        states = ", ".join(f"{count} {state}" for state, count in report.by_state.items())
        lines.append(f"last check   {states}")
    due = f"{report.due}"
    if report.oldest_due is not None:
        due += f" (the oldest due for {duration(now - report.oldest_due)})"
    lines.append(f"due now      {due}")
    last = report.last_cycle
    if last is None:
        lines.append("last cycle   none yet (`veille run` records one per batch of due pages)")
    elif last.finished_at is None:
        started = ago(last.started_at, now)
        lines.append(f"last cycle   started {started}, {last.pages} pages, running")
    else:
        started = ago(last.started_at, now)
        lines.append(
            f"last cycle   {started}: {last.pages} pages, {last.changed} changed, "
            f"{last.errors} errors, {last.finished_at - last.started_at:.1f} s"
            + (f", {last.abandoned} abandoned" if last.abandoned else "")
        )
    hour = report.last_hour
    lines.append(
        f"last hour    {hour.cycles} cycles, {hour.checked} pages checked, {hour.changed} changed, "
        f"{hour.errors} errors; {report.changes_today} changes today"
    )
    if report.errors_by_domain:
        errors = ", ".join(f"{domain} {count}" for domain, count in report.errors_by_domain)
        lines.append(f"in error     {errors}")
    else:
        lines.append("in error     none")
    if report.alerts is None:
        lines.append("alerts       n/a")
    else:
        lines.append(f"alerts       {report.alerts[0]} waiting, {report.alerts[1]} failed")
    if report.healthy:
        lines.append("health       ok")
    else:
        lines.extend(f"health       UNHEALTHY: {problem}" for problem in report.problems)
    return "\n".join(lines)


def as_json(report: StatusReport) -> dict[str, Any]:
    """The report as plain JSON values."""
    data = asdict(report)
    data["database"] = str(report.database)
    data["errors_by_domain"] = dict(report.errors_by_domain)
    data["healthy"] = report.healthy
    data.pop("alerts")
    data["alerts_waiting"], data["alerts_failed"] = report.alerts or (None, None)
    return data
