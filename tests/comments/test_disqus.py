"""Disqus threads (issues 3 and 8): read in Chromium, or through Disqus's API with a key.

Real parts: the embed's markup and threadData parsed as Disqus serves them; a Disqus-like service
on a second origin (``tests/comments/disqus_site.py``) whose frame draws the thread with
JavaScript and loads more by XHR; the real CLI (``veille check``) and Debian's chromium over
rounds: first read (a fresh database: the thread met without Chromium is read at once in a crawl
that has it), a new, an edited and two deleted comments, a frame that fails and a "load more"
that fails (partial, no false deletion). The API reader runs against the same service, and its
key must appear nowhere: database, WAL, output.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from spiders.comments.disqus import parse_embed, post_comment
from spiders.comments.items import (
    CommentPlan,
    CommentSettings,
    CommentSource,
    SourceState,
)
from tests.browser.test_render import MARK, marked, wait_until
from tests.comments.disqus_site import API_KEY, IDENTIFIER, SHORTNAME, DisqusSite, Post
from tests.servers.http import LocalSite

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import Veille

LINK = "https://news.example.org/2026/03/budget.html"

# --- the embed's markup, as Disqus draws it ----------------------------------------------------

THREAD_DATA = {
    "code": 0,
    "cursor": {"hasNext": True, "next": "1:0:0", "total": 7},
    "response": {
        "thread": {"id": "9100001", "posts": 6, "link": LINK, "identifiers": ["budget"]},
        "posts": [
            {"id": "501", "parent": None, "author": {"name": "Amina Diallo", "username": "amina"},
             "createdAt": "2026-03-02T08:15:00", "message": "<p>Where does the money come from?</p>",
             "isDeleted": False, "isSpam": False, "isApproved": True, "thread": "9100001"},
            {"id": "502", "parent": 501, "author": {"name": "Bruno Keller", "username": "bruno"},
             "createdAt": "2026-03-02T08:40:00",
             "message": "<p>From the <a href=\"https://example.org/levy\">transport levy</a>.</p>"
                        "<p>See page 12.</p>",
             "isDeleted": False, "isSpam": False, "isApproved": True, "thread": "9100001"},
            {"id": "503", "parent": None, "author": {"name": "", "username": ""},
             "createdAt": "2026-03-02T09:00:00", "message": "", "isDeleted": True,
             "isSpam": False, "isApproved": True, "thread": "9100001"},
            {"id": "504", "parent": 503, "author": {"name": "Chloé Martin", "username": "chloe"},
             "createdAt": "2026-03-02T09:30:00", "message": "<p>Still a fair question.</p>",
             "isDeleted": False, "isSpam": False, "isApproved": True, "thread": "9100001"},
        ],
    },
}


def drawn_post(pid: int, author: str, message: str, title: str, children: str = "",
               deleted: bool = False) -> str:
    """One ``li.post`` in Disqus's markup (``children``: the replies' ``li`` elements)."""
    if deleted:
        body = '<div class="post-message" data-role="message">This comment was deleted.</div>'
    else:
        body = (
            '<header class="comment__header"><span class="post-byline"><span class="author '
            f'publisher-anchor-color"><a href="https://disqus.com/by/x/" data-action="profile">'
            f'{author}</a></span></span><span class="post-meta"><span class="bullet '
            f'time-ago-bullet" aria-hidden="true">•</span><a href="{LINK}#comment-{pid}" '
            f'data-role="relative-time" class="time-ago" title="{title}">a day ago</a></span>'
            '</header><div class="post-body-inner"><div class="post-message-container" '
            'data-role="message-container"><div class="publisher-anchor-color" '
            'data-role="message-content"><div class="post-message " data-role="message" '
            f'dir="auto"><div>{message}</div></div></div></div></div><footer class="comment__footer">'
            '<menu class="comment-footer__menu"><li class="voting"><a class="vote-up">0</a></li>'
            '<li class="reply" data-role="reply-link"><a href="#" data-action="reply">Reply</a>'
            "</li></menu></footer>"
        )
    state = " deleted" if deleted else ""
    return (
        f'<li class="post" id="post-{pid}"><div role="alert"></div><div class="post-content{state}" '
        'data-role="post-content"><div class="avatar hovercard"><a class="user"><img alt="Avatar">'
        f'</a></div><div class="post-body">{body}</div></div><ul data-role="children" '
        f'class="children">{children}</ul></li>'
    )


def frame_document(posts: str, *, thread_data: dict[str, object] | None = None, count: int = 6,
                   more: bool = False) -> str:
    """A frame's document once drawn: count tab, post list, "load more", maybe threadData."""
    data = ""
    if thread_data is not None:
        data = f'<script type="text/json" id="disqus-threadData">{json.dumps(thread_data)}</script>'
    hidden = "" if more else ' style="display: none;"'
    return (
        f"<!doctype html><html><head></head><body>{data}<div id=\"layout\"><nav><ul><li "
        'class="nav-tab nav-tab--primary tab-conversation active"><a class="publisher-nav-color">'
        f'<span class="comment-count">{count} comments</span></a></li></ul></nav><div id="posts">'
        f'<ul id="post-list" class="post-list">{posts}</ul><div class="load-more" data-role="more"'
        f'{hidden}><a href="#" data-action="more-posts" class="btn load-more__button">Load more '
        "comments</a></div></div></div></body></html>"
    )


MARKUP = (
    drawn_post(501, "Amina Diallo", "<p>Where does the money come from?</p>",
               "Monday, March 2, 2026 at 8:15 AM",
               children=drawn_post(502, "Bruno Keller",
                                   '<p>From the <a href="https://example.org/levy">transport levy'
                                   "</a>.</p><p>See page 12.</p>", "Monday, March 2, 2026 8:40 AM"))
    + drawn_post(503, "", "", "", deleted=True,
                 children=drawn_post(504, "Chloé Martin", "<p>Still a fair question.</p>",
                                     "Monday, March 2, 2026 at 9:30 AM"))
    + drawn_post(505, "Dev Patel", "<p>Good to see the river park funded.</p>",
                 "Monday, March 2, 2026 at 11:30 AM")
)


def test_embed_markup_gives_comments_replies_and_the_thread_count() -> None:
    read = parse_embed(frame_document(MARKUP, count=5), "https://news.example.org/x")
    got = [(c.key, c.parent_key, c.author, c.posted_at, c.text, c.permalink) for c in read.comments]
    assert got == [
        ("501", None, "Amina Diallo", "2026-03-02T08:15:00", "Where does the money come from?",
         f"{LINK}#comment-501"),
        ("502", "501", "Bruno Keller", "2026-03-02T08:40:00",
         "From the transport levy.\n\nSee page 12.", f"{LINK}#comment-502"),
        # 503 is a deleted placeholder: not in the thread; its reply is.
        ("504", "503", "Chloé Martin", "2026-03-02T09:30:00", "Still a fair question.",
         f"{LINK}#comment-504"),
        ("505", None, "Dev Patel", "2026-03-02T11:30:00", "Good to see the river park funded.",
         f"{LINK}#comment-505"),
    ]
    assert read.count == 5 and read.posts == 5 and not read.thread_data and not read.unreadable


def test_thread_data_gives_exact_dates_parents_and_deletions_and_agrees_with_the_markup() -> None:
    alone = parse_embed(frame_document("", thread_data=THREAD_DATA), "https://news.example.org/x")
    assert alone.thread_data and alone.count == 6 and alone.has_more
    assert [(c.key, c.parent_key, c.posted_at) for c in alone.comments] == [
        ("501", None, "2026-03-02T08:15:00Z"), ("502", "501", "2026-03-02T08:40:00Z"),
        ("504", "503", "2026-03-02T09:30:00Z"),
    ]
    both = parse_embed(frame_document(MARKUP, thread_data=THREAD_DATA), "https://news.example.org/x")
    by_key = {c.key: c for c in both.comments}
    assert list(by_key) == ["501", "502", "504", "505"]  # 505 drawn only (loaded later)
    assert by_key["502"].posted_at == "2026-03-02T08:40:00Z"  # threadData wins
    # The same comment read from the markup or from threadData has the same text: moving from
    # one to the other between checks is never an edit.
    drawn = {c.key: c for c in parse_embed(frame_document(MARKUP), LINK).comments}
    assert all(drawn[key].text == by_key[key].text for key in ("501", "502", "504"))
    assert all(drawn[key].permalink == by_key[key].permalink for key in ("501", "502", "504"))


def test_a_post_drawn_without_its_text_is_unreadable_not_absent() -> None:
    broken = MARKUP.replace('<div class="post-message " data-role="message" dir="auto"><div><p>Good '
                            "to see", '<div class="post-body-broken"><div><p>Good to see')
    read = parse_embed(frame_document(broken), LINK)
    assert read.unreadable == ["505"] and "505" not in {c.key for c in read.comments}


def test_api_post_and_bad_posts() -> None:
    post = {"id": "77", "parent": "76", "author": {"name": " Eva ", "username": "eva"},
            "createdAt": "2026-03-02T12:10:00", "message": "<p>One.</p><p>Two.</p>",
            "thread": {"id": "1", "posts": 3, "link": LINK}}
    comment = post_comment(post)
    assert comment is not None
    assert (comment.key, comment.parent_key, comment.author, comment.posted_at, comment.text,
            comment.permalink) == ("77", "76", "Eva", "2026-03-02T12:10:00Z", "One.\n\nTwo.",
                                   f"{LINK}#comment-77")
    assert post_comment({"id": None}) is None and post_comment("x") is None
    assert post_comment({"id": True}) is None


def test_plan_needs_the_browser_for_a_known_disqus_thread_without_a_key() -> None:
    disqus = CommentSource("disqus", LINK, "detected", (("shortname", "news"),))
    known = (SourceState(disqus),)
    assert CommentPlan(known=known).needs_browser
    assert not CommentPlan().needs_browser  # met in the page: answered needs_browser, then held
    assert not CommentPlan(mode="none", known=known).needs_browser
    assert not CommentPlan(mode="explicit", kinds=("inline",), known=known).needs_browser
    assert CommentPlan(mode="explicit", kinds=("disqus",), known=known).needs_browser
    keyed = CommentSettings(disqus_api_key="k" * 20)
    assert not CommentPlan(known=known, settings=keyed).needs_browser
    unnamed = CommentSource("disqus", LINK, "detected", (("shortname", ""),))
    assert CommentPlan(known=(SourceState(unnamed),), settings=keyed).needs_browser
    assert "k" * 20 not in repr(CommentPlan(settings=keyed))


# --- end to end -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LocalSite, LocalSite]]:
    """The news site and the Disqus-like service, shared by this module's tests."""
    with LocalSite() as news, LocalSite() as disqus:
        yield news, disqus


@pytest.fixture
def service(servers: tuple[LocalSite, LocalSite]) -> DisqusSite:
    """A fresh thread on the shared servers."""
    site = DisqusSite(*servers)
    site.install()
    return site


def standing(veille: Veille) -> dict[str, tuple[str | None, str | None, str]]:
    """key -> (parent, author, text) of the comments that stand."""
    rows = veille.db().execute(
        "SELECT key, parent_key, author, text FROM comment_threads WHERE deleted_at IS NULL"
    ).fetchall()
    return {str(k): (p, a, str(t)) for k, p, a, t in rows}


def comment_changes(veille: Veille, after: int = 0) -> list[tuple[str, str | None]]:
    rows = veille.db().execute(
        "SELECT kind, comment_author FROM change_feed WHERE comment_id IS NOT NULL AND change_id > ? "
        "ORDER BY change_id", [after],
    ).fetchall()
    return sorted((str(k), a) for k, a in rows)


def last_change(veille: Veille) -> int:
    return int(veille.db().execute("SELECT COALESCE(MAX(id), 0) FROM changes").fetchone()[0])


def source_state(veille: Veille) -> tuple[str, str | None]:
    row = veille.db().execute("SELECT last_state, last_error FROM comment_sources").fetchone()
    return str(row[0]), row[1]


def last_count(veille: Veille) -> tuple[object, ...]:
    return tuple(veille.db().execute(
        "SELECT shown, read, complete, state FROM comment_counts ORDER BY id DESC LIMIT 1"
    ).fetchone())


def check(veille: Veille, token: str, *args: str) -> str:
    """``veille check ARGS`` with the Chromium mark; its output. Exit code 0 is required."""
    os.environ[MARK] = token
    try:
        proc = veille.run("check", *args)
    finally:
        del os.environ[MARK]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_a_disqus_thread_is_read_in_chromium_over_rounds(service: DisqusSite, veille: Veille) -> None:
    url = service.article_url
    veille.write_config(f'[browser]\ntimeout = "3s"\n\n[[pages]]\nurl = "{url}"\n')
    token = uuid.uuid4().hex

    # Round 1, a fresh database: the plain crawl meets the thread, which is read at once in a
    # crawl with Chromium — every comment, those behind two "load more" included.
    out = check(veille, token)
    assert "1 pages checked" in out and "1 comment threads read (0 partial)" in out, out
    assert standing(veille) == {
        "1001": (None, "Amina Diallo", "Where does the money for the new tram line come from?"),
        "1002": ("1001", "Bruno Keller", "From the transport levy, as the report says on page 12."),
        "1003": ("1002", "Amina Diallo", "Thanks, I had missed that table."),
        "1004": (None, "Chloé Martin", "The schools budget is flat again.\n\nThree years in a row now."),
        "1005": (None, "Dev Patel", "Good to see the river park funded at last."),
        "1006": (None, "Eva Lindqvist", "Will the council publish the vote by member?"),
        "1007": ("1006", "Farid Haddad", "It did last year, on its open data site."),
        "1008": (None, "Grace O'Neill", "The housing line is smaller than promised."),
        "1009": ("1008", "Hugo Blanc", "Compared with what? The 2025 plan or the manifesto?"),
    }
    assert service.asked("listPostsThreaded") == 2  # two clicks on "load more"
    assert last_count(veille) == (9, 9, 1, "ok") and source_state(veille) == ("ok", None)
    detail = json.loads(veille.db().execute("SELECT detail FROM comment_sources").fetchone()[0])
    assert detail == {"shortname": SHORTNAME, "identifier": IDENTIFIER, "link": url}
    # The page itself was recorded once: the second crawl only read its thread.
    assert veille.db().execute("SELECT COUNT(*) FROM checks").fetchone()[0] == 1
    assert comment_changes(veille) == []  # a first read is the baseline
    permalink = veille.db().execute("SELECT permalink FROM comments WHERE key = '1005'").fetchone()[0]
    assert permalink == f"{url}#comment-1005"
    wait_until("no Chromium or driver left", lambda: marked(token) == [], timeout=5)

    # Round 2: a new reply (behind "load more"), an edit, a deleted reply, and a deleted post
    # that keeps a placeholder for its reply. The known thread sends the crawl to Chromium.
    service.posts.insert(9, Post(1010, "Ines Ruiz", "<p>The 2025 plan, I think.</p>",
                                 "2026-03-03T07:00:00", parent=1009))
    service.post(1005).message = "<p>Good to see the river park funded at last, after two budgets.</p>"
    service.post(1007).deleted = True
    service.post(1001).deleted = True
    mark = last_change(veille)
    out = check(veille, token, "--all")
    assert comment_changes(veille, mark) == [
        ("comment_deleted", "Amina Diallo"), ("comment_deleted", "Farid Haddad"),
        ("comment_edited", "Dev Patel"), ("comment_new", "Ines Ruiz"),
    ], out
    now = standing(veille)
    assert set(now) == {"1002", "1003", "1004", "1005", "1006", "1008", "1009", "1010"}
    assert now["1010"] == ("1009", "Ines Ruiz", "The 2025 plan, I think.")
    assert now["1002"][0] == "1001"  # a reply keeps its (deleted) parent
    edit = veille.db().execute("SELECT summary FROM changes WHERE kind = 'comment_edited'").fetchone()[0]
    assert "after two budgets" in edit
    assert last_count(veille) == (8, 8, 1, "ok")
    wait_until("no Chromium or driver left", lambda: marked(token) == [], timeout=5)

    # Round 3: the frame's document fails. Another comment is gone meanwhile, but nothing read
    # is concluded: an error state, no deletion.
    service.frame_status = 500
    service.post(1006).deleted = True
    mark = last_change(veille)
    out = check(veille, token, "--all")
    assert comment_changes(veille, mark) == [] and "(0 partial)" in out
    state, error = source_state(veille)
    assert state == "error" and error is not None and "drew no thread" in error
    assert set(standing(veille)) == set(now)
    assert last_count(veille)[1:] == (0, 0, "error")

    # Round 4: the frame is back, but "load more" fails: the first page is read (partial), the
    # comments behind it are not deleted, and neither is the one really gone (1006 is on page 2).
    service.frame_status = 200
    service.more_status = 500
    out = check(veille, token, "--all")
    assert comment_changes(veille, mark) == [] and "(1 partial)" in out
    state, error = source_state(veille)
    assert state == "partial" and error is not None and "loading more comments failed" in error
    assert set(standing(veille)) == set(now)
    shown, read, complete, state = last_count(veille)
    assert (shown, complete, state) == (7, 0, "partial") and 0 < read < 7  # type: ignore[operator]
    wait_until("no Chromium or driver left", lambda: marked(token) == [], timeout=5)


def api_config(veille: Veille, service: DisqusSite, key: str = API_KEY) -> None:
    veille.write_config(
        f'[comments]\ndisqus_api_key = "{key}"\ndisqus_api_url = "{service.api_url}"\n\n'
        f'[[pages]]\nurl = "{service.article_url}"\n'
    )


def leaks(veille: Veille, output: str) -> list[str]:
    """Where the API key shows: the output, or any file in the folder (database, WAL…)."""
    found = ["output"] if API_KEY in output else []
    for path in veille.folder.iterdir():
        if path.is_file() and path.name != "veille.toml" and API_KEY.encode() in path.read_bytes():
            found.append(path.name)
    return found


def test_the_api_reads_every_page_and_the_key_never_leaks(service: DisqusSite, veille: Veille) -> None:
    api_config(veille, service)
    service.page_size = 3  # nine posts: three pages, by cursor
    proc = veille.run("-vv", "check", check=0)
    output = proc.stdout + proc.stderr
    assert "1 comment threads read (0 partial)" in proc.stdout, output
    assert len(standing(veille)) == 9 and standing(veille)["1009"][0] == "1008"
    assert service.asked("listPosts.json") == 3 and service.asked("embed/comments") == 0
    assert last_count(veille) == (9, 9, 1, "ok")
    assert "Launching browser" not in output  # no Chromium for a thread read by its API
    # Scrapy's DEBUG lines name each request: with the key masked.
    assert "listPosts.json?api_key=****" in output
    assert leaks(veille, output) == []

    # A payload that is not Disqus's: a clear error row, nothing changed, nothing deleted.
    service.api_mode = "html"
    service.post(1005).deleted = True
    mark = last_change(veille)
    proc = veille.run("-vv", "check", "--all", check=0)
    output = proc.stdout + proc.stderr
    state, error = source_state(veille)
    assert state == "error" and error is not None and "expected JSON, got an HTML page" in error
    assert "api_key=****" in error and last_count(veille)[1:] == (0, 0, "error")
    assert comment_changes(veille, mark) == [] and len(standing(veille)) == 9
    assert leaks(veille, output) == []

    # A wrong key: Disqus's own message, and neither key anywhere.
    service.api_mode = "ok"
    wrong = "dq-WRONG-KEY-00000000000000000000"
    api_config(veille, service, wrong)
    proc = veille.run("-vv", "check", "--all", check=0)
    output = proc.stdout + proc.stderr
    state, error = source_state(veille)
    assert state == "error" and error is not None and "Invalid API key" in error
    assert wrong not in output and leaks(veille, output) == []
    assert all(wrong.encode() not in p.read_bytes() for p in veille.folder.iterdir()
               if p.is_file() and p.name != "veille.toml")

    # The right key again: the deletion made meanwhile is found by a complete read.
    api_config(veille, service)
    veille.run("check", "--all", check=0)
    assert comment_changes(veille, mark) == [("comment_deleted", "Dev Patel")]


def test_the_key_is_read_from_the_config_and_never_shown(tmp_path: Path) -> None:
    from monitor.config import load_config
    from monitor.errors import ConfigError

    path = tmp_path / "veille.toml"
    path.write_text(f'[comments]\ndisqus_api_key = "{API_KEY}"\n', encoding="utf-8")
    config = load_config(path)
    assert config.comments.disqus_api_key == API_KEY
    assert config.comments.disqus_api_url == "https://disqus.com/api/3.0"
    assert API_KEY not in repr(config)
    path.write_text(f'[comments]\ndisqus_api_key = "{API_KEY}\\t"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_config(path)
    assert "comments.disqus_api_key" in str(bad.value) and API_KEY not in str(bad.value)
    path.write_text('[comments]\ndisqus_api_kye = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean .disqus_api_key."):
        load_config(path)
