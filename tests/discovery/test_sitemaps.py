"""Sitemaps: the corpus sitemap (read in place), news sitemaps, indexes, bombs and hostile XML."""

from __future__ import annotations

import gzip
import resource
from pathlib import Path

import pytest

from spiders.discovery.errors import SitemapError
from spiders.discovery.sitemaps import INDEX, URLSET, parse_sitemap

CORPUS_SITEMAP = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "feeds"
    / "trafilatura-sitemaps.org-sitemap.xml"
)

NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <url>
    <loc>https://news.example/2025/10/a.html</loc>
    <xhtml:link rel="alternate" hreflang="fr" href="https://news.example/fr/2025/10/a.html"/>
    <news:news>
      <news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2025-10-27T09:00:00Z</news:publication_date>
      <news:title>Microsoft &amp; the army</news:title>
    </news:news>
  </url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>/relative.html</loc><lastmod>2025-10-01</lastmod></url>
</urlset>"""


def test_the_corpus_sitemap() -> None:
    document = parse_sitemap(CORPUS_SITEMAP.read_bytes(), "https://www.sitemaps.org/sitemap.xml")
    assert document.kind == URLSET
    assert len(document.entries) == 84
    assert document.entries[0].url == "https://www.sitemaps.org/"
    assert document.entries[0].lastmod == "2016-11-21"
    assert all(e.url.startswith("https://www.sitemaps.org/") for e in document.entries)


def test_a_news_sitemap_gives_titles_languages_dates_and_alternates() -> None:
    document = parse_sitemap(NEWS, "https://news.example/news.xml")
    first, relative = document.entries
    assert first.title == "Microsoft & the army"
    assert first.language == "en"
    assert first.published == "2025-10-27T09:00:00Z"
    assert first.alternates == (("fr", "https://news.example/fr/2025/10/a.html"),)
    assert relative.url == "https://news.example/relative.html"
    assert document.invalid == 1  # the javascript: URL


def test_an_index_and_a_gzipped_sitemap() -> None:
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://news.example/a.xml</loc></sitemap>
      <sitemap><loc>https://news.example/b.xml.gz</loc></sitemap></sitemapindex>"""
    document = parse_sitemap(index, "https://news.example/index.xml")
    assert document.kind == INDEX
    assert [e.url for e in document.entries] == [
        "https://news.example/a.xml", "https://news.example/b.xml.gz",
    ]
    assert parse_sitemap(gzip.compress(NEWS), "https://news.example/n.xml.gz").entries[0].title


def test_a_gzip_bomb_stops_at_the_size_limit() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * 50_000_000 + b"</urlset>")
    assert len(bomb) < 100_000
    with pytest.raises(SitemapError) as info:
        parse_sitemap(bomb, "https://news.example/bomb.xml.gz", max_bytes=1_000_000)
    assert info.value.reason == "too_large"


def test_fifty_thousand_urls_stream_within_max_entries() -> None:
    urls = b"".join(b"<url><loc>https://big.example/%d.html</loc></url>" % i for i in range(50_000))
    body = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + urls + b"</urlset>"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    document = parse_sitemap(body, "https://big.example/s.xml", max_entries=1000)
    assert len(document.entries) == 1000 and document.truncated
    everything = parse_sitemap(body, "https://big.example/s.xml")
    assert len(everything.entries) == 50_000 and not everything.truncated
    # Entries are freed as they are read: the tree never holds the whole file.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 150_000  # KiB


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<html><body><p>Not found</p></body></html>", "not_a_sitemap"),
        (b"\x00garbage", "not_a_sitemap"),
        (b'<rss version="2.0"><channel></channel></rss>', "not_a_sitemap"),
        (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
         b"<urlset><url><loc>https://x.example/&b;</loc></url></urlset>", "xml_entities"),
        (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
         b"<urlset><url><loc>https://x.example/&x;</loc></url></urlset>", "xml_entities"),
    ],
)
def test_what_is_not_a_sitemap_is_a_clear_error(body: bytes, reason: str) -> None:
    with pytest.raises(SitemapError) as info:
        parse_sitemap(body, "https://x.example/sitemap.xml")
    assert info.value.reason == reason
    assert "https://x.example/sitemap.xml" in str(info.value)
