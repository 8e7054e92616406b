"""Keep the secrets of Apprise URLs out of logs, the database and error messages.

Apprise URLs carry passwords and tokens (``mailto://user:password@host``,
``json://host/hook?+X-Token=…``, ``tgram://bottoken/chat``). Apprise masks some of them itself
(``url(privacy=True)``) but not header or query values, and its ERROR line for a URL it cannot
parse prints the URL whole. So veille:

- never logs a configured URL, and shows one only through :func:`mask_url`;
- remembers the secret parts of every configured URL (:func:`register_url`) and replaces them
  with ``****`` (:func:`redact`) in every error text it stores or prints;
- puts a :class:`RedactSecrets` filter on the loggers that could print a URL (``apprise``,
  ``urllib3``) and keeps them at WARNING or above (:func:`guard_logging`): their DEBUG lines
  print URLs, request lines and headers.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

logger = logging.getLogger(__name__)

MASK = "****"
# Query keys of Apprise URLs whose values are settings, not secrets (shown by mask_url).
SAFE_QUERY_KEYS = frozenset({
    "format", "overflow", "method", "retry", "wait", "optional", "cto", "rto", "verify", "mode",
    "emojis", "tz", "from", "to", "name", "cc", "bcc", "smtp", "reply", "priority", "image",
})  # fmt: skip
# Loggers whose records may carry a URL: filtered, and kept at WARNING or above.
GUARDED_LOGGERS = (
    "apprise",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "urllib3.poolmanager",
    "requests",
)
# Shorter pieces are not worth hiding (and would blank out common words).
_MIN_SECRET = 4
_MIN_PASSWORD = 1
_SPLIT = re.compile(r"[/:@?&=#,;]+")

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()  # longest first, so a secret inside another goes second


def _add(values: Iterable[str], minimum: int = _MIN_SECRET) -> None:
    """Remember ``values`` (and their URL-encoded forms) as secrets."""
    global _ordered
    new = set()
    for value in values:
        if not value or len(value) < minimum:
            continue
        new.update({value, quote(value, safe=""), quote_plus(value), unquote(value)})
    new = {value for value in new if len(value) >= minimum}
    with _lock:
        if new <= _secrets:
            return
        _secrets.update(new)
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def _query(query: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of a query; a ``+`` stays a ``+`` (Apprise's header prefix)."""
    return parse_qsl(query.replace("+", "%2B"), keep_blank_values=True)


def _is_secret_key(key: str) -> bool:
    """True for a query key whose value may be a secret: headers and unknown keys."""
    return key[:1] in "+-:" or key.lower() not in SAFE_QUERY_KEYS


def _query_secrets(query: str, *, headers_only: bool = False) -> list[str]:
    """Values of the query keys that may hold a secret."""
    return [
        value
        for key, value in _query(query)
        if (key[:1] in "+-:" if headers_only else _is_secret_key(key))
    ]


def register_url(url: str) -> None:
    """Remember the secret parts of ``url``: password, tokens, header and query values.

    Without Apprise's help (an unparsable URL), every piece of the URL after the scheme counts.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        _add([url.split("://", 1)[-1]])
        return
    _add([password or ""], _MIN_PASSWORD)
    _add(_query_secrets(parts.query))
    plugin = _instantiate(url)
    if plugin is None:
        _add([url.split("://", 1)[-1]])
        _add(_SPLIT.split(url.split("://", 1)[-1]))
        return
    register_plugin(plugin)


def register_plugin(plugin: Any) -> None:
    """Remember what Apprise itself hides in ``plugin``'s URL, plus its header values."""
    try:
        full = unquote(plugin.url(privacy=False))
        private = unquote(plugin.url(privacy=True))
    except Exception:  # a plugin that cannot print itself: nothing to learn from it
        return
    address = full.split("://", 1)[-1].split("?", 1)[0]
    # Pieces of the URL that Apprise masks in its private form are secrets to it.
    _add(piece for piece in _SPLIT.split(address) if piece and piece not in private)
    # Apprise adds its own settings to the query; only header-like keys may be secrets there.
    _add(_query_secrets(full.split("?", 1)[1] if "?" in full else "", headers_only=True))
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        _add(str(value) for value in headers.values())
    password = getattr(plugin, "password", None)
    if isinstance(password, str):
        _add([password], _MIN_PASSWORD)


def _instantiate(url: str) -> Any:
    """The Apprise plugin for ``url``, or None; Apprise's own log lines about it are dropped."""
    import apprise

    with quiet_apprise():
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by ``****``."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_url(url: str) -> str:
    """``url`` fit to show: Apprise's private form, with query and header values masked.

    ``json://127.0.0.1:8026/hook?+X-Token=****``, ``mailto://user:****@smtp.example.org/…``; a URL
    that Apprise cannot parse shows only its scheme: ``foo://****``.
    """
    scheme = url.split("://", 1)[0] if "://" in url else ""
    plugin = _instantiate(url) if scheme else None
    if plugin is None:
        return f"{scheme}://{MASK}" if scheme else MASK
    try:
        private = plugin.url(privacy=True).split("?", 1)[0]
    except Exception:
        return f"{scheme}://{MASK}"
    try:
        query = urlsplit(url).query
    except ValueError:
        query = ""
    shown = []
    for key, value in _query(query):
        shown.append(f"{key}={MASK if _is_secret_key(key) and value else value}")
    return redact(private + ("?" + "&".join(shown) if shown else ""))


class RedactSecrets(logging.Filter):
    """Replace remembered secrets in a record's message and traceback with ``****``.

    Inside :class:`quiet_apprise` (on the same thread) it keeps the record's message aside
    instead and drops the record.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; drop it only while its thread is quiet."""
        captured = getattr(_local, "captured", None)
        if not _ordered and captured is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        clean = redact(message)
        if captured is not None and record.name.startswith("apprise"):
            if record.levelno >= logging.WARNING:
                captured.append(clean)
            return False
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactSecrets()
_local = threading.local()


def guard_logging() -> None:
    """Filter the loggers that may print a URL, and keep them at WARNING or above (idempotent).

    The filter also goes on the root logger's handlers present now, so a record that reaches
    them from any logger is cleaned too.
    """
    for name in GUARDED_LOGGERS:
        log = logging.getLogger(name)
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)
        if log.level == logging.NOTSET or log.level < logging.WARNING:
            log.setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


class quiet_apprise:  # noqa: N801 - a context manager, named like contextlib's helpers
    """Keep Apprise's log lines on this thread out of the log (they may print a URL whole).

    ``with quiet_apprise() as said: ...``: ``said`` then lists what Apprise warned about, with
    secrets masked.
    """

    def __enter__(self) -> list[str]:
        guard_logging()
        self._outer = getattr(_local, "captured", None)
        _local.captured = []
        return _local.captured  # type: ignore[no-any-return]

    def __exit__(self, *exc: object) -> None:
        _local.captured = self._outer
