"""Real pages written by others, served over HTTP and watched through the real CLI.

Every Readability test page (``shared/corpus/readability``) is served from 127.0.0.1 and checked
three times: as saved plus out-of-article noise (round 1), with *different* noise (round 2: no
page may get a new version), and with one word of its article changed plus new noise (round 3:
that page must get a body change). Pages trafilatura cannot extract are listed with the reason.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from spiders.decode import decode_html
from spiders.extract import extract_article
from tests.spiders.test_corpus import EDIT_WORD, READABILITY, READABILITY_URL, add_noise, edit_article

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite

# Measured: see the closing report in the test output (-s); floors a little below.
MIN_EDITS_FOUND = 120


@pytest.mark.skipif(not READABILITY.is_dir(), reason=f"corpus not found: {READABILITY}")
def test_readability_pages_served_edits_found_noise_ignored(site: LocalSite, veille: Veille) -> None:
    rounds: dict[str, tuple[str, str, str]] = {}
    skipped: dict[str, str] = {}
    for folder in sorted(p for p in READABILITY.iterdir() if (p / "source.html").is_file()):
        raw = (folder / "source.html").read_bytes()
        source, _ = decode_html(raw, "text/html")
        body = extract_article(source, READABILITY_URL).body
        if len(body.split()) < 25:
            skipped[folder.name] = f"extraction too short to watch ({len(body.split())} words)"
            continue
        edited = edit_article(source, body)
        if edited is None:
            skipped[folder.name] = "no body word found in the HTML text to edit"
            continue
        first, _ = add_noise(source, body, 1)
        second, _ = add_noise(source, body, 2)
        third, _ = add_noise(edited[0], body, 3)
        rounds[folder.name] = (first, second, third)
    # Six of these pages embed Disqus, whose frame cannot load offline: Chromium waits for it
    # until the browser timeout, which this test (about the articles) keeps short.
    veille.write_config('[browser]\ntimeout = "2s"\n')
    paths = {name: f"/corpus/{name}.html" for name in rounds}
    urls = {name: site.url(path) for name, path in paths.items()}

    for index in range(3):
        for name, pages in rounds.items():
            site.set(paths[name], pages[index])
        veille.run("add", "-", stdin="\n".join(urls.values())) if index == 0 else None
        veille.run("check", "--all")
        if index == 1:
            noisy = veille.changes()
            assert noisy == [], f"noise made changes: {noisy}"

    states = veille.last_states()
    changed = {url for url, kind in veille.changes() if kind == "body"}
    missed = {name: states[urls[name]] for name in rounds if urls[name] not in changed}
    other_kinds = [(url, kind) for url, kind in veille.changes() if kind not in ("body", "title")]
    bodies = veille.db().execute(
        "SELECT pages.url, versions.body FROM versions JOIN pages ON pages.id = versions.page_id "
        "WHERE versions.seq = 2"
    ).fetchall()
    assert all(EDIT_WORD in body for _url, body in bodies)
    report = {
        "served": len(rounds), "edits_found": len(rounds) - len(missed),
        "missed": missed, "not_watched": skipped, "unexpected": other_kinds,
    }
    print("\nreadability corpus served:", json.dumps(report, indent=1, ensure_ascii=False))
    assert other_kinds == []
    assert len(rounds) - len(missed) >= MIN_EDITS_FOUND, report
