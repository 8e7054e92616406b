"""The fast path: an unchanged article skips extraction, any edit it could hide does not."""

from __future__ import annotations

import random

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
