"""The page pool on real Chromium pages: kept after a render, closed after a failure."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import async_playwright
from scrapy import Request
from scrapy.http import HtmlResponse

from spiders.browser import CHROMIUM_ARGS, BrowserSettings, browser_meta, executable
from spiders import pagepool
from spiders.pagepool import POOLED, BrowserPagePool

if TYPE_CHECKING:
    from tests.servers.http import LocalSite


def article_request(url: str) -> Request:
    return Request(url, meta=browser_meta(BrowserSettings()))


async def pool_round_trip(url: str) -> dict[str, object]:
    pool = BrowserPagePool(size=1)
    seen: dict[str, object] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable(BrowserSettings()), args=list(CHROMIUM_ARGS)
        )
        first = article_request(url)
        await pool.process_request(first)
        seen["first_asks_to_keep"] = first.meta.get("playwright_include_page")
        seen["first_has_page"] = "playwright_page" in first.meta
        # scrapy-playwright opened a page for it and left it in the meta.
        page = await browser.new_page()
        await page.goto(url)
        first.meta["playwright_page"] = page
        response = HtmlResponse(url, body=b"<html></html>", request=first)
        await pool.process_response(first, response)
        seen["meta_cleaned"] = not {POOLED, "playwright_page"} & set(first.meta)

        second = article_request(url)
        await pool.process_request(second)
        seen["second_gets_same_page"] = second.meta.get("playwright_page") is page
        await pool.process_exception(second, TimeoutError("render timed out"))
        seen["failed_page_closed"] = page.is_closed()

        third = article_request(url)
        # The slot came back: this does not wait (a leaked slot would block here).
        await asyncio.wait_for(pool.process_request(third), timeout=2)
        seen["third_gets_a_new_page"] = "playwright_page" not in third.meta

        disqus = Request(url, meta={"playwright": True, "playwright_include_page": True})
        await pool.process_request(disqus)
        seen["reader_page_left_alone"] = POOLED not in disqus.meta
        await browser.close()
    return seen


def test_pool_keeps_a_rendered_page_and_closes_a_failed_one(site: LocalSite) -> None:
    site.set("/a", "<html><body><p>Un article.</p></body></html>")
    seen = asyncio.run(pool_round_trip(site.url("/a")))
    assert seen == {
        "first_asks_to_keep": True,
        "first_has_page": False,
        "meta_cleaned": True,
        "second_gets_same_page": True,
        "failed_page_closed": True,
        "third_gets_a_new_page": True,
        "reader_page_left_alone": True,
    }


async def wear_out(url: str) -> list[bool]:
    """Closed-or-not of one tab after each of three renders, with tabs worn out after two."""
    pool = BrowserPagePool(size=1)
    closed = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable(BrowserSettings()), args=list(CHROMIUM_ARGS)
        )
        page = await browser.new_page()
        for _ in range(3):
            request = article_request(url)
            await pool.process_request(request)
            request.meta.setdefault("playwright_page", page)
            page = request.meta["playwright_page"]
            await page.goto(url)
            await pool.process_response(request, HtmlResponse(url, body=b"", request=request))
            closed.append(page.is_closed())
            if page.is_closed():
                page = await browser.new_page()
        await browser.close()
    return closed


def test_a_tab_is_replaced_after_its_share_of_pages(
    site: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagepool, "MAX_USES", 2)
    site.set("/a", "<html><body><p>Un article.</p></body></html>")
    assert asyncio.run(wear_out(site.url("/a"))) == [False, True, False]
