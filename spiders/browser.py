"""Pages that need JavaScript: Chromium through scrapy-playwright, inside the watch crawl.

Only requests whose meta says ``playwright`` go to the browser; the rest keep Scrapy's HTTP
handler. The Playwright download handler starts a Node driver (about 240 MB) in every crawl that
enables it, so :func:`playwright_settings` is added to a crawl's settings only when at least one
of its requests needs the browser (see ``monitor.crawl.scrapy_settings``).

Nothing here imports Playwright at module level: the config loads :class:`BrowserSettings`
without paying for it.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)

RENDERS = ("http", "auto", "browser")
# "http": plain fetches only, the cheap and safe default. "auto" costs a browser only for pages
# whose plain fetch shows no article; "browser" always renders.
DEFAULT_RENDER = "http"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
# What to do when no Chromium can start: the config error and the fetch state both say it.
INSTALL_HINT = (
    "install Debian's chromium (apt-get install chromium) or set [browser] executable_path"
)
# The fetch state of a page that needed the browser when Chromium could not start.
BROWSER_ERROR = "browser_error"
DEFAULT_BROWSER_TIMEOUT = 15.0  # seconds for navigation plus the wait
# One context with 4 pages: on 2 cores more pages add memory but little speed (STACK-NOTES §2).
DEFAULT_MAX_PAGES = 4
DEFAULT_BLOCKED_RESOURCES = ("image", "media", "font")
# Ad and tracker hosts (their subdomains too): they cost time and memory and never hold articles.
DEFAULT_BLOCKED_HOSTS = (
    "doubleclick.net", "googlesyndication.com", "googleadservices.com", "google-analytics.com",
    "googletagmanager.com", "adservice.google.com", "amazon-adsystem.com", "adnxs.com",
    "criteo.com", "criteo.net", "taboola.com", "outbrain.com", "scorecardresearch.com",
    "chartbeat.com", "chartbeat.net", "quantserve.com", "facebook.net", "hotjar.com",
    "moatads.com", "pubmatic.com", "rubiconproject.com", "smartadserver.com", "xiti.com",
)  # fmt: skip
RESOURCE_TYPES = (
    "document", "stylesheet", "image", "media", "font", "script", "texttrack", "xhr", "fetch",
    "eventsource", "websocket", "manifest", "other",
)  # fmt: skip
# Flags for a headless Chromium on a server; without the network ones it keeps calling home.
CHROMIUM_ARGS = (
    "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars",
    # A tab is reused for the next page (spiders.pagepool): the page it leaves must not stay in
    # memory for a "back" that never comes.
    "--disable-features=BackForwardCache",
)  # fmt: skip


@dataclass(frozen=True)
class BrowserSettings:
    """How veille renders pages in Chromium: the ``[browser]`` table."""

    executable_path: str | None = None  # None: Debian's chromium when present, else Playwright's
    wait_for: str | None = None  # CSS selector to wait for; None: wait for network idle
    timeout: float = DEFAULT_BROWSER_TIMEOUT
    max_pages: int = DEFAULT_MAX_PAGES
    block_resources: tuple[str, ...] = DEFAULT_BLOCKED_RESOURCES
    block_hosts: tuple[str, ...] = DEFAULT_BLOCKED_HOSTS


def executable(settings: BrowserSettings) -> str | None:
    """The Chromium to launch: the configured one, Debian's, or None (Playwright's own).

    With neither Debian's nor Playwright's own browser installed, the launch fails and
    :func:`launch_failure` turns Playwright's error into the same advice as a bad config path.
    """
    if settings.executable_path:
        return settings.executable_path
    return DEBIAN_CHROMIUM if os.access(DEBIAN_CHROMIUM, os.X_OK) else None


_MISSING = re.compile(r"[Ee]xecutable doesn't exist at (\S+)")
_SPAWN = re.compile(r"spawn (\S+) (E[A-Z]+)")
_EXITED = re.compile(r"process did exit: exitCode=(\d+)")
_LAUNCHING = re.compile(r"<launching> (\S+)")


def launch_failure(text: str) -> str | None:
    """One line saying why Chromium could not start, from Playwright's launch error; else None.

    Playwright's message names the API call (``BrowserType.launch: …``), then a call log: the
    reason is dug out of it (no file, not executable, exited at once) and the advice appended.
    """
    if "BrowserType.launch" not in text:
        return None
    if missing := _MISSING.search(text):
        reason = f"no browser at {missing.group(1)}"
    elif spawn := _SPAWN.search(text):
        code = getattr(errno, spawn.group(2), None)
        why = os.strerror(code).lower() if isinstance(code, int) else spawn.group(2)
        reason = f"{spawn.group(1)} cannot be run ({why})"
    elif exited := _EXITED.search(text):
        launched = _LAUNCHING.search(text)
        program = launched.group(1) if launched else "the browser"
        reason = f"{program} exited at once (exit code {exited.group(1)})"
    else:
        first = text.split("BrowserType.launch:", 1)[1].strip().splitlines()
        reason = first[0] if first else "unknown error"
    return f"Chromium could not start: {reason} — {INSTALL_HINT}"


class AbortRequest:
    """``PLAYWRIGHT_ABORT_REQUEST``: drop blocked resource types, ad hosts, private addresses.

    The SSRF guard sees only the page's own URL; what the page's scripts fetch is checked here,
    for addresses written as IPs (a name that resolves to a private address is not caught).
    """

    def __init__(self, settings: BrowserSettings, allow_networks: Sequence[str] = ()) -> None:
        self.types = frozenset(settings.block_resources)
        self.hosts = tuple(host.lower().lstrip(".") for host in settings.block_hosts)
        self.allowed = [ipaddress.ip_network(net) for net in allow_networks]

    def __call__(self, request: Any) -> bool:
        """True to abort the browser's ``request`` (a Playwright Request)."""
        if request.resource_type in self.types:
            return True
        host = (urlsplit(request.url).hostname or "").lower()
        if any(host == blocked or host.endswith("." + blocked) for blocked in self.hosts):
            return True
        return self._private(host)

    def _private(self, host: str) -> bool:
        if host == "localhost" or host.endswith(".localhost"):
            return not any(ipaddress.ip_address("127.0.0.1") in net for net in self.allowed)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if address.is_global:
            return False
        return not any(address in net for net in self.allowed)


def playwright_settings(
    settings: BrowserSettings, allow_networks: Sequence[str] = ()
) -> dict[str, Any]:
    """Scrapy settings that send ``playwright`` requests to Chromium (merge into a crawl's)."""
    handler = "spiders.playwright_handler.SharedPlaywrightHandler"  # one driver for both schemes
    launch: dict[str, Any] = {
        "headless": True,
        "args": list(CHROMIUM_ARGS),
        "timeout": 30_000,
    }
    path = executable(settings)
    if path:
        launch["executable_path"] = path
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": settings.timeout * 1000,
        # Requests name no context, so all share "default": pages per context is the real cap.
        # Article pages stay open for reuse (spiders.pagepool), max_pages of them; as many more
        # are left for the Disqus reader, which opens and closes its own.
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2 * settings.max_pages,
        "VEILLE_BROWSER_PAGES": settings.max_pages,
        # Last before the download handler: it sees a failed render before a retry copies it.
        "DOWNLOADER_MIDDLEWARES": {"spiders.pagepool.BrowserPagePool": 960},
        "PLAYWRIGHT_ABORT_REQUEST": AbortRequest(settings, allow_networks),
        # A browser that crashed is launched again for the next request (the daemon lives on).
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
    }


def browser_meta(settings: BrowserSettings) -> dict[str, Any]:
    """Request meta that renders a page in Chromium and waits for its article."""
    from scrapy_playwright.page import PageMethod

    timeout = settings.timeout * 1000
    meta: dict[str, Any] = {"playwright": True, "veille_render": "browser"}
    if settings.wait_for:
        meta["playwright_page_goto_kwargs"] = {"wait_until": "domcontentloaded", "timeout": timeout}
        meta["playwright_page_methods"] = [
            PageMethod("wait_for_selector", settings.wait_for, timeout=timeout)
        ]
    else:
        meta["playwright_page_goto_kwargs"] = {"wait_until": "networkidle", "timeout": timeout}
    return meta
