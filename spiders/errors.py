"""The exceptions raised by ``spiders/``.

Every error the spiders raise on purpose derives from one base, so a caller can catch them all::

    SpiderError
     └── ExtractionError   (spiders.extract: the HTML cannot be parsed at all; .url, .reason)

Each error carries its data as attributes and a message that says what to do about it.
"""

from __future__ import annotations


class SpiderError(Exception):
    """Base class of every error raised on purpose by ``spiders/``."""
