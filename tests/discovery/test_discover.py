"""End to end: `veille discover` over a local site with feeds, sitemaps, search and links."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from monitor.demo_site import (
    DISPATCH_GERMAN,
    DISPATCH_ORIGINAL,
    DISPATCH_SEARCH_ONLY,
    FIL_NEW,
    FIL_POLICE,
    FIL_POLICE_AMP,
    SW_LANGUAGES,
    story_path,
)

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

    from monitor.demo_site import DemoSite
    from tests.conftest import Veille
    from tests.servers.http import LocalSite

OFF_TOPIC = [
    "/fil-tech/2020/06/orages-ouest.html",
    "/fil-tech/2020/06/manette-xbox.html",  # Microsoft, but neither police nor army
    "/fil-tech/2020/06/teletravail-pme.html",
    "/dispatch/2025/10/bread-award.html",
    "/dispatch/2025/09/excel-charts.html",
    "/solidarity/en/articles/cooperative-housing-podcast/",
]
STORY = [story_path(lang) for lang in SW_LANGUAGES]
ON_TOPIC = [FIL_POLICE, DISPATCH_ORIGINAL, DISPATCH_SEARCH_ONLY, *STORY]


def watched(veille: Veille, news: DemoSite) -> set[str]:
    return {str(u).removeprefix(news.base) for (u,) in veille.db().execute("SELECT url FROM pages")}


def discovery_rows(veille: Veille, news: DemoSite) -> dict[str, tuple]:
    """Path -> (source, field, terms, language, translation_of) of each discovered page."""
    return {
        str(url).removeprefix(news.base): (source, field, json.loads(terms), language, via)
        for url, source, field, terms, language, via in veille.db().execute(
            "SELECT url, source, field, terms, language, translation_of FROM discoveries_readable"
        )
    }


def test_discovery_finds_the_topic_and_only_the_topic(
    newsroom: Veille, news: DemoSite, site: LocalSite
) -> None:
    out = newsroom.run("discover", check=0)
    assert watched(newsroom, news) == set(ON_TOPIC)
    for path in OFF_TOPIC + [DISPATCH_GERMAN, FIL_POLICE_AMP]:
        assert path not in out.stdout
    assert "8 articles added (4 translations)" in out.stdout
    db = newsroom.db()

    # Sources are read at the same time; an article two of them list goes to the first back.
    rows = discovery_rows(newsroom, news)
    assert rows[FIL_POLICE][0] in ("fil-tech", "search", "sitemaps")
    assert rows[FIL_POLICE][1:] == ("title", ["microsoft", "police"], "fr", None)
    assert rows[DISPATCH_ORIGINAL][0] in ("weekly-dispatch", "search")
    assert rows[DISPATCH_SEARCH_ONLY][0] == "search"  # only the search page lists it (page 2)
    # The story: English in its feed and the search page, French and German in the sitemap. The
    # version back first is credited to its source, the others (hreflang) as its translations.
    listed_by = {"en": {"solidarity-wire", "search"}, "fr": {"sitemaps"}, "de": {"sitemaps"}}
    story = {lang: rows[story_path(lang)] for lang in SW_LANGUAGES}
    found = {lang for lang, row in story.items() if row[1] != "translation"}
    assert len(found) == 1 and found <= set(listed_by)  # the others are its translations
    for lang in found:
        assert story[lang][0] in listed_by[lang] and story[lang][3:] == (lang, None)
    for lang in set(SW_LANGUAGES) - found:
        source, _, terms, language, via = story[lang]
        origin = next(o for o in found if news.url(story_path(o)) == via)
        assert (source, terms, language) == (story[origin][0], [], lang)
    assert {"pt-BR", "ar"}.isdisjoint(found)
    # One article_new change per page, in change_feed.
    feed = db.execute("SELECT url, kind, summary FROM change_feed ORDER BY change_id").fetchall()
    assert sorted(str(u).removeprefix(news.base) for u, _, _ in feed) == sorted(ON_TOPIC)
    assert {kind for _, kind, _ in feed} == {"article_new"}
    police = next(s for u, _, s in feed if u.endswith(FIL_POLICE))
    assert "matched microsoft, police in the title" in police
    assert f"found by {rows[FIL_POLICE][0]}" in police

    # The outcome of every candidate is kept.
    outcomes = dict(db.execute("SELECT url, outcome FROM discovery_seen").fetchall())
    by_path = {str(u).removeprefix(news.base).split("?")[0]: o for u, o in outcomes.items()}
    for path in OFF_TOPIC:
        assert by_path[path] == "off_topic", path
    assert by_path[DISPATCH_GERMAN] == "language"  # on topic, in German: not a topic language


def test_each_article_says_why_it_entered(newsroom: Veille, news: DemoSite) -> None:
    # One source at a time, so that each article goes to the source named here.
    for source in ("fil-tech", "weekly-dispatch", "solidarity-wire"):
        newsroom.run("discover", "--source", source, check=0)
    rows = discovery_rows(newsroom, news)
    assert rows[FIL_POLICE] == ("fil-tech", "title", ["microsoft", "police"], "fr", None)
    assert rows[DISPATCH_ORIGINAL] == (
        "weekly-dispatch", "summary", ["microsoft", "army", "azure"], "en", None,
    )
    english = news.url(story_path("en"))
    assert rows[story_path("en")][:2] == ("solidarity-wire", "title")
    for lang in ("pt-BR", "de", "fr", "ar"):
        assert rows[story_path(lang)] == ("solidarity-wire", "translation", [], lang, english)


def test_an_article_two_sources_list_goes_to_the_first_back(
    newsroom: Veille, news: DemoSite, site: LocalSite
) -> None:
    # The outlet's feed answers half a second late: the search page's candidate comes first.
    def late_feed(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(0.5)
        news.write(handler)

    site.handle("/solidarity/en/feed.atom", late_feed)
    newsroom.run("discover", check=0)
    rows = discovery_rows(newsroom, news)
    english = news.url(story_path("en"))
    assert rows[story_path("en")][0] == "search"
    for lang in ("pt-BR", "de", "fr", "ar"):
        assert rows[story_path(lang)] == ("search", "translation", [], lang, english)
    added = dict(newsroom.db().execute("SELECT source, added FROM source_runs").fetchall())
    assert added["solidarity-wire"] == 0 and added["search"] >= 5


def test_duplicates_under_other_urls_are_one_page(
    newsroom: Veille, news: DemoSite, site: LocalSite
) -> None:
    # The feed links carry utm_* trackers; the search engine links the AMP copy, whose
    # canonical link names the article: all three are one page, under its clean URL.
    newsroom.config.write_text(
        newsroom.config.read_text().replace('query = "microsoft"', 'query = "seattle"'),
        encoding="utf-8",
    )
    newsroom.run("discover", check=0)
    db = newsroom.db()
    urls = [str(u) for (u,) in db.execute("SELECT url FROM pages WHERE url LIKE '%fil-tech%'")]
    assert urls == [news.url(FIL_POLICE)]
    # The feed, the search page and the sitemap are read at the same time: whichever URL comes
    # back first is added, the others are duplicates of it (or known: the same clean URL).
    seen = dict(db.execute("SELECT url, outcome FROM discovery_seen").fetchall())
    amp = news.url(FIL_POLICE_AMP)
    listed = [amp, news.url(FIL_POLICE) + "?utm_source=rss&utm_medium=feed", news.url(FIL_POLICE)]
    outcomes = [seen.get(url) for url in listed]
    assert seen[amp] in ("added", "duplicate") and outcomes.count("added") == 1, outcomes
    assert set(outcomes) <= {"added", "duplicate", None}
    assert site.hits(FIL_POLICE_AMP) == 1


def test_a_second_run_fetches_nothing_judged_before(
    newsroom: Veille, news: DemoSite, site: LocalSite
) -> None:
    newsroom.run("discover", check=0)
    fetched = {path: site.hits(path) for path in OFF_TOPIC + ON_TOPIC}
    changes = newsroom.changes()
    out = newsroom.run("discover", check=0)
    assert "0 articles added" in out.stdout
    assert newsroom.changes() == changes
    # Off-topic and watched articles are not fetched again; the links source now starts from
    # the watched articles (fetched once each) and finds nothing new.
    for path in OFF_TOPIC:
        assert site.hits(path) == fetched[path], path
    assert site.hits("/fil-tech/rss.xml") == 2

    # A newly published article is found by the next run, and only it.
    news.edit()
    out = newsroom.run("discover", "--source", "fil-tech", check=0)
    assert "1 articles added" in out.stdout and news.url(FIL_NEW) in out.stdout
    assert newsroom.changes()[-1] == (news.url(FIL_NEW), "article_new")


def test_links_source_follows_related_links_to_its_depth(
    newsroom: Veille, news: DemoSite, site: LocalSite
) -> None:
    # Only the related-links source, starting from one watched article.
    newsroom.run("add", "--topic", "microsoft-workers", news.url(FIL_POLICE), check=0)
    out = newsroom.run("discover", "--source", "related", check=0)
    # FIL_POLICE -> (off-topic remote work, DISPATCH_ORIGINAL); depth 1 stops there:
    # DISPATCH_ORIGINAL's own related link (DISPATCH_SEARCH_ONLY) is two links away.
    assert watched(newsroom, news) == {FIL_POLICE, DISPATCH_ORIGINAL}
    assert "links not followed past depth=1" in out.stdout
    assert site.hits(DISPATCH_SEARCH_ONLY) == 0
    newsroom.config.write_text(
        newsroom.config.read_text().replace("depth = 1", "depth = 2"), encoding="utf-8"
    )
    newsroom.run("discover", "--source", "related", check=0)
    assert DISPATCH_SEARCH_ONLY in watched(newsroom, news)


def test_stories_tie_translations_and_report_a_translation_lag(
    newsroom: Veille, news: DemoSite
) -> None:
    newsroom.run("discover", "--source", "solidarity-wire", check=0)
    newsroom.run("check", check=0)
    out = newsroom.run("stories", check=0)
    assert "5 language versions (en, pt-BR, de, fr, ar)" in out.stdout
    assert "translation_lag" not in out.stdout
    news.edit()  # the French version alone is edited
    newsroom.run("check", "--all", check=0)
    assert "translation_lag" not in newsroom.run("stories", check=0).stdout  # within 12 h
    out = newsroom.run("stories", "--lag", "0s", check=0)
    assert "translation_lag: the fr version was edited" in out.stdout
    assert "not (yet) in: en, pt-BR, de, ar" in out.stdout
