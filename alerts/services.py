"""A route's Apprise services: loaded from its URLs or its Apprise config file, sent one by one.

Each service gets its own ``notify`` call (:func:`send`), so that veille can:

- write the body in the format the service shows: HTML for e-mail, Markdown for services that
  render it, plain text elsewhere (JSON webhooks); the service's own preference decides, and a
  ``?format=`` in its URL overrides it;
- remember which services of a route already got a message, so that a retry never sends twice
  to one that did;
- send the alert's stable id as a header (``X-Veille-Alert``, and ``Idempotency-Key`` for web
  hooks) wherever the service sends headers, so a receiver can spot the rare duplicate.

Apprise 2.x returns an ``AppriseResult``: test it with ``if not result``, never ``is False``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alerts.errors import RouteError
from alerts.secrets import (
    guard_logging,
    mask_url,
    quiet_apprise,
    redact,
    register_plugin,
    register_url,
)

if TYPE_CHECKING:
    from alerts.render import Message
    from alerts.routes import Route

logger = logging.getLogger(__name__)

APP_ID = "veille"
APP_DESC = "veille: news article changes"
APP_URL = "https://github.com/veille-news/veille"
ALERT_HEADER = "X-Veille-Alert"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Protocols that put headers in an e-mail, where Idempotency-Key means nothing.
_MAIL_PROTOCOLS = ("mailto", "mailtos")
_ERROR_WIDTH = 300  # characters of an error kept in the database


@dataclass
class Service:
    """One Apprise service of a route: its position in the route, and how to show it."""

    index: int
    plugin: Any  # apprise.plugins.NotifyBase
    shown: str  # the URL with its secrets masked


def make_asset() -> Any:
    """Apprise's settings for veille: its name in messages, and secure logging on."""
    import apprise

    return apprise.AppriseAsset(
        app_id=APP_ID, app_desc=APP_DESC, app_url=APP_URL, secure_logging=True
    )


def check_url(url: str) -> str | None:
    """What is wrong with ``url`` as an Apprise URL (secrets masked), or None when it loads."""
    import apprise

    register_url(url)  # before Apprise sees it, so whatever it logs is masked
    with quiet_apprise() as said:
        try:
            plugin = apprise.Apprise.instantiate(url, suppress_exceptions=False)
        except Exception as exc:
            return redact(str(exc)) or "Apprise cannot use this URL"
    if plugin is None:
        reason = said[-1] if said else "unknown service or malformed URL"
        return f"Apprise cannot use this URL ({reason})"
    return None


def check_config_file(path: Path, tags: tuple[str, ...]) -> str | None:
    """What is wrong with an Apprise config file for these tags, or None when it has services."""
    try:
        _config_services(path, tags, make_asset())
    except RouteError as exc:
        return exc.message
    return None


def _config_services(path: Path, tags: tuple[str, ...], asset: Any) -> list[Any]:
    """The services of the Apprise config file at ``path`` that carry one of ``tags``."""
    import apprise

    if not path.is_file():
        raise RouteError(f"no Apprise config file at {path}")
    with quiet_apprise() as said:
        config = apprise.AppriseConfig(paths=str(path), asset=asset)
        bundle = apprise.Apprise(asset=asset)
        bundle.add(config)
        plugins = list(bundle.find(tag=list(tags) if tags else apprise.common.MATCH_ALL_TAG))
    for plugin in plugins:
        register_plugin(plugin)
    if not plugins:
        why = f" ({said[-1]})" if said else ""
        which = f" tagged {', '.join(tags)}" if tags else ""
        raise RouteError(f"the Apprise config file {path} has no usable service{which}{why}")
    return plugins


def load_services(route: Route, asset: Any = None) -> list[Service]:
    """The route's services, ready to send; raises :class:`RouteError` when one cannot load."""
    import apprise

    guard_logging()
    asset = asset or make_asset()
    if route.config:
        plugins = _config_services(Path(route.config), route.tags, asset)
        return [
            Service(i, p, redact(p.url(privacy=True).split("?", 1)[0]))
            for i, p in enumerate(plugins)
        ]
    services = []
    for index, url in enumerate(route.urls):
        register_url(url)
        with quiet_apprise() as said:
            plugin = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:
            why = said[-1] if said else "malformed URL"
            raise RouteError(
                f"urls[{index}] ({mask_url(url)}) cannot be loaded: {why}", route=route.name
            )
        services.append(Service(index, plugin, mask_url(url)))
    return services


def send(service: Service, message: Message, key: str) -> str | None:
    """Send ``message`` through one service; None when it got through, else why not (masked)."""
    import apprise

    plugin = service.plugin
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        headers[ALERT_HEADER] = key
        protocols = plugin.secure_protocol, plugin.protocol
        if not any(p in _MAIL_PROTOCOLS for p in _flat(protocols)):
            headers[IDEMPOTENCY_HEADER] = key
    fmt = plugin.resolve_format()
    bundle = apprise.Apprise(asset=plugin.asset)
    bundle.add(plugin)
    result = bundle.notify(body=message.body(str(fmt.value)), title=message.title, body_format=fmt)
    if not result:  # an AppriseResult: `result is False` is never true
        said = []
        for entry in result.logs():
            text = redact(entry.message)
            if text not in said:
                said.append(text)
        reason = "; ".join(said) or f"Apprise reported {result.status.name.lower()}"
        return f"{service.shown}: {reason}"[:_ERROR_WIDTH]
    return None


def _flat(values: tuple[Any, ...]) -> list[str]:
    """Apprise protocols are a string, a tuple of strings or None: a flat list of strings."""
    out: list[str] = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, tuple | list):
            out.extend(str(v) for v in value)
    return out
