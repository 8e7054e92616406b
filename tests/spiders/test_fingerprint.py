"""The fast path: an unchanged article skips extraction, any edit it could hide does not."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from spiders.fetchstate import extract_page, quick_check
from tests.servers import newssite

URL = "https://news.example.org/a.html"
CT = "text/html; charset=utf-8"


def page(spec: newssite.ArticleSpec, noise: int) -> bytes:
    return newssite.render(spec, noise_seed=noise, base_url="https://news.example.org").encode()


def first(spec: newssite.ArticleSpec) -> tuple[str, str]:
    done = extract_page(page(spec, 1), CT, URL, None, ())
    assert done.state == "ok" and done.region and done.region_fp
    return done.region, done.region_fp


def test_noise_outside_the_article_keeps_the_fingerprint() -> None:
    for spec in newssite.make_site(6, seed=2):
        region, fp = first(spec)
        done = extract_page(page(spec, 2), CT, URL, None, (), region, fp)
        assert done.state == "same_region", spec.slug
        assert quick_check(page(spec, 3), CT, URL, None, (), region, fp) is not None


def test_every_kind_of_edit_takes_the_full_path_and_is_extracted() -> None:
    rng = random.Random(4)
    specs = newssite.make_site(len(newssite.EDIT_KINDS), seed=5)
    for spec, kind in zip(specs, newssite.EDIT_KINDS, strict=True):
        region, fp = first(spec)
        edited = newssite.mutate(spec, kind, rng)
        done = extract_page(page(edited, 2), CT, URL, None, (), region, fp)
        assert done.state == "ok", kind
        assert done.article is not None
        assert quick_check(page(edited, 2), CT, URL, None, (), region, fp) is None, kind
        before = extract_page(page(spec, 1), CT, URL, None, ()).article
        assert before is not None and done.article.content_hash() != before.content_hash(), kind


def test_in_article_counters_and_relative_times_do_not_break_the_fast_path() -> None:
    body = "".join(f"<p>Paragraphe {i} de l'article sur les contrats, assez long pour compter.</p>" for i in range(12))

    def html(views: int, minutes: int) -> bytes:
        return (
            '<html lang="fr"><head><title>Titre</title>'
            '<meta property="article:published_time" content="2026-11-20T08:00:00Z"></head><body>'
            f'<article><h1>Titre</h1><p class="meta">Publié il y a {minutes} minutes · {views} vues</p>'
            f'{body}<div class="ad">Publicité {views}</div></article></body></html>'
        ).encode()

    done = extract_page(html(10, 3), CT, URL, None, ())
    assert done.state == "ok" and done.region_fp
    again = extract_page(html(9999, 42), CT, URL, None, (), done.region, done.region_fp)
    assert again.state == "same_region"


def test_a_page_dated_only_by_its_text_has_no_fast_path() -> None:
    body = "".join(f"<p>Paragraph {i} of a story about cloud contracts and the workers.</p>" for i in range(12))
    html = f"<html><body><article><h1>Story</h1><p>March 3, 2024</p>{body}</article></body></html>"
    done = extract_page(html.encode(), CT, URL, None, ())
    assert done.state == "ok"
    assert done.region is None and done.region_fp is None


def test_the_region_is_the_smallest_element_holding_the_body() -> None:
    from lxml import html as lxml_html

    from spiders.fingerprint import find_region

    body = "\n\n".join(f"Paragraph {i} about the contracts, long enough to count." for i in range(4))
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    page_html = (
        "<html><body><header>Menu</header><main><div class='most-read'>Most read</div>"
        f"<article><h1>Title</h1>{paragraphs}</article></main><footer>Footer</footer></body></html>"
    )
    tree = lxml_html.document_fromstring(page_html)
    assert find_region(tree, body) == "/html/body/main/article"
    # A body split over two articles: only their common ancestor holds it all.
    halves = paragraphs.split("</p>", 2)
    split = (
        f"<html><body><main><article>{halves[0]}</p>{halves[1]}</p></article>"
        f"<article>{halves[2]}</article></main><footer>Footer</footer></body></html>"
    )
    assert find_region(lxml_html.document_fromstring(split), body) == "/html/body/main"
    assert find_region(tree, "A paragraph found nowhere on the page.") is None


SHARED_CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def _old_and_new(raw: bytes, region: str) -> tuple[str | None, str | None]:
    """The text at ``region``: once the whole page is prepared, and by prepared_region."""
    from spiders.fingerprint import _text, prepare, prepared_region
    from spiders.metadata import read_metadata
    from spiders.tree import parse_html

    text = raw.decode("utf-8", errors="replace")
    whole = parse_html(text, URL)
    assert whole is not None
    prepare(whole)
    found = whole.getroottree().xpath(region)
    old = _text(found[0]) if found else None
    lean = parse_html(text, URL)
    assert lean is not None
    read_metadata(lean, URL)
    element = prepared_region(lean, region)
    return old, (_text(element) if element is not None else None)


def test_a_region_prepared_alone_reads_as_in_a_prepared_page() -> None:
    """prepared_region gives the text prepare() + XPath give, for paths old and new."""
    from spiders.fingerprint import prepare
    from spiders.tree import parse_html

    rng = random.Random(5)
    pages = sorted(SHARED_CORPUS.rglob("*.htm*"))
    assert len(pages) > 50
    compared = 0
    for path in rng.sample(pages, 40):
        raw = path.read_bytes()
        tree = parse_html(raw.decode("utf-8", errors="replace"), URL)
        if tree is None or tree.find("body") is None:
            continue
        prepare(tree)
        elements = list(tree.find("body").iter())
        root = tree.getroottree()
        for element in rng.sample(elements, min(12, len(elements))):
            if not isinstance(element.tag, str):
                continue
            region = root.getpath(element)
            old, new = _old_and_new(raw, region)
            assert old == new, (path.name, region)
            compared += 1
    assert compared > 300
    # A region taken on one round of a generated page, read on the next (ads come and go).
    for spec in newssite.make_site(8, seed=4):
        region, _ = first(spec)
        for noise in (2, 3, 4):
            old, new = _old_and_new(page(spec, noise), region)
            assert old == new and new, spec.slug


def test_paths_through_noise_and_repeated_tags_resolve_as_xpath_does() -> None:
    from spiders.fingerprint import prepared_region

    html = (
        "<html><body><div class='ad'>ad</div><div><p>one</p></div><script>x</script>"
        "<div><article><p>two</p><span class='views'>12 views</span></article></div>"
        "<div class='pub'><article><p>hidden</p></article></div></body></html>"
    ).encode()
    # /html/body/div/article: every div (the ad and the pub gone), the first article found.
    assert _old_and_new(html, "/html/body/div/article") == ("two", "two")
    assert _old_and_new(html, "/html/body/div[2]/article") == ("two", "two")
    assert _old_and_new(html, "/html/body/div[3]/article") == (None, None)
    assert _old_and_new(html, "/html/body/script") == (None, None)
    with pytest.raises(ValueError):
        from lxml import html as lxml_html

        prepared_region(lxml_html.document_fromstring(html), "//article")
