"""The comment recorder on a real SQLite file: first reads, edits, deletions, partial reads, hooks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlite_utils

from monitor.record_comments import CommentRecorder
from spiders.comments.identity import comment_key
from spiders.comments.items import Comment, CommentSource, CommentsResult
from storage.comments import thread
from storage.db import open_database
from storage.pages import add_pages

PAGE = "https://www.exemple-info.test/2020/06/article.html"
SOURCE = CommentSource("inline", PAGE, "detected", (("method", "wordpress"),))


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_database(tmp_path / "veille.db")
    add_pages(database, [PAGE], topic=None, now=time.time())
    return database


def c(key: str, text: str, author: str = "Azarcal", parent: str | None = None) -> Comment:
    return Comment(key=key, system_id=key, author=author, posted_at="2020-06-10T07:00:00Z",
                   text=text, parent_key=parent, permalink=f"{PAGE}#comment-{key}")


def read(*comments: Comment, complete: bool = True, at: float = 0.0, **extra: object) -> CommentsResult:
    return CommentsResult(page_id=1, page_url=PAGE, source=SOURCE, fetched_at=at or time.time(),
                          comments=comments, complete=complete, **extra)  # type: ignore[arg-type]


def kinds(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    return [(str(k), str(a)) for k, a in db.execute(
        "SELECT kind, comment_author FROM change_feed ORDER BY change_id").fetchall()]


def test_first_read_is_silent_then_changes_are_recorded(db: sqlite_utils.Database) -> None:
    recorder = CommentRecorder(db)
    first = recorder.record(read(c("1", "Premier."), c("2", "Second.", "kevvvv", parent="1")))
    assert first.state == "ok" and first.changes == [] and first.read == 2
    assert kinds(db) == []
    rows = thread(db, 1)
    assert [(r["key"], r["author"], r["parent_key"], r["text"]) for r in rows] == [
        ("1", "Azarcal", None, "Premier."), ("2", "kevvvv", "1", "Second."),
    ]
    out = recorder.record(read(c("1", "Premier, corrigé."), c("3", "Troisième.", "Wen84", parent="1")))
    assert sorted(out.changes) == ["comment_deleted", "comment_edited", "comment_new"]
    assert sorted(kinds(db)) == [("comment_deleted", "kevvvv"), ("comment_edited", "Azarcal"),
                                 ("comment_new", "Wen84")]
    new = db.execute("SELECT summary FROM changes WHERE kind = 'comment_new'").fetchone()[0]
    assert new == "new comment by Wen84 (reply to Azarcal): “Troisième.”"
    edited = db.execute("SELECT summary, ops FROM changes WHERE kind = 'comment_edited'").fetchone()
    assert edited[0] == "comment by Azarcal edited: 1 word added: “, corrigé”"
    assert '"op": "insert"' in edited[1] or '"op": "replace"' in edited[1]
    # FTS finds the comment by its old and new words.
    hits = db.execute(
        "SELECT COUNT(*) FROM comment_versions_fts WHERE comment_versions_fts MATCH 'corrigé'"
    ).fetchone()[0]
    assert hits == 1


def test_an_incomplete_read_never_deletes(db: sqlite_utils.Database) -> None:
    recorder = CommentRecorder(db)
    recorder.record(read(c("1", "Un."), c("2", "Deux.")))
    out = recorder.record(read(c("1", "Un."), complete=False, state="partial", error="HTTP 500 on /x"))
    assert out.changes == [] and out.state == "partial"
    assert [r["deleted_at"] for r in thread(db, 1)] == [None, None]
    row = db.execute("SELECT read, complete, state, error FROM comment_counts ORDER BY id DESC").fetchone()
    assert row == (1, 0, "partial", "HTTP 500 on /x")


def test_a_thread_that_reads_empty_is_not_believed(db: sqlite_utils.Database) -> None:
    recorder = CommentRecorder(db)
    recorder.record(read(c("1", "Un."), c("2", "Deux.")))
    out = recorder.record(read())
    assert out.changes == [] and out.state == "partial" and "not believed" in (out.error or "")
    assert [r["deleted_at"] for r in thread(db, 1)] == [None, None]


def test_listed_but_unread_comments_stand_and_hold_back_the_baseline(db: sqlite_utils.Database) -> None:
    """A huge thread read over several runs: silent until read in full once."""
    recorder = CommentRecorder(db)
    listed = frozenset({"1", "2", "3", "4"})
    recorder.record(read(c("1", "Un."), c("2", "Deux."), listed=listed, state="partial"))
    out = recorder.record(read(c("3", "Trois."), listed=listed, state="partial"))
    assert out.changes == []  # still the first reading of the thread
    out = recorder.record(read(c("4", "Quatre."), listed=listed))
    assert out.changes == [] and len(thread(db, 1)) == 4
    assert db.execute("SELECT baselined FROM comment_sources").fetchone() == (1,)
    out = recorder.record(read(c("5", "Cinq."), listed=(listed | {"5"}) - {"2"}))
    assert sorted(out.changes) == ["comment_deleted", "comment_new"]


def test_restored_and_hooks_see_comment_changes(db: sqlite_utils.Database) -> None:
    seen: list[list[int]] = []
    recorder = CommentRecorder(db, on_changes=[lambda _db, ids: seen.append(ids)])
    recorder.record(read(c("1", "Un."), c("2", "Deux.")))
    recorder.record(read(c("1", "Un.")))
    recorder.record(read(c("1", "Un."), c("2", "Deux.")))
    assert [k for k, _ in kinds(db)] == ["comment_deleted", "comment_restored"]
    ids = [r[0] for r in db.execute("SELECT id FROM changes ORDER BY id")]
    assert seen == [[ids[0]], [ids[1]]]
    assert db.execute("SELECT COUNT(*) FROM changes WHERE comment_id IS NULL").fetchone()[0] == 0


def test_a_failing_hook_rolls_the_thread_back(db: sqlite_utils.Database) -> None:
    def boom(_db: sqlite_utils.Database, _ids: list[int]) -> None:
        raise RuntimeError("outbox full")

    CommentRecorder(db).record(read(c("1", "Un.")))
    with pytest.raises(RuntimeError):
        CommentRecorder(db, on_changes=[boom]).record(read(c("1", "Un."), c("2", "Deux.")))
    assert len(thread(db, 1)) == 1 and kinds(db) == []
    assert db.execute("SELECT COUNT(*) FROM comment_counts").fetchone()[0] == 1


def test_a_thread_waiting_for_the_browser_is_a_state_never_a_deletion(db: sqlite_utils.Database) -> None:
    from spiders.comments.disqus import NEEDS_BROWSER_ERROR, needs_browser

    source = CommentSource("disqus", PAGE, "detected", (("shortname", "exemple"),))
    recorder = CommentRecorder(db)
    out = recorder.record(needs_browser(1, PAGE, source, 12))
    assert out.state == "needs_browser" and out.changes == []
    # The source is known from now on (the next crawl brings Chromium); nothing was read.
    assert db.execute("SELECT kind, last_state, last_error, baselined FROM comment_sources").fetchone() == (
        "disqus", "needs_browser", NEEDS_BROWSER_ERROR, 0)
    assert db.execute("SELECT COUNT(*) FROM comment_counts").fetchone()[0] == 0
    # Read in Chromium, then met again by a crawl without it: comments and state stand.
    read_ok = CommentsResult(page_id=1, page_url=PAGE, source=source, fetched_at=time.time(),
                             comments=(c("1", "Un."), c("2", "Deux.")), complete=True, shown_count=2)
    recorder.record(read_ok)
    out = recorder.record(needs_browser(1, PAGE, source, 2))
    assert out.changes == [] and [r["deleted_at"] for r in thread(db, 1)] == [None, None]
    assert db.execute("SELECT last_state, last_error FROM comment_sources").fetchone() == ("ok", None)
    assert db.execute("SELECT COUNT(*) FROM comment_counts").fetchone()[0] == 1


def test_hash_keys_survive_reordering_and_new_comments_above() -> None:
    a = comment_key(None, "Azarcal", None, "Carrément… une affaire d’une grande tristesse")
    b = comment_key(None, "kevvvv", None, "Ca reflète bien l’état du monde actuel")
    assert a != b and a.startswith("h")
    assert comment_key(None, "Azarcal", None, "Carrément… une affaire d’une grande tristesse") == a
    long = "x " * 100
    assert comment_key(None, "A", None, long + "fin") == comment_key(None, "A", None, long + "end")
    assert comment_key("123", "A", None, "t") == "123"


def test_a_busy_thread_brings_the_next_check_forward(db: sqlite_utils.Database) -> None:
    from storage.pages import get_page, update_page

    recorder = CommentRecorder(db)
    recorder.record(read(c("1", "Un."), at=1000.0))
    update_page(db, 1, next_check_at=1000.0 + 7 * 86400)  # a quiet page, checked weekly
    recorder.record(read(c("1", "Un."), at=2000.0))
    page = get_page(db, PAGE)
    assert page is not None and page.next_check_at == 1000.0 + 7 * 86400  # no change, no hurry
    recorder.record(read(c("1", "Un."), c("2", "Deux."), at=3000.0))
    page = get_page(db, PAGE)
    assert page is not None and page.last_changed_at == 3000.0
    assert page.next_check_at < 3000.0 + 3600  # back to the young-article pace
    # A page with a fixed interval keeps it.
    fixed = CommentRecorder(db, intervals={1: 86400.0})
    update_page(db, 1, next_check_at=3000.0 + 7 * 86400)
    fixed.record(read(c("1", "Un."), c("2", "Deux."), c("3", "Trois."), at=4000.0))
    page = get_page(db, PAGE)
    assert page is not None and 4000.0 + 0.8 * 86400 < page.next_check_at < 4000.0 + 1.2 * 86400


def test_datasette_comment_queries_list_new_deleted_and_found_comments(db: sqlite_utils.Database) -> None:
    from storage.datasette.queries import CANNED_QUERIES

    recorder = CommentRecorder(db)
    recorder.record(read(c("1", "Premier avis."), c("2", "Deuxième avis.", "kevvvv")))
    recorder.record(read(c("1", "Premier avis."), c("3", "Un nouveau venu parle d'Azure.", "Wen84")))
    db.conn.create_function("escape_fts", 1, lambda q: '"' + q.replace('"', '""') + '"')

    def run(name: str, **params: str) -> list[dict[str, object]]:
        cursor = db.execute(str(CANNED_QUERIES[name]["sql"]), params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    (busy,) = run("new_comments_per_article")
    assert busy["url"] == PAGE and busy["new_comments"] == 1
    (gone,) = run("deleted_comments")
    assert gone["author"] == "kevvvv" and gone["text"] == "Deuxième avis." and gone["deleted_at"]
    (found,) = run("search_comments", q="Azure")
    assert found["author"] == "Wen84" and "**Azure**" in str(found["snippet"])
    assert run("search_comments", q="") == []
