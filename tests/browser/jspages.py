"""Pages whose article exists only once JavaScript has run (for tests and bench/browser.py)."""

from __future__ import annotations

import json

HANGS = "<!doctype html><html><head><title>Hangs</title></head><body><script>while(true){}</script></body></html>"


def js_article(
    title: str, paragraphs: list[str], *, delay_ms: int = 30, comments: str = ""
) -> str:
    """A page with an empty shell; a script builds the article (and ``comments``, HTML).

    The text travels base64-encoded, so a plain fetch sees no article words at all.
    """
    import base64

    payload = {"t": title, "p": paragraphs, "c": comments}
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Loading</title></head>
<body><div id="app">Loading…</div>
<img src="/img/big.jpg" alt="">
<script>
setTimeout(function () {{
  var d = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob("{data}"), c => c.charCodeAt(0))));
  var a = document.createElement("article");
  var h = document.createElement("h1"); h.textContent = d.t; a.appendChild(h);
  d.p.forEach(function (t) {{ var p = document.createElement("p"); p.textContent = t; a.appendChild(p); }});
  document.getElementById("app").replaceWith(a);
  if (d.c) {{ var c = document.createElement("div"); c.innerHTML = d.c; a.after(c.firstChild); }}
  document.title = d.t;
}}, {delay_ms});
</script></body></html>
"""


def wordpress_comments(comments: list[tuple[int, str, str]]) -> str:
    """WordPress's classic comment list: (id, author, text)."""
    items = "".join(
        f'<li id="comment-{cid}" class="comment depth-1"><article class="comment-body">'
        f'<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">{who}</b>'
        f'</div><div class="comment-metadata"><time datetime="2026-01-0{cid % 9 + 1}T10:00:00Z">'
        f'</time></div></footer><div class="comment-content"><p>{text}</p></div></article></li>'
        for cid, who, text in comments
    )
    return (
        f'<div id="comments" class="comments-area"><h2 class="comments-title">{len(comments)} '
        f'comments</h2><ol class="comment-list">{items}</ol></div>'
    )


def paragraphs(seed: int, count: int = 6) -> list[str]:
    """``count`` paragraphs of plain English prose, different for each seed."""
    words = ("council", "budget", "river", "workers", "station", "report", "vote", "city",
             "hospital", "school", "plan", "union", "mayor", "housing", "transport", "energy")
    out = []
    for i in range(count):
        chosen = [words[(seed * 7 + i * 3 + k * 5) % len(words)] for k in range(18)]
        out.append(f"Paragraph {i + 1} of story {seed}: the " + " ".join(chosen) + ".")
    return out
