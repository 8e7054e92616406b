"""What every thread reader shares: its requests, its budget, its failures, its result.

A reader reads one thread in one run as a chain of requests (the next is asked for when the
previous answered), so a run never holds more than one response of a thread, and a failure at
any step still yields a result: partial, so nothing is concluded from what was not read.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import scrapy

from spiders.comments.items import Comment, CommentSource, CommentsResult
from spiders.fetchstate import classify_failure

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# A JSON answer larger than this is not a page of comments (and would cost memory to parse).
MAX_JSON_BYTES = 8 * 1024 * 1024


@dataclass
class ThreadRead:
    """The state of one thread's reading during one run."""

    page_id: int
    page_url: str
    source: CommentSource
    max_requests: int
    shown_count: int | None = None
    comments: dict[str, Comment] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    finished: bool = False

    def request(self, url: str, callback: Callable[..., Any], **cb_kwargs: Any) -> scrapy.Request:
        """A request of this thread, counted against its budget."""
        self.requests += 1
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_failure,
            cb_kwargs=cb_kwargs,
            dont_filter=True,
            headers={"Accept": "application/json"},
            meta={"veille_comments": self.source.kind, "handle_httpstatus_all": True},
        )

    def on_failure(self, failure: Failure) -> Iterator[CommentsResult]:
        """A request that failed for good (timeout, refused, truncated…): a partial result."""
        state, error = classify_failure(failure)
        url = getattr(getattr(failure, "request", None), "url", "?")
        yield self.fail(f"{state} on {url}: {error}")

    def fail(self, error: str, response: Response | None = None) -> CommentsResult:
        """Stop reading: what was read so far, marked partial."""
        where = f" on {response.url}" if response is not None and response.url not in error else ""
        self.errors.append(f"{error}{where}")
        logger.info("comments of %s (%s): %s", self.page_url, self.source.kind, self.errors[-1])
        return self.finish()

    def finish(self) -> CommentsResult:  # pragma: no cover - every reader overrides it
        """The result of the run."""
        raise NotImplementedError

    def result(self, **fields: Any) -> CommentsResult:
        """A result of this thread with the common fields filled in."""
        self.finished = True
        return CommentsResult(
            page_id=self.page_id,
            page_url=self.page_url,
            source=self.source,
            fetched_at=time.time(),
            shown_count=self.shown_count,
            requests=self.requests,
            **fields,
        )


def json_body(response: Response) -> tuple[Any, str | None]:
    """The JSON of a response, or (None, why it is not usable)."""
    if response.status != 200:
        return None, f"HTTP {response.status}"
    body = response.body
    if len(body) > MAX_JSON_BYTES:
        return None, f"JSON answer too large ({len(body)} bytes)"
    head = body[:200].lstrip()
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    if head[:1] == b"<" or ("html" in content_type and head[:1] not in (b"{", b"[")):
        return None, "expected JSON, got an HTML page"
    try:
        return json.loads(body.decode("utf-8", errors="replace")), None
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:
        return None, f"invalid JSON ({exc})"[:200]


def failure_text(failure: Failure) -> str:
    """A short text for a failed request."""
    state, error = classify_failure(failure)
    return f"{state}: {error}"
