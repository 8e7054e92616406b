"""Pages built by JavaScript, rendered in Chromium inside the watch crawl (issue 8).

Real parts only: a local site on 127.0.0.1, the real CLI in a subprocess, Debian's chromium
(a machine without it fails these tests: `apt-get install chromium`).
Each test marks the processes it starts with an environment variable, so the Chromium and Node
processes they leave behind (there must be none) can be found after veille has exited.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import TYPE_CHECKING

import psutil
import pytest

from tests.browser.jspages import HANGS, js_article, paragraphs, wordpress_comments
from tests.monitor.test_daemon import RunningDaemon, daemons, make_due, scalar  # noqa: F401 - fixture

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.conftest import Veille
    from tests.servers.http import LocalSite

MARK = "VEILLE_BROWSER_TEST"


def marked(token: str) -> list[psutil.Process]:
    """Live processes (ours) whose environment carries ``token``."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get(MARK) == token and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def browser_config(veille: Veille, pages: dict[str, str], extra: str = "") -> None:
    """A config whose [[pages]] have the given render modes (url -> mode)."""
    entries = "".join(
        f'[[pages]]\nurl = "{url}"\nrender = "{mode}"\ninterval = "10s"\n\n'
        for url, mode in pages.items()
    )
    veille.write_config(f'[browser]\ntimeout = "3s"\n\n{extra}{entries}')


def run_marked(veille: Veille, token: str, *args: str) -> tuple[int, str]:
    """``veille ARGS`` with the mark in its environment; (exit code, stdout)."""
    os.environ[MARK] = token
    try:
        proc = veille.run(*args)
    finally:
        del os.environ[MARK]
    return proc.returncode, proc.stdout + proc.stderr


def bodies(veille: Veille) -> dict[str, str]:
    """The current body of each page, by URL."""
    rows = veille.db().execute(
        "SELECT pages.url, versions.body FROM pages JOIN versions ON versions.id = pages.current_version"
    )
    return {url: body for url, body in rows}


def test_js_articles_are_rendered_changes_found_and_a_hung_page_times_out(
    site: LocalSite, veille: Veille
) -> None:
    site.set("/a", js_article("Council votes the budget", paragraphs(1)))
    site.set("/b", js_article("River station reopens", paragraphs(2)))
    site.set("/plain", js_article("Never rendered", paragraphs(3)))
    site.set("/hangs", HANGS)
    a, b, plain, hangs = (site.url(p) for p in ("/a", "/b", "/plain", "/hangs"))
    browser_config(veille, {a: "browser", b: "auto", plain: "http", hangs: "browser"})
    token = uuid.uuid4().hex

    code, out = run_marked(veille, token, "check")
    assert code == 1, out  # the hung page is an error
    states = veille.last_states()
    assert states[a] == states[b] == "new", out
    assert states[hangs] == "timeout"
    assert states[plain] == "empty"  # render = "http": the shell only, as before
    found = bodies(veille)
    assert "Council votes the budget" in found[a] and paragraphs(1)[3] in found[a]
    assert paragraphs(2)[5] in found[b]
    # "auto" remembered that b needs the browser; the plain page was never rendered.
    needs = dict(veille.db().execute("SELECT url, needs_browser FROM pages").fetchall())
    assert needs == {a: 0, b: 1, plain: 0, hangs: 0}
    error = veille.db().execute("SELECT error FROM checks WHERE state = 'timeout'").fetchone()[0]
    assert "Timeout" in error and "\n" not in error
    wait_until("no Chromium or driver left", lambda: marked(token) == [], timeout=5)

    # Round 2: both rendered articles change; b goes straight to the browser this time.
    edited = paragraphs(1)
    edited[2] = "The council approved an amended budget after a long night of talks."
    site.set("/a", js_article("Council votes the budget", edited))
    site.set("/b", js_article("River station reopens after repairs", paragraphs(2)))
    site.requests.clear()
    code, out = run_marked(veille, token, "check", "--all")
    states = veille.last_states()
    assert states[a] == states[b] == "changed", out
    kinds = {(url, kind) for url, kind in veille.changes()}
    assert (a, "body") in kinds and (b, "title") in kinds
    assert [path for _, path, _ in site.requests].count("/b") == 1
    assert "amended budget" in bodies(veille)[a]
    wait_until("no Chromium or driver left", lambda: marked(token) == [], timeout=5)


def test_no_orphan_chromium_after_veille_run_stops(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]  # noqa: F811 - fixture
) -> None:
    site.set("/a", js_article("Housing plan", paragraphs(4)))
    site.set("/slow", HANGS)
    a = site.url("/a")
    browser_config(veille, {a: "browser", site.url("/slow"): "browser"}, '[daemon]\ntick = "0.2s"\n\n')
    token = uuid.uuid4().hex
    daemon = RunningDaemon(veille, env={MARK: token})
    daemons.append(daemon)
    db = veille.database
    daemon.wait_for("the rendered page", lambda: scalar(db, "SELECT COUNT(*) FROM versions") == 1)
    assert "Housing plan" in bodies(veille)[a]
    browsers = [p for p in marked(token) if "chrom" in p.name().lower()]
    assert browsers, "no Chromium process found while rendering"
    # One Playwright driver for the crawl (scrapy-playwright alone starts one per URL scheme).
    drivers = [p for p in marked(token) if "run-driver" in " ".join(p.cmdline())]
    assert len(drivers) == 1, [p.cmdline() for p in drivers]
    # Stop it while the hung page is being rendered again.
    make_due(db)
    daemon.wait_for("a render in flight", lambda: any(
        path == "/slow" for _, path, _ in list(site.requests)[-3:]))
    assert daemon.stop(signal.SIGTERM, timeout=15) == 0
    wait_until("Chromium and its driver to exit", lambda: marked(token) == [], timeout=10)


def test_a_crashed_browser_is_started_again(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]  # noqa: F811 - fixture
) -> None:
    site.set("/a", js_article("Energy prices fall", paragraphs(5)))
    a = site.url("/a")
    browser_config(veille, {a: "browser"}, '[daemon]\ntick = "0.2s"\n\n')
    token = uuid.uuid4().hex
    daemon = RunningDaemon(veille, env={MARK: token})
    daemons.append(daemon)
    db = veille.database
    good = "SELECT COUNT(*) FROM checks WHERE state IN ('new', 'unchanged', 'changed')"
    daemon.wait_for("the first render", lambda: scalar(db, good) == 1)
    browsers = [p for p in marked(token) if "chrom" in p.name().lower()]
    assert browsers, "no Chromium process found after a render"
    for proc in browsers:  # every Chromium process: the browser is gone
        proc.kill()
    wait_until("Chromium to die", lambda: not any(
        "chrom" in p.name().lower() for p in marked(token)), timeout=10)
    site.set("/a", js_article("Energy prices fall again", paragraphs(5)))
    make_due(db)
    daemon.wait_for("a render by a new browser", lambda: scalar(db, good) == 2)
    assert "again" in bodies(veille)[a]
    assert daemon.stop(signal.SIGTERM, timeout=15) == 0
    wait_until("Chromium and its driver to exit", lambda: marked(token) == [], timeout=10)


def test_comments_injected_by_javascript_are_read_in_the_browser(
    site: LocalSite, veille: Veille
) -> None:
    thread = [(1, "Amina", "Where does the money come from?"), (2, "Bruno", "Good news at last.")]
    site.set("/a", js_article("Budget vote", paragraphs(6), comments=wordpress_comments(thread)))
    a = site.url("/a")
    browser_config(veille, {a: "browser"})
    veille.run("check", check=0)
    rows = veille.db().execute(
        "SELECT comments.author, comment_versions.text FROM comments "
        "JOIN comment_versions ON comment_versions.id = comments.current_version ORDER BY author"
    ).fetchall()
    assert rows == [("Amina", thread[0][2]), ("Bruno", thread[1][2])]

    thread[1] = (2, "Bruno", "Good news at last, if it lasts.")
    site.set("/a", js_article("Budget vote", paragraphs(6), comments=wordpress_comments(thread)))
    veille.run("check", "--all", check=0)
    assert (a, "comment_edited") in veille.changes()


def reuse_marked(title: str, seed: int) -> str:
    """A JS article whose title says whether its tab had shown a page before (window.name
    survives a navigation in the same tab)."""
    page = js_article(title, paragraphs(seed))
    marker = (
        '<script>document.addEventListener("DOMContentLoaded", function () {'
        ' var tab = window.name ? "Reused tab: " : "New tab: "; window.name = "veille-test";'
        ' setTimeout(function () { document.title = tab + document.title;'
        ' document.querySelector("h1").textContent = document.title; }, 60); });</script>'
    )
    return page.replace("</body>", marker + "</body>")


def test_rendered_pages_reuse_open_tabs_and_get_past_a_hung_one(
    site: LocalSite, veille: Veille
) -> None:
    """With one page at a time, the articles go through tabs already open, and a page that hangs
    stops none of them (its tab is closed: tests/browser/test_pagepool.py)."""
    paths = [f"/r{i}" for i in range(5)]
    for i, path in enumerate(paths):
        site.set(path, reuse_marked(f"Article {i}", i))
    site.set("/stuck", HANGS)
    urls = {site.url(p): "browser" for p in [*paths, "/stuck"]}
    browser_config(veille, urls, extra="max_pages = 1\n\n")  # lands in [browser]
    token = uuid.uuid4().hex

    code, out = run_marked(veille, token, "check")
    assert code == 1, out  # the hung page is an error, nothing else
    states = veille.last_states()
    assert states[site.url("/stuck")] == "timeout"
    titles = [
        row[0] for row in veille.db().execute(
            "SELECT versions.title FROM pages JOIN versions ON versions.id = pages.current_version"
        )
    ]
    assert len(titles) == len(paths), out  # every article came out despite the hung tab
    fresh = [t for t in titles if t.startswith("New tab: ")]
    reused = [t for t in titles if t.startswith("Reused tab: ")]
    assert len(fresh) + len(reused) == len(paths), titles
    # One new tab at the start, and one after the hung page unless it came first or last.
    assert 1 <= len(fresh) <= 2 and len(reused) >= 3, titles
    wait_until("no Chromium or driver left", lambda: marked(token) == [], timeout=5)
