"""Tell when a page that answered 200 is not the article: empty, blocked, or an error page.

A wrong answer here costs a false version (a challenge page stored as the article, then the
article again) or, worse, a real article reported as blocked. So every rule pairs a marker with a
short body: a full article that mentions "captcha" or shows a cookie banner beside its text is
never an anomaly.

- ``blocked``: a bot challenge (Cloudflare "Just a moment...", DataDome, PerimeterX, Incapsula,
  "Access denied"), a cookie or consent wall with no article behind it, or a paywall teaser
  ("Il vous reste 80 % de cet article à lire", "Subscribe to continue reading");
- ``error_page``: a soft 404, whose title or ``<h1>`` *is* "Page not found", "Page introuvable",
  "Erreur 404"... (a title that merely contains "404" is an article about 404s);
- ``empty``: no body at all, or a few words on a page that has little text anyway.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from spiders.errors import SpiderError
from spiders.tree import parse_html
from spiders.items import normalise_line

if TYPE_CHECKING:
    from spiders.items import Article

logger = logging.getLogger(__name__)

# A body shorter than this (in words) may be a teaser or a challenge; a real article is longer.
ANOMALY_SHORT_BODY_WORDS = 150
# A paywall teaser often shows a whole lead paragraph or two.
ANOMALY_TEASER_WORDS = 250
# "Nearly empty": fewer words than this in the body...
ANOMALY_EMPTY_BODY_WORDS = 25
# ...on a page with fewer visible words than this (else the page has content we failed to find).
ANOMALY_LITTLE_PAGE_WORDS = 150
# A consent wall whose privacy text was taken for the body stays under this length.
ANOMALY_CONSENT_BODY_WORDS = 400
# A soft 404 has a few suggestions and a search box, not an article.
ANOMALY_ERROR_PAGE_WORDS = 400

# Titles of challenge and denial pages: a whole <title> part or <h1>, so that a brief titled
# "Security check at the airport delayed flights" stays an article.
_CHALLENGE_TITLE = re.compile(
    r"just a moment|un instant|one moment,? please|attention required|access denied|"
    r"acc[eè]s refus[ée]|access to this page has been denied|are you a robot|robot check|"
    r"[eê]tes-vous un robot|security check|v[ée]rification de s[ée]curit[ée]|"
    r"human verification|(?:please )?verify you are (?:a )?human|pardon our interruption|"
    r"checking your browser.*|ddos-guard|request (?:blocked|unsuccessful.*)|"
    r"(?:sorry, )?you have been blocked|(?:403 )?forbidden",
    re.IGNORECASE,
)
# Markup only challenge pages carry (a normal page may load the vendor's script, not these).
_CHALLENGE_MARKUP = re.compile(
    r"cf_chl_|chl_page|cf-challenge|cf-browser-verification|id=[\"']challenge-(?:form|running)|"
    r"captcha-delivery\.com|px-captcha|_pxcaptcha|incapsula incident id|_incapsula_resource|"
    r"/distil_r_captcha|errors\.edgesuite\.net",
    re.IGNORECASE,
)
# Captcha widgets also sit on normal pages (comment forms): they count only on a nearly bare page.
_CAPTCHA_WIDGET = re.compile(r"g-recaptcha|h-captcha|cf-turnstile|captcha", re.IGNORECASE)
_CHALLENGE_TEXT = re.compile(
    r"checking (?:if the site connection is secure|your browser)|"
    r"verif(?:y|ying) you are (?:a )?human|"
    r"v[ée]rifi(?:ez|ons) que vous [êe]tes (?:un )?humain|press (?:&|and) hold|"
    r"enable javascript and cookies to continue|unusual traffic from your computer|"
    r"you have been blocked|why have i been blocked|not a robot|pas un robot|"
    r"access to this page has been denied|you don't have permission to access",
    re.IGNORECASE,
)
# Phrases seen on paywall teasers only (not on "subscriber-only" labels in lists of links).
_PAYWALL_TEXT = re.compile(
    r"il vous reste \d+ ?% de cet article|la suite (?:de cet article )?est r[ée]serv[ée]e|"
    r"cet article est r[ée]serv[ée] aux abonn[ée]s|"
    r"abonnez-vous pour (?:lire|d[ée]couvrir) la suite|"
    r"contenu r[ée]serv[ée] aux abonn[ée]s|"
    r"subscribe (?:now )?to (?:continue reading|read the (?:full|rest))|"
    r"to continue reading,? (?:subscribe|please|log in|sign in)|"
    r"(?:this|the rest of this) (?:article|story|content) is (?:for|reserved for|available to) "
    r"(?:paying )?subscribers|subscribers only|"
    r"you(?:'ve| have) reached your (?:limit of free articles|free article limit)",
    re.IGNORECASE,
)
_NOT_FREE_MARKUP = re.compile(r"[\"']?isAccessibleForFree[\"']?\s*:\s*[\"']?false", re.IGNORECASE)
# Button labels of consent dialogs: an article about cookies does not contain them.
_CONSENT_BUTTON = re.compile(
    r"accept all|accept cookies|i accept|agree and continue|reject all|manage (?:preferences|"
    r"cookies|options)|tout accepter|tout refuser|accepter et (?:continuer|fermer)|j'accepte|"
    r"continuer sans accepter|param[ée]trer les cookies|g[ée]rer mes choix|personnaliser mes choix",
    re.IGNORECASE,
)
# What a consent dialog says to the reader, in the first and second person; an article about
# cookies speaks of "les cookies" and "le consentement", not "votre consentement".
_CONSENT_DIALOG = re.compile(
    r"we use cookies|we and our partners|our partners|with your (?:consent|permission)|"
    r"your consent|manage your (?:choices|preferences)|privacy policy|cookie policy|"
    r"accept all|reject all|nous utilisons des cookies|nos partenaires|avec votre accord|"
    # "Pay or okay" walls: accept the trackers or subscribe.
    r"acceptez (?:l'utilisation|le d[ée]p[ôo]t) (?:de|des) (?:cookies|traceurs)|"
    r"autres traceurs|param[ée]trer les cookies|accept (?:the use of )?cookies|"
    r"votre consentement|g[ée]rer vos (?:choix|pr[ée]f[ée]rences)|"
    r"politique de (?:confidentialit[ée]|cookies)|tout accepter|tout refuser",
    re.IGNORECASE,
)
# A whole title segment (between separators) or <h1> that names an error page.
_ERROR_TITLE = re.compile(
    r"(?:error |erreur )?404(?: error| not found| erreur)?|(?:http )?error 404|erreur 404|"
    r"(?:oops|oups)[!.,]* ?(?:page|something).*|"
    r"(?:the )?(?:page|article|content|contenu|document) (?:not found|introuvable|"
    r"non trouv[ée]e?|inexistante?|n'existe (?:pas|plus)|does not exist|doesn't exist|"
    r"cannot be found|could not be found|is missing|has been removed)|"
    r"not found|introuvable|cette page n'existe (?:pas|plus)|"
    r"(?:sorry, )?(?:we can't|we couldn't|we cannot) find (?:that|this|the) page.*|"
    r"(?:d[ée]sol[ée], )?(?:la|cette) page (?:demand[ée]e )?"
    r"(?:est introuvable|n'existe (?:pas|plus))",
    re.IGNORECASE,
)
# Every rule needs a body shorter than this.
_EVERY_RULE_NEEDS_FEWER_WORDS = max(
    ANOMALY_SHORT_BODY_WORDS, ANOMALY_TEASER_WORDS, ANOMALY_CONSENT_BODY_WORDS,
    ANOMALY_ERROR_PAGE_WORDS,
)
_TITLE_SEPARATORS = re.compile(r"\s+[-–—]\s+|\s*[|·•»:]\s+|\s*[|·•»]\s*")
# Ideographs and kana are written without spaces: each one counts as a word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg")


def detect_anomaly(html: str, article: Article, *, http_status: int = 200) -> str | None:
    """Return ``"blocked"``, ``"error_page"`` or ``"empty"`` when the page is not the article.

    None means a normal article. For a non-2xx status only ``"blocked"`` is reported (challenges
    come with 403 or 503); the status code itself tells the rest.
    """
    body_words = word_count(article.body)
    if body_words >= _EVERY_RULE_NEEDS_FEWER_WORDS:
        return None  # a long body is an article whatever the page says: skip parsing it again
    page = _Page.read(html)
    if _is_blocked(page, article, body_words):
        return "blocked"
    if not 200 <= http_status < 300:
        return None
    if body_words < ANOMALY_ERROR_PAGE_WORDS and _is_error_page(page, article, body_words):
        return "error_page"
    if body_words == 0 or (
        body_words < ANOMALY_EMPTY_BODY_WORDS and page.words < ANOMALY_LITTLE_PAGE_WORDS
    ):
        return "empty"
    return None


def word_count(text: str) -> int:
    """Words in ``text``, each CJK character counting as one (they are not space-separated)."""
    cjk = len(_CJK.findall(text))
    if not cjk:
        return len(text.split())
    return cjk + len(_CJK.sub(" ", text).split())


@dataclass(frozen=True)
class _Page:
    """The parts of the raw page the rules look at."""

    html: str
    title: str  # <title>
    h1s: tuple[str, ...]
    text: str  # visible text, normalised
    words: int

    @classmethod
    def read(cls, html: str) -> _Page:
        try:
            tree = parse_html(html, "about:anomaly")
        except SpiderError:
            tree = None
        if tree is None:
            return cls(html=html, title="", h1s=(), text="", words=0)
        title = next((normalise_line(el.text_content()) for el in tree.iter("title")), "")
        h1s = tuple(h1 for el in tree.iter("h1") if (h1 := normalise_line(el.text_content())))
        etree.strip_elements(tree, *_INVISIBLE_TAGS, with_tail=False)
        body = tree.find("body")
        text = normalise_line(body.text_content()) if body is not None else ""
        return cls(html=html, title=title, h1s=h1s, text=text, words=word_count(text))


def _is_blocked(page: _Page, article: Article, body_words: int) -> bool:
    if body_words < ANOMALY_SHORT_BODY_WORDS:
        if _named(_CHALLENGE_TITLE, page, article):
            return True
        if _CHALLENGE_MARKUP.search(page.html) or _CHALLENGE_TEXT.search(page.text):
            return True
        if page.words < ANOMALY_LITTLE_PAGE_WORDS and _CAPTCHA_WIDGET.search(page.html):
            return True
        if _NOT_FREE_MARKUP.search(page.html):
            return True
    if body_words < ANOMALY_TEASER_WORDS and _PAYWALL_TEXT.search(page.text):
        return True
    return _is_consent_wall(page, article, body_words)


def _is_consent_wall(page: _Page, article: Article, body_words: int) -> bool:
    """A consent dialog with no article behind it, or whose privacy text became the body."""
    if body_words >= ANOMALY_CONSENT_BODY_WORDS or not _CONSENT_BUTTON.search(page.text):
        return False
    if body_words < ANOMALY_EMPTY_BODY_WORDS:
        return True
    said = {m.group(0).lower() for m in _CONSENT_DIALOG.finditer(article.body)}
    return len(said) >= 2


def _is_error_page(page: _Page, article: Article, body_words: int) -> bool:
    """An ``<h1>`` that is an error message, or a title with an error part ("Erreur 404 - Site").

    A page with a headline of its own needs a short body too.
    """
    found = _named(_ERROR_TITLE, page, article)
    if found == "title" and page.h1s:
        return body_words < ANOMALY_SHORT_BODY_WORDS
    return found is not None


def _named(pattern: re.Pattern[str], page: _Page, article: Article) -> str | None:
    """Where the page is named by ``pattern``: a whole ``<h1>`` ("h1"), or a title or a part of
    it between separators ("title"); None when nowhere.

    A title part that is also in the headline *is* the headline: "Erreur 404 : histoire d'un
    code" or "Security check : longues files" are articles.
    """
    if any(_is_part(pattern, h1) for h1 in page.h1s):
        return "h1"
    for title in (page.title, article.title):
        for part in (title, *_TITLE_SEPARATORS.split(title)):
            if _is_part(pattern, part) and not any(part.strip() in h1 for h1 in page.h1s):
                return "title"
    return None


def _is_part(pattern: re.Pattern[str], text: str) -> bool:
    return bool(pattern.fullmatch(text.replace("’", "'").strip(" !.…?¡¿").strip()))
