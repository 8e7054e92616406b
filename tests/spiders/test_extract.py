"""extract_article on crafted pages: body, metadata, selector, ignore patterns, odd HTML."""

from __future__ import annotations

import json
import random
import re
import unicodedata

import pytest

from spiders.errors import SpiderError
from spiders.extract import check_selector, extract_article
from spiders.tree import ExtractionError, parse_html
from spiders.items import Article, paragraphs

URL = "https://www.lejournal.fr/politique/nimes-budget.html"
PARAGRAPHS = (
    "Le conseil municipal de Nîmes a adopté mardi soir, après plus de quatre heures de débat, "
    "le budget de l’année prochaine, marqué par une hausse des dépenses consacrées aux écoles.",
    "« Nous avons fait le choix de l’éducation », a déclaré la maire à l’issue du vote, saluant "
    "un budget « responsable et ambitieux » malgré la baisse des dotations de l’État.",
    "L’opposition a dénoncé une augmentation de la taxe foncière de 3 %, qu’elle juge "
    "« injuste » pour les ménages modestes, et a voté contre l’ensemble des délibérations.",
    "Les travaux de rénovation du groupe scolaire Jean-Jaurès débuteront au printemps et "
    "devraient durer dix-huit mois, pour un coût total estimé à 12 millions d’euros.",
    "Le budget prévoit également la création de trois postes de policiers municipaux et "
    "l’extension de la vidéoprotection au quartier de la gare.",
)


def page(
    paras: tuple[str, ...] = PARAGRAPHS,
    *,
    head: str = "",
    ad: str = "Publicité : -20 % sur votre abonnement",
    views: int = 1234,
    most_read: tuple[str, ...] = ("Un titre populaire", "Un autre titre lu"),
    nav: str = "Politique",
    comments: tuple[str, ...] = ("Super article, merci pour ces précisions sur le budget !",),
    today: str = "Mardi 3 mars 2026",
    lang: str = "fr",
) -> str:
    """A French news page with every kind of boilerplate around a five-paragraph article."""
    body = "".join(
        f"<p>{p}</p>" + (f'<div class="ad">{ad}</div>' if i == 1 else "")
        for i, p in enumerate(paras)
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>Nîmes adopte son budget | Le Journal</title>{head}</head>
<body>
<header class="site-header"><div class="date">{today}</div>
<nav><a href="/politique">{nav}</a> <a href="/sport">Sport</a> <a href="/culture">Culture</a></nav>
</header>
<main><article>
<h1>Nîmes adopte son budget</h1>
<p class="byline">Par Marie Dupont</p>
<div class="share"><a href="#">Partager sur Facebook</a> <a href="#">Partager sur X</a></div>
<span class="views">{views} vues</span>
{body}
</article>
<aside class="most-read"><h2>Les plus lus</h2><ul>
{"".join(f'<li><a href="/a{i}">{t}</a></li>' for i, t in enumerate(most_read))}
</ul></aside>
<section id="comments"><h2>Commentaires</h2><ol class="commentlist">
{"".join(f'<li class="comment"><p>{c}</p></li>' for c in comments)}
</ol></section>
</main>
<footer><p>© Le Journal 2026 — Mentions légales — Plan du site</p></footer>
</body></html>"""


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


# --- body ----------------------------------------------------------------------------------


def test_body_is_the_article_only() -> None:
    article = extract_article(page(), URL)
    got = paragraphs(article.body)
    for paragraph in PARAGRAPHS:
        assert paragraph in got
    for noise in ("Publicité", "1234 vues", "Les plus lus", "Un titre populaire", "Partager",
                  "Super article", "Commentaires", "Mentions légales", "Mardi 3 mars", "Sport"):
        assert noise not in article.body, noise


def test_body_is_normalised() -> None:
    article = extract_article(page(), URL)
    assert "\n\n".join(paragraphs(article.body)) == article.body
    assert "  " not in article.body
    assert unicodedata.is_normalized("NFC", article.body)


def test_reserialised_page_hashes_the_same() -> None:
    """Other whitespace, NFD accents and entities: the same article, the same version."""
    first = extract_article(page(), URL)
    nfd = tuple(unicodedata.normalize("NFD", p).replace(" ", "\n   ") for p in PARAGRAPHS)
    second = extract_article(page(nfd).replace("é", "&eacute;"), URL)
    assert second.content_hash() == first.content_hash()


def test_noise_outside_the_article_keeps_the_hash() -> None:
    first = extract_article(page(), URL)
    second = extract_article(
        page(ad="Soldes d'hiver : tout à -50 %", views=98765, most_read=("Autre chose",) * 4,
             nav="Politique & société", comments=("Premier !", "Je ne suis pas d'accord.") * 3,
             today="Mercredi 4 mars 2026"),
        URL,
    )
    assert second.content_hash() == first.content_hash()


def test_one_word_changed_in_the_article_changes_the_hash() -> None:
    first = extract_article(page(), URL)
    edited = (PARAGRAPHS[0], PARAGRAPHS[1].replace("responsable", "raisonnable"), *PARAGRAPHS[2:])
    second = extract_article(page(edited), URL)
    assert second.content_hash() != first.content_hash()
    assert "« raisonnable et ambitieux »" in second.body


def test_english_article() -> None:
    paras = (
        "The city council voted on Tuesday night to approve next year's budget after a debate "
        "that lasted more than four hours, with spending on schools rising sharply.",
        "\"We chose education,\" the mayor said after the vote, calling the budget responsible "
        "and ambitious despite lower grants from the national government.",
        "The opposition denounced a three percent increase in property tax, which it called "
        "unfair to low-income households, and voted against every resolution.",
        "Renovation of the Jean Jaures school complex will start in the spring and should last "
        "eighteen months, at a total cost estimated at twelve million euros.",
    )
    html = page(paras, ad="Advertisement: subscribe for $1", lang="en-GB")
    article = extract_article(html, "https://news.example.com/budget")
    assert paragraphs(article.body)[-4:] == list(paras)
    assert "Advertisement" not in article.body
    assert article.language == "en-GB"


# --- metadata ------------------------------------------------------------------------------


FULL_HEAD = jsonld({
    "@context": "https://schema.org",
    "@type": "NewsArticle",
    "headline": "Nîmes adopte son budget &amp; ses impôts",
    "author": [
        {"@type": "Person", "name": "Marie Dupont"},
        {"@type": "Person", "name": "Paul Roux"},
    ],
    "datePublished": "2024-03-12T21:30:00+01:00",
    "dateModified": "2024-03-13T08:05:00Z",
    "inLanguage": "fr-FR",
    "description": "Le budget a été adopté après quatre heures de débat.",
}) + """
<meta property="og:title" content="OG title, not used">
<meta property="article:published_time" content="2001-01-01T00:00:00Z">
<link rel="canonical" href="/politique/nimes-budget.html">
<link rel="alternate" hreflang="en" href="https://www.lejournal.fr/en/nimes-budget.html">
<link rel="alternate" hreflang="x-default" href="/politique/nimes-budget.html">
<link rel="alternate" type="application/rss+xml" href="/rss.xml">
"""


def test_jsonld_newsarticle() -> None:
    article = extract_article(page(head=FULL_HEAD), "https://www.lejournal.fr/p?id=1")
    assert article.title == "Nîmes adopte son budget & ses impôts"
    assert article.authors == ("Marie Dupont", "Paul Roux")
    assert article.published == "2024-03-12T21:30:00+01:00"
    assert article.modified == "2024-03-13T08:05:00+00:00"
    assert article.language == "fr"  # <html lang> comes first
    assert article.description == "Le budget a été adopté après quatre heures de débat."
    assert article.canonical_url == "https://www.lejournal.fr/politique/nimes-budget.html"
    assert article.alternates == (
        ("en", "https://www.lejournal.fr/en/nimes-budget.html"),
        ("x-default", "https://www.lejournal.fr/politique/nimes-budget.html"),
    )


def test_jsonld_graph_with_id_references() -> None:
    head = jsonld({
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "@id": "https://ex.org/#site", "name": "Le Journal"},
            {"@type": "Person", "@id": "https://ex.org/#/person/1", "name": "Marie Dupont"},
            {
                "@type": ["Article", "NewsArticle"],
                "headline": "Titre du graphe",
                "author": {"@id": "https://ex.org/#/person/1"},
                "datePublished": "2024-03-12",
            },
        ],
    })
    article = extract_article(page(head=head), URL)
    assert article.title == "Titre du graphe"
    assert article.authors == ("Marie Dupont",)
    assert article.published == "2024-03-12"  # a date stays a date
    assert article.modified is None


def test_jsonld_blogposting_nested_in_webpage_and_broken_blocks() -> None:
    head = (
        '<script type="application/ld+json">{"broken": </script>'
        '<script type="application/ld+json">//<![CDATA[\n'
        + json.dumps({
            "@context": "http://schema.org",
            "@type": "WebPage",
            "mainEntity": {
                "@type": "http://schema.org/BlogPosting",
                "headline": "Un billet",
                "author": "Par Jeanne Martin",
                "datePublished": "2024-03-12 09:00",
            },
        })
        + "\n//]]></script>"
    )
    article = extract_article(page(head=head), URL)
    assert article.title == "Un billet"
    assert article.authors == ("Jeanne Martin",)
    assert article.published == "2024-03-12T09:00:00"


def test_opengraph_and_meta_tags() -> None:
    head = """
    <meta property="og:title" content="Nîmes : le budget adopté">
    <meta property="article:author" content="https://facebook.com/mariedupont">
    <meta name="author" content="Marie Dupont">
    <meta property="article:published_time" content="2024-03-12T21:30:00+0100">
    <meta property="article:modified_time" content="not a date">
    <meta property="og:updated_time" content="2024-03-13T10:00:00+01:00">
    <meta name="description" content="  Le budget   adopté. ">
    <meta property="og:url" content="https://www.lejournal.fr/nimes">
    """
    article = extract_article(page(head=head, lang=""), URL)
    assert article.title == "Nîmes : le budget adopté"
    assert article.authors == ("Marie Dupont",)  # a profile URL is not a name
    assert article.published == "2024-03-12T21:30:00+01:00"
    assert article.modified == "2024-03-13T10:00:00+01:00"
    assert article.description == "Le budget adopté."
    assert article.canonical_url == "https://www.lejournal.fr/nimes"
    assert article.language is None


def test_dublin_core_parsely_and_locale() -> None:
    parsely = json.dumps(
        {"title": "Titre Parse.ly", "authors": ["Anne Petit"], "pub_date": "2024-02-01T10:00:00Z"}
    )
    head = f"""
    <meta name="parsely-page" content='{parsely}'>
    <meta name="DC.date.issued" content="Thu, 01 Feb 2024 10:00:00 +0000">
    <meta property="og:locale" content="fr_FR">
    """
    article = extract_article(page(head=head, lang=""), URL)
    assert article.title == "Titre Parse.ly"
    assert article.authors == ("Anne Petit",)
    assert article.published == "2024-02-01T10:00:00+00:00"  # RFC 2822 converted
    assert article.language == "fr-FR"


def test_title_falls_back_to_h1_without_site_name() -> None:
    assert extract_article(page(), URL).title == "Nîmes adopte son budget"


def test_htmldate_fallback_reads_the_article_not_the_date_widget() -> None:
    """No date in the markup: htmldate may guess, but never from today's date in the header."""
    assert extract_article(page(), URL).published is None
    dated = page().replace(
        '<p class="byline">Par Marie Dupont</p>',
        '<p class="byline">Par Marie Dupont, le '
        '<time datetime="2024-03-12T21:30">12 mars</time></p>',
    )
    assert extract_article(dated, URL).published == "2024-03-12"
    in_url = extract_article(page(), "https://www.lejournal.fr/2024/03/12/nimes-budget.html")
    assert in_url.published == "2024-03-12"


def test_htmldate_ignores_chrome_dates_but_not_wrapped_articles() -> None:
    logo_header = page(comments=("Publié le 2 mars 2026 à 10:00 — très bien",)).replace(
        '<header class="site-header">', '<header class="site-header"><h1>Le Journal</h1>'
    )
    assert extract_article(logo_header, URL).published is None
    # Blogger wraps the whole post in <div class="widget Blog">; a page wrapper may be
    # called "has-menu": neither is chrome, and the post's date is found.
    blogger = page().replace("<main>", '<div class="widget Blog has-sidebar">').replace(
        "</main>", "</div>"
    ).replace('<p class="byline">Par Marie Dupont</p>',
              '<h2 class="date-header"><span>mardi 12 mars 2024</span></h2>')
    assert extract_article(blogger, URL).published == "2024-03-12"


def test_microdata_dates_and_authors() -> None:
    html = page(comments=()).replace(
        "<article>", '<article itemscope itemtype="https://schema.org/NewsArticle">'
    ).replace(
        '<p class="byline">Par Marie Dupont</p>',
        '<p class="byline"><span itemprop="author" itemscope><span itemprop="name">Marie Dupont'
        '</span></span> <time itemprop="datePublished" datetime="2024-03-12T21:30:00+01:00">'
        'hier</time> <meta itemprop="dateModified" content="2024-03-13"></p>',
    ).replace(
        "</article>",
        '<div itemprop="comment" itemscope itemtype="https://schema.org/Comment">'
        '<span itemprop="author">Un lecteur</span><p>Bravo.</p></div></article>',
    )
    article = extract_article(html, URL)
    assert article.published == "2024-03-12T21:30:00+01:00"
    assert article.modified == "2024-03-13"
    assert article.authors == ("Marie Dupont",)  # not the comment's author


def test_rel_author_links_count_only_when_they_agree() -> None:
    byline = '<p class="byline">Par <a rel="author" href="/auteurs/md">Marie Dupont</a></p>'
    html = page().replace('<p class="byline">Par Marie Dupont</p>', byline)
    assert extract_article(html, URL).authors == ("Marie Dupont",)
    related = html.replace(
        "</aside>", '<p><a rel="author" href="/auteurs/pr">Paul Roux</a></p></aside>'
    )
    assert extract_article(related, URL).authors == ()


def test_epoch_is_not_a_date() -> None:
    head = '<meta property="article:published_time" content="1970-01-01T01:00:00+01:00">'
    head += '<meta property="article:modified_time" content="2024-03-13T08:00:00+01:00">'
    article = extract_article(page(head=head), URL)
    assert article.published is None
    assert article.modified == "2024-03-13T08:00:00+01:00"


def test_base_href_makes_urls_absolute() -> None:
    head = '<base href="https://cdn.lejournal.fr/fr/"><link rel="canonical" href="nimes.html">'
    head += '<link rel="alternate" hreflang="de" href="../de/nimes.html">'
    article = extract_article(page(head=head), URL)
    assert article.canonical_url == "https://cdn.lejournal.fr/fr/nimes.html"
    assert article.alternates == (("de", "https://cdn.lejournal.fr/de/nimes.html"),)


# --- selector and ignore -------------------------------------------------------------------


SELECTOR_PAGE = """<html><body>
<div id="menu"><a href="/">Accueil</a></div>
<div id="story">
  <h2>Intertitre</h2>
  <p>Premier paragraphe<br>sur deux lignes.</p>
  <script>var tracking = "pas du texte";</script>
  <div class="ad">Publicité</div>
  <ul><li>Point un</li><li>Point <b>deux</b></li></ul>
  <p>Mis à jour il y a 3 minutes</p>
  <p>Dernier paragraphe. Mis à jour il y a 12 minutes</p>
</div>
<div class="related"><p>À lire aussi</p></div>
</body></html>"""


def test_selector_gives_block_wise_text() -> None:
    article = extract_article(SELECTOR_PAGE, URL, selector="#story")
    assert paragraphs(article.body) == [
        "Intertitre", "Premier paragraphe", "sur deux lignes.", "Point un", "Point deux",
        "Mis à jour il y a 3 minutes", "Dernier paragraphe. Mis à jour il y a 12 minutes",
    ]


def test_selector_several_and_nested_matches() -> None:
    article = extract_article(SELECTOR_PAGE, URL, selector="#story li, #story ul, .related")
    assert paragraphs(article.body) == ["Point un", "Point deux", "À lire aussi"]


def test_selector_without_match_gives_empty_body() -> None:
    article = extract_article(SELECTOR_PAGE, URL, selector="#nothing-here")
    assert article.body == ""


def test_invalid_selector_raises_value_error() -> None:
    with pytest.raises(ValueError, match="invalid CSS selector"):
        extract_article(SELECTOR_PAGE, URL, selector="div[")
    with pytest.raises(ValueError, match="invalid CSS selector"):
        check_selector("p::")
    check_selector("article .content > p")


def test_ignore_removes_matches_and_emptied_paragraphs() -> None:
    updated = re.compile(r"Mis à jour il y a \d+ minutes?")
    article = extract_article(SELECTOR_PAGE, URL, selector="#story", ignore=[updated])
    assert paragraphs(article.body)[-2:] == ["Point deux", "Dernier paragraphe."]
    later = SELECTOR_PAGE.replace("3 minutes", "1 minute").replace("12 minutes", "59 minutes")
    again = extract_article(later, URL, selector="#story", ignore=[updated])
    assert again.content_hash() == article.content_hash()
    assert extract_article(later, URL, selector="#story").content_hash() != (
        extract_article(SELECTOR_PAGE, URL, selector="#story").content_hash()
    )


def test_ignore_with_trafilatura_body() -> None:
    paras = (*PARAGRAPHS[:2], "Mis à jour le 12 mars à 21 h 30", *PARAGRAPHS[2:])
    first = extract_article(page(paras), URL, ignore=[re.compile(r"Mis à jour le .*")])
    later = tuple(p.replace("21 h 30", "23 h 05") for p in paras)
    second = extract_article(page(later), URL, ignore=[re.compile(r"Mis à jour le .*")])
    assert "Mis à jour" not in first.body
    assert second.content_hash() == first.content_hash()


# --- odd input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   \n\t ",
        "<!-- only a comment -->",
        "just some text, no markup",
        "<html/>",
        "<p>unclosed <b>tags <i>everywhere",
        "abc\x00def\x0b<p>control characters</p>\ufffe",
        '<?xml version="1.0" encoding="iso-8859-1"?>'
        "<html><body><p>déclaration XML</p></body></html>",
        "<html><body>" + "<table><tr><td>" * 300 + "cellule</body></html>",
        "\ud800 lone surrogate <p>text</p>",
    ],
    ids=["empty", "blank", "comment", "text", "self-closing", "unclosed", "control", "xmldecl",
         "tables", "surrogate"],
)
def test_odd_html_returns_an_article(html: str) -> None:
    article = extract_article(html, URL)
    assert isinstance(article, Article)
    assert isinstance(article.body, str)


def test_empty_page_gives_empty_article() -> None:
    assert extract_article("", URL) == Article(title="", body="")


def test_binary_garbage() -> None:
    garbage = random.Random(7).randbytes(20_000).decode("latin-1")
    article = extract_article(garbage, URL)
    assert isinstance(article, Article)


def test_deep_nesting_is_cut_not_fatal() -> None:
    html = "<html><body>" + "<div>" * 100_000 + "profond" + "</div>" * 100_000 + "</body></html>"
    article = extract_article(html, URL)
    assert isinstance(article, Article)
    # libxml2 stops at 256 levels: the text beyond is lost, the process is not.
    assert "profond" not in article.body


def test_five_megabyte_text_node() -> None:
    html = "<html><body><article><p>" + "mot " * 1_250_000 + "</p></article></body></html>"
    article = extract_article(html, URL)
    assert article.word_count() > 100_000


def test_meta_charset_in_decoded_text_is_not_applied_twice() -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body><article>'
    html += "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article></body></html>"
    article = extract_article(html, URL)
    assert PARAGRAPHS[0] in article.body


def test_extraction_error_carries_url_and_reason() -> None:
    error = ExtractionError(URL, "no root element")
    assert isinstance(error, SpiderError)
    assert error.url == URL and error.reason == "no root element"
    assert URL in str(error) and "Content-Type" in str(error)


def test_parse_html_gives_a_document_root() -> None:
    tree = parse_html("<p>fragment</p>", URL)
    assert tree is not None and tree.tag == "html"
    assert parse_html("", URL) is None
