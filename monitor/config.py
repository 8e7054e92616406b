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
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import HTMLTranslator, SelectorError

from monitor.errors import ConfigError

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


@dataclass(frozen=True)
class Config:
    """Everything ``veille.toml`` says, validated."""

    path: Path  # absolute path of the config file
    database: Path  # absolute path of the SQLite file
    http: HttpSettings
    topics: tuple[Topic, ...]
    pages: tuple[PageConfig, ...]
    allow_networks: tuple[str, ...] = ()  # normalised CIDRs, e.g. "10.0.0.0/8"

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
    return config


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
    "autothrottle": _Field(_boolean),
    "download_delay": _Field(_duration()),
}

_TOPIC_FIELDS: dict[str, _Field] = {
    "name": _Field(_name, required=True, hint="give every [[topics]] entry a name"),
    "query": _Field(_string),
    "languages": _Field(_list_of(_language)),
    "interval": _Field(_duration(MIN_INTERVAL)),
}

_PAGE_FIELDS: dict[str, _Field] = {
    "url": _Field(_url, required=True, hint="give every [[pages]] entry a url"),
    "topic": _Field(_name),
    "selector": _Field(_selector),
    "ignore": _Field(_list_of(_regex)),
    "interval": _Field(_duration(MIN_INTERVAL)),
}

_TOP_FIELDS: dict[str, _Field] = {
    "database": _Field(_string),
    "allow_networks": _Field(_list_of(_network)),
    "http": _Field(_table(HttpSettings, _HTTP_FIELDS, "[http]")),
    "topics": _Field(_array(Topic, _TOPIC_FIELDS, "[[topics]]")),
    "pages": _Field(_array(PageConfig, _PAGE_FIELDS, "[[pages]]")),
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
