"""Topic queries: parsing, errors with positions, accent- and case-insensitive matching."""

from __future__ import annotations

import pytest

from monitor.topics import QueryError, TopicMatcher, fold, guess_language, parse_query

SEED_QUERY = 'microsoft AND (police OR armée OR army OR "unit 8200" OR azure)'


@pytest.mark.parametrize(
    ("text", "matches", "terms"),
    [
        ("Des employés de Microsoft demandent de cesser de collaborer avec la police", True,
         ("microsoft", "police")),
        ("Comment les travailleurs de MICROSOFT ont aidé à mettre fin à un contrat avec l'ARMEE",
         True, ("microsoft", "armée")),
        ("Microsoft und die israelische Armee", True, ("microsoft", "armée")),
        ("Microsoft cut off Unit-8200 of the Israeli army", True,
         ("microsoft", "army", "unit 8200")),
        ("Microsoft’s Azure stored the data", True, ("microsoft", "azure")),
        ("Microsoft dévoile une nouvelle manette Xbox", False, ("microsoft",)),
        ("La police de Seattle", False, ("police",)),
        ("Microsoftiens et policiers", False, ()),  # whole words only
        ("unit 82000 microsoft", False, ("microsoft",)),
    ],
)
def test_the_seed_query(text: str, matches: bool, terms: tuple[str, ...]) -> None:
    query = parse_query(SEED_QUERY)
    assert query.matches(text) is matches
    assert query.terms_found(text) == terms


def test_operators_precedence_prefix_and_implicit_and() -> None:
    assert parse_query("a OR b AND c").matches("a")
    assert not parse_query("(a OR b) AND c").matches("a")
    assert parse_query("microsoft police").matches("police, microsoft")
    assert not parse_query("microsoft police").matches("microsoft")
    assert parse_query("microsoft NOT xbox").matches("Microsoft Azure")
    assert not parse_query("microsoft NOT xbox").matches("Microsoft Xbox")
    assert parse_query("NOT NOT a").matches("a")
    assert parse_query("polic*").matches("Les policiers")
    assert not parse_query("polic*").matches("politique")
    assert parse_query("microsoft and police").terms() == ("microsoft", "and", "police")
    assert parse_query('"l\'armée israélienne"').matches("L’ARMÉE   israélienne")
    assert parse_query(SEED_QUERY).terms() == (
        "microsoft", "police", "armée", "army", "unit 8200", "azure",
    )


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("microsoft AND (police OR army", "unclosed parenthesis", 14),
        ("microsoft AND", "AND needs a term after it", 10),
        ("OR army", "OR needs a term before it", 0),
        ("microsoft OR", "OR needs a term after it", 10),
        ("a AND OR b", "AND needs a term after it", 2),
        ("(microsoft))", "')' without a matching '('", 11),
        ('microsoft "unit 8200', "unclosed quote", 10),
        ('x "" y', "empty phrase", 2),
        ("()", "empty parentheses", 0),
        ("", "empty query", 0),
        ("   ", "empty query", 3),
        ("microsoft NOT", "NOT needs a term after it", 10),
        ("a ( ) b", "empty parentheses", 2),
        ("a & b", "'&' is not a word", 2),
    ],
)
def test_malformed_queries_say_where(query: str, message: str, position: int) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(query)
    error = info.value
    assert error.message.startswith(message)
    assert error.position == position
    caret_line = str(error).splitlines()[1]
    first_line = str(error).splitlines()[0]
    # The caret sits under the offending character of the query, as printed on the line above.
    assert caret_line.index("^") == first_line.index(": " + query) + 2 + position


def test_matching_order_title_then_summary_then_body() -> None:
    matcher = TopicMatcher("t", SEED_QUERY)
    assert matcher.match_text("Microsoft et la police") == ("title", ("microsoft", "police"))
    assert matcher.match_text("Microsoft", "l'armée", "azure") == ("summary", ("microsoft", "armée"))
    assert matcher.match_text("Tech", "workers", "Microsoft and the army") == (
        "body", ("microsoft", "army"),
    )
    assert matcher.match_text("Tech", "workers", "nothing here") is None
    assert TopicMatcher("all", None).match_text("anything") == ("title", ())


def test_languages() -> None:
    matcher = TopicMatcher("t", "microsoft", ["fr", "en"])
    assert matcher.match("Microsoft", language="fr-FR") is not None
    assert matcher.match("Microsoft", language="de") is None
    assert matcher.language_ok("pt-BR") is False
    assert TopicMatcher("t", "microsoft", ["pt"]).language_ok("pt-BR")
    # Unknown language: guessed from the words; still unknown: accepted.
    german = "Microsoft und die Armee: die Beschäftigte sind nicht mit den Verträgen einverstanden"
    assert matcher.match(german) is None
    assert matcher.match("Microsoft") is not None
    found = matcher.match("Les salariés de Microsoft demandent la fin des contrats avec la police")
    assert found is not None and found.language == "fr"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Les salariés de la tech ont poussé Microsoft à couper une unité de l'armée", "fr"),
        ("How tech workers pushed Microsoft to cut off an army unit and the contracts", "en"),
        ("Wie Tech-Beschäftigte Microsoft dazu brachten, einer Einheit der Armee den Zugang zu "
         "sperren, und die Verträge sind nicht mehr gültig", "de"),
        ("Como trabalhadores da tecnologia levaram a Microsoft a cortar uma unidade do exército "
         "e os contratos não foram renovados", "pt"),
        ("كيف دفع عمال التكنولوجيا مايكروسوفت إلى قطع خدماتها عن وحدة في الجيش", "ar"),
        ("Microsoft Azure", None),
        ("", None),
    ],
)
def test_guess_language(text: str, language: str | None) -> None:
    assert guess_language(text) == language


def test_fold() -> None:
    assert fold("Œuvre ÉLÉGANTE, l’armée — Straße") == "oeuvre elegante, l'armee - strasse"
