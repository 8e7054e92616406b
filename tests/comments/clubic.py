"""A local replica of the Clubic article of the seed, and its thread as a Discourse topic.

The seed (``shared/seeds/000_37d1ed0c9e451028.txt``, read in place) is the text of a Clubic
article of 10 June 2020 with its reader comments: the page says « Commentaires (26) » and prints
24 of them, then « Voir tous les messages sur le forum ». Clubic's forum runs Discourse: the
comments under the article are the posts of a forum topic.

- :func:`load_seed` reads the article and its 24 comments (authors, paragraphs);
- :class:`Forum` serves the topic as Discourse does (``/t/<slug>/<id>.json`` with the first
  posts and the whole ``post_stream.stream``; ``/t/<id>/posts.json?post_ids[]=…``), and lets a
  test add, edit, delete and reorder posts, change the paging, or make one request fail;
- :func:`article_html` renders the article page with its comments printed in it.
"""

from __future__ import annotations

import html
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.servers.http import LocalSite, SiteHandler

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_37d1ed0c9e451028.txt"
TOPIC_ID = 24480
SLUG = "des-employes-de-microsoft-demandent-a-lentreprise-de-cesser-de-collaborer-avec-la-police"
FIRST_POST_ID = 1_700_000
# Who answers whom in the seed (by comment index): « Je partage ton avis », « Et ? Quel rapport »…
REPLIES = {5: 4, 7: 6, 9: 7, 10: 9, 12: 10, 15: 14, 17: 16, 21: 19, 22: 16, 23: 15}


@dataclass(frozen=True)
class SeedArticle:
    """The article of the seed."""

    title: str
    date: str
    standfirst: str
    points: list[str]
    author: str
    bio: str
    comments: list[tuple[str, list[str]]]  # (author, paragraphs)


def load_seed() -> SeedArticle:
    """Read the seed: title, date, standfirst, the three points, author, comments."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    title, date = lines[0].strip(), lines[2].strip()
    standfirst = lines[6].strip()
    points = [line.strip().lstrip("•").strip() for line in lines if line.startswith("  •")]
    author = lines[16].strip()
    bio = lines[18].strip()
    start = lines.index("Commentaires (26)") + 1
    end = lines.index("Voir tous les messages sur le forum")
    block = [line for line in lines[start:end] if line.strip()]
    comments = []
    for who, text in zip(block[0::2], block[1::2], strict=True):
        text = html.unescape(text)
        paragraphs = [p.strip() for p in re.split(r"<br\s*/?>", text) if p.strip()]
        comments.append((who.strip(), paragraphs))
    return SeedArticle(title, date, standfirst, points, author, bio, comments)


@dataclass
class Post:
    """One forum post."""

    id: int
    number: int
    username: str
    paragraphs: list[str]
    created_at: str
    reply_to: int | None = None  # post number
    version: int = 1
    user_deleted: bool = False

    def cooked(self) -> str:
        """The post's HTML, as Discourse renders it."""
        return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in self.paragraphs)

    def text(self) -> str:
        """The text veille should read (normalised paragraphs)."""
        return "\n\n".join(" ".join(p.split()) for p in self.paragraphs)


@dataclass
class Forum:
    """A Discourse topic served under ``prefix`` of a local site."""

    posts: list[Post]
    prefix: str = "/forum"
    topic_chunk: int = 20  # posts included in the topic JSON
    max_per_request: int | None = None  # a forum that returns shorter chunks than asked
    reverse: bool = False  # posts.json answers in reverse order
    fail_when_asked: set[int] = field(default_factory=set)  # a 500 for a chunk holding these ids
    html_instead: bool = False  # a 200 HTML page where JSON is expected
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_seed(cls, seed: SeedArticle) -> Forum:
        """The topic: an opening post (the article), then the seed's comments as posts."""
        start = datetime(2020, 6, 10, 6, 22, tzinfo=UTC)
        opening = Post(
            FIRST_POST_ID, 1, "Clubic",
            [f"Ceci est un sujet de discussion d'accompagnement pour l'entrée originale : {seed.title}"],
            _iso(start),
        )
        posts = [opening]
        for index, (who, paragraphs) in enumerate(seed.comments):
            reply = REPLIES.get(index)
            posts.append(
                Post(
                    FIRST_POST_ID + 3 * (index + 1), index + 2, who, list(paragraphs),
                    _iso(start + timedelta(minutes=17 * (index + 1))),
                    reply_to=reply + 2 if reply is not None else None,
                )
            )
        return cls(posts)

    # -- what a test changes ---------------------------------------------------------------

    def add(self, username: str, text: str, reply_to: int | None = None) -> Post:
        """A new post at the end of the topic."""
        last = max(self.posts, key=lambda p: p.number)
        created = datetime.fromisoformat(last.created_at) + timedelta(minutes=9)
        post = Post(max(p.id for p in self.posts) + 7, last.number + 1, username, [text],
                    _iso(created), reply_to=reply_to)
        self.posts.append(post)
        return post

    def edit(self, number: int, paragraphs: list[str]) -> Post:
        """Edit a post (its version goes up, as Discourse does)."""
        post = self.by_number(number)
        post.paragraphs = paragraphs
        post.version += 1
        return post

    def delete(self, number: int) -> Post:
        """Delete a post: it leaves the stream (what readers see of a deleted post)."""
        post = self.by_number(number)
        self.posts.remove(post)
        return post

    def by_number(self, number: int) -> Post:
        """The post with this number."""
        return next(p for p in self.posts if p.number == number)

    def comments(self) -> list[Post]:
        """The posts that are comments (all but the opening post)."""
        return [p for p in self.posts if p.number > 1]

    # -- serving ---------------------------------------------------------------------------

    def install(self, site: LocalSite) -> None:
        """Serve the topic under ``prefix`` of ``site``."""
        site.handle(f"{self.prefix}/t/", self.serve, prefix=True)

    def topic_url(self, site: LocalSite) -> str:
        """The topic's address, as the article links it."""
        return site.url(f"{self.prefix}/t/{SLUG}/{TOPIC_ID}")

    def asked(self, kind: str) -> int:
        """Requests so far: ``topic`` or ``posts``."""
        with self.lock:
            return sum(1 for path in self.requests if ("posts.json" in path) == (kind == "posts"))

    def serve(self, handler: SiteHandler) -> None:
        """Answer a topic or posts request."""
        parts = urlsplit(handler.path)
        path = parts.path[len(self.prefix):]
        with self.lock:
            self.requests.append(handler.path)
        if self.html_instead:
            return _send(handler, 200, b"<html><body>Maintenance</body></html>", "text/html")
        if path.endswith("/posts.json"):
            ids = [int(i) for i in parse_qs(parts.query).get("post_ids[]", []) if i.isdigit()]
            if self.fail_when_asked & set(ids):
                return _send(handler, 500, b'{"errors":["internal"]}', "application/json")
            return _send_json(handler, self.posts_json(ids))
        if re.fullmatch(rf"/t/(?:[^/]+/)?{TOPIC_ID}\.json", path):
            return _send_json(handler, self.topic_json())
        return _send(handler, 404, b'{"errors":["not found"]}', "application/json")

    def posts_json(self, ids: list[int]) -> dict[str, Any]:
        """``/t/<id>/posts.json?post_ids[]=…``."""
        wanted = [p for p in self.ordered() if p.id in ids]
        if self.max_per_request is not None:
            wanted = wanted[: self.max_per_request]
        if self.reverse:
            wanted = wanted[::-1]
        return {"post_stream": {"posts": [self.post_json(p) for p in wanted]}, "id": TOPIC_ID}

    def topic_json(self) -> dict[str, Any]:
        """``/t/<slug>/<id>.json``: the first posts and the whole stream."""
        ordered = self.ordered()
        first = ordered[: self.topic_chunk]
        if self.reverse:
            first = first[::-1]
        return {
            "post_stream": {
                "posts": [self.post_json(p) for p in first],
                "stream": [p.id for p in ordered],
            },
            "id": TOPIC_ID,
            "title": "Des employés de Microsoft demandent à l'entreprise de cesser de collaborer avec la police",
            "fancy_title": "Des employés de Microsoft demandent à l’entreprise de cesser de collaborer avec la police",
            "slug": SLUG,
            "posts_count": len(ordered),
            "highest_post_number": max(p.number for p in ordered),
            "chunk_size": self.topic_chunk,
            "archetype": "regular",
            "deleted_at": None,
        }

    def ordered(self) -> list[Post]:
        """The posts in topic order."""
        return sorted(self.posts, key=lambda p: p.number)

    def post_json(self, post: Post) -> dict[str, Any]:
        """One post, with the fields Discourse sends (as in the corpus payloads)."""
        return {
            "id": post.id,
            "name": None,
            "username": post.username,
            "avatar_template": f"/user_avatar/forum.clubic.com/{post.username.lower()}/{{size}}/1_2.png",
            "created_at": post.created_at,
            "cooked": post.cooked(),
            "post_number": post.number,
            "post_type": 1,
            "posts_count": len(self.posts),
            "updated_at": post.created_at,
            "reply_count": 0,
            "reply_to_post_number": post.reply_to,
            "quote_count": 0,
            "topic_id": TOPIC_ID,
            "topic_slug": SLUG,
            "version": post.version,
            "deleted_at": None,
            "user_deleted": post.user_deleted,
            "hidden": False,
            "post_url": f"{self.prefix}/t/{SLUG}/{TOPIC_ID}/{post.number}",
        }


def article_html(
    seed: SeedArticle,
    *,
    posts: list[Post],
    forum_url: str | None,
    shown: int | None = 26,
    with_ids: bool = True,
) -> str:
    """The Clubic article page with ``posts`` printed under it (and the forum link)."""
    items = []
    for post in posts:
        body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in post.paragraphs)
        post_id = f' data-post-id="{post.id}"' if with_ids else ""
        items.append(
            f'<div class="forum-post"{post_id}>\n'
            f'  <div class="post-header"><span class="post-author">{html.escape(post.username)}</span>\n'
            f'  <time datetime="{post.created_at}">{_display(post.created_at)}</time></div>\n'
            f'  <div class="post-body">{body}</div>\n'
            f"</div>\n"
        )
    heading = f"Commentaires ({shown})" if shown is not None else "Commentaires"
    link = f'<a class="forum-link" href="{forum_url}">Voir tous les messages sur le forum</a>' if forum_url else ""
    points = "".join(f"<li>{html.escape(p, quote=False)}</li>" for p in seed.points)
    ld = json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": seed.title,
        "datePublished": "2020-06-10T08:22:00+02:00", "dateModified": "2020-06-10T08:22:00+02:00",
        "author": {"@type": "Person", "name": seed.author}, "inLanguage": "fr-FR",
    }, ensure_ascii=False)
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>{html.escape(seed.title)} - Clubic</title>
<meta property="og:title" content="{html.escape(seed.title)}">
<meta property="article:published_time" content="2020-06-10T08:22:00+02:00">
<meta name="author" content="{html.escape(seed.author)}">
<script type="application/ld+json">{ld}</script>
</head><body class="article-page">
<header class="site-header"><nav><a href="/">Clubic</a> <a href="/actualites/">Actualités</a>
<a href="/forum/">Forum</a> <a href="/bons-plans/">Bons plans</a></nav></header>
<main>
<article class="article">
<h1>{html.escape(seed.title)}</h1>
<div class="article-meta"><time datetime="2020-06-10T08:22:00+02:00">{html.escape(seed.date)}</time>
<a class="comment-count" href="#comments">{shown if shown is not None else ""}</a>
<span class="tag">Satya Nadella</span></div>
<p class="standfirst">{html.escape(seed.standfirst, quote=False)}</p>
<h2>En quelques mots :</h2>
<ul class="key-points">{points}</ul>
<div class="author-box"><span class="author-name">{html.escape(seed.author)}</span>
<p>{html.escape(seed.bio, quote=False)}</p><a href="/auteur/">Lire d'autres articles</a></div>
</article>
<aside class="community"><p>Rejoignez la communauté Clubic</p><a href="/inscription">S'inscrire</a></aside>
<section id="comments" class="comments-section">
<h2 class="comments-title">{heading}</h2>
{"".join(items)}
{link}
</section>
</main>
<footer><a href="#top">Haut de page</a><p>Sur le même sujet</p></footer>
</body></html>
"""


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _display(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return moment.strftime("%d/%m/%Y à %Hh%M")


def _send_json(handler: SiteHandler, data: object) -> None:
    _send(handler, 200, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")


def _send(handler: SiteHandler, status: int, body: bytes, content_type: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
