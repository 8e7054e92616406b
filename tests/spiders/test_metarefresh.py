"""The meta-refresh prefilter: it may only skip pages where Scrapy would find no refresh."""

from __future__ import annotations

from scrapy.http import HtmlResponse
from scrapy.utils.response import get_meta_refresh

from spiders.metarefresh import may_refresh

PAGE = "<html><head>{meta}<title>Un titre accentué</title></head><body>{body}</body></html>"


def test_pages_with_a_refresh_go_to_scrapy_whatever_the_case_or_encoding() -> None:
    for meta in ('<meta http-equiv="refresh" content="0;url=/b">',
                 '<META HTTP-EQUIV="Refresh" CONTENT="5; URL=/b">'):
        for encoding in ("utf-8", "latin-1", "utf-16", "utf-32"):
            body = PAGE.format(meta=meta, body="é").encode(encoding)
            assert may_refresh(body), (meta, encoding)


def test_a_page_ruled_out_has_no_refresh_scrapy_would_see() -> None:
    pages = [
        PAGE.format(meta="", body="Texte sans redirection. " * 50),
        # A refresh too far down for Scrapy, which reads the first 4,096 characters.
        PAGE.format(meta="", body="x" * 20_000 + '<meta http-equiv="refresh" content="0;url=/b">'),
    ]
    for page in pages:
        body = page.encode("utf-8")
        response = HtmlResponse("http://127.0.0.1/a", body=body, encoding="utf-8")
        assert get_meta_refresh(response) == (None, None)
        assert not may_refresh(body)
