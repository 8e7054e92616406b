"""A deterministic generator of realistic French and English news article pages.

Every page is about 30 KB of HTML, like a real news site: a header with a large menu, JSON-LD
``NewsArticle``, OpenGraph tags, a canonical link, the article itself
(``<article class="article">``: headline, byline, dates, body paragraphs) and, outside the
article, the *noise* that makes naive page watchers report a change on every fetch: inline
scripts with a CSP nonce, rotating ad blocks, a view counter, "updated 3 minutes ago" timestamps,
a CSRF token, a "most read" list whose order changes, a comment count and a few reader comments.

The article of a page depends only on its :class:`ArticleSpec`; the noise depends on ``noise_seed``.
So a test can render the same spec twice with two noise seeds (nothing changed, everything
looks changed) or apply :func:`mutate` (one true edit of a known kind) and check what a tool
reports::

    specs = make_site(200, seed=1)
    html_1 = render(specs[0], noise_seed=1)
    new_specs, truth = plan_round(specs, random.Random(2))      # truth: {slug: kind}
    html_2 = render(new_specs[0], noise_seed=2)

Everything is seeded: the same arguments always give the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

DEFAULT_BASE_URL: Final = "https://www.exemple-info.test"
EDIT_KINDS: Final = (
    "body",
    "sentence",
    "title",
    "byline",
    "dates",
    "paragraph_added",
    "paragraph_removed",
)
# CSS selector of the article (headline, byline, dates, body) and of the body alone.
ARTICLE_SELECTOR: Final = "article.article"
BODY_SELECTOR: Final = "article.article div.article-body"

NBSP: Final = "\u00a0"


@dataclass(frozen=True)
class ArticleSpec:
    """What a generated article says; rendering it gives the page.

    ``published`` and ``modified`` are ISO 8601 datetimes with an offset. ``paragraphs`` are plain
    text, already normalised (one space between words).
    """

    slug: str
    lang: str  # "fr" or "en"
    section: str
    title: str
    authors: tuple[str, ...]
    published: str
    modified: str
    paragraphs: tuple[str, ...]

    @property
    def path(self) -> str:
        """The URL path of the page on the site."""
        return f"/{self.lang}/{self.section}/{self.slug}.html"

    @property
    def body(self) -> str:
        """The body as veille normalises it: paragraphs joined by one blank line."""
        return "\n\n".join(self.paragraphs)


# ---------------------------------------------------------------------------------------------
# Word lists. French uses accents, apostrophes (l'armée), « guillemets » with no-break spaces.

_FR: Final[dict[str, tuple[str, ...]]] = {
    "subject": (
        "Le gouvernement", "La ministre de l'Économie", "Le Premier ministre", "L'armée",
        "Le maire de {city}", "La présidente de la région", "Le préfet", "La Banque de France",
        "Le secrétaire général de la CGT", "L'opposition", "Le Conseil constitutionnel",
        "La direction de l'entreprise", "Le parquet de {city}", "L'Élysée", "La SNCF",
        "Le ministre de l'Intérieur", "L'Assemblée nationale", "Le tribunal administratif",
        "La fédération française de football", "L'agence régionale de santé",
    ),
    "verb": (
        "a annoncé", "a confirmé", "a démenti", "a présenté", "a défendu", "a critiqué",
        "a reporté", "a évoqué", "a salué", "a dénoncé", "a précisé", "a détaillé", "a validé",
        "a suspendu", "a rejeté", "envisage", "prépare", "réclame", "conteste", "examine",
    ),
    "object": (
        "un plan d'économies de {n} millions d'euros", "la réforme de l'assurance chômage",
        "l'ouverture d'une enquête préliminaire", "le calendrier des négociations",
        "une hausse de {p} % des crédits", "la fermeture de {k} sites industriels",
        "l'accord conclu avec les syndicats", "le projet de loi sur l'énergie",
        "la création de {n} postes d'enseignants", "un nouveau dispositif d'aide au logement",
        "l'extension de la ligne de tramway", "le rapport de la Cour des comptes",
        "la suppression de {k} lignes de TER", "un moratoire sur les éoliennes en mer",
        "le budget de l'hôpital", "l'interdiction des véhicules diesel en centre-ville",
        "les résultats de l'audit", "une prime exceptionnelle de {n} euros",
        "le plan de sauvegarde de l'emploi", "la réouverture de la maternité",
    ),
    "complement": (
        "jeudi soir", "lors d'une conférence de presse", "selon une source proche du dossier",
        "à l'issue du conseil des ministres", "devant les députés",
        "dans un entretien accordé à la presse régionale", "en marge d'un déplacement à {city}",
        "mardi matin", "après plusieurs semaines de tractations", "sans donner plus de détails",
        "dans un communiqué publié lundi", "à la surprise générale",
        "au terme d'une longue réunion",
    ),
    "quote": (
        "Nous ne céderons pas sur l'essentiel", "C'est une étape importante pour le pays",
        "Il faut aller plus vite et plus loin", "Rien n'est encore décidé",
        "L'État prendra ses responsabilités", "On ne peut pas continuer comme ça",
        "Les habitants attendent des réponses concrètes", "C'est un signal très inquiétant",
        "Nous avons été entendus, enfin", "La situation reste extrêmement fragile",
    ),
    "said": ("a déclaré", "a assuré", "a affirmé", "a regretté", "a insisté", "a prévenu"),
    "role": (
        "porte-parole du gouvernement", "secrétaire générale du syndicat", "maire de {city}",
        "ministre de l'Économie", "présidente de l'association des riverains",
        "député de l'opposition", "chef d'état-major des armées", "économiste à l'OFCE",
        "directrice de l'hôpital", "avocat de la famille",
    ),
    "fact": (
        "le chômage a reculé de {p} points sur le trimestre",
        "l'inflation s'établit à {p} % sur un an", "près de {n} personnes sont concernées",
        "le déficit a atteint {p} % du produit intérieur brut",
        "{k} départements ont été placés en vigilance orange",
        "la fréquentation a progressé de {p} % depuis janvier",
        "les prix de l'énergie ont bondi de {p} % en un an",
        "{n} dossiers sont toujours en attente d'instruction",
    ),
    "source": (
        "les chiffres de l'Insee publiés mercredi", "une note de la direction du Trésor",
        "un rapport parlementaire", "les données de Météo-France", "la préfecture",
        "une étude de l'Ifop", "des documents consultés par notre rédaction",
    ),
    "opener": (
        "Selon {source}, {fact}.", "D'après {source}, {fact}.",
        "En parallèle, {fact}, selon {source}.", "Dans le détail, {fact}.",
        "Pour rappel, {fact}.",
    ),
    "connector": (
        "Par ailleurs,", "Dans la foulée,", "De son côté,", "En attendant,", "Pourtant,",
        "Depuis,", "À ce stade,", "Au même moment,",
    ),
    "section": (
        "politique", "economie", "international", "societe", "sport", "culture", "planete",
        "sciences",
    ),
    "first": (
        "Hélène", "François", "Chloé", "Jérôme", "Anaïs", "Loïc", "Maëlle", "Benoît", "Noémie",
        "Cédric", "Agnès", "Théo", "Léa", "Grégoire", "Solène", "Raphaël", "Inès", "Étienne",
    ),
    "last": (
        "Martin", "Lefèvre", "Dubois", "Girard", "Mercier", "Bérard", "Rousseau", "Fournier",
        "Garnier", "Lemaître", "Chevalier", "Faure", "Brunet", "Lacroix", "Roussel", "Deschamps",
    ),
    "city": (
        "Paris", "Lyon", "Marseille", "Besançon", "Saint-Étienne", "Nîmes", "Orléans", "Béziers",
        "Grenoble", "Angoulême", "Périgueux", "Évry",
    ),
    "comment": (
        "Enfin une bonne nouvelle, il était temps.",
        "Encore des promesses qui ne seront pas tenues…",
        "Article très clair, merci pour ce travail.",
        "Et qui va payer, au final ? Toujours les mêmes.",
        "Je ne comprends pas pourquoi personne n'en parle davantage.",
        "Quelqu'un a-t-il le lien vers le rapport complet ?",
        "C'est exactement ce qui se passe chez nous aussi.", "Faut-il vraiment s'en étonner ?",
    ),
}

_EN: Final[dict[str, tuple[str, ...]]] = {
    "subject": (
        "The government", "The chancellor", "The prime minister", "The army",
        "The mayor of {city}", "The regional council", "Police", "The Bank of England",
        "The union's general secretary", "The opposition", "The supreme court",
        "The company's board", "Prosecutors in {city}", "Downing Street", "Network Rail",
        "The home secretary", "Parliament", "A high court judge", "The Football Association",
        "The health service",
    ),
    "verb": (
        "announced", "confirmed", "denied", "unveiled", "defended", "criticised", "postponed",
        "raised", "welcomed", "condemned", "clarified", "detailed", "approved", "suspended",
        "rejected", "is considering", "is preparing", "is demanding", "is challenging",
        "is reviewing",
    ),
    "object": (
        "a £{n}m savings plan", "the reform of unemployment benefits", "a criminal inquiry",
        "the timetable for talks", "a {p}% rise in funding", "the closure of {k} factories",
        "the deal struck with unions", "the energy bill", "{n} new teaching posts",
        "a new housing support scheme", "the tram line extension",
        "the National Audit Office report",
        "cuts to {k} rural bus routes", "a moratorium on offshore wind farms",
        "the hospital budget",
        "a ban on diesel cars in the city centre", "the findings of the audit",
        "a one-off bonus of £{n}", "the redundancy plan", "the reopening of the maternity unit",
    ),
    "complement": (
        "on Thursday evening", "at a press conference", "according to a source close to the talks",
        "after a cabinet meeting", "in front of MPs", "in an interview with a local newspaper",
        "during a visit to {city}", "on Tuesday morning", "after weeks of negotiations",
        "without giving further details", "in a statement released on Monday",
        "to general surprise", "at the end of a long meeting",
    ),
    "quote": (
        "We will not give ground on the essentials", "This is an important step for the country",
        "We need to go further and faster", "Nothing has been decided yet",
        "The state will take responsibility", "We can't carry on like this",
        "Residents are waiting for concrete answers", "It is a deeply worrying signal",
        "We have been heard, at last", "The situation remains extremely fragile",
    ),
    "said": ("said", "insisted", "warned", "told reporters", "added", "argued"),
    "role": (
        "a government spokesperson", "the union's general secretary", "the mayor of {city}",
        "the chancellor", "chair of the residents' association", "an opposition MP",
        "the chief of the defence staff", "an economist at the IFS", "the hospital's director",
        "the family's lawyer",
    ),
    "fact": (
        "unemployment fell by {p} points over the quarter", "inflation stands at {p}% over a year",
        "nearly {n} people are affected", "the deficit reached {p}% of GDP",
        "{k} counties were placed under an amber warning",
        "visitor numbers rose {p}% since January",
        "energy prices jumped {p}% in a year", "{n} applications are still waiting to be processed",
    ),
    "source": (
        "figures from the Office for National Statistics", "a Treasury note",
        "a parliamentary report", "Met Office data", "the local council",
        "a YouGov poll", "documents seen by this newspaper",
    ),
    "opener": (
        "According to {source}, {fact}.", "Meanwhile, {fact}, according to {source}.",
        "In detail, {fact}.", "As a reminder, {fact}.", "Separately, {fact}.",
    ),
    "connector": (
        "Meanwhile,", "In response,", "For its part,", "In the meantime,", "Yet", "Since then,",
        "At this stage,", "At the same time,",
    ),
    "section": ("politics", "business", "world", "uk", "sport", "culture", "climate", "science"),
    "first": (
        "Helen", "James", "Chloe", "Jerome", "Priya", "Liam", "Megan", "Ben", "Naomi", "Cedric",
        "Agnes", "Theo", "Leah", "Gregory", "Sian", "Raphael", "Ines", "Stephen",
    ),
    "last": (
        "Martin", "Walker", "Davies", "Green", "Mercer", "Bennett", "Rose", "Fletcher", "Gardner",
        "Shaw", "Knight", "Fairbairn", "Brown", "Cross", "Russell", "Oakley",
    ),
    "city": (
        "London", "Leeds", "Manchester", "Bristol", "Cardiff", "Glasgow", "Norwich", "Belfast",
        "Plymouth", "Sheffield", "York", "Derby",
    ),
    "comment": (
        "Finally some good news, about time.", "More promises that won't be kept...",
        "Very clear article, thanks for this.",
        "And who pays in the end? The same people as always.",
        "I don't understand why nobody talks about this more.",
        "Does anyone have a link to the full report?",
        "Exactly what is happening where I live too.",
        "Should we really be surprised?",
    ),
}

_WORDS: Final = {"fr": _FR, "en": _EN}

# Small corrections an editor makes: each word may become the other.
_SWAPS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "jeudi": "vendredi", "mardi": "mercredi", "lundi": "dimanche", "annoncé": "confirmé",
        "près": "plus", "hausse": "progression", "semaines": "mois", "longue": "courte",
        "enquête": "information judiciaire", "important": "décisif",
        "extrêmement": "particulièrement",
        "réunion": "séance", "concrètes": "rapides", "fermeture": "suppression",
    },
    "en": {
        "Thursday": "Friday", "Tuesday": "Wednesday", "Monday": "Sunday", "announced": "confirmed",
        "nearly": "more than", "rise": "increase", "weeks": "months", "long": "short",
        "inquiry": "investigation", "important": "decisive", "extremely": "particularly",
        "meeting": "session", "concrete": "quick", "closure": "loss",
    },
}

_MONTHS: Final = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ),
}

_SITE: Final = {
    "fr": {
        "name": "Le Quotidien Exemple", "home": "Accueil", "menu": "Menu", "search": "Rechercher",
        "subscribe": "S'abonner", "login": "Se connecter", "published": "Publié le",
        "modified": "mis à jour le", "by": "Par", "skip": "Aller au contenu",
        "most_read": "Les plus lus",
        "latest": "Le fil info", "ago": "il y a {m} min",
        "updated_ago": "Mis à jour il y a {m} minutes",
        "views": "{v} lectures", "comments": "Commentaires ({c})", "share": "Partager",
        "newsletter": "Recevez notre newsletter", "email": "Votre adresse e-mail",
        "ad": "Publicité", "related": "Sur le même sujet", "locale": "fr_FR",
        "legal": "Mentions légales", "privacy": "Politique de confidentialité",
        "cookies": "Gestion des cookies", "rights": "Tous droits réservés",
    },
    "en": {
        "name": "The Example Herald", "home": "Home", "menu": "Menu", "search": "Search",
        "subscribe": "Subscribe", "login": "Sign in", "published": "Published",
        "modified": "Updated", "by": "By", "skip": "Skip to content", "most_read": "Most read",
        "latest": "Latest news", "ago": "{m} min ago", "updated_ago": "Updated {m} minutes ago",
        "views": "{v} views", "comments": "Comments ({c})", "share": "Share",
        "newsletter": "Get our newsletter", "email": "Your email address", "ad": "Advertisement",
        "related": "More on this story", "locale": "en_GB", "legal": "Terms of use",
        "privacy": "Privacy policy", "cookies": "Cookie settings", "rights": "All rights reserved",
    },
}

_ADS: Final = {
    "fr": (
        "Jusqu'à -50 % sur la literie cette semaine seulement",
        "Assurance auto : comparez et économisez jusqu'à 400 €",
        "Votre box fibre à 19,99 € par mois pendant un an",
        "Séjour en Corse : offres de dernière minute",
        "Ce placement rapporte plus que le livret A",
        "Découvrez la nouvelle citadine électrique dès 199 €/mois",
    ),
    "en": (
        "Up to 50% off mattresses this week only",
        "Car insurance: compare and save up to £400",
        "Full fibre broadband from £19.99 a month",
        "Last-minute deals on Greek island breaks",
        "This savings account beats the high street",
        "Discover the new electric city car from £199/month",
    ),
}

_SLUG_DROP: Final = re.compile(r"[^a-z0-9]+")


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_DROP.sub("-", ascii_text.lower()).strip("-")[:70].rstrip("-")


def _fill(template: str, lang: str, rng: random.Random) -> str:
    words = _WORDS[lang]
    return template.format(
        city=rng.choice(words["city"]),
        n=rng.choice((12, 25, 40, 120, 300, 450, 800, 1200, 2500, 15000)) + rng.randrange(10),
        p=f"{rng.randrange(1, 9)}{',' if lang == 'fr' else '.'}{rng.randrange(10)}",
        k=rng.randrange(2, 40),
        source=rng.choice(words["source"]),
        fact=rng.choice(words["fact"]),
    ).format(  # facts and sources carry their own placeholders
        city=rng.choice(words["city"]),
        n=rng.randrange(100, 90000),
        p=f"{rng.randrange(1, 9)}{',' if lang == 'fr' else '.'}{rng.randrange(10)}",
        k=rng.randrange(2, 40),
    )


def _person(lang: str, rng: random.Random) -> str:
    words = _WORDS[lang]
    return f"{rng.choice(words['first'])} {rng.choice(words['last'])}"


def _quote(lang: str, text: str) -> str:
    if lang == "fr":
        return f"«{NBSP}{text}{NBSP}»"
    return f"\u201c{text},\u201d"


def sentence(lang: str, rng: random.Random) -> str:
    """One plausible news sentence in ``lang``."""
    words = _WORDS[lang]
    shape = rng.random()
    if shape < 0.45:
        text = (
            f"{rng.choice(words['subject'])} {rng.choice(words['verb'])} "
            f"{rng.choice(words['object'])} {rng.choice(words['complement'])}."
        )
        if rng.random() < 0.3:
            connector = rng.choice(words["connector"])
            text = f"{connector} {text[0].lower()}{text[1:]}"
    elif shape < 0.7:
        quote = rng.choice(words["quote"])
        who = f"{_person(lang, rng)}, {rng.choice(words['role'])}"
        if lang == "fr":
            text = f"{_quote(lang, quote)}, {rng.choice(words['said'])} {who}."
        else:
            text = f"{_quote(lang, quote)} {who} {rng.choice(words['said'])}."
    else:
        text = rng.choice(words["opener"])
    text = _fill(text, lang, rng)
    return text[0].upper() + text[1:]


def paragraph(lang: str, rng: random.Random) -> str:
    """A paragraph of 3 to 6 sentences."""
    return " ".join(sentence(lang, rng) for _ in range(rng.randint(3, 6)))


def _title(lang: str, rng: random.Random) -> str:
    words = _WORDS[lang]
    subject = _fill(rng.choice(words["subject"]), lang, rng)
    obj = _fill(rng.choice(words["object"]), lang, rng)
    if lang == "fr":
        verb = rng.choice(("annonce", "confirme", "défend", "conteste", "prépare", "dénonce"))
        city = rng.choice(words["city"])
        prefix = f"À {city}, " if rng.random() < 0.25 else ""
        start = subject if not prefix else subject[0].lower() + subject[1:]
        return f"{prefix}{start} {verb} {obj}"
    verb = rng.choice(("announces", "confirms", "defends", "challenges", "prepares", "condemns"))
    return f"{subject} {verb} {obj}"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def make_article(index: int, rng: random.Random) -> ArticleSpec:
    """One article; ``index`` makes its slug unique."""
    lang = "fr" if rng.random() < 0.6 else "en"
    words = _WORDS[lang]
    title = _title(lang, rng)
    tz = timezone(timedelta(hours=1)) if lang == "fr" else UTC
    start = datetime(2025, 1, 1, 6, 0, tzinfo=tz)
    published = start + timedelta(minutes=rng.randrange(300 * 24 * 60))
    modified = published + timedelta(minutes=rng.randrange(0, 600))
    authors = tuple(_person(lang, rng) for _ in range(1 if rng.random() < 0.7 else 2))
    count = rng.randint(6, 15)
    return ArticleSpec(
        slug=f"{_slugify(title)}-{100000 + index}",
        lang=lang,
        section=rng.choice(words["section"]),
        title=title,
        authors=authors,
        published=_iso(published),
        modified=_iso(modified),
        paragraphs=tuple(paragraph(lang, rng) for _ in range(count)),
    )


def make_site(n: int, seed: int = 0) -> list[ArticleSpec]:
    """``n`` articles, about 60 % in French; the same seed gives the same articles."""
    rng = random.Random(seed)
    return [make_article(i, rng) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# Edits.


def _edit_words(text: str, lang: str, rng: random.Random) -> str:
    """Change one to three words or numbers of ``text``: an editor's correction."""
    tokens = text.split(" ")
    swaps = _SWAPS[lang]
    reverse = {v: k for k, v in swaps.items() if " " not in v}
    candidates = [
        i
        for i, tok in enumerate(tokens)
        if tok.strip(".,;:!?»«\u201c\u201d") in swaps
        or tok.strip(".,;:!?»«\u201c\u201d") in reverse
        or any(ch.isdigit() for ch in tok)
    ]
    if not candidates:
        candidates = [i for i, tok in enumerate(tokens) if len(tok) >= 5 and tok.isalpha()] or [0]
    for i in rng.sample(candidates, min(len(candidates), rng.randint(1, 3))):
        tok = tokens[i]
        core = tok.strip(".,;:!?»«\u201c\u201d")
        if core in swaps:
            new = swaps[core]
        elif core in reverse:
            new = reverse[core]
        elif any(ch.isdigit() for ch in core):
            new = "".join(
                str((int(ch) + rng.randint(1, 8)) % 10) if ch.isdigit() else ch for ch in core
            )
        else:
            new = core + ("ment" if lang == "fr" else "ly")
        tokens[i] = tok.replace(core, new, 1) if core else new
    edited = " ".join(tokens)
    return edited if edited != text else text + (" (corrigé)" if lang == "fr" else " (corrected)")


def mutate(spec: ArticleSpec, kind: str, rng: random.Random) -> ArticleSpec:
    """A copy of ``spec`` with one true edit of ``kind`` (one of :data:`EDIT_KINDS`).

    Only the fields that ``kind`` names change: ``body``, ``sentence``, ``paragraph_added`` and
    ``paragraph_removed`` touch ``paragraphs``; ``title``, ``byline`` (authors) and ``dates``
    (``modified``, moved forward) touch theirs.
    """
    paras = list(spec.paragraphs)
    if kind == "body":
        i = rng.randrange(len(paras))
        paras[i] = _edit_words(paras[i], spec.lang, rng)
        return dataclasses.replace(spec, paragraphs=tuple(paras))
    if kind == "sentence":
        i = rng.randrange(len(paras))
        paras[i] = f"{paras[i]} {sentence(spec.lang, rng)}"
        return dataclasses.replace(spec, paragraphs=tuple(paras))
    if kind == "paragraph_added":
        paras.insert(rng.randrange(1, len(paras) + 1), paragraph(spec.lang, rng))
        return dataclasses.replace(spec, paragraphs=tuple(paras))
    if kind == "paragraph_removed":
        if len(paras) < 2:
            raise ValueError(f"{spec.slug}: cannot remove the only paragraph")
        del paras[rng.randrange(1, len(paras))]
        return dataclasses.replace(spec, paragraphs=tuple(paras))
    if kind == "title":
        return dataclasses.replace(spec, title=_edit_words(spec.title, spec.lang, rng))
    if kind == "byline":
        extra = _person(spec.lang, rng)
        while extra in spec.authors:
            extra = _person(spec.lang, rng)
        authors = (*spec.authors, extra) if len(spec.authors) < 2 else (spec.authors[0], extra)
        return dataclasses.replace(spec, authors=authors)
    if kind == "dates":
        moved = datetime.fromisoformat(spec.modified) + timedelta(minutes=rng.randint(7, 240))
        return dataclasses.replace(spec, modified=_iso(moved))
    raise ValueError(f"unknown edit kind {kind!r}; use one of {', '.join(EDIT_KINDS)}")


def plan_round(
    specs: list[ArticleSpec], rng: random.Random, *, edit_share: float = 0.1
) -> tuple[list[ArticleSpec], dict[str, str]]:
    """The next round: ``edit_share`` of the pages get one true edit, kinds taken in turn.

    Returns the new specs (same order) and the ground truth ``{slug: kind}`` of the pages truly
    edited. Every page also gets new noise when the caller renders the round with a new
    ``noise_seed`` (use the round number).
    """
    count = round(len(specs) * edit_share)
    chosen = sorted(rng.sample(range(len(specs)), count))
    new_specs = list(specs)
    truth: dict[str, str] = {}
    for turn, i in enumerate(chosen):
        kind = EDIT_KINDS[(turn + rng.randrange(len(EDIT_KINDS))) % len(EDIT_KINDS)]
        new_specs[i] = mutate(specs[i], kind, rng)
        truth[specs[i].slug] = kind
    return new_specs, truth


# ---------------------------------------------------------------------------------------------
# Rendering.


def _t(text: str) -> str:
    return html.escape(text, quote=False)


def _a(text: str) -> str:
    return html.escape(text, quote=True)


def _display_date(iso: str, lang: str) -> str:
    moment = datetime.fromisoformat(iso)
    month = _MONTHS[lang][moment.month - 1]
    if lang == "fr":
        return f"{moment.day} {month} {moment.year} à {moment.hour:02d}h{moment.minute:02d}"
    return f"{moment.day} {month} {moment.year}, {moment.hour:02d}:{moment.minute:02d} GMT"


def _static_rng(spec: ArticleSpec, what: str) -> random.Random:
    """A generator for parts of the page that never change (menus, related links)."""
    return random.Random(f"{spec.slug}|{what}")


def _nav(spec: ArticleSpec) -> str:
    words = _WORDS[spec.lang]
    rng = _static_rng(spec, "nav")
    parts = ['<nav class="main-nav" aria-label="Rubriques"><ul class="sections">']
    for section in words["section"]:
        parts.append(
            f'<li class="section-item"><a class="section-link" href="/{spec.lang}/{section}/">'
            f"{section.capitalize()}</a><ul class=\"sub\">"
        )
        for j in range(8):
            city = rng.choice(words["city"])
            topic = _slugify(f"{section} {city} {j}")
            parts.append(
                f'<li><a href="/{spec.lang}/{section}/{topic}/" data-track="nav-{section}-{j}">'
                f"{_t(city)} · {section} {j + 1}</a></li>"
            )
        parts.append("</ul></li>")
    parts.append("</ul></nav>")
    return "".join(parts)


def _teaser_list(spec: ArticleSpec, rng: random.Random, count: int, css: str) -> list[str]:
    items = []
    for _ in range(count):
        title = _title(spec.lang, rng)
        section = rng.choice(_WORDS[spec.lang]["section"])
        href = f"/{spec.lang}/{section}/{_slugify(title)}-{rng.randrange(100000, 999999)}.html"
        items.append(f'<li class="{css}"><a href="{href}">{_t(title)}</a></li>')
    return items


def _jsonld(spec: ArticleSpec, url: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "headline": spec.title,
        "description": spec.paragraphs[0][:160],
        "inLanguage": spec.lang,
        "articleSection": spec.section,
        "datePublished": spec.published,
        "dateModified": spec.modified,
        "author": [{"@type": "Person", "name": name} for name in spec.authors],
        "image": [f"{url.rsplit('/', 1)[0]}/img/{spec.slug}-1200.jpg"],
        "publisher": {
            "@type": "NewsMediaOrganization",
            "name": _SITE[spec.lang]["name"],
            "logo": {"@type": "ImageObject", "url": "/static/logo.png"},
        },
    }
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


_STYLE: Final = (
    "<style>"
    + "".join(
        f".c{i}{{margin:{i % 7}px {i % 5}px;padding:{i % 3}px;"
        f"color:#{(i * 2654435761) % 0xFFFFFF:06x}}}"
        for i in range(90)
    )
    + "</style>"
)


def _analytics(nonce: str, noise: random.Random, spec: ArticleSpec) -> str:
    state = {
        "pageviewId": f"{noise.getrandbits(64):016x}",
        "abBucket": noise.choice("ABCD"),
        "renderedAt": 1735700000 + noise.randrange(10**7),
        "section": spec.section,
        "paywall": {"meter": noise.randrange(10), "limit": 10},
        "experiments": {f"exp{i}": noise.random() < 0.5 for i in range(12)},
    }
    return (
        f'<script nonce="{nonce}">window.dataLayer=window.dataLayer||[];'
        f"window.__PAGE_STATE__={json.dumps(state)};"
        "function gtag(){dataLayer.push(arguments)}gtag('js',new Date());"
        "gtag('config','G-EXAMPLE',{anonymize_ip:true});</script>"
    )


def _head(spec: ArticleSpec, url: str, nonce: str, noise: random.Random) -> str:
    ui = _SITE[spec.lang]
    description = _a(spec.paragraphs[0][:160])
    title = _a(spec.title)
    image = _a(f"{url.rsplit('/', 1)[0]}/img/{spec.slug}-1200.jpg")
    metas = [
        ("name", "viewport", "width=device-width, initial-scale=1"),
        ("name", "description", description),
        ("property", "og:type", "article"),
        ("property", "og:title", title),
        ("property", "og:description", description),
        ("property", "og:url", _a(url)),
        ("property", "og:image", image),
        ("property", "og:site_name", _a(ui["name"])),
        ("property", "og:locale", ui["locale"]),
        ("property", "article:published_time", spec.published),
        ("property", "article:modified_time", spec.modified),
        ("property", "article:section", spec.section),
        *(("property", "article:author", _a(author)) for author in spec.authors),
        ("name", "twitter:card", "summary_large_image"),
        ("name", "twitter:title", title),
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="{spec.lang}" class="no-js">\n'
        '<head>\n<meta charset="utf-8">\n'
        f"<title>{_t(spec.title)} – {_t(ui['name'])}</title>\n"
        f'<link rel="canonical" href="{_a(url)}">\n'
        + "".join(f'<meta {attr}="{key}" content="{value}">\n' for attr, key, value in metas)
        + '<link rel="preload" href="/static/fonts/serif.woff2" as="font" crossorigin>\n'
        '<link rel="stylesheet" href="/static/css/main.4f9c2e.css">\n'
        f"{_STYLE}\n{_jsonld(spec, url)}\n{_analytics(nonce, noise, spec)}\n</head>\n"
    )


def _ad(slot: str, lang: str, noise: random.Random) -> str:
    return (
        f'<div class="ad ad-{slot}" data-slot="{slot}-{noise.randrange(1000)}">'
        f'<span class="ad-label">{_t(_SITE[lang]["ad"])}</span>'
        f"<p>{_t(noise.choice(_ADS[lang]))}</p></div>\n"
    )


def _header(spec: ArticleSpec, noise: random.Random) -> str:
    """Top bar, menu, and the live ticker with its relative timestamps (noise)."""
    lang, ui = spec.lang, _SITE[spec.lang]
    ticker = [
        item.replace("</a>", f'</a> <span class="ago">{ago}</span>')
        for item in _teaser_list(spec, noise, 4, "ticker-item")
        for ago in [_t(ui["ago"].format(m=noise.randrange(1, 90)))]
    ]
    return (
        f'<body class="article-page lang-{lang}">\n<a class="skip" href="#main">{ui["skip"]}</a>\n'
        f'<header class="site-header"><div class="top-bar"><a class="logo" href="/{lang}/">'
        f'{_t(ui["name"])}</a><button class="menu">{ui["menu"]}</button>'
        f'<form class="search" action="/search"><input name="q" placeholder="{_a(ui["search"])}">'
        f'</form><a class="subscribe" href="/abonnement">{_t(ui["subscribe"])}</a>'
        f'<a class="login" href="/login">{_t(ui["login"])}</a></div>\n{_nav(spec)}\n'
        f'<div class="ticker"><span class="ticker-updated">'
        f'{_t(ui["updated_ago"].format(m=noise.randrange(1, 59)))}</span>'
        f'<ul>{"".join(ticker)}</ul></div></header>\n'
    )


def _article(spec: ArticleSpec, image: str) -> str:
    """The ``<article>``: the only part of the page that depends on the spec alone."""
    lang, ui = spec.lang, _SITE[spec.lang]
    authors = ", ".join(
        f'<a rel="author" class="author" href="/auteur/{_slugify(a)}">{_t(a)}</a>'
        for a in spec.authors
    )
    dates = (
        f'{ui["published"]} <time itemprop="datePublished" datetime="{spec.published}">'
        f"{_t(_display_date(spec.published, lang))}</time>"
    )
    if spec.modified != spec.published:
        dates += (
            f', {ui["modified"]} <time itemprop="dateModified" datetime="{spec.modified}">'
            f"{_t(_display_date(spec.modified, lang))}</time>"
        )
    body = "".join(f"<p>{_t(text)}</p>\n" for text in spec.paragraphs)
    return (
        '<article class="article" itemscope itemtype="https://schema.org/NewsArticle">\n'
        '<header class="article-header">\n'
        f'<h1 class="article-title" itemprop="headline">{_t(spec.title)}</h1>\n'
        f'<p class="byline">{ui["by"]} {authors}</p>\n<p class="dates">{dates}</p>\n</header>\n'
        f'<figure class="lead-image"><img src="{_a(image)}" alt="" width="1200" height="675">'
        "</figure>\n"
        f'<div class="article-body" itemprop="articleBody">\n{body}</div>\n</article>\n'
    )


def _asides(spec: ArticleSpec, noise: random.Random, csrf: str) -> str:
    """Share bar with its view counter, related links, "most read" (shuffled), newsletter form."""
    ui = _SITE[spec.lang]
    share = "".join(
        f'<a href="/share/{net.lower()}?u={_a(spec.path)}">{net}</a>'
        for net in ("Facebook", "X", "E-mail")
    )
    views = _t(ui["views"].format(v=noise.randrange(200, 250000)))
    related = "".join(_teaser_list(spec, _static_rng(spec, "related"), 6, "related-item"))
    most_read = _teaser_list(spec, _static_rng(spec, "most-read"), 10, "most-read-item")
    noise.shuffle(most_read)
    return (
        f'<div class="share-bar"><span>{_t(ui["share"])}</span>{share}'
        f'<span class="views">{views}</span></div>\n'
        + _ad("inread", spec.lang, noise)
        + f'<aside class="related"><h2>{_t(ui["related"])}</h2><ul>{related}</ul></aside>\n'
        f'<aside class="most-read"><h2>{_t(ui["most_read"])}</h2>'
        f'<ol>{"".join(most_read)}</ol></aside>\n'
        '<form class="newsletter" method="post" action="/newsletter">'
        f'<label>{_t(ui["newsletter"])}<input type="email" name="email" '
        f'placeholder="{_a(ui["email"])}"></label>'
        f'<input type="hidden" name="csrf_token" value="{csrf}"><button>OK</button></form>\n'
    )


def _comments(spec: ArticleSpec, noise_seed: int, noise: random.Random) -> str:
    """The comment count and the last few comments: both move between fetches."""
    lang, ui = spec.lang, _SITE[spec.lang]
    base = random.Random(f"{spec.slug}|comments").randrange(3, 60)
    count = base + noise_seed % 7 + noise.randrange(3)
    start = datetime.fromisoformat(spec.published)
    items = []
    for k in range(max(0, count - 4), count):
        crng = random.Random(f"{spec.slug}|comment|{k}")
        when = _iso(start + timedelta(minutes=15 * (k + 1) + crng.randrange(15)))
        items.append(
            f'<li class="comment" id="comment-{k + 1}">'
            f'<span class="comment-author">{_t(_person(lang, crng))}</span> '
            f'<time class="comment-date" datetime="{when}">{_t(_display_date(when, lang))}</time>'
            f'<p class="comment-text">{_t(crng.choice(_WORDS[lang]["comment"]))}</p></li>\n'
        )
    title = _t(ui["comments"].format(c=count))
    return (
        f'<section id="comments" class="comments"><h2>{title}</h2><ol>\n'
        f'{"".join(items)}</ol></section>\n'
    )


def _footer(spec: ArticleSpec, nonce: str, noise: random.Random) -> str:
    ui = _SITE[spec.lang]
    footer_rng = _static_rng(spec, "footer")
    columns = "".join(
        f'<ul class="footer-col"><li><strong>{section.capitalize()}</strong></li>'
        + "".join(_teaser_list(spec, footer_rng, 3, "footer-item"))
        + "</ul>"
        for section in _WORDS[spec.lang]["section"]
    )
    return (
        f'<footer class="site-footer"><div class="footer-links">{columns}</div>'
        f'<p class="legal"><a href="/legal">{_t(ui["legal"])}</a> · '
        f'<a href="/privacy">{_t(ui["privacy"])}</a> · <a href="/cookies">{_t(ui["cookies"])}'
        f"</a> · © 2025 {_t(ui['name'])}. {_t(ui['rights'])}.</p></footer>\n"
        f'<script nonce="{nonce}">(function(){{var s=document.createElement("script");'
        f's.src="/static/js/ads.js?slot={noise.randrange(10**6)}";s.async=true;'
        "document.head.appendChild(s);})();</script>\n"
        f'<script nonce="{nonce}" src="/static/js/app.8d21f0.js" defer></script>\n'
        "</body>\n</html>\n"
    )


def render(spec: ArticleSpec, *, noise_seed: int, base_url: str = DEFAULT_BASE_URL) -> str:
    """The HTML page of ``spec``: the article does not depend on ``noise_seed``, the noise does.

    ``base_url`` is used for the canonical link, ``og:url`` and JSON-LD; links inside the page
    are relative.
    """
    ui = _SITE[spec.lang]
    url = base_url.rstrip("/") + spec.path
    noise = random.Random(f"{spec.slug}|noise|{noise_seed}")
    nonce = f"{noise.getrandbits(96):024x}"
    csrf = hashlib.sha256(f"{spec.slug}|{noise_seed}".encode()).hexdigest()
    image = f"{url.rsplit('/', 1)[0]}/img/{spec.slug}-1200.jpg"
    section = spec.section
    return "".join(
        (
            _head(spec, url, nonce, noise),
            _header(spec, noise),
            _ad("top", spec.lang, noise),
            '<main id="main" class="layout">\n<nav class="breadcrumb">'
            f'<a href="/{spec.lang}/">{_t(ui["home"])}</a> › '
            f'<a href="/{spec.lang}/{section}/">{section.capitalize()}</a></nav>\n',
            _article(spec, image),
            _asides(spec, noise, csrf),
            _comments(spec, noise_seed, noise),
            _ad("side", spec.lang, noise),
            "</main>\n",
            _footer(spec, nonce, noise),
        )
    )


def article_region(page: str) -> str:
    """The ``<article>…</article>`` part of a rendered page (for tests)."""
    start = page.index('<article class="article"')
    end = page.index("</article>", start) + len("</article>")
    return page[start:end]
