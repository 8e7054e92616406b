"""Loading and validating veille.toml: real files in tmp_path, one test per kind of mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.config import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_NAME,
    DEFAULT_USER_AGENT,
    Config,
    HttpSettings,
    PageConfig,
    Topic,
    config_path,
    load_config,
    parse_duration,
    parse_size,
)
from monitor.errors import ConfigError, DeliveryError, FetchError, StorageError, VeilleError
from monitor.starter import STARTER_CONFIG, write_starter

FULL_CONFIG = """\
database = "data/history.db"
allow_networks = ["10.0.0.0/8", "192.168.1.5", "fd00::/8"]

[http]
user_agent = "test-agent/1.0 (+mailto:me@example.org)"
concurrent_requests = 8
concurrency_per_domain = 2
timeout = "1m30s"
max_response_size = "2MiB"
obey_robots_txt = false
max_redirects = 3
retries = 0
autothrottle = false
download_delay = 1.5

[[topics]]
name = "tech-workers"
query = "tech workers union"
languages = ["en", "fr", "pt-BR"]
interval = "2h"

[[topics]]
name = "climate"

[[pages]]
url = "https://example.com/news/a"
topic = "tech-workers"
selector = "article .story-body"
ignore = ['^Updated \\d+ minutes ago$', 'Share this']
interval = "15m"

[[pages]]
url = "http://127.0.0.1:8080/b?x=1#top"
"""


def write(tmp_path: Path, text: str, name: str = "veille.toml") -> Path:
    """Write ``text`` as a config file in tmp_path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> ConfigError:
    """The ConfigError that loading ``text`` raises; checks that it names the file."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert error.path == str(path)
    assert str(error).startswith(f"{path}: ")
    return error


def assert_names_key(error: ConfigError, key: str) -> None:
    """The error's key is ``key`` and its message shows it after the file name."""
    assert error.key == key
    assert f"{error.path}: {key}: " in str(error)


# --- valid configs ------------------------------------------------------------------------------


def test_full_config_round_trip(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL_CONFIG))
    assert config == Config(
        path=tmp_path / "veille.toml",
        database=tmp_path / "data" / "history.db",
        http=HttpSettings(
            user_agent="test-agent/1.0 (+mailto:me@example.org)",
            concurrent_requests=8,
            concurrency_per_domain=2,
            timeout=90.0,
            max_response_size=2 * 1024 * 1024,
            obey_robots_txt=False,
            max_redirects=3,
            retries=0,
            autothrottle=False,
            download_delay=1.5,
        ),
        topics=(
            Topic(
                name="tech-workers",
                query="tech workers union",
                languages=("en", "fr", "pt-BR"),
                interval=7200.0,
            ),
            Topic(name="climate"),
        ),
        pages=(
            PageConfig(
                url="https://example.com/news/a",
                topic="tech-workers",
                selector="article .story-body",
                ignore=(r"^Updated \d+ minutes ago$", "Share this"),
                interval=900.0,
            ),
            PageConfig(url="http://127.0.0.1:8080/b?x=1#top"),
        ),
        allow_networks=("10.0.0.0/8", "192.168.1.5/32", "fd00::/8"),
    )


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL_CONFIG))
    with pytest.raises(AttributeError):
        config.http.timeout = 1.0  # type: ignore[misc]
    assert isinstance(config.pages, tuple) and isinstance(config.pages[0].ignore, tuple)


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.http == HttpSettings()
    assert config.http.user_agent == DEFAULT_USER_AGENT
    assert config.http.max_response_size == 10 * 1024 * 1024
    assert config.database == tmp_path / "veille.db"
    assert (config.topics, config.pages, config.allow_networks) == ((), (), ())


def test_topic_lookup_and_interval_fallback(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL_CONFIG))
    topic = config.topic("tech-workers")
    assert topic is not None and topic.query == "tech workers union"
    assert config.topic("nope") is None
    own, plain = config.pages
    assert config.interval_for(own) == 900.0
    assert config.interval_for(plain) is None
    inherits = PageConfig(url="https://example.com/c", topic="tech-workers")
    assert config.interval_for(inherits) == 7200.0


def test_numbers_of_seconds_and_bytes_are_accepted(tmp_path: Path) -> None:
    text = "[http]\ntimeout = 12\nmax_response_size = 4096\ndownload_delay = 0\n"
    http = load_config(write(tmp_path, text)).http
    assert (http.timeout, http.max_response_size, http.download_delay) == (12.0, 4096, 0.0)
    assert isinstance(http.timeout, float)


def test_any_topic_name_is_accepted_without_declared_topics(tmp_path: Path) -> None:
    text = '[[pages]]\nurl = "https://example.com/a"\ntopic = "anything"\n'
    assert load_config(write(tmp_path, text)).pages[0].topic == "anything"


# --- database path ------------------------------------------------------------------------------


def test_relative_database_resolves_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc" / "veille"
    folder.mkdir(parents=True)
    path = write(folder, 'database = "../data/v.db"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path)
    assert config.database.resolve() == (tmp_path / "etc" / "data" / "v.db").resolve()
    assert config.database.is_absolute()
    # The same file named by a relative path gives the same database.
    monkeypatch.chdir(folder)
    relative = load_config(Path("veille.toml"))
    assert relative.database.resolve() == config.database.resolve()
    assert relative.path.is_absolute() and relative.path.resolve() == path.resolve()


def test_absolute_and_home_database_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = tmp_path / "abs" / "x.db"
    assert load_config(write(tmp_path, f'database = "{absolute}"\n')).database == absolute
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_config(write(tmp_path, 'database = "~/veille.db"\n'))
    assert config.database == tmp_path / "home" / "veille.db"


# --- config_path ---------------------------------------------------------------------------------


def test_config_path_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    assert config_path(None) == Path(DEFAULT_CONFIG_NAME) == Path("veille.toml")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(tmp_path / "from-env.toml"))
    assert config_path(None) == tmp_path / "from-env.toml"
    assert config_path(str(tmp_path / "cli.toml")) == tmp_path / "cli.toml"
    monkeypatch.setenv(CONFIG_ENV_VAR, "")
    assert config_path(None) == Path("veille.toml")


def test_config_path_from_env_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, FULL_CONFIG, name="custom.toml")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(path))
    assert load_config(config_path(None)).http.concurrent_requests == 8


# --- mistakes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        ('databse = "x.db"\n', "databse", "database"),
        ("[http]\ntimout = 3\n", "http.timout", "timeout"),
        ('[[topics]]\nname = "a"\nlanguage = ["en"]\n', "topics[0].language", "languages"),
        (
            '[[pages]]\nurl = "https://a.example/"\nselecter = "p"\n',
            "pages[0].selecter",
            "selector",
        ),
        ('[[page]]\nurl = "https://a.example/"\n', "page", "pages"),
    ],
)
def test_unknown_key_suggests_the_closest(
    tmp_path: Path, text: str, key: str, suggestion: str
) -> None:
    error = config_error(tmp_path, text)
    assert_names_key(error, key)
    assert f"unknown key; did you mean `{suggestion}`?" in str(error)


def test_unknown_key_without_close_match_lists_known_keys(tmp_path: Path) -> None:
    error = config_error(tmp_path, "[http]\nzzz = 1\n")
    assert_names_key(error, "http.zzz")
    assert "did you mean" not in str(error)
    assert "`user_agent`" in str(error) and "`download_delay`" in str(error)


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[http]\nretries = true\n", "http.retries", "expected an integer, got a boolean"),
        ("[http]\nconcurrent_requests = 4.0\n", "http.concurrent_requests", "integer, got a float"),
        (
            '[http]\nmax_redirects = "3"\n',
            "http.max_redirects",
            "expected an integer, got a string",
        ),
        ('[http]\nobey_robots_txt = "yes"\n', "http.obey_robots_txt", "expected a boolean"),
        ("[http]\nautothrottle = 1\n", "http.autothrottle", "expected a boolean, got an integer"),
        ("[http]\nuser_agent = 5\n", "http.user_agent", "expected a string, got an integer"),
        ("[http]\ntimeout = true\n", "http.timeout", "expected a duration"),
        ("[http]\nmax_response_size = 1.5\n", "http.max_response_size", "expected a size"),
        ('[[topics]]\nname = "a"\nlanguages = "en"\n', "topics[0].languages", "expected an array"),
        ("[[topics]]\nname = 7\n", "topics[0].name", "expected a string"),
        ("database = 1979-05-27\n", "database", "expected a string, got a date"),
        ('http = "fast"\n', "http", "expected a table ([http])"),
        ("[[http]]\nretries = 1\n", "http", "expected a table ([http]), got an array"),
        ('[pages]\nurl = "https://a.example/"\n', "pages", "expected an array of tables"),
        ('pages = ["https://a.example/"]\n', "pages[0]", "expected a table, got a string"),
        ('allow_networks = "10.0.0.0/8"\n', "allow_networks", "expected an array"),
        ("[http]\nretries = -1\n", "http.retries", "must be at least 0"),
        ("[http]\nconcurrent_requests = 0\n", "http.concurrent_requests", "must be at least 1"),
        ('[http]\nuser_agent = ""\n', "http.user_agent", "non-empty"),
        ('[http]\nuser_agent = "a\\r\\nX-Evil: 1"\n', "http.user_agent", "control characters"),
        ('[[topics]]\nname = " padded "\n', "topics[0].name", "spaces around"),
    ],
)
def test_wrong_type_or_value_names_the_expected_one(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    error = config_error(tmp_path, text)
    assert_names_key(error, key)
    assert expected in error.message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://x", "expected an http(s) URL, got 'ftp://x'"),
        ("file:///etc/passwd", "expected an http(s) URL"),
        ("javascript:alert(1)", "expected an http(s) URL"),
        ("https://", "no host"),
        ("http:///path", "no host"),
        ("https://example.com\\\\evil.org/", "backslash"),
        ("https://example.com/a b", "whitespace"),
        (" https://example.com/", "whitespace"),
        ("example.com/news", "expected an http(s) URL"),
        ("https://example.com:99999/", "invalid port"),
        ("https://example.com:0/", "invalid port"),
        ("http://[::1/", "invalid URL"),
    ],
)
def test_bad_page_url(tmp_path: Path, url: str, expected: str) -> None:
    error = config_error(
        tmp_path, f'[[pages]]\nurl = "https://ok.example/"\n[[pages]]\nurl = "{url}"\n'
    )
    assert_names_key(error, "pages[1].url")
    assert expected in error.message


def test_missing_scheme_suggests_https(tmp_path: Path) -> None:
    error = config_error(tmp_path, '[[pages]]\nurl = "example.com/news"\n')
    assert error.hint == "add the scheme: 'https://example.com/news'"


def test_missing_required_key(tmp_path: Path) -> None:
    error = config_error(tmp_path, '[[pages]]\ntopic = "x"\n')
    assert_names_key(error, "pages[0].url")
    assert "missing required key" in str(error)
    error = config_error(tmp_path, '[[topics]]\nquery = "x"\n')
    assert_names_key(error, "topics[0].name")


def test_duplicate_topic(tmp_path: Path) -> None:
    text = '[[topics]]\nname = "a"\n[[topics]]\nname = "b"\n[[topics]]\nname = "a"\n'
    error = config_error(tmp_path, text)
    assert_names_key(error, "topics[2].name")
    assert "duplicate topic name 'a', already used by topics[0]" in str(error)


def test_duplicate_page_url(tmp_path: Path) -> None:
    text = '[[pages]]\nurl = "https://a.example/x"\n[[pages]]\nurl = "https://a.example/x"\n'
    error = config_error(tmp_path, text)
    assert_names_key(error, "pages[1].url")
    assert "duplicate page url" in str(error)


def test_unknown_topic_for_a_page(tmp_path: Path) -> None:
    text = (
        '[[topics]]\nname = "tech-workers"\n'
        '[[pages]]\nurl = "https://a.example/"\ntopic = "tech-worker"\n'
    )
    error = config_error(tmp_path, text)
    assert_names_key(error, "pages[0].topic")
    assert "unknown topic 'tech-worker'" in str(error)
    assert "did you mean 'tech-workers'?" in str(error)
    assert "[[topics]]" in str(error)


def test_bad_regex_says_which_and_why(tmp_path: Path) -> None:
    text = '[[pages]]\nurl = "https://a.example/"\nignore = ["fine", "(unclosed"]\n'
    error = config_error(tmp_path, text)
    assert_names_key(error, "pages[0].ignore[1]")
    assert "'(unclosed'" in error.message
    assert "missing )" in error.message  # re's own reason


def test_bad_selector(tmp_path: Path) -> None:
    for selector, reason in [
        ("div[", "Expected"),
        ("p::text", "Pseudo-elements"),
        ("a:nope", "nope"),
    ]:
        text = f'[[pages]]\nurl = "https://a.example/"\nselector = "{selector}"\n'
        error = config_error(tmp_path, text)
        assert_names_key(error, "pages[0].selector")
        assert f"invalid CSS selector '{selector}'" in error.message
        assert reason in error.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"5s"', "must be at least 10s, got '5s'"),
        ("3", "must be at least 10s"),
        ('"15 parsecs"', "unknown unit 'parsecs'"),
        ('"1h30"', "invalid duration '1h30'"),
        ('"30"', "has no unit"),
        ('"30m1h"', "largest first"),
        ("-60", "invalid duration -60"),
        ("inf", "invalid duration inf"),
    ],
)
def test_bad_duration(tmp_path: Path, value: str, expected: str) -> None:
    error = config_error(tmp_path, f'[[topics]]\nname = "a"\ninterval = {value}\n')
    assert_names_key(error, "topics[0].interval")
    assert expected in error.message


def test_bad_timeout_and_page_interval(tmp_path: Path) -> None:
    error = config_error(tmp_path, '[http]\ntimeout = "0s"\n')
    assert_names_key(error, "http.timeout")
    assert "more than 0s" in error.message
    error = config_error(tmp_path, '[[pages]]\nurl = "https://a.example/"\ninterval = "1s"\n')
    assert_names_key(error, "pages[0].interval")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"10 MBB"', "invalid size '10 MBB'"),
        ('"lots"', "invalid size 'lots'"),
        ('"10M"', "invalid size '10M'"),
        ("-1", "cannot be negative"),
        ("0", "more than 0 bytes"),
    ],
)
def test_bad_size(tmp_path: Path, value: str, expected: str) -> None:
    error = config_error(tmp_path, f"[http]\nmax_response_size = {value}\n")
    assert_names_key(error, "http.max_response_size")
    assert expected in error.message


def test_bad_network(tmp_path: Path) -> None:
    error = config_error(tmp_path, 'allow_networks = ["10.0.0.0/8", "10.1.2.3/8"]\n')
    assert_names_key(error, "allow_networks[1]")
    assert error.hint == "did you mean '10.0.0.0/8'?"
    error = config_error(tmp_path, 'allow_networks = ["intranet"]\n')
    assert_names_key(error, "allow_networks[0]")
    assert "invalid network 'intranet'" in error.message


def test_bad_language(tmp_path: Path) -> None:
    error = config_error(tmp_path, '[[topics]]\nname = "a"\nlanguages = ["en", "English"]\n')
    assert_names_key(error, "topics[0].languages[1]")


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    error = config_error(tmp_path, '# comment\n[http]\ntimeout "30s"\n')
    assert (error.line, error.column) == (3, 9)
    assert error.key is None
    assert "invalid TOML at line 3, column 9" in str(error)
    assert '`timeout "30s"`' in str(error)  # the offending line itself


def test_toml_backslash_in_double_quotes_hints_single_quotes(tmp_path: Path) -> None:
    error = config_error(tmp_path, '[[pages]]\nurl = "https://a.example/"\nignore = ["\\d+"]\n')
    assert error.line == 3
    assert error.hint is not None and "'single quotes'" in error.hint


def test_toml_table_declared_twice(tmp_path: Path) -> None:
    error = config_error(tmp_path, "[http]\nretries = 1\n\n[http]\nretries = 2\n")
    assert error.line == 4
    assert error.hint is not None and "defined twice" in error.hint


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: no such file")
    assert "veille init" in str(info.value)


def test_folder_and_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    path = tmp_path / "latin1.toml"
    path.write_bytes('[http]\nuser_agent = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        load_config(path)
    assert info.value.path == str(path)


# --- parse_duration / parse_size ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1w", 604800.0),
        ("1h30m", 5400.0),
        ("1h 30m 15s", 5415.0),
        ("1.5h", 5400.0),
        ("500ms", 0.5),
        ("15 minutes", 900.0),
        ("2H", 7200.0),
        ("0s", 0.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "10", "10x", "1h30", "-5m", "5m5m", "1m1h", "1 h 3"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10MB", 10_000_000),
        ("512KB", 512_000),
        ("512KiB", 512 * 1024),
        ("1GiB", 1024**3),
        ("10 mib", 10 * 1024**2),
        ("1.5MiB", 3 * 512 * 1024),
        ("2048", 2048),
        ("100B", 100),
        (4096, 4096),
    ],
)
def test_parse_size(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "10M", "10 megabytes", "1e6", -5, True])
def test_parse_size_rejects(text: str | int) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


# --- errors ---------------------------------------------------------------------------------------


def test_config_error_format_and_attributes() -> None:
    error = ConfigError(
        "expected an http(s) URL, got 'ftp://x'",
        path="veille.toml",
        key="pages[2].url",
        hint="fix the value or remove the entry",
    )
    assert str(error) == (
        "veille.toml: pages[2].url: expected an http(s) URL, got 'ftp://x' "
        "— fix the value or remove the entry"
    )
    assert (error.path, error.key) == ("veille.toml", "pages[2].url")
    assert str(ConfigError("bad", path=None, key=None)) == "bad"


def test_exception_tree() -> None:
    for kind in (ConfigError, FetchError, StorageError, DeliveryError):
        assert issubclass(kind, VeilleError) and issubclass(kind, Exception)
    assert str(FetchError("timed out", url="https://a.example/")) == "https://a.example/: timed out"
    delivery = DeliveryError("refused", route="team-chat", attempt=2)
    assert (delivery.route, delivery.attempt) == ("team-chat", 2)
    assert str(delivery) == "team-chat (attempt 2): refused"
    assert str(StorageError("locked", path="v.db")) == "v.db: locked"


# --- the starter config ------------------------------------------------------------------------


def test_starter_config_loads_with_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, STARTER_CONFIG))
    assert config.http == HttpSettings()  # the starter shows the real defaults
    assert config.database == tmp_path / "veille.db"
    assert config.allow_networks == ()
    assert [topic.name for topic in config.topics] == ["tech-workers"]
    assert config.pages == ()


def test_starter_shows_every_key(tmp_path: Path) -> None:
    keys = set(re.findall(r"^(?:# )?(\w+) = ", STARTER_CONFIG, re.MULTILINE))
    expected = {"database", "allow_networks", "name", "query", "languages", "interval", "url"}
    expected |= {"topic", "selector", "ignore"} | set(HttpSettings.__dataclass_fields__)
    assert expected <= keys


def test_starter_page_example_loads_once_uncommented(tmp_path: Path) -> None:
    head, example = STARTER_CONFIG.split("# [[pages]]\n")
    uncommented = "[[pages]]\n" + "\n".join(
        line.removeprefix("# ") for line in example.splitlines()
    )
    config = load_config(write(tmp_path, head + uncommented + "\n"))
    (page,) = config.pages
    assert page.topic == "tech-workers" and page.selector == "article"
    assert re.search(page.ignore[0], "Updated 5 minutes ago")
    assert config.interval_for(page) == 1800.0


def test_write_starter(tmp_path: Path) -> None:
    path = tmp_path / "veille.toml"
    write_starter(path)
    assert path.read_text(encoding="utf-8") == STARTER_CONFIG
    assert load_config(path).topic("tech-workers") is not None
    path.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        write_starter(path)
    assert info.value.path == str(path)
    assert "already exists" in str(info.value) and "--force" in str(info.value)
    assert path.read_text(encoding="utf-8") == "# mine\n"  # untouched
    write_starter(path, force=True)
    assert path.read_text(encoding="utf-8") == STARTER_CONFIG


def test_write_starter_into_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "veille.toml"
    with pytest.raises(ConfigError, match="does not exist") as info:
        write_starter(path)
    assert info.value.path == str(path)
