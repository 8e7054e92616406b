"""detect_anomaly: crafted bad pages are caught, normal articles (even awkward ones) are not."""

from __future__ import annotations

import pytest

from spiders.anomaly import detect_anomaly, word_count
from spiders.extract import extract_article
from tests.spiders.test_extract import PARAGRAPHS, URL, page


def state(html: str, http_status: int = 200) -> str | None:
    return detect_anomaly(html, extract_article(html, URL), http_status=http_status)


LEAD = (
    "Le conseil municipal de Nîmes a adopté mardi soir le budget de l’année prochaine, marqué "
    "par une hausse des dépenses consacrées aux écoles et une hausse de la taxe foncière."
)

CLOUDFLARE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper" role="main">
<div class="main-content"><h1 class="zone-name-title h1">www.lejournal.fr</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div id="challenge-error-title">Enable JavaScript and cookies to continue</div></noscript>
<div id="challenge-body-text" class="core-msg spacer">www.lejournal.fr needs to review the security
of your connection before proceeding.</div>
<form id="challenge-form" action="/?__cf_chl_f_tk=abc" method="POST"></form></div></div>
<script>(function(){window._cf_chl_opt={cvId: '2',cZone: 'www.lejournal.fr'};}());</script>
<div class="footer">Performance &amp; security by Cloudflare</div></body></html>"""

CLOUDFLARE_BLOCKED = """<html><head><title>Attention Required! | Cloudflare</title></head><body>
<div id="cf-wrapper"><h1>Sorry, you have been blocked</h1>
<h2>You are unable to access lejournal.fr</h2>
<h2>Why have I been blocked?</h2><p>This website is using a security service to protect itself
from online attacks. The action you just performed triggered the security solution.</p>
<p>Cloudflare Ray ID: 7a1b2c3d4e5f</p></div></body></html>"""

DATADOME = """<html><head><title>lejournal.fr</title><style>#cmsg{animation: A 1.5s;}</style></head>
<body style="margin:0"><p id="cmsg">Please enable JS and disable any ad blocker</p>
<script data-cfasync="false">var dd={'rt':'c','cid':'AHrlqAAAAAMA','hsh':'2211F5','t':'fe',
'host':'geo.captcha-delivery.com'}</script>
<script data-cfasync="false" src="https://ct.captcha-delivery.com/c.js"></script></body></html>"""

PERIMETERX = """<html lang="en"><head><title>Access to this page has been denied</title></head>
<body><div class="px-captcha-container"><h1>Please verify you are a human</h1>
<p>Press &amp; Hold to confirm you are a human (and not a bot).</p><div id="px-captcha"></div>
<p>Reference ID 3a7f0c2e-1234</p></div>
<script>window._pxAppId = 'PXabc123';</script></body></html>"""

AKAMAI = """<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>
You don't have permission to access "http&#58;&#47;&#47;www&#46;lejournal&#46;fr&#47;" on this
server.<P>Reference&#32;&#35;18&#46;4a3b2c17&#46;1700000000&#46;1a2b3c</BODY></HTML>"""

ROBOT_CHECK = """<html><head><title>Vérification</title></head><body><h2>Êtes-vous un robot ?</h2>
<p>Pour continuer, merci de cocher la case ci-dessous.</p>
<form action="/verify" method="post"><div class="g-recaptcha" data-sitekey="6Lc_aX0UAAAAAB"></div>
<button type="submit">Valider</button></form></body></html>"""

CONSENT_FR = """<html lang="fr"><head><title>Le Journal</title></head><body>
<div class="consent-wall">
<h2>Nous respectons votre vie privée</h2>
<p>Avec votre accord, nos partenaires et nous utilisons des cookies ou technologies similaires pour
stocker et accéder à des informations personnelles comme votre visite sur ce site. Vous pouvez
retirer votre consentement ou vous opposer aux traitements basés sur l'intérêt légitime à tout
moment en cliquant sur « En savoir plus » ou dans notre politique de confidentialité sur ce
site.</p>
<p>Avec nos partenaires, nous traitons les données suivantes : données de géolocalisation précises,
analyse active des caractéristiques du terminal pour l’identification, publicités et contenu
personnalisés, mesure de performance des publicités et du contenu.</p>
<button>Tout accepter</button> <button>Continuer sans accepter</button>
<button>Paramétrer les cookies</button></div></body></html>"""

CONSENT_EN = """<html lang="en"><head><title>Before you continue</title></head><body>
<div class="consent"><h1>Before you continue to Le Journal</h1>
<p>We use cookies and data to deliver and maintain our services, track outages and protect
against spam, fraud and abuse, and measure audience engagement and site statistics.</p>
<p>If you choose to "Accept all", we will also use cookies and data to develop and improve new
services, deliver and measure the effectiveness of ads, and show personalised content. If you
choose to "Reject all", we will not use cookies for these additional purposes.</p>
<button>Reject all</button> <button>Accept all</button> <a href="/privacy">More options</a>
</div></body></html>"""

PAYWALL_FR = page((LEAD,)).replace(
    "</article>",
    '<div class="paywall"><p>Il vous reste 85 % de cet article à lire. La suite est réservée '
    "aux abonnés.</p><a href='/abonnement'>S’abonner</a> <a href='/login'>Déjà abonné ? "
    "Se connecter</a></div></article>",
)

PAYWALL_EN = page(
    ("The city council voted on Tuesday night to approve next year's budget after a debate that "
     "lasted more than four hours, with spending on schools rising sharply.",),
    lang="en",
).replace("</article>", "<div><p>Subscribe to continue reading. Already a subscriber? "
          "<a href='/login'>Log in</a></p></div></article>")

NOT_FREE = page((LEAD,), head='<script type="application/ld+json">{"@type": "NewsArticle", '
                '"headline": "Nîmes", "isAccessibleForFree": "False"}</script>')

NOT_FOUND_EN = """<html lang="en"><head><title>Page not found | The Journal</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<h1>Sorry – we can’t find the page you were looking for</h1>
<p>This may be because you typed the address wrong, or the page has moved.</p>
<p>Try our <a href="/search">search</a> or go back to the <a href="/">home page</a>.</p>
</body></html>"""

NOT_FOUND_FR = """<html lang="fr"><head><title>Page introuvable - Le Journal</title></head><body>
<header><a href="/">Le Journal</a></header><h1>Oups ! Cette page n’existe pas</h1>
<p>La page que vous cherchez a peut-être été supprimée ou déplacée.</p>
<ul><li><a href="/a">Nîmes adopte son budget</a></li>
<li><a href="/b">Le Tour de France</a></li></ul>
</body></html>"""

ERREUR_404 = """<html lang="fr"><head><title>Erreur 404 | Le Journal</title></head><body>
<div class="logo">Le Journal</div><p>Le contenu demandé n’est plus disponible.</p>
<p><a href="/">Retour à l’accueil</a></p></body></html>"""

BARE_404_H1 = """<html><head><title>Le Journal</title></head><body><h1>404</h1>
<p>Nous n’avons pas trouvé cette page. <a href="/">Accueil</a></p></body></html>"""

APP_SHELL = """<!doctype html><html lang="fr"><head><title>Le Journal</title>
<script src="/static/js/main.4f2a.js"></script></head><body><noscript>Vous devez activer
JavaScript pour utiliser cette application.</noscript><div id="root"></div></body></html>"""

CHROME_ONLY = """<html><head><title>Le Journal</title></head><body>
<header><nav><a href="/">Accueil</a> <a href="/politique">Politique</a></nav></header>
<main><article></article></main><footer>© Le Journal — Mentions légales</footer></body></html>"""


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (CLOUDFLARE, "blocked"),
        (CLOUDFLARE_BLOCKED, "blocked"),
        (DATADOME, "blocked"),
        (PERIMETERX, "blocked"),
        (AKAMAI, "blocked"),
        (ROBOT_CHECK, "blocked"),
        (CONSENT_FR, "blocked"),
        (CONSENT_EN, "blocked"),
        (PAYWALL_FR, "blocked"),
        (PAYWALL_EN, "blocked"),
        (NOT_FREE, "blocked"),
        (NOT_FOUND_EN, "error_page"),
        (NOT_FOUND_FR, "error_page"),
        (ERREUR_404, "error_page"),
        (BARE_404_H1, "error_page"),
        (APP_SHELL, "empty"),
        (CHROME_ONLY, "empty"),
        ("", "empty"),
    ],
    ids=["cloudflare", "cloudflare-blocked", "datadome", "perimeterx", "akamai", "recaptcha",
         "consent-fr", "consent-en", "paywall-fr", "paywall-en", "not-free-jsonld", "404-en",
         "404-fr", "erreur-404", "h1-404", "app-shell", "chrome-only", "empty-string"],
)
def test_bad_pages_are_caught(html: str, expected: str) -> None:
    assert state(html) == expected


def test_challenge_with_403_is_still_blocked() -> None:
    assert state(CLOUDFLARE, http_status=403) == "blocked"
    assert state(CLOUDFLARE_BLOCKED, http_status=503) == "blocked"


def test_other_states_need_a_2xx() -> None:
    """A 404 or 500 is the status code's business (``gone``, ``http_error``), not ours."""
    assert state(NOT_FOUND_EN, http_status=404) is None
    assert state(APP_SHELL, http_status=500) is None


# --- precision: normal articles, even awkward ones ------------------------------------------


def test_normal_article() -> None:
    assert state(page()) is None


def test_article_that_mentions_captcha_and_access_denied() -> None:
    paras = (
        *PARAGRAPHS[:2],
        "Les habitants qui veulent s’inscrire en ligne doivent résoudre un captcha, et beaucoup "
        "se plaignent d’un message « Access denied » ou « Checking your browser » sur le site.",
        *PARAGRAPHS[2:],
    )
    assert state(page(paras)) is None


def test_article_with_cookie_banner_and_recaptcha_form() -> None:
    banner = (
        '<div id="cookie-banner"><p>Nous utilisons des cookies et nos partenaires aussi.</p>'
        "<button>Tout accepter</button><button>Continuer sans accepter</button></div>"
        '<form class="newsletter"><div class="g-recaptcha"></div></form>'
    )
    assert state(page().replace("<main>", banner + "<main>")) is None


def test_short_brief_with_cookie_banner() -> None:
    """A three-paragraph brief is short, but it is the article: the banner beside it is not."""
    banner = '<div class="cmp"><button>Accept all</button> <button>Reject all</button></div>'
    assert state(page(PARAGRAPHS[:3]).replace("<main>", banner + "<main>")) is None


def test_full_article_with_subscriber_labels_and_paywall_markup() -> None:
    """A subscriber reads the full text of a paywalled article: not a teaser."""
    labels = page(head='<script type="application/ld+json">{"@type": "NewsArticle", '
                  '"isAccessibleForFree": false}</script>',
                  most_read=("Article réservé aux abonnés : les retraites",
                             "Subscribers only: the budget"))
    long_paras = PARAGRAPHS * 4
    assert state(labels.replace("<article>", "<article>" + "".join(
        f"<p>{p}</p>" for p in long_paras))) is None


def test_short_brief_with_a_challenge_like_headline() -> None:
    """Three short paragraphs titled like a challenge page: still an article."""
    for headline in ("Security check : longues files à l’aéroport de Nîmes",
                     "Access denied: the court rules against the ministry"):
        html = page(PARAGRAPHS[:3]).replace("Nîmes adopte son budget", headline)
        assert state(html) is None, headline


def test_article_about_404_errors() -> None:
    html = page().replace(
        "<title>Nîmes adopte son budget | Le Journal</title>",
        "<title>Erreur 404 : histoire d’un code | Le Journal</title>",
    ).replace("<h1>Nîmes adopte son budget</h1>", "<h1>Erreur 404 : histoire d’un code</h1>")
    assert state(html) is None


def test_article_about_consent() -> None:
    paras = (
        "La CNIL a infligé mardi une amende de 150 millions d’euros à un moteur de recherche pour "
        "avoir rendu le refus des cookies plus compliqué que leur acceptation.",
        "Selon l’autorité, les internautes devaient cliquer plusieurs fois pour refuser les "
        "traceurs publicitaires, alors qu’un seul clic suffisait pour les accepter.",
        "Le consentement doit être libre, rappelle la CNIL, qui examine les bandeaux de "
        "plusieurs centaines de sites et de leurs partenaires publicitaires depuis deux ans.",
        "L’entreprise a annoncé qu’elle ferait appel de cette décision, tout en modifiant son "
        "bandeau pour proposer un bouton de refus sur le premier écran.",
    )
    banner = '<div class="cmp"><button>Tout accepter</button><button>Tout refuser</button></div>'
    assert state(page(paras).replace("<main>", banner + "<main>")) is None


def test_word_count_counts_cjk_characters() -> None:
    assert word_count("two words") == 2
    assert word_count("谷歌在2014年收购") == 7  # six CJK characters and "2014"
    assert word_count("") == 0
