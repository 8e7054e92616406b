"""End to end: `veille add` + `veille check` against a local news site whose pages change."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from tests.servers import newssite

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite

EXPECTED_KIND = {
    "body": {"body"},
    "sentence": {"body"},
    "paragraph_added": {"body"},
    "paragraph_removed": {"body"},
    "title": {"title"},
    "byline": {"byline"},
    "dates": {"dates"},
}


def publish(site: LocalSite, specs: list[newssite.ArticleSpec], noise_seed: int) -> None:
    for spec in specs:
        site.set(spec.path, newssite.render(spec, noise_seed=noise_seed, base_url=site.base_url))


def test_noise_makes_no_version_and_every_true_edit_is_found(site: LocalSite, veille: Veille) -> None:
    specs = newssite.make_site(14, seed=3)
    publish(site, specs, noise_seed=1)
    veille.run("add", "-", "--topic", "news", stdin="\n".join(site.url(s.path) for s in specs), check=0)
    first = veille.run("check", check=0)
    assert "14 pages checked" in first.stdout
    assert veille.db().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 14

    # Round 2: only noise (ads, counters, timestamps, tokens, "most read" order, comment counts).
    publish(site, specs, noise_seed=2)
    veille.run("check", "--all", check=0)
    assert veille.changes() == []
    assert veille.db().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 14

    # Round 3: every edit kind at least once, plus new noise everywhere.
    rng = random.Random(7)
    edited = list(specs)
    truth: dict[str, str] = {}
    for i, kind in enumerate(newssite.EDIT_KINDS):
        edited[i] = newssite.mutate(specs[i], kind, rng)
        truth[site.url(specs[i].path)] = kind
    publish(site, edited, noise_seed=3)
    veille.run("check", "--all", check=0)
    found: dict[str, set[str]] = {}
    for url, kind in veille.changes():
        found.setdefault(url, set()).add(kind)
    assert set(found) == set(truth), "changed pages differ from the edited ones"
    for url, kind in truth.items():
        assert found[url] == EXPECTED_KIND[kind], f"{kind} edit of {url} recorded as {found[url]}"
    assert veille.db().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 14 + len(truth)


def test_a_304_is_one_check_row_and_no_parse(site: LocalSite, veille: Veille) -> None:
    spec = newssite.make_site(1, seed=5)[0]
    site.set(spec.path, newssite.render(spec, noise_seed=1, base_url=site.base_url))
    veille.run("add", site.url(spec.path), check=0)
    veille.run("check", check=0)
    out = veille.run("check", "--all", check=0)
    assert "1 not modified" in out.stdout
    method, path, headers = site.requests[-1]
    assert path == spec.path and "If-None-Match" in headers
    states = [r[0] for r in veille.db().execute("SELECT state FROM checks ORDER BY id")]
    assert states == ["new", "not_modified"]


def test_removed_restored_and_moved(site: LocalSite, veille: Veille) -> None:
    a, b = newssite.make_site(2, seed=9)
    publish(site, [a, b], noise_seed=1)
    veille.run("add", site.url(a.path), site.url(b.path), check=0)
    veille.run("check", check=0)
    site.remove(a.path, status=410)
    site.set("/new-home.html", newssite.render(b, noise_seed=2, base_url=site.base_url))
    site.redirect(b.path, "/new-home.html")
    veille.run("check", "--all", check=0)
    publish(site, [a], noise_seed=3)
    veille.run("check", "--all", check=0)
    assert veille.changes() == [
        (site.url(a.path), "removed"),
        (site.url(b.path), "moved"),
        (site.url(a.path), "restored"),
    ]
    assert veille.db().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 2


def test_wrong_charsets_keep_their_accents(site: LocalSite, veille: Veille) -> None:
    urls = [site.url("/fault/latin1-declares-utf8"), site.url("/fault/utf8-declares-latin1")]
    veille.run("add", *urls, check=0)
    veille.run("check", check=0)
    texts = [row[0] + row[1] for row in veille.db().execute("SELECT title, body FROM versions")]
    assert len(texts) == 2
    for text in texts:
        assert "é" in text and "Ã" not in text and "\ufffd" not in text


def test_history_and_diff_show_the_edit(site: LocalSite, veille: Veille) -> None:
    spec = newssite.make_site(1, seed=21)[0]
    site.set(spec.path, newssite.render(spec, noise_seed=1, base_url=site.base_url))
    url = site.url(spec.path)
    veille.run("add", url, check=0)
    veille.run("check", check=0)
    edited = newssite.mutate(spec, "title", random.Random(1))
    site.set(spec.path, newssite.render(edited, noise_seed=2, base_url=site.base_url))
    veille.run("check", "--all", check=0)
    history = veille.run("history", url, check=0).stdout.splitlines()
    assert history[0].startswith("#2") and edited.title in history[0]
    assert any(line.strip().startswith("title") for line in history)
    assert any(line.startswith("#1") and spec.title in line for line in history)
    diff = veille.run("diff", url, "--no-color", check=0).stdout
    assert "version 1" in diff and "2" in diff
    assert "title" in diff
    colored = veille.run("diff", url, "--color", check=0).stdout
    assert "\x1b[" in colored
    assert veille.run("diff", url, "--from", "7", check=2).returncode == 2


def test_add_rejects_bad_urls_and_unknown_pages(veille: Veille) -> None:
    bad = veille.run("add", "ftp://example.org/x", check=2)
    assert "http(s)" in bad.stderr
    unknown = veille.run("history", "https://example.org/never-added", check=2)
    assert "veille add" in unknown.stderr


def test_bad_config_is_one_line_and_exit_2(veille: Veille) -> None:
    veille.config.write_text('database = "v.db"\n[http]\ntimout = "5s"\n', encoding="utf-8")
    proc = veille.run("check", check=2)
    assert "http.timout" in proc.stderr and "timeout" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_reextract_rebuilds_history_from_snapshots(site: LocalSite, veille: Veille) -> None:
    spec = newssite.make_site(1, seed=31)[0]
    url = site.url(spec.path)
    site.set(spec.path, newssite.render(spec, noise_seed=1, base_url=site.base_url))
    veille.run("add", url, check=0)
    veille.run("check", check=0)
    edited = newssite.mutate(spec, "body", random.Random(2))
    site.set(spec.path, newssite.render(edited, noise_seed=2, base_url=site.base_url))
    veille.run("check", "--all", check=0)
    before = veille.db().execute("SELECT hash, body FROM versions ORDER BY seq").fetchall()
    out = veille.run("reextract", url, check=0)
    assert "2 → 2 versions, 1 changes" in out.stdout
    after = veille.db().execute("SELECT hash, body FROM versions ORDER BY seq").fetchall()
    assert after == before
    # With a selector that only sees the headline, both snapshots extract the same: one version.
    veille.write_config(f'[[pages]]\nurl = "{url}"\nselector = "h1"\n')
    out = veille.run("reextract", url, check=0)
    assert "2 → 1 versions, 0 changes" in out.stdout
    assert veille.changes() == []


def test_a_check_on_a_terminal_shows_a_progress_bar(site: LocalSite, veille: Veille) -> None:
    import os
    import pty
    import subprocess
    import sys

    specs = newssite.make_site(3, seed=41)
    publish(site, specs, noise_seed=1)
    veille.run("add", *(site.url(s.path) for s in specs), check=0)
    leader, follower = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--config", str(veille.config), "check"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, timeout=120,
        env={**os.environ, "VEILLE_EXTRACT_WORKERS": "0"},
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert b"checking" in shown and b"100%" in shown
    assert b"3 pages checked" in proc.stdout
