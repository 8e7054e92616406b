"""The outbox and its delivery job on a real SQLite file, sending to real local receivers.

Change rows are written with storage's own functions (as the recorders do), so each test sets
exactly the changes it needs; `test_delivery.py` covers changes found by real checks.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from alerts import outbox
from alerts.deliver import deliver_due
from alerts.digest import next_fire
from alerts.routes import AlertSettings, Route, parse_rate_limit
from monitor.config import load_config
from storage.db import open_database, write_transaction
from storage.pages import add_pages, get_page
from storage.versions import insert_change, insert_version

if TYPE_CHECKING:
    from collections.abc import Iterator

    import sqlite_utils

    from tests.alerts.receivers import SmtpSink, WebhookSink

FAST = AlertSettings(retry_delay=0.0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    """A migrated veille database in a temp folder."""
    database = open_database(tmp_path / "veille.db")
    yield database
    database.close()


def change(
    db: sqlite_utils.Database,
    url: str,
    kind: str = "body",
    *,
    title: str = "A headline",
    old_title: str | None = None,
    words: tuple[int, int] = (5, 5),
    stealth: bool = False,
    topic: str | None = None,
    ops: list[dict[str, Any]] | None = None,
    summary: str = "",
) -> int:
    """Record one change of the page at ``url`` (added if new), as the recorder does; its id."""
    if get_page(db, url) is None:
        add_pages(db, [url], topic=topic, now=time.time())
    page = get_page(db, url)
    assert page is not None
    seen = "2026-11-23T10:00:00Z"
    with write_transaction(db):
        before = insert_version(
            db,
            page_id=page.id,
            content_hash=uuid.uuid4().hex,
            fields={"title": old_title or title, "body": "old"},
            seen_at=seen,
            snapshot_id=None,
        )
        after = insert_version(
            db,
            page_id=page.id,
            content_hash=uuid.uuid4().hex,
            fields={"title": title, "body": "new"},
            seen_at=seen,
            snapshot_id=None,
        )
        db.execute("UPDATE pages SET current_version = ? WHERE id = ?", [after, page.id])
        return insert_change(
            db,
            page_id=page.id,
            detected_at=seen,
            kind=kind,
            summary=summary or kind,
            from_version=before,
            to_version=after,
            words_added=words[0],
            words_removed=words[1],
            stealth=stealth,
            ops=ops
            if ops is not None
            else [
                {
                    "op": "equal",
                    "paragraph": 2,
                    "unit": "word",
                    "old": "… the army",
                    "new": "… the army",
                    "cut": True,
                },
                {"op": "replace", "paragraph": 2, "unit": "word", "old": " left", "new": " stayed"},
            ],
        )


def routes_from(tmp_path: Path, toml: str) -> tuple[Route, ...]:
    """Routes as the config file gives them."""
    path = tmp_path / "routes.toml"
    path.write_text(toml, encoding="utf-8")
    path.chmod(0o600)
    return load_config(path).alerts


def rows(db: sqlite_utils.Database, route: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM alert_outbox" + (" WHERE route = ?" if route else "") + " ORDER BY id"
    return [dict(r) for r in db.query(sql, [route] if route else [])]


def test_each_route_gets_the_changes_its_filters_ask_for(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    hook = "json://127.0.0.1:9/hook"
    routes = routes_from(
        tmp_path,
        f"""
[[alerts]]
name = "all"
urls = ["{hook}"]
[[alerts]]
name = "headlines"
urls = ["{hook}"]
kinds = ["title", "removed"]
[[alerts]]
name = "tech-on-example"
urls = ["{hook}"]
topics = ["tech"]
domains = ["example.org"]
[[alerts]]
name = "big"
urls = ["{hook}"]
min_words = 10
[[alerts]]
name = "stealth"
urls = ["{hook}"]
stealth_only = true
""",
    )
    ids = {
        "typo": change(db, "https://www.example.org/a", words=(1, 1), topic="tech"),
        "big-stealth": change(
            db, "https://news.example.org/b", words=(12, 3), stealth=True, topic="tech"
        ),
        "title": change(db, "https://example.com/c", "title", words=(2, 2), topic="tech"),
        "removed": change(
            db, "https://example.org.evil.net/d", "removed", words=(0, 0), topic="tech"
        ),
        "byline": change(db, "https://example.org/e", "byline", words=(0, 0), topic="sport"),
    }
    with write_transaction(db):
        written = outbox.write_alerts(db, routes, list(ids.values()))
        assert outbox.write_alerts(db, routes, list(ids.values())) == 0  # idempotent
    by_id = {v: k for k, v in ids.items()}
    got = {r.name: {by_id[row["change_id"]] for row in rows(db, r.name)} for r in routes}
    assert got == {
        "all": set(ids),
        "headlines": {"title", "removed"},
        # www. and subdomains match, a look-alike domain does not; the topic must match too.
        "tech-on-example": {"typo", "big-stealth"},
        # Size filters only title and body edits; other kinds have no size.
        "big": {"big-stealth", "removed", "byline"},
        "stealth": {"big-stealth"},
    }
    assert written == sum(len(v) for v in got.values())
    assert {r["state"] for r in rows(db)} == {"pending"}


def test_alerts_roll_back_with_their_change(db: sqlite_utils.Database, tmp_path: Path) -> None:
    (route,) = routes_from(tmp_path, '[[alerts]]\nname = "x"\nurls = ["json://127.0.0.1:9/x"]\n')
    change_id = change(db, "https://example.org/a")
    with pytest.raises(RuntimeError), write_transaction(db):
        second = insert_change(
            db, page_id=1, detected_at="2026-11-23T11:00:00Z", kind="body", summary="s"
        )
        outbox.write_alerts(db, [route], [second])
        assert len(rows(db)) == 1
        raise RuntimeError("crash before commit")
    assert rows(db) == []  # the change and its alert are gone together
    assert db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 1
    with write_transaction(db):
        outbox.write_alerts(db, [route], [change_id])
    assert len(rows(db)) == 1


def test_rate_limit_overflow_goes_out_in_the_next_digest_never_dropped(
    db: sqlite_utils.Database, webhook: WebhookSink
) -> None:
    route = Route(name="hook", urls=(webhook.url(),), rate_limit=parse_rate_limit("2/h"))
    ids = [change(db, f"https://example.org/{n}", title=f"Headline number {n}") for n in range(5)]
    with write_transaction(db):
        outbox.write_alerts(db, [route], ids)
    t0 = time.time()
    first = deliver_due(db, [route], FAST, now=t0)
    assert (first.sent, first.held) == (2, 3)
    assert len(webhook.received()) == 2
    assert deliver_due(db, [route], FAST, now=t0 + 600).sent == 0  # still within the hour
    later = deliver_due(db, [route], FAST, now=t0 + 3601)
    assert later.sent == 1 and later.ok
    posts = webhook.received()
    assert len(posts) == 3
    digest = posts[-1].body
    assert digest["title"] == "veille: 3 changes in 3 articles, held back by the rate limit"
    for n in (2, 3, 4):
        assert f"Headline number {n}" in digest["message"]
    assert "limit of 2/h" in digest["message"]
    assert {r["state"] for r in rows(db)} == {"sent"}  # all five delivered, none dropped
    assert len({r["digest_id"] for r in rows(db) if r["digest_id"]}) == 1


def test_a_digest_groups_by_article_most_substantial_first(
    db: sqlite_utils.Database, smtp: SmtpSink, tmp_path: Path
) -> None:
    (route,) = routes_from(
        tmp_path,
        f"""
[[alerts]]
name = "morning"
urls = ["{smtp.url()}"]
mode = "digest"
schedule = "0 8 * * *"
timezone = "Europe/Paris"
language = "fr"
""",
    )
    ids = [
        change(db, "https://example.org/typo", title="Une coquille corrigée", words=(1, 1)),
        change(
            db, "https://example.org/quiet", title="Un ajout discret", words=(40, 2), stealth=True
        ),
        change(
            db, "https://example.org/head", "title", title="Nouveau titre", old_title="Ancien titre"
        ),
        change(
            db,
            "https://example.org/gone",
            "removed",
            title="Article retiré",
            words=(0, 0),
            summary="page removed (HTTP 410)",
        ),
    ]
    ids.append(
        change(
            db,
            "https://example.org/typo",
            "byline",
            title="Une coquille corrigée",
            ops=[
                {"op": "equal", "old": "A. Auteur", "new": "A. Auteur"},
                {"op": "insert", "old": "", "new": "B. Autrice"},
            ],
        )
    )
    with write_transaction(db):
        outbox.write_alerts(db, [route], ids)
    assert {r["state"] for r in rows(db)} == {"digest"}
    now = time.time()
    assert deliver_due(db, [route], FAST, now=now).sent == 0  # not 08:00 yet since they came
    report = deliver_due(db, [route], FAST, now=now + 86400)
    assert report.sent == 1
    (mail,) = smtp.received()
    assert str(mail["Subject"]) == "Résumé veille : 5 changements dans 4 articles"
    text = mail.get_body(("plain",)).get_content()
    order = [
        text.index(t)
        for t in ("Nouveau titre", "Article retiré", "Un ajout discret", "Une coquille corrigée")
    ]
    assert order == sorted(order), text
    assert "Titre modifié : « Ancien titre » → « Nouveau titre »." in text
    assert "La page a disparu (HTTP 410)" in text
    assert "Signature : A. Auteur → A. Auteur, B. Autrice" in text
    assert {r["state"] for r in rows(db)} == {"sent"}
    assert deliver_due(db, [route], FAST, now=now + 2 * 86400).sent == 0  # sent once


def test_digest_schedule_follows_the_route_time_zone() -> None:
    route = Route(
        name="r", urls=("json://x",), mode="digest", schedule="0 8 * * *", timezone="Europe/Paris"
    )
    winter = 1768456800.0  # 2026-01-15T06:00:00Z, 07:00 in Paris
    assert next_fire(route, winter) == 1768460400.0  # 07:00Z = 08:00 in Paris
    summer = 1784095200.0  # 2026-07-15T06:00:00Z, 08:00 in Paris (CEST)
    assert next_fire(route, summer) == summer
    assert next_fire(route, summer + 1) == summer + 86400


def test_failed_attempts_back_off_then_fail_and_are_listed(
    db: sqlite_utils.Database, webhook: WebhookSink
) -> None:
    settings = AlertSettings(retry_delay=10.0, max_attempts=3)
    route = Route(name="hook", urls=(webhook.url("?+X-Token=tok-S3CRET"),))
    with write_transaction(db):
        outbox.write_alerts(db, [route], [change(db, "https://example.org/a")])
    webhook.status = 500
    t0 = time.time()
    assert deliver_due(db, [route], settings, now=t0).retrying == 1
    (row,) = rows(db)
    assert row["attempts"] == 1 and row["next_attempt_at"] == pytest.approx(t0 + 10, abs=2)
    assert "500" in row["last_error"]
    assert deliver_due(db, [route], settings, now=t0 + 5).busy is False  # not due yet
    assert webhook.hits == 1
    deliver_due(db, [route], settings, now=t0 + 11)
    (row,) = rows(db)
    assert row["attempts"] == 2 and row["next_attempt_at"] == pytest.approx(t0 + 11 + 20, abs=2)
    last = deliver_due(db, [route], settings, now=t0 + 40)
    assert last.failed == 1 and webhook.hits == 3
    (row,) = rows(db)
    assert row["state"] == "failed"
    (failed,) = outbox.failed_alerts(db)
    assert (
        failed.route == "hook"
        and failed.attempts == 3
        and "tok-S3CRET" not in (failed.last_error or "")
    )
    assert outbox.outbox_counts(db) == {"failed": 1}
    webhook.status = 200
    assert deliver_due(db, [route], settings, now=t0 + 10_000).busy is False  # given up on
    assert webhook.hits == 3


def test_a_route_with_two_services_never_sends_twice_to_the_one_that_got_it(
    db: sqlite_utils.Database, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    route = Route(name="both", urls=(smtp.url(), webhook.url()))
    with write_transaction(db):
        outbox.write_alerts(db, [route], [change(db, "https://example.org/a")])
    webhook.status = 500
    assert deliver_due(db, [route], FAST).retrying == 1
    (row,) = rows(db)
    assert row["state"] == "pending" and row["delivered_to"] == "0"
    webhook.status = 200
    assert deliver_due(db, [route], FAST).sent == 1
    assert len(smtp.received()) == 1 and len(webhook.received()) == 1
    (row,) = rows(db)
    assert row["state"] == "sent" and row["delivered_to"] == "0,1"


def test_a_leased_alert_is_left_to_its_sender_and_a_vanished_change_is_skipped(
    db: sqlite_utils.Database, webhook: WebhookSink
) -> None:
    route = Route(name="hook", urls=(webhook.url(),))
    first, second = change(db, "https://example.org/a"), change(db, "https://example.org/b")
    with write_transaction(db):
        outbox.write_alerts(db, [route], [first, second])
    now = time.time()
    (taken, _other) = outbox.due(db, outbox.OUTBOX, now)
    assert outbox.claim(db, taken, now)  # another sender (alive: this process) holds it
    db.execute("DELETE FROM changes WHERE id = ?", [second])  # as `veille reextract` may
    report = deliver_due(db, [route], FAST, now=now)
    assert (report.sent, report.skipped) == (0, 1)
    assert webhook.received() == []
    assert [r["state"] for r in rows(db)] == ["pending", "skipped"]
    # Its lease over (the sender died without a word), the alert goes out.
    assert deliver_due(db, [route], FAST, now=now + outbox.LEASE_SECONDS + 1).sent == 1
    assert len(webhook.received()) == 1


def test_an_smtp_server_that_hangs_up_after_data_means_a_retry_not_a_loss(
    db: sqlite_utils.Database, smtp: SmtpSink
) -> None:
    route = Route(name="mail", urls=(smtp.url(),))
    with write_transaction(db):
        outbox.write_alerts(db, [route], [change(db, "https://example.org/a")])
    smtp.hang_up = True
    assert deliver_due(db, [route], FAST).retrying == 1
    (row,) = rows(db)
    assert row["state"] == "pending" and row["attempts"] == 1 and row["last_error"]
    assert smtp.received() == []
    smtp.hang_up = False
    assert deliver_due(db, [route], FAST).sent == 1
    assert len(smtp.received()) == 1
    assert str(smtp.received()[0]["X-Veille-Alert"]) == row["message_id"]
