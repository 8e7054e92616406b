"""Alert messages: titles, one-line summaries, diff excerpts, digests, in French and English."""

from __future__ import annotations

from typing import Any

from alerts.render import (
    DIGEST_MAX_ARTICLES,
    EXCERPT_LINES,
    render_change,
    render_digest,
    render_test,
)
from alerts.routes import AlertSettings, parse_rate_limit

SETTINGS = AlertSettings(datasette_url="https://data.example.org", database_name="veille")


def row(**fields: Any) -> dict[str, Any]:
    """A change_feed row as alerts.outbox.change_rows gives it."""
    base: dict[str, Any] = {
        "change_id": 7, "kind": "body", "url": "https://www.clubic.com/actualite/1.html",
        "title": "Le gouvernement annonce un plan", "domain": "clubic.com", "stealth": 0,
        "topic": "tech", "words_added": 2, "words_removed": 1, "share_changed": 0.02,
        "page_id": 1, "summary": "", "change_ops": [], "old_title": None,
    }  # fmt: skip
    base.update(fields)
    return base


WORD_EDIT = [
    {
        "op": "equal",
        "paragraph": 4,
        "unit": "word",
        "old": "… soldats de",
        "new": "… soldats de",
        "cut": True,
    },
    {
        "op": "replace",
        "paragraph": 4,
        "unit": "word",
        "old": " armée",
        "new": " l'armée israélienne",
    },
    {
        "op": "equal",
        "paragraph": 4,
        "unit": "word",
        "old": " sont partis …",
        "new": " sont partis …",
        "cut": True,
    },
]


def test_a_stealth_edit_is_titled_as_the_issue_says() -> None:
    change = row(stealth=1, change_ops=WORD_EDIT)
    fr = render_change(change, language="fr", settings=SETTINGS)
    en = render_change(change, language="en", settings=SETTINGS)
    assert fr.title == "Modification silencieuse : Le gouvernement annonce un plan (clubic.com)"
    assert en.title == "Stealth edit: Le gouvernement annonce un plan (clubic.com)"
    assert fr.text.splitlines()[0] == (
        "1 mot supprimé, 2 ajoutés au paragraphe 4 (2 % du texte) ; sans changement de la date "
        "de mise à jour de la page."
    )
    assert en.text.splitlines()[0] == (
        "1 word removed, 2 added in paragraph 4 (2% of the text); the page's modified date did "
        "not change."
    )


def test_the_diff_is_marked_in_each_format() -> None:
    message = render_change(row(change_ops=WORD_EDIT), language="en", settings=SETTINGS)
    assert (
        "Paragraph 4: … soldats de [-armée-] {+l'armée israélienne+} sont partis …" in message.text
    )
    assert "~~armée~~ **l'armée israélienne**" in message.markdown
    assert '<del style="color:#a40000;background:#fdd">armée</del>' in message.html
    assert "<ins" in message.html and "l&#x27;armée israélienne</ins>" in message.html
    assert "Article: https://www.clubic.com/actualite/1.html" in message.text
    assert "In Datasette: https://data.example.org/veille/change_feed?change_id=7" in message.text
    assert message.body("html") == message.html and message.body("text") == message.text


def test_markup_in_the_article_is_escaped() -> None:
    ops = [
        {
            "op": "insert",
            "paragraph": 1,
            "unit": "word",
            "old": "",
            "new": " <script>x</script> *bold*",
        }
    ]
    message = render_change(row(change_ops=ops), language="en", settings=SETTINGS)
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert r"\*bold\*" in message.markdown and r"\<script\>" in message.markdown


def test_a_long_diff_is_cut_with_a_count_of_what_was_left_out() -> None:
    ops = []
    for number in range(1, 11):
        ops.append(
            {
                "op": "insert",
                "paragraph": number,
                "unit": "paragraph",
                "old": "",
                "new": " ".join(["mot"] * 30),
            }
        )
    message = render_change(
        row(change_ops=ops, words_added=300, words_removed=0), language="fr", settings=SETTINGS
    )
    lines = message.text.split("\n\n")[0].splitlines()
    shown = [line for line in lines if line.startswith("Paragraphe ")]
    assert 1 <= len(shown) <= EXCERPT_LINES
    left = 10 - len(shown)
    assert lines[-1] == f"… {left} autres paragraphes modifiés non affichés ({30 * left} mots)"
    assert lines[0].startswith("300 mots ajoutés dans 10 paragraphes")
    huge = [{"op": "delete", "paragraph": 2, "unit": "paragraph", "old": "word " * 500, "new": ""}]
    text = render_change(row(change_ops=huge), language="en", settings=SETTINGS).text
    assert "Paragraph 2 removed: [-word word" in text and "…-]" in text and len(text) < 1500


def test_every_kind_has_a_message_and_unknown_kinds_do_not_break() -> None:
    cases = {
        "title": (
            "Headline changed: Le gouvernement annonce un plan (clubic.com)",
            "“Ancien titre” → “Le gouvernement annonce un plan”.",
        ),
        "byline": ("Byline changed:", "Byline: A → A, B."),
        "dates": ("Dates changed:", "Updated: 2026-01-01 → 2026-01-02."),
        "removed": ("Article removed:", "The page is gone (HTTP 404)."),
        "restored": ("Article back online:", "The page is back online."),
        "moved": ("Article moved:", "The page now redirects to https://clubic.com/new."),
        "article_new": ("New article:", "New article found."),
        "comment_deleted": ("Comment deleted:", "Comment by Bob deleted; it said:"),
        "comment_restored": ("Comment restored:", "Comment by Bob, 2026-11-23 15:05 CET:"),
        "something_else": ("Change: Le gouvernement", "a summary."),
    }
    extra: dict[str, dict[str, Any]] = {
        "title": {
            "old_title": "Ancien titre",
            "change_ops": [
                {"op": "replace", "old": "Ancien titre", "new": "Le gouvernement annonce un plan"}
            ],
        },
        "byline": {
            "change_ops": [
                {"op": "equal", "old": "A", "new": "A"},
                {"op": "insert", "old": "", "new": "B"},
            ]
        },
        "dates": {
            "change_ops": [
                {"op": "replace", "field": "modified", "old": "2026-01-01", "new": "2026-01-02"}
            ]
        },
        "removed": {"summary": "page removed (HTTP 404)"},
        "moved": {"summary": "now redirects to https://clubic.com/new"},
        "comment_deleted": {"comment_author": "Bob", "comment_text": "Faux !"},
        "comment_restored": {
            "comment_author": "Bob",
            "comment_posted_at": "2026-11-23T14:05:00Z",
            "comment_text": "Faux !",
        },
        "something_else": {"summary": "a summary"},
    }
    for kind, (title, line) in cases.items():
        message = render_change(
            row(kind=kind, **extra.get(kind, {})),
            language="en",
            settings=SETTINGS,
            timezone="Europe/Paris",
        )
        assert message.title.startswith(title), (kind, message.title)
        assert line in message.text, (kind, message.text)
    edited = render_change(
        row(
            kind="comment_edited",
            comment_author="Bob",
            comment_text="Plutôt vrai.",
            change_ops=[
                {"op": "replace", "old": "Faux", "new": "Plutôt vrai"},
                {"op": "equal", "old": ".", "new": "."},
            ],
        ),
        language="fr",
        settings=SETTINGS,
    )
    assert edited.title.startswith("Commentaire modifié : ")
    assert "[-Faux-] {+Plutôt vrai+}." in edited.text and "« Plutôt vrai. »" in edited.text


def test_a_digest_caps_what_it_shows_and_names_a_site_wide_storm() -> None:
    changes = [
        row(
            change_id=n,
            page_id=n,
            url=f"https://example.org/{n}",
            title=f"Article {n}",
            domain="example.org",
            words_added=1,
            words_removed=1,
        )
        for n in range(1, 36)
    ]
    changes.append(
        row(
            change_id=99,
            page_id=99,
            kind="title",
            title="Big news",
            domain="other.net",
            url="https://other.net/x",
            old_title="Small news",
        )
    )
    message = render_digest(changes, language="en", settings=SETTINGS)
    assert message.title == "veille digest: 36 changes in 36 articles"
    text = message.text
    assert "35 articles on example.org changed in this digest" in text
    assert text.index("Big news") < text.index("Article 1")  # the headline change comes first
    hidden = 36 - DIGEST_MAX_ARTICLES
    assert f"… and {hidden} more articles ({hidden} changes) not shown." in text
    assert (
        "Its changes in Datasette: https://data.example.org/veille/change_feed?page_id=99" in text
    )
    held = render_digest(
        changes[:2], language="fr", settings=SETTINGS, overflow=parse_rate_limit("20/h")
    )
    assert held.title == "veille : 2 changements dans 2 articles, retenus par la limite d'envoi"
    assert "limite de 20/h messages" in held.text


def test_the_test_message() -> None:
    message = render_test("ops", language="en")
    assert message.title == "veille: test alert for route “ops”"
    assert message.text.startswith("If you can read this, the alerts of route “ops” reach you.")
