"""The alert outbox: every SQL statement about alert rows and digests.

Alert rows are written by :func:`outbox_hook`, a change hook that ``monitor.record.Recorder``
calls inside the page's own write transaction: an alert exists exactly when its change does
(a crash or a rollback takes both or neither). The delivery job (:mod:`alerts.deliver`) sends
them later. One row per (change, route), kept after delivery as the record of it. The tables
(``alert_outbox``, ``alert_digests``) are created by a migration in ``storage.schema``. No row
holds an Apprise URL: routes are named.

Life of an ``alert_outbox`` row::

    pending ── sent ──────────────────────────────────────────▶ sent
       │  └─ failed attempt ─▶ pending (attempts + 1, next_attempt_at = now + backoff)
       │                          └─ after max_attempts ─────▶ failed
       └─ over the route's rate limit ─▶ digest
    digest (rows of a digest route start here) ── grouped (digest_id set) ── digest sent ─▶ sent
    skipped: its change no longer exists (``veille reextract`` rebuilt the history)

An ``alert_digests`` row goes pending → sent | failed the same way.

A sender takes a row by one UPDATE that sets a lease (``lease_until``, ``lease_owner`` =
``pid@host``) and counts the attempt, so two senders (the daemon and a ``veille check`` from
cron) never send the same row together. A lease ends at ``lease_until``, or at once when its
owner is a process of this host that no longer exists (``kill -9``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from storage.db import write_transaction

if TYPE_CHECKING:
    import sqlite_utils

    from alerts.routes import AlertSettings, Route

logger = logging.getLogger(__name__)

OUTBOX: Final = "alert_outbox"
DIGESTS: Final = "alert_digests"
_TABLES: Final = (OUTBOX, DIGESTS)
# A sender holds a row this long at most (an Apprise call times out well before).
LEASE_SECONDS = 300.0
_CHUNK = 500  # ids per IN (...) query


def _table(name: str) -> str:
    """``name`` if it is one of the outbox tables (table names cannot be SQL parameters)."""
    if name not in _TABLES:
        raise ValueError(f"not an outbox table: {name!r}")
    return name


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "route"


def message_id(kind: str, row_id: int, route: str) -> str:
    """The stable id of a message, sent as a header with every attempt: ``veille-change-42-ops``."""
    return f"veille-{kind}-{row_id}-{_slug(route)}"


# --- writing alerts (inside the change's transaction) -----------------------------------------


def change_rows(db: sqlite_utils.Database, change_ids: Iterable[int]) -> list[dict[str, Any]]:
    """``change_feed`` rows of ``change_ids`` (every column, present and future), with the diff
    operations parsed as ``change_ops`` and the previous headline as ``old_title``; in id order.
    """
    ids = list(dict.fromkeys(int(i) for i in change_ids))
    rows: list[dict[str, Any]] = []
    select, join = "", ""
    if "comment_versions" in db.table_names():
        # A comment's text and time, as it stands (for comment_* changes).
        select = ", comment.posted_at AS comment_posted_at, comment_text.text AS comment_text"
        join = (
            " LEFT JOIN comments AS comment ON comment.id = changes.comment_id"
            " LEFT JOIN comment_versions AS comment_text"
            " ON comment_text.id = comment.current_version"
        )
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        cursor = db.execute(
            f"SELECT feed.*, changes.ops AS change_ops, before.title AS old_title{select} "
            "FROM change_feed AS feed JOIN changes ON changes.id = feed.change_id "
            f"LEFT JOIN versions AS before ON before.id = feed.from_version{join} "
            f"WHERE feed.change_id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            try:
                row["change_ops"] = json.loads(row["change_ops"]) if row["change_ops"] else []
            except ValueError:
                row["change_ops"] = []
            rows.append(row)
    rows.sort(key=lambda r: int(r["change_id"]))
    return rows


def write_alerts(
    db: sqlite_utils.Database,
    routes: Sequence[Route],
    change_ids: Sequence[int],
    now: float | None = None,
) -> int:
    """One outbox row per (change, matching route); return how many were written.

    Meant to run inside the transaction that wrote the changes. Writing twice is harmless
    (``UNIQUE (change_id, route)``).
    """
    if not routes or not change_ids:
        return 0
    now = time.time() if now is None else now
    written = 0
    for change in change_rows(db, change_ids):
        for route in routes:
            if not route.matches(change):
                continue
            cursor = db.execute(
                f"INSERT OR IGNORE INTO {OUTBOX} (change_id, route, state, next_attempt_at, "
                "created_at, message_id) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    change["change_id"],
                    route.name,
                    "digest" if route.digest else "pending",
                    now,
                    now,
                    message_id("change", int(change["change_id"]), route.name),
                ],
            )
            written += cursor.rowcount
    return written


def outbox_hook(
    routes: Sequence[Route] | Callable[[], Sequence[Route]],
) -> Callable[[sqlite_utils.Database, list[int]], None]:
    """A ``Recorder`` change hook that writes the alerts of new changes (see ``monitor.record``).

    ``routes`` may be a function returning them, read at each call: a daemon that reloads its
    config passes ``lambda: self.config.alerts``.
    """
    current = routes if callable(routes) else (lambda fixed=tuple(routes): fixed)

    def hook(db: sqlite_utils.Database, change_ids: list[int]) -> None:
        count = write_alerts(db, current(), change_ids)
        if count:
            logger.debug("%d alerts queued for changes %s", count, change_ids)

    return hook


# --- leases -----------------------------------------------------------------------------------


def owner() -> str:
    """This process, as a lease owner: ``pid@host``."""
    return f"{os.getpid()}@{socket.gethostname()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _dead_owners(db: sqlite_utils.Database, table: str, now: float) -> list[str]:
    """Owners of live leases that are processes of this host that no longer run."""
    host = socket.gethostname()
    dead = []
    for (lease_owner,) in db.execute(
        f"SELECT DISTINCT lease_owner FROM {_table(table)} "
        "WHERE state = 'pending' AND lease_until > ? AND lease_owner IS NOT NULL",
        [now],
    ).fetchall():
        pid, _, on = str(lease_owner).partition("@")
        if on == host and pid.isdigit() and not _alive(int(pid)):
            dead.append(str(lease_owner))
    return dead


def _free(dead: Sequence[str]) -> tuple[str, list[object]]:
    """SQL (and parameters after ``now``) saying a row's lease is free."""
    sql = "(lease_until IS NULL OR lease_until <= ?"
    if dead:
        sql += f" OR lease_owner IN ({', '.join('?' * len(dead))})"
    return sql + ")", list(dead)


@dataclass(frozen=True)
class Pending:
    """An outbox row or a digest that is due."""

    table: str
    id: int
    route: str
    attempts: int
    delivered_to: frozenset[int]  # indexes of the route's services that already got it
    message_id: str
    change_id: int | None  # None for a digest


def due(db: sqlite_utils.Database, table: str, now: float, limit: int = 1000) -> list[Pending]:
    """Pending rows of ``table`` whose next attempt is due and whose lease is free, oldest first."""
    dead = _dead_owners(db, table, now)
    free, params = _free(dead)
    change = "change_id" if table == OUTBOX else "NULL"
    rows = db.execute(
        f"SELECT id, route, attempts, delivered_to, message_id, {change} FROM {_table(table)} "
        f"WHERE state = 'pending' AND next_attempt_at <= ? AND {free} ORDER BY id LIMIT ?",
        [now, now, *params, limit],
    ).fetchall()
    return [
        Pending(
            table,
            int(r[0]),
            str(r[1]),
            int(r[2]),
            _indexes(r[3]),
            str(r[4]),
            None if r[5] is None else int(r[5]),
        )
        for r in rows
    ]


def _indexes(text: object) -> frozenset[int]:
    return frozenset(int(part) for part in str(text or "").split(",") if part.strip().isdigit())


def claim(
    db: sqlite_utils.Database, row: Pending, now: float, lease: float = LEASE_SECONDS
) -> bool:
    """Take ``row`` for one attempt (counted now); False when another sender has it."""
    dead = _dead_owners(db, row.table, now)
    free, params = _free(dead)
    cursor = db.execute(
        f"UPDATE {_table(row.table)} SET attempts = attempts + 1, lease_until = ?, lease_owner = ? "
        f"WHERE id = ? AND state = 'pending' AND next_attempt_at <= ? AND {free}",
        [now + lease, owner(), row.id, now, now, *params],
    )
    return cursor.rowcount == 1


def record_progress(db: sqlite_utils.Database, row: Pending, delivered: Iterable[int]) -> None:
    """Remember which services got the message (before the others are tried)."""
    db.execute(
        f"UPDATE {_table(row.table)} SET delivered_to = ? WHERE id = ?",
        [",".join(str(i) for i in sorted(delivered)), row.id],
    )


def mark_sent(
    db: sqlite_utils.Database, row: Pending, delivered: Iterable[int], now: float
) -> None:
    """The message got through to every service: sent, in its own transaction.

    A digest's alert rows are marked sent with it.
    """
    with write_transaction(db):
        db.execute(
            f"UPDATE {_table(row.table)} SET state = 'sent', delivered_at = ?, delivered_to = ?, "
            "last_error = NULL, lease_until = NULL, lease_owner = NULL WHERE id = ?",
            [now, ",".join(str(i) for i in sorted(delivered)), row.id],
        )
        if row.table == DIGESTS:
            db.execute(
                f"UPDATE {OUTBOX} SET state = 'sent', delivered_at = ? WHERE digest_id = ?",
                [now, row.id],
            )


def mark_failed_attempt(
    db: sqlite_utils.Database, row: Pending, error: str, now: float, settings: AlertSettings
) -> str:
    """Record a failed attempt (``error`` already masked); return the new state.

    The row waits ``settings.backoff(attempts)`` before the next attempt, or is failed for good
    after ``settings.max_attempts``.
    """
    attempts = row.attempts + 1  # claim() counted this attempt in the row
    state = "failed" if attempts >= settings.max_attempts else "pending"
    with write_transaction(db):
        db.execute(
            f"UPDATE {_table(row.table)} SET state = ?, last_error = ?, next_attempt_at = ?, "
            "lease_until = NULL, lease_owner = NULL WHERE id = ?",
            [state, error, now + settings.backoff(attempts), row.id],
        )
        if row.table == DIGESTS and state == "failed":
            db.execute(
                f"UPDATE {OUTBOX} SET state = 'failed', last_error = ? WHERE digest_id = ?",
                [error, row.id],
            )
    return state


def mark_skipped(db: sqlite_utils.Database, row: Pending, reason: str) -> None:
    """The row's change is gone: nothing to send, ever."""
    db.execute(
        f"UPDATE {_table(row.table)} SET state = 'skipped', last_error = ?, lease_until = NULL, "
        "lease_owner = NULL WHERE id = ?",
        [reason, row.id],
    )


def hold_for_digest(db: sqlite_utils.Database, row: Pending, now: float) -> bool:
    """Move a pending alert into the route's next digest (it went over the rate limit)."""
    dead = _dead_owners(db, OUTBOX, now)
    free, params = _free(dead)
    cursor = db.execute(
        f"UPDATE {OUTBOX} SET state = 'digest', lease_until = NULL, lease_owner = NULL "
        f"WHERE id = ? AND state = 'pending' AND {free}",
        [row.id, now, *params],
    )
    return cursor.rowcount == 1


# --- rate limits and digests ------------------------------------------------------------------


def sent_since(db: sqlite_utils.Database, route: str, since: float) -> int:
    """Messages the route got since ``since``: single alerts and digests (each counts once)."""
    single = db.execute(
        f"SELECT COUNT(*) FROM {OUTBOX} WHERE route = ? AND state = 'sent' AND digest_id IS NULL "
        "AND delivered_at > ?",
        [route, since],
    ).fetchone()[0]
    digests = db.execute(
        f"SELECT COUNT(*) FROM {DIGESTS} WHERE route = ? AND state = 'sent' AND delivered_at > ?",
        [route, since],
    ).fetchone()[0]
    return int(single) + int(digests)


def oldest_sent_since(db: sqlite_utils.Database, route: str, since: float) -> float | None:
    """When the oldest message counted by :func:`sent_since` was delivered."""
    row = db.execute(
        f"SELECT MIN(t) FROM (SELECT MIN(delivered_at) AS t FROM {OUTBOX} WHERE route = ? "
        "AND state = 'sent' AND digest_id IS NULL AND delivered_at > ? "
        f"UNION ALL SELECT MIN(delivered_at) FROM {DIGESTS} WHERE route = ? AND state = 'sent' "
        "AND delivered_at > ?)",
        [route, since, route, since],
    ).fetchone()
    return None if row[0] is None else float(row[0])


def waiting(db: sqlite_utils.Database, route: str) -> tuple[int, float | None]:
    """(count, oldest created_at) of the route's alerts waiting for a digest."""
    count, oldest = db.execute(
        f"SELECT COUNT(*), MIN(created_at) FROM {OUTBOX} "
        "WHERE route = ? AND state = 'digest' AND digest_id IS NULL",
        [route],
    ).fetchone()
    return int(count), None if oldest is None else float(oldest)


def create_digest(db: sqlite_utils.Database, route: str, now: float) -> int | None:
    """Group the route's waiting alerts into a new pending digest; its id, or None if none wait."""
    with write_transaction(db):
        cursor = db.execute(
            f"INSERT INTO {DIGESTS} (route, state, next_attempt_at, created_at, message_id) "
            "VALUES (?, 'pending', ?, ?, '')",
            [route, now, now],
        )
        digest_id = int(cursor.lastrowid or 0)
        grouped = db.execute(
            f"UPDATE {OUTBOX} SET digest_id = ? WHERE route = ? AND state = 'digest' "
            "AND digest_id IS NULL",
            [digest_id, route],
        ).rowcount
        if not grouped:
            db.execute(f"DELETE FROM {DIGESTS} WHERE id = ?", [digest_id])
            return None
        db.execute(
            f"UPDATE {DIGESTS} SET changes = ?, message_id = ? WHERE id = ?",
            [grouped, message_id("digest", digest_id, route), digest_id],
        )
    return digest_id


def digest_change_ids(db: sqlite_utils.Database, digest_id: int) -> list[int]:
    """The changes grouped in a digest."""
    rows = db.execute(
        f"SELECT change_id FROM {OUTBOX} WHERE digest_id = ? ORDER BY change_id", [digest_id]
    ).fetchall()
    return [int(r[0]) for r in rows]


# --- what `veille status` shows -----------------------------------------------------------------


def outbox_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Alert rows by state (``pending``, ``digest``, ``sent``, ``failed``, ``skipped``)."""
    if OUTBOX not in db.table_names():
        return {}
    return {
        str(s): int(n)
        for s, n in db.execute(f"SELECT state, COUNT(*) FROM {OUTBOX} GROUP BY state")
    }


@dataclass(frozen=True)
class FailedAlert:
    """An alert given up on after its last attempt."""

    id: int
    route: str
    change_id: int | None  # None for a digest
    attempts: int
    last_error: str | None
    created_at: float


def failed_alerts(db: sqlite_utils.Database, limit: int = 20) -> list[FailedAlert]:
    """The most recent failed alerts and digests, newest first (errors already masked)."""
    if OUTBOX not in db.table_names():
        return []
    rows = db.execute(
        f"SELECT id, route, change_id, attempts, last_error, created_at FROM {OUTBOX} "
        f"WHERE state = 'failed' AND digest_id IS NULL UNION ALL "
        f"SELECT id, route, NULL, attempts, last_error, created_at FROM {DIGESTS} "
        "WHERE state = 'failed' ORDER BY created_at DESC LIMIT ?",
        [limit],
    ).fetchall()
    return [FailedAlert(int(r[0]), str(r[1]), r[2], int(r[3]), r[4], float(r[5])) for r in rows]


def routes_in_outbox(db: sqlite_utils.Database) -> dict[str, int]:
    """Routes with alerts still to send (pending or waiting for a digest), and how many."""
    return {
        str(route): int(count)
        for route, count in db.execute(
            f"SELECT route, COUNT(*) FROM {OUTBOX} WHERE state IN ('pending', 'digest') "
            "AND digest_id IS NULL GROUP BY route"
        )
    }
