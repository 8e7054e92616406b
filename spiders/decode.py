"""Turn the bytes of an HTML response into text, even when the declared charset lies.

The order follows what browsers do (w3lib implements it): a byte order mark, then the
``Content-Type`` header, then ``<meta charset>`` / ``<?xml encoding?>``. On top of that the bytes
themselves are checked, because news sites get the declaration wrong in both directions:

- a page declared ``iso-8859-1`` but written in UTF-8: non-ASCII bytes that form valid UTF-8 are
  almost never legacy text (``é`` in cp1252 is one byte followed by ASCII, never a valid UTF-8
  sequence), so valid UTF-8 wins over any declaration;
- a page declared ``utf-8`` but written in cp1252: the bytes are not valid UTF-8, so the next
  declared legacy charset is used, else cp1252 (what browsers fall back to for Western pages);
- a UTF-8 page with a few stray bytes (a pasted cp1252 quote): mostly valid UTF-8 stays UTF-8, with
  the stray bytes replaced, rather than turning every accent of the page into mojibake.

Decoding never fails: undecodable bytes become U+FFFD as a last resort.
"""

from __future__ import annotations

import logging

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

logger = logging.getLogger(__name__)

# What browsers assume for a Western page that declares nothing usable (WHATWG, "windows-1252").
FALLBACK_ENCODING = "cp1252"
_UTF8 = "utf-8"
# UTF-16/32 labels and the byte order to assume when no BOM says otherwise.
_WIDE = {
    "utf-16": "utf-16-le", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be",
    "utf-32": "utf-32-le", "utf-32-le": "utf-32-le", "utf-32-be": "utf-32-be",
}


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode an HTML body; return ``(text, encoding used)``, the encoding as a Python codec name.

    ``content_type`` is the ``Content-Type`` header, or None when the response had none.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        return to_unicode(body[len(bom):], bom_encoding), bom_encoding

    declared = _declared_encodings(body, content_type)
    wide = _wide_encoding(body, declared)
    if wide is not None:
        return to_unicode(body, wide), wide

    if body.isascii():
        # Every ASCII-compatible charset reads ASCII bytes the same: report the declared one.
        encoding = next((e for e in declared if e not in _WIDE), _UTF8)
        return body.decode("ascii"), encoding

    try:
        return body.decode(_UTF8), _UTF8
    except UnicodeDecodeError:
        pass

    if _mostly_utf8(body):
        logger.debug("body is mostly valid UTF-8 (declared %s): replacing stray bytes", declared)
        return body.decode(_UTF8, errors="replace"), _UTF8
    # Not UTF-8, whatever the page says: the first declared legacy charset, else cp1252.
    encoding = next((e for e in declared if e != _UTF8 and e not in _WIDE), FALLBACK_ENCODING)
    if declared and declared[0] != encoding:
        logger.debug("declared %s, bytes not UTF-8: decoding as %s", declared[0], encoding)
    return to_unicode(body, encoding), encoding


def _declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """Charsets declared by the header, then by the document: codec names, no duplicates."""
    found: list[str] = []
    for encoding in (http_content_type_encoding(content_type), html_body_declared_encoding(body)):
        resolved = resolve_encoding(encoding) if encoding else None
        if resolved and resolved not in found:
            found.append(resolved)
    return found


def _wide_encoding(body: bytes, declared: list[str]) -> str | None:
    """UTF-16/32 without a BOM, told by its NUL bytes; None for the usual byte-wide charsets.

    A declared ``utf-16`` over bytes with no NUL is a lie (the server transcoded the page and kept
    the label), so the declaration alone is not enough.
    """
    head = body[:2048]
    nuls = head.count(0)
    if nuls < len(head) // 4 or not head:
        return None
    for encoding in declared:
        if encoding in _WIDE:
            wide = _WIDE[encoding]
            if wide.endswith("-le") and head[0] != 0 or wide.endswith("-be") and head[0] == 0:
                return wide
    # Undeclared: ASCII markup in UTF-16 puts the NUL after each character (LE) or before (BE).
    if head[0] == 0 and head[1:2] != b"\x00":
        return "utf-16-be"
    if head[0] != 0 and head[1:2] == b"\x00" and head[2:3] != b"\x00":
        return "utf-16-le"
    return None


def _mostly_utf8(body: bytes) -> bool:
    """True when the non-ASCII characters are mostly valid UTF-8, with a few stray bytes."""
    text = body.decode(_UTF8, errors="replace")
    replaced = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - replaced
    return valid > 2 * replaced
