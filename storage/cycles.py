"""The daemon's bookkeeping: its cycles, check-row retention, and the figures of ``veille status``.

A *cycle* is one batch of due pages that the daemon handed to its crawler on one tick: a row is
written when the batch starts and completed when its last result is recorded (or when the daemon
stops). ``veille status`` and the systemd STATUS line read their figures from here.

Every write is a single statement (SQLite makes each one atomic on its own), so this module needs
no transaction helper and ``storage.schema`` can import :data:`CYCLES_SCHEMA` without a cycle of
imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import sqlite_utils

# Migration 2: the daemon's cycles.
CYCLES_SCHEMA: Final[list[str]] = [
    """
    CREATE TABLE cycles (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,                  -- Unix time the batch was handed to the crawler
        finished_at REAL,                          -- NULL while running (or after a crash)
        pages INTEGER NOT NULL DEFAULT 0,          -- pages in the batch
        checked INTEGER NOT NULL DEFAULT 0,        -- results recorded
        changed INTEGER NOT NULL DEFAULT 0,        -- pages with at least one change
        errors INTEGER NOT NULL DEFAULT 0,         -- pages that could not be checked
        abandoned INTEGER NOT NULL DEFAULT 0       -- fetches dropped at shutdown or after a stall
    )
    """,
    "CREATE INDEX cycles_started_at ON cycles(started_at)",
    """
    CREATE VIEW cycles_readable AS
    SELECT id, datetime(started_at, 'unixepoch') || 'Z' AS started_at,
           datetime(finished_at, 'unixepoch') || 'Z' AS finished_at,
           round(finished_at - started_at, 1) AS seconds,
           pages, checked, changed, errors, abandoned
    FROM cycles
    """,
]

# Check states that say the page answered (anything else is a failed fetch).
ANSWER_STATES: Final = (
    "new", "unchanged", "changed", "not_modified", "pending_confirm", "gone", "empty", "blocked",
    "error_page",
)  # fmt: skip


@dataclass(frozen=True)
class CycleRow:
    """One cycle as stored."""

    id: int
    started_at: float
    finished_at: float | None
    pages: int
    checked: int
    changed: int
    errors: int
    abandoned: int


_CYCLE_COLUMNS = "id, started_at, finished_at, pages, checked, changed, errors, abandoned"


def has_cycles(db: sqlite_utils.Database) -> bool:
    """True when the database has the cycles table (schema 2 or later)."""
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cycles'"
    ).fetchone()
    return row is not None


def start_cycle(db: sqlite_utils.Database, *, started_at: float, pages: int) -> int:
    """Record that a batch of ``pages`` pages started; return the cycle id."""
    cursor = db.execute(
        "INSERT INTO cycles (started_at, pages) VALUES (?, ?)", [started_at, pages]
    )
    return int(cursor.lastrowid or 0)


def finish_cycle(
    db: sqlite_utils.Database,
    cycle_id: int,
    *,
    finished_at: float,
    checked: int,
    changed: int,
    errors: int,
    abandoned: int = 0,
) -> None:
    """Complete a cycle with its counts."""
    db.execute(
        "UPDATE cycles SET finished_at = ?, checked = ?, changed = ?, errors = ?, abandoned = ? "
        "WHERE id = ?",
        [finished_at, checked, changed, errors, abandoned, cycle_id],
    )


def last_cycle(db: sqlite_utils.Database) -> CycleRow | None:
    """The most recently started cycle, if any."""
    if not has_cycles(db):
        return None
    row = db.execute(
        f"SELECT {_CYCLE_COLUMNS} FROM cycles ORDER BY started_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return CycleRow(*row) if row else None


def last_finished_cycle(db: sqlite_utils.Database) -> CycleRow | None:
    """The most recently started cycle that completed, if any."""
    if not has_cycles(db):
        return None
    row = db.execute(
        f"SELECT {_CYCLE_COLUMNS} FROM cycles WHERE finished_at IS NOT NULL "
        "ORDER BY started_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return CycleRow(*row) if row else None


@dataclass(frozen=True)
class CycleTotals:
    """Sums over the cycles started in a time window."""

    cycles: int = 0
    pages: int = 0
    checked: int = 0
    changed: int = 0
    errors: int = 0


def cycle_totals(db: sqlite_utils.Database, since: float) -> CycleTotals:
    """Sums over the cycles started at or after ``since`` (an index range: O(cycles since))."""
    if not has_cycles(db):
        return CycleTotals()
    row = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(pages), 0), COALESCE(SUM(checked), 0), "
        "COALESCE(SUM(changed), 0), COALESCE(SUM(errors), 0) FROM cycles WHERE started_at >= ?",
        [since],
    ).fetchone()
    return CycleTotals(*(int(v) for v in row))


# --- retention --------------------------------------------------------------------------------


def prune_checks(
    db: sqlite_utils.Database, before: float, *, after_id: int = 0, limit: int = 5000
) -> tuple[int, int | None]:
    """Delete the old check rows among the next ``limit`` rows after id ``after_id``.

    Old means before ``before`` (Unix time). Rows that point at a version are kept: they are the
    evidence of when the version was fetched. Returns (rows deleted, the id to continue after, or
    None when the rows reached are recent). Check ids grow with time, so walking them in id order
    from the oldest touches only the old rows, ``limit`` at a time (each chunk is one short
    write, so fetches go on meanwhile).
    """
    rows = db.execute(
        "SELECT id, at FROM checks WHERE id > ? ORDER BY id LIMIT ?", [after_id, limit]
    ).fetchall()
    if not rows:
        return 0, None
    last_id = int(rows[-1][0])
    cursor = db.execute(
        "DELETE FROM checks WHERE id > ? AND id <= ? AND at < ? AND version_id IS NULL",
        [after_id, last_id, before],
    )
    reached_recent = any(at >= before for _, at in rows)
    return cursor.rowcount, None if reached_recent or len(rows) < limit else last_id


def prune_cycles(db: sqlite_utils.Database, before: float) -> int:
    """Delete the cycles started before ``before`` (an index range); return how many."""
    return db.execute("DELETE FROM cycles WHERE started_at < ?", [before]).rowcount


def optimize(db: sqlite_utils.Database) -> None:
    """Let SQLite refresh its statistics, then fold the WAL into the file without waiting."""
    db.execute("PRAGMA optimize")
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")


# --- figures for `veille status` and the STATUS line ------------------------------------------


def page_total(db: sqlite_utils.Database) -> int:
    """Number of watched pages."""
    return int(db.execute("SELECT COUNT(*) FROM pages").fetchone()[0])


def pages_by_state(db: sqlite_utils.Database) -> dict[str, int]:
    """Pages by the state of their last check (``never`` for pages not yet checked)."""
    rows = db.execute(
        "SELECT COALESCE(last_state, 'never'), COUNT(*) FROM pages GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return {str(state): int(count) for state, count in rows}


def removed_pages(db: sqlite_utils.Database) -> int:
    """Pages whose article is gone (404/410) for now."""
    return int(db.execute("SELECT COUNT(*) FROM pages WHERE state = 'removed'").fetchone()[0])


def due_count(db: sqlite_utils.Database, now: float) -> tuple[int, float | None]:
    """(pages due at ``now``, the earliest due time among them or None): an index range."""
    count, oldest = db.execute(
        "SELECT COUNT(*), MIN(next_check_at) FROM pages WHERE next_check_at <= ?", [now]
    ).fetchone()
    return int(count), (float(oldest) if oldest is not None else None)


def errors_by_domain(db: sqlite_utils.Database, limit: int = 10) -> list[tuple[str, int]]:
    """Domains with pages whose last fetch failed, most first."""
    rows = db.execute(
        "SELECT domain, COUNT(*) FROM pages WHERE errors_in_row > 0 "
        "GROUP BY domain ORDER BY 2 DESC, 1 LIMIT ?",
        [limit],
    ).fetchall()
    return [(str(domain), int(count)) for domain, count in rows]


def changes_since(db: sqlite_utils.Database, since_iso: str) -> int:
    """Changes detected at or after ``since_iso`` (ISO 8601 UTC): an index range."""
    row = db.execute("SELECT COUNT(*) FROM changes WHERE detected_at >= ?", [since_iso]).fetchone()
    return int(row[0])


# The alerts outbox (migration 3, alert_outbox) and the states that mean "done with it".
_OUTBOX_TABLES: Final = ("alert_outbox", "outbox")
_DONE_STATES: Final = ("sent", "delivered", "failed", "dead", "cancelled", "skipped")


def alerts_waiting(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """(alerts not yet delivered, alerts given up on), or None without an alert outbox.

    Defensive on purpose (it was written before the outbox): it needs a table of that name and
    reads its ``state`` (or ``status``) column, else its ``delivered_at`` column, when present.
    """
    tables = set(db.table_names())
    table = next((name for name in _OUTBOX_TABLES if name in tables), None)
    if table is None:
        return None
    columns = {column.name for column in db[table].columns}
    state = next((c for c in ("state", "status") if c in columns), None)
    if state:
        marks = ", ".join("?" for _ in _DONE_STATES)
        waiting, failed = db.execute(
            f"SELECT COALESCE(SUM([{state}] NOT IN ({marks})), 0), "
            f"COALESCE(SUM([{state}] IN ('failed', 'dead')), 0) FROM [{table}]",
            list(_DONE_STATES),
        ).fetchone()
        return int(waiting), int(failed)
    where = "WHERE delivered_at IS NULL" if "delivered_at" in columns else ""
    return int(db.execute(f"SELECT COUNT(*) FROM [{table}] {where}").fetchone()[0]), 0


def database_bytes(path: Path) -> tuple[int, int]:
    """(size of the database file, size of its write-ahead log) in bytes; 0 when absent."""
    def size(p: Path) -> int:
        try:
            return p.stat().st_size
        except OSError:
            return 0

    return size(path), size(path.with_name(path.name + "-wal"))


# --- schedule changes on reload ---------------------------------------------------------------


def bring_forward(
    db: sqlite_utils.Database, interval: float, *, url: str | None = None, topic: str | None = None
) -> int:
    """Move the next check of the pages at ``url`` (or of ``topic``) earlier to fit ``interval``.

    Never later: a longer interval applies from the next check on. Returns the pages moved.
    """
    column, value = ("url", url) if url is not None else ("topic", topic)
    cursor = db.execute(
        f"UPDATE pages SET next_check_at = COALESCE(last_checked_at, 0) + ? "
        f"WHERE {column} = ? AND next_check_at > COALESCE(last_checked_at, 0) + ?",
        [interval, value, interval],
    )
    return cursor.rowcount
