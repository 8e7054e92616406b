"""Open the veille database: pragmas, integrity check, migrations.

Exceptions::

    StorageError            the database cannot be opened, checked or written
    ├── DatabaseCorrupt     PRAGMA quick_check failed: restore from a backup
    └── DatabaseReadOnly    the file or its folder is not writable
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import sqlite_utils

from storage.schema import MIGRATIONS, SCHEMA_VERSION

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


class StorageError(Exception):
    """The database cannot be opened, checked or written."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class DatabaseCorrupt(StorageError):
    """The integrity check failed."""


class DatabaseReadOnly(StorageError):
    """The database file or its folder cannot be written."""


def utcnow_iso() -> str:
    """Now, as ISO 8601 UTC with seconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_from_unix(ts: float) -> str:
    """A Unix time as ISO 8601 UTC with a Z (whole seconds)."""
    # Whole seconds as datetime counts them: it rounds to the microsecond first.
    fraction, second = math.modf(ts)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        second += 1
    elif micro < 0:
        second -= 1
    return _iso_second(int(second))


@lru_cache(maxsize=1024)
def _iso_second(second: int) -> str:
    # A check cycle stamps thousands of rows within a few seconds: format each second once.
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_database(path: Path, *, check: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database at ``path``.

    WAL lets Datasette read while veille writes; ``synchronous=NORMAL`` keeps one transaction
    per page cheap and still atomic on a crash (only a power cut can lose the last commits).
    """
    path = Path(path)
    if readonly:
        if not path.exists():
            raise StorageError(
                f"{path}: no database yet; run `veille check` first to create it", path=path
            )
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        return sqlite_utils.Database(conn, execute_plugins=False)
    if path.parent and not path.parent.exists():
        raise StorageError(
            f"{path}: folder {path.parent} does not exist; create it or change `database`",
            path=path,
        )
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Plugins installed for the sqlite-utils command stay out of veille's connections
        # (and looking them up in every installed package took a check about 6 ms).
        db = sqlite_utils.Database(conn, execute_plugins=False)
        if db.journal_mode != "wal":
            db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if check:
            _quick_check(db, path)
        migrate(db)
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "readonly" in text or "unable to open" in text:
            raise DatabaseReadOnly(
                f"{path}: cannot write the database ({text}); check the permissions of the "
                "file and its folder (SQLite also writes -wal and -shm files beside it)",
                path=path,
            ) from exc
        raise StorageError(f"{path}: {text}", path=path) from exc
    except sqlite3.DatabaseError as exc:
        raise DatabaseCorrupt(
            f"{path}: not a usable SQLite database ({exc}); restore it from a backup "
            "(sqlite3 .backup copy) or move it away to start afresh",
            path=path,
        ) from exc
    return db


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One all-or-nothing write transaction, taking the write lock up front.

    ``BEGIN IMMEDIATE`` waits (``busy_timeout``) for another writer to finish; a deferred
    ``BEGIN`` that reads first would fail at once with "database is locked" when it tries to
    write while another connection holds the lock.
    """
    conn = db.conn
    if conn.in_transaction:  # nested: let sqlite-utils use a savepoint
        with db.atomic():
            yield db
        return
    _begin_immediate(conn)
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, trying again every fraction of a millisecond while another writes.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ms and more between tries, whatever the other
    writer's transaction takes: two check processes storing a page each every few milliseconds
    spent a tenth of their time asleep after the lock was already free.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.0001
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.005)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _quick_check(db: sqlite_utils.Database, path: Path) -> None:
    rows = db.execute("PRAGMA quick_check").fetchall()
    if rows != [("ok",)]:
        detail = "; ".join(str(r[0]) for r in rows[:3])
        raise DatabaseCorrupt(
            f"{path}: integrity check failed ({detail}); veille will not write to a damaged "
            "database: restore it from a backup",
            path=path,
        )


def schema_version(db: sqlite_utils.Database) -> int:
    """The migration level of ``db`` (0 for a new file)."""
    if "schema_version" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations ``db`` lacks, each in its own transaction; return the new level."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)"
    )
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise StorageError(
            f"database schema {current} is newer than this veille ({SCHEMA_VERSION}); upgrade veille"
        )
    for level in range(current + 1, SCHEMA_VERSION + 1):
        with db.atomic():
            for statement in MIGRATIONS[level - 1]:
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                [level, utcnow_iso()],
            )
        logger.info("database migrated to schema %d", level)
    return SCHEMA_VERSION
