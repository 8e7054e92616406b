"""Disqus threads through Disqus's API, when a ``[comments] disqus_api_key`` is configured.

``threads/listPosts.json?forum=<shortname>&thread:ident=<identifier>`` (or ``thread:link=<URL>``
when the page names no identifier), 100 posts a page, oldest first, ``related=thread`` for the
thread's count, then ``cursor=<next>`` while ``cursor.hasNext``. A thread costs at most
``comment_budget`` requests per run; an error answer, a payload that is not Disqus's, a failed
request or a spent budget make the read partial (``error`` when not even one page was read), so
nothing is concluded from it.

**The key is a secret.** It travels in the query string, as Disqus wants, so it is masked with
``****`` (:func:`mask`) in every error this reader records or logs, and a :class:`logging.Filter`
on the root logger's handlers masks it in every log line (Scrapy's "Crawled <GET …>" included).
It never enters a source's URL or detail: the thread is stored as the page's Disqus source,
whichever way it is read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlencode

import scrapy

from spiders.comments.disqus import is_hidden, post_comment
from spiders.comments.items import DISQUS_API_URL, CommentsResult
from spiders.comments.readers import ThreadRead, json_body
from spiders.fetchstate import classify_failure

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

LIST_POSTS = "/threads/listPosts.json"
PER_PAGE = 100  # the API's maximum
MASK = "****"


def mask(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``text`` with each secret (and its URL-encoded forms) replaced by ``****``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return text


class MaskSecrets(logging.Filter):
    """Masks the registered API keys in every record that reaches a handler it is on."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; never drop it."""
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        clean = mask(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text, self.secrets)
        return True


_FILTER = MaskSecrets()


def mask_in_logs(secret: str) -> None:
    """Mask ``secret`` in every line the root logger's handlers write (idempotent)."""
    if len(secret) < 4:  # shorter is not a key, and would blank out common words
        return
    _FILTER.secrets |= {secret, quote(secret, safe=""), quote_plus(secret)}
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


@dataclass
class DisqusApiRead(ThreadRead):
    """One run's reading of one Disqus thread through ``threads/listPosts``."""

    api_url: str = DISQUS_API_URL
    api_key: str = field(default="", repr=False)
    pages: int = 0  # pages of posts read
    done: bool = False  # the last page said there is no next one

    @property
    def secrets(self) -> frozenset[str]:
        """The key in the forms it may take in a URL or a message."""
        key = self.api_key
        return frozenset({key, quote(key, safe=""), quote_plus(key)}) if key else frozenset()

    def start(self) -> scrapy.Request:
        """The first page of posts."""
        mask_in_logs(self.api_key)
        return self.next_page(None)

    def next_page(self, cursor: str | None) -> scrapy.Request:
        """The request for the page after ``cursor``."""
        params = [("api_key", self.api_key), ("forum", self.source.get("shortname") or "")]
        identifier = self.source.get("identifier")
        if identifier:
            params.append(("thread:ident", identifier))
        else:
            params.append(("thread:link", self.source.get("link") or self.page_url))
        params += [("limit", str(PER_PAGE)), ("order", "asc"), ("related", "thread")]
        if cursor:
            params.append(("cursor", cursor))
        url = f"{self.api_url.rstrip('/')}{LIST_POSTS}?{urlencode(params)}"
        return self.request(url, self.on_page)

    def on_page(self, response: Response) -> Iterator[scrapy.Request | CommentsResult]:
        """One page of posts; the next one while the cursor says so and the budget allows."""
        data, error = json_body(response)
        if response.status != 200:
            error = _api_error(response) or error
        elif error is None:
            error = _payload_problem(data)
        if error is not None:
            yield self.fail(error, response)
            return
        self.pages += 1
        link = self.source.get("link") or self.page_url
        for post in data["response"]:
            if not isinstance(post, dict) or is_hidden(post):
                continue
            comment = post_comment(post, link)
            if comment is not None:
                self.comments[comment.key] = comment
            thread = post.get("thread")
            count = thread.get("posts") if isinstance(thread, dict) else None
            if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                self.shown_count = count  # the thread's own count (related=thread)
        cursor = data["cursor"]
        following = cursor.get("next")
        if cursor.get("hasNext") and isinstance(following, str) and following:
            if self.requests < self.max_requests:
                yield self.next_page(following)
                return
            self.errors.append(
                f"budget of {self.max_requests} requests spent on page {self.pages}"
            )
        else:
            self.done = True
        yield self.finish()

    def on_failure(self, failure: Failure) -> Iterator[CommentsResult]:
        """A request that failed for good: partial, with the key masked."""
        state, error = classify_failure(failure)
        yield self.fail(f"{state} on the Disqus API: {error}")

    def fail(self, error: str, response: Response | None = None) -> CommentsResult:
        """Stop reading; the error (and the URL it names) never shows the key."""
        where = f" ({self.shown(response.url)})" if response is not None else ""
        return super().fail(mask(f"{error}{where}", self.secrets))

    def shown(self, url: str) -> str:
        """``url`` fit to store or log: the key masked."""
        return mask(url, self.secrets)

    def finish(self) -> CommentsResult:
        """Complete when every page was read and the thread's count adds up."""
        read = len(self.comments)
        if self.done and not self.errors and self.shown_count is not None and read < self.shown_count:
            self.errors.append(f"read {read} of the {self.shown_count} comments Disqus counts")
        complete = self.done and not self.errors
        state = "ok" if complete else "partial" if self.pages else "error"
        return self.result(
            comments=tuple(self.comments.values()),
            complete=complete,
            state=state,
            error=mask("; ".join(self.errors), self.secrets) or None,
        )


def _payload_problem(data: Any) -> str | None:
    """Why an answer is not a page of Disqus posts, or None."""
    if not isinstance(data, dict):
        return "the Disqus API answered something other than a JSON object"
    if data.get("code") != 0:
        return f"Disqus API error {data.get('code')!r}: {_message(data)}"
    if not isinstance(data.get("response"), list) or not isinstance(data.get("cursor"), dict):
        return "Disqus API answer without a list of posts and a cursor"
    return None


def _api_error(response: Response) -> str | None:
    """The error Disqus states in a 4xx or 5xx answer (``{"code": 5, "response": "…"}``)."""
    try:
        data = json.loads(response.body[:10_000].decode("utf-8", errors="replace"))
    except ValueError:
        return None
    if isinstance(data, dict) and "code" in data:
        return f"HTTP {response.status}, Disqus API error {data.get('code')!r}: {_message(data)}"
    return None


def _message(data: dict[str, Any]) -> str:
    message = data.get("response")
    return " ".join(str(message).split())[:200] if isinstance(message, str) else "no message"

