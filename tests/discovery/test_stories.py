"""Stories from a real database: hreflang, "available in" and discovery links; translation lag."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitor.stories import TRANSLATION_LAG, render_story, stories
from storage.db import open_database, write_transaction
from storage.discovery import add_translations, record_discovery
from storage.pages import add_pages, get_page, update_page
from storage.versions import insert_change, insert_version

if TYPE_CHECKING:
    from pathlib import Path

    import sqlite_utils

BASE = "https://progressive.example/wire/microsoft-workers"
T0 = datetime(2025, 10, 27, 9, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page(db: sqlite_utils.Database, url: str, lang: str, alternates: list[tuple[str, str]]) -> int:
    add_pages(db, [url], topic="t", now=T0)
    row = get_page(db, url)
    assert row is not None
    with write_transaction(db):
        version = insert_version(
            db, page_id=row.id, content_hash=url, seen_at=iso(T0), snapshot_id=None,
            fields={"title": f"title {lang}", "body": "…", "language": lang,
                    "alternates": alternates},
        )
        update_page(db, row.id, current_version=version)
    return row.id


def edit(db: sqlite_utils.Database, page_id: int, at: float) -> None:
    with write_transaction(db):
        insert_change(db, page_id=page_id, detected_at=iso(at), kind="body", summary="edit")


def test_one_story_from_three_kinds_of_link(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    # en and fr name each other by hreflang, with tracking parameters and http/https mixed.
    en = page(db, f"{BASE}/en/", "en", [("fr", "http://progressive.example/wire/microsoft-workers/fr/?utm_source=x")])
    fr = page(db, f"{BASE}/fr/", "fr", [("en", f"{BASE}/en/")])
    # de is linked from en's visible "Available in" block only.
    de = page(db, f"{BASE}/de/", "de", [])
    with write_transaction(db):
        add_translations(db, en, [("de", f"{BASE}/de/", "x", "available_in")], iso(T0))
    # ar was added by discovery as a translation of en; its page says nothing.
    ar = page(db, f"{BASE}/ar/", "ar", [])
    with write_transaction(db):
        record_discovery(db, page_id=ar, topic="t", source="s", found_url=f"{BASE}/ar/",
                         found_on=None, found_at=iso(T0), field="translation", terms=[],
                         language="ar", via_page_id=en)
    other = page(db, "https://news.example/unrelated.html", "en", [])

    (story,) = stories(db, now=T0)
    assert [p.page_id for p in story.pages] == [en, fr, de, ar]
    assert story.languages == ["en", "fr", "de", "ar"]
    assert story.id == en and story.title == "title en"
    assert other not in [p.page_id for p in story.pages]
    assert story.notes == []


def test_translation_lag(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db")
    urls = {lang: f"{BASE}/{lang}/" for lang in ("en", "fr", "de")}
    alternates = [(lang, url) for lang, url in urls.items()]
    ids = {lang: page(db, url, lang, alternates) for lang, url in urls.items()}
    # The English version is edited; German follows two hours later, French never does.
    edit(db, ids["en"], T0)
    edit(db, ids["de"], T0 + 2 * HOUR)

    (story,) = stories(db, lag=6 * HOUR, now=T0 + 3 * HOUR)
    assert story.notes == []  # within the 6 hours translators are given

    (story,) = stories(db, lag=6 * HOUR, now=T0 + 7 * HOUR)
    assert {(n.language, n.missing) for n in story.notes} == {("en", ("fr",))}
    (story,) = stories(db, lag=6 * HOUR, now=T0 + 9 * HOUR)
    notes = {(n.language, n.missing) for n in story.notes}
    assert notes == {("en", ("fr",)), ("de", ("fr",))}
    assert all(n.kind == TRANSLATION_LAG for n in story.notes)
    text = render_story(story)
    assert "3 language versions (en, fr, de)" in text
    assert "translation_lag: the en version was edited at 2025-10-27 09:00 UTC; not (yet) in: fr" in text

    # French catches up: no more note.
    edit(db, ids["fr"], T0 + 10 * HOUR)
    (story,) = stories(db, lag=6 * HOUR, now=T0 + 11 * HOUR)
    assert [n.language for n in story.notes] == []
    assert stories(db, now=T0, topic="other") == []
