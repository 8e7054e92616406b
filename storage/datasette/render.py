"""Readable HTML for a stored change: removed words in ``<del>``, added words in ``<ins>``.

Pure functions over the ``changes.ops`` JSON (its format is described in ``monitor/diff.py``);
this module reads no database and imports nothing from ``monitor/``, so the Datasette plugin
only needs what the database holds. Every piece of text is escaped: a page whose text contains
``<script>`` is shown as text.

Two sizes:

- :func:`render_ops` with ``full=True`` (the change page): each edited paragraph is shown whole.
  The ops keep only a few words around each change, with "…" for the words left out; given the
  paragraph as it stands in the new version, the words left out are put back.
- ``full=False`` (a cell in a table): the ops as stored, at most
  :data:`RENDER_CELL_PARAGRAPHS` paragraphs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

# Changed paragraphs shown in a table cell before "… and N more".
RENDER_CELL_PARAGRAPHS: Final = 3
ELLIPSIS: Final = "…"

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

Op = dict[str, object]


def parse_ops(value: object) -> list[Op] | None:
    """The operations of a ``changes.ops`` value, or ``None`` when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        ops = json.loads(value) if isinstance(value, str | bytes) else value
    except ValueError:
        return None
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        return None
    return ops


def split_paragraphs(body: str | None) -> list[str]:
    """The paragraphs of a stored body (blank-line separated), as the diff engine numbers them."""
    return [p for p in _PARAGRAPH_BREAK.split(body) if p.strip()] if body else []


def render_ops(
    kind: str,
    ops: Sequence[Op],
    *,
    new_paragraphs: Sequence[str] | None = None,
    new_title: str | None = None,
    full: bool = True,
) -> Markup:
    """HTML for the operations of one change of ``kind``.

    ``new_paragraphs`` (the new version's body) and ``new_title`` let a full rendering show
    whole paragraphs (and the whole title) instead of the few words of context kept in ``ops``.
    """
    if not ops:
        return Markup("")
    if kind == "body" or any("paragraph" in op for op in ops):
        inner = _body(ops, new_paragraphs if full else None, full=full)
    elif kind == "dates" or any("field" in op for op in ops):
        inner = _dates(ops)
    elif kind == "byline":
        inner = Markup('<p class="veille-line">{}</p>').format(_names(ops))
    else:  # title, and any future kind made of word operations
        inner = Markup('<p class="veille-line">{}</p>').format(
            _inline(ops, new_title if full else None)
        )
    return Markup('<div class="veille-diff veille-diff-{}">{}</div>').format(kind, inner)


# -- inline word operations ----------------------------------------------------------------


def _deleted(text: str) -> Markup:
    return Markup("<del>{}</del>").format(text)


def _inserted(text: str) -> Markup:
    return Markup("<ins>{}</ins>").format(text)


def _change(op: Op) -> Markup:
    """One insert, delete or replace; leading whitespace stays outside the marks."""
    old, new = str(op.get("old") or ""), str(op.get("new") or "")
    if old.strip() == new.strip():  # only spacing or a space before punctuation changed
        return _deleted(old) + _inserted(new)
    text = old or new
    out = Markup(escape(text[: len(text) - len(text.lstrip())]))
    if old.strip():
        out += _deleted(old.strip())
    if new.strip():
        out += _inserted(new.strip())
    return out


def _context(text: str) -> Markup:
    """Equal text; the "…" standing for words left out is dimmed."""
    parts = [escape(part) for part in text.split(ELLIPSIS)]
    gap = Markup('<span class="veille-gap" title="words left out">…</span>')
    return gap.join(parts)


def _inline(ops: Sequence[Op], whole: str | None) -> Markup:
    """Word operations of one line (a paragraph, a title); ``whole`` is its new text, if known."""
    equal_texts = _expand(ops, whole) if whole is not None else None
    out = Markup("")
    for n, op in enumerate(ops):
        if op.get("op") == "equal":
            if equal_texts is not None:
                out += escape(equal_texts[n])
            else:
                out += _context(str(op.get("new") or op.get("old") or ""))
        else:
            out += _change(op)
    return out


def _expand(ops: Sequence[Op], whole: str) -> dict[int, str] | None:
    """The full text of each equal operation, taken from ``whole``; ``None`` if they disagree.

    Each shortened equal run reads ``head … tail`` (or ``… tail`` first, ``head …`` last); the
    new text of the other operations is found in ``whole`` in order, so what lies between is the
    run. Disagreement (an older format, a body edited since) falls back to the stored context.
    """
    texts: dict[int, str] = {}
    cursor = 0
    last = len(ops) - 1
    for n, op in enumerate(ops):
        kind, new = op.get("op"), str(op.get("new") or "")
        if kind == "delete":
            continue
        if kind != "equal" or not op.get("cut"):
            if not whole.startswith(new, cursor):
                return None
            texts[n] = new
            cursor += len(new)
            continue
        found = _expand_cut(new, whole, cursor, is_last=n == last)
        if found is None:
            return None
        texts[n] = whole[cursor:found]
        cursor = found
    return texts if cursor == len(whole) else None


def _expand_cut(text: str, whole: str, cursor: int, *, is_last: bool) -> int | None:
    """Where the shortened equal run ``text`` starting at ``cursor`` ends in ``whole``."""
    for at in (i for i, ch in enumerate(text) if ch == ELLIPSIS):
        head, tail = text[:at], text[at + 1 :]
        head = head.removesuffix(" ")  # the space the diff engine put before "…"
        if not whole.startswith(head, cursor):
            continue
        start = cursor + len(head)
        if not tail:
            if is_last:
                return len(whole)
            continue
        found = whole.find(tail, start)
        if found >= 0:
            return found + len(tail)
    return None


# -- body -----------------------------------------------------------------------------------


def _body(ops: Sequence[Op], paragraphs: Sequence[str] | None, *, full: bool) -> Markup:
    """One block per changed paragraph, in the order of the operations."""
    blocks: list[Markup] = []
    k = 0
    while k < len(ops):
        op = ops[k]
        number = op.get("paragraph")
        if op.get("unit") == "word":
            run = [op]
            while (
                k + 1 < len(ops)
                and ops[k + 1].get("unit") == "word"
                and ops[k + 1].get("paragraph") == number
            ):
                k += 1
                run.append(ops[k])
            whole = None
            if paragraphs is not None and isinstance(number, int) and 0 < number <= len(paragraphs):
                whole = paragraphs[number - 1]
            blocks.append(_block("edited", f"¶{number}", _inline(run, whole)))
        elif op.get("op") == "insert":
            blocks.append(
                _block("inserted", f"¶{number} added", _inserted(str(op.get("new") or "")))
            )
        elif op.get("op") == "delete":
            label = f"¶{number} of the old version removed"
            blocks.append(_block("deleted", label, _deleted(str(op.get("old") or ""))))
        elif op.get("op") == "move":
            label = f"¶{op.get('from')} moved to ¶{number}"
            blocks.append(_block("moved", label, _context(str(op.get("new") or ""))))
        else:
            blocks.append(_block("edited", f"¶{number}", _change(op)))
        k += 1
    if not full and len(blocks) > RENDER_CELL_PARAGRAPHS:
        more = len(blocks) - RENDER_CELL_PARAGRAPHS
        blocks = blocks[:RENDER_CELL_PARAGRAPHS]
        blocks.append(Markup('<p class="veille-more">… and {} more</p>').format(more))
    return Markup("").join(blocks)


def _block(state: str, label: str, text: Markup) -> Markup:
    return Markup(
        '<div class="veille-para veille-para-{}"><span class="veille-pn">{}</span>'
        "<p>{}</p></div>"
    ).format(state, label, text)


# -- byline and dates -----------------------------------------------------------------------


def _names(ops: Sequence[Op]) -> Markup:
    """Author names, comma-separated, added and removed ones marked."""
    parts: list[Markup] = []
    for op in ops:
        kind, old, new = op.get("op"), str(op.get("old") or ""), str(op.get("new") or "")
        if kind == "equal":
            parts.append(Markup(escape(new)))
        elif kind == "insert":
            parts.append(_inserted(new))
        elif kind == "delete":
            parts.append(_deleted(old))
        else:
            parts.append(_deleted(old) + Markup(" ") + _inserted(new))
    return Markup(", ").join(parts)


def _dates(ops: Sequence[Op]) -> Markup:
    rows = Markup("").join(
        Markup("<tr><th>{}</th><td>{} → {}</td></tr>").format(
            op.get("field", ""),
            _deleted(str(op.get("old"))) if op.get("old") else Markup("<em>none</em>"),
            _inserted(str(op.get("new"))) if op.get("new") else Markup("<em>none</em>"),
        )
        for op in ops
    )
    return Markup('<table class="veille-dates">{}</table>').format(rows)


def render_snippet(text: str | None) -> Markup:
    """An FTS snippet whose matches are wrapped in ``**``, as HTML with ``<mark>``."""
    if not text:
        return Markup("")
    parts = str(text).split("**")
    out = Markup("")
    for n, part in enumerate(parts):
        out += Markup("<mark>{}</mark>").format(part) if n % 2 else escape(part)
    return out
