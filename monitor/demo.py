"""``python -m monitor.demo``: watch a small offline news site and see veille record its edits.

Serves three article pages on 127.0.0.1 (no internet needed), checks them, then edits one
headline, one paragraph and the byline of another, changes every ad, counter and timestamp,
removes the third page, and checks again. Only the real edits become changes.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{title} | Le Veilleur</title>
<meta property="og:title" content="{title}">
<meta name="author" content="{author}">
<meta property="article:published_time" content="2026-11-20T08:22:00+01:00">
<meta property="article:modified_time" content="{modified}">
<link rel="canonical" href="{url}">
<script>window.__views = {views}; window.__csrf = "{token}";</script>
</head><body>
<nav><a href="/">Accueil</a> <a href="/tech">Tech</a> <a href="/monde">Monde</a></nav>
<div class="ad">Publicité : {ad}</div>
<article><h1>{title}</h1><p class="byline">Par {author}, publié il y a {minutes} minutes</p>
{paragraphs}
</article>
<aside class="most-read"><h2>Les plus lus</h2><ul>{most_read}</ul></aside>
<footer>{views} lectures · jeton {token}</footer></body></html>"""

ARTICLES = {
    "/2026/11/salaries-contrats-police.html": (
        "fr", "Des salariés de la tech demandent l'arrêt des contrats avec la police", "Claire Morel",
        [
            "Plus de deux cents salariés d'un grand éditeur de logiciels ont signé une lettre "
            "ouverte adressée à leur direction.",
            "Ils demandent l'annulation des contrats passés avec plusieurs services de police et "
            "la fin de la vente d'outils d'analyse vidéo.",
            "La direction a répondu qu'elle examinerait la lettre, sans prendre d'engagement.",
            "Les signataires annoncent une nouvelle réunion la semaine prochaine.",
        ],
    ),
    "/2026/11/workers-cloud-contracts.html": (
        "en", "Tech workers urge their employer to drop military cloud contracts", "Sam Turner",
        [
            "Employees of a large cloud provider published an open letter on Monday.",
            "They ask the company to end contracts that supply cloud services to armies and to "
            "publish how its tools are used.",
            "A spokesperson said the company reviews every contract against its principles.",
            "Organisers say more than a thousand people have now signed.",
        ],
    ),
    "/2026/11/breve.html": (
        "fr", "Brève : une pétition circule", "Rédaction",
        ["Une pétition de soutien circule parmi les salariés du secteur depuis mardi matin.",
         "Elle a recueilli plusieurs centaines de signatures en une journée."],
    ),
}


class DemoSite:
    """The demo pages, rendered with fresh noise on every request."""

    def __init__(self) -> None:
        self.articles = {path: list(values) for path, values in ARTICLES.items()}
        self.modified = "2026-11-20T09:00:00+01:00"
        self.removed: set[str] = set()
        self.rng = random.Random(1)
        self.base = ""

    def render(self, path: str) -> str | None:
        if path not in self.articles or path in self.removed:
            return None
        lang, title, author, paragraphs = self.articles[path]
        return PAGE.format(
            lang=lang, title=title, author=author, url=self.base + path, modified=self.modified,
            views=self.rng.randint(1000, 99999), token=self.rng.getrandbits(64),
            ad=self.rng.choice(["-30 % sur les casques", "Votre banque en ligne", "Voyagez malin"]),
            minutes=self.rng.randint(1, 59),
            paragraphs="\n".join(f"<p>{p}</p>" for p in paragraphs),
            most_read="".join(
                f"<li><a href='/a{n}'>Article {n}</a></li>" for n in self.rng.sample(range(50), 5)
            ),
        )

    def edit(self) -> None:
        """The second round: a headline change, a silent paragraph edit, a byline change, a removal."""
        fr = "/2026/11/salaries-contrats-police.html"
        lang, _title, author, paragraphs = self.articles[fr]
        paragraphs = list(paragraphs)
        paragraphs[2] = paragraphs[2].replace("sans prendre d'engagement", "et s'est engagée à répondre sous un mois")
        self.articles[fr] = [lang, "Des salariés exigent la fin des contrats avec la police", author, paragraphs]
        en = "/2026/11/workers-cloud-contracts.html"
        lang, title, _author, paragraphs = self.articles[en]
        self.articles[en] = [lang, title, "Sam Turner and Ada Chen", paragraphs]
        self.removed.add("/2026/11/breve.html")


def serve(site: DemoSite) -> ThreadingHTTPServer:
    """Serve ``site`` on 127.0.0.1 on a free port, in a background thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            html = site.render(self.path)
            body = (html or "<h1>Page introuvable</h1>").encode("utf-8")
            self.send_response(200 if html else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    """Run the demo: two check cycles around a round of edits, then print what was recorded."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="Keep the demo database here.")
    args = parser.parse_args(argv)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="veille-demo-"))
    folder.mkdir(parents=True, exist_ok=True)

    from monitor.check import check_cycle, sync_config_pages
    from monitor.config import load_config
    from monitor.crawl import run_in_reactor
    from storage.db import open_database

    site = DemoSite()
    server = serve(site)
    config_file = folder / "veille.toml"
    pages = "\n".join(
        f'[[pages]]\nurl = "{site.base}{path}"\ntopic = "tech-workers"\n' for path in ARTICLES
    )
    config_file.write_text(
        'database = "veille.db"\n\n[http]\nobey_robots_txt = false\nautothrottle = false\n\n'
        '[[topics]]\nname = "tech-workers"\n\n' + pages,
        encoding="utf-8",
    )
    config = load_config(config_file)
    db = open_database(config.database)
    sync_config_pages(db, config, time.time())
    print(f"veille demo: serving {len(ARTICLES)} articles at {site.base}, database {config.database}")

    async def rounds() -> None:
        first = await check_cycle(db, config, check_all=True)
        print(f"round 1 (baseline): {first.line()}")
        site.edit()
        print("the site now edits a headline, a paragraph and a byline, removes a page, "
              "and changes every ad, counter and timestamp…")
        second = await check_cycle(db, config, check_all=True)
        print(f"round 2: {second.line()}")

    run_in_reactor(rounds)
    server.shutdown()
    print("\nchange_feed (what alerts and Datasette read):")
    for detected_at, kind, url, summary, stealth in db.execute(
        "SELECT detected_at, kind, url, summary, stealth FROM change_feed ORDER BY change_id"
    ).fetchall():
        flag = " [stealth edit]" if stealth else ""
        print(f"  {detected_at}  {kind:8} {url.removeprefix(site.base)}{flag}\n      {summary}")
    print(f"\nExplore it: veille --config {config_file} history {site.base}"
          f"{next(iter(ARTICLES))}")


if __name__ == "__main__":
    main()
