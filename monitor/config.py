"""Load ``veille.toml`` into validated, frozen settings.

The file is read once with :mod:`tomllib` and checked against a schema: each table maps its keys
to a :class:`_Field` whose converter turns a TOML value into a typed one or raises
:class:`_Invalid`. Tables and arrays of tables are converters too, so adding a section
(``[[sources]]``, ``[[alerts]]``, ``[browser]``) means one dataclass, one field table and one
line in ``_TOP_FIELDS``. Whatever is wrong becomes a :class:`~monitor.errors.ConfigError` that
names the file, the key path (``pages[2].url``, entries counted from 0) and the fix.

Defaults live here, once, as ``DEFAULT_*`` constants.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import HTMLTranslator, SelectorError

from alerts.routes import (
    KINDS,
    LANGUAGES,
    MODES,
    AlertSettings,
    RateLimit,
    Route,
    check_schedule,
    check_timezone,
    normalise_domain,
    parse_rate_limit,
)
from monitor.errors import ConfigError
from spiders.browser import (
    DEFAULT_RENDER,
    INSTALL_HINT,
    RENDERS,
    RESOURCE_TYPES,
    BrowserSettings,
)
from spiders.comments.items import DEFAULT_MAX_REQUESTS, CommentSelectors, CommentSettings
from spiders.discovery.items import LINKS, MAX_DEPTH, SEARCH, SOURCE_TYPES, Source

logger = logging.getLogger(__name__)

DEFAULT_CONFIG_NAME = "veille.toml"
CONFIG_ENV_VAR = "VEILLE_CONFIG"
DEFAULT_DATABASE = "veille.db"
DEFAULT_USER_AGENT = "veille/0.1 (+https://github.com/veille-news/veille)"
DEFAULT_CONCURRENT_REQUESTS = 32
DEFAULT_CONCURRENCY_PER_DOMAIN = 4
DEFAULT_TIMEOUT = 30.0  # seconds
DEFAULT_MAX_RESPONSE_SIZE = 10 * 1024 * 1024  # bytes
DEFAULT_OBEY_ROBOTS_TXT = True
DEFAULT_MAX_REDIRECTS = 10
DEFAULT_RETRIES = 2
DEFAULT_AUTOTHROTTLE = True
DEFAULT_DOWNLOAD_DELAY = 0.0  # seconds
# Checking one page more often than this is unkind to the site and rarely shows anything new.
MIN_INTERVAL = 10.0  # seconds
DEFAULT_TICK = 5.0  # seconds between two looks at the due pages (veille run)
DEFAULT_BATCH = 200  # most pages handed to the crawler at once, so a backlog is spread out
DEFAULT_RETENTION = 90 * 86400.0  # seconds a check row is kept (versions and changes: forever)
DEFAULT_COMMENTS = "auto"  # reader comments: find them in the page
DEFAULT_COMMENT_BUDGET = DEFAULT_MAX_REQUESTS  # requests one comment thread may cost per check


@dataclass(frozen=True)
class HttpSettings:
    """How veille fetches: the ``[http]`` table."""

    user_agent: str = DEFAULT_USER_AGENT
    concurrent_requests: int = DEFAULT_CONCURRENT_REQUESTS
    concurrency_per_domain: int = DEFAULT_CONCURRENCY_PER_DOMAIN
    timeout: float = DEFAULT_TIMEOUT
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE
    obey_robots_txt: bool = DEFAULT_OBEY_ROBOTS_TXT
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    retries: int = DEFAULT_RETRIES
    autothrottle: bool = DEFAULT_AUTOTHROTTLE
    download_delay: float = DEFAULT_DOWNLOAD_DELAY
    # Processes for a large `veille check` (monitor.parallel); 0 (the default): one per core.
    # Measured on 2 cores: a second one gained 50-65 % in pages/s for about 35 MB more (PSS).
    processes: int = 0


@dataclass(frozen=True)
class DaemonSettings:
    """How ``veille run`` paces itself: the ``[daemon]`` table."""

    tick: float = DEFAULT_TICK
    batch: int = DEFAULT_BATCH
    retention: float = DEFAULT_RETENTION


@dataclass(frozen=True)
class Topic:
    """A subject to follow: one ``[[topics]]`` entry."""

    name: str
    query: str | None = None
    languages: tuple[str, ...] = ()
    interval: float | None = None  # seconds; None: the scheduler's default


@dataclass(frozen=True)
class PageConfig:
    """A page to watch: one ``[[pages]]`` entry."""

    url: str
    topic: str | None = None
    selector: str | None = None  # CSS selector of the article region
    ignore: tuple[str, ...] = ()  # regexes of lines whose changes do not count
    interval: float | None = None  # seconds; None: the topic's, else the scheduler's default
    comments: tuple[str, ...] = (DEFAULT_COMMENTS,)  # "auto", "none", or kinds and sources
    comment_selectors: CommentSelectors | None = None  # where a site's comments are (CSS)
    comment_budget: int = DEFAULT_COMMENT_BUDGET
    render: str = DEFAULT_RENDER  # "http", "auto" or "browser" (spiders.browser)


@dataclass(frozen=True)
class Config:
    """Everything ``veille.toml`` says, validated."""

    path: Path  # absolute path of the config file
    database: Path  # absolute path of the SQLite file
    http: HttpSettings
    topics: tuple[Topic, ...]
    pages: tuple[PageConfig, ...]
    allow_networks: tuple[str, ...] = ()  # normalised CIDRs, e.g. "10.0.0.0/8"
    daemon: DaemonSettings = DaemonSettings()
    alerts: tuple[Route, ...] = ()  # [[alerts]] routes (alerts.routes)
    alerts_settings: AlertSettings = AlertSettings()
    sources: tuple[Source, ...] = ()  # [[sources]] of discovery (spiders.discovery.items)
    browser: BrowserSettings = BrowserSettings()  # [browser] (spiders.browser)
    comments: CommentSettings = CommentSettings()  # [comments] (spiders.comments.items)

    def topic(self, name: str) -> Topic | None:
        """The topic called ``name``, or None."""
        return next((topic for topic in self.topics if topic.name == name), None)

    def interval_for(self, page: PageConfig) -> float | None:
        """The page's interval, else its topic's, else None (the scheduler decides)."""
        if page.interval is not None:
            return page.interval
        topic = self.topic(page.topic) if page.topic else None
        return topic.interval if topic else None


# --- public helpers ---------------------------------------------------------------------------


def config_path(cli_value: str | None) -> Path:
    """The config file to use: ``--config``, else ``$VEILLE_CONFIG``, else ``./veille.toml``."""
    if cli_value:
        return Path(cli_value).expanduser()
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    return Path(DEFAULT_CONFIG_NAME)


def load_config(path: Path) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` for anything wrong with it."""
    shown = str(path)
    data = _read_toml(path, shown)
    try:
        config = _build(path, _read_table(data, _TOP_FIELDS))
    except _Invalid as err:
        raise ConfigError(
            err.message, path=shown, key=_key_path(err.where) or None, hint=err.hint
        ) from None
    logger.debug("loaded %s: %d topics, %d pages", shown, len(config.topics), len(config.pages))
    _warn_if_readable(config)
    return config


def check_browser_executable(config: Config) -> None:
    """Raise :class:`ConfigError` when ``[browser] executable_path`` names no file.

    Checked by the commands that crawl (``check``, ``run``, a reload), not by ``load_config``:
    ``veille status`` or ``history`` need no browser. A file that exists but cannot start is a
    fetch state of each page that needed it (``browser_error``), since it may start next time.
    """
    path = config.browser.executable_path
    if path and not os.path.exists(path):
        raise ConfigError(
            f"no file at {path}", path=str(config.path), key="browser.executable_path",
            hint=f"{INSTALL_HINT} to a Chromium that exists",
        )


def _warn_if_readable(config: Config) -> None:
    """Alert URLs and API keys are secrets: warn when other users may read the file."""
    secrets = any(route.urls for route in config.alerts) or config.comments.disqus_api_key
    files = [config.path] if secrets else []
    files += [Path(route.config) for route in config.alerts if route.config]
    for file in files:
        try:
            mode = file.stat().st_mode
        except OSError:
            continue
        if mode & 0o077:
            logger.warning(
                "%s holds secrets (alert URLs, API keys) and other users can read it: "
                "run `chmod 600 %s`", file, file,
            )


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_ALIASES = {
    "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "day": "d", "days": "d", "week": "w", "weeks": "w",
}  # fmt: skip
_DURATION = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*[a-zA-Z]+)+\s*")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]+)")


def parse_duration(text: str) -> float:
    """Seconds in ``text``: ``"10s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"``, ``"1h30m"``.

    Units may also be spelt out (``"15 minutes"``); ``ms`` is milliseconds. Raises ValueError.
    """
    if not _DURATION.fullmatch(text):
        if re.fullmatch(r"\s*\d+(?:\.\d+)?\s*", text):
            raise ValueError(f"duration {text!r} has no unit: write '{text.strip()}s' for seconds")
        raise ValueError(f"invalid duration {text!r}: write it like '90s', '15m', '2h' or '1h30m'")
    total, previous = 0.0, math.inf
    for number, raw_unit in _DURATION_PART.findall(text):
        unit = _DURATION_ALIASES.get(raw_unit.lower(), raw_unit.lower())
        if unit not in _DURATION_UNITS:
            raise ValueError(
                f"unknown unit {raw_unit!r} in duration {text!r}: use ms, s, m, h, d or w"
            )
        # Largest unit first, each once: "30m1h" or "1m1m" is more likely a typo than intended.
        if _DURATION_UNITS[unit] >= previous:
            raise ValueError(f"invalid duration {text!r}: give each unit once, largest first")
        previous = _DURATION_UNITS[unit]
        total += float(number) * _DURATION_UNITS[unit]
    return total


# Decimal units are powers of 1000 and binary units powers of 1024, as the IEC defines them.
_SIZE_UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_size(text: str | int) -> int:
    """Bytes in ``text``: ``"10MB"`` (10**6), ``"512KiB"`` (2**19), ``"1GiB"``, or an int.

    Raises ValueError.
    """
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError(f"invalid size {text!r}: write it like '10MiB' or a number of bytes")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"invalid size {text}: a size cannot be negative")
        return text
    match = _SIZE.fullmatch(text)
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(
            f"invalid size {text!r}: write it like '512KB', '10MB' (powers of 1000) "
            "or '10MiB' (powers of 1024)"
        )
    return round(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


# --- reading the file -------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    """The parsed TOML document, or a ConfigError saying why there is none."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "no such file",
            path=shown,
            hint="create one with `veille init`, or name yours with --config or $VEILLE_CONFIG",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            "is a folder, not a file", path=shown, hint="name the veille.toml file itself"
        ) from None
    except PermissionError:
        raise ConfigError(
            "permission denied", path=shown, hint="make it readable by the user running veille"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=shown) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (bad byte at offset {exc.start})",
            path=shown,
            hint="save the file as UTF-8",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, shown) from None


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, shown: str) -> ConfigError:
    """A ConfigError for a TOML syntax error, with its line, column and the line itself."""
    reason = str(exc)
    match = _TOML_POSITION.search(reason)
    line = column = None
    if match:
        reason = reason[: match.start()]
        line, column = int(match.group(1)), int(match.group(2))
    if "Unescaped '\\'" in reason:
        hint = 'in "double quotes" a backslash starts an escape; put regexes and Windows paths '
        hint += "in 'single quotes'"
    elif reason.startswith(("Cannot declare", "Cannot overwrite")):
        hint = "a key or table is defined twice; keep one (use [[double brackets]] for a list)"
    else:
        hint = "check the quotes, brackets, commas and '=' on that line"
    if line is None:
        return ConfigError(f"invalid TOML: {reason}", path=shown, hint=hint)
    lines = text.splitlines()
    source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    # The line may hold an alert URL with a password: never echo what follows a scheme.
    source = re.sub(r"://[^\s\"']*", "://****", source)
    message = f"invalid TOML at line {line}, column {column}: {reason}"
    if source:
        message += f" in `{source[:60]}`"
    return ConfigError(message, path=shown, hint=hint, line=line, column=column)


# --- the schema machinery ---------------------------------------------------------------------


class _Invalid(Exception):
    """A value failed validation; ``where`` gathers its key path as the error rises."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where: list[str | int] = []

    def at(self, *where: str | int) -> _Invalid:
        """This error, placed at ``where`` (keys and list indexes)."""
        self.where[:0] = where
        return self


Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class _Field:
    """One key of a table: how to convert its value, and whether it must be there."""

    convert: Convert
    required: bool = False
    hint: str | None = None  # what to write when a required key is missing


def _key_path(where: list[str | int]) -> str:
    """``["pages", 2, "url"]`` -> ``"pages[2].url"``."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def _read_table(data: Mapping[str, Any], fields: Mapping[str, _Field]) -> dict[str, Any]:
    """Check ``data``'s keys against ``fields`` and convert their values."""
    for key in data:
        if key not in fields:
            raise _unknown_key(key, fields).at(key)
    for key, field in fields.items():
        if field.required and key not in data:
            raise _Invalid("missing required key", field.hint).at(key)
    values = {}
    for key, value in data.items():
        try:
            values[key] = fields[key].convert(value)
        except _Invalid as err:
            raise err.at(key) from None
    return values


def _unknown_key(key: str, fields: Mapping[str, _Field]) -> _Invalid:
    """An unknown-key error that suggests the closest known key."""
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    if close:
        return _Invalid(f"unknown key; did you mean `{close[0]}`?", "fix the spelling")
    known = ", ".join(f"`{name}`" for name in fields)
    return _Invalid("unknown key", f"remove it; the keys allowed here are {known}")


def _table(build: Callable[..., Any], fields: Mapping[str, _Field], header: str) -> Convert:
    """A converter for a table such as ``[http]``, built into a dataclass."""

    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _Invalid(
                f"expected a table ({header}), got {_describe(value)}",
                f"write it as a {header} section, with single brackets",
            )
        return build(**_read_table(value, fields))

    return convert


def _array(build: Callable[..., Any], fields: Mapping[str, _Field], header: str) -> Convert:
    """A converter for an array of tables such as ``[[pages]]``, each built into a dataclass."""

    def entry(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _Invalid(
                f"expected a table, got {_describe(value)}",
                f"write each entry as a {header} section with its keys below it",
            )
        return build(**_read_table(value, fields))

    def convert(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise _Invalid(
                f"expected an array of tables ({header} entries), got {_describe(value)}",
                f"start each entry with {header}, with double brackets",
            )
        items = []
        for index, item in enumerate(value):
            try:
                items.append(entry(item))
            except _Invalid as err:
                raise err.at(index) from None
        return tuple(items)

    return convert


def _list_of(item: Convert) -> Convert:
    """A converter for an array of values, each converted by ``item``."""

    def convert(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise _Invalid(f"expected an array, got {_describe(value)}", 'write it like ["a", "b"]')
        items = []
        for index, element in enumerate(value):
            try:
                items.append(item(element))
            except _Invalid as err:
                raise err.at(index) from None
        return tuple(items)

    return convert


_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: True is an int to Python, not to TOML
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
    (datetime, "a datetime"),  # before date, its base class
    (date, "a date"),
    (time, "a time"),
)


def _describe(value: Any) -> str:
    """``"an integer (30)"``: the TOML type of ``value``, and the value if short."""
    name = next((name for kind, name in _TOML_TYPES if isinstance(value, kind)), "a value")
    return name if isinstance(value, list | dict) else f"{name} ({_show(value)})"


def _show(value: Any) -> str:
    """``repr(value)``, cut short enough for a one-line message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- value converters -------------------------------------------------------------------------


def _string(value: Any) -> str:
    """A non-empty one-line string."""
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_describe(value)}", "put the value in quotes")
    if not value.strip():
        raise _Invalid("expected a non-empty string", "fill it in or remove the key")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise _Invalid(
            f"control characters (newline, tab...) are not allowed in {_show(value)}",
            "keep it on one line",
        )
    return value


def _name(value: Any) -> str:
    """A topic name: a one-line string without spaces around it."""
    text = _string(value)
    if text != text.strip():
        raise _Invalid(f"spaces around the name {_show(text)}", f"write {_show(text.strip())}")
    return text


def _boolean(value: Any) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise _Invalid(f"expected a boolean, got {_describe(value)}", "write true or false")
    return value


def _integer(minimum: int) -> Convert:
    """A converter for an integer of at least ``minimum``."""

    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(
                f"expected an integer, got {_describe(value)}", "write a whole number, no quotes"
            )
        if value < minimum:
            raise _Invalid(f"must be at least {minimum}, got {value}", "raise the value")
        return value

    return convert


def _duration(minimum: float = 0.0, *, positive: bool = False) -> Convert:
    """A converter for a duration string (``"15m"``) or a number of seconds."""

    def convert(value: Any) -> float:
        if isinstance(value, str):
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                raise _Invalid(str(exc), "units are ms, s, m, h, d and w") from None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
            if not math.isfinite(seconds) or seconds < 0:
                raise _Invalid(f"invalid duration {value}", 'write it like "30s" or "15m"')
        else:
            raise _Invalid(
                f'expected a duration such as "15m" or a number of seconds, got {_describe(value)}',
                'write it like "30s", "15m" or "1h30m"',
            )
        if seconds < minimum:
            raise _Invalid(
                f"must be at least {minimum:g}s, got {_show(value)}",
                f"use {minimum:g}s or more",
            )
        if positive and seconds <= 0:
            raise _Invalid(f"must be more than 0s, got {_show(value)}", "use a positive duration")
        return seconds

    return convert


def _size(value: Any) -> int:
    """A size string (``"10MiB"``) or a number of bytes, more than 0."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Invalid(
            f'expected a size such as "10MiB" or a number of bytes, got {_describe(value)}',
            'write it like "512KiB", "10MB" or "1GiB"',
        )
    try:
        size = parse_size(value)
    except ValueError as exc:
        raise _Invalid(str(exc), "units are B, KB, MB, GB, KiB, MiB and GiB") from None
    if size <= 0:
        raise _Invalid(f"must be more than 0 bytes, got {_show(value)}", "use a positive size")
    return size


def _url(value: Any) -> str:
    """An absolute http(s) URL with a host, without whitespace or backslashes."""
    text = _string(value)
    if any(char.isspace() for char in text):
        raise _Invalid(
            f"whitespace in the URL {_show(text)}", "remove it, or percent-encode a space as %20"
        )
    if "\\" in text:
        # Browsers read "\" as "/", other parsers do not: the URL is ambiguous.
        raise _Invalid(f"backslash in the URL {_show(text)}", "use forward slashes (/)")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unclosed "[" around an IPv6 host
        raise _Invalid(f"invalid URL {_show(text)}: {exc}", "fix the host part") from None
    if not parts.scheme and not parts.netloc:
        raise _Invalid(
            f"expected an http(s) URL, got {_show(text)}", f"add the scheme: 'https://{text}'"
        )
    if parts.scheme.lower() not in ("http", "https"):
        raise _Invalid(
            f"expected an http(s) URL, got {_show(text)}", "fix the value or remove the entry"
        )
    if not parts.hostname:
        raise _Invalid(
            f"no host in the URL {_show(text)}", "write it in full, like 'https://example.com/news'"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise _Invalid(f"invalid port in the URL {_show(text)}", "use a port from 1 to 65535")
    return text


_CSS = HTMLTranslator()


def url_problem(text: str) -> str | None:
    """What is wrong with ``text`` as a page URL (same rules as the config file), or None."""
    try:
        _url(text)
    except _Invalid as err:
        return f"{err.message} — {err.hint}" if err.hint else err.message
    return None


def _selector(value: Any) -> str:
    """A CSS selector that cssselect can turn into XPath (as lxml and parsel do)."""
    text = _string(value)
    try:
        _CSS.css_to_xpath(text)
    except SelectorError as exc:
        raise _Invalid(
            f"invalid CSS selector {_show(text)}: {exc}",
            "use a plain CSS selector such as 'article' or 'div.story-body'",
        ) from None
    return text


def _regex(value: Any) -> str:
    """A Python regular expression that compiles."""
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_describe(value)}", "put the regex in quotes")
    try:
        re.compile(value)
    except re.error as exc:
        raise _Invalid(
            f"invalid regular expression {_show(value)}: {exc}",
            "escape special characters such as ( [ . * + ? with a backslash",
        ) from None
    return value


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def _language(value: Any) -> str:
    """A language tag such as ``en``, ``fr`` or ``pt-BR``."""
    text = _string(value)
    if not _LANGUAGE.fullmatch(text):
        raise _Invalid(
            f"invalid language code {_show(text)}", "use a code such as 'en', 'fr' or 'pt-BR'"
        )
    return text


def _network(value: Any) -> str:
    """A CIDR network such as ``10.0.0.0/8``, returned normalised."""
    text = _string(value)
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise _Invalid(
                f"invalid network {_show(text)}: {exc}",
                "write a CIDR such as '10.0.0.0/8' or '192.168.1.5/32'",
            ) from None
        raise _Invalid(
            f"the network {_show(text)} has host bits set", f"did you mean '{loose}'?"
        ) from None


_COMMENT_KINDS = ("inline", "discourse", "wordpress", "disqus")
_ATTRIBUTE = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")


def _comments(value: Any) -> tuple[str, ...]:
    """``"auto"``, ``"none"``, or a list of kinds and sources (``"discourse:<topic URL>"``)."""
    hint = (
        'write "auto", "none", or a list such as ["inline", '
        '"discourse:https://forum.example.org/t/topic/123", "wordpress:123"]'
    )
    if isinstance(value, str):
        if value not in ("auto", "none"):
            raise _Invalid(f"unknown comments setting {_show(value)}", hint)
        return (value,)
    entries = _list_of(_string)(value)
    if not entries:
        raise _Invalid("empty list of comment sources", 'write "none" to read no comments')
    for index, entry in enumerate(entries):
        kind, _, where = entry.partition(":")
        try:
            if kind not in _COMMENT_KINDS:
                close = difflib.get_close_matches(kind, _COMMENT_KINDS, n=1)
                raise _Invalid(
                    f"unknown comment source {_show(entry)}",
                    f"did you mean {_show(close[0])}?" if close else hint,
                )
            if not where:
                continue
            if kind == "discourse":
                if "/t/" not in _url(where):
                    raise _Invalid(
                        f"not a Discourse topic URL: {_show(where)}",
                        "give the topic's address, like 'https://forum.example.org/t/slug/123'",
                    )
            elif kind == "wordpress":
                if not where.isdigit():
                    _url(where)
            else:
                raise _Invalid(
                    f"{kind} takes no address: {_show(entry)}", f'write "{kind}" alone'
                )
        except _Invalid as err:
            raise err.at(index) from None
    return entries


def _attribute(value: Any) -> str:
    """An HTML attribute name such as ``id`` or ``data-comment-id``."""
    text = _string(value)
    if not _ATTRIBUTE.fullmatch(text):
        raise _Invalid(
            f"invalid attribute name {_show(text)}",
            "give the attribute's name only, like 'id' or 'data-parent-id'",
        )
    return text


# --- the schema -------------------------------------------------------------------------------

_HTTP_FIELDS: dict[str, _Field] = {
    "user_agent": _Field(_string),
    "concurrent_requests": _Field(_integer(minimum=1)),
    "concurrency_per_domain": _Field(_integer(minimum=1)),
    "timeout": _Field(_duration(positive=True)),
    "max_response_size": _Field(_size),
    "obey_robots_txt": _Field(_boolean),
    "max_redirects": _Field(_integer(minimum=0)),
    "retries": _Field(_integer(minimum=0)),
    "processes": _Field(_integer(minimum=0)),
    "autothrottle": _Field(_boolean),
    "download_delay": _Field(_duration()),
}

_DAEMON_FIELDS: dict[str, _Field] = {
    "tick": _Field(_duration(0.1)),
    "batch": _Field(_integer(minimum=1)),
    "retention": _Field(_duration(86400.0)),
}

def _query(value: Any) -> str:
    """A topic query that parses (see monitor.topics)."""
    from monitor.topics import QueryError, parse_query

    text = _string(value)
    try:
        parse_query(text)
    except QueryError as exc:
        raise _Invalid(
            f"invalid query: {exc.one_line()}",
            'combine terms with AND, OR, NOT, (parentheses) and "quoted phrases"',
        ) from None
    return text


_TOPIC_FIELDS: dict[str, _Field] = {
    "name": _Field(_name, required=True, hint="give every [[topics]] entry a name"),
    "query": _Field(_query),
    "languages": _Field(_list_of(_language)),
    "interval": _Field(_duration(MIN_INTERVAL)),
}

_COMMENT_SELECTOR_FIELDS: dict[str, _Field] = {
    "item": _Field(_selector, required=True, hint="give the CSS selector of one comment"),
    "container": _Field(_selector),
    "id": _Field(_attribute),
    "author": _Field(_selector),
    "date": _Field(_selector),
    "text": _Field(_selector),
    "parent": _Field(_attribute),
    "permalink": _Field(_selector),
}

_PAGE_FIELDS: dict[str, _Field] = {
    "url": _Field(_url, required=True, hint="give every [[pages]] entry a url"),
    "topic": _Field(_name),
    "selector": _Field(_selector),
    "ignore": _Field(_list_of(_regex)),
    "interval": _Field(_duration(MIN_INTERVAL)),
    "comments": _Field(_comments),
    "comment_selectors": _Field(
        _table(CommentSelectors, _COMMENT_SELECTOR_FIELDS, "[pages.comment_selectors]")
    ),
    "comment_budget": _Field(_integer(minimum=1)),
    "render": _Field(lambda value: _choice(RENDERS)(value)),  # _choice is defined below
}

# --- alert routes (alerts.routes holds the dataclasses and the checks they share) ---


def _apprise_urls(value: Any) -> tuple[str, ...]:
    """A list of Apprise URLs that Apprise can load; errors never show a URL's secrets."""
    from alerts.secrets import mask_url
    from alerts.services import check_url

    if not isinstance(value, list):
        # Name the type only: a string here is probably a URL, with its password.
        kind = next((name for kind, name in _TOML_TYPES if isinstance(value, kind)), "a value")
        raise _Invalid(
            f"expected an array of Apprise URLs, got {kind}", 'write it like ["mailto://…"]'
        )
    urls = []
    for index, url in enumerate(value):
        if not isinstance(url, str) or not url.strip():
            raise _Invalid(
                "expected an Apprise URL (a non-empty string)", "put the URL in quotes"
            ).at(index)
        if any(char.isspace() for char in url):
            raise _Invalid(
                "whitespace in an Apprise URL", "remove it, or percent-encode a space as %20"
            ).at(index)
        problem = check_url(url)
        if problem:
            raise _Invalid(
                f"invalid Apprise URL {mask_url(url)}: {problem}",
                "check the URL format of the service in Apprise's documentation",
            ).at(index)
        urls.append(url)
    return tuple(urls)


def _kind(value: Any) -> str:
    """A change kind (alerts.routes.KINDS)."""
    text = _string(value)
    if text not in KINDS:
        close = difflib.get_close_matches(text, KINDS, n=1, cutoff=0.6)
        hint = f"did you mean {_show(close[0])}? " if close else ""
        raise _Invalid(f"unknown change kind {_show(text)}", hint + "kinds are " + ", ".join(KINDS))
    return text


def _domain(value: Any) -> str:
    """A domain such as ``example.org`` (its subdomains match too)."""
    try:
        return normalise_domain(_string(value))
    except ValueError as exc:
        raise _Invalid(str(exc), "write only the host, like 'example.org'") from None


def _choice(options: tuple[str, ...]) -> Convert:
    """A converter for one of ``options``."""

    def convert(value: Any) -> str:
        text = _string(value)
        if text not in options:
            raise _Invalid(
                f"unknown value {_show(text)}", "use " + " or ".join(repr(o) for o in options)
            )
        return text

    return convert


def _rate_limit(value: Any) -> RateLimit:
    """``"20/h"``: at most 20 messages an hour."""
    try:
        return parse_rate_limit(_string(value))
    except ValueError as exc:
        raise _Invalid(str(exc), "what goes over the limit is sent in the next digest") from None


def _timezone(value: Any) -> str:
    """An IANA time zone such as ``Europe/Paris``."""
    text = _string(value)
    try:
        check_timezone(text)
    except ValueError as exc:
        raise _Invalid(str(exc), "see the 'TZ identifier' list of the tz database") from None
    return text


_ALERT_FIELDS: dict[str, _Field] = {
    "name": _Field(_name, required=True, hint="give every [[alerts]] entry a name"),
    "urls": _Field(_apprise_urls),
    "config": _Field(_string),
    "tags": _Field(_list_of(_name)),
    "kinds": _Field(_list_of(_kind)),
    "topics": _Field(_list_of(_name)),
    "domains": _Field(_list_of(_domain)),
    "min_words": _Field(_integer(minimum=0)),
    "stealth_only": _Field(_boolean),
    "mode": _Field(_choice(MODES)),
    "schedule": _Field(_string),
    "timezone": _Field(_timezone),
    "language": _Field(_choice(LANGUAGES)),
    "rate_limit": _Field(_rate_limit),
}

_ALERTS_SETTINGS_FIELDS: dict[str, _Field] = {
    "datasette_url": _Field(_url),
    "max_attempts": _Field(_integer(minimum=1)),
    "retry_delay": _Field(_duration()),
    "max_retry_delay": _Field(_duration(positive=True)),
}


def _check_alerts(
    routes: tuple[Route, ...], topics: tuple[Topic, ...], folder: Path
) -> tuple[Route, ...]:
    """Checks that span keys of a route; Apprise config paths made absolute."""
    from alerts.services import check_config_file

    _check_unique([route.name for route in routes], "alerts", "name", "alert route name")
    names = [topic.name for topic in topics]
    checked = []
    for index, route in enumerate(routes):
        where: tuple[str | int, ...] = ("alerts", index)
        if not route.urls and not route.config:
            raise _Invalid(
                "no destination", 'add urls = ["mailto://…"], or config = "apprise.yml" with tags'
            ).at(*where, "urls")
        if route.urls and route.config:
            raise _Invalid("give urls or config, not both", "keep one of the two").at(
                *where, "config"
            )
        if route.tags and not route.config:
            raise _Invalid(
                "tags pick services of an Apprise config file", "add config = …, or remove tags"
            ).at(*where, "tags")
        if route.digest and not route.schedule:
            raise _Invalid(
                "a digest route needs a schedule",
                'add schedule = "0 8 * * *" (08:00 every day) or "0 * * * *" (every hour)',
            ).at(*where, "mode")
        if route.schedule and not route.digest:
            raise _Invalid(
                'schedule only applies to mode = "digest"', 'add mode = "digest" or remove schedule'
            ).at(*where, "schedule")
        if route.schedule:
            try:
                check_schedule(route.schedule, route.timezone)
            except ValueError as exc:
                raise _Invalid(str(exc), "minute hour day month weekday, as in crontab").at(
                    *where, "schedule"
                ) from None
        for position, topic in enumerate(route.topics):
            if names and topic not in names:
                close = difflib.get_close_matches(topic, names, n=1, cutoff=0.6)
                hint = f"did you mean {_show(close[0])}? " if close else ""
                raise _Invalid(
                    f"unknown topic {_show(topic)}", hint + "declare it in [[topics]]"
                ).at(*where, "topics", position)
        if route.config:
            path = Path(route.config).expanduser()
            path = path if path.is_absolute() else folder / path
            problem = check_config_file(path, route.tags)
            if problem:
                raise _Invalid(problem, "fix the Apprise config file or its path").at(
                    *where, "config"
                )
            route = replace(route, config=str(path))
        checked.append(route)
    return tuple(checked)


# --- discovery sources (spiders.discovery.items holds the dataclass and its limits) ---


def _source_url(value: Any) -> str:
    """A feed, sitemap or page URL; a search template may hold {query} and {page}."""
    text = _string(value)
    _url(text.replace("{query}", "q").replace("{page}", "1"))
    return text


_SOURCE_FIELDS: dict[str, _Field] = {
    "name": _Field(_name, required=True, hint="give every [[sources]] entry a name"),
    "type": _Field(
        _choice(SOURCE_TYPES), required=True,
        hint='add type = "feed", "sitemap", "search" or "links"',
    ),
    "topic": _Field(_name, required=True, hint="name the [[topics]] entry its articles join"),
    "url": _Field(_source_url),
    "query": _Field(_string),
    "selector": _Field(_selector),
    "next_selector": _Field(_selector),
    "max_pages": _Field(_integer(minimum=1)),
    "depth": _Field(_integer(minimum=1)),
    "domains": _Field(_list_of(_domain)),
    "max_entries": _Field(_integer(minimum=1)),
    "max_fetches": _Field(_integer(minimum=0)),
    "interval": _Field(_duration(MIN_INTERVAL)),
    "translations": _Field(_boolean),
}


def _check_sources(sources: tuple[Source, ...], topics: tuple[Topic, ...]) -> tuple[Source, ...]:
    """Checks that span keys of a source, or sources and topics."""
    _check_unique([source.name for source in sources], "sources", "name", "source name")
    by_name = {topic.name: topic for topic in topics}
    for index, source in enumerate(sources):
        where: tuple[str | int, ...] = ("sources", index)
        if source.topic not in by_name:
            close = difflib.get_close_matches(source.topic, list(by_name), n=1, cutoff=0.6)
            hint = f"did you mean {_show(close[0])}? " if close else ""
            raise _Invalid(
                f"unknown topic {_show(source.topic)}", hint + "declare it in [[topics]]"
            ).at(*where, "topic")
        if source.url is None and source.type != LINKS:
            raise _Invalid(
                f"a {source.type} source needs a url",
                "give the address of the feed, sitemap or page",
            ).at(*where, "url")
        if source.type == SEARCH and source.url and "{query}" in source.url and not (
            source.query or by_name[source.topic].query
        ):
            raise _Invalid(
                "the URL template has {query} but neither the source nor its topic has a query",
                'add query = "words to search" to the source',
            ).at(*where, "query")
        if source.depth > MAX_DEPTH:
            raise _Invalid(
                f"depth {source.depth} is more than {MAX_DEPTH}",
                "links further away are rarely on topic",
            ).at(*where, "depth")
    return sources


# --- the browser (spiders.browser holds the dataclass and its defaults) ---

_BROWSER_FIELDS: dict[str, _Field] = {
    "executable_path": _Field(_string),
    "wait_for": _Field(_selector),
    "timeout": _Field(_duration(positive=True)),
    "max_pages": _Field(_integer(minimum=1)),
    "block_resources": _Field(_list_of(_choice(RESOURCE_TYPES))),
    "block_hosts": _Field(_list_of(_domain)),
}


# --- reader comments, every page (spiders.comments.items holds the dataclass) ---


def _secret(value: Any) -> str:
    """A key or token: a one-line string, never repeated in an error message."""
    if not isinstance(value, str) or not value.strip() or any(
        ord(char) < 32 or ord(char) == 127 for char in value
    ):
        raise _Invalid(
            "expected the key as a one-line string in quotes", "copy it again from its source"
        )
    return value.strip()


_COMMENTS_FIELDS: dict[str, _Field] = {
    "disqus_api_key": _Field(_secret),  # a secret: masked in logs, never stored
    "disqus_api_url": _Field(_url),
}


_TOP_FIELDS: dict[str, _Field] = {
    "database": _Field(_string),
    "allow_networks": _Field(_list_of(_network)),
    "http": _Field(_table(HttpSettings, _HTTP_FIELDS, "[http]")),
    "daemon": _Field(_table(DaemonSettings, _DAEMON_FIELDS, "[daemon]")),
    "topics": _Field(_array(Topic, _TOPIC_FIELDS, "[[topics]]")),
    "pages": _Field(_array(PageConfig, _PAGE_FIELDS, "[[pages]]")),
    "alerts": _Field(_array(Route, _ALERT_FIELDS, "[[alerts]]")),
    "alerts_settings": _Field(
        _table(AlertSettings, _ALERTS_SETTINGS_FIELDS, "[alerts_settings]")
    ),
    "sources": _Field(_array(Source, _SOURCE_FIELDS, "[[sources]]")),
    "browser": _Field(_table(BrowserSettings, _BROWSER_FIELDS, "[browser]")),
    "comments": _Field(_table(CommentSettings, _COMMENTS_FIELDS, "[comments]")),
}


def _build(path: Path, values: dict[str, Any]) -> Config:
    """The Config from converted top-level values, after the checks that span entries."""
    config_file = Path(os.path.abspath(path))
    database = Path(values.get("database", DEFAULT_DATABASE)).expanduser()
    topics: tuple[Topic, ...] = values.get("topics", ())
    pages: tuple[PageConfig, ...] = values.get("pages", ())
    _check_unique([topic.name for topic in topics], "topics", "name", "topic name")
    _check_unique([page.url for page in pages], "pages", "url", "page url")
    _check_page_topics(pages, topics)
    return Config(
        path=config_file,
        # A relative database sits beside the config file, wherever veille is started from.
        database=database if database.is_absolute() else config_file.parent / database,
        http=values.get("http", HttpSettings()),
        topics=topics,
        pages=pages,
        allow_networks=values.get("allow_networks", ()),
        daemon=values.get("daemon", DaemonSettings()),
        alerts=_check_alerts(values.get("alerts", ()), topics, config_file.parent),
        # Datasette names a database after its file: veille.db is /veille/.
        alerts_settings=replace(
            values.get("alerts_settings", AlertSettings()), database_name=database.stem
        ),
        sources=_check_sources(values.get("sources", ()), topics),
        browser=values.get("browser", BrowserSettings()),
        comments=values.get("comments", CommentSettings()),
    )


def _check_unique(values: list[str], section: str, key: str, what: str) -> None:
    """Raise if two entries of ``section`` share the same ``key``."""
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in first:
            raise _Invalid(
                f"duplicate {what} {_show(value)}, already used by {section}[{first[value]}]",
                "merge the two entries or remove one",
            ).at(section, index, key)
        first[value] = index


def _check_page_topics(pages: tuple[PageConfig, ...], topics: tuple[Topic, ...]) -> None:
    """Raise if a page names a topic that is not declared (when any topic is declared)."""
    if not topics:
        return  # without [[topics]], a page's topic is a free label
    names = [topic.name for topic in topics]
    for index, page in enumerate(pages):
        if page.topic is None or page.topic in names:
            continue
        close = difflib.get_close_matches(page.topic, names, n=1, cutoff=0.6)
        hint = f"did you mean {_show(close[0])}? " if close else ""
        hint += "declare it in a [[topics]] entry, or fix the name"
        raise _Invalid(f"unknown topic {_show(page.topic)}", hint).at("pages", index, "topic")
