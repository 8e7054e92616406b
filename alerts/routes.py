"""Alert routes: where alerts go, which changes each one wants, and how often.

A :class:`Route` is one ``[[alerts]]`` entry of ``veille.toml`` (``monitor.config`` validates it
with the helpers here). :meth:`Route.matches` reads one row of ``change_feed`` as a mapping, by
column name, so columns added later (comments: ``comment_id``, author…) change nothing here.

Filters combine with AND; an empty filter lets everything through:

- ``kinds``: change kinds (:data:`KINDS`);
- ``topics``: the page's topic;
- ``domains``: the page's domain or a subdomain of it (``example.org`` matches
  ``news.example.org``);
- ``min_words``: title and body edits smaller than this (words added + removed) are left out;
  other kinds have no size and always pass;
- ``stealth_only``: only stealth edits (title or body changed, modified date unchanged).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Every change kind a route may ask for.
KINDS = (
    "title", "body", "byline", "dates", "removed", "moved", "restored", "article_new",
    "comment_new", "comment_edited", "comment_deleted", "comment_restored",
)  # fmt: skip
# Kinds whose size (words added + removed) min_words applies to.
SIZED_KINDS = ("title", "body")
MODES = ("immediate", "digest")
LANGUAGES = ("en", "fr")

DEFAULT_MODE = "immediate"
DEFAULT_LANGUAGE = "en"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_MAX_ATTEMPTS = 12  # with the delays below: about 14 hours of retries
DEFAULT_RETRY_DELAY = 30.0  # seconds before the first retry; doubled after each failure
DEFAULT_MAX_RETRY_DELAY = 6 * 3600.0  # seconds: the longest wait between two attempts

_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*([a-z]+)\s*", re.IGNORECASE)
_RATE_UNITS = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0,
    "h": 3600.0, "hour": 3600.0, "d": 86400.0, "day": 86400.0,
}  # fmt: skip


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` messages per ``seconds`` (a sliding window)."""

    count: int
    seconds: float

    def __str__(self) -> str:
        for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
            if self.seconds % size == 0:
                number = int(self.seconds // size)
                return f"{self.count}/{'' if number == 1 else number}{unit}"
        return f"{self.count}/{'' if self.seconds == 1 else format(self.seconds, 'g')}s"


def parse_rate_limit(text: str) -> RateLimit:
    """``"20/h"``, ``"100/d"``, ``"5/15m"`` -> :class:`RateLimit`; raises ValueError."""
    match = _RATE.fullmatch(text)
    unit = match.group(3).lower() if match else ""
    if unit not in _RATE_UNITS and unit.endswith("s"):
        unit = unit[:-1]  # "hours", "mins"
    if not match or unit not in _RATE_UNITS:
        raise ValueError(f"invalid rate limit {text!r}: write it like '20/h', '100/d' or '5/15m'")
    count = int(match.group(1))
    number = float(match.group(2)) if match.group(2) else 1.0
    if count < 1 or number <= 0:
        raise ValueError(f"invalid rate limit {text!r}: count and period must be more than 0")
    return RateLimit(count, number * _RATE_UNITS[unit])


def check_schedule(expression: str, timezone: str) -> None:
    """Raise ValueError unless ``expression`` is a 5-field cron line valid in ``timezone``."""
    from apscheduler.triggers.cron import CronTrigger

    if len(expression.split()) != 5:
        raise ValueError(
            f"invalid schedule {expression!r}: give 5 cron fields (minute hour day month "
            "weekday), e.g. '0 8 * * *' for 08:00 every day or '0 * * * *' hourly"
        )
    try:
        CronTrigger.from_crontab(expression, timezone=timezone)
    except ValueError as exc:
        raise ValueError(f"invalid schedule {expression!r}: {exc}") from None


def check_timezone(name: str) -> None:
    """Raise ValueError unless ``name`` is an IANA time zone (``Europe/Paris``, ``UTC``)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Paris' or 'UTC'"
        ) from None


@dataclass(frozen=True)
class Route:
    """One ``[[alerts]]`` entry. ``urls`` is left out of ``repr`` (it holds secrets)."""

    name: str
    urls: tuple[str, ...] = field(default=(), repr=False)
    config: str | None = None  # an Apprise config file (absolute path once loaded)
    tags: tuple[str, ...] = ()  # which services of that file
    kinds: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    min_words: int = 0
    stealth_only: bool = False
    mode: str = DEFAULT_MODE
    schedule: str | None = None  # cron line, digest mode
    timezone: str = DEFAULT_TIMEZONE
    language: str = DEFAULT_LANGUAGE
    rate_limit: RateLimit | None = None

    @property
    def digest(self) -> bool:
        """True when changes wait for the scheduled digest instead of going out at once."""
        return self.mode == "digest"

    def matches(self, change: Mapping[str, Any]) -> bool:
        """True when this route wants ``change`` (a ``change_feed`` row, by column name)."""
        kind = str(change.get("kind") or "")
        if self.kinds and kind not in self.kinds:
            return False
        if self.topics and change.get("topic") not in self.topics:
            return False
        if self.domains and not _in_domains(str(change.get("domain") or ""), self.domains):
            return False
        if self.stealth_only and not change.get("stealth"):
            return False
        if self.min_words and kind in SIZED_KINDS:
            size = int(change.get("words_added") or 0) + int(change.get("words_removed") or 0)
            if size < self.min_words:
                return False
        return True


def _in_domains(domain: str, domains: tuple[str, ...]) -> bool:
    """True when ``domain`` is one of ``domains`` or a subdomain of one."""
    domain = domain.lower().removeprefix("www.")
    return any(domain == d or domain.endswith("." + d) for d in domains)


def normalise_domain(text: str) -> str:
    """``"WWW.Example.org."`` -> ``"example.org"``; raises ValueError for what is not a host."""
    domain = text.strip().lower().rstrip(".").removeprefix("www.")
    if "://" in domain or "/" in domain:
        raise ValueError(
            f"{text!r} is a URL, not a domain: write only the host, like 'example.org'"
        )
    if not re.fullmatch(
        r"[a-z0-9\u00a1-\uffff]([a-z0-9\u00a1-\uffff.-]*[a-z0-9\u00a1-\uffff])?", domain
    ):
        raise ValueError(f"invalid domain {text!r}: write it like 'example.org'")
    return domain


@dataclass(frozen=True)
class AlertSettings:
    """Settings shared by every route: the ``[alerts_settings]`` table."""

    datasette_url: str | None = None  # public Datasette base URL, for a link to each change
    # The database's name in Datasette (its file's stem), derived from the config's `database`
    # (which Config compares already).
    database_name: str = field(default="veille", compare=False)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_delay: float = DEFAULT_RETRY_DELAY
    max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1, 2, …)."""
        return min(self.max_retry_delay, self.retry_delay * 2 ** max(0, attempts - 1))

    def change_link(self, change_id: int) -> str | None:
        """The change's row in Datasette, when a public Datasette URL is configured."""
        if not self.datasette_url:
            return None
        base = self.datasette_url.rstrip("/")
        return f"{base}/{self.database_name}/change_feed?change_id={change_id}"
