"""The shortcuts the fast path takes must give exactly what the plain way gives.

Each shortcut (a cheap test on the bytes or the text before the costly one) is checked against
the plain computation it replaces, on the cases that could tell them apart.
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest

from spiders.comments import inline
from spiders.comments.inline import from_wordpress, read_inline
from spiders.comments.spider import page_tree
from spiders.fingerprint import strip_counters
from spiders.items import normalise_line
from spiders.rawscan import holds, id_attribute_count, occurrences
from spiders.tree import parse_html

# What the shortcuts replace, written the plain way.
PLAIN_COUNTERS = re.compile(
    r"(?:il y a|since) \d+ (?:secondes?|minutes?|min|heures?|h|jours?)"
    r"|\d+ (?:seconds?|minutes?|mins?|hours?|days?) ago"
    r"|\d[\d .,\u202f]* (?:vues|lectures|views|reads|partages|shares|commentaires|comments)",
    re.IGNORECASE,
)
PLAIN_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")


def plain_normalise_line(text: str) -> str:
    return PLAIN_SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def random_texts(parts: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(parts) + rng.choice(["", " "]) for _ in range(rng.randrange(1, 9)))
        for _ in range(count)
    ]


def test_strip_counters_matches_the_plain_regex() -> None:
    parts = [
        "il y a", "IL Y A", "since", "ſince", "İl y a", "ıl y a", "vıews", "3", "1 234", "٣",
        "minutes", "min", "h", "jours", "ago", "vues", "Views", "reads", "Commentaires", "x",
        "\u202f", "seconds", ",", ".",
    ]  # fmt: skip
    texts = random_texts(parts, 20_000, seed=1)
    assert sum(PLAIN_COUNTERS.search(t) is not None for t in texts) > 500  # the test bites
    for text in texts:
        assert strip_counters(text) == PLAIN_COUNTERS.sub(" ", text), text
    assert strip_counters("Publié il y a 3 minutes, 1 234 vues") == "Publié  ,  "
    assert strip_counters("Un texte sans compteur.") == "Un texte sans compteur."


def test_normalise_line_matches_the_plain_regex() -> None:
    parts = ["a", "é", "e\u0301", " ", "\t", "\n", "\u00a0", "\u2009", "\u200b", "\u202f",
             "\u3000", "\ufeff", "\u205f", "\u2028", "\x1c", "\x85", "mot"]  # fmt: skip
    for text in random_texts(parts, 20_000, seed=2):
        assert normalise_line(text) == plain_normalise_line(text), repr(text)


@pytest.mark.parametrize(
    ("markup", "count"),
    [
        (b'<div id="comments">', 1),
        (b"<div id='comments' class=x>", 1),
        (b"<div ID = comments>", 1),
        (b"<div\nid=comments/>", 1),
        (b'<div id="comments"></div><ol id="comments">', 2),
        (b'<div data-id="comments">', 0),
        (b'<div uid="comments">', 0),
        (b'<div id="comments-2">', 0),
        (b'<div id="x-comments">', 0),
        (b'<section class="comments"><a href="#comments">', 0),
    ],
)
def test_id_attribute_count(markup: bytes, count: int) -> None:
    assert id_attribute_count(markup, b"comments") == count


MARKERS = (
    b"comment", b'Comment"', b"UserComments", b"schema.org/Comment", b"schema.org/UserComments",
    b"commentCount", b"CommentAction", b"commentlist", b"comment-list", b"#comments",
    b"comments", b"ld+json", b"#respond", b"omment", b"omment-omment", b"x" * 30 + b"omment",
)


def find_all(raw: bytes, value: bytes) -> list[int]:
    found, start = [], 0
    while (at := raw.find(value, start)) != -1:
        found.append(at)
        start = at + len(value)
    return found


def raw_samples() -> list[bytes]:
    pages = [p.read_bytes() for p in sorted((SHARED / "corpus").rglob("*.htm*"))]
    rng = random.Random(7)
    words = [b"comment", b"Comment", b"omment", b"-", b'"', b"comments", b"User", b"schema.org/",
             b"list", b"Count", b"#", b" ", b"\0", b"x" * 30]
    made = [b"".join(rng.choice(words) for _ in range(rng.randrange(1, 60))) for _ in range(400)]
    many = b"<p class=comment>" * 400 + b"commentlist"  # past the one pass's limit
    return [*pages, *made, many, b"", b"omment", b"comment-omment-omment"]


def test_one_pass_answers_as_plain_scans() -> None:
    """holds and occurrences (the comment side's one pass over a page) give what ``in`` and
    ``find`` give, on every corpus page and on made-up bytes dense in look-alikes."""
    samples = raw_samples()
    assert len(samples) > 300
    for raw in samples:
        for marker in MARKERS:
            assert holds(raw, marker) == (marker in raw), (marker, raw[:80])
            assert list(occurrences(raw, marker)) == find_all(raw, marker), (marker, raw[:80])
    # The answers come from the last page asked about: a new page is never answered with them.
    first, second = b"<div id=comments>", b"<div>"
    assert holds(first, b"comments") and not holds(second, b"comments")


def wordpress_page(containers: str) -> bytes:
    return (
        "<html><body><p>Article.</p>" + containers + "</body></html>"
    ).encode()


def item(number: int, text: str) -> str:
    return (
        f'<li class="comment" id="comment-{number}"><span class="comment-author">Ana</span>'
        f'<p class="comment-text">{text}</p></li>'
    )


@pytest.mark.parametrize(
    "containers",
    [
        f'<section id="comments"><ol>{item(1, "Un.")}{item(2, "Deux.")}</ol></section>',
        # The same id twice (the id index keeps only the first): both lists are still read.
        f'<div id="comments"><ol>{item(1, "Un.")}</ol></div>'
        f'<div id="comments"><ol>{item(2, "Deux.")}</ol></div>',
        f'<div id="comments"><ol id="commentlist">{item(1, "Un.")}{item(2, "Deux.")}</ol></div>',
    ],
)
def test_wordpress_containers_found_by_id_index_or_scan(containers: str) -> None:
    raw = wordpress_page(containers)
    tree = parse_html(raw.decode(), "http://127.0.0.1/a")
    assert tree is not None
    by_bytes = from_wordpress(tree, "http://127.0.0.1/a", raw)
    by_scan = from_wordpress(tree, "http://127.0.0.1/a", None)
    assert [c.text for c in by_bytes] == ["Un.", "Deux."]
    assert by_bytes == by_scan


def test_parse_html_drops_characters_xml_cannot_hold() -> None:
    tree = parse_html("<p>a\x00b\x0bc\ufffed</p><p>é\tok</p>", "http://127.0.0.1/a")
    assert tree is not None
    assert [p.text for p in tree.iter("p")] == ["abcd", "é\tok"]
    # Each of the two non-characters alone, in a text of any width, is found too.
    for text in ("c\ufffed", "l\u2019a\uffffb", "x\U0001f600\ufffey"):
        tree = parse_html(f"<p>{text}</p>", "http://127.0.0.1/a")
        assert tree is not None
        assert next(tree.iter("p")).text == text.replace("\ufffe", "").replace("\uffff", "")


SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


def test_comment_selector_needs_change_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ruling selectors out by the classes and tags an item holds finds the same comments."""
    pages = sorted(p for p in SHARED.rglob("*.htm*") if b"comment" in p.read_bytes())
    assert len(pages) > 20
    url = "http://127.0.0.1/a"
    with_comments = 0
    for page in pages:
        raw = page.read_bytes()
        quick = read_inline(page_tree(raw, None, url), url, None, raw)
        with monkeypatch.context() as patch:
            patch.setattr(inline, "_needs", lambda css: None)
            plain = read_inline(page_tree(raw, None, url), url, None, raw)
        assert quick == plain, page
        with_comments += quick is not None
    assert with_comments >= 10  # the comparison saw real comment threads


def test_comment_count_candidates_match_the_plain_xpath() -> None:
    """Headings and anchors by tag walk, with the bytes' say, read the count the XPath read."""
    from lxml import etree

    from spiders.comments import count

    plain = (
        etree.XPath(
            "//h1 | //h2 | //h3 | //h4 | //h5 | //h6"
            ' | //a[contains(@href, "#comments") or contains(@href, "#respond")'
            ' or contains(@href, "#disqus_thread")]'
        ),
        etree.XPath('//*[contains(@class, "omment") or contains(@id, "omment")]'),
    )

    def plain_count(tree: object) -> int | None:
        for candidates in plain:
            for el in candidates(tree):
                found = count.count_in_text(el.text_content()[: 4 * count.MAX_COUNT_TEXT])
                if found is not None:
                    return found
        return None

    counted = 0
    for page in sorted(SHARED.rglob("*.htm*")):
        raw = page.read_bytes()
        tree = page_tree(raw, None, "http://127.0.0.1/a")
        if tree is None:
            continue
        expected = plain_count(tree)
        assert count._from_text(tree, raw) == expected == count._from_text(tree, None), page
        counted += expected is not None
    assert counted >= 20  # pages that show a count were among them
