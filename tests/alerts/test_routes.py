"""Alert routes in veille.toml: what loads, what is refused (and how), and secret masking."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from alerts.routes import RateLimit, parse_rate_limit
from alerts.secrets import mask_url, redact, register_url
from monitor.config import load_config
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

HOOK = "json://127.0.0.1:9/hook"


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "veille.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return load_config(path)


def error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


def test_rate_limits() -> None:
    assert parse_rate_limit("20/h") == RateLimit(20, 3600.0)
    assert parse_rate_limit("100/d") == RateLimit(100, 86400.0)
    assert parse_rate_limit("5 / 15m") == RateLimit(5, 900.0)
    assert parse_rate_limit("3/2hours") == RateLimit(3, 7200.0)
    assert str(parse_rate_limit("20/h")) == "20/h" and str(parse_rate_limit("5/15m")) == "5/15m"
    for bad in ("20", "x/h", "0/h", "5/0h", "5/3y"):
        with pytest.raises(ValueError, match="rate limit"):
            parse_rate_limit(bad)


def test_a_full_route_loads(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        f"""
database = "news.db"
[alerts_settings]
datasette_url = "https://data.example.org"
max_attempts = 5
retry_delay = "1m"
[[topics]]
name = "tech"
[[alerts]]
name = "morning"
urls = ["{HOOK}"]
kinds = ["title", "body", "comment_new"]
topics = ["tech"]
domains = ["WWW.Example.org"]
min_words = 3
stealth_only = true
mode = "digest"
schedule = "0 8 * * 1-5"
timezone = "Europe/Paris"
language = "fr"
rate_limit = "20/h"
""",
    )
    (route,) = config.alerts  # type: ignore[attr-defined]
    assert route.urls == (HOOK,) and route.domains == ("example.org",) and route.digest
    assert route.rate_limit == RateLimit(20, 3600.0) and route.language == "fr"
    assert HOOK not in repr(route)  # URLs hold secrets: never in a repr
    settings = config.alerts_settings  # type: ignore[attr-defined]
    assert settings.max_attempts == 5 and settings.retry_delay == 60.0
    assert settings.change_link(3) == "https://data.example.org/news/change_feed?change_id=3"


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        (f'urls = ["{HOOK}"]\nkinds = ["titel"]', "alerts[0].kinds[0]", "did you mean 'title'"),
        (f'urls = ["{HOOK}"]\nmode = "digest"', "alerts[0].mode", "needs a schedule"),
        (f'urls = ["{HOOK}"]\nschedule = "0 8 * * *"', "alerts[0].schedule", 'mode = "digest"'),
        (
            f'urls = ["{HOOK}"]\nmode = "digest"\nschedule = "0 25 * * *"',
            "alerts[0].schedule",
            "invalid schedule",
        ),
        (
            f'urls = ["{HOOK}"]\nmode = "digest"\nschedule = "daily"',
            "alerts[0].schedule",
            "5 cron fields",
        ),
        (f'urls = ["{HOOK}"]\ntimezone = "Paris"', "alerts[0].timezone", "unknown time zone"),
        (f'urls = ["{HOOK}"]\nlanguage = "de"', "alerts[0].language", "'en' or 'fr'"),
        (f'urls = ["{HOOK}"]\nrate_limit = "lots"', "alerts[0].rate_limit", "20/h"),
        (
            f'urls = ["{HOOK}"]\ndomains = ["https://example.org/"]',
            "alerts[0].domains[0]",
            "not a domain",
        ),
        (f'urls = ["{HOOK}"]\ntopics = ["tech"]', "alerts[0].topics[0]", "unknown topic"),
        (f'urls = ["{HOOK}"]\ntags = ["x"]', "alerts[0].tags", "Apprise config file"),
        ("kinds = []", "alerts[0].urls", "no destination"),
        (f'urls = ["{HOOK}"]\nconfig = "apprise.yml"', "alerts[0].config", "not both"),
        ('config = "missing.yml"', "alerts[0].config", "no Apprise config file at"),
        ('urls = ["nosuchservice://host"]', "alerts[0].urls[0]", "Apprise cannot use this URL"),
    ],
)
def test_what_is_refused_and_why(tmp_path: Path, body: str, key: str, words: str) -> None:
    topics = '[[topics]]\nname = "sport"\n' if "topics" in body else ""
    err = error(tmp_path, f'{topics}[[alerts]]\nname = "r"\n{body}\n')
    assert err.key == key, str(err)
    assert words in str(err)


def test_two_routes_with_one_name_are_refused(tmp_path: Path) -> None:
    err = error(tmp_path, f'[[alerts]]\nname = "r"\nurls = ["{HOOK}"]\n' * 2)
    assert err.key == "alerts[1].name" and "duplicate" in str(err)


def test_an_apprise_config_file_with_tags(tmp_path: Path) -> None:
    (tmp_path / "apprise.yml").write_text(
        "urls:\n"
        "  - json://127.0.0.1:9/a:\n      tag: news\n"
        "  - json://127.0.0.1:9/b:\n      tag: ops\n",
        encoding="utf-8",
    )
    config = load(tmp_path, '[[alerts]]\nname = "r"\nconfig = "apprise.yml"\ntags = ["news"]\n')
    (route,) = config.alerts  # type: ignore[attr-defined]
    assert route.config == str(tmp_path / "apprise.yml")
    from alerts.services import load_services

    (service,) = load_services(route)
    assert service.shown.startswith("json://127.0.0.1:9/a")
    err = error(tmp_path, '[[alerts]]\nname = "r"\nconfig = "apprise.yml"\ntags = ["nobody"]\n')
    assert "no usable service tagged nobody" in str(err)


def test_masking() -> None:
    url = "json://bob:pw-S3CRET@127.0.0.1:9/hook?+X-Token=tok-S3CRET&-q=qs-S3CRET&format=text"
    register_url(url)
    shown = mask_url(url)
    assert "S3CRET" not in shown
    assert shown.startswith("json://bob:****@127.0.0.1:9/hook?")
    assert "+X-Token=****" in shown and "-q=****" in shown and "format=text" in shown
    assert (
        redact("failed: pw-S3CRET / tok-S3CRET / qs-S3CRET%21") == "failed: **** / **** / ****%21"
    )
    assert mask_url("nosuch://pw-S3CRET@host") == "nosuch://****"
    telegram = "tgram://123456789:AAbbCCddEEff/12345"
    register_url(telegram)
    assert "AAbbCCddEEff" not in mask_url(telegram)
    assert redact("token AAbbCCddEEff leaked") == "token **** leaked"
