"""`veille run` and pages that need JavaScript (issue 8): the render = "auto" retry in the daemon.

The real daemon in a subprocess, a local site, Debian's chromium. A page whose plain fetch shows
no article is rendered in the same round, counted once in its cycle, remembered in
`pages.needs_browser` and rendered at once next time; a daemon that started without a browser
starts a crawler with one when a page needs it; SIGTERM leaves no Chromium or driver behind.
"""

from __future__ import annotations

import signal
import uuid
from typing import TYPE_CHECKING

import psutil
import pytest

from tests.browser.jspages import js_article, paragraphs
from tests.browser.test_render import MARK, bodies, browser_config, marked, wait_until
from tests.monitor.test_daemon import (  # noqa: F401 - fixture
    TICK,
    RunningDaemon,
    daemon_config,
    daemons,
    make_due,
    publish,
    query,
    scalar,
)
from tests.servers import newssite

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Veille
    from tests.servers.http import LocalSite

DAEMON = f'[daemon]\ntick = "{TICK}"\n\n'


def states_of(db: Path, url: str) -> list[str]:
    """The state of every check row of ``url``, oldest first."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT checks.state FROM checks JOIN pages ON pages.id = checks.page_id "
            "WHERE url = ? ORDER BY checks.id", [url],
        ).fetchall()
    finally:
        conn.close()
    return [str(row[0]) for row in rows]


def needs_browser(db: Path, url: str) -> int:
    return scalar(db, "SELECT needs_browser FROM pages WHERE url = ?", (url,))


def cycles_settled(db: Path) -> bool:
    """Every cycle completed, and every stored check counted in one (once)."""
    return scalar(db, "SELECT COUNT(*) FROM cycles WHERE finished_at IS NULL") == 0 and scalar(
        db, "SELECT SUM(checked) FROM cycles"
    ) == scalar(db, "SELECT COUNT(*) FROM checks")


def browsers(token: str) -> list[psutil.Process]:
    """Chromium and Playwright driver processes started under ``token``."""
    return [p for p in marked(token) if not p.name().lower().startswith("python")]


def test_an_auto_page_is_rendered_in_the_same_round_and_at_once_after(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]  # noqa: F811 - fixture
) -> None:
    site.set("/js", js_article("Tram line opens", paragraphs(20)))
    plain = publish(site, newssite.make_site(1, seed=61), noise_seed=1)[0]
    js = site.url("/js")
    browser_config(veille, {js: "auto", plain: "http"}, DAEMON)
    daemon = RunningDaemon(veille)
    daemons.append(daemon)
    db = veille.database
    daemon.wait_for("both versions", lambda: scalar(db, "SELECT COUNT(*) FROM versions") == 2)
    daemon.wait_for("the cycle to complete", lambda: cycles_settled(db))
    # The empty plain fetch was held back: one check row, the browser's.
    assert states_of(db, js) == ["new"]
    assert site.hits("/js") == 2  # plain, then in the browser
    assert paragraphs(20)[4] in bodies(veille)[js]
    assert needs_browser(db, js) == 1 and needs_browser(db, plain) == 0
    assert scalar(db, "SELECT SUM(pages) FROM cycles") == 2
    assert f"{js} needs the browser" in daemon.text()

    # Next round: an edit, rendered straight away (one fetch).
    edited = paragraphs(20)
    edited[1] = "The first trams carried more passengers than planned on the opening day."
    site.set("/js", js_article("Tram line opens", edited))
    site.requests.clear()
    make_due(db, [js])
    daemon.wait_for("the change", lambda: states_of(db, js) == ["new", "changed"])
    assert [path for _, path, _ in site.requests].count("/js") == 1
    assert "more passengers than planned" in bodies(veille)[js]
    daemon.wait_for("the cycle to complete", lambda: cycles_settled(db))
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.text()


def test_a_daemon_without_a_browser_starts_one_for_an_auto_page_and_leaves_none(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]  # noqa: F811 - fixture
) -> None:
    plain = publish(site, newssite.make_site(1, seed=62), noise_seed=1)[0]
    daemon_config(veille, [plain])
    token = uuid.uuid4().hex
    daemon = RunningDaemon(veille, env={MARK: token})
    daemons.append(daemon)
    db = veille.database
    daemon.wait_for("the plain page", lambda: scalar(db, "SELECT COUNT(*) FROM versions") == 1)
    assert browsers(token) == []  # only http pages: no Node driver, no Chromium

    site.set("/js", js_article("Library hours", paragraphs(21)))
    js = site.url("/js")
    browser_config(veille, {plain: "http", js: "auto"}, DAEMON)
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for("the rendered page", lambda: states_of(db, js) == ["new"])
    assert paragraphs(21)[0] in bodies(veille)[js]
    assert needs_browser(db, js) == 1
    assert "shows no article: starting a crawler with Chromium" in daemon.text()
    assert any("chrom" in p.name().lower() for p in browsers(token))
    daemon.wait_for("the cycle to complete", lambda: cycles_settled(db))

    assert daemon.stop(signal.SIGTERM, timeout=15) == 0
    wait_until("Chromium and its driver to exit", lambda: marked(token) == [], timeout=10)
    assert "Traceback" not in daemon.text()


def disqus_frame(comments: list[tuple[int, str, str]]) -> str:
    """A Disqus frame's document as its app draws it: (post id, author, text)."""
    posts = "".join(
        f'<li class="post" id="post-{pid}"><div class="post-content">'
        f'<span class="author">{who}</span>'
        f'<a class="time-ago" href="#comment-{pid}" title="Tuesday, March 3, 2026 10:15 AM">'
        f'a day ago</a><div class="post-message"><p>{text}</p></div></div></li>'
        for pid, who, text in comments
    )
    return f'<html><body><ul id="post-list" class="post-list">{posts}</ul></body></html>'


def test_a_disqus_thread_met_without_a_browser_is_read_by_a_crawler_with_one(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]  # noqa: F811 - fixture
) -> None:
    from spiders.comments.items import CommentPlan

    if not hasattr(CommentPlan, "needs_browser"):
        pytest.skip("comment threads that need the browser (Disqus, task A) are not built yet")
    spec = newssite.make_site(1, seed=63)[0]
    embed = (
        '<div id="disqus_thread"><iframe src="/disqus/frame"></iframe></div>'
        '<script>var disqus_shortname = "veilletest";</script></body>'
    )
    page = newssite.render(spec, noise_seed=1, base_url=site.base_url)
    site.set(spec.path, page.replace("</body>", embed))
    thread = [(9001, "Amina", "Who pays for the new line?"), (9002, "Bruno", "Finally.")]
    site.set("/disqus/frame", disqus_frame(thread))
    url = site.url(spec.path)
    daemon_config(veille, [url])  # plain pages only: the daemon starts without a browser
    token = uuid.uuid4().hex
    daemon = RunningDaemon(veille, env={MARK: token})
    daemons.append(daemon)
    db = veille.database
    disqus = (
        "SELECT comments.author FROM comments JOIN comment_sources "
        "ON comment_sources.id = comments.source_id WHERE comment_sources.kind = 'disqus' "
        "ORDER BY comments.author"
    )
    daemon.wait_for("the Disqus comments", lambda: len(query(db, disqus)) == 2)
    assert [row[0] for row in query(db, disqus)] == ["Amina", "Bruno"]
    assert f"the disqus comments of {url} need the browser: starting a crawler with Chromium" in (
        daemon.text()
    )
    # The page was fetched again for its thread, but its article was stored once.
    assert states_of(db, url) == ["new"] and site.hits(spec.path) >= 2
    assert query(db, "SELECT last_state FROM comment_sources WHERE kind = 'disqus'") == [("ok",)]
    daemon.wait_for("the cycle to complete", lambda: cycles_settled(db))

    # Next round: the crawler has Chromium now, the thread is read in the same fetch.
    thread.append((9003, "Chloé", "Not before 2030, I bet."))
    site.set("/disqus/frame", disqus_frame(thread))
    make_due(db, [url])
    daemon.wait_for("the new comment", lambda: len(query(db, disqus)) == 3)
    assert daemon.text().count("need the browser") == 1
    assert (url, "comment_new") in veille.changes()
    assert daemon.stop(signal.SIGTERM, timeout=15) == 0
    wait_until("Chromium and its driver to exit", lambda: marked(token) == [], timeout=10)
    assert "Traceback" not in daemon.text()
