"""Links an article page gives: related articles to follow, and its translations.

:func:`related_links` reads the links of a page (or of the region a CSS selector names, such as
``aside.related``) that stay inside the allowed domains and look like articles: courlan's
filters drop tag, category, author and pagination pages, logins and feeds; files (images, PDF)
are skipped too.

:func:`translation_links` finds the other language versions of an article, two ways:

- ``<link rel="alternate" hreflang="de" href="…">`` in the head (and ``<a hreflang>``);
- a visible "Available in: English Portuguese (Brazil) German French Arabic" block, as
  Progressive International prints under its articles: a label ("Available in", "Disponible
  en", "Verfügbar in" …) near links whose text is a language name in one of a dozen languages.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from courlan import is_navigation_page, is_not_crawlable

from spiders.discovery.canonical import url_key
from spiders.items import normalise_line

if TYPE_CHECKING:
    from collections.abc import Iterable

    from parsel import Selector

logger = logging.getLogger(__name__)

HREFLANG = "hreflang"
AVAILABLE_IN = "available_in"

_FILES = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|ico|pdf|zip|gz|mp3|mp4|m4a|webm|avi|mov|docx?|xlsx?|pptx?|"
    r"css|js|json|xml|rss|atom)$",
    re.IGNORECASE,
)

# Labels that introduce a list of language versions (compared without accents, lower case).
_AVAILABLE_LABELS = (
    "available in", "also available in", "read in", "read this in", "other languages",
    "disponible en", "lire en", "aussi disponible en", "autres langues",
    "disponivel em", "leia em", "outros idiomas",
    "verfugbar in", "verfugbar auf", "lesen auf", "andere sprachen",
    "disponible en", "leer en", "otros idiomas",
    "disponibile in", "leggi in", "altre lingue",
    "متوفر", "متاح", "اقرأ",
)

# Language names as sites print them, in English, the language itself, French, German,
# Portuguese and Spanish (compared without accents, lower case).
_LANGUAGE_NAMES: dict[str, str] = {}
for _code, _names in {
    "en": "english anglais englisch ingles ingles inglese الإنجليزية الانجليزية",
    "fr": "french francais franzosisch frances francese الفرنسية",
    "de": "german deutsch allemand alemao aleman tedesco الألمانية",
    "pt": "portuguese portugues portugais portugiesisch portoghese البرتغالية",
    "pt-BR": "portuguese(brazil) portugues(brasil) portugais(bresil) portugiesisch(brasilien) "
    "brazilianportuguese portuguesdobrasil",
    "es": "spanish espanol espagnol spanisch spagnolo castellano الإسبانية",
    "it": "italian italiano italien italienisch",
    "ar": "arabic العربية عربي arabe arabisch arabo",
    "he": "hebrew עברית hebreu hebraisch ebraico",
    "ru": "russian русский russe russisch ruso",
    "zh": "chinese 中文 chinois chinesisch chino",
    "tr": "turkish turkce turc turkisch turco",
    "nl": "dutch nederlands neerlandais niederlandisch",
    "pl": "polish polski polonais polnisch",
    "el": "greek ελληνικα grec griechisch",
    "hi": "hindi हिन्दी",
    "uk": "ukrainian українська ukrainien ukrainisch",
    "fa": "persian farsi فارسی persan persisch",
}.items():
    for _name in _names.split():
        _LANGUAGE_NAMES.setdefault(_name, _code)


def _fold(text: str) -> str:
    """Lower case, accents removed, spaces squeezed: how labels and names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return normalise_line(bare).casefold()


def language_of_name(text: str) -> str | None:
    """``"Portuguese (Brazil)"`` -> ``"pt-BR"``; ``"Deutsch"`` -> ``"de"``; else None."""
    folded = _fold(text).replace(" ", "")
    return _LANGUAGE_NAMES.get(folded)


def in_domains(url: str, domains: Iterable[str]) -> bool:
    """True when the URL's host is one of ``domains`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def looks_like_article(url: str) -> bool:
    """False for navigation pages, logins, feeds and files (courlan's filters and extensions)."""
    path = urlsplit(url).path
    if path in ("", "/") or _FILES.search(path):
        return False
    return not (is_navigation_page(url) or is_not_crawlable(url))


def related_links(
    sel: Selector,
    base_url: str,
    domains: Iterable[str],
    *,
    selector: str | None = None,
) -> list[tuple[str, str | None]]:
    """(absolute URL, link text) of the article links of a page, inside ``domains``."""
    domains = [d.lower().removeprefix("www.") for d in domains]
    region = sel.css(selector) if selector else [sel]
    own = url_key(base_url)
    found: dict[str, tuple[str, str | None]] = {}
    for area in region:
        for link in area.css("a[href]"):
            href = (link.attrib.get("href") or "").strip()
            if not href or href.startswith("#"):
                continue
            url = urljoin(base_url, href).split("#", 1)[0]
            if urlsplit(url).scheme not in ("http", "https") or not in_domains(url, domains):
                continue
            if not looks_like_article(url):
                continue
            key = url_key(url)
            if key == own or key in found:
                continue
            text = normalise_line(" ".join(link.css("::text").getall())) or None
            found[key] = (url, text)
    return list(found.values())


def translation_links(sel: Selector, base_url: str) -> list[tuple[str, str, str]]:
    """(language tag, absolute URL, how found) of the page's other language versions."""
    found: dict[str, tuple[str, str, str]] = {}

    def add(lang: str, href: str, via: str) -> None:
        lang = lang.strip()
        if not lang or lang.lower() == "x-default" or not href.strip():
            return
        url = urljoin(base_url, href.strip())
        if urlsplit(url).scheme not in ("http", "https"):
            return
        found.setdefault(url_key(url), (lang, url, via))

    for link in sel.xpath("//link[@hreflang][@href] | //a[@hreflang][@href]"):
        add(link.attrib["hreflang"], link.attrib["href"], HREFLANG)
    for lang, href in _available_in(sel):
        add(lang, href, AVAILABLE_IN)
    return list(found.values())


def _available_in(sel: Selector) -> list[tuple[str, str]]:
    """Links named after languages, next to an "Available in" label."""
    out: list[tuple[str, str]] = []
    for element in sel.xpath("//body//*[text()[normalize-space()]]"):
        text = _fold(" ".join(element.xpath("text()").getall()))
        if len(text) > 40 or not any(text.startswith(label) for label in _AVAILABLE_LABELS):
            continue
        # The label's element, then up to three ancestors, until one holds language links.
        parent = element
        for _ in range(4):
            if not parent:
                break
            links = [
                (lang, a.attrib["href"])
                for a in parent.css("a[href]")
                if (lang := language_of_name(" ".join(a.css("::text").getall())))
            ]
            if links:
                out.extend(links)
                break
            parent = parent.xpath("..")
    return out
