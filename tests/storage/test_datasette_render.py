"""The diff HTML of the Datasette plugin, from stored operations: marks, context, escaping."""

from __future__ import annotations

import sqlite3

import pytest

from monitor.diff import diff_articles
from spiders.items import Article
from storage.datasette.access import guard_connection
from storage.datasette.render import parse_ops, render_ops, render_snippet, split_paragraphs

LONG = (
    "Les soldats de l'armée sont partis mardi matin vers la frontière nord du pays, "
    "selon plusieurs témoins interrogés par notre rédaction sur place."
)


def article(title: str, body: str, **extra: object) -> Article:
    return Article(title=title, body=body, **extra)  # type: ignore[arg-type]


def test_an_edited_paragraph_is_shown_whole_with_its_words_marked() -> None:
    old = article("Titre", f"Premier paragraphe.\n\n{LONG}")
    new = article("Titre", f"Premier paragraphe.\n\n{LONG.replace('armée', 'armée israélienne')}")
    (record,) = diff_articles(old, new)
    html = render_ops("body", record.ops, new_paragraphs=split_paragraphs(new.body))
    assert "<ins>israélienne</ins>" in html
    assert "<del>" not in html
    # The words the ops left out ("…") come back from the new paragraph: the whole paragraph.
    assert "frontière nord du pays" in html and "notre rédaction sur place." in html
    assert "veille-gap" not in html
    compact = render_ops("body", record.ops, full=False)
    assert "<ins>israélienne</ins>" in compact and "veille-gap" in compact
    assert "notre rédaction sur place" not in compact


def test_a_replaced_word_is_struck_and_the_new_one_inserted() -> None:
    old = article("Le budget après plusieurs semaines", "Texte.")
    new = article("Le budget après plusieurs mois", "Texte.")
    (record,) = diff_articles(old, new)
    html = render_ops("title", record.ops, new_title=new.title)
    assert "plusieurs <del>semaines</del><ins>mois</ins>" in html


def test_context_falls_back_to_the_stored_words_when_the_paragraph_disagrees() -> None:
    old = article("T", LONG)
    new = article("T", LONG.replace("mardi", "mercredi"))
    (record,) = diff_articles(old, new)
    html = render_ops("body", record.ops, new_paragraphs=["something else entirely"])
    assert "<del>mardi</del><ins>mercredi</ins>" in html
    assert "veille-gap" in html  # the "…" of the stored context, not invented text


def test_added_removed_and_moved_paragraphs() -> None:
    paras = [f"Paragraphe numéro {n} avec assez de mots pour compter ici." for n in range(5)]
    new_paras = [paras[0], "Un tout nouveau paragraphe inséré.", *paras[1:3], paras[4], paras[3]]
    old = article("T", "\n\n".join(paras))
    new = article("T", "\n\n".join(new_paras))
    (record,) = diff_articles(old, new)
    html = render_ops("body", record.ops, new_paragraphs=new_paras)
    assert "<ins>Un tout nouveau paragraphe inséré.</ins>" in html
    assert "veille-para-inserted" in html
    assert "moved" in html


def test_byline_and_dates() -> None:
    old = article("T", "B", authors=("Anaïs Deschamps",), modified="2025-01-01")
    new = article("T", "B", authors=("Anaïs Deschamps", "Léa Lefèvre"), modified="2025-01-02")
    records = {r.kind: r for r in diff_articles(old, new)}
    assert "Anaïs Deschamps, <ins>Léa Lefèvre</ins>" in render_ops("byline", records["byline"].ops)
    dates = render_ops("dates", records["dates"].ops)
    assert "<del>2025-01-01</del>" in dates and "<ins>2025-01-02</ins>" in dates


def test_everything_is_escaped() -> None:
    old = article("<b>T</b>", "Texte <script>alert(1)</script> ici.")
    new = article("<b>T</b> <img src=x onerror=alert(2)>", "Texte <script>alert(3)</script> ici.")
    records = {r.kind: r for r in diff_articles(old, new)}
    body = render_ops("body", records["body"].ops, new_paragraphs=[new.body])
    title = render_ops("title", records["title"].ops, new_title=new.title)
    for html in (body, title):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(" in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in title
    assert render_snippet("a **<i>x</i>** b") == "a <mark>&lt;i&gt;x&lt;/i&gt;</mark> b"


@pytest.mark.parametrize("value", [None, "", "not json", "{}", "[1, 2]"])
def test_unreadable_ops_are_none(value: object) -> None:
    assert parse_ops(value) is None


def test_guarded_connection_cannot_write_or_read_secrets() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE alert_routes (name TEXT, url TEXT)")
    conn.execute("INSERT INTO alert_routes VALUES ('ops', 'mailto://user:hunter2@example.org')")
    conn.execute("CREATE TABLE other (id INTEGER, token TEXT, note TEXT)")
    conn.execute("INSERT INTO other VALUES (1, 'tok-123', 'visible')")
    conn.commit()
    guard_connection(conn, hidden_tables={"alert_routes"}, secret_columns={"token"})
    assert conn.execute("SELECT name, url FROM alert_routes").fetchall() == [(None, None)]
    assert conn.execute("SELECT * FROM other").fetchall() == [(1, None, "visible")]
    assert conn.execute(
        "SELECT COUNT(*) FROM alert_routes WHERE url LIKE '%hunter2%'"
    ).fetchone() == (0,)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("INSERT INTO other VALUES (2, 'x', 'y')")
