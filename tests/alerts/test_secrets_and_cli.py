"""Apprise URLs' secrets never reach the database, the logs or an error; `veille test-alert`."""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING

from monitor.config import load_config
from tests.alerts.helpers import configure, edit, outbox, publish, toml_route, watch

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.alerts.receivers import SmtpSink, WebhookSink
    from tests.conftest import Veille
    from tests.servers.http import LocalSite

SMTP_PASSWORD = "pw-S3CRET-smtp"
HOOK_TOKEN = "tok-S3CRET-hook"
QUERY_SECRET = "qs-S3CRET-hook"
DEAD_PASSWORD = "pw-S3CRET-dead"
DEAD_TOKEN = "tok-S3CRET-dead"
MARK = "S3CRET"  # in every secret above


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_secrets_never_reach_the_database_logs_or_errors(
    site: LocalSite, veille: Veille, smtp_login: SmtpSink, webhook: WebhookSink
) -> None:
    dead = f"json://bob:{DEAD_PASSWORD}@127.0.0.1:{closed_port()}/hook?+X-Token={DEAD_TOKEN}"
    configure(
        veille,
        toml_route("mail", [smtp_login.url("alice", SMTP_PASSWORD)], kinds=["body"]),
        toml_route(
            "hook", [webhook.url(f"?+X-Token={HOOK_TOKEN}&-q={QUERY_SECRET}")], kinds=["body"]
        ),
        toml_route("dead", [dead], kinds=["body"]),
    )
    (spec,) = watch(site, veille, 1, seed=51)
    publish(site, [edit(spec, "body")], noise_seed=1)
    check = veille.run("-vv", "check", "--all", check=1)  # the dead route fails
    test = veille.run("-vv", "test-alert", check=1)

    # The secrets were used where they belong…
    assert ("alice", SMTP_PASSWORD) in smtp_login.logins
    assert len(smtp_login.received()) == 2  # the alert and the test message
    assert {p.headers["X-Token"] for p in webhook.received()} == {HOOK_TOKEN}
    assert all(p.path == f"/hook?q={QUERY_SECRET}" for p in webhook.received())
    # … the failure is explained, masked…
    assert "alert not delivered: route 'dead': json://bob:****@127.0.0.1" in check.stderr
    assert "+X-Token=****" in check.stderr
    assert "route 'dead': NOT delivered" in test.stderr
    rows = {r["route"]: r for r in outbox(veille)}
    assert rows["dead"]["state"] == "pending" and "json://bob:****@" in rows["dead"]["last_error"]
    assert rows["mail"]["state"] == rows["hook"]["state"] == "sent"
    # … and never written down or printed.
    outputs = {
        "check stdout": check.stdout,
        "check stderr": check.stderr,
        "test-alert stdout": test.stdout,
        "test-alert stderr": test.stderr,
    }
    assert "DEBUG" in check.stderr  # -vv really logged at debug level
    for name, text in outputs.items():
        assert MARK not in text, f"a secret in the {name}"
    files = [p for p in veille.folder.iterdir() if p.name.startswith("veille.db")]
    assert files
    for path in files:
        assert MARK.encode() not in path.read_bytes(), f"a secret in {path.name}"


def test_config_errors_never_show_a_secret(veille: Veille) -> None:
    cases = {
        "alerts[0].urls[0]": "[[alerts]]\nname = 'x'\nurls = ['foo://pw-S3CRET@example.org']\n",
        "alerts[0].urls": "[[alerts]]\nname = 'x'\nurls = 'mailto://u:pw-S3CRET@example.org'\n",
        "at line 2": '[[alerts]]\nurls = ["mailto://u:pw-S3CRET@example.org\\q"]\nname = "x"\n',
    }
    for where, text in cases.items():
        veille.config.write_text(text, encoding="utf-8")
        proc = veille.run("test-alert", check=2)
        assert where in proc.stderr, proc.stderr
        assert MARK not in proc.stderr and MARK not in proc.stdout
        assert "Traceback" not in proc.stderr


def test_a_config_readable_by_others_is_warned_about(
    tmp_path: Path, webhook: WebhookSink, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "veille.toml"
    path.write_text(toml_route("hook", [webhook.url("?+X-Token=tok-S3CRET")]), encoding="utf-8")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        load_config(path)
    assert f"chmod 600 {path}" in caplog.text
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING):
        load_config(path)
    assert "chmod" not in caplog.text
    path.write_text("", encoding="utf-8")
    path.chmod(0o644)  # no alert URLs: nothing to protect
    with caplog.at_level(logging.WARNING):
        load_config(path)
    assert "chmod" not in caplog.text


def test_test_alert_says_whether_it_got_through(
    veille: Veille, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    configure(
        veille,
        toml_route("mail", [smtp.url()], language="fr"),
        toml_route("hook", [webhook.url()]),
    )
    ok = veille.run("test-alert", "mail", check=0)
    assert "route 'mail': delivered to mailto://127.0.0.1:" in ok.stdout
    (message,) = smtp.received()
    assert str(message["Subject"]) == "veille : alerte de test pour la route « mail »"
    assert webhook.received() == []  # only the route asked for

    webhook.status = 500
    both = veille.run("test-alert", check=1)
    assert "route 'mail': delivered" in both.stdout
    assert "route 'hook': NOT delivered: json://127.0.0.1:" in both.stderr
    assert "500" in both.stderr
    assert len(smtp.received()) == 2

    unknown = veille.run("test-alert", "nope", check=2)
    assert "no alert route named 'nope'" in unknown.stderr and "mail, hook" in unknown.stderr
    veille.write_config()
    none = veille.run("test-alert", check=2)
    assert "no [[alerts]] route" in none.stderr
    assert not veille.database.exists() or outbox(veille) == []  # a test touches no outbox
