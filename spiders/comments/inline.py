"""Comments printed in the article's own HTML.

Four readers, tried in this order, the first that finds comments wins:

1. a selector set from the config (:class:`~spiders.comments.items.CommentSelectors`), for any
   site;
2. schema.org ``Comment`` objects in JSON-LD (nested ``comment`` arrays are replies);
3. schema.org ``Comment`` microdata (``itemscope itemtype=".../Comment"``);
4. classic WordPress markup: ``li.comment`` in ``#comments`` / ``.commentlist`` /
   ``.comment-list`` (``comment-author .fn``, ``comment-metadata time``, ``comment-content``),
   which many other CMSs imitate.

A comment nested inside another comment item is its reply.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from cssselect import HTMLTranslator
from lxml import etree

from spiders.comments.identity import (
    comment_key,
    element_text,
    html_text,
    normalise_date,
    unique_keys,
)
from spiders.comments.items import Comment, CommentSelectors
from spiders.items import normalise_line
from spiders.rawscan import holds, id_attribute_count

if TYPE_CHECKING:
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

_CSS = HTMLTranslator()
_JSONLD = etree.XPath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]')
_MICRODATA = etree.XPath(
    '//*[@itemscope][contains(@itemtype, "schema.org/Comment") '
    'or contains(@itemtype, "schema.org/UserComments")]'
)
# Plain contains() first (cheap), class tokens checked after (see _wp_containers).
_WP_CONTAINER_CANDIDATES = etree.XPath(
    '//*[@id="comments" or @id="commentlist" or @id="comment-list"'
    ' or contains(@class, "commentlist") or contains(@class, "comment-list")]'
)
# The same without the class tests, for pages whose bytes hold neither class (3x cheaper).
_WP_CONTAINER_IDS = etree.XPath('//*[@id="comments" or @id="commentlist" or @id="comment-list"]')
_WP_CONTAINER_CLASSES = frozenset({"commentlist", "comment-list"})
_WP_CONTAINER_ID_NAMES = ("comments", "commentlist", "comment-list")
# The same through the parser's id index.
_WP_CONTAINER_BY_ID = etree.XPath('id("comments") | id("commentlist") | id("comment-list")')
_HAS_COMMENT_CLASS = 'contains(concat(" ", normalize-space(@class), " "), " comment ")'
# Comment items by tag, inside a comment container, or anywhere with a WordPress id.
_WP_ITEMS = tuple(
    (
        etree.XPath(f".//{tag}[{_HAS_COMMENT_CLASS}]"),
        etree.XPath(f'//{tag}[{_HAS_COMMENT_CLASS}][starts-with(@id, "comment-")]'),
    )
    for tag in ("li", "article", "div")
)
_WP_ID = re.compile(r"^(?:(?:div-|li-)?comment-(\d+)|c(\d{10,}))$")  # WordPress; Blogger
_COMMENT_WORDS = re.compile(r"comment", re.IGNORECASE)
# Parts of a comment item that are not its text.
_NOT_TEXT = (
    "comment-author", "comment-meta", "comment-metadata", "commentmetadata", "reply",
    "comment-reply", "comment-actions", "says", "comment-header", "avatar", "comment-footer",
    "vcard", "children",
)  # fmt: skip
# Buttons and widgets inside a comment: "Reply", "Report", votes.
_CONTROLS = re.compile(r"reply|respond|report|flag|vote|moderation|alert|share", re.IGNORECASE)
_AUTHOR_CSS = (
    ".comment-author .fn", "cite.fn", ".fn", ".comment-author", "cite", ".author-name",
    ".author_name", ".comment-user", ".username", ".author", ".user", "[class*='author']",
)  # fmt: skip
_DATE_CSS = (
    "time[datetime]", ".comment-metadata time", ".comment-metadata", ".commentmetadata",
    "abbr.date[title]", ".comment-date", ".comment_date", ".post-date", ".datetime", ".date",
    "time", "[class*='date']",
)  # fmt: skip
_TEXT_CSS = (
    ".comment-content", ".comment-text", ".commenttext", ".comment-copy", ".comment-body",
    "[itemprop=text]",
)  # fmt: skip
_PERMALINK_CSS = (
    ".comment-metadata a[href]", ".comment-meta a[href]", "a.permalink[href]",
    ".datetime a[href]", "a[href*='#comment']", "a[href*='comment-']",
)  # fmt: skip


@dataclass(frozen=True)
class InlineRead:
    """The inline comments of a page and the reader that found them."""

    method: str  # selectors | jsonld | microdata | wordpress
    comments: tuple[Comment, ...]


@dataclass(frozen=True)
class CommentMarkup:
    """Which readers a page's bytes let apply, and what the WordPress-style reader reads.

    Found once per page (each test scans the page's bytes) and shared by
    :func:`read_inline` and the thread's fingerprint.
    """

    jsonld: bool
    microdata: bool
    wordpress: bool
    containers: tuple[HtmlElement, ...] | None  # None: not looked for
    # Of all the read depends on, when the WordPress-style reader alone decides it (no selector
    # set, no JSON-LD or microdata comments, comment containers found): the same fingerprint is
    # the same read. None otherwise.
    fingerprint: str | None = None


def comment_markup(
    tree: HtmlElement,
    page_url: str,
    selectors: CommentSelectors | None,
    raw: bytes | None,
    shown: int | None = None,
    *,
    fingerprint: bool = True,
) -> CommentMarkup:
    """The page's :class:`CommentMarkup`; ``shown`` (the count the page shows) joins the
    fingerprint, since it decides whether the read is complete. Without ``fingerprint``, the
    markup is only looked for (a read on its own has no use for one)."""
    jsonld = raw is None or any(holds(raw, m) for m in (b'Comment"', b"UserComments", b'Answer"'))
    microdata = raw is None or any(
        holds(raw, m) for m in (b"schema.org/Comment", b"schema.org/UserComments")
    )
    wordpress = raw is None or holds(raw, b"comment")
    if raw is None or selectors is not None or jsonld or microdata or not wordpress:
        return CommentMarkup(jsonld, microdata, wordpress, None)
    containers = tuple(_wp_containers(tree, raw))
    if not containers or not fingerprint:  # without containers: items are looked for anywhere
        return CommentMarkup(jsonld, microdata, wordpress, containers)
    digest = hashlib.sha256(_reader_code())
    digest.update(f"\0{page_url}\0{shown}\0".encode())
    for container in containers:
        # Without the tail: the text after the container is not read.
        digest.update(etree.tostring(container, with_tail=False))
        digest.update(b"\0")
    return CommentMarkup(jsonld, microdata, wordpress, containers, digest.hexdigest())


def read_inline(
    tree: HtmlElement,
    page_url: str,
    selectors: CommentSelectors | None = None,
    raw: bytes | None = None,
    markup: CommentMarkup | None = None,
) -> InlineRead | None:
    """The page's inline comments, or None when no reader finds any.

    With the page's ``raw`` bytes, readers whose markup is plainly absent are skipped;
    ``markup`` is :func:`comment_markup`'s for the same arguments, when already found.
    """
    if markup is None:
        markup = comment_markup(tree, page_url, selectors, raw, fingerprint=False)
    readers: list[tuple[str, Callable[[], list[Comment]]]] = []
    if selectors is not None:
        readers.append(("selectors", lambda: from_selectors(tree, page_url, selectors)))
    if markup.jsonld:
        readers.append(("jsonld", lambda: from_jsonld(tree, page_url)))
    if markup.microdata:
        readers.append(("microdata", lambda: from_microdata(tree, page_url)))
    if markup.wordpress:
        found = markup.containers
        readers.append(("wordpress", lambda: from_wordpress(tree, page_url, raw, found)))
    for method, read in readers:
        try:
            comments = read()
        except RecursionError:  # a hostile nesting depth: this reader gives up, not the page
            logger.debug("%s: %s comments nested too deeply", page_url, method)
            continue
        if comments:
            return InlineRead(method, tuple(unique_keys(comments)))
    return None


@lru_cache(maxsize=1)
def _reader_code() -> bytes:
    """The readers' own code: after an upgrade that reads markup otherwise, no old fingerprint
    matches and each thread is read in full once."""
    from spiders import items
    from spiders.comments import identity

    digest = hashlib.sha256()
    for path in (__file__, identity.__file__, items.__file__):
        try:
            digest.update(Path(path).read_bytes())
        except OSError:  # no readable source (a frozen install): the release stands for it
            digest.update(_release().encode())
    return digest.digest()


def _release() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("veille")
    except PackageNotFoundError:
        return "unknown"


# --- selectors from the config ----------------------------------------------------------------


@lru_cache(maxsize=256)
def _xpath(css: str) -> etree.XPath:
    return etree.XPath(_CSS.css_to_xpath(css, prefix="descendant-or-self::"))


def _css(element: HtmlElement, css: str) -> list[HtmlElement]:
    return list(_xpath(css)(element))


def from_selectors(tree: HtmlElement, page_url: str, sel: CommentSelectors) -> list[Comment]:
    """Comments found by a selector set."""
    roots = _css(tree, sel.container) if sel.container else [tree]
    items: list[HtmlElement] = []
    for root in roots:
        items.extend(el for el in _css(root, sel.item) if el not in items)
    return _build(
        items,
        page_url,
        system_id=lambda el: (el.get(sel.id) or None) if sel.id else None,
        author=lambda el, own: _first_text(own(sel.author)) if sel.author else None,
        date=lambda el, own: _first_date(own(sel.date)) if sel.date else None,
        text=lambda el, own: _text_of(own(sel.text)[0] if sel.text and own(sel.text) else el, own),
        permalink=lambda el, own: (
            _first_href(own(sel.permalink), page_url) if sel.permalink else None
        ),
        parent_attr=sel.parent,
    )


# --- WordPress and look-alikes ----------------------------------------------------------------


def from_wordpress(
    tree: HtmlElement,
    page_url: str,
    raw: bytes | None = None,
    containers: Sequence[HtmlElement] | None = None,
) -> list[Comment]:
    """Comments in WordPress's classic markup (and the many themes that copy it).

    ``containers``: the comment lists found in ``tree`` already (see :func:`comment_markup`).
    """
    if containers is None:
        containers = _wp_containers(tree, raw)
    items: list[HtmlElement] = []
    for in_container, anywhere in _WP_ITEMS:  # li first: a div.comment is often an li's body
        for container in containers:  # containers may nest (#comments > ol.commentlist)
            items.extend(el for el in in_container(container) if el not in items)
        if not containers:
            items = list(anywhere(tree))
        if items:
            break
    return _build(
        items,
        page_url,
        system_id=_wp_id,
        author=lambda el, own: _first_value(own, _AUTHOR_CSS, _first_text),
        date=lambda el, own: _first_value(own, _DATE_CSS, _first_date),
        text=lambda el, own: _wp_text(el, own),
        permalink=lambda el, own: (
            _first_href(_first_of(own, _PERMALINK_CSS), page_url) or _wp_permalink(el, page_url)
        ),
        parent_attr=None,
    )


def _wp_containers(tree: HtmlElement, raw: bytes | None) -> list[HtmlElement]:
    """The elements that hold a WordPress comment list, in document order."""
    by_class = raw is None or holds(raw, b"commentlist") or holds(raw, b"comment-list")
    if not by_class and raw is not None:
        # A scan of the whole tree costs a few hundred microseconds; the parser's id index
        # answers at once. Only when each id is in the bytes at most once (the index keeps the
        # first of duplicates) and the tree has the index (trees from other parsers may not).
        counts = [id_attribute_count(raw, name.encode()) for name in _WP_CONTAINER_ID_NAMES]
        if max(counts) <= 1:
            found = _WP_CONTAINER_BY_ID(tree)
            if len(found) == sum(counts):
                return found  # a union: in document order already
    return [
        el for el in (_WP_CONTAINER_CANDIDATES if by_class else _WP_CONTAINER_IDS)(tree)
        if el.get("id") in _WP_CONTAINER_ID_NAMES
        or not _WP_CONTAINER_CLASSES.isdisjoint((el.get("class") or "").split())
    ]


def _wp_id(el: HtmlElement) -> str | None:
    for candidate in (el.get("id"), *(c.get("id") for c in el[:2])):
        match = _WP_ID.match(candidate or "")
        if match:
            return match.group(1) or match.group(2)
    return el.get("data-comment-id") or None


def _wp_permalink(el: HtmlElement, page_url: str) -> str | None:
    cid = _wp_id(el)
    return f"{page_url.split('#')[0]}#comment-{cid}" if cid else None


def _wp_text(el: HtmlElement, own: _Scope) -> str:
    # The author's name and the date often sit inside the text block: leave them out.
    meta = [
        el for el in (_value_element(own, _AUTHOR_CSS, _first_text),
                      _value_element(own, _DATE_CSS, _first_date)) if el is not None
    ]
    for css in _TEXT_CSS:
        found = own(css)
        if found:
            return _text_of(found[0], own, skip_classes=_NOT_TEXT, extra=meta)
    return _text_of(
        el, own, skip_classes=_NOT_TEXT, skip_tags=("cite", "footer", "header"), extra=meta
    )


# --- schema.org JSON-LD -----------------------------------------------------------------------


def from_jsonld(tree: HtmlElement, page_url: str) -> list[Comment]:
    """schema.org ``Comment`` objects of the page's JSON-LD, replies after their parent."""
    out: list[Comment] = []
    for script in _JSONLD(tree):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        _walk_jsonld(data, None, page_url, out, depth=0)
    return out


def jsonld_objects(tree: HtmlElement) -> Iterator[Any]:
    """Every JSON value of the page's JSON-LD scripts (bad ones skipped)."""
    for script in _JSONLD(tree):
        try:
            yield json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue


def _types(obj: dict[str, Any]) -> list[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return [str(v).rsplit("/", 1)[-1] for v in values if v]


def _walk_jsonld(
    data: Any, parent: str | None, page_url: str, out: list[Comment], depth: int
) -> None:
    if depth > 40:
        return
    if isinstance(data, list):
        for item in data:
            _walk_jsonld(item, parent, page_url, out, depth + 1)
        return
    if not isinstance(data, dict):
        return
    key = parent
    if any(t in ("Comment", "UserComments", "Answer") for t in _types(data)):
        text = _ld_text(data.get("text") or data.get("commentText") or data.get("description"))
        if text:
            raw_id = data.get("@id") or data.get("identifier") or None
            system_id = _ld_text(raw_id) or None if not isinstance(raw_id, dict) else None
            author = _ld_author(data.get("author") or data.get("creator"))
            posted = normalise_date(data.get("dateCreated") or data.get("datePublished"))
            url = data.get("url")
            parent_ref = data.get("parentItem")
            parent_key = parent
            if isinstance(parent_ref, dict) and parent_ref.get("@id"):
                parent_key = str(parent_ref["@id"])
            key = comment_key(system_id, author, posted, text)
            out.append(
                Comment(
                    key=key, system_id=system_id, author=author, posted_at=posted, text=text,
                    parent_key=parent_key,
                    permalink=urljoin(page_url, url) if isinstance(url, str) else None,
                )
            )
    for name in ("@graph", "comment", "comments", "mainEntity", "hasPart", "suggestedAnswer",
                 "acceptedAnswer"):
        if name in data:
            _walk_jsonld(data[name], key, page_url, out, depth + 1)


def _ld_text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name") or ""
    text = str(value or "")
    return html_text(text) if "<" in text else "\n\n".join(
        line for line in (normalise_line(p) for p in text.splitlines()) if line
    )


def _ld_author(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName")
    name = normalise_line(str(value)) if value else ""
    return name or None


# --- schema.org microdata ---------------------------------------------------------------------


def from_microdata(tree: HtmlElement, page_url: str) -> list[Comment]:
    """schema.org ``Comment`` microdata items."""
    items = list(_MICRODATA(tree))
    return _build(
        items,
        page_url,
        system_id=lambda el: el.get("itemid") or el.get("id") or None,
        author=lambda el, own: _micro_author(el),
        date=lambda el, own: _first_date(_props(el, "dateCreated", "datePublished", "commentTime")),
        text=lambda el, own: _text_of(
            (_props(el, "text", "commentText", "articleBody", "description") or [el])[0], own
        ),
        permalink=lambda el, own: _first_href(_props(el, "url"), page_url),
        parent_attr=None,
    )


def _props(item: HtmlElement, *names: str) -> list[HtmlElement]:
    """Elements carrying one of ``names`` as itemprop of ``item`` (not of a nested item)."""
    found: list[HtmlElement] = []
    stack = list(item)
    while stack:
        el = stack.pop(0)
        if not isinstance(el.tag, str):
            continue
        props = (el.get("itemprop") or "").split()
        if any(n in props for n in names):
            found.append(el)
        if el.get("itemscope") is None:
            stack[:0] = list(el)
    return found


def _micro_author(item: HtmlElement) -> str | None:
    for el in _props(item, "author", "creator"):
        if el.get("itemscope") is not None:
            names = _props(el, "name")
            if names:
                return _first_text(names)
        return _first_text([el])
    return None


# --- shared building --------------------------------------------------------------------------



def _build(
    items: list[HtmlElement],
    page_url: str,
    *,
    system_id: Callable[[HtmlElement], str | None],
    author: Callable[[HtmlElement, _Scope], str | None],
    date: Callable[[HtmlElement, _Scope], str | None],
    text: Callable[[HtmlElement, _Scope], str],
    permalink: Callable[[HtmlElement, _Scope], str | None],
    parent_attr: str | None,
) -> list[Comment]:
    """Comments from item elements: fields read inside each item, never inside its replies."""
    item_set = set(items)
    keys: dict[HtmlElement, str] = {}
    by_id: dict[str, str] = {}
    out: list[Comment] = []
    for el in items:
        own = _Scope(el, item_set)
        body = text(el, own)
        if not body:
            continue
        sid = system_id(el)
        who = author(el, own)
        when = date(el, own)
        key = comment_key(sid, who, when, body)
        keys[el] = key
        if sid:
            by_id[sid] = key
        parent_key = None
        if parent_attr:
            ref = el.get(parent_attr)
            parent_key = by_id.get(ref, ref) if ref and ref not in ("0", "") else None
        else:
            ancestor = el.getparent()
            while ancestor is not None and ancestor not in item_set:
                ancestor = ancestor.getparent()
            parent_key = keys.get(ancestor) if ancestor is not None else None
        out.append(
            Comment(
                key=key, system_id=sid, author=who, posted_at=when, text=body,
                parent_key=parent_key, permalink=permalink(el, own),
            )
        )
    return out


@dataclass(frozen=True)
class _Marks:
    """Tags, class tokens, class attribute texts and attribute names.

    Read from an item, what it holds (:meth:`of`); read from a selector, what an element inside
    the item must hold for it to match (:func:`_needs`: there ``class_texts`` are substrings).
    """

    tags: frozenset[str]
    classes: frozenset[str]
    class_texts: tuple[str, ...]
    attributes: frozenset[str]

    @classmethod
    def of(cls, item: HtmlElement) -> _Marks:
        tags: set[str] = set()
        classes: set[str] = set()
        values: list[str] = []
        attributes: set[str] = set()
        for el in item.iter():
            if not isinstance(el.tag, str):
                continue
            tags.add(el.tag)
            attributes.update(el.keys())
            value = el.get("class")
            if value:
                classes.update(value.split())
                values.append(value)
        return cls(frozenset(tags), frozenset(classes), tuple(values), frozenset(attributes))

    def may_match(self, needs: _Marks) -> bool:
        """True unless ``needs`` name something this item lacks."""
        return (
            needs.tags <= self.tags
            and needs.classes <= self.classes
            and needs.attributes <= self.attributes
            and all(any(s in v for v in self.class_texts) for s in needs.class_texts)
        )


# A compound selector veille can read needs from: a tag, then classes and attribute tests.
_SIMPLE_COMPOUND = re.compile(
    r"([a-z][a-z0-9]*)?((?:\.[a-z0-9_-]+|\[[a-z][a-z0-9_-]*(?:[*^$~|]?=(?:'[^'\]]*'|[\w-]+))?\])*)"
)
_ATTRIBUTE_TEST = re.compile(r"\[([a-z][a-z0-9_-]*)(?:([*^$~|]?=)(?:'([^'\]]*)'|([\w-]+)))?\]")


@lru_cache(maxsize=256)
def _needs(css: str) -> _Marks | None:
    """The needs of a selector made of compounds and spaces; None for any other selector.

    A necessary condition only: a selector whose needs are met is still evaluated.
    """
    tags: set[str] = set()
    classes: set[str] = set()
    substrings: list[str] = []
    attributes: set[str] = set()
    for compound in css.split():
        match = _SIMPLE_COMPOUND.fullmatch(compound)
        if match is None:
            return None
        if match.group(1):
            tags.add(match.group(1))
        tests = match.group(2)
        classes.update(re.findall(r"\.([a-z0-9_-]+)", _ATTRIBUTE_TEST.sub("", tests)))
        for name, operator, quoted, bare in _ATTRIBUTE_TEST.findall(tests):
            if name == "class" and operator == "*=":
                substrings.append(quoted or bare)
            else:
                attributes.add(name)
    return _Marks(frozenset(tags), frozenset(classes), tuple(substrings), frozenset(attributes))


class _Scope:
    """CSS lookups inside one item that skip whatever lies inside a nested item (a reply)."""

    def __init__(self, item: HtmlElement, items: set[HtmlElement]) -> None:
        self.item = item
        self.items = items
        self._found: dict[str, list[HtmlElement]] = {}  # the same selectors serve several fields
        self._parts: _Marks | None = None

    def __call__(self, css: str) -> list[HtmlElement]:
        found = self._found.get(css)
        if found is None:
            needs = _needs(css)
            if needs is not None and not self.parts().may_match(needs):
                found = []  # most selectors tried name a class or tag the item lacks
            else:
                found = [
                    el for el in _css(self.item, css)
                    if el is not self.item and not self.in_reply(el)
                ]
            self._found[css] = found
        return found

    def parts(self) -> _Marks:
        """The tags, classes and attribute names inside the item (replies included)."""
        if self._parts is None:
            self._parts = _Marks.of(self.item)
        return self._parts

    def in_reply(self, el: HtmlElement) -> bool:
        """True when ``el`` lies inside another comment item nested in this one."""
        node = el
        while node is not None and node is not self.item:
            if node in self.items:
                return True
            node = node.getparent()
        return False


def _first_of(own: _Scope, selectors: tuple[str, ...]) -> list[HtmlElement]:
    for css in selectors:
        found = own(css)
        if found:
            return found
    return []


def _value_element(
    own: _Scope, selectors: tuple[str, ...], read: Callable[[list[HtmlElement]], str | None]
) -> HtmlElement | None:
    """The element :func:`_first_value` reads its value from."""
    for css in selectors:
        for el in own(css):
            if read([el]):
                return el
    return None


def _first_value(
    own: _Scope, selectors: tuple[str, ...], read: Callable[[list[HtmlElement]], str | None]
) -> str | None:
    """The first non-empty value that ``read`` finds, trying ``selectors`` in order."""
    for css in selectors:
        found = own(css)
        value = read(found) if found else None
        if value:
            return value
    return None


def _has_class(el: HtmlElement, name: str) -> bool:
    return name in (el.get("class") or "").split()


def _first_text(elements: list[HtmlElement]) -> str | None:
    for el in elements:
        text = normalise_line(el.text_content())
        if text:
            return text
    return None


def _first_date(elements: list[HtmlElement]) -> str | None:
    for el in elements:
        for value in (el.get("datetime"), el.get("content"), el.get("title"), el.text_content()):
            date = normalise_date(value)
            if date:
                return date
    return None


def _first_href(elements: list[HtmlElement], page_url: str) -> str | None:
    for el in elements:
        href = el.get("href") or el.get("content")
        if href:
            return urljoin(page_url, href.strip())
    return None


def _text_of(
    el: HtmlElement,
    own: _Scope,
    *,
    skip_classes: tuple[str, ...] = (),
    skip_tags: tuple[str, ...] = (),
    extra: list[HtmlElement] | None = None,
) -> str:
    """The text of ``el`` without nested replies and, when asked, without its meta parts."""
    leave_out = set(extra or ())
    # Elements, not id()s: lxml proxies stay the same objects only while referenced.
    drop = {
        child for child in el.iter()
        if child is not el and isinstance(child.tag, str)
        and (child in own.items or child in leave_out or _skip(child, skip_classes, skip_tags))
    }
    if not drop:
        return element_text(el)
    clone = deepcopy(el)
    pairs = zip(el.iter(), clone.iter(), strict=True)
    marked = [copy for original, copy in pairs if original in drop]
    for copy in marked:
        if copy.getparent() is not None:
            copy.drop_tree()
    return element_text(clone)


def _skip(el: HtmlElement, classes: tuple[str, ...], tags: tuple[str, ...]) -> bool:
    if el.tag in tags:
        return True
    if not classes:
        return False
    names = (el.get("class") or "").split()
    return any(c in names for c in classes) or any(_CONTROLS.search(n) for n in names)


__all__ = ["CommentMarkup", "InlineRead", "comment_markup", "from_jsonld", "from_microdata",
           "from_selectors", "from_wordpress", "jsonld_objects", "read_inline"]
