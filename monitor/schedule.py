"""When to check a page next: often while an article is young or moving, rarely once it is still.

The daemon's scheduler (a later issue) only asks :func:`next_check_at`; the policy lives here.
"""

from __future__ import annotations

import random

MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# (quiet for less than, check every): quiet = time since the page was added or last changed.
SCHEDULE_STEPS: tuple[tuple[float, float], ...] = (
    (6 * HOUR, 10 * MINUTE),
    (DAY, 30 * MINUTE),
    (7 * DAY, HOUR),
    (30 * DAY, DAY),
)
SCHEDULE_SLOWEST = 7 * DAY
# A page in error waits longer each time, up to this, so a dead site is not hammered.
SCHEDULE_ERROR_CAP = DAY
SCHEDULE_JITTER = 0.1


def base_interval(quiet_for: float, override: float | None = None) -> float:
    """The interval for a page that has been quiet for ``quiet_for`` seconds."""
    if override is not None:
        return override
    for limit, interval in SCHEDULE_STEPS:
        if quiet_for < limit:
            return interval
    return SCHEDULE_SLOWEST


def next_check_at(
    now: float,
    *,
    quiet_for: float,
    errors_in_row: int = 0,
    override: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """The Unix time of the next check, with jitter so one site's pages do not fall due together."""
    interval = base_interval(quiet_for, override)
    if errors_in_row:
        interval = max(interval, min(interval * 2 ** min(errors_in_row, 10), SCHEDULE_ERROR_CAP))
    jitter = (rng or random).uniform(-SCHEDULE_JITTER, SCHEDULE_JITTER) * interval
    return now + interval + jitter
