"""A bundled offline news site for ``veille demo`` and the discovery tests, served on 127.0.0.1.

Three made-up outlets, written for veille (short texts in the spirit of the seed articles, not
copies of them):

- **Le Fil Tech** (French tech news, like Clubic): an article about Microsoft employees asking
  their company to end police contracts, with reader comments (WordPress markup) and an AMP
  copy; off-topic articles (a storm, an Xbox controller, remote work); an RSS feed whose links
  carry ``utm_*`` trackers; a Google News sitemap;
- **Solidarity Wire** (like Progressive International): one article about tech workers and an
  Israeli army unit in English, Brazilian Portuguese, German, French and Arabic, tied by
  hreflang links and an "Available in" block; an Atom feed; a sitemap with hreflang;
- **The Weekly Dispatch** (like The Nation): the original of that article, an article about
  police cloud contracts that only the search page lists (on page 2), a German article, and
  off-topic ones; a JSON Feed.

Plus ``/sitemap_index.xml`` (an index of the two sitemaps), ``/search?q=…&page=N`` (three
results a page, ``rel=next``), ``/robots.txt``. Pages carry noise (ads, view counters, "il y a N
minutes", tokens) that must never make a version. :meth:`DemoSite.edit` makes the second
round's changes: a headline edit, a silent edit of the French translation only (a translation
lag), two new comments and a newly published article; :meth:`DemoSite.moderate` the third's: a
reader edits a comment and a moderator deletes another.
"""

from __future__ import annotations

import html
import json
import random
import threading
import unicodedata
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

TOPIC_QUERY = 'microsoft AND (police OR armée OR army OR "unit 8200" OR azure)'
TOPIC_LANGUAGES = ("fr", "en")
RESULTS_PER_PAGE = 3
HTML = "text/html; charset=utf-8"

# Paths of the articles the demo and the tests refer to.
FIL_POLICE = "/fil-tech/2020/06/microsoft-police.html"
FIL_POLICE_AMP = "/fil-tech/amp/2020/06/microsoft-police.html"
FIL_NEW = "/fil-tech/2025/10/azure-armee-salaries.html"  # published in round 2
SW_STORY = "/solidarity/{lang}/articles/tech-workers-unit-8200/"
SW_LANGUAGES = ("en", "pt-BR", "de", "fr", "ar")
DISPATCH_ORIGINAL = "/dispatch/2025/10/microsoft-blinks.html"
DISPATCH_SEARCH_ONLY = "/dispatch/2025/09/police-cloud-engineers.html"
DISPATCH_GERMAN = "/dispatch/de/2025/10/beschaeftigte-armee.html"
# Comments of FIL_POLICE that round 3 (DemoSite.moderate) edits and deletes.
MODERATED_EDIT = 103
MODERATED_DELETE = 102


def story_path(lang: str) -> str:
    """The path of one language version of the Solidarity Wire story."""
    return SW_STORY.format(lang=lang.lower())


@dataclass
class Comment:
    """A reader comment printed under an article."""

    id: int
    author: str
    posted: str  # ISO 8601
    text: str


@dataclass
class DemoArticle:
    """One article page of the demo site."""

    path: str
    outlet: str  # fil-tech | solidarity | dispatch
    lang: str
    title: str
    author: str
    published: str
    paragraphs: list[str]
    modified: str | None = None
    canonical: str | None = None  # path of the canonical page (an AMP copy points at it)
    alternates: dict[str, str] = field(default_factory=dict)  # hreflang -> path
    related: list[str] = field(default_factory=list)  # paths in <aside class="related">
    comments: list[Comment] = field(default_factory=list)
    source: str | None = None  # path of the original article
    published_in_round: int = 1
    in_feed: bool = True
    in_sitemap: bool = True


def _story() -> list[DemoArticle]:
    texts = {
        "en": ("How tech workers pushed Microsoft to cut off an Israeli army unit", [
            "Microsoft has stopped providing some of its Azure cloud and AI services to Unit "
            "8200, an intelligence unit of the Israeli army, after reporters showed how its "
            "storage had been used for mass surveillance.",
            "Employees organised as No Azure for Apartheid had spent months on petitions, "
            "vigils and sit-ins before the company announced the decision in an email to staff.",
            "Organisers call it a partial victory: much of the data is said to have moved to "
            "another cloud provider, and other contracts with the army remain in place.",
        ]),
        "pt-BR": ("Como trabalhadores da tecnologia levaram a Microsoft a cortar uma unidade do "
                  "exército israelense", [
            "A Microsoft deixou de fornecer parte de seus serviços de nuvem Azure e de IA à "
            "Unidade 8200, uma unidade de inteligência do exército israelense, depois que "
            "reportagens mostraram o uso de seu armazenamento para vigilância em massa.",
            "Funcionários organizados na campanha No Azure for Apartheid passaram meses entre "
            "abaixo-assinados, vigílias e ocupações antes do anúncio da empresa.",
            "Os organizadores falam de uma vitória parcial: boa parte dos dados teria ido para "
            "outro provedor, e outros contratos continuam em vigor.",
        ]),
        "de": ("Wie Tech-Beschäftigte Microsoft dazu brachten, einer Einheit der israelischen "
               "Armee den Zugang zu sperren", [
            "Microsoft liefert einen Teil seiner Azure-Cloud- und KI-Dienste nicht mehr an die "
            "Einheit 8200, eine Geheimdiensteinheit der israelischen Armee, nachdem Recherchen "
            "die Nutzung des Speichers für Massenüberwachung gezeigt hatten.",
            "Beschäftigte der Kampagne No Azure for Apartheid hatten monatelang Petitionen, "
            "Mahnwachen und Sitzblockaden organisiert.",
            "Die Organisatorinnen sprechen von einem Teilerfolg: Viele Daten sollen zu einem "
            "anderen Anbieter gewandert sein, andere Verträge laufen weiter.",
        ]),
        "fr": ("Comment les salariés de la tech ont poussé Microsoft à couper une unité de "
               "l'armée israélienne", [
            "Microsoft a cessé de fournir une partie de ses services cloud Azure et d'IA à "
            "l'unité 8200, une unité de renseignement de l'armée israélienne, après des "
            "enquêtes montrant l'usage de son stockage pour une surveillance de masse.",
            "Des salariés réunis dans la campagne No Azure for Apartheid avaient multiplié "
            "pendant des mois pétitions, veillées et sit-in avant l'annonce de l'entreprise.",
            "Les organisateurs parlent d'une victoire partielle : une bonne partie des données "
            "aurait migré vers un autre fournisseur, et d'autres contrats restent en vigueur.",
        ]),
        "ar": ("كيف دفع عمال التكنولوجيا مايكروسوفت إلى قطع خدماتها عن وحدة في الجيش الإسرائيلي", [
            "أوقفت مايكروسوفت تقديم بعض خدمات الحوسبة السحابية Azure والذكاء الاصطناعي إلى "
            "الوحدة 8200 في الجيش الإسرائيلي، بعد تحقيقات صحفية كشفت استخدامها في المراقبة "
            "الجماعية.",
            "نظم موظفون في الشركة حملة بعنوان «لا لأزور من أجل الأبارتهايد» استمرت أشهرا من "
            "العرائض والاعتصامات.",
            "ويصف المنظمون القرار بأنه انتصار جزئي، إذ لا تزال عقود أخرى مع الجيش سارية.",
        ]),
    }
    alternates = {lang: story_path(lang) for lang in SW_LANGUAGES}
    return [
        DemoArticle(
            path=story_path(lang), outlet="solidarity", lang=lang, title=title,
            author="Jordan Ellis", published="2025-10-27T09:00:00+00:00", paragraphs=paragraphs,
            alternates=alternates, source=DISPATCH_ORIGINAL,
            in_feed=lang == "en", in_sitemap=lang in ("fr", "de"),
        )
        for lang, (title, paragraphs) in texts.items()
    ]


def build_articles() -> list[DemoArticle]:
    """Every article of the demo site, as published in round 1 (and the one of round 2)."""
    police = DemoArticle(
        path=FIL_POLICE, outlet="fil-tech", lang="fr",
        title="Des salariés de Microsoft demandent la fin des contrats avec la police",
        author="Camille Roux", published="2020-06-10T08:22:00+02:00",
        modified="2020-06-10T08:22:00+02:00",
        paragraphs=[
            "Plus de 250 salariés ont signé une lettre adressée à la direction.",
            "Une lettre ouverte circule chez Microsoft : ses signataires demandent à l'éditeur de "
            "rompre les contrats qui le lient à des services de police américains.",
            "Ils rappellent que le cloud Azure propose des outils d'analyse utilisés par les "
            "forces de l'ordre, et demandent à l'entreprise de soutenir une réforme de la police "
            "de Seattle, où elle a son siège.",
            "Ce n'est pas la première fois que des salariés de la tech interpellent leur employeur "
            "sur l'usage de leurs produits : la reconnaissance faciale a déjà suscité des "
            "pétitions chez d'autres géants du secteur.",
            "La direction n'a pas encore répondu publiquement à la lettre.",
        ],
        related=["/fil-tech/2020/06/teletravail-pme.html", DISPATCH_ORIGINAL],
        comments=[
            Comment(101, "Orion", "2020-06-10T09:05:00+02:00",
                    "250 signataires sur des dizaines de milliers de salariés, ça reste peu."),
            Comment(102, "Mistral", "2020-06-10T09:40:00+02:00",
                    "Peu, mais c'est public et signé de leur nom. Ça compte."),
            Comment(103, "pixel_noir", "2020-06-10T10:12:00+02:00",
                    "La vraie question, c'est ce que font les outils une fois vendus."),
            Comment(104, "Capucine", "2020-06-10T11:30:00+02:00",
                    "Un salarié a le droit de dire ce qu'il pense de la stratégie de sa boîte."),
        ],
    )
    amp = replace(police, path=FIL_POLICE_AMP, canonical=FIL_POLICE, comments=[],
                  in_feed=False, in_sitemap=False)
    fil_off = [
        DemoArticle("/fil-tech/2020/06/orages-ouest.html", "fil-tech", "fr",
                    "Orages : vigilance orange dans l'Ouest", "Louis Martin",
                    "2020-06-11T07:00:00+02:00", [
                        "Météo-France place six départements en vigilance orange aux orages.",
                        "Des rafales de 90 km/h sont attendues en fin de journée.",
                        "La vigilance devrait être levée demain matin."]),
        DemoArticle("/fil-tech/2020/06/manette-xbox.html", "fil-tech", "fr",
                    "Microsoft dévoile une nouvelle manette Xbox", "Inès Garnier",
                    "2020-06-11T10:00:00+02:00", [
                        "Microsoft présente une manette plus légère, avec une batterie "
                        "rechargeable.",
                        "Elle sera vendue en septembre, au même prix que le modèle actuel.",
                        "Les joueurs pourront remapper chaque bouton depuis leur console."]),
        DemoArticle("/fil-tech/2020/06/teletravail-pme.html", "fil-tech", "fr",
                    "Le télétravail progresse dans les PME", "Louis Martin",
                    "2020-06-12T09:00:00+02:00", [
                        "Une PME sur trois propose désormais le télétravail au moins un jour par "
                        "semaine.",
                        "Les salariés citent le temps de trajet gagné comme premier avantage.",
                        "Les dirigeants, eux, s'inquiètent de la cohésion des équipes."]),
    ]
    fil_new = DemoArticle(
        FIL_NEW, "fil-tech", "fr",
        "Azure : des salariés de Microsoft interpellent la direction sur l'armée",
        "Camille Roux", "2025-10-28T08:00:00+01:00", [
            "Des salariés de Microsoft demandent que la fin des services Azure pour une unité de "
            "l'armée israélienne soit étendue à tous les contrats militaires.",
            "Ils saluent une première victoire et annoncent de nouvelles actions.",
            "L'entreprise dit examiner chaque contrat au regard de ses principes."],
        published_in_round=2,
    )
    dispatch = [
        DemoArticle(DISPATCH_ORIGINAL, "dispatch", "en",
                    "Inside the campaign that made Microsoft blink", "Jordan Ellis",
                    "2025-10-20T12:00:00+00:00", [
                        "For a year, a few hundred Microsoft employees argued that Azure should "
                        "not serve an army accused of mass surveillance.",
                        "They organised petitions, disrupted company events and staged sit-ins "
                        "in executive offices.",
                        "Last week the company cut off one military unit. The workers say it is "
                        "a start, not an end."],
                    related=[DISPATCH_SEARCH_ONLY, "/dispatch/2025/10/bread-award.html"]),
        DemoArticle(DISPATCH_SEARCH_ONLY, "dispatch", "en",
                    "Why police cloud contracts worry Microsoft engineers", "Ana Torres",
                    "2025-09-15T12:00:00+00:00", [
                        "Engineers at Microsoft describe how cloud tools built for offices end "
                        "up in police departments.",
                        "Some ask for clear limits on facial recognition and predictive "
                        "policing.",
                        "Managers answer that customers decide how they use the software."],
                    in_feed=False, in_sitemap=False),
        DemoArticle("/dispatch/2025/10/bread-award.html", "dispatch", "en",
                    "An Ohio bakery wins the national bread award", "Sam Turner",
                    "2025-10-21T08:00:00+00:00", [
                        "A family bakery in Dayton won this year's national bread award.",
                        "Its sourdough rests for two days before baking.",
                        "The owners plan to open a second shop in the spring."]),
        DemoArticle("/dispatch/2025/09/excel-charts.html", "dispatch", "en",
                    "Microsoft Excel adds new chart types", "Sam Turner",
                    "2025-09-10T08:00:00+00:00", [
                        "Microsoft adds funnel and map charts to Excel for every subscriber.",
                        "The update arrives over the next two weeks.",
                        "Older files open unchanged."],
                    in_feed=False, in_sitemap=False),
        DemoArticle(DISPATCH_GERMAN, "dispatch", "de",
                    "Microsoft-Beschäftigte fordern das Ende aller Armee-Verträge", "Lena Vogel",
                    "2025-10-22T08:00:00+00:00", [
                        "Beschäftigte von Microsoft verlangen, dass der Konzern alle Verträge "
                        "mit der Armee beendet.",
                        "Sie berufen sich auf die Entscheidung zur Einheit 8200 und zu Azure.",
                        "Der Konzern äußert sich nicht."],
                    in_feed=False),
    ]
    solidarity_off = DemoArticle(
        "/solidarity/en/articles/cooperative-housing-podcast/", "solidarity", "en",
        "A new podcast on cooperative housing", "Jordan Ellis", "2025-10-25T09:00:00+00:00", [
            "Our new podcast visits housing cooperatives on three continents.",
            "The first episode follows tenants in Montevideo.",
            "New episodes come out every other Friday."],
        in_sitemap=False,
    )
    return [police, amp, *fil_off, fil_new, *_story(), solidarity_off, *dispatch]


# --- rendering --------------------------------------------------------------------------------

_OUTLETS = {"fil-tech": "Le Fil Tech", "solidarity": "Solidarity Wire",
            "dispatch": "The Weekly Dispatch"}
_LANGUAGE_NAMES = {"en": "English", "pt-BR": "Portuguese (Brazil)", "de": "German",
                   "fr": "French", "ar": "Arabic"}
_ADS = ["-30 % sur les casques", "Votre banque en ligne", "Cloud hosting from 1 €",
        "Voyagez malin"]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class DemoSite:
    """The demo site's content, rendered for a base URL, with fresh noise on every request."""

    def __init__(self, base: str = "", *, seed: int = 1) -> None:
        self.base = base
        self.round = 1
        self.articles = {a.path: a for a in build_articles()}
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    # -- what is published --------------------------------------------------------------------

    def published(self) -> list[DemoArticle]:
        """The articles visible in this round."""
        return [a for a in self.articles.values() if a.published_in_round <= self.round]

    def url(self, path: str) -> str:
        """The absolute URL of ``path``."""
        return self.base + path

    def edit(self) -> None:
        """Round 2: a headline edit, a silent edit of one translation, comments, a new article."""
        with self.lock:
            self.round = 2
            police = self.articles[FIL_POLICE]
            police.title = "Des salariés de Microsoft exigent la fin des contrats avec la police"
            police.modified = "2020-06-10T14:05:00+02:00"
            police.paragraphs[-1] = (
                "Contactée, la direction indique qu'elle « examinera la lettre avec attention »."
            )
            police.comments += [
                Comment(105, "Orion", "2020-06-10T14:20:00+02:00",
                        "La direction a donc fini par répondre, même sans engagement."),
                Comment(106, "kevlar", "2020-06-10T14:31:00+02:00",
                        "« Avec attention » : on connaît la formule."),
            ]
            # Only the French version changes, and its modified date does not move.
            french = self.articles[story_path("fr")]
            french.paragraphs[2] = (
                "Les organisateurs parlent d'une victoire partielle : l'essentiel des données "
                "aurait déjà migré vers Amazon Web Services, et d'autres contrats avec l'armée "
                "restent en vigueur."
            )

    def moderate(self) -> None:
        """Round 3: a reader edits a comment, a moderator deletes another (after :meth:`edit`)."""
        with self.lock:
            self.round = max(self.round, 3)
            police = self.articles[FIL_POLICE]
            for comment in police.comments:
                if comment.id == MODERATED_EDIT:
                    comment.text = ("La vraie question, c'est ce que font la police et l'armée des "
                                    "outils une fois vendus.")
            police.comments = [c for c in police.comments if c.id != MODERATED_DELETE]

    # -- HTTP ---------------------------------------------------------------------------------

    def respond(self, target: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request target such as ``/search?q=x``."""
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        with self.lock:
            if path == "/search":
                page = int((query.get("page") or ["1"])[0] or 1)
                return 200, HTML, self.search((query.get("q") or [""])[0], page).encode()
            if path == "/robots.txt":
                return 200, "text/plain", b"User-agent: *\nAllow: /\n"
            documents = {
                "/fil-tech/rss.xml": ("application/rss+xml", self.rss),
                "/solidarity/en/feed.atom": ("application/atom+xml", self.atom),
                "/dispatch/feed.json": ("application/feed+json", self.json_feed),
                "/sitemap_index.xml": ("application/xml", self.sitemap_index),
                "/fil-tech/sitemap-news.xml": ("application/xml", self.news_sitemap),
                "/solidarity/sitemap.xml": ("application/xml", self.solidarity_sitemap),
            }
            if path in documents:
                content_type, render = documents[path]
                return 200, content_type, render().encode()
            article = self.articles.get(path)
            if article is None or article.published_in_round > self.round:
                return 404, HTML, b"<html><body><h1>Page introuvable</h1></body></html>"
            return 200, HTML, self.page(article).encode()

    def write(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request on an :mod:`http.server` handler (ours or the tests' LocalSite)."""
        status, content_type, body = self.respond(handler.path)
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    # -- pages --------------------------------------------------------------------------------

    def page(self, a: DemoArticle) -> str:
        """An article page, with noise that changes on every request."""
        rng = self.rng
        head = [
            f'<meta charset="utf-8"><title>{_e(a.title)} | {_OUTLETS[a.outlet]}</title>',
            f'<meta property="og:title" content="{_e(a.title)}">',
            f'<meta name="author" content="{_e(a.author)}">',
            f'<meta name="description" content="{_e(a.paragraphs[0][:150])}">',
            f'<meta property="article:published_time" content="{a.published}">',
            f'<link rel="canonical" href="{self.url(a.canonical or a.path)}">',
        ]
        if a.modified:
            head.append(f'<meta property="article:modified_time" content="{a.modified}">')
        for lang, path in a.alternates.items():
            head.append(f'<link rel="alternate" hreflang="{lang}" href="{self.url(path)}">')
        head.append(f"<script>window.__views = {rng.randint(1000, 99999)}; "
                    f'window.__csrf = "{rng.getrandbits(64):x}";</script>')
        paragraphs = "\n".join(f"<p>{_e(p)}</p>" for p in a.paragraphs)
        related = "".join(
            f'<li><a href="{self.url(p)}">{_e(self.articles[p].title)}</a></li>'
            for p in a.related if p in self.articles
        )
        body = [
            f'<header class="site-header"><a href="{self.url("/")}">{_OUTLETS[a.outlet]}</a>'
            f'<nav><a href="{self.url("/search?q=")}">Recherche</a></nav></header>',
            f'<div class="ad">{_e(rng.choice(_ADS))}</div>',
            f'<article class="article"><h1>{_e(a.title)}</h1>',
            f'<p class="byline">{_e(a.author)} · publié il y a {rng.randint(2, 59)} minutes</p>',
            paragraphs,
        ]
        if a.source:
            body.append(f'<p class="source">Source: <a href="{self.url(a.source)}">'
                        "Original article</a></p>")
        body.append("</article>")
        if a.alternates:
            links = "".join(
                f'<li><a href="{self.url(path)}">{_LANGUAGE_NAMES[lang]}</a></li>'
                for lang, path in a.alternates.items()
            )
            body.append(f'<div class="languages"><h4>Available in</h4><ul>{links}</ul></div>')
        if related:
            body.append(f'<aside class="related"><h2>À lire aussi</h2><ul>{related}</ul></aside>')
        if a.comments:
            body.append(self._comments(a.comments))
        body.append(f"<footer>{rng.randint(100, 9999)} lectures</footer>")
        direction = ' dir="rtl"' if a.lang == "ar" else ""
        return (
            f'<!doctype html><html lang="{a.lang}"{direction}><head>{"".join(head)}</head>'
            f"<body>{''.join(body)}</body></html>"
        )

    @staticmethod
    def _comments(comments: list[Comment]) -> str:
        items = "".join(
            f'<li id="comment-{c.id}" class="comment"><article class="comment-body">'
            f'<footer><div class="comment-author"><b class="fn">{_e(c.author)}</b></div>'
            f'<div class="comment-metadata"><time datetime="{c.posted}">{c.posted[:10]}</time>'
            f'</div></footer><div class="comment-content"><p>{_e(c.text)}</p></div></article></li>'
            for c in comments
        )
        return (f'<section id="comments" class="comments-area"><h2>Commentaires ({len(comments)})'
                f'</h2><ol class="commentlist">{items}</ol></section>')

    def search(self, query: str, page: int) -> str:
        """Results whose title or text holds every word of ``query``, three a page."""
        words = [w for w in _fold(query).split() if w not in ("and", "or", "not")]
        hits = [
            a for a in self.published()
            if a.canonical is None and words
            and all(w in _fold(a.title + " " + " ".join(a.paragraphs)) for w in words)
        ]
        # The AMP copy is what this search engine links to for Le Fil Tech's article.
        hits = [self.articles[FIL_POLICE_AMP] if a.path == FIL_POLICE else a for a in hits]
        hits.sort(key=lambda a: a.published, reverse=True)
        start = (page - 1) * RESULTS_PER_PAGE
        shown = hits[start:start + RESULTS_PER_PAGE]
        items = "".join(
            f'<li class="result"><h3><a href="{self.url(a.path)}">{_e(a.title)}</a></h3>'
            f"<p>{_e(a.paragraphs[0][:120])}</p></li>"
            for a in shown
        )
        more = start + RESULTS_PER_PAGE < len(hits)
        following = self.url(f"/search?q={quote_plus(query)}&amp;page={page + 1}")
        link = f'<a rel="next" href="{following}">Page suivante</a>' if more else ""
        return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Recherche'
                f'</title></head><body><h1>Résultats pour {_e(query)}</h1>'
                f'<ol class="results">{items}</ol>{link}</body></html>')

    # -- feeds and sitemaps -------------------------------------------------------------------

    def _in(self, outlet: str, *, feed: bool = False, sitemap: bool = False) -> list[DemoArticle]:
        return [a for a in self.published() if a.outlet == outlet
                and (not feed or a.in_feed) and (not sitemap or a.in_sitemap)]

    def rss(self) -> str:
        """Le Fil Tech's RSS 2.0 feed; its links carry trackers, as many feeds' do."""
        items = "".join(
            f"<item><title>{_e(a.title)}</title>"
            f"<link>{_e(self.url(a.path))}?utm_source=rss&amp;utm_medium=feed</link>"
            f"<description>{_e(a.paragraphs[0])}</description>"
            f"<pubDate>{a.published}</pubDate><guid isPermaLink=\"false\">{_e(a.path)}</guid>"
            "</item>"
            for a in sorted(self._in("fil-tech", feed=True), key=lambda a: a.published,
                            reverse=True)
            if a.canonical is None
        )
        return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Le Fil Tech</title><link>{self.url('/fil-tech/')}</link>"
                f"<language>fr</language>{items}</channel></rss>")

    def atom(self) -> str:
        """Solidarity Wire's English Atom feed."""
        entries = "".join(
            f"<entry><title>{_e(a.title)}</title><link rel=\"alternate\" "
            f"href=\"{_e(self.url(a.path))}\"/><id>{_e(self.url(a.path))}</id>"
            f"<updated>{a.published}</updated><summary>{_e(a.paragraphs[0])}</summary></entry>"
            for a in self._in("solidarity", feed=True) if a.lang == "en"
        )
        return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"'
                ' xml:lang="en"><title>Solidarity Wire</title>'
                f"<id>{self.url('/solidarity/')}</id><updated>2025-10-27T09:00:00Z</updated>"
                f"{entries}</feed>")

    def json_feed(self) -> str:
        """The Weekly Dispatch's JSON Feed."""
        items = [
            {"id": a.path, "url": self.url(a.path), "title": a.title,
             "summary": a.paragraphs[0], "date_published": a.published, "language": a.lang}
            for a in self._in("dispatch", feed=True)
        ]
        return json.dumps({"version": "https://jsonfeed.org/version/1.1",
                           "title": "The Weekly Dispatch", "language": "en", "items": items},
                          ensure_ascii=False)

    def sitemap_index(self) -> str:
        """An index of the two sitemaps."""
        maps = "".join(f"<sitemap><loc>{self.url(p)}</loc></sitemap>"
                       for p in ("/fil-tech/sitemap-news.xml", "/solidarity/sitemap.xml"))
        return ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
                f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>')

    def news_sitemap(self) -> str:
        """Le Fil Tech's Google News sitemap."""
        urls = "".join(
            f"<url><loc>{self.url(a.path)}</loc><news:news><news:publication><news:name>"
            f"Le Fil Tech</news:name><news:language>{a.lang}</news:language></news:publication>"
            f"<news:publication_date>{a.published}</news:publication_date><news:title>"
            f"{_e(a.title)}</news:title></news:news></url>"
            for a in self._in("fil-tech", sitemap=True)
        )
        return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
                'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>')

    def solidarity_sitemap(self) -> str:
        """Solidarity Wire's and The Weekly Dispatch's pages, with hreflang alternates."""
        pages = self._in("solidarity", sitemap=True) + self._in("dispatch", sitemap=True)
        urls = "".join(
            f"<url><loc>{self.url(a.path)}</loc><lastmod>{a.published[:10]}</lastmod>"
            + "".join(f'<xhtml:link rel="alternate" hreflang="{lang}" href="{self.url(p)}"/>'
                      for lang, p in a.alternates.items())
            + "</url>"
            for a in pages
        )
        return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
                'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:xhtml="http://www.w3.org/1999/xhtml">{urls}</urlset>')


def serve(site: DemoSite, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Serve ``site`` in a background thread; sets ``site.base`` to the server's address."""
    server = bind(site, host, port)
    start(server)
    return server


def bind(site: DemoSite, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server for ``site``, listening (connections wait) but not answering until :func:`start`.

    Sets ``site.base``. Binding first lets the demo write the address into the daemon's config
    and start the daemon before this process has any thread (see :mod:`monitor.demo`).
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            site.write(self)

        def do_HEAD(self) -> None:  # noqa: N802
            site.write(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    site.base = f"http://{host}:{server.server_address[1]}"
    return server


def start(server: ThreadingHTTPServer) -> None:
    """Answer requests from a background thread, until ``server.shutdown()``."""
    threading.Thread(target=server.serve_forever, name="demo-site", daemon=True).start()
