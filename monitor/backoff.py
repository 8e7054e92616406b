"""Scrapy's retry middleware, with an exponential pause before each retry.

Scrapy retries 5xx answers and timeouts at once; a struggling server deserves a moment. The pause
grows 1 s, 2 s, 4 s … (capped) and does not block other requests.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request

if TYPE_CHECKING:
    from scrapy.http import Response

BACKOFF_BASE = 1.0
BACKOFF_CAP = 8.0


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry like Scrapy does, after ``BACKOFF_BASE * 2**n`` seconds."""

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        """Pause before returning a retry request."""
        result = super().process_response(request, response)
        return await self._pause(result)

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        """Pause before returning a retry request for a failed download."""
        result = super().process_exception(request, exception)
        if result is None:
            return None
        return await self._pause(result)

    @staticmethod
    async def _pause(result: Any) -> Any:
        times = result.meta.get("retry_times") if isinstance(result, Request) else None
        if times:
            await asyncio.sleep(min(BACKOFF_BASE * 2 ** (times - 1), BACKOFF_CAP))
        return result
