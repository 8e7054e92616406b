"""The local site and the news generator do what they say."""

from __future__ import annotations

import dataclasses
import email.utils
import gzip
import html
import http.client
import random
import struct
import zlib
from typing import TYPE_CHECKING

import pytest

from tests.servers import faults
from tests.servers.http import LocalSite, unused_port_url
from tests.servers.newssite import (
    EDIT_KINDS,
    article_region,
    make_site,
    mutate,
    plan_round,
    render,
)

if TYPE_CHECKING:
    from tests.servers.http import SiteHandler


def get(
    site: LocalSite, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


# -- LocalSite ---------------------------------------------------------------------------------


def test_set_serves_body_with_validators_and_answers_304(site: LocalSite) -> None:
    site.set("/a.html", "<p>café</p>")
    status, headers, body = get(site, "/a.html")
    assert (status, body) == (200, "<p>café</p>".encode())
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")

    status, headers, body = get(site, "/a.html", {"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    assert get(site, "/a.html", {"If-Modified-Since": last_modified})[0] == 304
    assert get(site, "/a.html", {"If-None-Match": '"other"'})[0] == 200
    # If-None-Match wins over a matching If-Modified-Since.
    assert (
        get(site, "/a.html", {"If-None-Match": '"other"', "If-Modified-Since": last_modified})[0]
        == 200
    )
    assert site.hits("/a.html") == 5


def test_new_body_gets_new_validators_same_body_keeps_them(site: LocalSite) -> None:
    site.set("/a.html", "one")
    _, first, _ = get(site, "/a.html")
    site.set("/a.html", "one")
    _, same, _ = get(site, "/a.html")
    assert (same["ETag"], same["Last-Modified"]) == (first["ETag"], first["Last-Modified"])

    site.set("/a.html", "two")  # within the same second: the old validators must not match
    status, second, body = get(site, "/a.html", {"If-Modified-Since": first["Last-Modified"]})
    assert (status, body) == (200, b"two")
    assert second["ETag"] != first["ETag"]
    assert email.utils.parsedate_to_datetime(
        second["Last-Modified"]
    ) > email.utils.parsedate_to_datetime(first["Last-Modified"])
    assert get(site, "/a.html", {"If-None-Match": first["ETag"]})[0] == 200


def test_conditional_off_sends_no_validators(site: LocalSite) -> None:
    site.set("/plain", "x", conditional=False)
    _, headers, _ = get(site, "/plain")
    assert "ETag" not in headers and "Last-Modified" not in headers
    site.set("/a", "y")
    site.conditional = False
    assert get(site, "/a", {"If-None-Match": "*"})[0] == 200


def test_redirect_remove_headers_and_request_log(site: LocalSite) -> None:
    site.set("/new", "here", headers={"X-Test": "1"}, status=200)
    site.redirect("/old", "/new")
    site.remove("/gone", status=410)
    status, headers, _ = get(site, "/old")
    assert (status, headers["Location"]) == (301, site.url("/new"))
    assert get(site, "/gone")[0] == 410
    assert get(site, "/never-set")[0] == 404
    assert get(site, "/new?utm=1", {"User-Agent": "veille-test"})[2] == b"here"
    assert get(site, "/new", method="HEAD")[1]["X-Test"] == "1"
    assert site.hits("/new") == 2 and site.hits("/new?utm=1") == 1
    method, path, sent = site.requests[3]
    assert (method, path, sent["User-Agent"]) == ("GET", "/new?utm=1", "veille-test")


def test_robots_and_compression() -> None:
    with LocalSite(compress=True) as site:
        site.robots("User-agent: *\nDisallow: /private/\n")
        site.set("/big", "é" * 5000)
        assert get(site, "/robots.txt")[2].startswith(b"User-agent: *")
        _, headers, body = get(site, "/big", {"Accept-Encoding": "gzip"})
        assert headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == ("é" * 5000).encode()
        assert "Content-Encoding" not in get(site, "/big")[1]


def test_a_failing_handler_answers_500_and_the_server_lives_on(site: LocalSite) -> None:
    def broken(h: SiteHandler) -> None:
        raise RuntimeError("boom")

    site.handle("/broken", broken)
    site.set("/ok", "fine")
    assert get(site, "/broken")[0] == 500
    assert get(site, "/ok")[2] == b"fine"


def test_prefix_handler(site: LocalSite) -> None:
    def echo(h: SiteHandler) -> None:
        body = h.path.encode()
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site.handle("/__ctl/", echo, prefix=True)
    assert get(site, "/__ctl/round/2?x=1")[2] == b"/__ctl/round/2?x=1"


# -- faults --------------------------------------------------------------------------------------


def test_redirect_loop(site: LocalSite) -> None:
    status, headers, _ = get(site, "/fault/redirect-loop")
    assert (status, headers["Location"]) == (302, site.url("/fault/redirect-loop-b"))
    status, headers, _ = get(site, "/fault/redirect-loop-b")
    assert (status, headers["Location"]) == (302, site.url("/fault/redirect-loop"))
    assert b"url=/fault/meta-refresh-loop" in get(site, "/fault/meta-refresh-loop")[2]


def test_lying_charsets(site: LocalSite) -> None:
    _, headers, body = get(site, "/fault/latin1-declares-utf8")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Évry".encode("cp1252") in body or "é".encode("cp1252") in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert body.decode("cp1252") == faults.french_page()

    _, headers, body = get(site, "/fault/utf8-declares-latin1")
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert body.decode("utf-8") == faults.french_page()
    assert "Ã©" in body.decode("iso-8859-1")


def test_anomaly_pages(site: LocalSite) -> None:
    assert get(site, "/fault/empty")[:3:2] == (200, b"")
    status, headers, body = get(site, "/fault/challenge")
    assert (status, headers["cf-mitigated"]) == (403, "challenge")
    assert b"<title>Just a moment...</title>" in body
    assert get(site, "/fault/challenge?status=200")[0] == 200
    status, _, body = get(site, "/fault/soft-404")
    assert status == 200 and b"Page introuvable" in body
    assert b"Accepter et continuer" in get(site, "/fault/cookie-wall")[2]
    status, headers, body = get(site, "/fault/not-html")
    assert (headers["Content-Type"], body[:5]) == ("application/pdf", b"%PDF-")


def test_drop_sends_half_then_closes(site: LocalSite) -> None:
    with pytest.raises(http.client.IncompleteRead) as info:
        get(site, "/fault/drop")
    assert len(info.value.partial) == len(faults.french_page().encode()) // 2


def test_huge_and_chunked_stop_when_the_client_leaves(site: LocalSite) -> None:
    for path in ("/fault/huge", "/fault/huge-chunked"):
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        conn.request("GET", path)
        resp = conn.getresponse()
        if path == "/fault/huge":
            assert resp.headers["Content-Length"] == str(50 * 1024 * 1024)
        else:
            assert resp.headers["Transfer-Encoding"] == "chunked"
        assert len(resp.read(1 << 20)) == 1 << 20
        conn.close()
    site.set("/still-alive", "yes")
    assert get(site, "/still-alive")[2] == b"yes"


def test_slow_and_hang(site: LocalSite) -> None:
    status, headers, body = get(site, "/fault/slow?interval=0.01&bytes=5")
    assert (status, headers["Content-Length"], body) == (200, "5", b"xxxxx")
    with pytest.raises(http.client.RemoteDisconnected):
        get(site, "/fault/hang?seconds=0.05")


def test_gzip_bomb_is_small_and_claims_a_gibibyte(site: LocalSite) -> None:
    bomb = faults.gzip_bomb()
    assert len(bomb) < 1_200_000
    assert struct.unpack("<I", bomb[-4:])[0] == 1 << 30  # ISIZE
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = inflater.decompress(bomb[:200_000], 64 << 20)
    assert len(head) == 64 << 20 and not head.strip(b"\0")
    status, headers, body = get(site, "/fault/gzip-bomb")
    assert (headers["Content-Encoding"], body) == ("gzip", bomb)


def test_connection_refused() -> None:
    url = unused_port_url("/x")
    port = int(url.split(":")[2].split("/")[0])
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/x")


# -- the news generator ----------------------------------------------------------------------------


def test_generator_is_deterministic() -> None:
    assert make_site(30, seed=5) == make_site(30, seed=5)
    assert make_site(30, seed=5) != make_site(30, seed=6)
    spec = make_site(1, seed=5)[0]
    assert render(spec, noise_seed=3) == render(spec, noise_seed=3)


def test_pages_look_like_news_pages() -> None:
    specs = make_site(40, seed=2)
    assert {s.lang for s in specs} == {"fr", "en"}
    assert len({s.slug for s in specs}) == 40
    french = next(s for s in specs if s.lang == "fr")
    page = render(french, noise_seed=1)
    assert 20_000 < len(page.encode()) < 50_000
    assert '<html lang="fr"' in page and '"@type": "NewsArticle"' in page
    assert '<link rel="canonical"' in page and 'property="og:title"' in page
    assert "Commentaires (" in page and 'class="comment"' in page and 'name="csrf_token"' in page
    assert all(6 <= len(s.paragraphs) <= 15 for s in specs)
    assert any("\u00ab\u00a0" in p for s in specs if s.lang == "fr" for p in s.paragraphs)


def test_noise_changes_but_the_article_does_not() -> None:
    for spec in make_site(10, seed=3):
        one, two = render(spec, noise_seed=1), render(spec, noise_seed=2)
        assert one != two
        assert article_region(one) == article_region(two)
        for text in spec.paragraphs:
            assert f"<p>{html.escape(text, quote=False)}</p>" in article_region(one)


@pytest.mark.parametrize("kind", EDIT_KINDS)
def test_mutate_changes_only_what_it_says(kind: str) -> None:
    fields = {
        "body": {"paragraphs"},
        "sentence": {"paragraphs"},
        "paragraph_added": {"paragraphs"},
        "paragraph_removed": {"paragraphs"},
        "title": {"title"},
        "byline": {"authors"},
        "dates": {"modified"},
    }[kind]
    for spec in make_site(15, seed=4):
        new = mutate(spec, kind, random.Random(spec.slug))
        changed = {
            f.name
            for f in dataclasses.fields(spec)
            if getattr(spec, f.name) != getattr(new, f.name)
        }
        assert changed == fields
        if kind == "paragraph_added":
            assert len(new.paragraphs) == len(spec.paragraphs) + 1
        if kind == "paragraph_removed":
            assert len(new.paragraphs) == len(spec.paragraphs) - 1
        if kind in {"body", "sentence"}:
            assert sum(a != b for a, b in zip(spec.paragraphs, new.paragraphs, strict=False)) == 1
        if kind == "dates":
            assert new.modified > spec.modified
        assert article_region(render(new, noise_seed=1)) != article_region(
            render(spec, noise_seed=1)
        )


def test_plan_round_edits_a_tenth_and_says_which() -> None:
    specs = make_site(200, seed=7)
    new_specs, truth = plan_round(specs, random.Random(1))
    assert len(truth) == 20 and set(truth.values()) <= set(EDIT_KINDS)
    edited = {old.slug for old, new in zip(specs, new_specs, strict=True) if old != new}
    assert edited == set(truth)
    assert plan_round(specs, random.Random(1)) == (new_specs, truth)
