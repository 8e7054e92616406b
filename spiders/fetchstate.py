"""Turn a response or a download failure into a :class:`FetchResult` with a fetch state.

The rule behind every branch: a fetch that failed or looks wrong yields a *state*, never an
article, so it can never become a version, a deletion or an alert.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import TYPE_CHECKING

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError

from spiders.anomaly import detect_anomaly
from spiders.browser import BROWSER_ERROR, launch_failure
from spiders.decode import decode_html
from spiders.extract import read_article
from spiders.fingerprint import find_region, fingerprint, quick_check, strip_invisible
from spiders.items import Article, Extracted, FetchResult, WatchTarget

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


def extract_page(
    raw: bytes,
    content_type: str | None,
    url: str,
    selector: str | None,
    ignore: tuple[str, ...],
    region: str | None = None,
    region_fp: str | None = None,
) -> Extracted:
    """Decode and extract one page. Pure and picklable, so it can run in a worker process.

    With the ``region`` and fingerprint of the last full extraction, a page whose fingerprint is
    unchanged comes back as ``same_region`` without running trafilatura.
    """
    try:
        text, encoding = decode_html(raw, content_type)
        patterns = tuple(re.compile(p) for p in ignore)
        if region and region_fp:
            same = quick_check(raw, content_type, url, selector, ignore, region, region_fp)
            if same is not None:
                return same
        read = read_article(text, url, selector=selector, ignore=patterns)
    except RecursionError:
        return Extracted("parse_error", error="document nested too deeply to parse")
    except Exception as exc:  # one broken page must not stop the crawl
        return Extracted("parse_error", error=f"{type(exc).__name__}: {exc}"[:300])
    article, tree, meta = read.article, read.tree, read.meta
    anomaly = detect_anomaly(text, article)
    if anomaly:
        return Extracted(anomaly, encoding=encoding)
    new_region = new_fp = None
    # Dates guessed from the page text (htmldate) are outside the fingerprint: no fast path.
    if tree is not None and meta is not None and (meta.published or meta.modified):
        # The extraction's own tree, metadata read and noise dropped: what remains of
        # prepare() is removing the invisible elements (trafilatura worked on a copy).
        strip_invisible(tree)
        new_region = find_region(tree, article.body)
        if new_region:
            new_fp = fingerprint(tree, meta, new_region, ignore=patterns, selector=selector)
    return Extracted("ok", article, encoding, None, new_region, new_fp)


def result_from_response(
    target: WatchTarget, response: Response, *, max_size: int
) -> tuple[FetchResult, bool]:
    """A result for a response that needs no extraction, or (partial result, True) when it does."""
    headers = response.headers
    content_type = (headers.get(b"Content-Type") or b"").decode("latin-1").strip()
    final_url = response.url
    base = {
        "page_id": target.page_id,
        "url": target.url,
        "fetched_at": time.time(),
        "http_status": response.status,
        "final_url": final_url,
        "nbytes": len(response.body),
        "etag": _header(response, b"ETag"),
        "last_modified": _header(response, b"Last-Modified"),
        "content_type": content_type or None,
    }
    if response.status == 304:
        return FetchResult(state="not_modified", **base), False  # type: ignore[arg-type]
    if response.status in (404, 410):
        return FetchResult(state="gone", **base), False  # type: ignore[arg-type]
    if response.status in (403, 429, 503) and _is_challenge(response):
        return FetchResult(state="blocked", error=f"HTTP {response.status} bot challenge", **base), False  # type: ignore[arg-type]
    if response.status >= 400 or response.status < 200:
        return FetchResult(state="http_error", error=f"HTTP {response.status}", **base), False  # type: ignore[arg-type]
    if len(response.body) > max_size:
        return FetchResult(state="too_large", error=f"{len(response.body)} bytes", **base), False  # type: ignore[arg-type]
    mime = content_type.split(";")[0].strip().lower()
    if mime not in HTML_TYPES:
        return FetchResult(state="not_html", error=f"content type {mime}", **base), False  # type: ignore[arg-type]
    raw = response.body
    same_place = final_url == target.url  # a redirect may be a move: judge it in full
    if same_place and target.last_raw_sha256 and hashlib.sha256(raw).hexdigest() == target.last_raw_sha256:
        # Same bytes as the last good fetch: the article cannot have changed.
        return FetchResult(state="same_raw", raw=raw, **base), False  # type: ignore[arg-type]
    return FetchResult(state="ok", raw=raw, **base), True  # type: ignore[arg-type]


def _is_challenge(response: Response) -> bool:
    """A 403/429/503 whose page is a bot challenge rather than a plain error."""
    if len(response.body) > 512 * 1024:
        return False
    text, _ = decode_html(response.body, _header(response, b"Content-Type"))
    return detect_anomaly(text, Article(title="", body="")) == "blocked"


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(fetch state, short error text) for a download failure."""
    exc = failure.value
    text = str(exc) or type(exc).__name__
    if isinstance(exc, HttpError):
        status = exc.response.status
        return ("gone" if status in (404, 410) else "http_error"), f"HTTP {status}"
    if isinstance(exc, DownloadTimeoutError):
        return "timeout", text
    if isinstance(exc, CannotResolveHostError):
        return "dns_error", text
    if isinstance(exc, DownloadConnectionRefusedError):
        return "connection_error", text
    if isinstance(exc, ResponseDataLossError):
        return "truncated", "response shorter than announced (connection lost mid-body)"
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download only when it passes DOWNLOAD_MAXSIZE.
        return "too_large", text if text != type(exc).__name__ else "response larger than the limit"
    if isinstance(exc, IgnoreRequest):
        if "MAXSIZE" in text:  # a compressed body that inflates past the limit (a bomb)
            return "too_large", text
        if "redirections" in text:
            return "redirect_loop", text
        if "robots.txt" in text:
            return "robots", text
        if text.startswith("blocked_address"):  # the SSRF guard (spiders.discovery.ssrf)
            return "blocked_address", text
        return "ignored", text
    if isinstance(exc, DownloadFailedError):
        return "connection_error", text
    launch = launch_failure(text)  # Chromium could not start (a Playwright error)
    if launch is not None:
        return BROWSER_ERROR, launch
    name = type(exc).__name__
    if "Timeout" in name:
        return "timeout", text
    if "DNS" in name or "Resolve" in name:
        return "dns_error", text
    if "Connection" in name:
        return "connection_error", text
    return "error", f"{name}: {text}"[:300]
