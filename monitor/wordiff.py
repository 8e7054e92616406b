"""Word-level diff of two lines of text (a paragraph, a title), for French and English.

Tokens are words and punctuation, each carrying the whitespace that precedes it, so joining the
tokens gives back the text exactly. A word is a run of letters or digits, possibly joined by an
apostrophe or a hyphen (``l'armée``, ``don't``, ``aujourd’hui``, ``peut-être``) or, between
digits, by a point or comma (``1.500``, ``3,5``). Every other visible character (``«``, ``»``,
``,``, ``…``) is a token of its own. Only words are counted.

Because the preceding whitespace is part of a token, ``armée ,`` and ``armée,`` differ: a change
of spacing around punctuation is a change, shown as such.

:func:`word_ops` turns a diff into JSON-able operations; see :mod:`monitor.diff` for the format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# Words of context kept on each side of a change in the operations.
WORDIFF_CONTEXT = 6
WORDIFF_ELLIPSIS = "…"

_JOINERS = "'\u2019\u02bc\\-\u2010\u2011"  # ' ’ ʼ - ‐ ‑
_WORD = rf"\w+(?:(?:[{_JOINERS}]|(?<=\d)[.,](?=\d))\w+)*"
_TOKEN = re.compile(rf"\s*(?:{_WORD}|[^\w\s])|\s+\Z")
_WORD_ONLY = re.compile(_WORD)

Opcode = tuple[str, int, int, int, int]


def tokenise(text: str) -> list[str]:
    """Split ``text`` into tokens (words and punctuation with their leading whitespace)."""
    return _TOKEN.findall(text)


def is_word(token: str) -> bool:
    """True for a word token, false for punctuation or whitespace."""
    last = token[-1]
    return last.isalnum() or last == "_"


def count_words(text: str) -> int:
    """Number of words in ``text``, by the same rule as :func:`tokenise`."""
    return len(_WORD_ONLY.findall(text))


def words(text: str) -> list[str]:
    """The words of ``text``, in order, without punctuation."""
    return _WORD_ONLY.findall(text)


@dataclass(frozen=True)
class WordDiff:
    """The word diff of two texts: their tokens and ``difflib`` opcodes over them."""

    old: list[str]
    new: list[str]
    codes: Sequence[Opcode] = field(default_factory=list)

    @classmethod
    def of(cls, old: str, new: str) -> WordDiff:
        """Diff two texts."""
        a, b = tokenise(old), tokenise(new)
        # autojunk=False: in a long paragraph, "de" or "," would otherwise be ignored as junk.
        codes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        return cls(a, b, codes)

    @property
    def changed(self) -> bool:
        """True when the texts differ at all (words, punctuation or spacing)."""
        return any(tag != "equal" for tag, *_ in self.codes)

    @property
    def words_added(self) -> int:
        """Words present only in the new text."""
        return sum(
            sum(1 for t in self.new[j1:j2] if is_word(t))
            for tag, _, _, j1, j2 in self.codes
            if tag != "equal"
        )

    @property
    def words_removed(self) -> int:
        """Words present only in the old text."""
        return sum(
            sum(1 for t in self.old[i1:i2] if is_word(t))
            for tag, i1, i2, _, _ in self.codes
            if tag != "equal"
        )

    def span(self) -> tuple[str, str]:
        """Old and new text from the first change to the last one, trimmed."""
        changes = [c for c in self.codes if c[0] != "equal"]
        if not changes:
            return "", ""
        first, last = changes[0], changes[-1]
        old = "".join(self.old[first[1] : last[2]]).strip()
        new = "".join(self.new[first[3] : last[4]]).strip()
        return old, new

    def ops(self, context: int = WORDIFF_CONTEXT) -> list[dict[str, object]]:
        """JSON-able operations, equal runs cut down to ``context`` tokens around each change."""
        ops: list[dict[str, object]] = []
        if not self.changed:
            return ops
        last = len(self.codes) - 1
        for n, (tag, i1, i2, j1, j2) in enumerate(self.codes):
            old, new = "".join(self.old[i1:i2]), "".join(self.new[j1:j2])
            if tag != "equal":
                ops.append({"op": tag, "old": old, "new": new})
                continue
            text, cut = _context(self.old[i1:i2], context, keep_head=n > 0, keep_tail=n < last)
            op: dict[str, object] = {"op": "equal", "old": text, "new": text}
            if cut:
                op["cut"] = True
            ops.append(op)
        return ops


def _context(
    tokens: list[str], context: int, *, keep_head: bool, keep_tail: bool
) -> tuple[str, bool]:
    """An equal run cut down to the tokens next to a change, "…" standing for those left out.

    ``keep_head`` keeps the start of the run (a change comes before it), ``keep_tail`` its end
    (a change follows). Returns the text and whether anything was left out.
    """
    if len(tokens) <= context * (keep_head + keep_tail):
        return "".join(tokens), False
    head = "".join(tokens[:context]) + " " if keep_head else ""
    tail = "".join(tokens[-context:]) if keep_tail else ""
    return head + WORDIFF_ELLIPSIS + tail, True


def word_ops(old: str, new: str, *, context: int = WORDIFF_CONTEXT) -> list[dict[str, object]]:
    """Word-level operations turning ``old`` into ``new``, with a little context.

    Each operation is ``{"op": "equal"|"insert"|"delete"|"replace", "old": text, "new": text}``;
    an equal run that was shortened carries ``"cut": True`` and "…" where words were left out.
    Joining the ``old`` (or ``new``) texts of uncut operations gives back ``old`` (or ``new``).
    Identical texts give ``[]``.
    """
    return WordDiff.of(old, new).ops(context)
