"""`veille demo` end to end (the real daemon run by the demo), Ctrl-C, and discovery in `veille run`."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from monitor.demo_site import DISPATCH_GERMAN, FIL_NEW, FIL_POLICE, SW_LANGUAGES, story_path
from tests.conftest import ROOT
from tests.discovery.test_discover import OFF_TOPIC, ON_TOPIC
from tests.monitor.test_daemon import RunningDaemon

if TYPE_CHECKING:
    from monitor.demo_site import DemoSite
    from tests.conftest import Veille


def test_the_demo_runs_the_daemon_and_shows_what_it_records(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    # No daemon outlives the demo, and it was stopped by SIGTERM, not killed.
    assert daemons_of(tmp_path / "veille.toml") == []
    log = (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert "stopping (SIGTERM)" in log and log.rstrip().endswith("veille stopped"), log

    db = read_only(tmp_path / "veille.db")
    base = out.split("an offline news site at ", 1)[1].split(" ", 1)[0]
    # The daemon did the work: its cycles, and every source read by its discovery job.
    assert db.execute("SELECT COUNT(*) FROM cycles WHERE finished_at IS NOT NULL").fetchone()[0] > 0
    assert db.execute("SELECT COUNT(DISTINCT source) FROM source_runs").fetchone()[0] == 6
    # The articles on topic, their translations and the one published during the demo; nothing
    # off topic, and the German article is in a language the topic does not follow.
    pages = {url.removeprefix(base) for (url,) in db.execute("SELECT url FROM pages")}
    assert pages == {*ON_TOPIC, FIL_NEW}
    outcomes = {  # the URL as listed: the feed's carry trackers
        url.split("?")[0]: outcome
        for url, outcome in db.execute("SELECT url, outcome FROM discovery_seen")
    }
    for path in OFF_TOPIC:
        assert outcomes.get(base + path) == "off_topic", path
    assert outcomes.get(base + DISPATCH_GERMAN) == "language"

    # What the demo made happen on the site, recorded by the daemon and printed as it came.
    changes = db.execute(
        "SELECT kind, url, stealth FROM change_feed ORDER BY change_id"
    ).fetchall()
    police, french = base + FIL_POLICE, base + story_path("fr")
    kinds = [(kind, url) for kind, url, _ in changes]
    for expected, count in (
        (("title", police), 1), (("comment_new", police), 2), (("comment_edited", police), 1),
        (("comment_deleted", police), 1), (("body", french), 1), (("article_new", base + FIL_NEW), 1),
    ):
        assert kinds.count(expected) == count, (expected, kinds)
    assert ("body", french, 1) in changes  # its modified date did not move: a stealth edit
    assert kinds.count(("article_new", police)) == 1  # found once, by several sources
    for kind, url, _ in changes:
        assert f"{kind:<15} {url.removeprefix(base)}" in out, (kind, url)
    assert "translation_lag: the fr version was edited" in out
    assert "comments   6 seen, 1 deleted" in out
    # Everything is in the database beside the config, ready to explore.
    check = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--config", str(tmp_path / "veille.toml"),
         "stories", "--lag", "0s"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )
    assert check.returncode == 0 and "translation_lag" in check.stdout


def test_ctrl_c_stops_the_demo_and_its_daemon(tmp_path: Path) -> None:
    proc, daemon = demo_mid_way(tmp_path)
    try:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, out
    assert "interrupted: stopping the daemon and the demo site" in out
    assert "Traceback" not in out
    assert daemons_of(tmp_path / "veille.toml") == [] and not Path(f"/proc/{daemon}").exists()
    log = (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert "stopping (SIGTERM)" in log and log.rstrip().endswith("veille stopped"), log


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux parent-death signal")
def test_a_demo_killed_outright_still_stops_its_daemon(tmp_path: Path) -> None:
    proc, daemon = demo_mid_way(tmp_path)
    proc.kill()  # no chance to clean up: the kernel sends the daemon SIGTERM
    proc.wait()
    deadline = time.monotonic() + 15
    while Path(f"/proc/{daemon}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert daemons_of(tmp_path / "veille.toml") == []
    log = (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert "stopping (SIGTERM)" in log and log.rstrip().endswith("veille stopped"), log


def demo_mid_way(folder: Path) -> tuple[subprocess.Popen[str], int]:
    """``veille demo`` started, once its daemon has recorded something: (demo, daemon pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "demo", "--dir", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while not changes_in(folder / "veille.db"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the demo's daemon recorded nothing\n{proc.communicate()[0]}")
        time.sleep(0.1)
    (daemon,) = daemons_of(folder / "veille.toml")
    return proc, daemon


def daemons_of(config: Path) -> list[int]:
    """Pids of the processes whose command line names ``config`` (the demo's daemon)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # exited meanwhile
            continue
        if str(config).encode() in argv and b"run" in argv:
            found.append(int(entry.name))
    return found


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def changes_in(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with closing(read_only(path)) as db:
            return int(db.execute("SELECT COUNT(*) FROM changes").fetchone()[0])
    except sqlite3.OperationalError:  # being created or migrated
        return 0


def test_python_m_monitor_demo_still_works() -> None:
    proc = subprocess.run([sys.executable, "-m", "monitor.demo", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, check=False)
    assert proc.returncode == 0 and "--dir" in proc.stdout


def test_the_daemon_runs_each_source_and_checks_what_it_finds(
    newsroom: Veille, news: DemoSite
) -> None:
    newsroom.config.write_text(
        newsroom.config.read_text() + '\n[daemon]\ntick = "0.2s"\n', encoding="utf-8"
    )
    daemon = RunningDaemon(newsroom)

    def query(sql: str) -> list[tuple[object, ...]]:
        if not newsroom.database.exists():
            return []
        try:
            return list(newsroom.db().execute(sql).fetchall())
        except sqlite3.OperationalError:  # not created or migrated yet
            return []

    def checked() -> set[str]:
        rows = query("SELECT url FROM pages WHERE current_version IS NOT NULL")
        return {str(url).removeprefix(news.base) for (url,) in rows}

    story = {story_path(lang) for lang in SW_LANGUAGES}
    try:
        daemon.wait_for("a first run of every source", lambda: query(
            "SELECT COUNT(DISTINCT source) FROM source_runs") == [(6,)])
        # Discovery adds the pages; the daemon's own tick checks them.
        daemon.wait_for("the five versions of the story checked", lambda: story <= checked())
        runs = query("SELECT COUNT(*) FROM source_runs")
    finally:
        code = daemon.stop()
    assert code == 0, daemon.text()
    # Each source runs once an hour by default: not again within this test.
    assert runs == [(6,)]
    assert FIL_POLICE in checked()
    assert ("article_new",) in query("SELECT DISTINCT kind FROM change_feed")
