"""A machine where Chromium is missing or cannot start (issue 8): clear errors, plain pages go on.

Real parts: the CLI and the daemon in subprocesses, a local site, Playwright launching (or
failing to launch) real files. This machine has Debian's chromium, so "no browser" is a
configured path that does not exist (``~/.cache/ms-playwright/…``, where Playwright's own
browser would be), a file that is not executable, or a script that exits at once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from spiders.browser import DEBIAN_CHROMIUM, INSTALL_HINT, launch_failure
from tests.browser.jspages import js_article, paragraphs
from tests.browser.test_render import MARK, marked, run_marked, wait_until
from tests.monitor.test_daemon import (  # noqa: F401 - fixture
    RunningDaemon,
    daemons,
    make_due,
    publish,
    scalar,
)
from tests.servers import newssite

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Veille
    from tests.servers.http import LocalSite

# Where `playwright install chromium` would have put a browser: plausible, and missing here.
PLAYWRIGHT_CHROME = "ms-playwright/chromium-1255/chrome-linux/chrome"


def pages_config(
    veille: Veille, executable: Path, pages: dict[str, str], interval: str = "10s", extra: str = ""
) -> None:
    """A config with ``[browser] executable_path`` and pages (url -> render mode)."""
    entries = "".join(
        f'[[pages]]\nurl = "{url}"\nrender = "{mode}"\ninterval = "{interval}"\n\n'
        for url, mode in pages.items()
    )
    veille.write_config(
        f'{extra}[browser]\nexecutable_path = "{executable}"\ntimeout = "3s"\n\n{entries}'
    )


def a_news_page(site: LocalSite, seed: int) -> str:
    """A plain article page (its article is in the HTML); its URL."""
    return publish(site, newssite.make_site(1, seed=seed), noise_seed=1)[0]


def check_errors(veille: Veille, url: str) -> list[tuple[str, str]]:
    """(state, error) of every check row of ``url``, oldest first."""
    rows = veille.db().execute(
        "SELECT checks.state, checks.error FROM checks JOIN pages ON pages.id = checks.page_id "
        "WHERE url = ? ORDER BY checks.id", [url],
    ).fetchall()
    return [(str(state), str(error)) for state, error in rows]


def test_a_configured_browser_that_does_not_exist_is_a_config_error(
    site: LocalSite, veille: Veille, tmp_path: Path
) -> None:
    site.set("/a", js_article("Night trains return", paragraphs(8)))
    missing = tmp_path / PLAYWRIGHT_CHROME
    pages_config(veille, missing, {site.url("/a"): "browser"})
    for command in ("check", "run"):
        proc = veille.run(command)
        assert proc.returncode == 2, proc.stderr
        line = proc.stderr.strip()
        assert line.startswith("Error: ") and "\n" not in line, line
        assert f"browser.executable_path: no file at {missing}" in line
        assert INSTALL_HINT in line
    assert not veille.database.exists()  # refused before anything was opened or fetched
    assert site.hits("/a") == 0


@pytest.mark.parametrize(("kind", "says"), [
    ("not executable", "cannot be run (permission denied)"),
    ("exits at once", "exited at once (exit code 1)"),
])
def test_a_browser_that_cannot_start_is_an_error_of_each_page_that_needs_it(
    site: LocalSite, veille: Veille, tmp_path: Path, kind: str, says: str
) -> None:
    broken = tmp_path / "chromium"
    if kind == "not executable":
        broken.write_text("not a program\n", encoding="utf-8")
    else:
        broken.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n", encoding="utf-8")
        broken.chmod(0o755)
    site.set("/rendered", js_article("Flood defences", paragraphs(9)))
    site.set("/auto", js_article("Harbour strike", paragraphs(10)))
    plain = a_news_page(site, seed=51)
    rendered, auto = site.url("/rendered"), site.url("/auto")
    pages_config(veille, broken, {rendered: "browser", auto: "auto", plain: "http"})
    token = uuid.uuid4().hex

    code, out = run_marked(veille, token, "check")
    assert code == 1, out
    states = veille.last_states()
    assert states == {rendered: "browser_error", auto: "browser_error", plain: "new"}, out
    for url in (rendered, auto):
        # One row each: the auto page's empty plain fetch was held back, not recorded.
        [(state, error)] = check_errors(veille, url)
        assert state == "browser_error"
        assert error.startswith(f"Chromium could not start: {broken} {says}"), error
        assert error.endswith(INSTALL_HINT) and "\n" not in error
        assert f"browser_error: {url} (Chromium could not start: {broken} {says}" in out
    assert "Traceback" not in out
    wait_until("no browser process left", lambda: marked(token) == [], timeout=10)


def test_the_daemon_keeps_running_and_says_it_once_when_chromium_cannot_start(
    site: LocalSite, veille: Veille, tmp_path: Path, daemons: list[RunningDaemon]  # noqa: F811
) -> None:
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    site.set("/one", js_article("School meals", paragraphs(11)))
    site.set("/two", js_article("Bus fares", paragraphs(12)))
    plain = a_news_page(site, seed=52)
    one, two = site.url("/one"), site.url("/two")
    pages_config(veille, broken, {one: "browser", two: "browser", plain: "http"},
                 extra='[daemon]\ntick = "0.2s"\n\n')
    token = uuid.uuid4().hex
    daemon = RunningDaemon(veille, env={MARK: token})
    daemons.append(daemon)
    db = veille.database
    errors = "SELECT COUNT(*) FROM checks WHERE state = 'browser_error'"
    daemon.wait_for("both browser pages in error", lambda: scalar(db, errors) == 2)
    daemon.wait_for("the plain page", lambda: scalar(db, "SELECT COUNT(*) FROM versions") == 1)
    make_due(db)  # another round: the same crawler, the same failure
    daemon.wait_for("the second round", lambda: scalar(db, errors) == 4)
    assert daemon.proc.poll() is None  # still running
    assert daemon.text().count("Chromium could not start") == 1, daemon.text()
    assert "exited at once (exit code 1)" in daemon.text() and INSTALL_HINT in daemon.text()

    # A reload naming a browser that does not exist is refused like any invalid config.
    pages_config(veille, tmp_path / PLAYWRIGHT_CHROME, {one: "browser", plain: "http"},
                 extra='[daemon]\ntick = "0.2s"\n\n')
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for("the refusal", lambda: "reload refused" in daemon.text())
    assert "browser.executable_path: no file at" in daemon.text()
    assert daemon.stop(signal.SIGTERM, timeout=15) == 0
    assert "Traceback" not in daemon.text()
    assert scalar(db, "SELECT SUM(checked) FROM cycles") == scalar(db, "SELECT COUNT(*) FROM checks")
    assert scalar(db, "SELECT SUM(errors) FROM cycles") == 4
    wait_until("no browser process left", lambda: marked(token) == [], timeout=10)


def test_chromium_removed_under_a_running_daemon_then_back(
    site: LocalSite, veille: Veille, tmp_path: Path, daemons: list[RunningDaemon]  # noqa: F811
) -> None:
    # Playwright's own browser path, as a link to Debian's chromium: there, then gone, then back.
    link = tmp_path / PLAYWRIGHT_CHROME
    link.parent.mkdir(parents=True)
    link.symlink_to(DEBIAN_CHROMIUM)
    site.set("/a", js_article("Clinic opens", paragraphs(13)))
    a = site.url("/a")
    pages_config(veille, link, {a: "browser"}, extra='[daemon]\ntick = "0.2s"\n\n')
    veille.run("add", a, check=0)
    later = time.time() + 3600
    with sqlite3.connect(veille.database) as conn:  # not due: the daemon starts, renders nothing
        conn.execute("UPDATE pages SET next_check_at = ?", [later])
    token = uuid.uuid4().hex
    daemon = RunningDaemon(veille, env={MARK: token})
    daemons.append(daemon)
    daemon.wait_for("the daemon to start", lambda: "veille running" in daemon.text())
    link.unlink()  # apt-get remove chromium
    make_due(veille.database)
    daemon.wait_for("the error", lambda: len(check_errors(veille, a)) == 1)
    [(state, error)] = check_errors(veille, a)
    assert state == "browser_error"
    assert error == f"Chromium could not start: no browser at {link} — {INSTALL_HINT}"
    assert daemon.text().count("Chromium could not start") == 1

    link.symlink_to(DEBIAN_CHROMIUM)  # installed again: the next render launches it
    make_due(veille.database)
    daemon.wait_for("a render again", lambda: len(check_errors(veille, a)) == 2)
    assert check_errors(veille, a)[-1][0] == "new", daemon.text()
    assert daemon.stop(signal.SIGTERM, timeout=15) == 0
    wait_until("no browser process left", lambda: marked(token) == [], timeout=10)


def test_without_debian_chromium_playwright_missing_its_browser_gets_the_same_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a machine with neither browser meets: veille passes no executable_path (see
    # spiders.browser.executable) and Playwright looks for its own download, in vain.
    from playwright.sync_api import Error, sync_playwright

    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    with sync_playwright() as playwright, pytest.raises(Error) as info:
        playwright.chromium.launch(headless=True, timeout=20_000)
    message = launch_failure(str(info.value))
    assert message is not None, str(info.value)
    assert message.startswith(f"Chromium could not start: no browser at {tmp_path}{os.sep}")
    assert message.endswith(INSTALL_HINT) and "\n" not in message
