"""The errors of the alerts package.

Exceptions::

    AlertError              base class
    └── RouteError          a route's Apprise services cannot be loaded (bad URL, missing
                            Apprise config file, no service with its tags); carries the route

Messages never hold an Apprise URL in clear: they show it through
:func:`alerts.secrets.mask_url`. The CLI turns these into one line and an exit code.
"""

from __future__ import annotations


class AlertError(Exception):
    """Base class of the alerts package's errors."""

    def __init__(self, message: str, *, route: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.route = route

    def __str__(self) -> str:
        return f"alert route {self.route!r}: {self.message}" if self.route else self.message


class RouteError(AlertError):
    """A route's Apprise services cannot be loaded."""
