"""Fault routes of the local site: the bad answers of the shared FAULTS.md (F1–F6, F8, F10, F11).

:func:`install` adds them to every :class:`~tests.servers.http.LocalSite`:

- ``/fault/gzip-bomb`` (F1): ``Content-Encoding: gzip``, about 1 MB inflating to 1 GiB of zeros;
- ``/fault/huge`` (F2): 50 MiB with an honest ``Content-Length``, streamed from one buffer;
- ``/fault/huge-chunked`` (F3): chunked, 64 KiB chunks until the client leaves (200 MiB cap);
- ``/fault/slow`` (F4): headers, then 1 byte per second (``?interval=0.2&bytes=64``);
- ``/fault/hang`` (F5): reads the request and never answers (``?seconds=60``);
- ``/fault/drop`` (F6): declares a length, sends half of it, closes the connection;
- ``/fault/redirect-loop`` (F8): 302 to ``/fault/redirect-loop-b``, which 302s back;
- ``/fault/meta-refresh-loop`` (F8): a page whose ``<meta http-equiv=refresh>`` is itself;
- ``/fault/empty`` (F10): 200 with an empty body;
- ``/fault/challenge`` (F10): a "Just a moment..." bot challenge (403; ``?status=200``);
- ``/fault/cookie-wall`` (F10): 200, a consent wall instead of the article;
- ``/fault/soft-404`` (F10): 200, "Page introuvable";
- ``/fault/not-html``: a PDF (``application/pdf``);
- ``/fault/latin1-declares-utf8`` (F11): a French article in cp1252 bytes; header and meta say
  UTF-8;
- ``/fault/utf8-declares-latin1`` (F11): the same article in UTF-8; header says ISO-8859-1.

Connection refused (F6) needs no route: see :func:`tests.servers.http.unused_port_url`. The page
bodies are public functions (:func:`challenge_page`…), so a test can serve one at an article's
own URL for a round: ``site.set("/a.html", challenge_page(), status=403)``.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import TYPE_CHECKING, Final

from tests.servers.http import HTML, Route
from tests.servers.newssite import make_site, render

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.servers.http import LocalSite, SiteHandler

HUGE_SIZE: Final = 50 * 1024 * 1024
CHUNKED_CAP: Final = 200 * 1024 * 1024
BOMB_INFLATED: Final = 1024 * 1024 * 1024
_BUFFER: Final = bytes(range(256)) * 256  # 64 KiB


def challenge_page() -> str:
    """A Cloudflare-like interstitial: what a bot sees instead of the article."""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
        '<meta http-equiv="refresh" content="390"><meta name="robots" content="noindex,nofollow">'
        '</head><body><div class="main-wrapper" role="main"><div class="main-content">'
        '<h1 class="zone-name-title h1">www.exemple-info.test</h1>'
        '<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>'
        '<noscript><div id="challenge-error-title">Enable JavaScript and cookies to continue'
        "</div></noscript>"
        '<div id="challenge-body-text">www.exemple-info.test needs to review the security of your '
        "connection before proceeding.</div></div></div>"
        '<script>(function(){window._cf_chl_opt={cvId:"3",cType:"managed",cRay:"8f2c"};'
        'var a=document.createElement("script");a.src="/cdn-cgi/challenge-platform/h/b/orchestrate/'
        'chl_page/v1?ray=8f2c";document.getElementsByTagName("head")[0].appendChild(a);})();</script>'
        '<div class="footer" role="contentinfo">Ray ID: <code>8f2c1d0e9a7b6c5d</code> • '
        "Performance &amp; security by Cloudflare</div></body></html>"
    )


def cookie_wall_page() -> str:
    """A consent wall: the page holds the dialog, not the article."""
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        "<title>Le Quotidien Exemple – Vos choix concernant les cookies</title></head><body>"
        '<div class="gdpr-lmd-wall" role="dialog" aria-modal="true"><h2>Le Quotidien Exemple avec '
        "publicité ou abonnement</h2><p>Pour accéder au contenu, acceptez l'utilisation de cookies "
        "et autres traceurs par nos partenaires à des fins publicitaires, ou abonnez-vous pour "
        "1\u00a0€ le premier mois.</p>"
        '<button class="gdpr-lmd-button--main">Accepter et continuer</button>'
        '<a href="/abonnement">S\'abonner</a><a href="/cookies">Paramétrer les cookies</a></div>'
        "</body></html>"
    )


def soft_404_page() -> str:
    """A 200 that says the page is gone, inside the site's usual chrome."""
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        "<title>Page introuvable – Le Quotidien Exemple</title></head><body>"
        '<header class="site-header"><a class="logo" href="/fr/">Le Quotidien Exemple</a>'
        '<nav><a href="/fr/politique/">Politique</a> <a href="/fr/economie/">Économie</a> '
        '<a href="/fr/international/">International</a></nav></header>'
        '<main class="error-page"><h1>Page introuvable</h1><p>Désolé, la page que vous cherchez '
        "n'existe pas ou a été déplacée. Erreur 404.</p>"
        '<p><a href="/fr/">Retourner à l\'accueil</a></p></main>'
        '<footer class="site-footer">© 2025 Le Quotidien Exemple</footer></body></html>'
    )


def pdf_bytes() -> bytes:
    """A small valid PDF."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


@functools.cache
def french_page() -> str:
    """A French article page whose every character exists in cp1252 (accents, « », ’, …)."""
    spec = next(s for s in make_site(10, seed=1234) if s.lang == "fr")
    return render(spec, noise_seed=0)


@functools.cache
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB of zeros, built in well under a second.

    Each 1 MiB block of zeros is compressed with a full flush, which resets the compressor, so
    every block compresses to the same bytes: compress two blocks, repeat the second.
    """
    block = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush(zlib.Z_FINISH)
    count = BOMB_INFLATED // len(block)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, BOMB_INFLATED & 0xFFFFFFFF)
    return header + first + again * (count - 1) + tail + trailer


def _stream_fixed(h: SiteHandler, total: int) -> None:
    h.send_response(200)
    h.send_header("Content-Type", HTML)
    h.send_header("Content-Length", str(total))
    h.end_headers()
    sent = 0
    while sent < total and not h.site.stopping.is_set():
        piece = _BUFFER[: min(len(_BUFFER), total - sent)]
        h.wfile.write(piece)
        sent += len(piece)
    h.close_connection = True


def _huge(h: SiteHandler) -> None:
    _stream_fixed(h, HUGE_SIZE)


def _huge_chunked(h: SiteHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", HTML)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"%x\r\n" % len(_BUFFER) + _BUFFER + b"\r\n"
    sent = 0
    while sent < CHUNKED_CAP and not h.site.stopping.is_set():
        h.wfile.write(chunk)
        sent += len(_BUFFER)
    h.wfile.write(b"0\r\n\r\n")
    h.close_connection = True


def _slow(h: SiteHandler) -> None:
    interval = float(h.query.get("interval", "1"))
    total = int(h.query.get("bytes", "64"))
    h.send_response(200)
    h.send_header("Content-Type", HTML)
    h.send_header("Content-Length", str(total))
    h.end_headers()
    h.wfile.flush()
    for _ in range(total):
        if h.site.stopping.wait(interval):
            break
        h.wfile.write(b"x")
        h.wfile.flush()
    h.close_connection = True


def _hang(h: SiteHandler) -> None:
    h.site.stopping.wait(float(h.query.get("seconds", "60")))
    h.close_connection = True


def _drop(h: SiteHandler) -> None:
    body = french_page().encode("utf-8")
    h.send_response(200)
    h.send_header("Content-Type", HTML)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body[: len(body) // 2])
    h.wfile.flush()
    h.close_connection = True


def _gzip_bomb(h: SiteHandler) -> None:
    data = gzip_bomb()
    h.send_response(200)
    h.send_header("Content-Type", HTML)
    h.send_header("Content-Encoding", "gzip")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _challenge(h: SiteHandler) -> None:
    body = challenge_page().encode("utf-8")
    h.send_response(int(h.query.get("status", "403")))
    h.send_header("Content-Type", HTML)
    h.send_header("Server", "cloudflare")
    h.send_header("cf-mitigated", "challenge")
    h.send_header("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def _static(status: int, body: bytes, content_type: str) -> Route:
    return Route(status, body, {"Content-Type": content_type}, conditional=False)


def _page(body: Callable[[], bytes], content_type: str) -> Callable[[SiteHandler], None]:
    """A handler that builds its body on first use (importing this module stays cheap)."""

    def handler(h: SiteHandler) -> None:
        h._send_route(_static(200, body(), content_type), head=h.command == "HEAD")

    return handler


def install(site: LocalSite) -> None:
    """Add every fault route to ``site``."""
    site.handle("/fault/huge", _huge)
    site.handle("/fault/huge-chunked", _huge_chunked)
    site.handle("/fault/slow", _slow)
    site.handle("/fault/hang", _hang)
    site.handle("/fault/drop", _drop)
    site.handle("/fault/gzip-bomb", _gzip_bomb)
    site.handle("/fault/challenge", _challenge)
    site.handle("/fault/latin1-declares-utf8", _page(lambda: french_page().encode("cp1252"), HTML))
    site.handle(
        "/fault/utf8-declares-latin1",
        _page(lambda: french_page().encode("utf-8"), "text/html; charset=iso-8859-1"),
    )
    site.redirect("/fault/redirect-loop", "/fault/redirect-loop-b", status=302)
    site.redirect("/fault/redirect-loop-b", "/fault/redirect-loop", status=302)
    site.set(
        "/fault/meta-refresh-loop",
        '<html><head><meta http-equiv="refresh" content="0;url=/fault/meta-refresh-loop">'
        "</head><body>Redirecting…</body></html>",
        conditional=False,
    )
    site.set("/fault/empty", b"", conditional=False)
    site.set("/fault/cookie-wall", cookie_wall_page(), conditional=False)
    site.set("/fault/soft-404", soft_404_page(), conditional=False)
    site.set("/fault/not-html", pdf_bytes(), content_type="application/pdf", conditional=False)
