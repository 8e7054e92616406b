"""Group commit (monitor.batch) on a real SQLite file: each result stays all-or-nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils

from monitor.batch import WriteGroups
from storage.db import open_database, write_transaction


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_database(tmp_path / "veille.db")
    database.execute("CREATE TABLE rows (name TEXT NOT NULL, part INTEGER NOT NULL)")
    yield database
    database.close()


def writer(
    db: sqlite_utils.Database, name: str, reported: list[str], *, fail: bool = False
) -> Callable[[], Callable[[], None]]:
    """A result as check_cycle stores one: two rows in its own (nested) transaction."""

    def store() -> Callable[[], None]:
        try:
            with write_transaction(db):
                db.execute("INSERT INTO rows VALUES (?, 1)", [name])
                if fail:
                    raise ValueError("cannot store this one")
                db.execute("INSERT INTO rows VALUES (?, 2)", [name])
        except ValueError:
            return lambda: reported.append(f"{name}: error")
        return lambda: reported.append(name)

    return store


def names(path: Path) -> list[tuple[str, int]]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(path) as other:
        rows = other.execute("SELECT name, part FROM rows ORDER BY name, part").fetchall()
    other.close()
    return rows


def test_a_group_is_committed_whole_and_reported_after(db: sqlite_utils.Database, tmp_path: Path) -> None:
    reported: list[str] = []

    async def main() -> None:  # in a crawl, results arrive on the running event loop
        groups = WriteGroups(db, size=3, delay=60)
        groups.add(writer(db, "a", reported))
        groups.add(writer(db, "b", reported, fail=True))
        assert names(tmp_path / "veille.db") == [] and reported == []  # nothing written yet
        groups.add(writer(db, "c", reported))  # the third fills the group: written now
        # The failed result left no row; the ones around it are whole.
        assert names(tmp_path / "veille.db") == [("a", 1), ("a", 2), ("c", 1), ("c", 2)]
        assert reported == ["a", "b: error", "c"]
        groups.add(writer(db, "d", reported))
        groups.flush()  # the end of a crawl
        assert ("d", 2) in names(tmp_path / "veille.db") and reported[-1] == "d"

    asyncio.run(main())
    assert not db.conn.in_transaction


def test_without_an_event_loop_each_result_is_written_at_once(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    reported: list[str] = []
    WriteGroups(db).add(writer(db, "a", reported))
    assert names(tmp_path / "veille.db") == [("a", 1), ("a", 2)] and reported == ["a"]


def test_a_group_whose_transaction_ends_is_stored_one_by_one(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    reported: list[str] = []
    ended = []

    def ends_the_transaction() -> Callable[[], None]:
        try:
            with write_transaction(db):
                db.execute("INSERT INTO rows VALUES ('x', 1)")
                if not ended:  # as SQLite does on a full disk: the statement fails and the
                    ended.append(True)  # whole transaction is rolled back under us
                    db.execute("ROLLBACK")
                    raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError:
            return lambda: reported.append("x: error")
        return lambda: reported.append("x")

    async def main() -> None:
        groups = WriteGroups(db, size=10)
        groups.add(writer(db, "a", reported))
        groups.add(ends_the_transaction)
        groups.add(writer(db, "b", reported))
        groups.flush()

    asyncio.run(main())
    assert names(tmp_path / "veille.db") == [("a", 1), ("a", 2), ("b", 1), ("b", 2), ("x", 1)]
    assert reported == ["a", "x", "b"]  # each once, after it was stored


def test_a_lone_result_is_written_after_the_delay(db: sqlite_utils.Database, tmp_path: Path) -> None:
    reported: list[str] = []

    async def main() -> None:
        groups = WriteGroups(db, size=100, delay=0.05)
        groups.add(writer(db, "slow", reported))
        assert reported == []
        await asyncio.sleep(0.3)

    asyncio.run(main())
    assert names(tmp_path / "veille.db") == [("slow", 1), ("slow", 2)]
    assert reported == ["slow"]
