"""One URL per article: the page's canonical link, tracking parameters removed, courlan's rules.

The same article reaches a feed reader as ``/a?utm_source=rss``, ``/a?fbclid=…``, ``/a#comments``,
``/amp/a`` and ``HTTP://WWW.Example.org:80/a``. :func:`clean_url` removes what never identifies
an article (tracking parameters, the fragment, a default port, upper-case host) with courlan's
``normalize_url`` (which also sorts the query) plus veille's own list of trackers;
:func:`canonical_url` prefers the page's ``<link rel=canonical>`` when it stays on the same
site (a syndicated copy pointing at another publisher is its own page, and is watched as such);
:func:`url_key` is the looser key used to spot duplicates (http and https, ``www.`` or not, a
trailing slash).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url

logger = logging.getLogger(__name__)

# Parameters that only say where a reader came from. courlan knows most; these are kept here
# too so a courlan upgrade cannot bring them back.
_TRACKER_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "hsa_", "ga_", "_hs", "oly_")
_TRACKERS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "igsh", "_ga", "_gl", "ocid", "xtor", "ref_src", "ref_url", "cmpid", "at_medium",
    "at_campaign", "at_link", "ito", "ns_campaign", "ns_mchannel", "ns_source", "ns_linkname",
    "ns_fee", "s_cid", "vero_id", "spm", "at_xt",
})


def _is_tracker(name: str) -> bool:
    name = name.lower()
    return name in _TRACKERS or name.startswith(_TRACKER_PREFIXES)


def clean_url(url: str) -> str:
    """``url`` without trackers, fragment or default port, host in lower case, query sorted."""
    url = url.strip()
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in pairs if not _is_tracker(k)]
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    try:
        normalised = normalize_url(url, strict=False)
    except (ValueError, AttributeError) as exc:  # courlan refuses a few odd URLs
        logger.debug("courlan could not normalise %s: %s", url, exc)
        return url
    return re.sub(r"#.*$", "", normalised)


def same_site(a: str, b: str) -> bool:
    """True when both URLs are on the same host, ``www.`` aside."""
    return _bare_host(a) == _bare_host(b) and _bare_host(a) != ""


def _bare_host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def canonical_url(url: str, page_canonical: str | None = None) -> str:
    """The URL an article is watched under.

    ``url`` is where it was fetched (after redirects) or found; ``page_canonical`` the page's
    ``<link rel=canonical>``, used when it is an http(s) URL on the same site.
    """
    chosen = url
    if page_canonical and urlsplit(page_canonical).scheme in ("http", "https"):
        if same_site(page_canonical, url):
            chosen = page_canonical
        else:
            logger.debug("ignoring off-site canonical %s for %s", page_canonical, url)
    return clean_url(chosen)


def url_key(url: str) -> str:
    """A key equal for URLs that are surely one article: ``host/path?query`` of the clean URL.

    The scheme, a ``www.`` prefix and a trailing slash do not count.
    """
    parts = urlsplit(clean_url(url))
    path = parts.path.rstrip("/") or "/"
    host = _bare_host(url)
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{path}" + (f"?{parts.query}" if parts.query else "")
