"""Checks on URLs typed by a user (``veille add``), with the same rules as the config file."""

from __future__ import annotations

from monitor.config import _Invalid, _url


def check_url(text: str) -> str | None:
    """What is wrong with ``text`` as a page URL, or None when it is fine."""
    try:
        _url(text)
    except _Invalid as err:
        return f"{err.message} — {err.hint}" if err.hint else err.message
    return None
