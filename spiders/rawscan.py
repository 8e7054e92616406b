"""Questions asked of a page's raw bytes before (or instead of) walking its tree.

A pass over an lxml tree with an attribute test costs a few hundred microseconds on a news
page; ``bytes.find`` over the same page costs a few. These helpers answer conservatively: they
may count a look-alike, never miss a real attribute written in plain ASCII.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# What may end an attribute value, quoted or not.
_VALUE_ENDS = frozenset(b"\"' \t\r\n/>")
_SPACES = b" \t\r\n"
_QUOTES = b"\"'"


# The comment side asks a page's bytes a dozen questions that name "comment" or "Comment", each
# a scan of about 10 µs. One pass finds every "omment"; a question whose string holds it is then
# answered from the bytes around those places (exact: each occurrence of such a string has an
# "omment" within reach, and "omment" cannot overlap itself, so the pass misses none).
_ANCHOR = b"omment"
_REACH = 24  # bytes kept each side of an anchor
_MAX_ANCHORS = 256  # more, and plain scans are cheaper than walking the places


@dataclass(frozen=True)
class _Anchors:
    """Where a page holds "omment", and the bytes around each place (None: too many places)."""

    raw: bytes  # kept: while it lives, no other page can have its identity
    places: tuple[int, ...] | None
    snippets: bytes

    @classmethod
    def of(cls, raw: bytes) -> _Anchors:
        places: list[int] = []
        start = 0
        while (found := raw.find(_ANCHOR, start)) != -1:
            if len(places) == _MAX_ANCHORS:
                return cls(raw, None, b"")
            places.append(found)
            start = found + len(_ANCHOR)
        return cls(raw, tuple(places), b"\0".join(
            raw[max(0, place - _REACH):place + _REACH] for place in places
        ))


_last: list[_Anchors] = []  # the last page asked about (the comment side reads one at a time)


def _anchors(raw: bytes) -> _Anchors:
    if not _last or _last[0].raw is not raw:
        _last[:] = [_Anchors.of(raw)]
    return _last[0]


def holds(raw: bytes, marker: bytes) -> bool:
    """``marker in raw``, answered from one pass per page when ``marker`` names "omment"."""
    at = marker.find(_ANCHOR)
    if at < 0 or at > _REACH or len(marker) - at > _REACH or b"\0" in marker:
        return marker in raw
    anchors = _anchors(raw)
    return marker in raw if anchors.places is None else marker in anchors.snippets


def occurrences(raw: bytes, value: bytes) -> Iterator[int]:
    """Where ``value`` starts in ``raw``, in order, without overlaps (as ``raw.find`` in a loop)."""
    at = value.find(_ANCHOR)
    places = _anchors(raw).places if at >= 0 else None
    start = 0
    if places is None:
        while (found := raw.find(value, start)) != -1:
            yield found
            start = found + len(value)
        return
    for place in places:  # each occurrence holds an "omment" at ``at``
        found = place - at
        if found >= start and raw.startswith(value, found):
            yield found
            start = found + len(value)


def id_attribute_count(raw: bytes, value: bytes) -> int:
    """How many times ``raw`` holds an ``id`` attribute whose whole value is ``value``.

    ``id="comments"``, ``id='comments'``, ``ID = comments`` count; ``data-id="comments"`` and
    ``id="comments-2"`` do not.
    """
    count = 0
    for at in occurrences(raw, value):
        start = at + len(value)
        if start < len(raw) and raw[start] not in _VALUE_ENDS:
            continue  # a longer value: comments-2
        before = raw[max(0, at - 16):at]
        quoted = before.rstrip(_QUOTES)
        if len(quoted) < len(before) - 1:
            continue  # two quotes: not an attribute value
        name = quoted.rstrip(_SPACES)
        if not name.endswith(b"="):
            continue
        name = name[:-1].rstrip(_SPACES).lower()
        if name.endswith(b"id") and (len(name) == 2 or name[-3] in _SPACES):
            count += 1
    return count
