"""Alert messages: a title and a body, in French or English, as plain text, Markdown and HTML.

A body is built once as sections of lines of styled pieces, then written in the format each
service shows (:meth:`Message.body`): removed words are ``[-struck-]`` and added words
``{+marked+}`` in plain text, ``~~struck~~`` and ``**bold**`` in Markdown, ``<del>`` and
``<ins>`` in HTML. One change (:func:`render_change`)::

    Stealth edit: Prices soar in the north (example.org)

    6 words removed, 6 added in paragraph 3 (1% of the text); the page's modified date did not
    change.
    Paragraph 3: … prices rose by [-1.7-] {+3.5+} % in a year …

    Article: https://example.org/2026/prices.html
    In Datasette: https://datasette.example.org/veille/change_feed?change_id=42

A digest (:func:`render_digest`) groups changes by article and puts the most substantial first:
headline changes, removed articles, large or stealth edits, then small fixes.

Rows are ``change_feed`` rows as mappings (see :func:`alerts.outbox.change_rows`), with the diff
operations of ``changes.ops`` parsed in ``change_ops`` and the previous headline in
``old_title``. The operations' format is described in ``monitor.diff``; this module reads them on
its own, since alerts do not import monitor. Unknown columns are ignored and unknown kinds get a
generic message, so new kinds never break an alert.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from alerts.routes import AlertSettings, RateLimit

# Budgets: how much of a diff an alert shows before it says what it left out.
EXCERPT_CHARS = 700  # visible characters of diff in a one-change message
EXCERPT_LINES = 4  # changed paragraphs shown in a one-change message
DIGEST_EXCERPT_CHARS = 200  # per change in a digest
DIGEST_MAX_ARTICLES = 30  # articles shown in one digest
DIGEST_MAX_CHANGES = 6  # changes shown per article in a digest
OP_CHARS = 280  # one inserted or removed run of text
QUOTE_CHARS = 500  # a comment's text
HEADLINE_CHARS = 90  # a headline in a title
STORM_ARTICLES = 10  # this many articles of one site in one digest: probably a template change

Piece = tuple[str, str]  # (style, text); styles: text, del, ins, strong, link
Line = tuple[Piece, ...]

_WORD = re.compile(r"\w+(?:['\u2019-]\w+)*")

_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "colon": ":",
        "title": "Headline changed",
        "body": "Article edited",
        "byline": "Byline changed",
        "dates": "Dates changed",
        "removed": "Article removed",
        "restored": "Article back online",
        "moved": "Article moved",
        "article_new": "New article",
        "comment_new": "New comment",
        "comment_edited": "Comment edited",
        "comment_deleted": "Comment deleted",
        "comment_restored": "Comment restored",
        "stealth": "Stealth edit",
        "other": "Change",
        "word": "word",
        "words": "words",
        "removed_w": "removed",
        "added_w": "added",
        "in_par": "in paragraph {0}",
        "in_pars": "in paragraphs {0}",
        "in_many": "in {0} paragraphs",
        "and": "and",
        "share": "{0}% of the text",
        "stealth_note": "the page's modified date did not change",
        "title_from": "“{0}” → “{1}”",
        "title_plain": "Headline changed",
        "no_words": "Paragraphs rearranged",
        "byline_line": "Byline: {0} → {1}",
        "published": "published",
        "modified": "updated",
        "none": "none",
        "gone": "The page is gone",
        "back": "The page is back online",
        "redirects": "The page now redirects to {0}",
        "new_article": "New article found",
        "comment_by": "Comment by {0}, {1}",
        "comment_by_notime": "Comment by {0}",
        "comment_deleted_by": "Comment by {0} deleted; it said",
        "someone": "someone",
        "par": "Paragraph {0}",
        "par_added": "Paragraph {0} added",
        "par_removed": "Paragraph {0} removed",
        "par_moved": "Paragraph {0} moved (was {1})",
        "more_pars": "… {0} more changed paragraphs not shown ({1} words)",
        "more_par": "… 1 more changed paragraph not shown ({1} words)",
        "article": "Article",
        "comment": "Comment",
        "datasette": "In Datasette",
        "datasette_page": "Its changes in Datasette",
        "digest_title": "veille digest: {0} in {1}",
        "overflow_title": "veille: {0} in {1}, held back by the rate limit",
        "change_n": "1 change",
        "changes_n": "{0} changes",
        "article_n": "1 article",
        "articles_n": "{0} articles",
        "overflow_note": (
            "These changes went over this route's limit of {0} messages and were grouped here."
        ),
        "storm": (
            "{0} articles on {1} changed in this digest: many changes on one site at once "
            "usually mean a new page template, not edits."
        ),
        "more_articles": "… and {0} more articles ({1}) not shown.",
        "more_changes": "… and {0} more changes to this article.",
        "test_title": "veille: test alert for route “{0}”",
        "test_body": "If you can read this, the alerts of route “{0}” reach you. Sent {1}.",
    },
    "fr": {
        "colon": " :",
        "title": "Titre modifié",
        "body": "Article modifié",
        "byline": "Signature modifiée",
        "dates": "Dates modifiées",
        "removed": "Article supprimé",
        "restored": "Article de nouveau en ligne",
        "moved": "Article déplacé",
        "article_new": "Nouvel article",
        "comment_new": "Nouveau commentaire",
        "comment_edited": "Commentaire modifié",
        "comment_deleted": "Commentaire supprimé",
        "comment_restored": "Commentaire rétabli",
        "stealth": "Modification silencieuse",
        "other": "Changement",
        "word": "mot",
        "words": "mots",
        "removed_w": "supprimés",
        "added_w": "ajoutés",
        "in_par": "au paragraphe {0}",
        "in_pars": "aux paragraphes {0}",
        "in_many": "dans {0} paragraphes",
        "and": "et",
        "share": "{0} % du texte",
        "stealth_note": "sans changement de la date de mise à jour de la page",
        "title_from": "« {0} » → « {1} »",
        "title_plain": "Titre modifié",
        "no_words": "Paragraphes réordonnés",
        "byline_line": "Signature : {0} → {1}",
        "published": "publication",
        "modified": "mise à jour",
        "none": "aucune",
        "gone": "La page a disparu",
        "back": "La page est de nouveau en ligne",
        "redirects": "La page redirige désormais vers {0}",
        "new_article": "Nouvel article repéré",
        "comment_by": "Commentaire de {0}, {1}",
        "comment_by_notime": "Commentaire de {0}",
        "comment_deleted_by": "Commentaire de {0} supprimé ; il disait",
        "someone": "quelqu'un",
        "par": "Paragraphe {0}",
        "par_added": "Paragraphe {0} ajouté",
        "par_removed": "Paragraphe {0} supprimé",
        "par_moved": "Paragraphe {0} déplacé (auparavant {1})",
        "more_pars": "… {0} autres paragraphes modifiés non affichés ({1} mots)",
        "more_par": "… 1 autre paragraphe modifié non affiché ({1} mots)",
        "article": "Article",
        "comment": "Commentaire",
        "datasette": "Dans Datasette",
        "datasette_page": "Ses changements dans Datasette",
        "digest_title": "Résumé veille : {0} dans {1}",
        "overflow_title": "veille : {0} dans {1}, retenus par la limite d'envoi",
        "change_n": "1 changement",
        "changes_n": "{0} changements",
        "article_n": "1 article",
        "articles_n": "{0} articles",
        "overflow_note": (
            "Ces changements dépassaient la limite de {0} messages de cette route et sont "
            "regroupés ici."
        ),
        "storm": (
            "{0} articles de {1} ont changé dans ce résumé : tant de changements à la fois "
            "sur un site signalent en général une nouvelle maquette, pas des modifications."
        ),
        "more_articles": "… et {0} autres articles ({1}) non affichés.",
        "more_changes": "… et {0} autres changements de cet article.",
        "test_title": "veille : alerte de test pour la route « {0} »",
        "test_body": (
            "Si vous lisez ceci, les alertes de la route « {0} » vous parviennent. Envoyée le {1}."
        ),
    },
}


def _t(language: str, key: str, *args: object) -> str:
    table = _STRINGS.get(language, _STRINGS["en"])
    return table[key].format(*args)


@dataclass(frozen=True)
class Message:
    """A title and a body as sections of lines of styled pieces."""

    title: str
    sections: tuple[tuple[Line, ...], ...]

    def body(self, fmt: str) -> str:
        """The body as ``"html"``, ``"markdown"`` or plain ``"text"`` (anything else)."""
        if fmt == "html":
            return self.html
        if fmt == "markdown":
            return self.markdown
        return self.text

    @property
    def text(self) -> str:
        """Plain text: ``[-removed-]`` and ``{+added+}``."""
        return "\n\n".join(
            "\n".join(_line_text(line) for line in section) for section in self.sections
        )

    @property
    def markdown(self) -> str:
        """Markdown: ``~~removed~~`` and ``**added**``."""
        return "\n\n".join(
            "  \n".join(_line_markdown(line) for line in section) for section in self.sections
        )

    @property
    def html(self) -> str:
        """HTML: ``<del>`` and ``<ins>``, one ``<p>`` per section."""
        return "\n".join(
            "<p>" + "<br>\n".join(_line_html(line) for line in section) + "</p>"
            for section in self.sections
        )


def _line_text(line: Line) -> str:
    out = []
    for style, text in line:
        out.append({"del": f"[-{text}-]", "ins": f"{{+{text}+}}"}.get(style, text))
    return "".join(out)


_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<>#|])")


def _line_markdown(line: Line) -> str:
    out = []
    for style, text in line:
        if style == "link":
            out.append(f"<{text}>")
            continue
        escaped = _MD_SPECIAL.sub(r"\\\1", text)
        out.append(
            {"del": f"~~{escaped}~~", "ins": f"**{escaped}**", "strong": f"**{escaped}**"}.get(
                style, escaped
            )
        )
    return "".join(out)


def _line_html(line: Line) -> str:
    out = []
    for style, text in line:
        safe = html.escape(text)
        if style == "del":
            out.append(f'<del style="color:#a40000;background:#fdd">{safe}</del>')
        elif style == "ins":
            out.append(f'<ins style="color:#005f00;background:#dfd">{safe}</ins>')
        elif style == "strong":
            out.append(f"<strong>{safe}</strong>")
        elif style == "link":
            out.append(f'<a href="{safe}">{safe}</a>')
        else:
            out.append(safe)
    return "".join(out)


# --- small helpers --------------------------------------------------------------------------


def _cut(text: str, width: int) -> str:
    """``text`` on one line, cut to about ``width`` characters at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut + "…"


def _count_words(text: str) -> int:
    return len(_WORD.findall(text))


def _n(language: str, count: int, singular: str, plural: str) -> str:
    return _t(language, singular) if count == 1 else _t(language, plural, count)


def _counted(language: str, count: int, verb: str, *, noun: bool = True) -> str:
    """``3 words removed``, ``1 mot ajouté``; ``5 added`` with ``noun=False``."""
    word = _t(language, "word" if count == 1 else "words")
    participle = _t(language, f"{verb}_w")
    if language == "fr" and count == 1:
        participle = participle.removesuffix("s")  # agreement: 1 mot supprimé
    return f"{count} {word} {participle}" if noun else f"{count} {participle}"


def _join(language: str, items: Sequence[str]) -> str:
    """``a, b and c`` / ``a, b et c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_t(language, 'and')} {items[-1]}"


def headline(change: Mapping[str, Any]) -> str:
    """The article's headline as titles show it (cut to ``HEADLINE_CHARS``), else its URL."""
    title = change.get("title") or change.get("old_title")
    if title:
        return _cut(str(title), HEADLINE_CHARS)
    url = str(change.get("url") or "")
    return _cut(url.split("://", 1)[-1], HEADLINE_CHARS)


def _domain(change: Mapping[str, Any]) -> str:
    return str(change.get("domain") or "")


def _first(change: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` that the row has and is not empty (comment columns vary)."""
    for name in names:
        value = change.get(name)
        if value not in (None, ""):
            return value
    return None


def _when(value: Any, timezone: str) -> str:
    """An ISO 8601 or Unix time, shown as ``2026-11-23 15:05 CET`` in ``timezone``."""
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(float(value), UTC)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(ZoneInfo(timezone))
    except (ValueError, TypeError, OSError, KeyError):
        return str(value)
    return local.strftime("%Y-%m-%d %H:%M %Z")


def _ops(change: Mapping[str, Any]) -> list[dict[str, Any]]:
    ops = change.get("change_ops")
    return [op for op in ops if isinstance(op, dict)] if isinstance(ops, list) else []


def _marked(style: str, text: str) -> list[Piece]:
    """``text`` in ``style``, its leading whitespace left outside the marks."""
    stripped = text.lstrip()
    lead = text[: len(text) - len(stripped)]
    pieces: list[Piece] = [("text", lead)] if lead else []
    if stripped:
        pieces.append((style, _cut(stripped, OP_CHARS)))
    return pieces


def _inline(ops: Sequence[Mapping[str, Any]]) -> list[Piece]:
    """Word operations as one line: equal text, removed words struck, added words marked."""
    pieces: list[Piece] = []
    for op in ops:
        kind, old, new = op.get("op"), str(op.get("old") or ""), str(op.get("new") or "")
        if kind == "equal":
            pieces.append(("text", _cut(old, OP_CHARS) if len(old) > OP_CHARS else old))
        elif kind == "delete":
            pieces += _marked("del", old)
        elif kind == "insert":
            pieces += _marked("ins", new)
        elif kind == "replace":
            pieces += _marked("del", old) + [("text", " ")] + _marked("ins", new.lstrip())
    return pieces


def _visible(line: Line) -> int:
    return sum(len(text) for _style, text in line)


# --- one line: what changed -----------------------------------------------------------------


def _paragraphs(ops: Sequence[Mapping[str, Any]]) -> list[int]:
    return sorted(
        {int(op["paragraph"]) for op in ops if op.get("op") != "equal" and "paragraph" in op}
    )


def summary_line(change: Mapping[str, Any], language: str, timezone: str = "UTC") -> Line:
    """What changed, in one line of the route's language."""
    kind = str(change.get("kind") or "")
    lang = language
    ops = _ops(change)
    text: str
    if kind == "body":
        text = _body_summary(change, ops, lang)
    elif kind == "title":
        old, new = change.get("old_title"), change.get("title")
        if old and new:
            text = _t(
                lang, "title_from", _cut(str(old), HEADLINE_CHARS), _cut(str(new), HEADLINE_CHARS)
            )
        else:
            text = _t(lang, "title_plain")
    elif kind == "byline":
        old = [
            str(op.get("old"))
            for op in ops
            if op.get("op") in ("equal", "delete", "replace") and op.get("old")
        ]
        new = [
            str(op.get("new"))
            for op in ops
            if op.get("op") in ("equal", "insert", "replace") and op.get("new")
        ]
        none = _t(lang, "none")
        text = _t(lang, "byline_line", ", ".join(old) or none, ", ".join(new) or none)
    elif kind == "dates":
        parts = []
        for op in ops:
            label = _t(lang, "modified" if op.get("field") == "modified" else "published")
            parts.append(
                f"{label}{_t(lang, 'colon')} {op.get('old') or '–'} → {op.get('new') or '–'}"
            )
        text = "; ".join(parts) or str(change.get("summary") or "")
        text = text[:1].upper() + text[1:]
    elif kind == "removed":
        status = re.search(r"HTTP \d{3}", str(change.get("summary") or ""))
        text = _t(lang, "gone") + (f" ({status.group(0)})" if status else "")
    elif kind == "restored":
        text = _t(lang, "back")
    elif kind == "moved":
        target = str(change.get("summary") or "").removeprefix("now redirects to ").strip()
        text = _t(lang, "redirects", target)
    elif kind == "article_new":
        text = _t(lang, "new_article")
    elif kind.startswith("comment_"):
        author = _first(change, "comment_author", "author") or _t(lang, "someone")
        when = _first(change, "comment_posted_at", "posted_at", "comment_time", "comment_at")
        if kind == "comment_deleted":
            text = _t(lang, "comment_deleted_by", author)
        elif when:
            text = _t(lang, "comment_by", author, _when(when, timezone))
        else:
            text = _t(lang, "comment_by_notime", author)
    else:
        text = str(change.get("summary") or kind)
    if change.get("stealth") and kind in ("title", "body"):
        text += ("; " if lang == "en" else " ; ") + _t(lang, "stealth_note")
    if kind.startswith("comment_"):
        return (("text", text + _t(lang, "colon")),)
    return (("text", text + "."),)


def _body_summary(change: Mapping[str, Any], ops: Sequence[Mapping[str, Any]], lang: str) -> str:
    added, removed = int(change.get("words_added") or 0), int(change.get("words_removed") or 0)
    paragraphs = _paragraphs(ops)
    if added and removed:
        what = f"{_counted(lang, removed, 'removed')}, {_counted(lang, added, 'added', noun=False)}"
    elif added or removed:
        what = _counted(lang, added or removed, "added" if added else "removed")
    else:
        what = _t(lang, "no_words")
    if len(paragraphs) == 1:
        what += " " + _t(lang, "in_par", paragraphs[0])
    elif 1 < len(paragraphs) <= 5:
        what += " " + _t(lang, "in_pars", _join(lang, [str(p) for p in paragraphs]))
    elif paragraphs:
        what += " " + _t(lang, "in_many", len(paragraphs))
    share = float(change.get("share_changed") or 0.0)
    if share >= 0.01:
        what += f" ({_t(lang, 'share', round(share * 100))})"
    return what


# --- the diff excerpt -----------------------------------------------------------------------


def _body_groups(ops: Sequence[Mapping[str, Any]], lang: str) -> list[tuple[Line, int]]:
    """One line per changed paragraph, with the number of changed words it holds."""
    groups: list[tuple[Line, int]] = []
    run: list[Mapping[str, Any]] = []

    def flush() -> None:
        if run and any(op.get("op") != "equal" for op in run):
            label = _t(lang, "par", run[0].get("paragraph")) + _t(lang, "colon") + " "
            changed = sum(
                _count_words(str(op.get("old") or "")) + _count_words(str(op.get("new") or ""))
                for op in run
                if op.get("op") != "equal"
            )
            groups.append(((("text", label), *_inline(run)), changed))
        run.clear()

    for op in ops:
        if op.get("unit") == "word":
            if run and run[0].get("paragraph") != op.get("paragraph"):
                flush()
            run.append(op)
            continue
        flush()
        number, kind = op.get("paragraph"), op.get("op")
        if kind == "insert":
            text = str(op.get("new") or "")
            label = _t(lang, "par_added", number) + _t(lang, "colon") + " "
            groups.append(((("text", label), *_marked("ins", text)), _count_words(text)))
        elif kind == "delete":
            text = str(op.get("old") or "")
            label = _t(lang, "par_removed", number) + _t(lang, "colon") + " "
            groups.append(((("text", label), *_marked("del", text)), _count_words(text)))
        elif kind == "move":
            label = _t(lang, "par_moved", number, op.get("from")) + _t(lang, "colon") + " "
            groups.append(((("text", label + "“" + _cut(str(op.get("new") or ""), 80) + "”"),), 0))
    flush()
    return groups


def excerpt(change: Mapping[str, Any], language: str, *, chars: int, lines: int) -> list[Line]:
    """The diff of ``change`` as lines, cut to ``chars`` and ``lines`` with a count of the rest."""
    kind = str(change.get("kind") or "")
    ops = _ops(change)
    if kind.startswith("comment_"):
        # The words that changed (an edit), then the comment's text as it stands.
        diff = [tuple(_inline(ops))] if ops and kind == "comment_edited" else []
        return [_shorten(line, chars) for line in diff] + _comment_text(change, language)
    if not ops:
        return []
    if kind == "body":
        groups = _body_groups(ops, language)
    elif kind == "dates":
        return []  # the summary line says it all
    elif kind == "byline":
        pieces: list[Piece] = []
        for op in ops:
            if pieces:
                pieces.append(("text", ", "))
            pieces += _inline([op])
        groups = [(tuple(pieces), 0)]
    else:  # title, comment edits and anything else made of word operations
        groups = [(tuple(_inline(ops)), 0)]
    shown: list[Line] = []
    used = 0
    for index, (line, _words_in) in enumerate(groups):
        size = _visible(line)
        if shown and (len(shown) >= lines or used + size > chars):
            rest = groups[index:]
            left_words = sum(w for _line, w in rest)
            key = "more_par" if len(rest) == 1 else "more_pars"
            shown.append((("text", _t(language, key, len(rest), left_words)),))
            break
        if size > chars:
            line = _shorten(line, chars)
        shown.append(line)
        used += size
    return shown


def _shorten(line: Line, chars: int) -> Line:
    """Cut a line's pieces so that its visible text is about ``chars`` long."""
    out: list[Piece] = []
    used = 0
    for style, text in line:
        if used + len(text) > chars:
            out.append((style, _cut(text, max(20, chars - used))))
            break
        out.append((style, text))
        used += len(text)
    return tuple(out)


def _comment_text(change: Mapping[str, Any], language: str) -> list[Line]:
    text = _first(change, "comment_text", "text", "comment_body", "body_text")
    if not text:
        return []
    style = "del" if change.get("kind") == "comment_deleted" else "text"
    return [
        (
            ("text", "« " if language == "fr" else "“"),
            (style, _cut(str(text), QUOTE_CHARS)),
            ("text", " »" if language == "fr" else "”"),
        )
    ]


def _links(change: Mapping[str, Any], language: str, settings: AlertSettings) -> list[Line]:
    colon = _t(language, "colon") + " "
    out: list[Line] = []
    if change.get("url"):
        out.append((("text", _t(language, "article") + colon), ("link", str(change["url"]))))
    permalink = _first(change, "comment_url", "permalink", "comment_permalink")
    if permalink and str(change.get("kind") or "").startswith("comment_"):
        out.append((("text", _t(language, "comment") + colon), ("link", str(permalink))))
    link = settings.change_link(int(change["change_id"])) if change.get("change_id") else None
    if link:
        out.append((("text", _t(language, "datasette") + colon), ("link", link)))
    return out


def kind_label(change: Mapping[str, Any], language: str) -> str:
    """``Stealth edit``, ``Headline changed``, ``Nouveau commentaire``…"""
    kind = str(change.get("kind") or "")
    if change.get("stealth") and kind in ("title", "body"):
        return _t(language, "stealth")
    table = _STRINGS.get(language, _STRINGS["en"])
    return table[kind] if kind in table and kind in _KIND_KEYS else table["other"]


_KIND_KEYS = frozenset({
    "title", "body", "byline", "dates", "removed", "restored", "moved", "article_new",
    "comment_new", "comment_edited", "comment_deleted", "comment_restored",
})  # fmt: skip


def render_change(
    change: Mapping[str, Any], *, language: str, settings: AlertSettings, timezone: str = "UTC"
) -> Message:
    """The message announcing one change."""
    domain = _domain(change)
    title = f"{kind_label(change, language)}{_t(language, 'colon')} {headline(change)}"
    if domain:
        title += f" ({domain})"
    what = [summary_line(change, language, timezone)]
    what += excerpt(change, language, chars=EXCERPT_CHARS, lines=EXCERPT_LINES)
    sections = [tuple(what)]
    links = _links(change, language, settings)
    if links:
        sections.append(tuple(links))
    return Message(title, tuple(sections))


# --- digests ---------------------------------------------------------------------------------


def weight(change: Mapping[str, Any]) -> float:
    """How substantial a change is, for ordering digests (higher first)."""
    kind = str(change.get("kind") or "")
    size = int(change.get("words_added") or 0) + int(change.get("words_removed") or 0)
    base = {
        "title": 100.0, "removed": 95.0, "article_new": 60.0, "moved": 45.0, "restored": 45.0,
        "byline": 35.0, "comment_deleted": 30.0, "comment_edited": 25.0, "comment_new": 20.0,
        "comment_restored": 20.0,
        "dates": 10.0,
    }.get(kind)  # fmt: skip
    if base is None:
        # Body edits grow with their size; a word or two is a typo fix.
        base = 5.0 if size <= 3 else 20.0 + min(size, 200) / 4
    if change.get("stealth"):
        base += 40.0
    return base


def render_digest(
    changes: Sequence[Mapping[str, Any]],
    *,
    language: str,
    settings: AlertSettings,
    timezone: str = "UTC",
    overflow: RateLimit | None = None,
) -> Message:
    """One message for many changes, grouped by article, most substantial first.

    ``overflow`` names the rate limit when these are the alerts that went over it.
    """
    lang = language
    by_page: dict[Any, list[Mapping[str, Any]]] = {}
    for change in changes:
        by_page.setdefault(change.get("page_id") or change.get("url"), []).append(change)
    articles = sorted(
        by_page.values(),
        key=lambda group: (-max(weight(c) for c in group), -len(group), str(group[0].get("url"))),
    )
    count = _n(lang, len(changes), "change_n", "changes_n")
    in_articles = _n(lang, len(articles), "article_n", "articles_n")
    title = _t(lang, "overflow_title" if overflow else "digest_title", count, in_articles)
    sections: list[tuple[Line, ...]] = []
    notes: list[Line] = []
    if overflow:
        notes.append((("text", _t(lang, "overflow_note", overflow)),))
    per_domain: dict[str, int] = {}
    for group in articles:
        per_domain[_domain(group[0])] = per_domain.get(_domain(group[0]), 0) + 1
    for domain, number in sorted(per_domain.items(), key=lambda item: -item[1]):
        if number >= STORM_ARTICLES and domain:
            notes.append((("text", _t(lang, "storm", number, domain)),))
    if notes:
        sections.append(tuple(notes))
    for group in articles[:DIGEST_MAX_ARTICLES]:
        sections.append(_digest_article(group, lang, settings, timezone))
    hidden = articles[DIGEST_MAX_ARTICLES:]
    if hidden:
        left = _n(lang, sum(len(g) for g in hidden), "change_n", "changes_n")
        sections.append(((("text", _t(lang, "more_articles", len(hidden), left)),),))
    return Message(title, tuple(sections))


def _digest_article(
    group: Sequence[Mapping[str, Any]], lang: str, settings: AlertSettings, timezone: str
) -> tuple[Line, ...]:
    ordered = sorted(group, key=lambda c: (-weight(c), int(c.get("change_id") or 0)))
    head = ordered[0]
    domain = _domain(head)
    lines: list[Line] = [(("strong", headline(head)), ("text", f" ({domain})" if domain else ""))]
    for change in ordered[:DIGEST_MAX_CHANGES]:
        label = kind_label(change, lang) + _t(lang, "colon") + " "
        lines.append((("text", "• " + label), *summary_line(change, lang, timezone)))
        for line in excerpt(change, lang, chars=DIGEST_EXCERPT_CHARS, lines=1):
            lines.append((("text", "  "), *line))
    if len(ordered) > DIGEST_MAX_CHANGES:
        lines.append((("text", _t(lang, "more_changes", len(ordered) - DIGEST_MAX_CHANGES)),))
    colon = _t(lang, "colon") + " "
    if head.get("url"):
        lines.append((("text", _t(lang, "article") + colon), ("link", str(head["url"]))))
    if settings.datasette_url and head.get("page_id"):
        base = settings.datasette_url.rstrip("/")
        link = f"{base}/{settings.database_name}/change_feed?page_id={head['page_id']}"
        lines.append((("text", _t(lang, "datasette_page") + colon), ("link", link)))
    return tuple(lines)


def render_test(route_name: str, *, language: str, timezone: str = "UTC") -> Message:
    """The message of ``veille test-alert``."""
    now = _when(datetime.now(UTC).isoformat(), timezone)
    return Message(
        _t(language, "test_title", route_name),
        (((("text", _t(language, "test_body", route_name, now)),),),),
    )
