"""`veille run` writes alerts with the changes it finds and its delivery job sends them."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

from tests.alerts.helpers import edit, publish, toml_route
from tests.alerts.receivers import wait_for
from tests.conftest import ROOT
from tests.servers import newssite

if TYPE_CHECKING:
    from tests.alerts.receivers import WebhookSink
    from tests.conftest import Veille
    from tests.servers.http import LocalSite


def scalar(veille: Veille, sql: str) -> int:
    if not veille.database.exists():
        return 0
    conn = sqlite3.connect(veille.database, timeout=5)
    try:
        return int(conn.execute(sql).fetchone()[0] or 0)
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        conn.close()


def test_the_daemon_sends_the_alerts_of_the_changes_it_finds(
    site: LocalSite, veille: Veille, webhook: WebhookSink
) -> None:
    spec = newssite.make_site(1, seed=61)[0]
    publish(site, [spec], noise_seed=1)
    url = site.url(spec.path)
    veille.write_config(
        f'[daemon]\ntick = "0.5s"\n\n[[pages]]\nurl = "{url}"\ninterval = "10s"\n\n'
        + toml_route("hook", [webhook.url()], kinds=["title"])
    )
    veille.config.chmod(0o600)
    log = veille.folder / "daemon.log"
    env = {**os.environ, "VEILLE_EXTRACT_WORKERS": "0"}
    env.pop("NOTIFY_SOCKET", None)
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "run"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    try:
        wait_for(
            lambda: scalar(veille, "SELECT COUNT(*) FROM versions") == 1, 60, "the first version"
        )
        publish(site, [edit(spec, "title")], noise_seed=1)
        conn = sqlite3.connect(veille.database, timeout=10, isolation_level=None)
        conn.execute("UPDATE pages SET next_check_at = 0")
        conn.close()
        posts = wait_for(webhook.received, 60, "the alert")
        assert posts[0].body["title"].startswith(("Headline changed: ", "Stealth edit: "))
        wait_for(
            lambda: scalar(veille, "SELECT COUNT(*) FROM alert_outbox WHERE state = 'sent'"),
            10,
            "the alert marked sent",
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "route hook: alert veille-change-1-hook sent" in text, text
    assert len(webhook.received()) == 1
