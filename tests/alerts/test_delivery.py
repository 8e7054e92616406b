"""End to end: `veille check` finds real edits on a local site and its alerts reach real receivers.

The receivers are an aiosmtpd SMTP server (``mailto://``) and a JSON webhook (``json://``), both
on 127.0.0.1 (see receivers.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from contextlib import closing
from typing import TYPE_CHECKING

from alerts.deliver import deliver_due
from alerts.render import headline
from monitor.config import load_config
from storage.db import open_database
from tests.alerts.helpers import (
    configure,
    edit,
    feed,
    outbox,
    publish,
    toml_route,
    watch,
    with_comments,
)
from tests.alerts.receivers import wait_for
from tests.conftest import ROOT
from tests.servers import newssite

if TYPE_CHECKING:
    from tests.alerts.receivers import SmtpSink, WebhookSink
    from tests.conftest import Veille
    from tests.servers.http import LocalSite


def render(site: LocalSite, spec: newssite.ArticleSpec, noise_seed: int) -> str:
    return newssite.render(spec, noise_seed=noise_seed, base_url=site.base_url)


def expected_title(change: dict[str, object], language: str) -> str:
    """The message title an alert of ``change`` must have."""
    labels = {
        "en": {"title": "Headline changed", "body": "Article edited", "stealth": "Stealth edit"},
        "fr": {
            "title": "Titre modifié",
            "body": "Article modifié",
            "stealth": "Modification silencieuse",
        },
    }[language]
    label = labels["stealth"] if change["stealth"] else labels[str(change["kind"])]
    colon = " :" if language == "fr" else ":"
    return f"{label}{colon} {headline(change)} ({change['domain']})"


COMMENTS = [
    ("Anne Martin", "2026-11-20T10:00:00Z", "Très bon article, merci pour ces précisions."),
    ("Paul Durand", "2026-11-20T11:00:00Z", "Je ne suis pas d'accord avec le deuxième paragraphe."),
]
NEW_COMMENT = ("Zoé Leroy", "2026-11-21T09:30:00Z", "Une correction a été faite sans le signaler.")


def test_body_edit_headline_change_and_new_comment_reach_mail_and_webhook(
    site: LocalSite, veille: Veille, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    configure(
        veille,
        toml_route("mail", [smtp.url()], language="fr", kinds=["title", "body"]),
        toml_route("hook", [webhook.url()]),
        settings='datasette_url = "https://datasette.example.org/"\n',
    )
    body_spec, title_spec = newssite.make_site(2, seed=41)
    # The first article's comments are all on the page: a thread read in full, so news later.
    site.set(body_spec.path, with_comments(render(site, body_spec, 1), COMMENTS))
    publish(site, [title_spec], noise_seed=1)
    veille.run("add", site.url(body_spec.path), site.url(title_spec.path), check=0)
    veille.run("check", check=0)
    assert smtp.received() == [] and webhook.received() == []  # first versions are not news

    edited = edit(body_spec, "body")
    site.set(body_spec.path, with_comments(render(site, edited, 2), [*COMMENTS, NEW_COMMENT]))
    publish(site, [edit(title_spec, "title")], noise_seed=2)
    out = veille.run("check", "--all", check=0)
    assert "alerts: 5 sent, 0 to retry, 0 failed" in out.stdout

    changes = {str(c["kind"]): c for c in feed(veille)}
    assert set(changes) == {"body", "title", "comment_new"}
    body, title, comment = changes["body"], changes["title"], changes["comment_new"]

    # E-mail, in French, as HTML with a plain-text part: removed and added words marked.
    mails = {str(m["Subject"]): m for m in smtp.received()}
    assert set(mails) == {expected_title(body, "fr"), expected_title(title, "fr")}
    mail = mails[expected_title(body, "fr")]
    html = mail.get_body(("html",)).get_content()
    plain = mail.get_body(("plain",)).get_content()
    assert "<del" in html and "<ins" in html
    assert "mots supprimés" in plain or "mot supprimé" in plain
    assert "au paragraphe" in plain or "aux paragraphes" in plain
    assert str(body["url"]) in plain
    assert (
        f"https://datasette.example.org/veille/change_feed?change_id={body['change_id']}" in plain
    )
    headline_mail = mails[expected_title(title, "fr")].get_body(("plain",)).get_content()
    assert (
        f"« {title_spec.title[:40]}" in headline_mail
        and f" » → « {str(title['title'])[:40]}" in headline_mail
    )

    # The webhook, in English, as plain text with [-removed-] and {+added+} words.
    posts = {p.body["title"]: p for p in webhook.received()}
    comment_title = f"New comment: {headline(comment)} ({comment['domain']})"
    assert set(posts) == {expected_title(body, "en"), expected_title(title, "en"), comment_title}
    text = posts[expected_title(body, "en")].body["message"]
    assert "[-" in text and "{+" in text and "Paragraph " in text
    assert "words removed" in text or "word removed" in text
    said = posts[expected_title(title, "en")].body["message"]
    assert f"“{title_spec.title[:40]}" in said and f"” → “{str(title['title'])[:40]}" in said
    # A comment: author, time and text, and its permalink.
    said = posts[comment_title].body["message"]
    assert "Comment by Zoé Leroy, 2026-11-21 09:30 UTC:" in said
    assert "“Une correction a été faite sans le signaler.”" in said
    assert f"Comment: {comment['comment_permalink']}" in said

    # Exactly once each, every message carrying its alert's stable id.
    rows = outbox(veille)
    assert len(rows) == 5 and {r["state"] for r in rows} == {"sent"}
    assert {r["attempts"] for r in rows} == {1}
    ids = {r["message_id"] for r in rows}
    assert {str(m["X-Veille-Alert"]) for m in smtp.received()} | {
        p.headers["X-Veille-Alert"] for p in webhook.received()
    } == ids
    assert {p.headers["Idempotency-Key"] for p in webhook.received()} == {
        r["message_id"] for r in rows if r["route"] == "hook"
    }
    # Another delivery pass finds nothing to send.
    config = load_config(veille.config)
    with closing(open_database(veille.database)) as db:
        assert not deliver_due(db, config.alerts, config.alerts_settings).busy
    assert len(smtp.received()) == 2 and len(webhook.received()) == 3


def test_receivers_down_for_several_cycles_then_back_every_alert_arrives_once(
    site: LocalSite, veille: Veille, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    configure(
        veille,
        toml_route("mail", [smtp.url()], kinds=["body"]),
        toml_route("hook", [webhook.url()], kinds=["body"]),
    )
    specs = watch(site, veille, 2, seed=43)
    smtp.down()
    webhook.status = 500
    current = list(specs)
    for cycle in range(2):  # each check brings one more edit while the receivers are away
        current[cycle] = edit(specs[cycle], "body", seed=cycle)
        publish(site, current, noise_seed=1)
        out = veille.run("check", "--all", check=1)
        assert "alert not delivered: route 'mail'" in out.stderr
        assert "alert not delivered: route 'hook'" in out.stderr
        assert "alerts: 0 sent" in out.stdout
    # A third cycle of the delivery job while they are still down.
    config = load_config(veille.config)
    with closing(open_database(veille.database)) as db:
        report = deliver_due(db, config.alerts, config.alerts_settings)
    assert report.sent == 0 and report.retrying == 2  # one try per route, the rest wait
    rows = outbox(veille)
    assert len(rows) == 4 and {r["state"] for r in rows} == {"pending"}
    assert all(r["last_error"] for r in rows if r["attempts"])
    assert any("500" in r["last_error"] for r in rows if r["route"] == "hook" and r["attempts"])
    assert max(r["attempts"] for r in rows) == 3

    smtp.up()
    webhook.status = 200
    out = veille.run("check", check=0)
    assert "alerts: 4 sent" in out.stdout
    assert len(smtp.received()) == 2 and len(webhook.received()) == 2
    rows = outbox(veille)
    assert {r["state"] for r in rows} == {"sent"}
    # One message per change and route: the ids never repeat.
    assert sorted(str(m["X-Veille-Alert"]) for m in smtp.received()) == sorted(
        r["message_id"] for r in rows if r["route"] == "mail"
    )
    assert sorted(p.headers["X-Veille-Alert"] for p in webhook.received()) == sorted(
        r["message_id"] for r in rows if r["route"] == "hook"
    )


def test_kill_9_during_delivery_loses_no_alert(
    site: LocalSite, veille: Veille, smtp: SmtpSink
) -> None:
    configure(veille, toml_route("mail", [smtp.url()], kinds=["body"]))
    (spec,) = watch(site, veille, 1, seed=47)
    publish(site, [edit(spec, "body")], noise_seed=1)
    smtp.hold(drop=True)  # the server takes the message, then waits
    env = {**os.environ, "VEILLE_EXTRACT_WORKERS": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "check", "--all"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert smtp.data_started.wait(60), "veille never started to send"
        os.kill(proc.pid, signal.SIGKILL)  # mid-send: the message is not accepted yet
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    smtp.release()  # the held message is refused: it never arrived
    (row,) = outbox(veille)
    assert row["state"] == "pending" and row["attempts"] == 1
    assert row["lease_owner"] == f"{proc.pid}@{socket.gethostname()}"

    # The next run sees the sender is gone, takes the alert over and delivers it.
    out = veille.run("check", check=0)
    assert "alerts: 1 sent" in out.stdout
    wait_for(lambda: smtp.received(), what="the alert")
    assert len(smtp.received()) == 1
    (row,) = outbox(veille)
    assert row["state"] == "sent" and row["attempts"] == 2
    assert str(smtp.received()[0]["X-Veille-Alert"]) == row["message_id"]
    assert veille.db().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
