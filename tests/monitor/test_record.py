"""The recorder: what one fetch result does to the database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from monitor.record import Recorder
from spiders.items import Article, FetchResult
from storage.db import open_database
from storage.pages import add_pages, get_page
from storage.versions import changes_of, versions_of

URL = "https://news.example.org/article"
BODY = "\n\n".join(
    f"Paragraphe {i} : les employés de Microsoft demandent l'arrêt des contrats avec la police, "
    f"et la direction répond par écrit au numéro {i}."
    for i in range(1, 9)
)
ARTICLE = Article(
    title="Des employés de Microsoft demandent", body=BODY, authors=("Alice Martin",),
    published="2020-06-10", modified="2020-06-10", language="fr",
)


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_database(tmp_path / "v.db")
    add_pages(database, [URL], topic="tech", now=1000.0)
    return database


def result(db: sqlite_utils.Database, state: str = "ok", article: Article | None = ARTICLE,
           at: float = 2000.0, status: int = 200, raw: bytes | None = None, **kw: object) -> FetchResult:
    page = get_page(db, URL)
    assert page is not None
    raw = raw if raw is not None else (f"<html>{article.body if article else ''}</html>".encode())
    return FetchResult(page_id=page.id, url=URL, state=state, fetched_at=at, http_status=status,
                       final_url=URL, raw=raw if state == "ok" else None, article=article, **kw)  # type: ignore[arg-type]


def kinds(db: sqlite_utils.Database) -> list[str]:
    page = get_page(db, URL)
    assert page is not None
    return [str(c["kind"]) for c in changes_of(db, page.id)]


def test_first_fetch_stores_a_version_and_a_snapshot_but_no_change(db: sqlite_utils.Database) -> None:
    outcome = Recorder(db).record(result(db))
    assert outcome.state == "new"
    page = get_page(db, URL)
    assert page is not None and page.current_version is not None
    (version,) = versions_of(db, page.id)
    assert version.hash == ARTICLE.content_hash()
    assert db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 1
    assert kinds(db) == []


def test_same_article_again_adds_only_a_check_row(db: sqlite_utils.Database) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    outcome = rec.record(result(db, at=3000.0, raw=b"<html>other ads, same article</html>"))
    assert outcome.state == "unchanged"
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 1
    assert db.execute("SELECT state FROM checks ORDER BY id").fetchall() == [("new",), ("unchanged",)]
    assert db.execute("SELECT last_seen FROM versions").fetchone()[0] == "1970-01-01T00:50:00Z"


def test_body_edit_is_one_body_change_flagged_stealth(db: sqlite_utils.Database) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    edited = Article(**{**ARTICLE.__dict__, "body": BODY.replace("numéro 4", "numéro quatre")})
    outcome = rec.record(result(db, article=edited, at=3000.0))
    assert outcome.state == "changed" and outcome.changes == ["body"]
    row = db.execute("SELECT kind, stealth, url, summary FROM change_feed").fetchone()
    assert row[0] == "body" and row[1] == 1 and row[2] == URL
    assert "quatre" in row[3]


def test_title_and_modified_date_change_is_not_stealth(db: sqlite_utils.Database) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    edited = Article(**{**ARTICLE.__dict__, "title": "Nouveau titre", "modified": "2020-06-11"})
    rec.record(result(db, article=edited, at=3000.0))
    rows = dict(db.execute("SELECT kind, stealth FROM change_feed").fetchall())
    assert rows == {"title": 0, "dates": 0}


@pytest.mark.parametrize("state", ["timeout", "truncated", "http_error", "empty", "blocked", "error_page"])
def test_failed_or_suspicious_fetch_never_touches_versions(db: sqlite_utils.Database, state: str) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    outcome = rec.record(result(db, state=state, article=None, at=3000.0, error="x"))
    assert outcome.state == state
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1
    assert kinds(db) == []
    page = get_page(db, URL)
    assert page is not None and page.last_state == state


def test_errors_back_off_the_next_check(db: sqlite_utils.Database) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    waits = []
    for n in range(3):
        at = 10_000.0 * (n + 1)
        rec.record(result(db, state="timeout", article=None, at=at))
        page = get_page(db, URL)
        assert page is not None
        waits.append(page.next_check_at - at)
    assert page.errors_in_row == 3
    assert waits[0] < waits[1] < waits[2]


def test_gone_then_back_records_removed_then_restored(db: sqlite_utils.Database) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    assert rec.record(result(db, state="gone", article=None, at=3000.0, status=404)).changes == ["removed"]
    # A second 404 is not a second removal.
    assert rec.record(result(db, state="gone", article=None, at=4000.0, status=404)).changes == []
    back = rec.record(result(db, at=5000.0))
    assert back.changes == ["restored"]
    assert kinds(db) == ["removed", "restored"]
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1


def test_redirect_to_another_url_is_moved_once(db: sqlite_utils.Database) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    moved = FetchResult(**{**result(db, at=3000.0).__dict__, "final_url": URL + "-new"})
    assert rec.record(moved).changes == ["moved"]
    again = FetchResult(**{**result(db, at=4000.0).__dict__, "final_url": URL + "-new"})
    assert rec.record(again).changes == []
    assert db.execute("SELECT summary FROM change_feed").fetchone()[0].endswith(URL + "-new")


def test_large_removal_waits_for_a_confirming_fetch(db: sqlite_utils.Database) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    teaser = Article(**{**ARTICLE.__dict__, "body": BODY.split("\n\n")[0]})
    first = rec.record(result(db, article=teaser, at=3000.0))
    assert first.state == "pending_confirm"
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1
    # The full article comes back: the scare is forgotten, nothing recorded.
    assert rec.record(result(db, at=3100.0)).state == "unchanged"
    assert kinds(db) == []
    # Removed twice in a row: now it is believed.
    assert rec.record(result(db, article=teaser, at=4000.0)).state == "pending_confirm"
    confirmed = rec.record(result(db, article=teaser, at=4100.0))
    assert confirmed.state == "changed" and "body" in confirmed.changes


def test_unchanged_checks_are_small(db: sqlite_utils.Database, tmp_path: Path) -> None:
    rec = Recorder(db)
    rec.record(result(db))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = (tmp_path / "v.db").stat().st_size
    for n in range(2000):
        rec.record(result(db, state="not_modified", article=None, at=3000.0 + n, status=304))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    grown = (tmp_path / "v.db").stat().st_size - before
    assert db.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == 2001
    assert grown / 2000 < 200, f"{grown / 2000:.0f} bytes per unchanged check"


def test_change_hooks_run_inside_the_transaction(db: sqlite_utils.Database) -> None:
    seen: list[list[int]] = []

    def hook(database: sqlite_utils.Database, ids: list[int]) -> None:
        assert database.conn.in_transaction
        seen.append(ids)

    rec = Recorder(db, on_changes=[hook])
    rec.record(result(db))
    assert seen == []  # a first version is not a change
    edited = Article(**{**ARTICLE.__dict__, "title": "Autre titre", "modified": "2020-07-01"})
    rec.record(result(db, article=edited, at=3000.0))
    ids = [row[0] for row in db.execute("SELECT id FROM changes ORDER BY id")]
    assert seen == [ids] and len(ids) == 2


def test_a_failing_hook_rolls_the_change_back(db: sqlite_utils.Database) -> None:
    def broken(database: sqlite_utils.Database, ids: list[int]) -> None:
        raise RuntimeError("outbox full")

    Recorder(db).record(result(db))
    edited = Article(**{**ARTICLE.__dict__, "title": "Autre titre"})
    with pytest.raises(RuntimeError):
        Recorder(db, on_changes=[broken]).record(result(db, article=edited, at=3000.0))
    assert db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1
