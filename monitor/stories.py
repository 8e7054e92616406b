"""Stories: the language versions of one article, tied together, and edits that did not travel.

Progressive International publishes one article in English, Portuguese, German, French and
Arabic; each version is its own page, watched on its own. A *story* is the set of watched pages
that point at each other as translations, by any of:

- the ``<link rel=alternate hreflang>`` of a page, stored with each version (``alternates``);
- a visible "Available in: English, Deutsch…" block, stored by discovery (``translations``);
- discovery having added a page as the translation of another (``discoveries.via_page_id``).

URLs are compared by :func:`spiders.discovery.canonical.url_key`, so ``http``/``https``,
``www.`` and tracking parameters do not split a story.

**Translation lag.** When a version's title or body changes and another language version of the
story shows no title or body change from ``lag`` before that edit until now, once ``lag`` has
passed, the story carries a ``translation_lag`` note: the edit has not reached that language
(yet). Only the latest edit of each version is considered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from spiders.discovery.canonical import url_key
from storage.discovery import translation_links

if TYPE_CHECKING:
    import sqlite_utils

logger = logging.getLogger(__name__)

DEFAULT_LAG = 12 * 3600.0  # seconds a translation may take before its absence is noted
TRANSLATION_LAG = "translation_lag"
_EDIT_KINDS = ("title", "body")


@dataclass
class StoryPage:
    """One language version of a story."""

    page_id: int
    url: str
    language: str | None
    title: str | None
    edits: list[float] = field(default_factory=list)  # Unix times of title/body changes


@dataclass(frozen=True)
class LagNote:
    """An edit of one version that the others have not followed."""

    kind: str  # TRANSLATION_LAG
    page_id: int
    url: str
    language: str | None
    edited_at: float  # Unix time of the edit
    missing: tuple[str, ...]  # languages (or URLs, when unknown) without a matching edit

    def text(self) -> str:
        """One line for the story view."""
        when = datetime.fromtimestamp(self.edited_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        lang = self.language or self.url
        return (
            f"{TRANSLATION_LAG}: the {lang} version was edited at {when}; "
            f"not (yet) in: {', '.join(self.missing)}"
        )


@dataclass
class Story:
    """Watched pages that are translations of one another."""

    id: int  # the lowest page id of the story
    pages: list[StoryPage]
    notes: list[LagNote] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        """The languages of its versions (unknown ones left out), in page order."""
        return [p.language for p in self.pages if p.language]

    @property
    def title(self) -> str | None:
        """The English title if there is one, else the first known."""
        english = next((p.title for p in self.pages if (p.language or "").startswith("en")), None)
        return english or next((p.title for p in self.pages if p.title), None)


class _Union:
    """Union-find over page ids."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _unix(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def stories(
    db: sqlite_utils.Database,
    *,
    lag: float = DEFAULT_LAG,
    now: float | None = None,
    topic: str | None = None,
) -> list[Story]:
    """Every story of two or more watched pages (of ``topic``, or all), with its lag notes."""
    now = now if now is not None else datetime.now(UTC).timestamp()
    rows = db.execute(
        "SELECT pages.id, pages.url, pages.topic, versions.language, versions.title, "
        "versions.alternates FROM pages LEFT JOIN versions ON versions.id = pages.current_version"
    ).fetchall()
    by_key = {url_key(str(url)): int(pid) for pid, url, *_ in rows}
    union = _Union()
    languages: dict[int, str] = {}
    hinted: dict[int, str] = {}  # a language other pages give for a page (hreflang)

    def link(page_id: int, other_url: str, lang: str | None) -> None:
        other = by_key.get(url_key(other_url))
        if other is None or other == page_id:
            return
        union.join(page_id, other)
        if lang and lang.lower() != "x-default":
            hinted.setdefault(other, lang)

    for pid, _url, _topic, language, _title, alternates in rows:
        if language:
            languages[int(pid)] = str(language)
        for lang, href in json.loads(alternates) if alternates else ():
            link(int(pid), str(href), str(lang))
    for page_id, url, lang, _via in translation_links(db):
        link(page_id, url, lang)
    for page_id, via in db.execute(
        "SELECT page_id, via_page_id FROM discoveries WHERE via_page_id IS NOT NULL"
    ).fetchall():
        union.join(int(page_id), int(via))
    for page_id, lang in db.execute(
        "SELECT page_id, language FROM discoveries WHERE language IS NOT NULL"
    ).fetchall():
        hinted.setdefault(int(page_id), str(lang))

    groups: dict[int, list[int]] = {}
    for pid, *_ in rows:
        groups.setdefault(union.find(int(pid)), []).append(int(pid))
    info = {int(r[0]): r for r in rows}
    edits = _edits(db)
    out: list[Story] = []
    for root, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        if topic is not None and not any(info[m][2] == topic for m in members):
            continue
        pages = [
            StoryPage(
                page_id=m, url=str(info[m][1]),
                # The hreflang others give names the version as its publisher files it
                # ("pt-BR"); the page's own <html lang> often says less ("pt").
                language=hinted.get(m) or languages.get(m),
                title=info[m][4], edits=edits.get(m, []),
            )
            for m in sorted(members)
        ]
        story = Story(id=root, pages=pages)
        story.notes = lag_notes(story, lag=lag, now=now)
        out.append(story)
    return out


def _edits(db: sqlite_utils.Database) -> dict[int, list[float]]:
    """Unix times of the title and body changes of every page."""
    placeholders = ", ".join("?" * len(_EDIT_KINDS))
    out: dict[int, list[float]] = {}
    for page_id, detected_at in db.execute(
        f"SELECT page_id, detected_at FROM changes WHERE kind IN ({placeholders}) ORDER BY id",
        list(_EDIT_KINDS),
    ).fetchall():
        out.setdefault(int(page_id), []).append(_unix(str(detected_at)))
    return out


def lag_notes(story: Story, *, lag: float, now: float) -> list[LagNote]:
    """The ``translation_lag`` notes of a story (see the module docstring)."""
    notes: list[LagNote] = []
    for page in story.pages:
        if not page.edits:
            continue
        edited = max(page.edits)
        if now - edited < lag:
            continue  # the translators still have time
        missing = [
            other.language or other.url
            for other in story.pages
            if other is not page and not any(t >= edited - lag for t in other.edits)
        ]
        if missing:
            notes.append(LagNote(
                TRANSLATION_LAG, page.page_id, page.url, page.language, edited, tuple(missing)
            ))
    return notes


def render_story(story: Story) -> str:
    """The story view: its versions, then its notes."""
    lines = [
        f"story {story.id}: {story.title or '(no title yet)'} — "
        f"{len(story.pages)} language versions ({', '.join(story.languages) or 'unknown'})"
    ]
    for page in story.pages:
        count = len(page.edits)
        edits = f", {count} edit{'s' if count > 1 else ''}" if count else ""
        lines.append(f"  [{page.language or '?'}] {page.url}{edits}")
        if page.title:
            lines.append(f"       {page.title}")
    lines.extend(f"  ! {note.text()}" for note in story.notes)
    return "\n".join(lines)
