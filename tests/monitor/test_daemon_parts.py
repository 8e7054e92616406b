"""The daemon's parts on a real SQLite file: picking due pages, cycles, retention, notify, logs."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from typing import TYPE_CHECKING

import pytest

from monitor.config import DaemonSettings, load_config
from monitor.daemon import Daemon
from monitor.logs import JsonFormatter, TextFormatter
from monitor.notify import Notifier
from monitor.record import Outcome
from monitor.scheduler import ConfigIntervals, Dispatcher
from storage.cycles import last_cycle, prune_checks, start_cycle
from storage.db import open_database
from storage.pages import add_pages, record_check, update_page

if TYPE_CHECKING:
    from pathlib import Path

    import sqlite_utils


def _db_with_pages(tmp_path: Path, count: int) -> sqlite_utils.Database:
    db = open_database(tmp_path / "v.db")
    add_pages(db, [f"https://example.org/{i}" for i in range(count)], topic=None, now=0)
    # Page i fell due at time i: a backlog of ``count`` pages, page 0 the oldest.
    db.execute("UPDATE pages SET next_check_at = id - 1")
    return db


def test_a_backlog_is_taken_oldest_first_a_batch_at_a_time(tmp_path: Path) -> None:
    db = _db_with_pages(tmp_path, 50)
    dispatcher = Dispatcher(db, batch=20, stall_after=60)
    first = dispatcher.pick(now=1000)
    assert [p.url for p in first] == [f"https://example.org/{i}" for i in range(20)]
    cycle = dispatcher.begin(first, now=1000)
    assert dispatcher.pick(now=1001) == []  # the batch is full: nothing more until results come
    for page in first[:5]:
        update_page(db, page.id, next_check_at=5000)  # what the recorder does with a result
        assert dispatcher.settle(page.id, Outcome(page.url, "unchanged"), now=1002) is None
    second = dispatcher.pick(now=1003)
    # Five free places, given to the next oldest pages, never to those still in flight.
    assert [p.url for p in second] == [f"https://example.org/{i}" for i in range(20, 25)]
    row = last_cycle(db)
    assert row is not None and (row.id, row.pages, row.finished_at) == (cycle.id, 20, None)


def test_a_cycle_is_stored_when_its_last_result_arrives(tmp_path: Path) -> None:
    db = _db_with_pages(tmp_path, 3)
    dispatcher = Dispatcher(db, batch=10, stall_after=60)
    pages = dispatcher.pick(now=100)
    cycle = dispatcher.begin(pages, now=100)
    outcomes = [
        Outcome(pages[0].url, "changed", ["title"]),
        Outcome(pages[1].url, "timeout", error="timed out"),
        Outcome(pages[2].url, "unchanged"),
    ]
    done = [dispatcher.settle(p.id, o, now=105) for p, o in zip(pages, outcomes, strict=True)]
    assert done == [None, None, cycle]
    row = last_cycle(db)
    assert row is not None
    assert (row.finished_at, row.pages, row.checked, row.changed, row.errors) == (105, 3, 3, 1, 1)
    # A late result for a page nobody waits for is ignored by the bookkeeping.
    assert dispatcher.settle(pages[0].id, outcomes[0], now=106) is None


def test_a_stalled_fetch_is_given_up_and_its_page_picked_again(tmp_path: Path) -> None:
    db = _db_with_pages(tmp_path, 2)
    dispatcher = Dispatcher(db, batch=10, stall_after=60)
    pages = dispatcher.pick(now=100)
    dispatcher.begin(pages, now=100)
    dispatcher.settle(pages[0].id, Outcome(pages[0].url, "unchanged"), now=101)
    update_page(db, pages[0].id, next_check_at=10_000)
    assert dispatcher.expire(now=150) == []
    (cycle,) = dispatcher.expire(now=161)
    assert (cycle.checked, cycle.abandoned) == (1, 1)
    assert [p.id for p in dispatcher.pick(now=162)] == [pages[1].id]


def test_abandon_all_completes_every_open_cycle(tmp_path: Path) -> None:
    db = _db_with_pages(tmp_path, 4)
    dispatcher = Dispatcher(db, batch=2, stall_after=60)
    dispatcher.begin(dispatcher.pick(now=10), now=10)
    dispatcher.batch = 4
    dispatcher.begin(dispatcher.pick(now=11), now=11)
    assert dispatcher.in_flight == 4
    done = dispatcher.abandon_all(now=12)
    assert sorted(c.abandoned for c in done) == [2, 2] and dispatcher.in_flight == 0
    assert db.execute("SELECT COUNT(*) FROM cycles WHERE finished_at = 12").fetchone()[0] == 2


def test_config_intervals_follow_the_page_then_its_topic(tmp_path: Path) -> None:
    path = tmp_path / "veille.toml"
    path.write_text(
        '[[topics]]\nname = "fast"\ninterval = "1m"\n\n'
        '[[pages]]\nurl = "https://example.org/own"\ntopic = "fast"\ninterval = "30s"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    db = open_database(config.database)
    add_pages(db, ["https://example.org/own"], topic="fast", now=0)
    add_pages(db, ["https://example.org/later"], topic="fast", now=0)  # `veille add` while running
    add_pages(db, ["https://example.org/free"], topic=None, now=0)
    ids = dict(db.execute("SELECT url, id FROM pages").fetchall())
    intervals = ConfigIntervals(db, config)
    assert intervals  # the recorder keeps it (``intervals or {}``)
    assert intervals.get(ids["https://example.org/own"]) == 30.0
    assert intervals.get(ids["https://example.org/later"]) == 60.0
    assert intervals.get(ids["https://example.org/free"]) is None
    assert intervals.get(999) is None


def test_retention_keeps_the_checks_that_prove_a_version(tmp_path: Path) -> None:
    db = _db_with_pages(tmp_path, 1)
    day = 86400
    for n in range(12):
        record_check(
            db, 1, at=n * day, state="new" if n == 0 else "unchanged", http_status=200, ms=1,
            nbytes=1, version_id=1 if n == 0 else None,
        )
    total = 0
    after: int | None = 0
    while after is not None:  # small chunks, as the maintenance job walks them
        deleted, after = prune_checks(db, before=10 * day, after_id=after, limit=3)
        total += deleted
    kept = [row[0] // day for row in db.execute("SELECT at FROM checks ORDER BY id")]
    assert total == 9 and kept == [0, 10, 11]


def test_the_maintenance_job_prunes_and_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "veille.toml"
    path.write_text('[daemon]\nretention = "1d"\n', encoding="utf-8")
    config = load_config(path)
    assert config.daemon == DaemonSettings(retention=86400.0)
    db = open_database(config.database)
    add_pages(db, ["https://example.org/a"], topic=None, now=0)
    now = time.time()
    for at in (now - 3 * 86400, now - 2 * 86400, now - 60):
        record_check(db, 1, at=at, state="unchanged", http_status=200, ms=1, nbytes=1)
    for started in (now - 3 * 86400, now - 60):
        start_cycle(db, started_at=started, pages=1)
    asyncio.run(Daemon(config, db).maintenance())
    assert [r[0] for r in db.execute("SELECT at FROM checks")] == [int(now - 60)]
    assert [r[0] for r in db.execute("SELECT started_at FROM cycles")] == [now - 60]


def test_notifier_is_silent_without_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    notifier = Notifier()
    assert notifier.send("READY=1") is False and notifier.watchdog_period() is None


def test_notifier_sends_datagrams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "n.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.setenv("WATCHDOG_USEC", "3000000")
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        notifier = Notifier()
        assert notifier.watchdog_period() == 1.5
        notifier.ready("2 pages")
        assert sock.recv(1024) == b"READY=1\nSTATUS=2 pages"
        monkeypatch.setenv("WATCHDOG_PID", "1")  # the watchdog is meant for another process
        assert notifier.watchdog_period() is None
    finally:
        sock.close()


def _record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("monitor.daemon", level, __file__, 1, message, (), None)


def test_log_lines_for_a_terminal_and_for_journald() -> None:
    plain = TextFormatter(journal=False).format(_record(logging.INFO, "cycle 1"))
    assert plain.endswith(" INFO monitor.daemon: cycle 1") and plain[:4].isdigit()
    journal = TextFormatter(journal=True).format(_record(logging.WARNING, "slow"))
    assert journal == "<4>WARNING monitor.daemon: slow"
    line = JsonFormatter(journal=False).format(_record(logging.ERROR, "refused « x »"))
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"] == "refused « x »"
    assert entry["time"].endswith("Z")
    journal_json = JsonFormatter(journal=True).format(_record(logging.INFO, "ok"))
    assert journal_json.startswith("<6>{") and "time" not in json.loads(journal_json[3:])


def test_reload_brings_forward_pages_whose_interval_shrinks(tmp_path: Path) -> None:
    path = tmp_path / "veille.toml"
    path.write_text('[[pages]]\nurl = "https://example.org/a"\ninterval = "1d"\n', encoding="utf-8")
    config = load_config(path)
    db = open_database(config.database)
    add_pages(db, ["https://example.org/a", "https://example.org/b"], topic="t", now=0)
    db.execute("UPDATE pages SET last_checked_at = 1000, next_check_at = 1000 + 86400")
    daemon = Daemon(config, db)
    path.write_text(
        '[[topics]]\nname = "t"\ninterval = "1h"\n\n'
        '[[pages]]\nurl = "https://example.org/a"\ntopic = "t"\ninterval = "10m"\n',
        encoding="utf-8",
    )
    daemon.reload()
    assert daemon.config.pages[0].interval == 600.0
    assert dict(db.execute("SELECT url, next_check_at FROM pages").fetchall()) == {
        "https://example.org/a": 1000 + 600, "https://example.org/b": 1000 + 3600,
    }
    path.write_text("[http]\ntimeout = 5\n[daemon]\nbatch = -1\n", encoding="utf-8")
    daemon.reload()  # refused: the previous config stays
    assert daemon.config.pages[0].interval == 600.0


def test_the_tick_restarts_after_the_clock_goes_back(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    path = tmp_path / "veille.toml"
    path.write_text('[daemon]\ntick = "1s"\n', encoding="utf-8")
    config = load_config(path)
    daemon = Daemon(config, open_database(config.database))

    async def scenario() -> tuple[bool, bool, float]:
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        # As after the wall clock went back two hours: the next run is two hours away.
        scheduler.add_job(
            daemon.tick, "interval", seconds=1, id="tick",
            start_date=datetime.now(UTC) + timedelta(hours=2),
        )
        scheduler.start(paused=True)
        daemon.scheduler = scheduler
        fresh = daemon.check_clock()  # the tick ran a moment ago: nothing to do
        daemon._last_tick -= 10
        restarted = daemon.check_clock()
        job = scheduler.get_job("tick")
        scheduler.shutdown(wait=False)
        return fresh, restarted, job.next_run_time.timestamp() - time.time()

    fresh, restarted, wait = asyncio.run(scenario())
    assert (fresh, restarted) == (False, True) and wait < 2


def test_the_crawler_leaves_out_only_components_veille_turns_off(tmp_path: Path) -> None:
    from scrapy.settings import default_settings

    from monitor.daemon import crawler_settings

    path = tmp_path / "veille.toml"
    path.write_text("", encoding="utf-8")
    settings = crawler_settings(load_config(path))
    dropped = set(default_settings.EXTENSIONS_BASE) - set(settings["EXTENSIONS_BASE"])
    dropped |= set(default_settings.DOWNLOADER_MIDDLEWARES_BASE) - set(
        settings["DOWNLOADER_MIDDLEWARES_BASE"]
    )
    assert {name.rsplit(".", 1)[1] for name in dropped} == {
        "RemoteControl", "TelnetConsole", "FeedExporter", "CookiesMiddleware",
    }
    assert not settings["COOKIES_ENABLED"] and not settings["TELNETCONSOLE_ENABLED"]
    assert not settings["REMOTE_CONTROL_ENABLED"] and not settings.get("FEEDS")


def test_release_memory_empties_the_extraction_caches() -> None:
    from trafilatura import extract
    from trafilatura.utils import trim

    from monitor.memory import release_memory

    html = "<html><body><article>" + "<p>Un paragraphe assez long pour compter. </p>" * 30
    extract(html + "</article></body></html>")
    assert trim.cache_info().currsize > 0
    release_memory()
    assert trim.cache_info().currsize == 0
