"""Feeds: every real feed of the shared corpus (read in place), malformed and hostile ones."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from spiders.discovery.errors import FeedError
from spiders.discovery.feeds import parse_feed

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
FEEDS = CORPUS / "feeds"
BASE = "https://example.org/feed"

# file -> (kind, entries with an article link, first entry's URL start, language)
EXPECTED = {
    "rssparser-atom-feed-reddit.xml": ("atom10", 1, "https://www.reddit.com/r/Minecraft/", None),
    "rssparser-atom-feed-youtube.xml": ("atom10", 1, "https://www.youtube.com/watch?v=", None),
    "rssparser-feed-comment.xml": ("rss20", 1, "https://gonzoknows.com/posts/", None),
    "rssparser-feed-dcdate.xml": ("rss20", 1, "https://reporterre.net/", "fr"),
    "rssparser-feed-google-blog.xml": ("rss20", 2, "https://blog.google/", "en-us"),
    # A podcast: its only entry links to an mp3, not to a page.
    "rssparser-feed-test-charset.xml": ("rss20", 0, None, "no"),
    "rssparser-feed-test-source.xml": ("rss20", 1, "https://news.google.com/", "fr"),
    "rssparser-feed-test-xsl.xml": ("rss20", 2, "https://www.skysports.com/", "en-gb"),
    "rssparser-feed-test.xml": ("rss20", 1, "https://www.androidauthority.com/", "en-US"),
    "trafilatura-npr-feed.json": ("json", 25, "https://www.npr.org/2021/", None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_feed_parses(name: str) -> None:
    kind, count, first, language = EXPECTED[name]
    feed = parse_feed((FEEDS / name).read_bytes(), BASE)
    assert feed.kind == kind
    assert len(feed.entries) == count
    assert feed.language == language
    assert feed.warning is None
    if first:
        assert feed.entries[0].url.startswith(first)
        assert feed.entries[0].title
        assert all(e.url.startswith(("http://", "https://")) for e in feed.entries)


def test_corpus_covers_every_feed_file() -> None:
    files = {p.name for p in FEEDS.iterdir() if p.suffix in (".xml", ".json")}
    assert files - {"trafilatura-sitemaps.org-sitemap.xml"} == set(EXPECTED)


def test_feed_fields_are_plain_text() -> None:
    feed = parse_feed((FEEDS / "rssparser-feed-dcdate.xml").read_bytes(), BASE)
    entry = feed.entries[0]
    assert entry.title == (
        "Europe : vers un « affaiblissement historique » des normes écologiques ?"
    )
    assert entry.published == "2025-02-26T16:42:45Z"
    assert entry.summary and "<" not in entry.summary
    full = parse_feed((FEEDS / "rssparser-feed-test.xml").read_bytes(), BASE).entries[0]
    assert full.content and len(full.content) > 1000  # content:encoded, the whole article


@pytest.mark.parametrize("path", sorted((CORPUS / "comments" / "discourse").glob("*.rss")))
def test_discourse_rss_feeds_parse(path: Path) -> None:
    feed = parse_feed(path.read_bytes(), "https://discuss.criticalfallibilism.com/posts.rss")
    assert len(feed.entries) >= 25
    assert all("/t/" in e.url for e in feed.entries)


def test_relative_links_are_made_absolute() -> None:
    body = b'<rss version="2.0"><channel><item><title>a</title><link>/x/a.html</link></item>'
    feed = parse_feed(body, "https://news.example/rss")
    assert [e.url for e in feed.entries] == ["https://news.example/x/a.html"]
    assert feed.warning and "malformed" in feed.warning  # unclosed tags: read leniently


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        (b"", "empty", "empty"),
        (b"<!doctype html><html><body><p>hello</p></body></html>", "not_a_feed", "HTML page"),
        (b"\x00\x01\x02garbage", "not_a_feed", "not an RSS"),
        (b'{"items": 3}', "not_a_feed", "JSON Feed"),
        (b"[" * 100_000, "not_a_feed", "invalid JSON"),
        ((FEEDS / "trafilatura-sitemaps.org-sitemap.xml").read_bytes(), "not_a_feed", "sitemap"),
    ],
)
def test_what_is_not_a_feed_is_a_clear_error(body: bytes, reason: str, words: str) -> None:
    with pytest.raises(FeedError) as info:
        parse_feed(body, BASE)
    assert info.value.reason == reason
    assert words in str(info.value)
    assert info.value.url == BASE


def _billion_laughs(one_line: bool) -> bytes:
    sep = "" if one_line else "\n"
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (
        f'<?xml version="1.0"?>{sep}<!DOCTYPE rss [{sep}{sep.join(entities)}{sep}]>'
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
        "<link>https://example.org/a</link></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    "body",
    [
        _billion_laughs(one_line=True),
        _billion_laughs(one_line=False),
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><item><title>&xxe;</title>'
        b"<link>https://example.org/a</link></item></channel></rss>",
        _billion_laughs(one_line=True).decode().replace('<?xml version="1.0"?>', "").encode("utf-16"),
    ],
    ids=["laughs-one-line", "laughs-multi-line", "xxe", "laughs-utf16"],
)
def test_entity_declarations_are_refused_before_parsing(body: bytes) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    with pytest.raises(FeedError) as info:
        parse_feed(body, BASE)
    assert info.value.reason == "xml_entities"
    assert "billion laughs" in str(info.value)
    # Refused, not expanded: no CPU burnt, no memory grown (an expansion is gigabytes).
    assert time.process_time() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB


def test_a_huge_feed_is_refused_and_max_entries_caps() -> None:
    items = "".join(
        f"<item><title>t{i}</title><link>https://e.org/{i}</link></item>" for i in range(500)
    )
    body = f'<rss version="2.0"><channel>{items}</channel></rss>'.encode()
    with pytest.raises(FeedError) as info:
        parse_feed(body, BASE, max_bytes=1000)
    assert info.value.reason == "too_large"
    feed = parse_feed(body, BASE, max_entries=10)
    assert len(feed.entries) == 10 and feed.truncated == 490
