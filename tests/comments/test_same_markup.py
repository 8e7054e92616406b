"""A thread whose markup has not changed since its last read is not read again.

The comment markup's fingerprint (spiders.comments.inline.comment_markup) stands for the read:
the same fingerprint, the same comments. These tests check what it covers, and, end to end
through ``veille check``, that skipping the read stores exactly what a full read stores.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlite_utils

from monitor.record_comments import CommentRecorder
from spiders.comments.inline import comment_markup, read_inline
from spiders.comments.items import CommentSelectors, CommentSource, CommentsResult
from spiders.tree import parse_html
from storage.db import open_database
from storage.pages import add_pages
from tests.comments import clubic
from tests.comments.test_sources import PAGE, _section, jsonld_markup, wordpress_markup

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite

URL = "http://127.0.0.1:8000" + PAGE
COMMENTS = [(10, "Azarcal", "Carrément.", 0), (11, "kevvvv", "Une minorité.", 10),
            (12, "Wen84", "Ridicule.", 0), (13, "Droz", "2153 personnes.", 12)]


@pytest.fixture(scope="module")
def seed() -> clubic.SeedArticle:
    return clubic.load_seed()


def page(seed: clubic.SeedArticle, comments: list[tuple[int, str, str, int]], *,
         noise: str = "", total: int | None = None) -> str:
    """The article with WordPress comments; ``noise`` goes into the page, outside them."""
    html = _section(wordpress_markup(comments, total), seed)
    return html.replace("</body>", f'<aside class="ad">{noise}</aside></body>')


def fingerprint(html: str, shown: int | None = None,
                selectors: CommentSelectors | None = None) -> str | None:
    raw = html.encode()
    return comment_markup(parse_html(html, URL), URL, selectors, raw, shown).fingerprint


def test_the_fingerprint_covers_the_comments_and_nothing_else(seed: clubic.SeedArticle) -> None:
    first = fingerprint(page(seed, COMMENTS, noise="Publicité 1"))
    assert first is not None
    # Outside the comments: the same read.
    assert fingerprint(page(seed, COMMENTS, noise="Publicité 2 · il y a 3 minutes")) == first
    # Anything the read depends on: a comment's text, author, date, a reply's place, the count.
    edited = [(10, "Azarcal", "Carrément, oui.", 0), *COMMENTS[1:]]
    renamed = [(10, "Azarcal2", "Carrément.", 0), *COMMENTS[1:]]
    moved = [*COMMENTS[:3], (13, "Droz", "2153 personnes.", 10)]
    for other in (edited, renamed, moved, COMMENTS[:3]):
        assert fingerprint(page(seed, other)) not in (first, None)
    assert fingerprint(page(seed, COMMENTS, total=40)) != first  # "40 réflexions" in the title
    assert fingerprint(page(seed, COMMENTS), shown=40) != first


def test_no_fingerprint_where_the_read_depends_on_more_than_the_comment_list(
    seed: clubic.SeedArticle,
) -> None:
    html = page(seed, COMMENTS)
    # A selector set from the config, JSON-LD comments (read before the markup), no container.
    assert fingerprint(html, selectors=CommentSelectors(item="li.comment")) is None
    head = jsonld_markup(COMMENTS)
    assert fingerprint(html.replace("</head>", head + "</head>")) is None
    bare = html.replace('id="comments"', 'id="discussion"').replace("comment-list", "liste")
    assert fingerprint(bare) is None
    # Where it is given, the markup it was taken from reads as read_inline reads alone.
    raw = html.encode()
    tree = parse_html(html, URL)
    markup = comment_markup(tree, URL, None, raw)
    assert markup.containers
    alone = read_inline(parse_html(html, URL), URL, None, raw)
    assert read_inline(tree, URL, None, raw, markup) == alone


def _state(veille: Veille) -> dict[str, object]:
    """What a read leaves in the database, times made relative to the source's last read."""
    db = veille.db()
    [(last_read, last_state, last_error, baselined, read_fp)] = db.execute(
        "SELECT last_read_at, last_state, last_error, baselined, read_fp FROM comment_sources"
    ).fetchall()
    # Seen by the last read or not; a deleted comment's last sight is left out (times have whole
    # seconds, and two rounds may fall in one).
    comments = db.execute(
        "SELECT key, author, deleted_at IS NOT NULL, "
        "CASE WHEN deleted_at IS NULL THEN last_seen = ? END, current_version "
        "FROM comments ORDER BY key", [last_read],
    ).fetchall()
    return {
        "source": (last_state, last_error, baselined),
        "fingerprint": read_fp,
        "comments": comments,
        "versions": db.execute(
            "SELECT comment_id, hash FROM comment_versions ORDER BY id").fetchall(),
        "counts": db.execute("SELECT shown, listed, read, complete, state, error "
                             "FROM comment_counts ORDER BY id").fetchall(),
        "changes": db.execute("SELECT kind, summary FROM changes WHERE comment_id IS NOT NULL "
                              "ORDER BY id").fetchall(),
    }


def test_a_read_skipped_stores_what_a_full_read_stores(
    site: LocalSite, tmp_path: Path, seed: clubic.SeedArticle,
) -> None:
    """Two databases follow the same page; the second forgets its fingerprints before each check,
    so it reads every thread in full. After every round both hold the same comment history."""
    from tests.conftest import Veille

    skipping, reading = Veille(tmp_path / "skipping"), Veille(tmp_path / "reading")
    for veille in (skipping, reading):
        veille.folder.mkdir()
        veille.write_config()
    edited = [(10, "Azarcal", "Carrément, oui.", 0), (11, "kevvvv", "Une minorité.", 10),
              (14, "Ergo", "Merci.", 10)]
    rounds = [
        page(seed, COMMENTS, noise="Publicité 1"),
        page(seed, COMMENTS, noise="Publicité 2"),  # the same thread: skipped
        page(seed, edited, noise="Publicité 3"),  # edited, deleted, new: read
        page(seed, edited, noise="Publicité 4"),  # skipped
        page(seed, edited, noise="Publicité 5", total=9),  # the page prints 3 of 9: partial
        page(seed, edited, noise="Publicité 6", total=9),  # skipped, still partial
    ]
    skipped = []
    for number, html in enumerate(rounds):
        site.set(PAGE, html)
        for veille in (skipping, reading):
            if number == 0:
                veille.run("add", site.url(PAGE), check=0)
            else:
                with sqlite_utils.Database(veille.database) as db:
                    db.execute("UPDATE comment_sources SET read_fp = NULL"
                               if veille is reading else "SELECT 1")
            done = veille.run("-vv", "check", "--all", check=0)
            if veille is skipping:
                skipped.append("comments as last read" in done.stderr)
        mine, theirs = _state(skipping), _state(reading)
        assert mine.pop("fingerprint") is not None
        theirs.pop("fingerprint")
        assert mine == theirs, f"round {number + 1}"
    assert skipped == [False, True, False, True, False, True]
    final = _state(skipping)
    assert final["source"] == ("partial", "the page prints 3 of its 9 comments", 1)
    assert sorted(kind for kind, _ in final["changes"]) == [  # type: ignore[union-attr]
        "comment_deleted", "comment_deleted", "comment_edited", "comment_new"]
    # Every standing comment was seen by the last read, skipped or not.
    rows: list[tuple[object, ...]] = final["comments"]  # type: ignore[assignment]
    standing = [seen for _, _, deleted, seen, _ in rows if not deleted]
    assert standing and all(standing)


def test_a_skipped_read_that_no_longer_matches_concludes_nothing(tmp_path: Path) -> None:
    """The thread was read otherwise after this check was planned: no comment is touched, and the
    next read is a full one."""
    db = open_database(tmp_path / "veille.db")
    add_pages(db, [URL], topic=None, now=time.time())
    source = CommentSource("inline", URL, "detected", (("method", "wordpress"),))
    recorder = CommentRecorder(db)
    from spiders.comments.items import Comment

    one = Comment(key="1", system_id="1", author="A", posted_at=None, text="Un.")
    first = recorder.record(CommentsResult(page_id=1, page_url=URL, source=source,
                                           fetched_at=1_000_000.0, comments=(one,), complete=True,
                                           read_fp="a" * 64))
    assert first.state == "ok" and first.read == 1
    before = db.execute("SELECT last_seen FROM comments").fetchall()
    stale = recorder.record(CommentsResult(page_id=1, page_url=URL, source=source,
                                           fetched_at=1_000_100.0, read_fp="b" * 64,
                                           same_as_last=True))
    assert stale.state == "error" and "read in full next time" in (stale.error or "")
    assert db.execute("SELECT last_seen FROM comments").fetchall() == before
    assert db.execute("SELECT read_fp FROM comment_sources").fetchone()[0] is None
    # The matching one is seen again, and says the last read's state.
    recorder.record(CommentsResult(page_id=1, page_url=URL, source=source, fetched_at=1_000_200.0,
                                   comments=(one,), complete=True, read_fp="c" * 64))
    again = recorder.record(CommentsResult(page_id=1, page_url=URL, source=source,
                                           fetched_at=1_000_300.0, read_fp="c" * 64,
                                           same_as_last=True))
    assert (again.state, again.read) == ("ok", 1)
    assert db.execute("SELECT last_seen FROM comments").fetchone()[0] == "1970-01-12T13:51:40Z"


def test_the_fingerprint_needs_no_readable_source(
    seed: clubic.SeedArticle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frozen install without readable sources still fingerprints (by the release)."""
    from spiders.comments import inline

    usual = fingerprint(page(seed, COMMENTS))

    def unreadable(self: Path) -> bytes:
        raise OSError("no source")

    inline._reader_code.cache_clear()
    monkeypatch.setattr(inline.Path, "read_bytes", unreadable)
    try:
        frozen = fingerprint(page(seed, COMMENTS))
    finally:
        inline._reader_code.cache_clear()
    assert frozen is not None and frozen != usual
