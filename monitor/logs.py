"""Log output of ``veille run``: readable lines, or one JSON object per line for log shippers.

Under systemd (``$JOURNAL_STREAM`` or ``$INVOCATION_ID`` is set) journald stamps every line
itself, so no timestamp is written, and a ``<N>`` syslog priority prefix lets journald file each
line under its level (``journalctl -p warning`` then works).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Final

LOG_FORMATS: Final = ("text", "json")

# syslog priorities journald reads from a "<N>" prefix.
_PRIORITY: Final = {
    logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7,
}  # fmt: skip

# Third-party loggers that repeat, at INFO, what veille's own lines say.
_QUIET: Final = (
    "scrapy", "scrapy-playwright", "trafilatura", "htmldate", "apscheduler", "asyncio",
    "twisted", "py.warnings",
)  # fmt: skip


def under_systemd() -> bool:
    """True when stderr goes to journald (a systemd service)."""
    return bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))


class TextFormatter(logging.Formatter):
    """``2026-05-01 12:00:00 INFO monitor.daemon: message``; under journald ``<6>INFO …``."""

    def __init__(self, *, journal: bool) -> None:
        fmt = "%(levelname)s %(name)s: %(message)s"
        super().__init__(fmt if journal else "%(asctime)s " + fmt, "%Y-%m-%d %H:%M:%S")
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        """One record; its traceback, if any, on the lines below."""
        text = super().format(record)
        if self.journal:
            return f"<{_priority(record.levelno)}>{text}"
        return text


class JsonFormatter(logging.Formatter):
    """``{"time": …, "level": "INFO", "logger": …, "message": …}``, one object per line."""

    def __init__(self, *, journal: bool) -> None:
        super().__init__()
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        """One record as one line of JSON (a traceback goes in ``exception``)."""
        entry: dict[str, object] = {}
        if not self.journal:
            stamp = datetime.fromtimestamp(record.created, UTC)
            entry["time"] = f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z"
        entry.update(level=record.levelname, logger=record.name, message=record.getMessage())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        text = json.dumps(entry, ensure_ascii=False)
        return f"<{_priority(record.levelno)}>{text}" if self.journal else text


def _priority(level: int) -> int:
    for threshold in (logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO):
        if level >= threshold:
            return _PRIORITY[threshold]
    return _PRIORITY[logging.DEBUG]


def setup_daemon_logging(level: int, log_format: str = "text") -> None:
    """Send every log record at ``level`` or above to stderr in ``log_format``."""
    journal = under_systemd()
    handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter
    if log_format == "json":
        formatter = JsonFormatter(journal=journal)
    else:
        formatter = TextFormatter(journal=journal)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Unless debugging, other libraries speak only when something is wrong.
    for name in _QUIET:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else logging.WARNING)
    logging.getLogger("scrapy").setLevel(level if level <= logging.DEBUG else logging.ERROR)
    logging.captureWarnings(True)
