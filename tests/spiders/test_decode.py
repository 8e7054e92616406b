"""decode_html: the right accents whatever the declared charset says."""

from __future__ import annotations

import codecs

import pytest

from spiders.decode import decode_html

FRENCH = (
    "<html><head><title>Élection à Nîmes</title></head><body>"
    "<p>Le député a déclaré « ça suffit » – l’été, où, cœur, naïveté, 20 €.</p></body></html>"
)
MOJIBAKE_MARKERS = ("Ã©", "Ã", "â€", "\ufffd")


def _assert_clean(text: str) -> None:
    assert "déclaré « ça suffit »" in text
    assert "cœur" in text and "20 €" in text
    for marker in MOJIBAKE_MARKERS:
        assert marker not in text


def test_utf8_declared_utf8() -> None:
    text, encoding = decode_html(FRENCH.encode("utf-8"), "text/html; charset=utf-8")
    assert encoding == "utf-8"
    assert text == FRENCH


@pytest.mark.parametrize("declared", ["iso-8859-1", "ISO-8859-15", "windows-1252", "latin1"])
def test_utf8_bytes_declared_latin(declared: str) -> None:
    """A French page served as Latin-1 but written in UTF-8: the bytes win."""
    text, encoding = decode_html(FRENCH.encode("utf-8"), f"text/html; charset={declared}")
    assert encoding == "utf-8"
    _assert_clean(text)


def test_cp1252_bytes_declared_utf8() -> None:
    """The reverse lie: declared utf-8, written in cp1252 (curly quote and euro sign included)."""
    text, encoding = decode_html(FRENCH.encode("cp1252"), "text/html; charset=utf-8")
    assert encoding == "cp1252"
    _assert_clean(text)
    assert "l’été" in text


def test_latin1_bytes_meta_declares_utf8() -> None:
    html = '<meta charset="utf-8"><p>Le député a déclaré « ça suffit », à Nîmes.</p>'
    text, encoding = decode_html(html.encode("latin-1"), None)
    assert encoding == "cp1252"
    assert "déclaré « ça suffit »" in text


def test_header_lies_meta_tells_the_truth() -> None:
    """Header says utf-8, bytes are not UTF-8: the charset of <meta> is the next candidate."""
    html = '<html><head><meta charset="windows-1251"></head><body>Привет, мир</body></html>'
    text, encoding = decode_html(html.encode("cp1251"), "text/html; charset=UTF-8")
    assert encoding == "cp1251"
    assert "Привет, мир" in text


def test_meta_charset_without_header() -> None:
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
    html += "</head><body><p>Mis à jour à 14 h</p></body></html>"
    text, encoding = decode_html(html.encode("latin-1"), None)
    assert encoding == "cp1252"  # the WHATWG reading of "iso-8859-1"
    assert "Mis à jour à 14 h" in text


def test_no_declaration_at_all() -> None:
    text, encoding = decode_html(FRENCH.encode("utf-8"), None)
    assert encoding == "utf-8"
    _assert_clean(text)
    text, encoding = decode_html(FRENCH.encode("cp1252"), "text/html")
    assert encoding == "cp1252"
    _assert_clean(text)


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    ],
)
def test_bom_wins_over_header(bom: bytes, codec: str, expected: str) -> None:
    text, encoding = decode_html(bom + FRENCH.encode(codec), "text/html; charset=iso-8859-1")
    assert encoding == expected
    assert text == FRENCH  # the BOM itself is not part of the text


def test_utf16_without_bom() -> None:
    text, encoding = decode_html(FRENCH.encode("utf-16-le"), "text/html; charset=utf-16")
    assert encoding == "utf-16-le"
    assert text == FRENCH
    text, encoding = decode_html(FRENCH.encode("utf-16-be"), None)
    assert encoding == "utf-16-be"
    assert text == FRENCH


def test_utf16_label_on_utf8_bytes_is_ignored() -> None:
    text, encoding = decode_html(FRENCH.encode("utf-8"), "text/html; charset=utf-16")
    assert encoding == "utf-8"
    _assert_clean(text)
    assert decode_html(b"<p>ascii</p>", "text/html; charset=utf-16") == ("<p>ascii</p>", "utf-8")
    text, encoding = decode_html(FRENCH.encode("cp1252"), "text/html; charset=utf-16")
    assert encoding == "cp1252"
    _assert_clean(text)


def test_utf8_page_with_a_stray_byte_stays_utf8() -> None:
    """One pasted cp1252 quote must not turn every accent of a UTF-8 page into mojibake."""
    body = FRENCH.encode("utf-8").replace(b"</p>", b" l\x92an dernier</p>")
    text, encoding = decode_html(body, "text/html; charset=utf-8")
    assert encoding == "utf-8"
    assert "déclaré « ça suffit »" in text
    assert text.count("\ufffd") == 1  # the stray byte, replaced as a last resort


def test_undefined_cp1252_bytes_are_replaced_not_raised() -> None:
    text, encoding = decode_html(b"<p>caf\xe9 \x81 \x8d</p>", None)
    assert encoding == "cp1252"
    assert text.startswith("<p>café ")
    assert text.count("\ufffd") == 2


def test_ascii_reports_declared_encoding() -> None:
    latin = "text/html; charset=iso-8859-1"
    assert decode_html(b"<p>plain</p>", latin) == ("<p>plain</p>", "cp1252")
    assert decode_html(b"<p>plain</p>", None) == ("<p>plain</p>", "utf-8")


def test_empty_and_unknown_charset() -> None:
    assert decode_html(b"", None) == ("", "utf-8")
    text, encoding = decode_html(FRENCH.encode("utf-8"), "text/html; charset=x-no-such-thing")
    assert encoding == "utf-8"
    _assert_clean(text)


def test_utf7_label_is_refused() -> None:
    """UTF-7 could smuggle markup through ASCII bytes: w3lib refuses the label, so do we."""
    text, encoding = decode_html(b"+ADw-script+AD4-", "text/html; charset=utf-7")
    assert encoding == "utf-8"
    assert text == "+ADw-script+AD4-"
