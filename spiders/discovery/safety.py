r"""Which URLs and addresses veille may fetch: the predicate behind the SSRF guard.

URLs found on the web can point anywhere: at the machine itself, at the intranet, at the cloud's
metadata service (``169.254.169.254`` hands out credentials). An address is refused unless it is
a global unicast address, or lies in a network the config allows (``allow_networks``). FAULTS
F14-F19 list the tricks this module knows:

- every non-global range: loopback, private (RFC 1918, ``fc00::/7``), link-local, shared CGNAT
  ``100.64/10``, multicast, unspecified (``0.0.0.0``, ``::``), reserved and documentation ranges;
- IPv4 hidden in IPv6: mapped ``::ffff:127.0.0.1``, compatible ``::127.0.0.1``, NAT64
  ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo ``2001::/32``: the IPv4 inside is checked too;
- IPv4 spelt oddly: ``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``. ``getaddrinfo``
  accepts them all (``inet_aton`` rules), so they are read with the same rules before checking;
- URL tricks: a backslash (``http://127.0.0.1\@example.com/``: browsers and Python disagree on
  the host), credentials (``http://example.com@127.0.0.1/``), schemes other than http(s).

Names are resolved by the downloader middleware (:mod:`spiders.discovery.ssrf`), which checks
every address with :meth:`AddressPolicy.address_problem`.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata services (AWS, GCP, Azure, OpenStack; AWS over IPv6; Alibaba).
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# inet_aton accepts 1 to 4 parts, each decimal, octal (leading 0) or hex (0x).
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}\.?", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def parse_host(host: str) -> IPAddress | None:
    """The IP address a URL host stands for, when it is a literal (in any notation); else None.

    ``[::1]`` (brackets included or not), ``127.0.0.1``, ``2130706433``, ``0x7f.1`` -> an address;
    ``example.org`` -> None (a name, to be resolved).
    """
    text = host.strip().strip("[]")
    if "%" in text:  # an IPv6 zone (fe80::1%eth0) does not change the address
        text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text.rstrip(".")))
        except OSError:
            return None  # e.g. 999.1.1.1: no resolver would take it as an address either
    return None


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    value = int(address)
    if value >> 32 == 0 and value > 1:  # ::a.b.c.d, the deprecated "IPv4-compatible" form
        found.append(ipaddress.IPv4Address(value))
    if any(address in network for network in _NAT64):
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def _category(address: IPAddress) -> str | None:
    """Why ``address`` may not be fetched (ignoring any allowlist), or None for a global one."""
    if address in METADATA:
        return "cloud metadata service"
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK
    ):
        return "unspecified address"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared address space (CGNAT 100.64.0.0/10)"
    if address.is_reserved:
        return "reserved address"
    if address.is_private:
        return "private network"
    if not address.is_global:
        return "reserved or non-global address"
    return None


class AddressPolicy:
    """Refuse non-public addresses, except those inside the allowed networks."""

    def __init__(self, allow_networks: Iterable[str | IPNetwork] = ()) -> None:
        self.allowed: tuple[IPNetwork, ...] = tuple(
            net if not isinstance(net, str) else ipaddress.ip_network(net, strict=False)
            for net in allow_networks
        )

    def is_allowed(self, address: IPAddress) -> bool:
        """True when ``address`` (or the IPv4 inside it) lies in an allowed network."""
        for candidate in (address, *embedded_ipv4(address)):
            if any(candidate.version == net.version and candidate in net for net in self.allowed):
                return True
        return False

    def address_problem(self, address: IPAddress | str) -> str | None:
        """Why ``address`` may not be fetched, or None when it may."""
        if isinstance(address, str):
            parsed = parse_host(address)
            if parsed is None:
                return f"not an IP address: {address!r}"
            address = parsed
        if self.is_allowed(address):
            return None
        inner_addresses = embedded_ipv4(address)
        for inner in inner_addresses:
            category = _category(inner)
            if category:
                return f"{category} ({inner} inside the IPv6 address {address})"
        if inner_addresses:
            # A translation prefix (NAT64 on an IPv6-only network, 6to4) to a public IPv4
            # address is how such networks reach ordinary sites: the IPv4 inside decides.
            return None
        category = _category(address)
        return f"{category} ({address})" if category else None

    def url_problem(self, url: str) -> str | None:
        """What makes ``url`` unsafe to fetch before any DNS lookup, or None.

        A literal IP host is checked here; a name is left to the resolver's answer.
        """
        problem = url_syntax_problem(url)
        if problem:
            return problem
        host = urlsplit(url).hostname or ""
        address = parse_host(host)
        return self.address_problem(address) if address is not None else None


def url_syntax_problem(url: str) -> str | None:
    """Scheme, backslash, credentials and host checks that need no DNS; None when fine."""
    if "\\" in url:
        return "backslash in the URL (parsers disagree on its host)"
    if _CONTROL.search(url.strip()):
        return "whitespace or control character in the URL"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        return f"unparsable URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not http or https"
    if "@" in parts.netloc:
        return "credentials (user@) in the URL"
    if not parts.hostname:
        return "no host in the URL"
    if port == 0:
        return "port 0"
    return None
