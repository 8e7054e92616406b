"""``render = "auto"``: a plain fetch that shows no article is tried once more in the browser.

``veille check`` (:func:`monitor.check.check_cycle`) and ``veille run`` (:mod:`monitor.daemon`)
share this bookkeeping. Each plain fetch of an ``"auto"`` page is followed
(:meth:`AutoRender.expect`); when its result is ``empty`` it is not recorded
(:meth:`AutoRender.hold` returns the page's browser target instead), and the caller fetches that
target in a crawl with Chromium. The browser's result is recorded whatever it is; when it shows
the article (:meth:`AutoRender.rendered`), the caller remembers the page with
:func:`storage.pages.remember_needs_browser`, so later rounds render it at once.

A page is retried once per round: its browser target has ``render = "browser"``, which is never
held back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Final

from spiders.items import FetchResult

if TYPE_CHECKING:
    from collections.abc import Iterable

    from spiders.comments.items import CommentsResult
    from spiders.items import WatchTarget

# Fetch states that mean the article was there (the last two: the same as last time).
FOUND_STATES: Final = frozenset({"ok", "same_raw", "same_region"})
# The plain state that sends an "auto" page to the browser: a page with no article text.
RETRY_STATE: Final = "empty"


class AutoRender:
    """Which ``"auto"`` pages were fetched plainly, and which went on to the browser."""

    def __init__(self) -> None:
        self._plain: dict[int, WatchTarget] = {}  # page id -> its plain target, result awaited
        self._retried: set[int] = set()  # pages handed to the browser, result awaited

    def expect(self, targets: Iterable[WatchTarget]) -> None:
        """Follow the plain fetches of ``targets`` whose render is ``"auto"``.

        A target of any other render replaces what was followed for its page (a result that
        never came, from an earlier round).
        """
        for target in targets:
            self._retried.discard(target.page_id)
            if target.render == "auto":
                self._plain[target.page_id] = target
            else:
                self._plain.pop(target.page_id, None)

    def hold(self, result: FetchResult | CommentsResult) -> WatchTarget | None:
        """The browser target to fetch instead of recording ``result``; None: record it.

        Only the ``empty`` plain result of a followed ``"auto"`` page is held back.
        """
        if not isinstance(result, FetchResult):
            return None
        target = self._plain.pop(result.page_id, None)
        if target is None or result.state != RETRY_STATE:
            return None
        self._retried.add(result.page_id)
        return replace(target, render="browser")

    def rendered(self, result: FetchResult) -> bool:
        """True when ``result`` is the browser fetch of a held page and shows its article."""
        if result.page_id not in self._retried:
            return False
        self._retried.discard(result.page_id)
        return result.state in FOUND_STATES

    @property
    def retrying(self) -> int:
        """Pages handed to the browser whose result has not come yet."""
        return len(self._retried)

    def clear(self) -> None:
        """Forget everything followed (the crawl that fetched those pages is gone)."""
        self._plain.clear()
        self._retried.clear()
