"""A large `veille check` split over processes (monitor.parallel): same results, same politeness.

Real parts: generated article pages on a local HTTP server that counts the requests it serves at
once, the real CLI in a subprocess, the SQLite file it writes.
"""

from __future__ import annotations

import random
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from monitor.config import Config, HttpSettings
from monitor.parallel import MIN_PAGES_PER_SHARD, plan_shards, shard_count
from tests.servers.newssite import make_site, mutate, render

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite, SiteHandler


@dataclass(frozen=True)
class Page:
    id: int
    url: str


def pages(*sites: tuple[str, int]) -> list[Page]:
    urls = [f"http://{host}/a/{k}.html" for host, count in sites for k in range(count)]
    return [Page(number, url) for number, url in enumerate(urls, 1)]


def config(**http: int) -> Config:
    return Config(
        path=Path("veille.toml"), database=Path("veille.db"), http=HttpSettings(**http),
        topics=(), pages=(),
    )


# -- planning --------------------------------------------------------------------------------


def test_small_cycles_stay_in_one_process() -> None:
    assert shard_count(2 * MIN_PAGES_PER_SHARD - 1, 2) == 1
    assert shard_count(2 * MIN_PAGES_PER_SHARD, 2) == 2
    assert shard_count(10_000, 1) == 1
    assert shard_count(10_000, 3) == 3


def test_sites_are_kept_whole_with_their_own_concurrency() -> None:
    shards = plan_shards(
        pages(("a.test", 150), ("b.test", 120), ("c.test", 40)),
        config(concurrent_requests=16, concurrency_per_domain=4), 2,
    )
    assert len(shards) == 2
    hosts = [{url.split("/")[2] for url in shard.urls} for shard in shards]
    assert hosts[0].isdisjoint(hosts[1])  # no site in two processes
    assert sorted(len(s.urls) for s in shards) == [150, 160]
    assert all(s.concurrency_per_domain == 4 and s.concurrent_requests == 8 for s in shards)


def test_a_site_too_big_for_one_process_shares_its_concurrency() -> None:
    shards = plan_shards(
        pages(("big.test", 300), ("small.test", 10)),
        config(concurrent_requests=16, concurrency_per_domain=4), 2,
    )
    assert len(shards) == 2
    assert sum(len(s.urls) for s in shards) == 310
    big = [sum("big.test" in url for url in s.urls) for s in shards]
    assert big == [150, 150]
    # Two processes at 2 each: the site never sees more than its 4 requests at once.
    assert [s.concurrency_per_domain for s in shards] == [2, 2]


def test_a_site_allowed_one_request_at_a_time_is_not_split() -> None:
    shards = plan_shards(pages(("one.test", 300)), config(concurrency_per_domain=1), 2)
    assert len(shards) == 1 and len(shards[0].urls) == 300
    assert shards[0].concurrency_per_domain == 1


def test_pages_for_the_browser_share_one_process() -> None:
    all_pages = pages(("a.test", 200), ("b.test", 200))
    browser = {p.id for p in all_pages[::50]}  # some of each site
    shards = plan_shards(all_pages, config(concurrency_per_domain=4), 2, browser)
    rendered = {p.url for p in all_pages if p.id in browser}
    assert rendered <= set(shards[0].urls)
    assert rendered.isdisjoint(shards[1].urls)


# -- end to end ------------------------------------------------------------------------------


class CountingSite:
    """Article pages served with a short delay, counting the requests in flight."""

    def __init__(self, site: LocalSite, count: int, delay: float = 0.0) -> None:
        self.site = site
        self.delay = delay
        self.specs = {spec.path: spec for spec in make_site(count, seed=7)}
        self.bodies = {path: render(spec, noise_seed=1, base_url=site.base_url).encode()
                       for path, spec in self.specs.items()}
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        for path in self.bodies:
            site.handle(path, self.serve)

    def urls(self) -> list[str]:
        return [self.site.url(path) for path in self.bodies]

    def serve(self, handler: SiteHandler) -> None:
        # Counted from the request's arrival to just before the answer is written: within that
        # span the client surely holds its slot (counting up to after the write would also
        # count a client that already moved on while this thread waits for the GIL).
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            time.sleep(self.delay)
            body = self.bodies[handler.path.split("?")[0]]
        finally:
            with self.lock:
                self.in_flight -= 1
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def next_round(self, edits: int, noise_seed: int) -> set[str]:
        """New noise everywhere and one true edit on ``edits`` pages: their URLs."""
        rng = random.Random(noise_seed)
        edited = set(rng.sample(sorted(self.specs), edits))
        for path in edited:
            self.specs[path] = mutate(self.specs[path], "body", rng)
        for path, spec in self.specs.items():
            self.bodies[path] = render(spec, noise_seed=noise_seed, base_url=self.site.base_url).encode()
        return {self.site.url(path) for path in edited}


def test_the_crawl_components_are_imported_before_the_fork() -> None:
    """Every class a crawl loads is imported by import_crawl_modules (so children share it)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys\n"
        "from scrapy.settings import Settings\n"
        "from monitor.config import HttpSettings\n"
        "from monitor.crawl import import_crawl_modules, scrapy_settings\n"
        "settings = scrapy_settings(HttpSettings(), ())\n"
        "import_crawl_modules(settings)\n"
        "loaded = Settings(settings)\n"
        "paths = [p for t in ('DOWNLOADER_MIDDLEWARES', 'SPIDER_MIDDLEWARES', 'EXTENSIONS',"
        " 'ITEM_PIPELINES') for p, o in loaded.getwithbase(t).items() if o is not None]\n"
        "paths += [p for p in loaded.getwithbase('DOWNLOAD_HANDLERS').values() if p]\n"
        "paths += [loaded.get('DOWNLOADER'), loaded.get('SCHEDULER')]\n"
        "missing = [p for p in paths if p.rsplit('.', 1)[0] not in sys.modules]\n"
        "print(len(paths), missing)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    count, missing = done.stdout.split(" ", 1)
    assert int(count) > 15 and missing.strip() == "[]", done.stdout


def test_a_large_check_in_two_processes_records_every_page_once(
    site: LocalSite, veille: Veille
) -> None:
    pages_site = CountingSite(site, 2 * MIN_PAGES_PER_SHARD + 20, delay=0.005)
    veille.write_config(processes="2", concurrency_per_domain="4", concurrent_requests="16")
    veille.run("add", "-", stdin="\n".join(pages_site.urls()), check=0)

    first = veille.run("-v", "check", "--all", check=0)
    total = len(pages_site.bodies)
    assert f"checking {total} pages in 2 processes" in first.stderr
    assert f"{total} pages checked: {total} unchanged or new ({total} new)" in first.stdout
    # One site split over two processes at 2 requests each: never more than its 4 at once.
    assert 1 <= pages_site.most <= 4
    db = veille.db()
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT page_id) FROM checks").fetchone() == (total, total)
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == total

    edited = pages_site.next_round(edits=12, noise_seed=2)
    second = veille.run("check", "--all", check=0)
    assert f"{total} pages checked" in second.stdout and "12 changed" in second.stdout
    changed = {url for url, kind in veille.changes() if kind in ("body", "title")}
    assert changed == edited
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_one_process_keeps_to_the_per_domain_concurrency(site: LocalSite, veille: Veille) -> None:
    # Scrapy 2.19 alone sent up to 15 requests at once here (spiders/downloader.py).
    pages_site = CountingSite(site, 60, delay=0.01)
    veille.write_config(processes="1", concurrency_per_domain="2", concurrent_requests="16")
    veille.run("add", "-", stdin="\n".join(pages_site.urls()), check=0)
    veille.run("check", "--all", check=0)
    assert pages_site.most == 2


def test_a_check_process_killed_loses_nothing_stored(site: LocalSite, veille: Veille) -> None:
    pages_site = CountingSite(site, 2 * MIN_PAGES_PER_SHARD + 20, delay=0.05)
    veille.write_config(processes="2", concurrency_per_domain="2", concurrent_requests="4")
    veille.run("add", "-", stdin="\n".join(pages_site.urls()), check=0)
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "check", "--all"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        victim = None
        while time.monotonic() < deadline and victim is None:
            children = psutil.Process(proc.pid).children()
            stored = _count(veille, "SELECT COUNT(*) FROM checks")
            # The check itself runs the first share; the second is its one child.
            if len(children) == 1 and stored >= 20:
                victim = children[0]
            time.sleep(0.05)
        assert victim is not None, "the check never ran in two processes"
        victim.kill()  # kill -9 mid-cycle
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, (out, err)
    assert "check process ended" in out + err
    _assert_whole_pages_and_the_rest_due(veille, len(pages_site.bodies))


@pytest.mark.parametrize(
    ("processes", "signal_name"), [("2", "SIGINT"), ("1", "SIGTERM")], ids=["ctrl-c-2", "term-1"]
)
def test_a_stopped_check_keeps_what_it_stored(
    site: LocalSite, veille: Veille, processes: str, signal_name: str
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    pages_site = CountingSite(site, 2 * MIN_PAGES_PER_SHARD + 20, delay=0.05)
    veille.write_config(processes=processes, concurrency_per_domain="2", concurrent_requests="4")
    veille.run("add", "-", stdin="\n".join(pages_site.urls()), check=0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "check", "--all"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "VEILLE_EXTRACT_WORKERS": "0"},  # no pool: its workers are children too
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(psutil.Process(proc.pid).children()) == int(processes) - 1 and _count(
                veille, "SELECT COUNT(*) FROM checks"
            ) >= 20:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the check never ran in {processes} processes")
        proc.send_signal(getattr(signal, signal_name))
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "interrupted: the pages checked so far are stored" in err, err
    _assert_whole_pages_and_the_rest_due(veille, len(pages_site.bodies))


def test_the_progress_bar_counts_the_pages_of_every_process(site: LocalSite, veille: Veille) -> None:
    """On a terminal, each page's outcome is relayed from the child as it comes."""
    import os
    import pty
    import subprocess
    import sys

    from tests.conftest import ROOT

    pages_site = CountingSite(site, 2 * MIN_PAGES_PER_SHARD + 20)
    veille.write_config(processes="2", concurrency_per_domain="4", concurrent_requests="8")
    veille.run("add", "-", stdin="\n".join(pages_site.urls()), check=0)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "check", "--all"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, text=True,
        env={**os.environ, "VEILLE_EXTRACT_WORKERS": "0", "COLUMNS": "120"},
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the check ended and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    total = len(pages_site.bodies)
    assert proc.returncode == 0 and f"{total} pages checked" in out, out
    # The bar moved through the child's pages too, up to all of them.
    percents = [int(p) for p in re.findall(rb"(\d+)%", shown)]
    assert percents and max(percents) == 100, shown[-500:]
    assert len(set(percents)) > 3, percents


def _assert_whole_pages_and_the_rest_due(veille: Veille, total: int) -> None:
    """After a check cut short: a sound file, whole pages only, the rest taken by the next check."""
    db = veille.db()
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    checked = db.execute("SELECT COUNT(*), COUNT(DISTINCT page_id) FROM checks").fetchone()
    assert checked[0] == checked[1] < total  # no duplicates, some left undone
    # Every stored check has its version: a page is stored whole or not at all.
    assert db.execute(
        "SELECT COUNT(*) FROM pages WHERE last_checked_at IS NOT NULL"
        " AND id NOT IN (SELECT page_id FROM versions)"
    ).fetchone()[0] == 0
    # The pages left undone are still due: the next check takes them.
    again = veille.run("check", check=0)
    assert f"{total - checked[0]} pages checked" in again.stdout


def _count(veille: Veille, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{veille.database}?mode=ro", uri=True, timeout=1) as con:
            return int(con.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert not [p for p in left if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
