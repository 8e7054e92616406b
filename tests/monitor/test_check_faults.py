"""FAULTS.md rows that touch fetching and storing: each is a fetch state, never a version.

F1 gzip bomb, F2 50 MB page, F3 endless chunked body, F4 trickle, F5 silent server, F6 refused
and truncated, F8 redirect loops, F10 empty / challenge / cookie wall / soft 404, F11 lying
charsets (in test_check_cycle), F26-F28 database faults, and a robots.txt refusal.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

import psutil
import pytest

from tests.servers import newssite
from tests.servers.faults import challenge_page, cookie_wall_page

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import Veille
    from tests.servers.http import LocalSite, SiteHandler

FAULT_STATES = {
    "/fault/huge": {"too_large"},
    "/fault/huge-chunked": {"too_large"},
    "/fault/gzip-bomb": {"too_large"},
    "/fault/redirect-loop": {"redirect_loop"},
    "/fault/meta-refresh-loop": {"redirect_loop"},
    "/fault/drop": {"truncated"},
    "/fault/slow?interval=1&bytes=600": {"timeout"},
    "/fault/hang?seconds=30": {"timeout"},
    "/fault/not-html": {"not_html"},
    "/fault/empty": {"empty"},
    "/fault/challenge": {"blocked"},
    "/fault/challenge?status=200": {"blocked"},
    "/fault/cookie-wall": {"blocked"},
    "/fault/soft-404": {"error_page"},
}


def test_faults_are_fetch_states_and_spare_the_other_pages(site: LocalSite, veille: Veille) -> None:
    good = newssite.make_site(1, seed=11)[0]
    site.set(good.path, newssite.render(good, noise_seed=1, base_url=site.base_url))
    veille.write_config(max_response_size='"10MB"', timeout='"3s"')
    veille.run("add", site.url(good.path), *(site.url(p) for p in FAULT_STATES), check=0)
    out = veille.run("check", check=1)  # some pages failed: exit code 1
    states = veille.last_states()
    assert states[site.url(good.path)] == "new"
    for path, expected in FAULT_STATES.items():
        assert states[site.url(path)] in expected, f"{path}: {states[site.url(path)]}"
    assert veille.db().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1
    assert veille.changes() == []
    assert "too_large" in out.stderr and "errors" in out.stdout


def test_a_watched_article_that_turns_into_a_wall_keeps_its_version(site: LocalSite, veille: Veille) -> None:
    spec = newssite.make_site(1, seed=12)[0]
    url = site.url(spec.path)
    site.set(spec.path, newssite.render(spec, noise_seed=1, base_url=site.base_url))
    veille.run("add", url, check=0)
    veille.run("check", check=0)
    for body, status, state in [
        (challenge_page(), 403, "blocked"),
        (challenge_page(), 200, "blocked"),
        (cookie_wall_page(), 200, "blocked"),
        ("", 200, "empty"),
        ("<html><body><p>Service temporarily unavailable</p></body></html>", 500, "http_error"),
    ]:
        site.set(spec.path, body, status=status, conditional=False)
        veille.run("check", "--all")
        assert veille.last_states()[url] == state
    # The article is back with new noise: nothing happened to it.
    site.set(spec.path, newssite.render(spec, noise_seed=9, base_url=site.base_url))
    veille.run("check", "--all", check=0)
    assert veille.last_states()[url] == "unchanged"
    assert veille.changes() == []
    assert veille.db().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1


def test_refused_connection_is_an_error_state(veille: Veille) -> None:
    from tests.servers.http import unused_port_url

    url = unused_port_url("/article.html")
    veille.run("add", url, check=0)
    veille.run("check", check=1)
    assert veille.last_states()[url] == "connection_error"


def test_robots_txt_is_obeyed_by_default(site: LocalSite, veille: Veille) -> None:
    spec = newssite.make_site(1, seed=13)[0]
    site.set(spec.path, newssite.render(spec, noise_seed=1, base_url=site.base_url))
    site.robots("User-agent: *\nDisallow: /\n")
    veille.write_config(obey_robots_txt="true")
    veille.run("add", site.url(spec.path), check=0)
    veille.run("check", check=1)
    assert veille.last_states()[site.url(spec.path)] == "robots"
    assert site.hits(spec.path) == 0


def test_5xx_is_retried_after_a_pause_then_recorded(site: LocalSite, veille: Veille) -> None:
    spec = newssite.make_site(1, seed=14)[0]
    page = newssite.render(spec, noise_seed=1, base_url=site.base_url).encode()
    answers = iter([503, 502])
    times: list[float] = []

    def flaky(h: SiteHandler) -> None:
        times.append(time.monotonic())
        status = next(answers, 200)
        h.send_response(status)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        body = page if status == 200 else b"<h1>busy</h1>"
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site.handle("/flaky.html", flaky)
    veille.write_config(retries="2")
    veille.run("add", site.url("/flaky.html"), check=0)
    veille.run("check", check=0)
    assert veille.last_states()[site.url("/flaky.html")] == "new"
    assert len(times) == 3
    # The backoff waits about 1 s, then about 2 s (never less than the base pause).
    assert times[1] - times[0] >= 0.9 and times[2] - times[1] >= 1.8


def _serve_site(site: LocalSite, count: int) -> list[str]:
    specs = newssite.make_site(count, seed=15)
    for spec in specs:
        site.set(spec.path, newssite.render(spec, noise_seed=1, base_url=site.base_url))
    return [site.url(spec.path) for spec in specs]


def test_kill_9_mid_check_loses_nothing_and_leaves_no_partial_result(site: LocalSite, veille: Veille) -> None:  # F28
    urls = _serve_site(site, 300)
    veille.run("add", "-", stdin="\n".join(urls), check=0)
    for _attempt in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "check"],
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                done = sqlite3.connect(veille.database).execute("SELECT COUNT(*) FROM checks").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if done >= 20:
                break
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Extraction workers die with their parent: nothing is left running.
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], f"orphans left after kill -9: {alive}"
    conn = sqlite3.connect(veille.database)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every version has its check row and its page pointer: written together or not at all.
    orphans = conn.execute(
        "SELECT COUNT(*) FROM versions v WHERE NOT EXISTS "
        "(SELECT 1 FROM checks c WHERE c.version_id = v.id) "
        "OR NOT EXISTS (SELECT 1 FROM pages p WHERE p.current_version = v.id)"
    ).fetchone()[0]
    assert orphans == 0
    killed_at = conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    assert 0 < killed_at < 300
    # The next run picks up where it stopped; no page gets a second version.
    veille.run("check", check=0)
    counts = conn.execute("SELECT COUNT(*), COUNT(DISTINCT page_id) FROM versions").fetchone()
    assert counts == (300, 300)


def test_a_database_locked_for_a_moment_loses_no_result(site: LocalSite, veille: Veille) -> None:  # F27
    urls = _serve_site(site, 20)
    veille.run("add", "-", stdin="\n".join(urls), check=0)
    locker = sqlite3.connect(veille.database, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(2.0, lambda: locker.execute("COMMIT"))
    release.start()
    try:
        veille.run("check", check=0)
    finally:
        release.join()
    assert veille.db().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs to fill up (F25); skipped where this machine does not let us mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_stores_whole_pages_and_the_rest_later(site: LocalSite, small_disk: Path) -> None:  # F25
    from tests.conftest import Veille

    veille = Veille(small_disk)
    veille.write_config()
    urls = _serve_site(site, 60)
    veille.run("add", "-", stdin="\n".join(urls), check=0)
    # Room for a few pages only: each new version keeps its compressed HTML (about 10 KB).
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - 400_000))
    full = veille.run("check")
    assert full.returncode == 1, full.stdout + full.stderr
    assert "store_error" in full.stderr and "Traceback" not in full.stdout, full.stderr[-2000:]
    db = sqlite3.connect(f"file:{veille.database}?mode=ro", uri=True)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = db.execute("SELECT COUNT(*), COUNT(DISTINCT page_id) FROM versions").fetchone()
    assert stored[0] == stored[1] and 0 < stored[0] < 60
    # A page is stored whole or not at all: no check without its version, none half-written.
    assert db.execute(
        "SELECT COUNT(*) FROM pages WHERE last_checked_at IS NOT NULL"
        " AND id NOT IN (SELECT page_id FROM versions)"
    ).fetchone()[0] == 0
    db.close()
    filler.unlink()  # room again: the next check stores the rest, and only the rest
    again = veille.run("check", check=0)
    assert f"{60 - stored[0]} pages checked" in again.stdout, again.stdout
    db = sqlite3.connect(f"file:{veille.database}?mode=ro", uri=True)
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT page_id) FROM versions").fetchone() == (60, 60)
    db.close()
