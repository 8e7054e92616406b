"""`veille status`: what it prints and its exit code, on a real database made by the real CLI."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import TYPE_CHECKING

from storage.cycles import finish_cycle, start_cycle
from storage.db import open_database
from tests.servers import newssite

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite


def _checked_site(site: LocalSite, veille: Veille, count: int = 2) -> list[str]:
    specs = newssite.make_site(count, seed=51)
    for spec in specs:
        site.set(spec.path, newssite.render(spec, noise_seed=1, base_url=site.base_url))
    urls = [site.url(spec.path) for spec in specs]
    veille.write_config("".join(f'[[pages]]\nurl = "{url}"\n' for url in urls))
    veille.run("check", check=0)
    return urls


def _set_all_due(veille: Veille, seconds_ago: float) -> None:
    conn = sqlite3.connect(veille.database, isolation_level=None)
    conn.execute("UPDATE pages SET next_check_at = ?", [time.time() - seconds_ago])
    conn.close()


def _add_cycle(veille: Veille, *, ago: float, pages: int, errors: int = 0) -> None:
    db = open_database(veille.database)
    started = time.time() - ago
    cycle = start_cycle(db, started_at=started, pages=pages)
    finish_cycle(db, cycle, finished_at=started + 2, checked=pages, changed=1, errors=errors)
    db.close()


def test_status_of_a_fresh_database_is_healthy(site: LocalSite, veille: Veille) -> None:
    _checked_site(site, veille)
    out = veille.run("status", check=0).stdout
    lines = {line[:12].strip(): line[13:] for line in out.splitlines()}
    assert lines["pages"] == "2 watched, 0 removed by their site"
    assert lines["last check"] == "2 new"
    assert lines["due now"] == "0"
    assert lines["last cycle"].startswith("none yet")
    assert lines["alerts"] == "0 waiting, 0 failed"
    assert lines["database"].startswith(str(veille.database)) and "KiB" in lines["database"]
    assert lines["health"] == "ok"


def test_pages_overdue_without_a_cycle_are_unhealthy(site: LocalSite, veille: Veille) -> None:
    _checked_site(site, veille)
    _set_all_due(veille, seconds_ago=3 * 3600)  # the default shortest interval is 10 minutes
    proc = veille.run("status", check=1)
    assert "UNHEALTHY: no cycle ever while 2 pages are due (the oldest for 3h00m)" in proc.stdout
    # A cycle a minute ago: the daemon is working through the backlog, all is well.
    _add_cycle(veille, ago=60, pages=2)
    proc = veille.run("status", check=0)
    assert "2 pages, 1 changed, 0 errors, 2.0 s" in proc.stdout
    # Its last cycle an hour ago, pages overdue by three hours: down again.
    _add_cycle(veille, ago=0, pages=0)
    conn = sqlite3.connect(veille.database, isolation_level=None)
    conn.execute("UPDATE cycles SET started_at = started_at - 3600")
    conn.close()
    assert "UNHEALTHY: no cycle since" in veille.run("status", check=1).stdout


def test_a_high_error_share_is_unhealthy_and_listed_by_domain(site: LocalSite, veille: Veille) -> None:
    _checked_site(site, veille)
    conn = sqlite3.connect(veille.database, isolation_level=None)
    conn.execute("UPDATE pages SET errors_in_row = 3, last_state = 'timeout'")
    conn.close()
    _add_cycle(veille, ago=120, pages=20, errors=15)
    proc = veille.run("status", check=1)
    assert "UNHEALTHY: 15 of the 20 checks of the last hour failed" in proc.stdout
    assert "in error     127.0.0.1 2" in proc.stdout
    data = json.loads(veille.run("status", "--json", check=1).stdout)
    assert data["healthy"] is False and data["errors_by_domain"] == {"127.0.0.1": 2}
    assert data["last_hour"]["checked"] == 20 and data["alerts_waiting"] == 0


def test_few_errors_among_few_checks_are_not_an_alarm(site: LocalSite, veille: Veille) -> None:
    _checked_site(site, veille)
    _add_cycle(veille, ago=120, pages=3, errors=3)
    assert "health       ok" in veille.run("status", check=0).stdout


def test_alerts_waiting_and_failed_are_counted(site: LocalSite, veille: Veille) -> None:
    _checked_site(site, veille)
    conn = sqlite3.connect(veille.database, isolation_level=None)
    conn.executemany(
        "INSERT INTO alert_outbox (change_id, route, state, next_attempt_at, created_at, message_id) "
        "VALUES (?, 'team', ?, 0, 0, ?)",
        [(n, state, f"<{n}@veille>") for n, state in enumerate(["pending", "sent", "failed", "pending"])],
    )
    conn.close()
    assert "alerts       2 waiting, 1 failed" in veille.run("status", check=0).stdout


def test_alerts_are_n_a_on_a_database_without_an_outbox(site: LocalSite, veille: Veille) -> None:
    _checked_site(site, veille)
    conn = sqlite3.connect(veille.database, isolation_level=None)
    conn.execute("DROP VIEW IF EXISTS alerts_readable")
    conn.execute("DROP TABLE alert_outbox")
    conn.close()
    assert "alerts       n/a" in veille.run("status", check=0).stdout


def test_status_without_a_database_says_so(veille: Veille) -> None:
    proc = veille.run("status", check=1)
    assert "no database yet" in proc.stderr and "Traceback" not in proc.stderr
