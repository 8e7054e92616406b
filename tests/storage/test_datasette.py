"""`veille serve`: Datasette on a database filled by real check runs against the local news site.

One history and one Datasette process serve the whole module: canned queries (JSON API), the diff,
version and snapshot pages, escaping, hidden secrets, the read-only guard, and a check run writing
while Datasette reads.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import queue
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import pytest
from markupsafe import escape

from tests.conftest import ROOT, Veille
from tests.servers import newssite
from tests.servers.http import LocalSite

if TYPE_CHECKING:
    from collections.abc import Iterator
    from email.message import Message

    from tests.servers.newssite import ArticleSpec

# User-provided text that must come out escaped everywhere.
EVIL_TITLE = "Alerte <script>alert(1)</script> & <b>gras</b>"
EVIL_PARAGRAPH = (
    "Texte avec <script>alert(1)</script> et <img src=x onerror=alert(2)> des fragments "
    "<i>HTML</i> au milieu d'un vrai paragraphe d'article qui continue encore un peu."
)
# A real script in the raw HTML of a page: it must never run in Datasette's origin.
SNAPSHOT_SCRIPT = "<script>alert('snapshot script ran')</script>"
SECRET = "mailto://veille:hunter2-SECRET@127.0.0.1:8025"
NEW_WORD = "Zanzibar"
STARTUP_SECONDS = 30


def publish(site: LocalSite, specs: list[ArticleSpec], noise_seed: int) -> None:
    for spec in specs:
        page = newssite.render(spec, noise_seed=noise_seed, base_url=site.base_url)
        if spec.slug.startswith("evil"):
            page = page.replace("</body>", SNAPSHOT_SCRIPT + "</body>")
        site.set(spec.path, page)


def replace_word(spec: ArticleSpec, index: int = 2) -> tuple[ArticleSpec, str]:
    """``spec`` with one plain word of paragraph ``index`` replaced by :data:`NEW_WORD`."""
    tokens = spec.paragraphs[index].split(" ")
    at = next(i for i, t in enumerate(tokens[1:-1], 1) if t.isalpha() and len(t) >= 6)
    old = tokens[at]
    tokens[at] = NEW_WORD
    paragraphs = list(spec.paragraphs)
    paragraphs[index] = " ".join(tokens)
    return dataclasses.replace(spec, paragraphs=tuple(paragraphs)), old


@dataclass
class History:
    """A veille database after three check runs, and what the test site did to it."""

    site: LocalSite
    veille: Veille
    specs: dict[str, ArticleSpec]  # role -> spec as first published
    edited: dict[str, ArticleSpec]  # role -> spec after its edit
    old_word: str = ""
    current: list[ArticleSpec] = field(default_factory=list)

    def url(self, role: str) -> str:
        return self.site.url(self.specs[role].path)

    def change_id(self, role: str, kind: str) -> int:
        row = self.veille.db().execute(
            "SELECT change_id FROM change_feed WHERE url = ? AND kind = ? ORDER BY change_id",
            [self.url(role), kind],
        ).fetchone()
        assert row is not None, f"no {kind} change for {role}"
        return int(row[0])


def build_history(folder: Path, site: LocalSite) -> History:
    """Three rounds on the local site: publish; edit (every kind, escaping bait); remove one."""
    veille = Veille(folder)
    veille.write_config()
    base = newssite.make_site(6, seed=11)
    evil = dataclasses.replace(
        base[0], slug="evil-article", title=EVIL_TITLE,
        paragraphs=(EVIL_PARAGRAPH, *newssite.make_site(7, seed=12)[6].paragraphs[1:]),
    )
    roles = ["body", "title", "paragraph", "byline", "dates", "removed"]
    specs = dict(zip(roles, base, strict=True)) | {"evil": evil}
    publish(site, list(specs.values()), noise_seed=1)
    urls = "\n".join(site.url(s.path) for s in specs.values())
    veille.run("add", "-", "--topic", "news", stdin=urls, check=0)
    veille.run("check", check=0)

    rng = random.Random(5)
    edited = dict(specs)
    edited["body"], old_word = replace_word(specs["body"])
    edited["title"] = newssite.mutate(specs["title"], "title", rng)
    edited["paragraph"] = newssite.mutate(specs["paragraph"], "paragraph_added", rng)
    edited["byline"] = newssite.mutate(specs["byline"], "byline", rng)
    edited["dates"] = newssite.mutate(specs["dates"], "dates", rng)
    evil_paragraphs = (EVIL_PARAGRAPH.replace("alert(2)", "alert(3)"), *evil.paragraphs[1:])
    edited["evil"] = dataclasses.replace(evil, paragraphs=evil_paragraphs)
    publish(site, list(edited.values()), noise_seed=2)
    veille.run("check", "--all", check=0)

    site.remove(specs["removed"].path, status=410)
    veille.run("check", "--all", check=0)
    return History(site, veille, specs, edited, old_word, list(edited.values()))


def _headers(message: Message) -> dict[str, str]:
    return {key.lower(): value for key, value in message.items()}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> object:
        return json.loads(self.text)


class Served:
    """A running ``veille serve`` subprocess and its address."""

    def __init__(self, veille: Veille, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "serve",
             "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        self.stderr: list[str] = []
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._pump, args=(self.proc.stdout, lines.put), daemon=True).start()
        threading.Thread(
            target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True
        ).start()
        try:
            self.banner = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            self.close()
            pytest.fail(f"veille serve printed no address:\n{''.join(self.stderr)}")
        match = re.search(r"http://(\S+?):(\d+)(/\S*)", self.banner)
        assert match, f"no URL in {self.banner!r}; stderr:\n{''.join(self.stderr)}"
        self.printed_host = match.group(1)
        self.base = f"http://127.0.0.1:{match.group(2)}"
        self.database_path = match.group(3)

    def wait_stderr(self, text: str, timeout: float = 10) -> str:
        """The first stderr line containing ``text``, waiting for it up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stderr):
                if text in line:
                    return line
            time.sleep(0.02)
        pytest.fail(f"{text!r} never appeared on stderr:\n{''.join(self.stderr)}")

    @staticmethod
    def _pump(stream: object, sink: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink(line)  # type: ignore[operator]

    def get(self, path: str, *, password: str | None = None) -> Reply:
        request = urllib.request.Request(self.base + path)
        if password is not None:
            token = base64.b64encode(f"reader:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read().decode("utf-8")
                return Reply(response.status, _headers(response.headers), body)
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, _headers(exc.headers), exc.read().decode("utf-8", "replace"))

    def rows(self, path: str, **params: str) -> list[dict[str, object]]:
        """A table or canned query as JSON rows (``.json?_shape=array``)."""
        query = urlencode({**params, "_shape": "array"})
        reply = self.get(f"{path}.json?{query}")
        assert reply.status == 200, f"{path}: {reply.status} {reply.text[:500]}"
        rows = reply.json()
        assert isinstance(rows, list)
        return rows

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def filled_history(folder: Path) -> Iterator[History]:
    """A filled database, with the test site still serving (later tests check again)."""
    with LocalSite() as site:
        yield build_history(folder, site)


@contextmanager
def serving(veille: Veille, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``veille serve --port 0 ARGS`` for the duration of the block."""
    server = Served(veille, *args, env=env)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    with filled_history(tmp_path_factory.mktemp("datasette")) as filled:
        yield filled


@pytest.fixture(scope="module")
def served(history: History) -> Iterator[Served]:
    """One Datasette for the module."""
    with serving(history.veille) as server:
        yield server


# -- the command -------------------------------------------------------------------------------


def test_serve_binds_loopback_by_default_and_says_where(served: Served) -> None:
    assert served.printed_host == "127.0.0.1"
    assert served.database_path == "/veille"
    assert "read-only" in served.banner
    assert not any("warning" in line for line in served.stderr)


def test_serve_without_a_database_says_what_to_do(veille: Veille) -> None:
    proc = veille.run("serve", "--port", "0")
    assert proc.returncode == 1
    assert "no database yet" in proc.stderr and "veille check" in proc.stderr


def test_another_address_warns_and_the_password_is_required(history: History) -> None:
    password = "correct horse battery"
    env = {"VEILLE_SERVE_PASSWORD": password}
    with serving(history.veille, "--host", "0.0.0.0", env=env) as server:
        assert server.printed_host == "0.0.0.0"
        warning = server.wait_stderr("warning: serving on 0.0.0.0")
        assert "VEILLE_SERVE_PASSWORD" in warning
        anonymous = server.get("/veille/latest_changes.json")
        assert anonymous.status == 401
        assert anonymous.headers.get("www-authenticate", "").startswith("Basic")
        assert server.get("/-/veille/change/1", password="wrong").status == 401
        assert server.get("/veille/latest_changes.json", password=password).status == 200
        assert server.get("/-/veille/change/1", password=password).status == 200


# -- canned queries (JSON API) -----------------------------------------------------------------


def test_latest_changes_and_stealth_edits(history: History, served: Served) -> None:
    latest = served.rows("/veille/latest_changes")
    kinds = {(row["url"], row["kind"]) for row in latest}
    assert kinds == {
        (history.url("body"), "body"), (history.url("title"), "title"),
        (history.url("paragraph"), "body"), (history.url("byline"), "byline"),
        (history.url("dates"), "dates"), (history.url("removed"), "removed"),
        (history.url("evil"), "body"),
    }
    ids = [row["change_id"] for row in latest]
    assert ids == sorted(ids, reverse=True)
    stealth = served.rows("/veille/stealth_edits")
    assert stealth and all(row["stealth"] == 1 for row in stealth)
    assert history.url("body") in {row["url"] for row in stealth}
    assert history.url("dates") not in {row["url"] for row in stealth}


def test_headline_changes_show_old_and_new_titles(history: History, served: Served) -> None:
    (row,) = served.rows("/veille/headline_changes")
    assert row["old_title"] == history.specs["title"].title
    assert row["new_title"] == history.edited["title"].title
    assert row["url"] == history.url("title")


def test_most_edited_and_removed_articles(history: History, served: Served) -> None:
    most = served.rows("/veille/most_edited_articles")
    assert {row["url"] for row in most} == {
        history.url(role) for role in ("body", "title", "paragraph", "byline", "dates", "evil")
    }
    assert all(row["edits"] == 1 for row in most)
    (removed,) = served.rows("/veille/removed_articles")
    assert removed["url"] == history.url("removed")
    assert removed["state_now"] == "removed" and removed["restored_at"] is None
    assert removed["title"] == history.specs["removed"].title


def test_article_timeline_lists_versions_and_changes_in_order(
    history: History, served: Served
) -> None:
    rows = served.rows("/veille/article_timeline", url=history.url("body"))
    assert [row["event"] for row in rows] == ["version 1", "version 2", "change"]
    change = rows[2]
    assert change["kind"] == "body" and change["change_id"] == history.change_id("body", "body")
    assert change["version_id"] == rows[1]["version_id"]
    ops = json.loads(str(change["ops"]))
    replaced = {"op": "replace", "paragraph": 3, "unit": "word", "old": f" {history.old_word}",
                "new": f" {NEW_WORD}"}
    assert replaced in ops
    assert served.rows("/veille/article_timeline", url="http://nowhere.invalid/") == []


def test_full_text_search(history: History, served: Served) -> None:
    (hit,) = served.rows("/veille/search", q=NEW_WORD)
    assert hit["url"] == history.url("body") and hit["seq"] == 2 and hit["is_current"] == 1
    assert f"**{NEW_WORD}**" in str(hit["snippet"])
    # The old word is in version 1 only (unless it occurs elsewhere in the article).
    old_hits = served.rows("/veille/search", q=history.old_word)
    assert any(h["url"] == history.url("body") and h["seq"] == 1 for h in old_hits)
    # Apostrophes and quotes are words, not FTS syntax errors.
    assert isinstance(served.rows("/veille/search", q="l'entreprise \"oops"), list)
    assert served.rows("/veille/search", q="") == []


# -- pages -------------------------------------------------------------------------------------


def test_change_page_shows_the_words_and_links_the_evidence(
    history: History, served: Served
) -> None:
    change_id = history.change_id("body", "body")
    db = history.veille.db()
    from_v, to_v = db.execute(
        "SELECT from_version, to_version FROM changes WHERE id = ?", [change_id]
    ).fetchone()
    snapshot_id = db.execute("SELECT snapshot_id FROM versions WHERE id = ?", [to_v]).fetchone()[0]
    page = served.get(f"/-/veille/change/{change_id}")
    assert page.status == 200
    assert f"<del>{history.old_word}</del><ins>{NEW_WORD}</ins>" in page.text
    # Paragraph context: the whole paragraph, not only the words around the edit.
    edited_paragraph = history.edited["body"].paragraphs[2]
    assert escape(edited_paragraph.split(" ")[0]) in page.text
    assert escape(edited_paragraph.split(" ")[-1]) in page.text
    for link in (f"/-/veille/version/{from_v}", f"/-/veille/version/{to_v}",
                 f"/-/veille/snapshot/{snapshot_id}", f'href="{history.url("body")}"',
                 "/veille/article_timeline?url=" + quote(history.url("body"), safe="")):
        assert link in page.text, link
    assert "stealth edit" in page.text
    assert served.get("/-/veille/change/999999").status == 404


def test_version_and_snapshot_pages(history: History, served: Served) -> None:
    db = history.veille.db()
    version_id, snapshot_id = db.execute(
        "SELECT versions.id, snapshot_id FROM versions JOIN pages ON pages.id = page_id "
        "WHERE url = ? AND seq = 2", [history.url("title")]
    ).fetchone()
    version = served.get(f"/-/veille/version/{version_id}")
    assert version.status == 200
    assert escape(history.edited["title"].title) in version.text
    assert escape(history.edited["title"].paragraphs[0]) in version.text
    snapshot = served.get(f"/-/veille/snapshot/{snapshot_id}")
    assert snapshot.status == 200
    assert "matches the stored bytes" in snapshot.text
    assert "&lt;!DOCTYPE html&gt;" in snapshot.text  # the source, escaped
    frame = f'sandbox="" referrerpolicy="no-referrer" src="/-/veille/snapshot/{snapshot_id}/raw"'
    assert frame in snapshot.text
    raw = served.get(f"/-/veille/snapshot/{snapshot_id}/raw")
    assert raw.status == 200
    csp = raw.headers.get("content-security-policy", "")
    assert csp.startswith("sandbox") and "default-src 'none'" in csp
    assert raw.headers.get("x-content-type-options") == "nosniff"
    assert raw.text.startswith("<!DOCTYPE html>") and history.edited["title"].title in raw.text


def test_user_text_is_escaped_everywhere(history: History, served: Served) -> None:
    change_id = history.change_id("evil", "body")
    version_id = history.veille.db().execute(
        "SELECT to_version FROM changes WHERE id = ?", [change_id]
    ).fetchone()[0]
    pages = [
        f"/-/veille/change/{change_id}", f"/-/veille/version/{version_id}",
        "/veille/change_feed", "/veille/latest_changes", "/veille/versions",
        "/veille/article_timeline?" + urlencode({"url": history.url("evil")}),
        "/veille/search?q=fragments",
    ]
    for path in pages:
        page = served.get(path)
        assert page.status == 200, path
        for raw in ("<script>alert(", "<img src=x", "<b>gras</b>", "<i>HTML</i>"):
            assert raw not in page.text, f"{raw} unescaped in {path}"
    evil_change = served.get(f"/-/veille/change/{change_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in evil_change
    assert "onerror=alert(<del>2</del><ins>3</ins>)" in evil_change


# -- what Datasette must not show or do --------------------------------------------------------


def test_alert_route_secrets_never_show(history: History, served: Served) -> None:
    # A future alerts table, written by veille (not through Datasette).
    with closing(sqlite3.connect(history.veille.database)) as conn, conn:
        conn.execute("CREATE TABLE alert_routes (id INTEGER PRIMARY KEY, name TEXT, url TEXT)")
        conn.execute("INSERT INTO alert_routes (name, url) VALUES ('ops', ?)", [SECRET])
        conn.execute("CREATE TABLE deliveries (id INTEGER PRIMARY KEY, token TEXT, note TEXT)")
        conn.execute("INSERT INTO deliveries (token, note) VALUES (?, 'visible')", [SECRET])
    sql = [
        "select * from alert_routes",
        "select group_concat(url, ' ') as u from alert_routes",
        "select name, upper(url) from alert_routes where url like '%hunt%'",
        "select url from alert_routes union all select token from deliveries",
        "with r as (select * from alert_routes) select * from r",
    ]
    paths = [
        "/veille", "/veille.json", "/veille/alert_routes", "/veille/alert_routes.json",
        "/veille/alert_routes.csv", "/veille/alert_routes/1", "/veille/deliveries.json",
        *(f"/veille.json?{urlencode({'sql': q})}" for q in sql),
    ]
    for path in paths:
        reply = served.get(path)
        assert "hunter2" not in reply.text and "HUNTER2" not in reply.text, path
    assert 'href="/veille/alert_routes"' not in served.get("/veille").text  # hidden from the list
    assert served.rows("/veille/deliveries") == [{"id": 1, "token": None, "note": "visible"}]


def test_datasette_cannot_write(history: History, served: Served) -> None:
    before = history.veille.db().execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    for sql in ("insert into topics (name, created_at) values ('x', 'y')",
                "update pages set state = 'removed'", "pragma query_only = 0"):
        reply = served.get(f"/veille.json?{urlencode({'sql': sql})}")
        assert reply.status >= 400, sql
    db = history.veille.db()
    assert db.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == before
    assert db.execute("SELECT COUNT(*) FROM topics WHERE name = 'x'").fetchone()[0] == 0


def test_snapshot_blobs_stay_out_of_the_table_view(served: Served) -> None:
    rows = served.rows("/veille/snapshots")
    assert rows and all("html_zlib" not in row for row in rows)
    assert "sha256" in rows[0] and "size" in rows[0]
    assert "Binary" not in served.get("/veille/snapshots").text
    chosen = served.rows("/veille/snapshots", _col="html_zlib")
    assert all("html_zlib" in row for row in chosen)


# -- the daemon writes while Datasette reads ---------------------------------------------------


def test_a_check_run_writes_while_datasette_serves(history: History, served: Served) -> None:
    paths = [
        "/veille/latest_changes.json?_shape=array", "/veille/change_feed.json?_shape=array",
        "/veille/versions.json?_search=" + NEW_WORD, "/veille/search.json?q=" + NEW_WORD,
        f"/-/veille/change/{history.change_id('body', 'body')}", "/veille/checks_readable",
    ]
    replies: list[tuple[str, int, str]] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for path in paths:
                reply = served.get(path)
                replies.append((path, reply.status, reply.text))

    readers = [threading.Thread(target=read, daemon=True) for _ in range(2)]
    # Round 4: one more edit, written by a real check run while the readers hammer Datasette.
    again, _ = replace_word(history.edited["paragraph"], index=1)
    publish(history.site, [again], noise_seed=4)
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 30
    while len(replies) < 10 and time.monotonic() < deadline:  # readers are under way
        time.sleep(0.05)
    check = history.veille.run("check", "--all")
    stop.set()
    for reader in readers:
        reader.join(timeout=30)
    assert check.returncode == 0, check.stderr
    assert "locked" not in check.stderr
    assert len(replies) >= 10
    failures = [(p, s) for p, s, text in replies if s != 200 or "locked" in text]
    assert not failures, failures[:5]
    assert not any("locked" in line for line in served.stderr)
    latest = served.rows("/veille/latest_changes")
    assert latest[0]["url"] == history.url("paragraph") and latest[0]["kind"] == "body"
