"""The database file: pragmas, migrations, and refusing to write where it must not."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from storage.db import (
    DatabaseCorrupt,
    DatabaseReadOnly,
    StorageError,
    open_database,
    schema_version,
)
from storage.pages import add_pages, due_pages
from storage.schema import SCHEMA_VERSION


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    assert schema_version(db) == SCHEMA_VERSION
    assert db.journal_mode == "wal"
    assert {"pages", "checks", "versions", "snapshots", "changes", "topics"} <= set(db.table_names())
    assert "change_feed" in db.view_names()
    columns = {c.name for c in db["change_feed"].columns}
    assert {"detected_at", "kind", "url", "title", "summary", "stealth"} <= columns
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    db = open_database(path)
    add_pages(db, ["https://example.org/a"], topic="t", now=0)
    db.close()
    db = open_database(path)
    assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    assert [p.url for p in due_pages(db, now=1)] == ["https://example.org/a"]


def test_due_pages_uses_the_next_check_index(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM pages WHERE next_check_at <= 5 ORDER BY next_check_at"
    ).fetchall()
    assert "pages_next_check_at" in " ".join(str(row) for row in plan)


def test_sqlite_utils_plugins_stay_out_of_veilles_connections(tmp_path: Path) -> None:
    # A plugin installed for the sqlite-utils command adds SQL functions to the connections
    # sqlite-utils opens; veille's own connections do not run it.
    from sqlite_utils import hookimpl
    from sqlite_utils.plugins import pm

    class Probe:
        @hookimpl
        def prepare_connection(self, conn: sqlite3.Connection) -> None:
            conn.create_function("plugin_probe", 0, lambda: 1)

    plugin = Probe()
    pm.register(plugin, name="veille-test-probe")
    try:
        assert sqlite_utils.Database(memory=True).execute("SELECT plugin_probe()").fetchone()
        open_database(tmp_path / "v.db").close()
        for db in (open_database(tmp_path / "v.db"), open_database(tmp_path / "v.db", readonly=True)):
            with pytest.raises(sqlite3.OperationalError, match="no such function"):
                db.execute("SELECT plugin_probe()")
    finally:
        pm.unregister(plugin)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_database(tmp_path / "nowhere" / "v.db")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_fails_fast(tmp_path: Path) -> None:  # FAULTS F26
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(DatabaseReadOnly):
            open_database(folder / "v.db")
    finally:
        folder.chmod(0o755)


def test_read_only_database_file_fails_fast_even_as_root(tmp_path: Path) -> None:  # FAULTS F26
    path = tmp_path / "v.db"
    open_database(path).close()
    # Opening read-only at the SQLite level is what a read-only mount or file gives every user.
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("INSERT INTO topics (name, created_at) VALUES ('x', 'y')")


def test_corrupt_database_is_refused(tmp_path: Path) -> None:  # FAULTS F30
    path = tmp_path / "v.db"
    db = open_database(path)
    add_pages(db, [f"https://example.org/{i}" for i in range(500)], topic=None, now=0)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 4096 * 4
    data[4096 * 2 : 4096 * 3] = os.urandom(4096)  # a torn page in the middle of the file
    path.write_bytes(bytes(data))
    with pytest.raises(DatabaseCorrupt, match="backup"):
        open_database(path)


def test_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseCorrupt):
        open_database(path)
