"""Hostile and broken sources end with a clear error or a limit, never a hang (F20, F21).

One `veille discover` run reads every case at once: sitemap index cycles, an index nested too
deep, a 1,000-file x 50,000-URL sitemap bomb, endless and repeating pagination, feeds that are
HTML, billion-laughs documents, a 404.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.servers.http import HTML

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite, SiteHandler

XML = "application/xml"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
LAUGHS_PROLOG = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{f"&{chr(97 + i)};" * 10}">' for i in range(9))
    + "]>"
)


def index(site: LocalSite, *paths: str) -> bytes:
    maps = "".join(f"<sitemap><loc>{site.url(p)}</loc></sitemap>" for p in paths)
    return f"<sitemapindex {NS}>{maps}</sitemapindex>".encode()


def urlset(site: LocalSite, *paths: str) -> bytes:
    urls = "".join(f"<url><loc>{site.url(p)}</loc></url>" for p in paths)
    return f"<urlset {NS}>{urls}</urlset>".encode()


def big_sitemap(handler: SiteHandler) -> None:
    """50,000 URLs, generated for each request (about 3 MB)."""
    name = handler.path.rsplit("/", 1)[1]
    body = (f"<urlset {NS}>".encode() + b"".join(
        b"<url><loc>http://127.0.0.1/%s/%d.html</loc></url>" % (name.encode(), i)
        for i in range(50_000)
    ) + b"</urlset>")
    handler.send_response(200)
    handler.send_header("Content-Type", XML)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def endless_search(handler: SiteHandler) -> None:
    """Every page lists three new links and a next page, forever."""
    page = int(handler.query.get("page", "1"))
    links = "".join(f'<li><a href="/endless/{page}-{k}.html">r{page}-{k}</a></li>' for k in range(3))
    body = (f'<html><body><ol class="r">{links}</ol>'
            f'<a rel="next" href="/endless/search?page={page + 1}">next</a></body></html>').encode()
    handler.send_response(200)
    handler.send_header("Content-Type", HTML)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve_cases(site: LocalSite) -> None:
    site.set("/cycle/a.xml", index(site, "/cycle/a.xml", "/cycle/b.xml"), content_type=XML)
    site.set("/cycle/b.xml", index(site, "/cycle/a.xml", "/cycle/c.xml"), content_type=XML)
    site.set("/cycle/c.xml", urlset(site, "/cycle/1.html", "/cycle/2.html"), content_type=XML)
    for level in range(10):
        site.set(f"/deep/{level}.xml", index(site, f"/deep/{level + 1}.xml"), content_type=XML)
    site.set("/bomb/index.xml", index(site, *(f"/bomb/s{i}.xml" for i in range(1000))),
             content_type=XML)
    site.handle("/bomb/s", big_sitemap, prefix=True)
    site.handle("/endless/search", endless_search)
    repeat = ('<html><body><ol class="r"><li><a href="/repeat/a.html">a</a></li></ol>'
              '<a rel="next" href="/repeat/search?page=2">next</a></body></html>')
    site.set("/repeat/search", repeat)
    site.set("/bad/html-feed", "<!doctype html><html><body><h1>Accueil</h1></body></html>")
    site.set("/bad/laughs.xml", LAUGHS_PROLOG + '<rss version="2.0"><channel><title>&j;</title>'
             "</channel></rss>", content_type=XML)
    site.set("/bad/laughs-sitemap.xml", LAUGHS_PROLOG + f"<urlset {NS}><url><loc>http://x/&j;"
             "</loc></url></urlset>", content_type=XML)
    site.remove("/bad/missing.xml")


SOURCES = {
    "cycle": ("sitemap", "/cycle/a.xml", ""),
    "deep": ("sitemap", "/deep/0.xml", ""),
    "bomb": ("sitemap", "/bomb/index.xml", "max_entries = 2000\nmax_fetches = 0\n"),
    "endless": ("search", "/endless/search", 'selector = "ol.r li"\nmax_pages = 4\nmax_fetches = 0\n'),
    "repeat": ("search", "/repeat/search", 'selector = "ol.r li"\nmax_fetches = 0\n'),
    "html-feed": ("feed", "/bad/html-feed", ""),
    "laughs-feed": ("feed", "/bad/laughs.xml", ""),
    "laughs-sitemap": ("sitemap", "/bad/laughs-sitemap.xml", ""),
    "missing": ("feed", "/bad/missing.xml", ""),
}


def test_every_hostile_source_ends_with_a_limit_or_a_clear_error(
    site: LocalSite, veille: Veille
) -> None:
    serve_cases(site)
    sources = "".join(
        f'[[sources]]\nname = "{name}"\ntype = "{kind}"\nurl = "{site.url(path)}"\n'
        f'topic = "t"\n{extra}\n'
        for name, (kind, path, extra) in SOURCES.items()
    )
    veille.write_config('[[topics]]\nname = "t"\nquery = "microsoft"\n\n' + sources)
    out = veille.run("discover", check=1)  # some sources failed: exit code 1
    runs = {
        name: (files, entries, json.loads(notes), json.loads(errors))
        for name, files, entries, notes, errors in veille.db().execute(
            "SELECT source, files, entries, notes, errors FROM source_runs"
        )
    }
    assert set(runs) == set(SOURCES)

    # F20: a cycle is read once.
    files, entries, notes, errors = runs["cycle"]
    assert (files, entries, errors) == (3, 2, [])
    assert any("listed again (a cycle)" in n for n in notes)
    assert site.hits("/cycle/a.xml") == site.hits("/cycle/b.xml") == 1

    # An index nested deeper than 3 levels stops there.
    files, _, notes, _ = runs["deep"]
    assert files == 4 and site.hits("/deep/4.xml") == 0
    assert any("nested deeper than 3 levels" in n for n in notes)

    # A 1,000-file x 50,000-URL index: 50 files at most are queued, and reading stops with
    # the file that reaches max_entries.
    files, entries, notes, _ = runs["bomb"]
    assert (files, entries) == (2, 2000)
    assert sum(site.hits(f"/bomb/s{i}.xml") for i in range(1000)) == 1
    assert any("stopped at 50 sitemap files" in n for n in notes)
    assert any("not read: max_entries reached" in n for n in notes)

    # Endless pagination stops at max_pages; a page that repeats the last stops at once.
    files, entries, notes, _ = runs["endless"]
    assert (files, entries) == (4, 12) and site.hits("/endless/search") == 4
    assert any("stopped at max_pages=4" in n for n in notes)
    files, _, notes, _ = runs["repeat"]
    assert files == 2 and any("listed nothing new (a repeat)" in n for n in notes)

    # Broken and hostile documents: one clear line each, on stderr, naming the URL.
    expected_errors = {
        "html-feed": "not an RSS, Atom or JSON feed (it is an HTML page)",
        "laughs-feed": "declares XML entities",
        "laughs-sitemap": "declares XML entities",
        "missing": "HTTP 404",
    }
    for name, words in expected_errors.items():
        (error,) = runs[name][3]
        assert words in error and site.url(SOURCES[name][1]) in error
        assert words in out.stderr
    assert veille.db().execute("SELECT COUNT(*) FROM pages").fetchone()[0] == 0
