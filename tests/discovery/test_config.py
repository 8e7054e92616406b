"""[[sources]] and topic queries in veille.toml: what loads, and one clear error per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from spiders.discovery.items import DEFAULT_MAX_PAGES, Source

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "veille.toml"
TOPIC = '[[topics]]\nname = "tech"\nquery = \'microsoft AND (police OR army)\'\n\n'


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "veille.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


def test_sources_load_with_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, TOPIC + """
[[sources]]
name = "clubic"
type = "feed"
url = "https://www.clubic.com/feed/news.rss"
topic = "tech"
interval = "30m"

[[sources]]
name = "search"
type = "search"
url = "https://www.example.org/recherche?q={query}&page={page}"
topic = "tech"
selector = "ol.results li"
max_pages = 3

[[sources]]
name = "related"
type = "links"
topic = "tech"
depth = 2
domains = ["WWW.Example.org"]
translations = false
""")
    feed, search, links = config.sources  # type: ignore[attr-defined]
    assert feed == Source("clubic", "feed", "tech", url="https://www.clubic.com/feed/news.rss",
                          interval=1800.0)
    assert (search.max_pages, search.selector, search.query) == (3, "ol.results li", None)
    assert (links.url, links.depth, links.domains, links.translations) == (
        None, 2, ("example.org",), False,
    )
    assert feed.max_pages == DEFAULT_MAX_PAGES


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert {s.name for s in config.sources} >= {"clubic", "guardian-microsoft", "the-nation",
                                                 "972mag", "related"}
    assert all(s.topic == "microsoft-workers" for s in config.sources)


@pytest.mark.parametrize(
    ("entry", "key", "words"),
    [
        ('name = "a"\ntype = "rss"\nurl = "https://e.org/f"\ntopic = "tech"', "sources[0].type",
         "unknown value 'rss'"),
        ('name = "a"\ntype = "feed"\nurl = "https://e.org/f"\ntopic = "tehc"', "sources[0].topic",
         "did you mean 'tech'"),
        ('name = "a"\ntype = "feed"\ntopic = "tech"', "sources[0].url", "needs a url"),
        ('name = "a"\ntype = "feed"\nurl = "ftp://e.org/f"\ntopic = "tech"', "sources[0].url",
         "http(s) URL"),
        ('type = "feed"\nurl = "https://e.org/f"\ntopic = "tech"', "sources[0].name",
         "missing required key"),
        ('name = "a"\ntype = "links"\ntopic = "tech"\ndepth = 9', "sources[0].depth",
         "more than 5"),
        ('name = "a"\ntype = "search"\nurl = "https://e.org/s?q={query}"\ntopic = "tech"\n'
         'selector = "ol[["', "sources[0].selector", "invalid CSS selector"),
        ('name = "a"\ntype = "feed"\nurl = "https://e.org/f"\ntopic = "tech"\nmax_page = 3',
         "sources[0].max_page", "did you mean `max_pages`"),
    ],
)
def test_source_mistakes(tmp_path: Path, entry: str, key: str, words: str) -> None:
    problem = error(tmp_path, TOPIC + "[[sources]]\n" + entry + "\n")
    assert problem.key == key
    assert words in str(problem)


def test_duplicate_source_names_and_search_without_query(tmp_path: Path) -> None:
    feed = '[[sources]]\nname = "a"\ntype = "feed"\nurl = "https://e.org/f"\ntopic = "tech"\n'
    problem = error(tmp_path, TOPIC + feed + feed)
    assert problem.key == "sources[1].name" and "duplicate source name" in str(problem)
    bare = '[[topics]]\nname = "tech"\n\n[[sources]]\nname = "s"\ntype = "search"\n'
    bare += 'url = "https://e.org/s?q={query}"\ntopic = "tech"\n'
    problem = error(tmp_path, bare)
    assert problem.key == "sources[0].query" and "{query}" in str(problem)


def test_a_malformed_topic_query_says_where(tmp_path: Path) -> None:
    problem = error(tmp_path, '[[topics]]\nname = "t"\nquery = "microsoft AND (police OR army"\n')
    assert problem.key == "topics[0].query"
    assert "unclosed parenthesis at position 14" in str(problem)
    assert "parentheses" in str(problem)  # the hint
