"""A real headless Chromium reads veille's Datasette: diffs look like diffs, nothing runs that
should not.

Debian's chromium (``/usr/bin/chromium``, installed by ``make test``) driven by Playwright. Every
page fails the test on a console error or a JavaScript dialog, except the sandboxed snapshot frame,
whose blocked scripts and blocked fetches are the point. Screenshots land in the test's tmp folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from tests.storage.test_datasette import (
    EVIL_PARAGRAPH,
    EVIL_TITLE,
    NEW_WORD,
    History,
    Served,
    filled_history,
    serving,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
RGB = re.compile(r"rgba?\((\d+), (\d+), (\d+)")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """The same history as test_datasette.py builds, for this module."""
    with filled_history(tmp_path_factory.mktemp("datasette-browser")) as filled:
        yield filled


@pytest.fixture(scope="module")
def served(history: History) -> Iterator[Served]:
    with serving(history.veille) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A browser page with what it reported: console errors, uncaught errors, dialogs."""

    page: Page
    errors: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    seen = Visit(page)
    page.on("console", lambda m: seen.errors.append(m) if m.type == "error" else None)
    page.on("pageerror", lambda exc: seen.page_errors.append(str(exc)))
    page.on("dialog", seen.on_dialog)
    yield seen
    page.close()


def colour(page: Page, selector: str) -> tuple[int, int, int]:
    value = page.locator(selector).first.evaluate("e => getComputedStyle(e).color")
    match = RGB.match(value)
    assert match, value
    red, green, blue = (int(g) for g in match.groups())
    return red, green, blue


def open_clean(visit: Visit, url: str, screenshot: Path) -> Page:
    """Go to ``url``, save a full-page screenshot, and fail on any error the page reported."""
    response = visit.page.goto(url)
    assert response is not None and response.status == 200, url
    visit.page.wait_for_load_state("load")
    visit.page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    assert [m.text for m in visit.errors] == [], url
    assert visit.page_errors == [] and visit.dialogs == [], url
    return visit.page


def test_diff_page_strikes_removed_words_in_red_and_shows_added_in_green(
    history: History, served: Served, visit: Visit, tmp_path: Path
) -> None:
    change_id = history.change_id("body", "body")
    page = open_clean(visit, f"{served.base}/-/veille/change/{change_id}", tmp_path / "diff.png")
    deleted = page.locator(".veille-diff del")
    inserted = page.locator(".veille-diff ins")
    assert deleted.all_inner_texts() == [history.old_word]
    assert inserted.all_inner_texts() == [NEW_WORD]
    red, green, blue = colour(page, ".veille-diff del")
    assert red > 120 and red > 2 * green and red > 2 * blue
    red, green, blue = colour(page, ".veille-diff ins")
    assert green > 80 and green > 2 * red and green > blue
    decoration = deleted.first.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in decoration
    assert "line-through" not in inserted.first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    # Context: the edited paragraph is shown whole around the change.
    paragraph = page.locator(".veille-para-edited p").inner_text()
    expected = history.edited["body"].paragraphs[2]
    # (The site puts no-break spaces inside « »; veille stores plain spaces.)
    assert paragraph.split() == expected.replace(NEW_WORD, history.old_word + NEW_WORD).split()
    # The links lead on: to the version before, to the timeline.
    page.get_by_role("link", name="version 1").click()
    page.wait_for_load_state("load")
    assert "/-/veille/version/" in page.url
    assert history.old_word in page.locator("article.veille-text").inner_text()
    assert visit.errors == [] and visit.dialogs == []


def test_timeline_of_an_article_shows_its_versions_and_marked_edits(
    history: History, served: Served, visit: Visit, tmp_path: Path
) -> None:
    url = f"{served.base}/veille/article_timeline?" + urlencode({"url": history.url("body")})
    page = open_clean(visit, url, tmp_path / "timeline.png")
    events = page.locator("td.col-event").all_inner_texts()
    assert [e.strip() for e in events] == ["version 1", "version 2", "change"]
    assert page.locator("td.col-ops del").all_inner_texts() == [history.old_word]
    assert page.locator("td.col-ops ins").all_inner_texts() == [NEW_WORD]
    red, _, _ = colour(page, "td.col-ops del")
    _, green, _ = colour(page, "td.col-ops ins")
    assert red > 120 and green > 80
    page.locator("td.col-ops a.veille-full-diff").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/-/veille/change/{history.change_id('body', 'body')}")


def test_html_in_article_text_is_shown_as_text_and_never_runs(
    history: History, served: Served, visit: Visit, tmp_path: Path
) -> None:
    change_id = history.change_id("evil", "body")
    page = open_clean(visit, f"{served.base}/-/veille/change/{change_id}", tmp_path / "evil.png")
    assert EVIL_TITLE in page.locator("h1").inner_text()
    text = page.locator(".veille-diff").inner_text()
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(" in text
    assert page.locator(".veille-diff script, .veille-diff img, .veille-diff b").count() == 0
    page.get_by_role("link", name="version 2").click()
    page.wait_for_load_state("load")
    assert EVIL_PARAGRAPH.replace("alert(2)", "alert(3)") in page.locator(
        "article.veille-text"
    ).inner_text()
    assert page.locator("article.veille-text script").count() == 0
    assert visit.errors == [] and visit.page_errors == [] and visit.dialogs == []


def test_a_snapshot_is_rendered_sandboxed_and_its_scripts_never_run(
    history: History, served: Served, visit: Visit, tmp_path: Path
) -> None:
    db = history.veille.db()
    snapshot_id = db.execute(
        "SELECT snapshot_id FROM versions JOIN pages ON pages.id = page_id "
        "WHERE url = ? ORDER BY seq DESC", [history.url("evil")]
    ).fetchone()[0]
    raw_url = f"{served.base}/-/veille/snapshot/{snapshot_id}/raw"
    page = visit.page
    response = page.goto(f"{served.base}/-/veille/snapshot/{snapshot_id}")
    assert response is not None and response.status == 200
    frame = page.frame_locator("iframe.veille-frame")
    frame.locator("article").first.wait_for()  # the snapshot did render
    assert page.locator("iframe.veille-frame").get_attribute("sandbox") == ""
    assert "snapshot script ran" in page.locator("pre.veille-source").inner_text()
    page.screenshot(path=str(tmp_path / "snapshot.png"), full_page=True)
    # Opened on its own, the raw snapshot is still sandboxed by its CSP header.
    page.goto(raw_url)
    page.wait_for_load_state("load")
    # An opaque origin: the page cannot even read cookies.
    origin_check = "() => { try { document.cookie; return 'open'; } catch { return 'sandboxed'; } }"
    assert page.evaluate(origin_check) == "sandboxed"
    assert visit.dialogs == [] and visit.page_errors == []
    # Only the snapshot's own blocked scripts and fetches complain, from the snapshot's URL.
    assert visit.errors, "the snapshot's script was expected to be blocked, visibly"
    for message in visit.errors:
        assert message.location.get("url", "").startswith(raw_url) or "sandbox" in message.text, (
            message.text
        )
