"""The browser's settings: config keys, Scrapy settings, what the browser may load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from monitor.config import load_config
from monitor.crawl import scrapy_settings
from monitor.errors import ConfigError
from spiders.browser import DEFAULT_BLOCKED_HOSTS, AbortRequest, BrowserSettings, browser_meta

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class FakeRequest:
    """The two attributes of a Playwright Request that the predicate reads."""

    url: str
    resource_type: str = "document"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "veille.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_render_and_browser_keys_load(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[browser]
executable_path = "/opt/chromium/chrome"
wait_for = "article p"
timeout = "20s"
max_pages = 2
block_resources = ["image", "stylesheet"]
block_hosts = ["ads.example.net"]

[[pages]]
url = "https://example.org/a"
render = "auto"

[[pages]]
url = "https://example.org/b"
"""))
    assert [page.render for page in config.pages] == ["auto", "http"]
    assert config.browser == BrowserSettings(
        executable_path="/opt/chromium/chrome", wait_for="article p", timeout=20.0, max_pages=2,
        block_resources=("image", "stylesheet"), block_hosts=("ads.example.net",),
    )


@pytest.mark.parametrize(("text", "key", "says"), [
    ('[[pages]]\nurl = "https://e.org/a"\nrender = "js"\n', "pages[0].render", "'browser'"),
    ('[browser]\nmax_pages = 0\n', "browser.max_pages", "at least 1"),
    ('[browser]\nwait_for = "article["\n', "browser.wait_for", "CSS selector"),
    ('[browser]\nblock_resources = ["pictures"]\n', "browser.block_resources[0]", "'image'"),
    ('[browser]\ntimeout = "0s"\n', "browser.timeout", "more than 0s"),
])
def test_bad_browser_settings_are_refused(tmp_path: Path, text: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.key == key and says in str(info.value)


def test_the_playwright_handler_is_added_only_for_a_browser_crawl() -> None:
    from monitor.config import HttpSettings

    plain = scrapy_settings(HttpSettings())
    assert "PLAYWRIGHT_BROWSER_TYPE" not in plain and "http" not in plain["DOWNLOAD_HANDLERS"]
    rendered = scrapy_settings(HttpSettings(), (), BrowserSettings(executable_path="/x/chromium"))
    handlers = rendered["DOWNLOAD_HANDLERS"]
    handler = "spiders.playwright_handler.SharedPlaywrightHandler"
    assert handlers["http"] == handlers["https"] == handler
    assert handlers["file"] is None  # still no local files
    # max_pages article pages kept for reuse, as many more for the Disqus reader.
    assert rendered["VEILLE_BROWSER_PAGES"] == 4
    assert rendered["PLAYWRIGHT_MAX_PAGES_PER_CONTEXT"] == 8
    assert rendered["DOWNLOADER_MIDDLEWARES"]["spiders.pagepool.BrowserPagePool"] > 900
    assert "spiders.discovery.ssrf.SSRFGuardMiddleware" in rendered["DOWNLOADER_MIDDLEWARES"]
    assert rendered["PLAYWRIGHT_LAUNCH_OPTIONS"]["executable_path"] == "/x/chromium"
    assert rendered["PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT"] == 15000


def test_waits_for_a_selector_or_network_idle() -> None:
    idle = browser_meta(BrowserSettings())
    assert idle["playwright"] is True
    assert idle["playwright_page_goto_kwargs"]["wait_until"] == "networkidle"
    assert "playwright_page_methods" not in idle
    selector = browser_meta(BrowserSettings(wait_for="article", timeout=5.0))
    (method,) = selector["playwright_page_methods"]
    assert method.method == "wait_for_selector" and method.args == ("article",)
    assert method.kwargs == {"timeout": 5000.0}


def test_abort_blocks_heavy_types_ad_hosts_and_private_addresses() -> None:
    abort = AbortRequest(BrowserSettings(), allow_networks=["10.1.0.0/16"])
    assert abort(FakeRequest("https://news.example.org/img/a.jpg", "image"))
    assert abort(FakeRequest("https://news.example.org/f.woff2", "font"))
    assert not abort(FakeRequest("https://news.example.org/app.js", "script"))
    assert abort(FakeRequest(f"https://securepubads.g.{DEFAULT_BLOCKED_HOSTS[0]}/tag.js", "script"))
    assert not abort(FakeRequest("https://notdoubleclick.net/x.js", "script"))
    assert abort(FakeRequest("http://169.254.169.254/latest/meta-data/", "fetch"))
    assert abort(FakeRequest("http://localhost:8080/admin", "xhr"))
    assert abort(FakeRequest("http://[::1]/", "xhr"))
    assert not abort(FakeRequest("http://10.1.2.3/api", "xhr"))  # allowed network
    assert not abort(FakeRequest("http://93.184.215.14/", "document"))
