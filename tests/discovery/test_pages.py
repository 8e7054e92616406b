"""Canonical URLs, search/listing pages, related links and translation links."""

from __future__ import annotations

import pytest
from parsel import Selector

from spiders.discovery.canonical import canonical_url, clean_url, url_key
from spiders.discovery.errors import ListingError
from spiders.discovery.links import (
    AVAILABLE_IN,
    HREFLANG,
    language_of_name,
    looks_like_article,
    related_links,
    translation_links,
)
from spiders.discovery.listing import next_page, page_url, paginates_by_number, result_links

ARTICLE = "https://www.example.org/2025/10/microsoft-army.html"


@pytest.mark.parametrize(
    "variant",
    [
        ARTICLE,
        ARTICLE + "?utm_source=rss&utm_medium=feed&utm_campaign=x",
        ARTICLE + "?fbclid=IwAR0abc",
        ARTICLE + "?gclid=xyz&msclkid=1&mc_cid=2&igshid=3",
        ARTICLE + "#comments",
        "HTTPS://WWW.EXAMPLE.ORG:443/2025/10/microsoft-army.html",
        "http://example.org/2025/10/microsoft-army.html/",
    ],
)
def test_one_key_per_article(variant: str) -> None:
    assert url_key(variant) == "example.org/2025/10/microsoft-army.html"


def test_clean_url_keeps_what_identifies_an_article() -> None:
    assert clean_url(ARTICLE + "?utm_source=x#c") == ARTICLE
    assert clean_url("https://ex.org/article.php?id=42&utm_medium=rss") == "https://ex.org/article.php?id=42"
    assert clean_url("https://ex.org/s?q=a&page=2") == "https://ex.org/s?page=2&q=a"


def test_canonical_link_wins_on_the_same_site_only() -> None:
    amp = "https://example.org/amp/2025/10/microsoft-army.html"
    assert canonical_url(amp, ARTICLE + "?utm_source=amp") == ARTICLE
    # A syndicated copy pointing at another publisher stays its own page.
    copy = "https://progressive.international/wire/2025-10-27-a/en"
    assert canonical_url(copy, "https://www.thenation.com/article/a/") == copy
    assert canonical_url(ARTICLE, "javascript:alert(1)") == ARTICLE


SEARCH = """<html><head><link rel="next" href="/search?q=microsoft&amp;page=2"></head><body>
<ol class="results">
  <li><h3><a href="/2025/10/a.html">Microsoft et l'armée</a></h3><p>…</p></li>
  <li><h3><a href="https://www.example.org/2025/10/b.html">Deux</a></h3></li>
  <li>no link</li>
  <li><a href="javascript:void(0)">j</a></li>
  <li><a href="/2025/10/a.html">again</a></li>
</ol><a class="suivant" href="/search?q=microsoft&amp;page=9">next</a></body></html>"""


def test_result_links_and_next_page() -> None:
    sel = Selector(text=SEARCH)
    base = "https://www.example.org/search?q=microsoft"
    expected = [
        ("https://www.example.org/2025/10/a.html", "Microsoft et l'armée"),
        ("https://www.example.org/2025/10/b.html", "Deux"),
    ]
    assert result_links(sel, base, "ol.results li") == expected
    assert result_links(sel, base, "ol.results h3 a") == expected
    assert next_page(sel, base) == "https://www.example.org/search?q=microsoft&page=2"
    assert next_page(sel, base, "a.suivant") == "https://www.example.org/search?q=microsoft&page=9"
    assert next_page(Selector(text="<p>end</p>"), base) is None
    with pytest.raises(ListingError) as info:
        result_links(sel, base, "ol[[")
    assert info.value.reason == "bad_selector"


def test_page_urls() -> None:
    template = "https://www.clubic.com/recherche?q={query}&page={page}"
    assert page_url(template, "microsoft armée", 2) == (
        "https://www.clubic.com/recherche?q=microsoft+arm%C3%A9e&page=2"
    )
    assert paginates_by_number(template)
    assert not paginates_by_number("https://ex.org/s?q={query}")
    with pytest.raises(ListingError) as info:
        page_url("https://ex.org/s?q={query}", None, 1)
    assert info.value.reason == "bad_template" and "query" in str(info.value)


PAGE = """<html lang="en"><head>
<link rel="alternate" hreflang="fr" href="/fr/articles/a/">
<link rel="alternate" hreflang="x-default" href="/en/articles/a/">
</head><body>
<article><p>See <a href="/en/articles/other/">other</a>, <a href="/tag/microsoft">tag</a>,
<a href="https://elsewhere.example/a.html">elsewhere</a>, <a href="/en/articles/a/">self</a>,
<a href="/files/report.pdf">report</a>, <a href="#top">top</a>, <a href="/login">login</a>.</p></article>
<aside class="related"><a href="/en/articles/related/">Related one</a></aside>
<div class="language-picker"><h4>Available in</h4>
<ul><li><a href="/en/articles/a/">English</a></li><li><a href="/pt-br/articles/a/">Portuguese (Brazil)</a></li>
<li><a href="/de/articles/a/">German</a></li><li><a href="/fr/articles/a/">French</a></li>
<li><a href="/ar/articles/a/">Arabic</a></li></ul></div>
<p>Disponible en : <a href="/es/articles/a/">Español</a></p>
</body></html>"""
PAGE_URL = "https://progressive.example/en/articles/a/"


def test_related_links_stay_in_domains_and_skip_navigation() -> None:
    sel = Selector(text=PAGE)
    urls = [u for u, _ in related_links(sel, PAGE_URL, ["progressive.example"])]
    assert "https://progressive.example/en/articles/other/" in urls
    assert "https://progressive.example/en/articles/related/" in urls
    assert not any("tag/" in u or "elsewhere" in u or u.endswith((".pdf", "/login")) for u in urls)
    assert PAGE_URL not in urls
    only = related_links(sel, PAGE_URL, ["progressive.example"], selector="aside.related")
    assert only == [("https://progressive.example/en/articles/related/", "Related one")]
    assert related_links(sel, PAGE_URL, ["other.example"]) == []


def test_translation_links_from_hreflang_and_available_in() -> None:
    found = translation_links(Selector(text=PAGE), PAGE_URL)
    by_lang = {lang: (url, via) for lang, url, via in found}
    assert by_lang["fr"] == ("https://progressive.example/fr/articles/a/", HREFLANG)
    assert by_lang["pt-BR"] == ("https://progressive.example/pt-br/articles/a/", AVAILABLE_IN)
    assert by_lang["de"][1] == by_lang["ar"][1] == by_lang["es"][1] == AVAILABLE_IN
    assert "x-default" not in by_lang
    assert set(by_lang) == {"en", "fr", "pt-BR", "de", "ar", "es"}


@pytest.mark.parametrize(
    ("name", "code"),
    [("English", "en"), ("Français", "fr"), ("Deutsch", "de"), ("Português (Brasil)", "pt-BR"),
     ("Portuguese (Brazil)", "pt-BR"), ("العربية", "ar"), ("Arabe", "ar"), ("Menu", None)],
)
def test_language_names(name: str, code: str | None) -> None:
    assert language_of_name(name) == code


def test_looks_like_article() -> None:
    assert looks_like_article("https://ex.org/2025/10/a.html")
    assert not looks_like_article("https://ex.org/")
    assert not looks_like_article("https://ex.org/category/tech/")
    assert not looks_like_article("https://ex.org/img/photo.JPG")
