"""The real daemon (`veille run` as a subprocess) against a local site whose pages change.

Changes recorded as they happen, SIGHUP with an added page and with a broken config, SIGTERM
while fetching (FAULTS F32), kill -9 at random moments (F28), the systemd notify protocol, JSON
and journald log lines. Pages use `interval = "10s"` and a 0.2 s tick; where waiting for the
schedule adds nothing, a test makes pages due at once by setting `next_check_at` as any other
writer of the database could.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ROOT
from tests.servers import newssite

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.conftest import Veille
    from tests.servers.http import LocalSite

TICK = "0.2s"


class RunningDaemon:
    """`veille run` in a subprocess, its stderr kept in a file."""

    count = 0

    def __init__(self, veille: Veille, *args: str, env: dict[str, str] | None = None) -> None:
        RunningDaemon.count += 1
        self.veille = veille
        self.log = veille.folder / f"daemon-{RunningDaemon.count}.log"
        full_env = {**os.environ, "VEILLE_EXTRACT_WORKERS": "0", **(env or {})}
        for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "INVOCATION_ID", "JOURNAL_STREAM"):
            if not env or name not in env:
                full_env.pop(name, None)
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "run", *args],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, env=full_env,
            )

    def text(self) -> str:
        """Everything the daemon logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll ``condition`` until it holds; fail with the log if the daemon dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.proc.poll() is not None:
                pytest.fail(f"daemon exited ({self.proc.returncode}) before {what}\n{self.text()}")
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}\n{self.text()}")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send ``signum`` and return the exit code; fail if it takes more than ``timeout``."""
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"daemon still running {timeout}s after {signum}\n{self.text()}")

    def kill(self) -> None:
        """kill -9, if still running."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def daemons() -> Iterator[list[RunningDaemon]]:
    """Daemons a test started; any still running at the end is killed."""
    started: list[RunningDaemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def query(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows of ``sql``, or [] while the database or its tables do not exist yet."""
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def scalar(db: Path, sql: str, params: tuple[object, ...] = ()) -> int:
    """The first column of the first row of ``sql`` (0 when there is none)."""
    rows = query(db, sql, params)
    value = rows[0][0] if rows else None
    return int(value) if isinstance(value, int | float) else 0


def make_due(db: Path, urls: list[str] | None = None) -> float:
    """Make pages due now (all, or those at ``urls``), as any writer of the database could."""
    now = time.time()
    conn = sqlite3.connect(db, timeout=10, isolation_level=None)
    try:
        if urls is None:
            conn.execute("UPDATE pages SET next_check_at = 0")
        else:
            conn.executemany("UPDATE pages SET next_check_at = 0 WHERE url = ?", [(u,) for u in urls])
    finally:
        conn.close()
    return now


def pages_toml(urls: list[str], interval: str = "10s") -> str:
    """[[pages]] entries for ``urls``."""
    return "".join(f'[[pages]]\nurl = "{url}"\ninterval = "{interval}"\n\n' for url in urls)


def daemon_config(veille: Veille, urls: list[str], **http: str) -> None:
    """A config with a fast tick and ``urls`` as [[pages]]."""
    veille.write_config(f'[daemon]\ntick = "{TICK}"\n\n' + pages_toml(urls), **http)


def publish(site: LocalSite, specs: list[newssite.ArticleSpec], noise_seed: int) -> list[str]:
    """Serve ``specs`` with this round's noise; return their URLs."""
    for spec in specs:
        site.set(spec.path, newssite.render(spec, noise_seed=noise_seed, base_url=site.base_url))
    return [site.url(spec.path) for spec in specs]


def versions(db: Path) -> int:
    return scalar(db, "SELECT COUNT(*) FROM versions")


def test_changes_are_recorded_as_they_happen(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]
) -> None:
    specs = newssite.make_site(3, seed=41)
    urls = publish(site, specs, noise_seed=1)
    daemon_config(veille, urls)
    daemon = RunningDaemon(veille)
    daemons.append(daemon)
    db = veille.database
    daemon.wait_for("the first versions", lambda: versions(db) == 3)

    # Round 2, driven by the schedule (interval = "10s"): a title edit, and new noise everywhere.
    edited = newssite.mutate(specs[0], "title", random.Random(1))
    publish(site, [edited, *specs[1:]], noise_seed=2)
    daemon.wait_for(
        "every page checked again",
        lambda: scalar(db, "SELECT MIN(n) FROM (SELECT COUNT(*) AS n FROM checks GROUP BY page_id)") >= 2,
    )
    assert veille.changes() == [(urls[0], "title")]

    # Round 3: a body edit on another page, checked as soon as it is due.
    edited_b = newssite.mutate(specs[1], "body", random.Random(2))
    publish(site, [edited_b], noise_seed=3)
    make_due(db, [urls[1]])
    daemon.wait_for("the body change", lambda: len(veille.changes()) == 2)
    assert veille.changes() == [(urls[0], "title"), (urls[1], "body")]
    assert versions(db) == 5

    # `veille status` reads the daemon's cycles while it runs.
    status = veille.run("status", check=0)
    assert "3 watched" in status.stdout and "health       ok" in status.stdout
    assert "last cycle   none yet" not in status.stdout
    assert daemon.stop() == 0
    assert "cycle" in daemon.text() and "Traceback" not in daemon.text()
    # Every stored result was counted in a cycle, and every cycle was completed.
    assert scalar(db, "SELECT COUNT(*) FROM cycles WHERE finished_at IS NULL") == 0
    assert scalar(db, "SELECT SUM(checked) FROM cycles") == scalar(db, "SELECT COUNT(*) FROM checks")
    assert scalar(db, "SELECT SUM(changed) FROM cycles") == 2


def test_sighup_adds_pages_and_refuses_a_broken_config(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]
) -> None:
    specs = newssite.make_site(2, seed=42)
    urls = publish(site, specs, noise_seed=1)
    daemon_config(veille, urls[:1])
    daemon = RunningDaemon(veille, "--log-format", "json")
    daemons.append(daemon)
    db = veille.database
    daemon.wait_for("the first page's version", lambda: versions(db) == 1)

    # A page added to the file, and a new [http] setting: a new crawler takes over.
    daemon_config(veille, urls, user_agent='"veille-test/2"')
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for("the added page's version", lambda: versions(db) == 2)
    agents = [h.get("User-Agent") for _, path, h in site.requests if path == specs[1].path]
    assert agents and set(agents) == {"veille-test/2"}

    veille.write_config(pages_toml(urls), timout='"5s"')  # a typo: the file is invalid
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for("the refusal", lambda: "reload refused" in daemon.text())
    records = [json.loads(line) for line in daemon.text().splitlines() if line.strip()]
    refusals = [r for r in records if "reload refused" in r["message"]]
    assert len(refusals) == 1
    assert refusals[0]["level"] == "ERROR" and "http.timout" in refusals[0]["message"]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any("config reloaded" in r["message"] for r in records)

    # The old config keeps running: the fast tick still picks up an edit at once.
    publish(site, [newssite.mutate(specs[1], "title", random.Random(3))], noise_seed=2)
    make_due(db, [urls[1]])
    daemon.wait_for(
        "the change after the refusal", lambda: veille.changes() == [(urls[1], "title")]
    )
    agents = [h.get("User-Agent") for _, path, h in site.requests if path == specs[1].path]
    assert len(agents) >= 2 and set(agents) == {"veille-test/2"}
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.text()


def test_sigterm_while_fetching_exits_cleanly(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]
) -> None:  # FAULTS F32
    specs = newssite.make_site(3, seed=43)
    urls = publish(site, specs, noise_seed=1)
    hanging = site.url("/fault/hang?seconds=60")
    daemon_config(veille, [*urls, hanging], timeout='"60s"')
    daemon = RunningDaemon(veille)
    daemons.append(daemon)
    db = veille.database
    daemon.wait_for(
        "a fetch in flight", lambda: site.hits("/fault/hang") >= 1 and versions(db) == 3
    )
    assert daemon.stop(signal.SIGTERM, timeout=10) == 0
    text = daemon.text()
    assert "stopping (SIGTERM)" in text and "abandoning 1 fetches" in text
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The abandoned page has no check row and stays due; its cycle was completed as abandoned.
    assert conn.execute(
        "SELECT COUNT(*) FROM checks JOIN pages ON pages.id = checks.page_id WHERE url = ?",
        [hanging],
    ).fetchone()[0] == 0
    due = conn.execute("SELECT next_check_at <= ? FROM pages WHERE url = ?", [time.time(), hanging])
    assert due.fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM cycles WHERE finished_at IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT SUM(abandoned) FROM cycles").fetchone()[0] == 1


def test_kill_9_at_random_moments_loses_nothing_and_duplicates_nothing(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon]
) -> None:  # FAULTS F28
    rng = random.Random(44)
    specs = newssite.make_site(40, seed=44)
    urls = publish(site, specs, noise_seed=1)
    daemon_config(veille, urls)
    db = veille.database
    kinds = ["title", "body", "sentence", "byline"]
    left_due: list[int] = []
    for round_no in range(6):
        if round_no:
            # Edit a few pages, new noise everywhere, and make every page due.
            for index in rng.sample(range(len(specs)), 6):
                specs[index] = newssite.mutate(specs[index], rng.choice(kinds), rng)
            publish(site, specs, noise_seed=round_no + 1)
            make_due(db)
        before = scalar(db, "SELECT COUNT(*) FROM checks")
        # Kill anywhere from start-up (migrations, first tick) to the middle of the cycle.
        target = before + rng.randrange(0, 35)
        daemon = RunningDaemon(veille)
        daemons.append(daemon)
        def reached(target: int = target) -> bool:
            return scalar(db, "SELECT COUNT(*) FROM checks") >= target

        daemon.wait_for("the kill point", reached)
        daemon.kill()
        due_now = (time.time(),)
        left_due.append(scalar(db, "SELECT COUNT(*) FROM pages WHERE next_check_at <= ?", due_now))

    # Some kills landed in the middle of a cycle: part of the pages checked, the rest still due.
    assert any(0 < due < 40 for due in left_due), left_due
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    _assert_consistent(conn)

    # The next start carries on: every page reaches its current content, nothing twice.
    daemon = RunningDaemon(veille)
    daemons.append(daemon)
    since = make_due(db)
    daemon.wait_for(
        "every page checked after the restart",
        lambda: scalar(db, "SELECT COUNT(*) FROM pages WHERE last_checked_at >= ?", (since,)) == 40,
    )
    settled = conn.execute("SELECT COUNT(*), (SELECT COUNT(*) FROM changes) FROM versions").fetchone()
    since = make_due(db)  # one more pass over unchanged pages adds nothing
    daemon.wait_for(
        "a second pass",
        lambda: scalar(db, "SELECT COUNT(*) FROM pages WHERE last_checked_at >= ?", (since,)) == 40,
    )
    assert daemon.stop() == 0
    assert conn.execute("SELECT COUNT(*), (SELECT COUNT(*) FROM changes) FROM versions").fetchone() == settled
    _assert_consistent(conn)
    duplicates = conn.execute(
        "SELECT COUNT(*) FROM (SELECT page_id, hash FROM versions GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    assert duplicates == 0
    titles = dict(conn.execute(
        "SELECT pages.url, versions.title FROM pages JOIN versions ON versions.id = pages.current_version"
    ).fetchall())
    assert titles == {site.url(spec.path): spec.title for spec in specs}


def _assert_consistent(conn: sqlite3.Connection) -> None:
    """Every version has its check row and (after the first) its changes; no change dangles."""
    no_check = conn.execute(
        "SELECT COUNT(*) FROM versions v WHERE NOT EXISTS "
        "(SELECT 1 FROM checks c WHERE c.version_id = v.id)"
    ).fetchone()[0]
    no_change = conn.execute(
        "SELECT COUNT(*) FROM versions v WHERE v.seq > 1 AND NOT EXISTS "
        "(SELECT 1 FROM changes c WHERE c.to_version = v.id)"
    ).fetchone()[0]
    dangling = conn.execute(
        "SELECT COUNT(*) FROM changes c WHERE c.to_version IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM versions v WHERE v.id = c.to_version)"
    ).fetchone()[0]
    not_current = conn.execute(
        "SELECT COUNT(*) FROM pages p WHERE p.current_version IS NOT NULL AND p.current_version != "
        "(SELECT id FROM versions v WHERE v.page_id = p.id ORDER BY seq DESC LIMIT 1)"
    ).fetchone()[0]
    assert (no_check, no_change, dangling, not_current) == (0, 0, 0, 0)


def test_systemd_notify_protocol_and_journal_lines(
    site: LocalSite, veille: Veille, daemons: list[RunningDaemon], tmp_path: Path
) -> None:
    urls = publish(site, newssite.make_site(2, seed=45), noise_seed=1)
    daemon_config(veille, urls)
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    messages: list[str] = []

    def received(prefix: str, count: int = 1) -> Callable[[], bool]:
        def check() -> bool:
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                pass
            return sum(1 for m in messages for line in m.splitlines() if line.startswith(prefix)) >= count

        return check

    env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "400000", "INVOCATION_ID": "0" * 32}
    try:
        daemon = RunningDaemon(veille, env=env)
        daemons.append(daemon)
        daemon.wait_for("READY=1", received("READY=1"))
        daemon.wait_for("WATCHDOG=1 pings", received("WATCHDOG=1", 3))
        daemon.wait_for("the pages checked", lambda: versions(veille.database) == 2)
        status = [line for m in messages for line in m.splitlines() if line.startswith("STATUS=")]
        assert re.fullmatch(r"STATUS=2 pages, \d+ checked in the last hour, 0 changes today", status[0])
        daemon.proc.send_signal(signal.SIGINT)
        daemon.wait_for("STOPPING=1", received("STOPPING=1"))
        assert daemon.proc.wait(timeout=10) == 0
    finally:
        sock.close()
    # Under systemd: a syslog priority for journald, no timestamp of our own.
    lines = daemon.text().splitlines()
    assert lines and all(re.match(r"<[2-7]>(DEBUG|INFO|WARNING|ERROR|CRITICAL) ", line) for line in lines)
    assert not any(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line) for line in lines)


def test_run_refuses_a_broken_config_at_start(veille: Veille) -> None:
    veille.write_config("[daemon]\ntick = 5\nbatch = 0\n")
    proc = veille.run("run", check=2)
    assert "daemon.batch" in proc.stderr and "Traceback" not in proc.stderr
