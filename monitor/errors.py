"""The errors veille raises on purpose.

Our exception hierarchy::

* VeilleError
  + ConfigError - veille.toml is missing, unreadable or invalid; names file, key and fix.
  + FetchError - a page could not be fetched or understood; carries the URL.
  + StorageError - the database could not be opened, migrated or written; carries its path.
  + DeliveryError - an alert could not be sent; carries the route and the attempt number.

Library code raises these; the CLI turns them into ``click.ClickException`` (exit code 2 for a
``ConfigError``), so a user sees one line that says what is wrong and what to do, never a traceback.
"""

from __future__ import annotations


class VeilleError(Exception):
    """Base class of every error veille raises on purpose."""


class ConfigError(VeilleError):
    """``veille.toml`` is missing, unreadable or invalid.

    ``path`` is the config file as the user named it, ``key`` the dotted key path inside it
    (``pages[2].url``, entries counted from 0), ``hint`` what to do about it; ``line`` and
    ``column`` locate a TOML syntax error. ``str()`` joins them on one line::

        veille.toml: pages[2].url: expected an http(s) URL, got 'ftp://x' — fix the value or
        remove the entry
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        hint: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.key = key
        self.hint = hint
        self.line = line
        self.column = column

    def __str__(self) -> str:
        text = ": ".join(part for part in (self.path, self.key, self.message) if part)
        return f"{text} — {self.hint}" if self.hint else text


class FetchError(VeilleError):
    """A page could not be fetched or understood."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return f"{self.url}: {self.message}" if self.url else self.message


class StorageError(VeilleError):
    """The database could not be opened, migrated or written."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DeliveryError(VeilleError):
    """An alert could not be delivered.

    ``route`` names the alert route (never its Apprise URL, which may hold a secret);
    ``attempt`` counts from 1.
    """

    def __init__(
        self, message: str, *, route: str | None = None, attempt: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.route = route
        self.attempt = attempt

    def __str__(self) -> str:
        where = self.route or ""
        if self.attempt is not None:
            where = f"{where} (attempt {self.attempt})".strip()
        return f"{where}: {self.message}" if where else self.message
