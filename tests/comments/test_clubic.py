"""End to end: the Clubic article of the seed and its forum thread, through the real CLI.

The article page prints the thread and links « Voir tous les messages sur le forum »; the forum
is a Discourse-style topic served as JSON (``tests/comments/clubic.py``). Between rounds the
thread grows on its last page, a comment is edited, another deleted, the forum reorders and
pages differently, and one round fails half-way. Every round must give exactly the right comment
changes, and never a false deletion; a deleted comment that comes back is restored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.comments import clubic

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite, SiteHandler

ARTICLE = "/actualite/microsoft-police.html"


def comment_changes(veille: Veille, after: int = 0) -> list[tuple[str, str | None]]:
    """(kind, author) of the comment changes after change id ``after``."""
    rows = veille.db().execute(
        "SELECT kind, comment_author FROM change_feed WHERE comment_id IS NOT NULL "
        "AND change_id > ? ORDER BY change_id",
        [after],
    ).fetchall()
    return [(str(kind), author) for kind, author in rows]


def last_change(veille: Veille) -> int:
    return int(veille.db().execute("SELECT COALESCE(MAX(change_id), 0) FROM change_feed").fetchone()[0])


def standing(veille: Veille) -> dict[str, tuple[str, str]]:
    """key -> (author, text) of the comments that stand."""
    rows = veille.db().execute(
        "SELECT key, author, text FROM comment_threads WHERE deleted_at IS NULL"
    ).fetchall()
    return {str(k): (str(a), str(t)) for k, a, t in rows}


def last_count(veille: Veille) -> tuple[object, ...]:
    return tuple(veille.db().execute(
        "SELECT shown, listed, read, complete, state FROM comment_counts ORDER BY id DESC LIMIT 1"
    ).fetchone())


@pytest.fixture
def seed() -> clubic.SeedArticle:
    return clubic.load_seed()


def publish(site: LocalSite, seed: clubic.SeedArticle, forum: clubic.Forum, shown: int = 26) -> None:
    site.set(ARTICLE, clubic.article_html(
        seed, posts=forum.comments(), forum_url=forum.topic_url(site), shown=shown,
    ))


def test_the_seed_is_read_as_the_replica_needs(seed: clubic.SeedArticle) -> None:
    assert seed.title.startswith("Des employés de Microsoft demandent")
    assert len(seed.comments) == 24  # the page says 26: two are not printed
    assert seed.comments[0][0] == "Azarcal" and seed.comments[-1][0] == "Fodger"
    assert len(seed.comments[20][1]) == 8  # cyrano66's eight paragraphs (<br /> in the seed)


def test_clubic_thread_through_the_forum(site: LocalSite, veille: Veille, seed: clubic.SeedArticle) -> None:
    forum = clubic.Forum.from_seed(seed)
    forum.install(site)
    publish(site, seed, forum)
    veille.run("add", site.url(ARTICLE), check=0)

    # Round 1: the first read records the 24 comments as they stand, without "new" changes.
    out = veille.run("check", check=0)
    assert "1 comment threads read (0 partial), 0 comment changes" in out.stdout
    assert comment_changes(veille) == []
    thread = standing(veille)
    assert len(thread) == 24
    assert {(a, t) for a, t in thread.values()} == {(p.username, p.text()) for p in forum.comments()}
    assert last_count(veille) == (26, 24, 24, 1, "ok")  # the page says 26: a gap of 2
    source = veille.db().execute("SELECT kind, url, origin FROM comment_sources").fetchall()
    assert source == [("discourse", site.url("/forum/t/24480"), "detected")]
    # The thread is read from the forum, not twice: no inline source beside it.
    assert forum.asked("topic") == 1 and forum.asked("posts") == 1  # 19 in the topic, 5 more
    replies = veille.db().execute(
        "SELECT author, parent_key FROM comments WHERE key = ?", [str(forum.by_number(7).id)]
    ).fetchone()
    assert replies == ("PsykotropyK", str(forum.by_number(6).id))  # « Je partage ton avis »

    # Round 2 (the article answers 304): two comments on the last page, one edited, one deleted.
    mark = last_change(veille)
    forum.add("Guillaume Renouard", "Merci pour vos commentaires, la lettre est en lien dans l’article.")
    forum.add("kevvvv", "Et la réponse de Satya Nadella, on l’attend toujours.", reply_to=26)
    forum.edit(6, ["C’est tout à fait stupide ; ça ne va pas aider au travail des enquêteurs."])
    deleted = forum.delete(10)  # Nissart
    out = veille.run("check", "--all", check=0)
    assert "1 not modified" in out.stdout
    assert sorted(comment_changes(veille, mark)) == sorted([
        ("comment_edited", "Fodger"), ("comment_new", "Guillaume Renouard"),
        ("comment_new", "kevvvv"), ("comment_deleted", "Nissart"),
    ])
    edit = veille.db().execute(
        "SELECT summary, words_added, words_removed FROM change_feed WHERE kind = 'comment_edited'"
    ).fetchone()
    assert edit[0].startswith("comment by Fodger edited: ") and "«" in edit[0]
    assert edit[1] > 0 and edit[2] > 0
    gone = veille.db().execute(
        "SELECT deleted_at FROM comment_threads WHERE key = ?", [str(deleted.id)]
    ).fetchone()
    assert gone[0] is not None
    versions = veille.db().execute(
        "SELECT COUNT(*) FROM comment_versions JOIN comments ON comments.id = comment_id "
        "WHERE comments.key = ?", [str(forum.by_number(6).id)],
    ).fetchone()[0]
    assert versions == 2
    assert last_count(veille) == (None, 25, 25, 1, "ok")  # 304: the page's count unknown

    # Round 3: the page changes (26 → 27 shown); the forum pages differently and reorders.
    mark = last_change(veille)
    forum.topic_chunk, forum.max_per_request, forum.reverse = 7, 4, True
    publish(site, seed, forum, shown=27)
    out = veille.run("check", "--all", check=0)
    assert comment_changes(veille, mark) == []
    assert len(standing(veille)) == 25
    assert last_count(veille) == (27, 25, 25, 1, "ok")

    # Round 4: a 500 half-way through the thread, while one comment is deleted and one added.
    mark = last_change(veille)
    forum.topic_chunk, forum.max_per_request, forum.reverse = 20, None, False
    removed = forum.delete(4)  # Wen84
    late = forum.add("notolik", "Cette pétition n’est que symbolique, encore une fois.")
    forum.fail_when_asked = {late.id}
    out = veille.run("check", "--all", check=0)  # a partial comment read is not a failed page
    assert "(1 partial)" in out.stdout
    assert comment_changes(veille, mark) == []  # nothing read is new; nothing is concluded
    assert str(removed.id) in standing(veille)  # no false deletion
    _shown, listed, _read, complete, state = last_count(veille)
    assert (complete, state) == (0, "partial") and listed == 25
    error = veille.db().execute("SELECT error FROM comment_counts ORDER BY id DESC").fetchone()[0]
    assert "HTTP 500" in error and "posts.json" in error

    # Round 5: the forum answers again: the deletion and the new comment are recorded once.
    mark = last_change(veille)
    forum.fail_when_asked = set()
    veille.run("check", "--all", check=0)
    assert sorted(comment_changes(veille, mark)) == [("comment_deleted", "Wen84"), ("comment_new", "notolik")]
    assert len(standing(veille)) == 25

    # Round 6: a moderator puts Nissart's comment back: restored, not new.
    mark = last_change(veille)
    forum.posts.append(deleted)
    veille.run("check", "--all", check=0)
    assert comment_changes(veille, mark) == [("comment_restored", "Nissart")]
    assert veille.db().execute(
        "SELECT deleted_at FROM comment_threads WHERE key = ?", [str(deleted.id)]
    ).fetchone() == (None,)
    # Every comment change shows in change_feed with the article's title and a permalink.
    rows = veille.db().execute(
        "SELECT title, comment_permalink FROM change_feed WHERE comment_id IS NOT NULL"
    ).fetchall()
    assert rows and all(t == seed.title and p.startswith(site.url("/forum/t/")) for t, p in rows)


BAD_ANSWERS = {  # what the forum sends, and what the error row must say
    "html": (b"<html><body>Maintenance en cours</body></html>", "expected JSON, got an HTML page"),
    "invalid_json": (b'{"post_stream": {"posts": [', "invalid JSON"),
    "missing_fields": (b'{"id": 24480, "title": "x"}', "without post_stream"),
    "deep_json": (b"[" * 100_000, "nested too deeply"),
    "truncated": (b'{"post_stream": {"posts": [], "stream": [1, 2, 3]}, "id": 24480}', "truncated"),
}


def test_bad_forum_payloads_give_an_error_row_and_change_nothing(
    site: LocalSite, veille: Veille, seed: clubic.SeedArticle
) -> None:
    forum = clubic.Forum.from_seed(seed)
    forum.install(site)
    publish(site, seed, forum)
    veille.run("add", site.url(ARTICLE), check=0)
    veille.run("check", check=0)
    before = standing(veille)
    mark = last_change(veille)
    forum.delete(5)  # a deletion that a bad answer must not be taken for
    for fault, (body, expected) in BAD_ANSWERS.items():

        def broken(handler: SiteHandler, body: bytes = body, fault: str = fault) -> None:
            if fault == "truncated":  # twice the announced length, then the connection drops
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(2 * len(body)))
                handler.end_headers()
                handler.wfile.write(body)
                handler.close_connection = True
                return
            kind = "text/html" if body.startswith(b"<") else "application/json"
            clubic._send(handler, 200, body, kind)

        site.handle(f"{forum.prefix}/t/", broken, prefix=True)
        out = veille.run("check", "--all", check=0)
        assert "(1 partial)" in out.stdout, fault
        assert comment_changes(veille, mark) == [], fault
        assert standing(veille) == before, fault
        row = veille.db().execute(
            "SELECT complete, state, error FROM comment_counts ORDER BY id DESC"
        ).fetchone()
        assert row[0] == 0 and row[1] == "partial" and expected in row[2], (fault, row)
    forum.install(site)  # the forum heals: now the deletion is believed
    veille.run("check", "--all", check=0)
    assert comment_changes(veille, mark) == [("comment_deleted", "trollkien")]
