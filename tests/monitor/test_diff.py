"""The diff engine: paragraph alignment, word diff, summaries, stealth flag, terminal rendering."""

from __future__ import annotations

import difflib
import json
import re
import unicodedata

import pytest

from monitor.diff import ChangeRecord, diff_articles, removed_share, render_terminal, word_ops
from monitor.wordiff import count_words, tokenise
from spiders.items import Article

FR = [
    "Le gouvernement a annoncé mardi une nouvelle réforme des retraites, selon un communiqué "
    "publié à Paris.",
    "Les soldats de armée sont partis hier soir vers le nord du pays, selon un porte-parole.",
    "Aujourd’hui, la situation reste « très tendue », a-t-il ajouté devant la presse.",
    "Les négociations reprendront la semaine prochaine à Genève.",
]
EN = [
    "The minister said on Tuesday that the plan would go ahead despite the protests.",
    "Critics called it a disaster, and they don't expect it to pass the Senate.",
    "A vote is expected next week in Washington.",
    "Nobody knows what happens next, officials said.",
]


def article(
    paras: list[str],
    *,
    title: str = "Titre",
    language: str = "fr",
    authors: tuple[str, ...] = ("Jean Dupont",),
    published: str | None = "2020-06-09",
    modified: str | None = "2020-06-10",
) -> Article:
    return Article(
        title=title,
        body="\n\n".join(paras),
        authors=authors,
        published=published,
        modified=modified,
        language=language,
    )


def only(records: list[ChangeRecord], kind: str) -> ChangeRecord:
    assert [r.kind for r in records] == [kind]
    return records[0]


def body_diff(old: list[str], new: list[str], language: str = "fr") -> ChangeRecord:
    return only(
        diff_articles(article(old, language=language), article(new, language=language)), "body"
    )


# -- nothing changed ----------------------------------------------------------------------------


def test_identical_articles_give_no_records() -> None:
    assert diff_articles(article(FR), article(FR)) == []


def test_whitespace_and_nfc_differences_give_no_records() -> None:
    old = article(FR, title="Réforme des retraites", authors=("Hélène Dupont",))
    body = unicodedata.normalize("NFD", "\n\n".join(FR)).replace(" ", "  \u00a0", 3)
    body = body.replace("tendue »", "tendue\u202f»").replace("\n\n", "\r\n \n", 1)
    new = Article(
        title=" Réforme  des\tretraites ",
        body="\n\n\n" + body + "\n",
        authors=(unicodedata.normalize("NFD", "Hélène  Dupont"),),
        published=old.published,
        modified=old.modified,
        language="fr",
    )
    assert new.body != old.body
    assert diff_articles(old, new) == []


# -- body: French and English edits -------------------------------------------------------------


def test_single_word_edit_in_french() -> None:
    new = list(FR)
    new[1] = FR[1].replace("de armée", "de l'armée israélienne")
    record = body_diff(FR, new)
    assert record.summary == "3 words changed in paragraph 2: « armée » → « l'armée israélienne »"
    assert (record.words_added, record.words_removed) == (2, 1)
    assert record.share_changed == pytest.approx(3 / count_words("\n\n".join(FR)))
    changes = [op for op in record.ops if op["op"] != "equal"]
    assert changes == [
        {
            "op": "replace",
            "paragraph": 2,
            "unit": "word",
            "old": " armée",
            "new": " l'armée israélienne",
        }
    ]
    assert all(op["paragraph"] == 2 for op in record.ops)


def test_single_word_edit_in_english_uses_curly_quotes() -> None:
    new = list(EN)
    new[1] = EN[1].replace("disaster", "catastrophe")
    record = body_diff(EN, new, language="en")
    assert record.summary == "2 words changed in paragraph 2: “disaster” → “catastrophe”"
    assert (record.words_added, record.words_removed) == (1, 1)


def test_sentence_added_to_a_paragraph() -> None:
    new = list(FR)
    new[2] = FR[2] + " Le Premier ministre n’a pas réagi."
    record = body_diff(FR, new)
    assert record.summary == "6 words added in paragraph 3: « Le Premier ministre n’a pas réagi. »"
    assert (record.words_added, record.words_removed) == (6, 0)
    assert [op["op"] for op in record.ops] == ["equal", "insert"]


def test_paragraph_inserted_at_the_top_does_not_touch_the_others() -> None:
    new = ["Mise à jour : le texte a été adopté.", *FR]
    record = body_diff(FR, new)
    assert record.summary == "paragraph 1 added (8 words)"
    assert record.ops == [
        {
            "op": "insert",
            "paragraph": 1,
            "unit": "paragraph",
            "old": "",
            "new": "Mise à jour : le texte a été adopté.",
        }
    ]
    assert (record.words_added, record.words_removed) == (8, 0)


def test_paragraph_inserted_at_the_top_and_another_edited() -> None:
    new = ["New lead paragraph here.", *EN]
    new[3] = EN[2].replace("next week", "on Friday")
    record = body_diff(EN, new, language="en")
    assert record.summary == (
        "4 words changed in paragraph 4: “next week” → “on Friday”; paragraph 1 added (4 words)"
    )
    edited = {op["paragraph"] for op in record.ops if op["unit"] == "word"}
    assert edited == {4}


def test_edited_paragraph_is_paired_with_its_old_self_next_to_an_inserted_one() -> None:
    # One replaced block of 1 old and 2 new paragraphs: the similar one is the edit.
    new = [EN[0], "A brand new paragraph appears.", EN[1].replace("Senate", "House"), EN[2], EN[3]]
    record = body_diff(EN, new, language="en")
    assert record.summary == (
        "2 words changed in paragraph 3: “Senate” → “House”; paragraph 2 added (5 words)"
    )


def test_paragraph_deleted() -> None:
    record = body_diff(FR, [FR[0], FR[1], FR[3]])
    assert record.summary == f"paragraph 3 removed ({count_words(FR[2])} words)"
    assert record.ops == [
        {"op": "delete", "paragraph": 3, "unit": "paragraph", "old": FR[2], "new": ""}
    ]
    assert (record.words_added, record.words_removed) == (0, count_words(FR[2]))


def test_two_paragraphs_deleted() -> None:
    record = body_diff(EN, [EN[0], EN[3]], language="en")
    removed = count_words(EN[1]) + count_words(EN[2])
    assert record.summary == f"2 paragraphs removed ({removed} words)"
    assert record.words_removed == removed


def test_paragraphs_reordered_is_a_move_not_an_edit() -> None:
    record = body_diff(EN, [EN[1], EN[0], EN[2], EN[3]], language="en")
    assert record.summary == "paragraph 2 moved to 1"
    assert (record.words_added, record.words_removed, record.share_changed) == (0, 0, 0.0)
    assert [(op["op"], op["from"], op["paragraph"]) for op in record.ops] == [("move", 2, 1)]


def test_punctuation_only_change() -> None:
    new = list(EN)
    new[1] = EN[1].replace("disaster,", "disaster;")
    record = body_diff(EN, new, language="en")
    assert record.summary == "punctuation changed in paragraph 2: “,” → “;”"
    assert (record.words_added, record.words_removed) == (0, 0)


def test_spacing_before_punctuation_is_a_change() -> None:
    new = list(FR)
    new[2] = FR[2].replace("tendue »", "tendue»")
    record = body_diff(FR, new)
    assert record.summary == "spacing changed in paragraph 3"


def test_accent_added() -> None:
    old = ["Le president a été réélu dimanche."]
    record = body_diff(old, ["Le président a été réélu dimanche."])
    assert record.summary == "2 words changed in paragraph 1: « president » → « président »"


def test_typo_fix_in_english() -> None:
    old = ["The govenrment will decide tomorrow."]
    record = body_diff(old, ["The government will decide tomorrow."], language="en")
    assert record.summary == "2 words changed in paragraph 1: “govenrment” → “government”"
    assert record.share_changed == pytest.approx(2 / 5)


def test_several_paragraphs_edited() -> None:
    new = [EN[0].replace("minister", "prime minister"), EN[1].replace("disaster", "mess"), *EN[2:]]
    record = body_diff(EN, new, language="en")
    assert record.summary == "3 words changed in 2 paragraphs"
    assert {op["paragraph"] for op in record.ops} == {1, 2}


def test_long_fragments_are_cut() -> None:
    added = " ".join(["Une phrase très longue ajoutée"] * 6) + "."
    record = body_diff(FR, [*FR[:3], FR[3] + " " + added])
    quoted = record.summary.split(": « ", 1)[1]
    assert quoted.endswith("… »")
    assert len(quoted) <= 64


def test_ops_are_compact_and_json() -> None:
    long = " ".join(f"mot{i}" for i in range(200))
    record = body_diff([long], [long.replace("mot100", "MOT100")])
    text = json.dumps(record.ops, ensure_ascii=False)
    assert len(text) < 500
    assert [op["op"] for op in record.ops] == ["equal", "replace", "equal"]
    assert record.ops[0]["cut"] is True and str(record.ops[0]["old"]).startswith("…")
    assert str(record.ops[2]["old"]).endswith("…")


def test_unified_diff_of_the_body() -> None:
    new = ["Premier paragraphe ajouté.", *FR[:3]]
    record = body_diff(FR, new)
    expected = difflib.unified_diff(FR, new, "old/body", "new/body", n=1, lineterm="")
    assert record.unified == "".join(line + "\n" for line in expected)
    assert "+Premier paragraphe ajouté.\n" in record.unified


def test_body_written_from_nothing_has_share_one() -> None:
    record = body_diff([], EN, language="en")
    assert record.summary == f"4 paragraphs added ({count_words(chr(10).join(EN))} words)"
    assert record.share_changed == 1.0


# -- title, byline, dates, stealth --------------------------------------------------------------


def test_title_change_in_english() -> None:
    old = article(EN, title="Plan approved", language="en")
    new = article(EN, title="Plan approved by the Senate", language="en")
    record = only(diff_articles(old, new), "title")
    assert record.summary == "title: “Plan approved” → “Plan approved by the Senate”"
    assert (record.words_added, record.words_removed) == (3, 0)
    assert record.ops == [
        {"op": "equal", "old": "Plan approved", "new": "Plan approved"},
        {"op": "insert", "old": "", "new": " by the Senate"},
    ]
    assert record.unified.splitlines()[-2:] == ["-Plan approved", "+Plan approved by the Senate"]


def test_title_change_in_french_uses_guillemets() -> None:
    old = article(FR, title="Réforme des retraites")
    new = article(FR, title="Réforme des retraites : le texte adopté")
    record = only(diff_articles(old, new), "title")
    assert (
        record.summary
        == "title: « Réforme des retraites » → « Réforme des retraites : le texte adopté »"
    )


def test_byline_change() -> None:
    old = article(FR, authors=("Jean Dupont", "Marie Curie"))
    record = only(diff_articles(old, article(FR, authors=("Jean Dupont",))), "byline")
    assert record.summary == "byline: Jean Dupont, Marie Curie → Jean Dupont"
    assert record.ops == [
        {"op": "equal", "old": "Jean Dupont", "new": "Jean Dupont"},
        {"op": "delete", "old": "Marie Curie", "new": ""},
    ]
    assert (record.words_added, record.words_removed, record.stealth) == (0, 2, False)


def test_byline_added() -> None:
    record = only(diff_articles(article(FR, authors=()), article(FR, authors=("AFP",))), "byline")
    assert record.summary == "byline: (none) → AFP"


def test_modified_date_change() -> None:
    record = only(diff_articles(article(FR), article(FR, modified="2020-06-11")), "dates")
    assert record.summary == "modified date: 2020-06-10 → 2020-06-11"
    assert record.ops == [
        {"op": "replace", "field": "modified", "old": "2020-06-10", "new": "2020-06-11"}
    ]
    assert record.stealth is False
    assert "-modified: 2020-06-10\n+modified: 2020-06-11\n" in record.unified


def test_both_dates_change() -> None:
    old = article(FR, published=None, modified=None)
    record = only(diff_articles(old, article(FR, published="2020-06-09")), "dates")
    assert record.summary == (
        "published date: (none) → 2020-06-09; modified date: (none) → 2020-06-10"
    )
    assert [op["op"] for op in record.ops] == ["insert", "insert"]


def test_edit_without_new_modified_date_is_stealth() -> None:
    new = list(FR)
    new[0] = FR[0].replace("mardi", "lundi")
    records = diff_articles(article(FR, title="A"), article(new, title="B"))
    assert [(r.kind, r.stealth) for r in records] == [("title", True), ("body", True)]


def test_edit_with_both_dates_missing_is_stealth() -> None:
    old = article(FR, published=None, modified=None)
    new = article(FR[:3], published=None, modified=None)
    assert only(diff_articles(old, new), "body").stealth is True


def test_edit_with_a_new_modified_date_is_not_stealth() -> None:
    new = list(FR)
    new[0] = FR[0].replace("mardi", "lundi")
    records = diff_articles(article(FR, title="A"), article(new, title="B", modified="2020-06-11"))
    assert [(r.kind, r.stealth) for r in records] == [
        ("title", False),
        ("body", False),
        ("dates", False),
    ]


# -- terminal -----------------------------------------------------------------------------------


def _edited_records() -> list[ChangeRecord]:
    new = list(FR)
    new[1] = FR[1].replace("de armée", "de l'armée israélienne")
    new.append("Un paragraphe ajouté.")
    return diff_articles(
        article(FR, title="Réforme"), article(new, title="Réforme adoptée", modified="2020-06-11")
    )


def test_render_terminal_without_colour() -> None:
    text = render_terminal(_edited_records(), color=False)
    assert text == (
        "title: « Réforme » → « Réforme adoptée »\n"
        "  Réforme {+adoptée+}\n"
        "body: 3 words changed in paragraph 2: « armée » → « l'armée israélienne »; "
        "paragraph 5 added (3 words)\n"
        "  ¶2 Les soldats de [-armée-]{+l'armée israélienne+} sont partis hier soir vers le …\n"
        "  ¶5 {+Un paragraphe ajouté.+}\n"
        "modified date: 2020-06-10 → 2020-06-11"
    )
    assert "\x1b[" not in text


def test_render_terminal_with_colour() -> None:
    records = _edited_records()
    text = render_terminal(records, color=True)
    assert "\x1b[9;31marmée\x1b[0m\x1b[32ml'armée israélienne\x1b[0m" in text
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "Les soldats de arméel'armée israélienne sont" in plain
    assert "[-" not in plain and "{+" not in plain


def test_render_terminal_marks_stealth_and_empty() -> None:
    old = article(EN, language="en")
    new = article([EN[0].replace("Tuesday", "Monday"), *EN[1:]], language="en")
    text = render_terminal(diff_articles(old, new), color=False)
    assert (
        text.splitlines()[0]
        == "body: 2 words changed in paragraph 1: “Tuesday” → “Monday” [stealth]"
    )
    assert render_terminal([], color=True) == ""


# -- removed_share and word_ops -----------------------------------------------------------------


def test_removed_share() -> None:
    old = article(["un deux trois quatre", "cinq six sept huit"])
    assert removed_share(old, article(["un deux trois quatre"])) == 0.5
    assert removed_share(old, article(["cinq six sept huit", "un deux trois quatre"])) == 0.0
    assert removed_share(old, article(["un"])) == pytest.approx(7 / 8)
    assert removed_share(article([]), old) == 0.0


def test_tokens_keep_french_and_english_words_whole() -> None:
    tokens = [t.strip() for t in tokenise("« L'armée », aujourd’hui, don't 3,5 % peut-être.")]
    assert tokens == [
        "«",
        "L'armée",
        "»",
        ",",
        "aujourd’hui",
        ",",
        "don't",
        "3,5",
        "%",
        "peut-être",
        ".",
    ]
    assert "".join(tokenise("a  b ,c ")) == "a  b ,c "


def test_word_ops_rebuild_both_texts() -> None:
    old = "Les soldats de armée sont partis, selon « un porte-parole »."
    new = "Les soldats de l'armée sont partis hier, selon « le porte-parole »."
    ops = word_ops(old, new)
    assert "".join(str(op["old"]) for op in ops) == old
    assert "".join(str(op["new"]) for op in ops) == new
    assert {"op": "insert", "old": "", "new": " hier"} in ops
    assert word_ops(old, old) == []
