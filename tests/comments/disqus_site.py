"""A Disqus-like comment service on a second origin, and an article that embeds it.

Two :class:`~tests.servers.http.LocalSite` servers play the parts: the news site (the article,
on ``127.0.0.1``) and Disqus (addressed as ``localhost``, another port: another origin and another
site, so Chromium puts its frame in another process, as with disqus.com). The pieces follow the
real embed:

- the article has ``<div id="disqus_thread">``, ``disqus_shortname``, a ``disqus_config`` with
  the page's URL and identifier, and loads ``embed.js`` from the Disqus origin;
- ``embed.js`` puts an iframe into ``#disqus_thread`` whose address is Disqus's
  ``/embed/comments/?f=<shortname>&t_i=<identifier>&t_u=<url>``;
- the frame's document is served with its first page of posts in
  ``<script type="text/json" id="disqus-threadData">`` and builds the thread's markup with
  JavaScript (``ul#post-list``, ``li.post#post-<id>``, replies in ``ul.children``, ``.author``,
  ``a.time-ago``, ``.post-message``, a deleted post with replies kept as a placeholder);
- "Load more comments" (``[data-action="more-posts"]``) fetches the next page from
  ``/api/3.0/threads/listPostsThreaded`` and appends it; the button hides when there is no next.

The same origin also answers Disqus's public API (``/api/3.0/threads/listPosts.json``) for the
API reader, with its key check, cursors and error answers. Faults: :attr:`DisqusSite.frame_status`
(the frame's document fails), :attr:`DisqusSite.more_status` (the "load more" XHR fails),
:attr:`DisqusSite.api_mode` (``"html"``: the API answers an HTML page).
"""

from __future__ import annotations

import html
import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.servers.http import LocalSite, SiteHandler

SHORTNAME = "veille-test"
IDENTIFIER = "budget-vote-2026"
THREAD_ID = 9100001
ARTICLE_PATH = "/news/council-budget-vote.html"
API_KEY = "dq-PUBLIC-KEY-7f3a9c2e51b84d06a1e2"


@dataclass
class Post:
    """One Disqus post as the service stores it."""

    id: int
    author: str
    message: str  # HTML, as Disqus stores it
    created: str  # ISO 8601, UTC without a zone (as Disqus gives it)
    parent: int | None = None
    deleted: bool = False

    def json(self, link: str, count: int) -> dict[str, Any]:
        """The post as Disqus's API gives it (``related=thread`` puts the thread in)."""
        username = self.author.lower().replace(" ", "_")
        return {
            "id": str(self.id),
            "parent": self.parent,
            "thread": {"id": str(THREAD_ID), "posts": count, "link": link},
            "forum": SHORTNAME,
            "author": {
                "name": "" if self.deleted else self.author,
                "username": "" if self.deleted else username,
                "isAnonymous": self.deleted,
            },
            "createdAt": self.created,
            "message": "" if self.deleted else self.message,
            "raw_message": "" if self.deleted else html.unescape(self.message),
            "isDeleted": self.deleted,
            "isSpam": False,
            "isApproved": True,
            "isEdited": False,
            "likes": 0,
            "dislikes": 0,
        }


def starting_thread() -> list[Post]:
    """Nine posts, replies among them, in the order Disqus draws them (threaded, oldest first)."""
    return [
        Post(1001, "Amina Diallo", "<p>Where does the money for the new tram line come from?</p>",
             "2026-03-02T08:15:00"),
        Post(1002, "Bruno Keller", "<p>From the transport levy, as the report says on page 12.</p>",
             "2026-03-02T08:40:00", parent=1001),
        Post(1003, "Amina Diallo", "<p>Thanks, I had missed that table.</p>",
             "2026-03-02T09:05:00", parent=1002),
        Post(1004, "Chloé Martin", "<p>The schools budget is flat <b>again</b>.</p>"
             "<p>Three years in a row now.</p>", "2026-03-02T10:00:00"),
        Post(1005, "Dev Patel", "<p>Good to see the river park funded at last.</p>",
             "2026-03-02T11:30:00"),
        Post(1006, "Eva Lindqvist", "<p>Will the council publish the vote by member?</p>",
             "2026-03-02T12:10:00"),
        Post(1007, "Farid Haddad", "<p>It did last year, on its open data site.</p>",
             "2026-03-02T12:45:00", parent=1006),
        Post(1008, "Grace O'Neill", "<p>The housing line is smaller than promised.</p>",
             "2026-03-02T14:20:00"),
        Post(1009, "Hugo Blanc", "<p>Compared with what? The 2025 plan or the manifesto?</p>",
             "2026-03-02T15:00:00", parent=1008),
    ]


@dataclass
class DisqusSite:
    """The article and the Disqus-like service, set up on two local sites."""

    news: LocalSite
    disqus: LocalSite
    posts: list[Post] = field(default_factory=starting_thread)
    page_size: int = 4  # posts per page of the frame and of the API
    frame_status: int = 200
    more_status: int = 200
    api_mode: str = "ok"  # "ok" or "html"
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        """Serve the article and the service."""
        self.news.set(ARTICLE_PATH, self.article_html())
        self.disqus.handle(f"/{SHORTNAME}/embed.js", self.serve_embed_js)
        self.disqus.handle("/embed/comments/", self.serve_frame)
        self.disqus.handle("/api/3.0/", self.serve_api, prefix=True)

    # -- addresses -----------------------------------------------------------------------------

    @property
    def article_url(self) -> str:
        """The watched page."""
        return self.news.url(ARTICLE_PATH)

    @property
    def origin(self) -> str:
        """Disqus's origin: ``localhost``, another site than the article's ``127.0.0.1``."""
        return f"http://localhost:{self.disqus.port}"

    @property
    def api_url(self) -> str:
        """The API base, for ``[comments] disqus_api_url``."""
        return f"{self.disqus.base_url}/api/3.0"

    def asked(self, endpoint: str) -> int:
        """Requests so far to one API endpoint (``listPostsThreaded``, ``listPosts``)."""
        with self.lock:
            return sum(1 for path in self.requests if f"/{endpoint}" in path)

    # -- the thread ----------------------------------------------------------------------------

    def post(self, post_id: int) -> Post:
        """The stored post with this id."""
        return next(p for p in self.posts if p.id == post_id)

    def visible(self) -> list[Post]:
        """Posts drawn, threaded: deleted ones only as placeholders above their replies."""
        has_replies = {p.parent for p in self.posts if not p.deleted}
        return [p for p in self.posts if not p.deleted or p.id in has_replies]

    def count(self) -> int:
        """The thread's count: its public posts."""
        return sum(1 for p in self.posts if not p.deleted)

    def page(self, number: int) -> tuple[list[Post], bool]:
        """(posts of page ``number``, whether a next page exists)."""
        drawn = self.visible()
        start = number * self.page_size
        return drawn[start : start + self.page_size], start + self.page_size < len(drawn)

    # -- pages ---------------------------------------------------------------------------------

    def article_html(self) -> str:
        """The article, with the real embed code (shortname, config, embed.js)."""
        paragraphs = "".join(f"<p>{text}</p>" for text in ARTICLE_PARAGRAPHS)
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Council passes the 2026 budget</title></head>
<body><main><article><h1>Council passes the 2026 budget after a late-night session</h1>
<p class="byline">By Nora Quint</p>{paragraphs}</article>
<section id="comments"><h2>Comments</h2><div id="disqus_thread"></div>
<script>
var disqus_shortname = '{SHORTNAME}';
var disqus_config = function () {{
  this.page.url = '{self.article_url}';
  this.page.identifier = '{IDENTIFIER}';
}};
(function() {{
  var d = document, s = d.createElement('script');
  s.src = '{self.origin}/{SHORTNAME}/embed.js';
  s.setAttribute('data-timestamp', +new Date());
  (d.head || d.body).appendChild(s);
}})();
</script>
<noscript>Please enable JavaScript to view the comments powered by Disqus.</noscript>
</section></main></body></html>
"""

    def serve_embed_js(self, handler: SiteHandler) -> None:
        """``embed.js``: the thread's iframe, in ``#disqus_thread``."""
        script = f"""(function () {{
  var config = {{page: {{}}}};
  if (window.disqus_config) {{ window.disqus_config.call(config); }}
  var host = document.getElementById('disqus_thread');
  var frame = document.createElement('iframe');
  frame.id = 'dsq-app2077'; frame.name = frame.id; frame.title = 'Disqus';
  frame.setAttribute('frameborder', '0'); frame.setAttribute('scrolling', 'no');
  frame.style.width = '100%'; frame.style.height = '900px'; frame.style.border = 'none';
  frame.src = '{self.origin}/embed/comments/?base=default&f=' + encodeURIComponent(window.disqus_shortname)
    + '&t_i=' + encodeURIComponent(config.page.identifier) + '&t_u=' + encodeURIComponent(config.page.url)
    + '&s_o=default#version=4b6c2a';
  host.appendChild(frame);
}})();
"""
        _send(handler, 200, script.encode(), "application/javascript; charset=utf-8")

    def serve_frame(self, handler: SiteHandler) -> None:
        """The frame's document: threadData with the first page, and the app that draws it."""
        with self.lock:
            self.requests.append(handler.path)
        if self.frame_status != 200:
            body = b"<!doctype html><html><body><h1>We are experiencing problems</h1></body></html>"
            return _send(handler, self.frame_status, body, "text/html; charset=utf-8")
        query = {k: v[-1] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        link = query.get("t_u", self.article_url)
        first, more = self.page(0)
        count = self.count()
        data = {
            "code": 0,
            "cursor": {"hasNext": more, "next": "1" if more else None, "hasPrev": False,
                       "prev": None, "total": len(self.visible())},
            "response": {
                "thread": {"id": str(THREAD_ID), "posts": count, "link": link,
                           "identifiers": [query.get("t_i", IDENTIFIER)], "forum": SHORTNAME},
                "posts": [p.json(link, count) for p in first],
                "order": "asc",
                "forum": {"id": SHORTNAME, "name": "Veille test"},
            },
        }
        thread_data = json.dumps(data).replace("</", "<\\/")
        page = FRAME_HTML.replace("%THREAD_DATA%", thread_data).replace(
            "%API%", f"{self.origin}/api/3.0/threads/listPostsThreaded"
        )
        _send(handler, 200, page.encode(), "text/html; charset=utf-8")

    def serve_api(self, handler: SiteHandler) -> None:
        """``listPostsThreaded`` (the frame's "load more") and ``listPosts.json`` (the API)."""
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self.lock:
            self.requests.append(handler.path)
        cursor = query.get("cursor") or "0"
        number = int(cursor) if cursor.isdigit() else 0
        posts, more = self.page(number)
        link = self.article_url
        count = self.count()
        answer = {
            "code": 0,
            "cursor": {"hasNext": more, "next": str(number + 1) if more else None,
                       "hasPrev": number > 0, "prev": str(number - 1) if number else None},
            "response": [p.json(link, count) for p in posts],
        }
        if parts.path.endswith("/threads/listPostsThreaded"):
            if self.more_status != 200:
                return _send_json(handler, {"code": 15, "response": "Internal error"},
                                  self.more_status)
            return _send_json(handler, answer, cors=True)
        if parts.path.endswith("/threads/listPosts.json"):
            if query.get("api_key") != API_KEY:
                return _send_json(handler, {"code": 5, "response": "Invalid API key"}, 400)
            if query.get("forum") != SHORTNAME or query.get("thread:ident") != IDENTIFIER:
                return _send_json(
                    handler, {"code": 2, "response": "Invalid argument, 'thread': Unable to find "
                              "thread"}, 400)
            if self.api_mode == "html":
                body = b"<!doctype html><html><body><h1>Disqus is down for maintenance</h1></body></html>"
                return _send(handler, 200, body, "text/html; charset=utf-8")
            return _send_json(handler, answer)
        _send_json(handler, {"code": 1, "response": "Endpoint not valid"}, 404)


def _send_json(
    handler: SiteHandler, data: dict[str, Any], status: int = 200, *, cors: bool = False
) -> None:
    headers = {"Access-Control-Allow-Origin": "*"} if cors else {}
    _send(handler, status, json.dumps(data).encode(), "application/json", headers)


def _send(
    handler: SiteHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Cache-Control", "no-store")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


ARTICLE_PARAGRAPHS = (
    (
        "The city council passed its 2026 budget shortly after midnight on Tuesday, after a "
        "session that ran more than nine hours and saw four amendments rejected."
    ),
    (
        "The budget raises spending on public transport by eleven percent, most of it for the "
        "first section of the new tram line between the station and the hospital district."
    ),
    (
        "Schools receive the same amount as last year, which opposition members said amounted to "
        "a cut once inflation and the new classrooms opened in September are taken into account."
    ),
    (
        "The river park, promised in two previous budgets, is funded for the first time, with "
        "work expected to begin in the spring and last about eighteen months."
    ),
)

# The frame's document: Disqus's markup, drawn by its app from threadData and "load more".
FRAME_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Disqus Comments</title></head>
<body>
<script type="text/json" id="disqus-threadData">%THREAD_DATA%</script>
<div id="layout" data-tracking-area="layout"><div id="main-nav"></div></div>
<script>
(function () {
  var data = JSON.parse(document.getElementById('disqus-threadData').textContent);
  var thread = data.response.thread;
  function esc(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  }
  function tooltip(iso) {
    return new Date(iso + 'Z').toLocaleString('en-US', {weekday: 'long', year: 'numeric',
      month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit'});
  }
  function draw(post) {
    var li = document.createElement('li');
    li.className = 'post';
    li.id = 'post-' + post.id;
    var inner;
    if (post.isDeleted) {
      inner = '<div class="post-message" data-role="message">This comment was deleted.</div>';
    } else {
      inner = '<header class="comment__header"><span class="post-byline">'
        + '<span class="author publisher-anchor-color"><a href="https://disqus.com/by/'
        + esc(post.author.username) + '/" data-action="profile" data-username="'
        + esc(post.author.username) + '">' + esc(post.author.name) + '</a></span></span>'
        + '<span class="post-meta"><span class="bullet time-ago-bullet" aria-hidden="true">•</span> '
        + '<a href="' + esc(thread.link) + '#comment-' + post.id + '" data-role="relative-time" '
        + 'class="time-ago" title="' + esc(tooltip(post.createdAt)) + '">a day ago</a></span></header>'
        + '<div class="post-body-inner"><div class="post-message-container" data-role="message-container">'
        + '<div class="publisher-anchor-color" data-role="message-content">'
        + '<div class="post-message " data-role="message" dir="auto">' + post.message + '</div>'
        + '</div></div></div>'
        + '<footer class="comment__footer"><menu class="comment-footer__menu">'
        + '<li class="voting"><a href="#" class="vote-up" title="Vote up"><span class="updatable count">0</span></a></li>'
        + '<li class="reply" data-role="reply-link"><a href="#" data-action="reply"><span class="text">Reply</span></a></li>'
        + '</menu></footer>';
    }
    li.innerHTML = '<div role="alert"></div><div class="post-content' + (post.isDeleted ? ' deleted' : '')
      + '" data-role="post-content"><div class="avatar hovercard"><a class="user" data-action="profile">'
      + '<img data-role="user-avatar" alt="Avatar" src="/avatar92.png"></a></div>'
      + '<div class="post-body">' + inner + '</div></div>'
      + '<ul data-role="children" class="children"></ul>';
    var parent = post.parent && document.getElementById('post-' + post.parent);
    var list = parent ? parent.querySelector('ul.children') : document.getElementById('post-list');
    list.appendChild(li);
  }
  var layout = document.getElementById('layout');
  layout.insertAdjacentHTML('beforeend',
    '<nav class="nav nav-primary"><ul><li class="nav-tab nav-tab--primary tab-conversation active">'
    + '<a class="publisher-nav-color" data-nav="conversation"><span class="comment-count">'
    + thread.posts + ' comments</span></a></li></ul></nav>'
    + '<section id="conversation" data-role="main"><div id="posts"><div id="form"></div>'
    + '<ul id="post-list" class="post-list"></ul>'
    + '<div class="load-more" data-role="more"><a href="#" data-action="more-posts" '
    + 'class="btn load-more__button">Load more comments</a></div></div></section>');
  var more = layout.querySelector('.load-more');
  var cursor = data.cursor;
  // Drawn a moment after load, as Disqus's app does once its bundle has run.
  setTimeout(function () {
    data.response.posts.forEach(draw);
    more.style.display = cursor.hasNext ? '' : 'none';
  }, 30);
  more.style.display = 'none';
  more.querySelector('a').addEventListener('click', function (event) {
    event.preventDefault();
    var button = this;
    button.classList.add('busy');
    fetch('%API%?thread=' + thread.id + '&forum=' + thread.forum + '&cursor=' + cursor.next
          + '&order=asc&limit=4')
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
      .then(function (page) {
        setTimeout(function () {
          page.response.forEach(draw);
          cursor = page.cursor;
          more.style.display = cursor.hasNext ? '' : 'none';
          button.classList.remove('busy');
        }, 20);
      })
      .catch(function () { button.classList.remove('busy'); });
  });
})();
</script>
</body></html>
"""
