"""Topic queries: ``microsoft AND (police OR armée OR army OR "unit 8200" OR azure)``.

A query is made of terms, ``"quoted phrases"``, ``AND``, ``OR``, ``NOT`` and parentheses.
Operators are written in capitals (a lower-case ``and`` is a word to find); two terms side by
side mean AND; ``NOT`` binds tighter than ``AND``, which binds tighter than ``OR``. A term ending
in ``*`` matches any word starting with it (``polic*``: police, policier, policiers).

Matching ignores case and accents (``armée`` matches "ARMEE", "Armee" and "l'armée"), and
treats punctuation between words as a space (``"unit 8200"`` matches "Unit-8200"). A term matches
whole words only: ``army`` does not match "armys" (write ``army*`` for that).

A topic is matched on the title first, then title and summary, then all three with the body:
the first that satisfies the query is the ``field`` reported, with the terms found there.
Languages, when the topic lists them, compare primary subtags (``pt-BR`` is ``pt``); an article
whose language is unknown is guessed from its words (:func:`guess_language`), and accepted when
even that fails.

A malformed query raises :class:`QueryError`, which says where::

    unclosed parenthesis at position 14: microsoft AND (police OR army
                                                       ^
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from monitor.errors import VeilleError

logger = logging.getLogger(__name__)

OPERATORS = ("AND", "OR", "NOT")
TITLE, SUMMARY, BODY = "title", "summary", "body"


class QueryError(VeilleError):
    """A topic query that cannot be parsed; ``position`` is 0-based in ``query``."""

    def __init__(self, message: str, *, query: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.query = query
        self.position = position

    def __str__(self) -> str:
        return (
            f"{self.message} at position {self.position}: {self.query}\n"
            + " " * (len(self.message) + len(f" at position {self.position}: ") + self.position)
            + "^"
        )

    def one_line(self) -> str:
        """The message without the caret line, for a config error."""
        return f"{self.message} at position {self.position} of {self.query!r}"


# --- folding ----------------------------------------------------------------------------------

_LIGATURES = str.maketrans({
    "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ﬁ": "fi", "ﬂ": "fl",
    "’": "'", "‘": "'", "ʼ": "'", "`": "'", "‐": "-", "‑": "-", "–": "-", "—": "-",
})


def fold(text: str) -> str:
    """Lower case without accents or ligatures: what queries and texts are compared as."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# --- the query tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word, a prefix (``polic*``) or a phrase (``"unit 8200"``)."""

    text: str  # as written (without quotes)
    phrase: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        """The regex that finds it in folded text."""
        return _term_pattern(self.text)

    def found(self, folded: str) -> bool:
        """True when the term occurs in ``folded`` text."""
        return self.pattern.search(folded) is not None


@lru_cache(maxsize=4096)
def _term_pattern(text: str) -> re.Pattern[str]:
    prefix = text.endswith("*")
    words = re.findall(r"\w+", fold(text.rstrip("*")))
    body = r"\W+".join(re.escape(word) for word in words)
    tail = r"\w*" if prefix else r"(?!\w)"
    return re.compile(rf"(?<!\w){body}{tail}")


@dataclass(frozen=True)
class Not:
    """``NOT x``."""

    child: Node


@dataclass(frozen=True)
class AllOf:
    """``a AND b AND …``."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    """``a OR b OR …``."""

    children: tuple[Node, ...]


Node = Term | Not | AllOf | AnyOf


def _evaluate(node: Node, folded: str, cache: dict[str, bool]) -> bool:
    if isinstance(node, Term):
        if node.text not in cache:
            cache[node.text] = node.found(folded)
        return cache[node.text]
    if isinstance(node, Not):
        return not _evaluate(node.child, folded, cache)
    if isinstance(node, AllOf):
        return all(_evaluate(child, folded, cache) for child in node.children)
    return any(_evaluate(child, folded, cache) for child in node.children)


def _positive_terms(node: Node, negated: bool = False) -> Iterable[Term]:
    if isinstance(node, Term):
        if not negated:
            yield node
    elif isinstance(node, Not):
        yield from _positive_terms(node.child, not negated)
    else:
        for child in node.children:
            yield from _positive_terms(child, negated)


@dataclass(frozen=True)
class Query:
    """A parsed query."""

    text: str
    root: Node

    def matches(self, text: str) -> bool:
        """True when ``text`` (any case, any accents) satisfies the query."""
        return _evaluate(self.root, fold(text), {})

    def terms_found(self, text: str) -> tuple[str, ...]:
        """The query's positive terms that occur in ``text``, in query order, once each."""
        folded = fold(text)
        found = [term.text for term in _positive_terms(self.root) if term.found(folded)]
        return tuple(dict.fromkeys(found))

    def terms(self) -> tuple[str, ...]:
        """The positive terms (what a search box would be given), in order."""
        return tuple(dict.fromkeys(term.text for term in _positive_terms(self.root)))


# --- parsing ----------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<quote>")|(?P<word>[^\s()"]+))')


@dataclass(frozen=True)
class _Token:
    kind: str  # open, close, phrase, word, AND, OR, NOT, end
    text: str
    position: int


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(query):
        if query[position:].strip() == "":
            break
        match = _TOKEN.match(query, position)
        if match is None:  # cannot happen: every character fits one group
            raise QueryError("unexpected character", query=query, position=position)
        start = match.start(match.lastgroup or 0)
        if match.group("quote"):
            end = query.find('"', start + 1)
            if end < 0:
                raise QueryError("unclosed quote", query=query, position=start)
            phrase = query[start + 1 : end].strip()
            if not re.search(r"\w", phrase):
                raise QueryError("empty phrase", query=query, position=start)
            tokens.append(_Token("phrase", phrase, start))
            position = end + 1
            continue
        if match.group("open"):
            tokens.append(_Token("open", "(", start))
        elif match.group("close"):
            tokens.append(_Token("close", ")", start))
        else:
            word = match.group("word")
            if word in OPERATORS:
                tokens.append(_Token(word, word, start))
            else:
                if not re.search(r"\w", word):
                    raise QueryError(
                        f"{word!r} is not a word to search for", query=query, position=start
                    )
                tokens.append(_Token("word", word, start))
        position = match.end()
    tokens.append(_Token("end", "", len(query)))
    return tokens


class _Parser:
    """Recursive descent: or := and (OR and)*; and := not (AND? not)*; not := NOT not | atom."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokens(query)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: _Token) -> QueryError:
        return QueryError(message, query=self.query, position=token.position)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.error("empty query", self.peek())
        node = self.or_()
        token = self.peek()
        if token.kind == "close":
            raise self.error("')' without a matching '('", token)
        if token.kind != "end":  # pragma: no cover - or_() consumes everything else
            raise self.error(f"unexpected {token.text!r}", token)
        return node

    def or_(self) -> Node:
        children = [self.and_()]
        while self.peek().kind == "OR":
            self.expect_operand(self.take())
            children.append(self.and_())
        return children[0] if len(children) == 1 else AnyOf(tuple(children))

    def and_(self) -> Node:
        children = [self.not_()]
        while True:
            token = self.peek()
            if token.kind == "AND":
                self.expect_operand(self.take())
                children.append(self.not_())
            elif token.kind in ("word", "phrase", "open", "NOT"):  # side by side: AND
                children.append(self.not_())
            else:
                break
        return children[0] if len(children) == 1 else AllOf(tuple(children))

    def expect_operand(self, operator: _Token) -> None:
        """Raise when nothing follows an operator (``microsoft AND``, ``a OR OR b``)."""
        if self.peek().kind in ("end", "close", "AND", "OR"):
            raise self.error(f"{operator.text} needs a term after it", operator)

    def not_(self) -> Node:
        token = self.peek()
        if token.kind == "NOT":
            self.take()
            if self.peek().kind in ("end", "close", "AND", "OR"):
                raise self.error("NOT needs a term after it", token)
            return Not(self.not_())
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "word":
            return Term(token.text)
        if token.kind == "phrase":
            return Term(token.text, phrase=True)
        if token.kind == "open":
            if self.peek().kind == "close":
                raise self.error("empty parentheses", token)
            node = self.or_()
            if self.peek().kind != "close":
                raise self.error("unclosed parenthesis", token)
            self.take()
            return node
        if token.kind in ("AND", "OR"):
            raise self.error(f"{token.text} needs a term before it", token)
        if token.kind == "close":
            raise self.error("')' without a matching '('", token)
        raise self.error("the query ends too early", token)


@lru_cache(maxsize=256)
def parse_query(text: str) -> Query:
    """Parse a topic query; raise :class:`QueryError` (with the position) when malformed."""
    return Query(text, _Parser(text).parse())


# --- matching articles ------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicMatch:
    """Why an article belongs to a topic."""

    topic: str
    field: str  # title | summary | body: how far the matcher had to read
    terms: tuple[str, ...]  # the query's terms found in that text
    language: str | None  # the article's language (declared or guessed), if known


class TopicMatcher:
    """A topic's query and languages, ready to match articles."""

    def __init__(self, name: str, query: str | None, languages: Sequence[str] = ()) -> None:
        self.name = name
        self.query = parse_query(query) if query and query.strip() else None
        self.languages = tuple(languages)

    def match_text(
        self, title: str | None, summary: str | None = None, body: str | None = None
    ) -> tuple[str, tuple[str, ...]] | None:
        """(field, terms) when the texts satisfy the query, title first; else None."""
        if self.query is None:
            return TITLE, ()
        text = ""
        for field, part in ((TITLE, title), (SUMMARY, summary), (BODY, body)):
            if not part:
                continue
            text = f"{text}\n{part}" if text else part
            if self.query.matches(text):
                return field, self.query.terms_found(text)
        return None

    def language_ok(self, language: str | None) -> bool:
        """True when the topic takes every language, or this one (unknown: yes)."""
        if not self.languages or not language:
            return True
        primary = language.split("-")[0].lower()
        return any(wanted.split("-")[0].lower() == primary for wanted in self.languages)

    def match(
        self,
        title: str | None,
        summary: str | None = None,
        body: str | None = None,
        language: str | None = None,
    ) -> TopicMatch | None:
        """A :class:`TopicMatch` when the article is on topic and in a wanted language."""
        found = self.match_text(title, summary, body)
        if found is None:
            return None
        language = language or guess_language(" ".join(p for p in (title, summary, body) if p))
        if not self.language_ok(language):
            return None
        return TopicMatch(self.name, found[0], found[1], language)


# --- language guessing ------------------------------------------------------------------------

# A few hundred of the commonest words would do better; these twenty per language tell news
# prose apart well enough, and cost nothing.
_STOPWORDS = {
    "en": "the of and to in is that for it on was with as by are this from at be have not",
    "fr": "le la les des du et est une dans pour que qui sur pas par au aux avec ce cette",
    "de": "der die das und ist nicht mit den von zu ein eine sich auf dem des fur auch wird",
    "pt": "o os as do da dos das e em um uma para com nao que por mais foi sao ao pelo",
    "es": "el los las del de y en un una para con no que por mas fue son al se lo",
    "it": "il lo gli le del della dei e in un una per con non che da sono al piu questo",
    "nl": "de het een en van in is op te dat niet met zijn voor er aan ook als bij",
}
_STOPWORD_SETS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}
_SCRIPTS = (
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
)


def guess_language(text: str) -> str | None:
    """A primary language subtag guessed from the words of ``text``, or None when unsure."""
    sample = text[:5000]
    if not sample.strip():
        return None
    letters = sum(1 for c in sample if c.isalpha()) or 1
    for code, script in _SCRIPTS:
        if len(script.findall(sample)) > letters * 0.3:
            return code
    words = re.findall(r"\w+", fold(sample))
    if len(words) < 5:
        return None
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORD_SETS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    ranked = sorted(scores.values(), reverse=True)
    # Sure enough: 5 % of the words are its stopwords, clearly ahead of the runner-up.
    if ranked[0] >= max(2, len(words) * 0.05) and ranked[0] >= ranked[1] * 1.5:
        return best
    return None
