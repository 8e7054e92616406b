"""End to end through ``veille check``: inline comments (config selectors, WordPress markup,
JSON-LD), the WordPress REST API with its pages, and a Disqus embed whose frame never loads."""

from __future__ import annotations

import html
import json
import threading
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.comments import clubic

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite, SiteHandler

PAGE = "/actualite/microsoft-police.html"
SELECTORS = """
[pages.comment_selectors]
container = "#comments"
item = "div.forum-post"
author = ".post-author"
date = "time"
text = ".post-body"
"""


def comment_changes(veille: Veille, after: int = 0) -> list[tuple[str, str | None]]:
    rows = veille.db().execute(
        "SELECT kind, comment_author FROM change_feed WHERE comment_id IS NOT NULL "
        "AND change_id > ? ORDER BY change_id", [after],
    ).fetchall()
    return sorted((str(k), a) for k, a in rows)


def last_change(veille: Veille) -> int:
    return int(veille.db().execute("SELECT COALESCE(MAX(id), 0) FROM changes").fetchone()[0])


def standing(veille: Veille) -> int:
    return int(veille.db().execute(
        "SELECT COUNT(*) FROM comment_threads WHERE deleted_at IS NULL").fetchone()[0])


@pytest.fixture
def seed() -> clubic.SeedArticle:
    return clubic.load_seed()


def test_inline_comments_by_selectors_without_ids(site: LocalSite, veille: Veille, seed: clubic.SeedArticle) -> None:
    forum = clubic.Forum.from_seed(seed)  # only as a store of posts: nothing links the forum
    posts = forum.comments()

    def publish(shown: int | None = None) -> None:
        site.set(PAGE, clubic.article_html(
            seed, posts=posts, forum_url=None, with_ids=False,
            shown=len(posts) if shown is None else shown,
        ))

    publish()
    veille.write_config(extra=f'[[pages]]\nurl = "{site.url(PAGE)}"\ncomments = ["inline"]\n{SELECTORS}')
    veille.run("check", check=0)
    assert comment_changes(veille) == [] and standing(veille) == 24
    keys = [k for (k,) in veille.db().execute("SELECT key FROM comments ORDER BY id")]
    assert all(k.startswith("h") for k in keys) and len(set(keys)) == 24  # hashes: no ids here
    assert veille.db().execute("SELECT kind, origin, detail FROM comment_sources").fetchone() == (
        "inline", "config", '{"method": "selectors"}')

    # Reordered (newest first): the same comments, the same keys, nothing recorded.
    posts.reverse()
    publish()
    veille.run("check", "--all", check=0)
    assert comment_changes(veille) == []
    assert sorted(k for (k,) in veille.db().execute("SELECT key FROM comments")) == sorted(keys)

    # One new at the end, one edited near its end (its key holds), one deleted.
    posts.reverse()
    cyrano = next(p for p in posts if p.username == "cyrano66")
    cyrano.paragraphs[-1] = cyrano.paragraphs[-1].replace("jamais abrogée", "jamais abrogé")
    posts.remove(next(p for p in posts if p.username == "keyplus"))
    posts.append(clubic.Post(1, 26, "Ergo", ["Article très clair, merci."], "2020-06-10T19:00:00.000Z"))
    publish()
    mark = last_change(veille)
    veille.run("check", "--all", check=0)
    assert comment_changes(veille, mark) == [
        ("comment_deleted", "keyplus"), ("comment_edited", "cyrano66"), ("comment_new", "Ergo"),
    ]

    # The page now prints only part of its thread (it says 40): what it leaves out is not gone.
    posts.pop(0)
    publish(shown=40)
    mark = last_change(veille)
    out = veille.run("check", "--all", check=0)
    assert "(1 partial)" in out.stdout
    assert comment_changes(veille, mark) == [] and standing(veille) == 24
    row = veille.db().execute("SELECT shown, read, gap, state, error FROM comment_counts_readable ORDER BY id DESC").fetchone()
    assert row == (40, 23, 17, "partial", "the page prints 23 of its 40 comments")


def _section(markup: str, seed: clubic.SeedArticle, head: str = "") -> str:
    page = clubic.article_html(seed, posts=[], forum_url=None, shown=None)
    page = page.replace("</head>", head + "</head>")
    start = page.index('<section id="comments"')
    end = page.index("</section>", start) + len("</section>")
    return page[:start] + markup + page[end:]


def wordpress_markup(comments: list[tuple[int, str, str, int]], total: int | None = None) -> str:
    """WordPress's classic comment list: (id, author, text, parent id or 0)."""
    def item(cid: int, who: str, text: str) -> str:
        replies = "".join(item(c, w, t) for c, w, t, p in comments if p == cid)
        children = f'<ul class="children">{replies}</ul>' if replies else ""
        return (
            f'<li id="comment-{cid}" class="comment even depth-1"><article id="div-comment-{cid}" '
            f'class="comment-body"><footer class="comment-meta"><div class="comment-author vcard">'
            f'<b class="fn">{html.escape(who)}</b> <span class="says">dit :</span></div>'
            f'<div class="comment-metadata"><a href="#comment-{cid}"><time datetime="2020-06-10T10:{cid % 60:02d}:00+02:00">'
            f"10 juin 2020</time></a></div></footer><div class=\"comment-content\"><p>{html.escape(text)}</p>"
            f'</div><div class="reply"><a class="comment-reply-link" href="?replytocom={cid}">Répondre</a>'
            f"</div></article>{children}</li>"
        )
    top = "".join(item(c, w, t) for c, w, t, p in comments if p == 0)
    return (f'<div id="comments" class="comments-area"><h2 class="comments-title">{total or len(comments)} '
            f'réflexions sur « Microsoft »</h2><ol class="comment-list">{top}</ol></div>')


def jsonld_markup(comments: list[tuple[int, str, str, int]]) -> str:
    def node(cid: int, who: str, text: str) -> dict[str, object]:
        replies = [node(c, w, t) for c, w, t, p in comments if p == cid]
        return {"@type": "Comment", "@id": f"#c{cid}", "author": {"@type": "Person", "name": who},
                "dateCreated": "2020-06-10T10:00:00+02:00", "text": text, "comment": replies}
    data = {"@context": "https://schema.org", "@type": "DiscussionForumPosting",
            "headline": "Microsoft", "commentCount": len(comments),
            "comment": [node(c, w, t) for c, w, t, p in comments if p == 0]}
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


@pytest.mark.parametrize("markup", ["wordpress", "jsonld"])
def test_inline_markup_found_automatically(site: LocalSite, veille: Veille, seed: clubic.SeedArticle, markup: str) -> None:
    comments = [(10, "Azarcal", "Carrément.", 0), (11, "kevvvv", "Une minorité.", 10),
                (12, "Wen84", "Ridicule.", 0), (13, "Droz", "2153 personnes.", 12)]

    def publish() -> None:
        if markup == "wordpress":
            site.set(PAGE, _section(wordpress_markup(comments), seed))
        else:
            site.set(PAGE, _section("<section></section>", seed, head=jsonld_markup(comments)))

    publish()
    veille.run("add", site.url(PAGE), check=0)
    veille.run("check", check=0)
    rows = veille.db().execute(
        "SELECT key, author, parent_key, text FROM comment_threads ORDER BY comment_id").fetchall()
    prefix = "" if markup == "wordpress" else "#c"
    assert rows[1] == (f"{prefix}11", "kevvvv", f"{prefix}10", "Une minorité.")
    assert len(rows) == 4 and comment_changes(veille) == []
    comments[:] = [c for c in comments if c[0] != 12 and c[3] != 12] + [(14, "Ergo", "Merci.", 10)]
    comments[0] = (10, "Azarcal", "Carrément, oui.", 0)
    publish()
    veille.run("check", "--all", check=0)
    assert comment_changes(veille) == [
        ("comment_deleted", "Droz"), ("comment_deleted", "Wen84"), ("comment_edited", "Azarcal"),
        ("comment_new", "Ergo"),
    ]


class RestApi:
    """``/wp-json/wp/v2/comments``: pages of 100, oldest first, with X-WP-Total headers."""

    def __init__(self, n: int) -> None:
        self.comments = [
            {"id": 100 + i, "post": 4, "parent": 100 + i - 1 if i % 7 == 6 else 0,
             "author_name": f"lecteur{i}", "date": "2020-06-10T10:00:00",
             "date_gmt": "2020-06-10T08:00:00", "content": {"rendered": f"<p>Commentaire {i}.</p>\n"},
             "link": f"http://example.org/?p=4#comment-{100 + i}", "status": "approved",
             "type": "comment"}
            for i in range(n)
        ]
        self.status = 200
        self.fail_page: int | None = None
        self.asked: list[dict[str, list[str]]] = []
        self.lock = threading.Lock()

    def serve(self, handler: SiteHandler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        with self.lock:
            self.asked.append(query)
        page, per = int(query["page"][0]), int(query["per_page"][0])
        ordered = sorted(self.comments, key=lambda c: int(c["id"]))  # type: ignore[arg-type]
        status = 500 if page == self.fail_page else self.status
        body = json.dumps(ordered[(page - 1) * per: page * per] if status == 200 else
                          {"code": "rest_forbidden", "message": "Sorry"}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("X-WP-Total", str(len(ordered)))
        handler.send_header("X-WP-TotalPages", str(-(-len(ordered) // per)))
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def test_wordpress_rest_api_all_pages(site: LocalSite, veille: Veille, seed: clubic.SeedArticle) -> None:
    api = RestApi(230)
    site.handle("/wp-json/wp/v2/comments", api.serve, prefix=True)
    head = (f'<link rel="https://api.w.org/" href="{site.url("/wp-json/")}">'
            f'<link rel="shortlink" href="{site.url("/?p=4")}">')
    printed = [(int(c["id"]), str(c["author_name"]), f"Commentaire {int(c['id']) - 100}.", 0)  # type: ignore[call-overload]
               for c in api.comments[:12]]
    site.set(PAGE, _section(wordpress_markup(printed, total=230), seed, head=head))
    veille.run("add", site.url(PAGE), check=0)
    veille.run("check", check=0)
    assert standing(veille) == 230 and len(api.asked) == 3
    assert all(q["post"] == ["4"] and q["orderby"] == ["id"] and q["per_page"] == ["100"] for q in api.asked)
    sources = veille.db().execute("SELECT kind, url FROM comment_sources").fetchall()
    assert sources == [("wordpress", site.url("/wp-json/wp/v2/comments?post=4"))]  # inline left out
    assert veille.db().execute("SELECT parent_key FROM comments WHERE key = '106'").fetchone() == ("105",)

    api.comments.append({**api.comments[0], "id": 400, "author_name": "nouveau", "parent": 0})
    api.comments[5]["content"] = {"rendered": "<p>Commentaire 5, corrigé.</p>"}
    api.comments = [c for c in api.comments if c["id"] != 150]
    veille.run("check", "--all", check=0)
    assert comment_changes(veille) == [
        ("comment_deleted", "lecteur50"), ("comment_edited", "lecteur5"), ("comment_new", "nouveau"),
    ]

    # Page 2 fails: another deletion must wait for a complete read.
    mark = last_change(veille)
    api.comments = [c for c in api.comments if c["id"] != 120]
    api.fail_page = 2
    out = veille.run("check", "--all", check=0)
    assert "(1 partial)" in out.stdout and comment_changes(veille, mark) == []
    api.fail_page = None
    veille.run("check", "--all", check=0)
    assert comment_changes(veille, mark) == [("comment_deleted", "lecteur20")]

    # The site closes its REST API (and its page changes): the comments printed in the page
    # stand in, nothing is deleted.
    mark = last_change(veille)
    api.status = 401
    site.set(PAGE, _section(wordpress_markup(printed[:11], total=229), seed, head=head))
    out = veille.run("check", "--all", check=0)
    assert comment_changes(veille, mark) == []
    states = dict(veille.db().execute("SELECT kind, last_state FROM comment_sources").fetchall())
    assert states == {"wordpress": "partial", "inline": "partial"}  # inline: 12 of 230 printed


def test_disqus_thread_whose_frame_never_loads_is_an_error_not_a_deletion(
    site: LocalSite, veille: Veille, seed: clubic.SeedArticle
) -> None:
    embed = (
        '<div id="disqus_thread"></div><script>var disqus_config = function () {'
        "this.page.identifier = 'microsoft-police-24480';};(function() {var d = document, "
        "s = d.createElement('script'); s.src = 'https://clubic-test.disqus.com/embed.js';"
        "(d.head || d.body).appendChild(s);})();</script>"
    )
    site.set(PAGE, _section(f'<section id="comments"><h2>12 commentaires</h2>{embed}</section>', seed))
    # Disqus's script never arrives (its host blocked): the frame never appears.
    veille.write_config('[browser]\ntimeout = "2s"\nblock_hosts = ["disqus.com"]\n')
    veille.run("add", site.url(PAGE), check=0)
    out = veille.run("check", check=0)
    assert "0 errors" in out.stdout and "1 comment threads read" in out.stdout
    row = veille.db().execute("SELECT kind, detail, last_state, last_error FROM comment_sources").fetchone()
    assert row[0] == "disqus" and json.loads(row[1]) == {
        "identifier": "microsoft-police-24480", "shortname": "clubic-test"}
    assert row[2] == "error" and "no Disqus frame" in row[3]
    assert veille.db().execute("SELECT shown, read, complete, state FROM comment_counts").fetchone() == (
        12, 0, 0, "error")
    assert comment_changes(veille) == []
