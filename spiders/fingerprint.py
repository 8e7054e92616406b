"""A cheap fingerprint of what extraction reads, so an unchanged article skips trafilatura.

Full extraction costs about 4 ms for a 33 KB page (this project's machine, 2026-12); parsing
the page and hashing the text of the article's region plus its metadata, about 0.5 ms (only the
region and the path to it are prepared: :func:`prepared_region`). After a full extraction
veille remembers where the article lives (the *region*: the smallest ``<article>``, ``<main>`` or body-like
element holding every body paragraph) and the fingerprint of that region. On the next fetch, an
equal fingerprint means the article cannot have changed: the region text holds the whole body,
and the metadata that gives title, byline and dates is part of the fingerprint.

Noise outside the region (ads, "most read", menus) never reaches the fingerprint; noise inside it
(an in-article ad, "publié il y a 3 minutes") is removed first, or merely sends the page down the
full path, which is always right.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lxml import etree

from spiders.metadata import PageMetadata, read_metadata
from spiders.decode import decode_html
from spiders.items import Extracted, normalise_line
from spiders.tree import drop_matching_in, drop_noise, is_noise, parse_html

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# Bump when extraction changes what it reads: every stored fingerprint is then stale.
FINGERPRINT_VERSION = "1"
_REGION_CANDIDATES = etree.XPath(
    "//article | //main | //*[@itemprop='articleBody'] | //*[@role='main'] | //body"
)
_SPACE = re.compile(r"\s+")
# One step of a path as lxml's getpath writes it for HTML: a tag name, maybe an index.
_STEP = re.compile(r"([A-Za-z][\w.-]*)(?:\[([1-9][0-9]*)\])?")
_INVISIBLE = ("script", "style", "noscript", "template", "svg")
# Relative times and counters that sites print inside the article region; only the fingerprint
# ignores them (an edit that changes nothing else is still found by the next full extraction).
FINGERPRINT_NOISE = re.compile(
    # Each branch starts with a digit, "il" or "since": the look-ahead lets the scan skip every
    # other character without trying the three branches there (twice as fast, same matches).
    r"(?=[\dis])(?:"
    r"(?:il y a|since) \d+ (?:secondes?|minutes?|min|heures?|h|jours?)"
    r"|\d+ (?:seconds?|minutes?|mins?|hours?|days?) ago"
    r"|\d[\d .,\u202f]* (?:vues|lectures|views|reads|partages|shares|commentaires|comments))",
    re.IGNORECASE,
)
# Every match holds one of these (case-folded): a text without any is left alone unscanned.
_NOISE_WORDS = (
    "il y a", "since", "ago", "vues", "lectures", "views", "reads", "partages", "shares",
    "commentaires", "comments",
)  # fmt: skip


def strip_counters(text: str) -> str:
    """``text`` with its relative times and counters (:data:`FINGERPRINT_NOISE`) blanked."""
    folded = text.casefold()
    # The regex also takes "İ" and "ı" for an "i" (casefold keeps them apart): rare, scan then.
    if any(word in folded for word in _NOISE_WORDS) or "ı" in folded or "\u0307" in folded:
        return FINGERPRINT_NOISE.sub(" ", text)
    return text


def _text(element: HtmlElement) -> str:
    """Normalised text with a space between elements (``text_content`` glues blocks together)."""
    return normalise_line(" ".join(element.itertext()))


def find_region(tree: HtmlElement, body: str) -> str | None:
    """The path of the smallest candidate element whose text holds every body paragraph.

    Call on a tree that went through :func:`prepare`. None when no element holds them all
    (the body came from several places): such a page always takes the full path.
    """
    # Compared without spaces: inline tags (``l'<em>armée</em>``) put spaces in odd places.
    paragraphs = [_SPACE.sub("", p)[:80] for p in body.split("\n\n") if p.strip()]
    if not paragraphs:
        return None
    best: tuple[int, HtmlElement] | None = None
    # Deepest first: an element's text holds all of its descendants' text, so once one holds
    # the body, its ancestors (``<main>``, ``<body>``: most of the page) cannot be smaller and
    # their text is never read. Of two as small, the deeper one is kept.
    for element in sorted(_REGION_CANDIDATES(tree), key=_depth, reverse=True):
        if best is not None and _holds(element, best[1]):
            continue
        text = _SPACE.sub("", _text(element))
        if best is not None and len(text) >= best[0]:
            continue
        if all(p in text for p in paragraphs):
            best = (len(text), element)
    return tree.getroottree().getpath(best[1]) if best else None


def _depth(element: HtmlElement) -> int:
    return sum(1 for _ in element.iterancestors())


def _holds(ancestor: HtmlElement, element: HtmlElement) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


def prepare(tree: HtmlElement) -> None:
    """Remove, in place, what never counts (scripts, styles, named ads) from the whole page.

    Region paths and fingerprints are taken on prepared trees, so they agree; read the
    metadata first (JSON-LD lives in scripts). The fast path prepares only what a path needs
    (:func:`prepared_region`); this is the definition it keeps to.
    """
    strip_invisible(tree)
    drop_noise(tree)


def strip_invisible(tree: HtmlElement) -> None:
    """Remove, in place, the elements whose text no reader sees (scripts, styles, SVG)."""
    etree.strip_elements(tree, *_INVISIBLE, with_tail=False)


def fingerprint(
    tree: HtmlElement, meta: PageMetadata, region: str, *,
    ignore: Sequence[re.Pattern[str]] = (), selector: str | None = None,
) -> str | None:
    """The fingerprint of a prepared ``tree`` at ``region``; None if the region is gone."""
    return _fingerprint_of(_at(tree, region), meta, ignore=ignore, selector=selector)


def _at(tree: HtmlElement, region: str) -> HtmlElement | None:
    try:
        found = tree.getroottree().xpath(region)
    except etree.XPathError:
        return None
    if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
        return None
    return found[0]


def _fingerprint_of(
    element: HtmlElement | None, meta: PageMetadata, *,
    ignore: Sequence[re.Pattern[str]] = (), selector: str | None = None,
) -> str | None:
    if element is None:
        return None
    text = _text(element)
    for pattern in ignore:
        text = pattern.sub(" ", text)
    text = strip_counters(text)
    blob = json.dumps(
        [FINGERPRINT_VERSION, selector, meta.title, list(meta.authors), meta.published,
         meta.modified, text],
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def prepared_region(tree: HtmlElement, region: str) -> HtmlElement | None:
    """The element at ``region`` as :func:`prepare` then XPath would find it, preparing less.

    :func:`prepare` works on the whole page, but a path only depends on the children of each
    element along it: a step ``div[3]`` counts the ``div`` children that remain once the named
    noise (inside ``<body>``) and the invisible elements are gone. So only those children are
    judged, step by step (a step without an index, like XPath, follows every child of that
    tag); then the element found, the first in document order, is prepared in full. The rest of
    the page is left as it is. Raises :class:`ValueError` for a path it does not read (only
    ``/name`` and ``/name[n]`` steps, as ``getpath`` writes them for HTML).
    """
    steps = region.split("/")
    if steps[0] != "" or len(steps) < 2:
        raise ValueError(f"not an absolute path: {region!r}")
    parsed = []
    for step in steps[1:]:
        match = _STEP.fullmatch(step)
        if match is None:
            raise ValueError(f"unsupported step {step!r} in {region!r}")
        parsed.append((match.group(1), int(match.group(2)) if match.group(2) else None))
    root = tree.getroottree().getroot()
    tag, index = parsed[0]
    if root.tag != tag or index not in (None, 1):
        return None
    body = root.find("body")
    level: list[tuple[HtmlElement, bool]] = [(root, False)]  # (element, inside <body>)
    for tag, index in parsed[1:]:
        following: list[tuple[HtmlElement, bool]] = []
        for parent, in_body in level:
            same = [
                child for child in _visible_children(parent, judge_noise=in_body)
                if child.tag == tag
            ]
            if index is not None:
                same = same[index - 1:index]
            following.extend((child, in_body or child is body) for child in same)
        if not following:
            return None
        level = following
    element, in_body = level[0]
    strip_invisible(element)
    if in_body:
        drop_matching_in(element)
    return element


def _visible_children(parent: HtmlElement, *, judge_noise: bool) -> list[HtmlElement]:
    """The element children of ``parent`` that a prepared tree keeps (noise judged in body)."""
    return [
        child for child in parent
        if isinstance(child.tag, str) and child.tag not in _INVISIBLE
        and not (judge_noise and is_noise(child))
    ]


def quick_check(
    raw: bytes,
    content_type: str | None,
    url: str,
    selector: str | None,
    ignore: tuple[str, ...],
    region: str,
    region_fp: str,
    tree: HtmlElement | None = None,
) -> Extracted | None:
    """``same_region`` when the fingerprint still matches, else None (a full extraction is due).

    ``tree`` is the page already parsed from ``raw``, if the caller has it; it is changed here.
    """
    try:
        text, encoding = decode_html(raw, content_type)
        if tree is None:
            tree = parse_html(text, url)
        if tree is None:
            return None
        meta = read_metadata(tree, url)
        try:
            element = prepared_region(tree, region)
        except ValueError:  # a path written otherwise: prepare the whole page
            prepare(tree)
            element = _at(tree, region)
        patterns = tuple(re.compile(p) for p in ignore)
        if _fingerprint_of(element, meta, ignore=patterns, selector=selector) == region_fp:
            return Extracted("same_region", encoding=encoding, region=region, region_fp=region_fp)
    except Exception:  # the full extraction will say what is wrong
        return None
    return None
