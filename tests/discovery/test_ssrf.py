"""The SSRF guard end to end: discovered URLs, redirects and names that lead to a refused address
never reach it (FAULTS F14-F19). The predicate itself is tested in test_safety.py.

The allowed network is 127.0.0.1/32 only; a second server listens on 127.0.0.2, standing for
the intranet, the metadata service or the machine's own ports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ROOT
from tests.servers.http import LocalSite

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import Veille

ARTICLE = """<html lang="en"><head><title>Microsoft and the police</title></head><body><article>
<h1>Microsoft and the police</h1><p>Employees of Microsoft ask the company to end its police
contracts, in a letter signed by hundreds of them.</p><p>The company has not answered yet.</p>
</article></body></html>"""


@pytest.fixture
def intranet() -> Iterator[LocalSite]:
    """A server on 127.0.0.2: every request it gets is a guard failure."""
    with LocalSite(host="127.0.0.2", faults=False) as server:
        server.set("/secret", ARTICLE)
        yield server


def write_config(veille: Veille, extra: str) -> None:
    veille.config.write_text(
        'database = "veille.db"\nallow_networks = ["127.0.0.1/32"]\n\n[http]\n'
        'obey_robots_txt = false\nautothrottle = false\ntimeout = "5s"\nretries = 0\n\n'
        '[[topics]]\nname = "t"\nquery = "microsoft AND police"\n\n' + extra,
        encoding="utf-8",
    )


def feed(*links: str) -> str:
    items = "".join(
        f"<item><title>Microsoft and the police {i}</title><link>{link}</link></item>"
        for i, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'


def test_discovered_urls_and_redirects_to_refused_addresses_are_never_fetched(
    site: LocalSite, intranet: LocalSite, veille: Veille
) -> None:
    port = intranet.port
    hostile = [
        f"http://127.0.0.2:{port}/secret",  # F14
        f"http://[::ffff:127.0.0.2]:{port}/secret",  # F15
        f"http://2130706434:{port}/secret",  # F16: 127.0.0.2 as one number
        f"http://0x7f.0.0.2:{port}/secret",
        f"http://0177.0.0.2:{port}/secret",
        f"http://127.0.0.1:{site.port}\\@127.0.0.2:{port}/secret-b",  # F19
        f"http://x@127.0.0.2:{port}/secret-u",
        site.url("/redirect"),  # F17: an allowed host that redirects to a refused one
    ]
    site.redirect("/redirect", f"http://127.0.0.2:{port}/secret", status=302)
    site.set("/article.html", ARTICLE)
    site.set("/feed.xml", feed(*hostile, site.url("/article.html")), content_type="application/rss+xml")
    write_config(veille, (
        f'[[sources]]\nname = "news"\ntype = "feed"\nurl = "{site.url("/feed.xml")}"\ntopic = "t"\n\n'
        f'[[sources]]\nname = "inside"\ntype = "sitemap"\nurl = "http://127.0.0.2:{port}/s.xml"\n'
        'topic = "t"\n'
    ))
    out = veille.run("discover", check=1)
    assert intranet.requests == []
    assert site.hits("/redirect") == 1  # the hop was asked for, its target never
    # The allowed article went through; every other candidate is recorded as blocked.
    pages = [u for (u,) in veille.db().execute("SELECT url FROM pages")]
    assert pages == [site.url("/article.html")]
    seen = {url: (outcome, detail) for url, outcome, detail in veille.db().execute(
        "SELECT url, outcome, detail FROM discovery_seen")}
    del seen[site.url("/article.html")]
    assert len(seen) == len(hostile)  # each one refused, with its reason
    for outcome, detail in seen.values():
        assert outcome == "blocked" and detail.startswith("blocked_address:"), (outcome, detail)
    assert "inside the IPv6 address" in seen[hostile[1]][1]
    assert "loopback (127.0.0.2)" in seen[hostile[2]][1]
    assert "credentials" in seen[hostile[6]][1]
    # The source on a refused address is one clear error.
    assert f"http://127.0.0.2:{port}/s.xml: blocked_address" in out.stderr


def test_watched_pages_are_guarded_too(
    site: LocalSite, intranet: LocalSite, veille: Veille
) -> None:
    site.redirect("/moved.html", f"http://127.0.0.2:{intranet.port}/secret", status=301)
    write_config(veille, "")
    veille.run("add", f"http://127.0.0.2:{intranet.port}/secret", site.url("/moved.html"), check=0)
    out = veille.run("check", check=1)
    assert intranet.requests == []
    assert "blocked_address" in out.stderr
    assert veille.db().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 0


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs unprivileged user and mount namespaces")
def test_a_name_that_resolves_to_a_refused_address(
    site: LocalSite, intranet: LocalSite, veille: Veille, tmp_path: Path
) -> None:
    # /etc/hosts, replaced for this process only: meta.test is 127.0.0.2 (F14 with a name).
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.2 meta.test\n", encoding="utf-8")
    site.set("/feed.xml", feed(f"http://meta.test:{intranet.port}/secret"),
             content_type="application/rss+xml")
    write_config(veille, f'[[sources]]\nname = "news"\ntype = "feed"\n'
                 f'url = "{site.url("/feed.xml")}"\ntopic = "t"\n')
    command = (f'mount --bind "{hosts}" /etc/hosts && exec "{sys.executable}" -m monitor.cli '
               f'--config "{veille.config}" discover')
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", command], capture_output=True, text=True, timeout=120,
        cwd=ROOT, env={**os.environ, "VEILLE_EXTRACT_WORKERS": "0"}, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert intranet.requests == []
    (detail,) = veille.db().execute("SELECT detail FROM discovery_seen").fetchone()
    assert detail.startswith("blocked_address:") and "meta.test resolves to loopback" in detail


def test_the_connection_resolver_refuses_what_the_middleware_let_through(site: LocalSite) -> None:
    # DNS rebinding (F18): the name answered a public address to the middleware's lookup, then
    # a private one to the connection's. The connection's own resolver checks its answer.
    site.set("/a.html", ARTICLE)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.discovery.rebinding", f"http://localhost:{site.port}/a.html"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout.splitlines()[-1])
    assert result["fetched"] is False and result["error"] == "BlockedResolution", result
    assert result["state"] == "blocked_address", result
    assert result["detail"].startswith(
        f"blocked_address: http://localhost:{site.port}/a.html: localhost resolves to loopback"
    ), result
    assert "refused to connect to localhost: loopback (127.0.0.1)" in proc.stderr
    assert site.hits("/a.html") == 0


def test_a_check_refused_by_the_connection_resolver_is_stored_as_blocked_address(
    site: LocalSite, veille: Veille
) -> None:
    # The same rebinding through `veille check`: the check row says blocked_address and why,
    # not dns_error; its retry (retries = 2 here) is refused without connecting again.
    site.set("/a.html", ARTICLE)
    url = f"http://localhost:{site.port}/a.html"
    veille.config.write_text(
        'database = "veille.db"\nallow_networks = ["10.0.0.0/8"]\n\n[http]\n'
        'obey_robots_txt = false\nautothrottle = false\ntimeout = "5s"\nretries = 2\n\n'
        f'[[pages]]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "tests.discovery.rebinding", "veille", "--config",
         str(veille.config), "check"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "VEILLE_EXTRACT_WORKERS": "0"}, check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one page could not be checked
    rows = veille.db().execute(
        "SELECT state, error FROM checks_readable WHERE url = ?", [url]
    ).fetchall()
    assert len(rows) == 1, rows
    (state, error), = rows
    assert state == "blocked_address", (state, error)
    assert error.startswith(f"blocked_address: {url}: localhost resolves to loopback (127.0.0.1)")
    assert veille.last_states() == {url: "blocked_address"}
    assert proc.stderr.count("refused to connect to localhost") == 1, proc.stderr
    assert site.hits("/a.html") == 0
