"""What changed between two versions of an article: pure functions, no I/O.

:func:`diff_articles` compares the normalised content (:meth:`Article.content`) and returns one
:class:`ChangeRecord` per kind that changed, in this order: ``title``, ``body``, ``byline``,
``dates``. Identical content gives ``[]``.

The body is compared in two steps. Paragraphs are aligned first (``difflib`` on the paragraph
lists, so unchanged paragraphs cost one hash and an equality test, whatever moved around them);
inside each block of replaced paragraphs, old and new paragraphs are paired by word similarity,
so an edited paragraph is diffed word by word against its old self while a new one is an insert.
A removed paragraph that reappears elsewhere, unchanged, is a move. Words are then diffed only
inside the paired paragraphs (:mod:`monitor.wordiff`).

Operations (``ChangeRecord.ops``), JSON-able dicts::

    {"op": "equal" | "insert" | "delete" | "replace", "old": text, "new": text}

- ``title``: word-level operations on the title (no other key).
- ``body``: every operation also has ``"paragraph"`` (1-based) and ``"unit"``:

  - ``"unit": "word"``: an operation inside an edited paragraph; ``paragraph`` is its number in
    the new body. ``old`` and ``new`` keep the whitespace before each word, so joining the
    ``old`` (or ``new``) texts of a paragraph's operations rebuilds the paragraph, except
    ``equal`` operations marked ``"cut": true``: they keep only a few words of context next to
    a change, with "…" standing for the words left out.
  - ``"unit": "paragraph"``: a whole paragraph. ``insert`` (``paragraph`` in the new body, full
    text in ``new``), ``delete`` (``paragraph`` in the old body, full text in ``old``), or
    ``move``: ``{"op": "move", "paragraph": new number, "from": old number, "old": start,
    "new": start}`` with the paragraph's start cut to about 60 characters.
- ``byline``: one operation per author name (``equal``, ``insert``, ``delete``, ``replace``).
- ``dates``: ``{"op": "insert" | "delete" | "replace", "field": "published" | "modified",
  "old": date or "", "new": date or ""}``.

Example, one word edited in paragraph 4::

    [{"op": "equal", "paragraph": 4, "unit": "word", "old": "… soldats de",
      "new": "… soldats de", "cut": true},
     {"op": "replace", "paragraph": 4, "unit": "word", "old": " armée",
      "new": " l'armée israélienne"},
     {"op": "equal", "paragraph": 4, "unit": "word", "old": " sont partis …",
      "new": " sont partis …", "cut": true}]
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from monitor.wordiff import WordDiff, count_words, tokenise, word_ops, words
from spiders.items import paragraphs

if TYPE_CHECKING:
    from collections.abc import Callable

    from spiders.items import Article

    _Inline = Callable[[list[dict[str, object]]], str]
    _Style = Callable[[str], str]

# Paragraphs at least this similar (shared words, 0..1) are one paragraph edited, not two.
DIFF_PAIR_SIMILARITY = 0.5
# Beyond this many (old x new) paragraphs in one replaced block, skip pairing (a rewrite).
DIFF_PAIR_MAX_CELLS = 2500
# Quoted fragments in summaries are cut to about this many characters.
DIFF_QUOTE_WIDTH = 60
# Paragraphs of context in the unified diff.
DIFF_UNIFIED_CONTEXT = 1

__all__ = [
    "ChangeRecord",
    "diff_articles",
    "removed_share",
    "render_terminal",
    "word_ops",
]


@dataclass(frozen=True)
class ChangeRecord:
    """One kind of change between two versions of an article."""

    kind: str  # "title" | "body" | "byline" | "dates"
    summary: str  # one line for humans
    words_added: int
    words_removed: int
    share_changed: float  # (added + removed words) / old words of the field, at most 1.0
    ops: list[dict[str, object]]  # JSON-able operations, see the module docstring
    unified: str  # unified diff of the field, one paragraph (or value) per line
    stealth: bool  # title or body changed while the page's modified date did not


def diff_articles(old: Article, new: Article) -> list[ChangeRecord]:
    """The changes from ``old`` to ``new``, one record per kind that changed; ``[]`` if none."""
    a, b = old.content(), new.content()
    quotes = _quotes(new.language or old.language)
    # The page claims no update: an edit it made anyway is a stealth edit.
    stealth = old.modified == new.modified
    records: list[ChangeRecord] = []
    if a["title"] != b["title"]:
        records.append(_title_record(str(a["title"]), str(b["title"]), quotes, stealth))
    if a["body"] != b["body"]:
        records.append(_body_record(str(a["body"]), str(b["body"]), quotes, stealth))
    if a["authors"] != b["authors"]:
        records.append(_byline_record(_names(a["authors"]), _names(b["authors"])))
    if (a["published"], a["modified"]) != (b["published"], b["modified"]):
        records.append(_dates_record(old, new))
    return records


def removed_share(old: Article, new: Article) -> float:
    """Share (0..1) of the old body's words that no longer appear in the new body.

    Counted as multisets, so moved text is not removed. A high share is more often a bad
    extraction than a real edit: worth a second fetch before it is believed.
    """
    old_words = Counter(words(str(old.content()["body"])))
    total = sum(old_words.values())
    if not total:
        return 0.0
    gone = old_words - Counter(words(str(new.content()["body"])))
    return sum(gone.values()) / total


# -- title ----------------------------------------------------------------------------------


def _title_record(old: str, new: str, quotes: tuple[str, str], stealth: bool) -> ChangeRecord:
    wd = WordDiff.of(old, new)
    return ChangeRecord(
        kind="title",
        summary=f"title: {_quote(old, quotes)} → {_quote(new, quotes)}",
        words_added=wd.words_added,
        words_removed=wd.words_removed,
        share_changed=_share(wd.words_added + wd.words_removed, count_words(old)),
        ops=wd.ops(),
        unified=_unified("title", [old], [new]),
        stealth=stealth,
    )


# -- body -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One paragraph-level event of a body diff."""

    kind: str  # "edit" | "insert" | "delete" | "move"
    old: int | None  # 0-based index in the old body
    new: int | None  # 0-based index in the new body
    words: WordDiff | None = None  # for "edit"


def _body_record(old: str, new: str, quotes: tuple[str, str], stealth: bool) -> ChangeRecord:
    old_paras, new_paras = paragraphs(old), paragraphs(new)
    matcher = difflib.SequenceMatcher(None, old_paras, new_paras, autojunk=False)
    steps = _align(matcher, old_paras, new_paras)
    added = removed = 0
    ops: list[dict[str, object]] = []
    for step in steps:
        if step.kind == "edit":
            assert step.words is not None and step.new is not None
            added += step.words.words_added
            removed += step.words.words_removed
            where = {"paragraph": step.new + 1, "unit": "word"}
            ops.extend({"op": op.pop("op"), **where, **op} for op in step.words.ops())
        elif step.kind == "insert":
            assert step.new is not None
            added += count_words(new_paras[step.new])
            ops.append(_para_op("insert", step.new, "", new_paras[step.new]))
        elif step.kind == "delete":
            assert step.old is not None
            removed += count_words(old_paras[step.old])
            ops.append(_para_op("delete", step.old, old_paras[step.old], ""))
        else:
            assert step.old is not None and step.new is not None
            start = _cut(new_paras[step.new])
            ops.append(_para_op("move", step.new, start, start) | {"from": step.old + 1})
    return ChangeRecord(
        kind="body",
        summary=_body_summary(steps, old_paras, new_paras, quotes),
        words_added=added,
        words_removed=removed,
        share_changed=_share(added + removed, count_words(old)),
        ops=ops,
        unified=_unified("body", old_paras, new_paras, matcher),
        stealth=stealth,
    )


def _para_op(op: str, index: int, old: str, new: str) -> dict[str, object]:
    return {"op": op, "paragraph": index + 1, "unit": "paragraph", "old": old, "new": new}


def _align(matcher: difflib.SequenceMatcher[str], old: list[str], new: list[str]) -> list[_Step]:
    """Paragraph-level steps from ``old`` to ``new`` (matched by ``matcher``), in reading order.

    Equal paragraphs are skipped.
    """
    steps: list[_Step] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i, j in _pair(old[i1:i2], new[j1:j2]):
            if i is not None and j is not None:
                wd = WordDiff.of(old[i1 + i], new[j1 + j])
                steps.append(_Step("edit", i1 + i, j1 + j, wd))
            elif i is not None:
                steps.append(_Step("delete", i1 + i, None))
            elif j is not None:
                steps.append(_Step("insert", None, j1 + j))
    return _find_moves(steps, old, new)


def _pair(old: list[str], new: list[str]) -> list[tuple[int | None, int | None]]:
    """Pair old and new paragraphs of one replaced block, in order, maximising similarity.

    Unpaired paragraphs come back as ``(i, None)`` (removed) or ``(None, j)`` (added).
    """
    n, m = len(old), len(new)
    if not n or not m or n * m > DIFF_PAIR_MAX_CELLS:
        return [(i, None) for i in range(n)] + [(None, j) for j in range(m)]
    if n == m == 1:
        return [(0, 0)]  # one paragraph replaced in place: always show what changed in it
    bags_old = [Counter(t.strip() for t in tokenise(p)) for p in old]
    bags_new = [Counter(t.strip() for t in tokenise(p)) for p in new]
    sim = [[_similarity(x, y) for y in bags_new] for x in bags_old]
    # Monotonic alignment (like Needleman-Wunsch without gap costs): best total similarity.
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best = max(score[i - 1][j], score[i][j - 1])
            s = sim[i - 1][j - 1]
            if s >= DIFF_PAIR_SIMILARITY:
                best = max(best, score[i - 1][j - 1] + s)
            score[i][j] = best
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        s = sim[i - 1][j - 1] if i and j else 0.0
        if i and j and s >= DIFF_PAIR_SIMILARITY and score[i][j] == score[i - 1][j - 1] + s:
            i, j = i - 1, j - 1
            pairs.append((i, j))
        elif j and (not i or score[i][j] == score[i][j - 1]):
            j -= 1
            pairs.append((None, j))
        else:
            i -= 1
            pairs.append((i, None))
    pairs.reverse()
    return pairs


def _similarity(a: Counter[str], b: Counter[str]) -> float:
    """Share of tokens in common, order ignored (``difflib``'s ``quick_ratio``)."""
    total = sum(a.values()) + sum(b.values())
    return 2 * sum((a & b).values()) / total if total else 1.0


def _find_moves(steps: list[_Step], old: list[str], new: list[str]) -> list[_Step]:
    """Turn each removed paragraph that reappears, unchanged, as an added one into a move."""
    removed: dict[str, list[int]] = {}
    for k, step in enumerate(steps):
        if step.kind == "delete" and step.old is not None:
            removed.setdefault(old[step.old], []).append(k)
    if not removed:
        return steps
    dropped: set[int] = set()
    result = list(steps)
    for k, step in enumerate(steps):
        if step.kind == "insert" and step.new is not None and removed.get(new[step.new]):
            gone = removed[new[step.new]].pop(0)
            dropped.add(gone)
            result[k] = _Step("move", steps[gone].old, step.new)
    return [s for k, s in enumerate(result) if k not in dropped]


def _body_summary(
    steps: list[_Step], old: list[str], new: list[str], quotes: tuple[str, str]
) -> str:
    """One line: edits, then added, removed and moved paragraphs."""
    edits = [s for s in steps if s.kind == "edit"]
    inserted = [s.new for s in steps if s.kind == "insert" and s.new is not None]
    deleted = [s.old for s in steps if s.kind == "delete" and s.old is not None]
    moved = [(s.old, s.new) for s in steps if s.kind == "move"]
    parts: list[str] = []
    if len(edits) == 1 and edits[0].words is not None and edits[0].new is not None:
        parts.append(_edit_summary(edits[0].words, edits[0].new + 1, quotes))
    elif edits:
        wds = [e.words for e in edits if e.words is not None]
        a = sum(w.words_added for w in wds)
        r = sum(w.words_removed for w in wds)
        what = _words_phrase(a, r) if a or r else "punctuation changed"
        parts.append(f"{what} in {len(edits)} paragraphs")
    for indices, paras, verb in ((inserted, new, "added"), (deleted, old, "removed")):
        if indices:
            n = sum(count_words(paras[i]) for i in indices)
            which = f"{len(indices)} paragraphs"
            if len(indices) == 1:
                which = f"paragraph {indices[0] + 1}"
            parts.append(f"{which} {verb} ({_plural(n, 'word')})")
    if len(moved) == 1 and moved[0][0] is not None and moved[0][1] is not None:
        parts.append(f"paragraph {moved[0][0] + 1} moved to {moved[0][1] + 1}")
    elif moved:
        parts.append(f"{len(moved)} paragraphs moved")
    return "; ".join(parts)


def _edit_summary(wd: WordDiff, paragraph: int, quotes: tuple[str, str]) -> str:
    """Such as ``3 words changed in paragraph 4: « armée » → « l'armée israélienne »``."""
    old, new = wd.span()
    added, removed = wd.words_added, wd.words_removed
    if not (added or removed):
        if old == new:
            return f"spacing changed in paragraph {paragraph}"
        verb = "added" if not old else "removed" if not new else "changed"
        head = f"punctuation {verb} in paragraph {paragraph}"
    else:
        head = f"{_words_phrase(added, removed)} in paragraph {paragraph}"
        # Quote only the side that has words: an added sentence is shown, not "« » → « … »".
        old, new = (old, new) if added and removed else ("", new) if added else (old, "")
    if old and new:
        return f"{head}: {_quote(old, quotes)} → {_quote(new, quotes)}"
    return f"{head}: {_quote(old or new, quotes)}"


def _words_phrase(added: int, removed: int) -> str:
    if not removed:
        return f"{_plural(added, 'word')} added"
    if not added:
        return f"{_plural(removed, 'word')} removed"
    return f"{_plural(added + removed, 'word')} changed"


# -- byline and dates -----------------------------------------------------------------------


def _byline_record(old: list[str], new: list[str]) -> ChangeRecord:
    ops: list[dict[str, object]] = []
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        gone, came = old[i1:i2], new[j1:j2]
        if tag == "equal":
            ops.extend({"op": tag, "old": name, "new": name} for name in gone)
            continue
        removed += sum(count_words(name) for name in gone)
        added += sum(count_words(name) for name in came)
        if tag == "replace":
            ops.append({"op": tag, "old": ", ".join(gone), "new": ", ".join(came)})
        elif tag == "delete":
            ops.extend({"op": tag, "old": name, "new": ""} for name in gone)
        else:
            ops.extend({"op": tag, "old": "", "new": name} for name in came)
    return ChangeRecord(
        kind="byline",
        summary=f"byline: {', '.join(old) or '(none)'} → {', '.join(new) or '(none)'}",
        words_added=added,
        words_removed=removed,
        share_changed=0.0,
        ops=ops,
        unified=_unified("byline", old, new),
        stealth=False,
    )


def _dates_record(old: Article, new: Article) -> ChangeRecord:
    ops: list[dict[str, object]] = []
    parts: list[str] = []
    for name in ("published", "modified"):
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        op = "insert" if before is None else "delete" if after is None else "replace"
        ops.append({"op": op, "field": name, "old": before or "", "new": after or ""})
        parts.append(f"{name} date: {before or '(none)'} → {after or '(none)'}")
    return ChangeRecord(
        kind="dates",
        summary="; ".join(parts),
        words_added=0,
        words_removed=0,
        share_changed=0.0,
        ops=ops,
        unified=_unified("dates", _date_lines(old), _date_lines(new)),
        stealth=False,  # a changed date is the page being open about an update
    )


def _date_lines(article: Article) -> list[str]:
    return [f"published: {article.published or ''}", f"modified: {article.modified or ''}"]


# -- terminal -------------------------------------------------------------------------------

# ANSI: red strike-through, green, bold, yellow, reset.
_RED_STRIKE, _GREEN, _BOLD, _YELLOW = "\x1b[9;31m", "\x1b[32m", "\x1b[1m", "\x1b[33m"
_RESET = "\x1b[0m"


def render_terminal(records: Sequence[ChangeRecord], *, color: bool) -> str:
    """Records as text for a terminal: ANSI red strike-through and green, or ``[-…-]{+…+}``.

    No trailing newline (``click.echo`` adds one); no records give ``""``.
    """

    def deleted(text: str) -> str:
        return f"{_RED_STRIKE}{text}{_RESET}" if color else f"[-{text}-]"

    def inserted(text: str) -> str:
        return f"{_GREEN}{text}{_RESET}" if color else f"{{+{text}+}}"

    def inline(ops: list[dict[str, object]]) -> str:
        out: list[str] = []
        for op in ops:
            kind, old, new = op["op"], str(op["old"]), str(op["new"])
            if kind == "equal":
                out.append(old)
                continue
            if old.strip() == new.strip():  # only spacing changed: show the spaces
                out.append(deleted(old) + inserted(new))
                continue
            # Leading whitespace stays outside the markup, so "[- armée-]" reads "[-armée-]".
            text = old or new
            out.append(text[: len(text) - len(text.lstrip())])
            if old.strip():
                out.append(deleted(old.strip()))
            if new.strip():
                out.append(inserted(new.strip()))
        return "".join(out).strip()

    lines: list[str] = []
    for record in records:
        head = record.summary if record.kind != "body" else f"body: {record.summary}"
        if color:
            head = f"{_BOLD}{head}{_RESET}"
        if record.stealth:
            head += f" {_YELLOW}[stealth]{_RESET}" if color else " [stealth]"
        lines.append(head)
        if record.kind == "title":
            lines.append("  " + inline(record.ops))
        elif record.kind == "body":
            lines.extend(_render_body(record.ops, inline, deleted, inserted))
    return "\n".join(lines)


def _render_body(
    ops: list[dict[str, object]],
    inline: _Inline,
    deleted: _Style,
    inserted: _Style,
) -> list[str]:
    """One line per changed paragraph: ``¶4 … [-old-]{+new+} …``."""
    lines: list[str] = []
    k = 0
    while k < len(ops):
        op = ops[k]
        if op["unit"] == "word":
            run = [op]
            while k + 1 < len(ops) and (ops[k + 1]["unit"], ops[k + 1]["paragraph"]) == (
                "word",
                op["paragraph"],
            ):
                k += 1
                run.append(ops[k])
            lines.append(f"  ¶{op['paragraph']} {inline(run)}")
        elif op["op"] == "insert":
            lines.append(f"  ¶{op['paragraph']} {inserted(str(op['new']))}")
        elif op["op"] == "delete":
            lines.append(f"  ¶{op['paragraph']} (old) {deleted(str(op['old']))}")
        else:
            lines.append(f"  ¶{op['from']} → ¶{op['paragraph']} moved: {op['new']}")
        k += 1
    return lines


# -- helpers --------------------------------------------------------------------------------


def _names(value: object) -> list[str]:
    """The author names of :meth:`Article.content`."""
    return list(cast("list[str]", value))


def _quotes(language: str | None) -> tuple[str, str]:
    """French guillemets for French articles, English curly quotes otherwise."""
    return ("« ", " »") if (language or "").lower().startswith("fr") else ("“", "”")


def _quote(text: str, quotes: tuple[str, str]) -> str:
    return f"{quotes[0]}{_cut(text)}{quotes[1]}"


def _cut(text: str, width: int = DIFF_QUOTE_WIDTH) -> str:
    """``text`` trimmed, cut at a word boundary to about ``width`` characters with "…"."""
    text = text.strip()
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space > width // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _share(changed: int, total: int) -> float:
    return min(1.0, changed / max(1, total))


def _unified(
    name: str,
    old: Sequence[str],
    new: Sequence[str],
    matcher: difflib.SequenceMatcher[str] | None = None,
) -> str:
    """``difflib.unified_diff`` text, reusing ``matcher`` when the lines were already matched."""
    if matcher is None:
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    out: list[str] = []
    for group in matcher.get_grouped_opcodes(DIFF_UNIFIED_CONTEXT):
        if not out:
            out += [f"--- old/{name}\n", f"+++ new/{name}\n"]
        first, last = group[0], group[-1]
        old_range = _hunk_range(first[1], last[2])
        new_range = _hunk_range(first[3], last[4])
        out.append(f"@@ -{old_range} +{new_range} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(f" {line}\n" for line in old[i1:i2])
                continue
            out.extend(f"-{line}\n" for line in old[i1:i2])
            out.extend(f"+{line}\n" for line in new[j1:j2])
    return "".join(out)


def _hunk_range(start: int, stop: int) -> str:
    """A unified diff range as ``difflib`` writes it (1-based; empty: the line before)."""
    length = stop - start
    beginning = start + 1 if length else start
    return f"{beginning}" if length == 1 else f"{beginning},{length}"
