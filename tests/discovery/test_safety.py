"""The SSRF predicate, table-driven (FAULTS F14-F19); the end-to-end checks are in test_ssrf.py."""

from __future__ import annotations

import pytest

from spiders.discovery.safety import AddressPolicy, parse_host, url_syntax_problem

REFUSED = [
    # F14: private, metadata, CGNAT, loopback, link-local, multicast, unspecified
    ("http://127.0.0.1/", "loopback"),
    ("http://127.8.9.10:8080/x", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://169.254.10.10/", "link-local"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://100.127.255.254/", "CGNAT"),
    ("http://100.100.100.200/", "metadata"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0.1.2.3/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[::1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[fc00::1]/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    ("http://[ff02::1]/", "multicast"),
    # F15: IPv4 inside IPv6
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[::127.0.0.1]/", "loopback"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),  # NAT64
    ("http://[64:ff9b::10.0.0.1]/", "private"),
    ("http://[2002:a9fe:a9fe::]/", "metadata"),  # 6to4
    ("http://[2002:7f00:1::]/", "loopback"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback"),  # Teredo, client 127.0.0.1
    # F16: odd IPv4 notations (getaddrinfo takes them all)
    ("http://2130706433/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://0251.0376.0251.0376/", "metadata"),
    ("http://2852039166/", "metadata"),
    ("http://012.1/", "private"),
    ("http://127.0.0.1./", "loopback"),
    # F19: parser differentials and schemes
    ("http://127.0.0.1:8888\\@example.com/", "backslash"),
    ("http://example.com\\.evil/", "backslash"),
    ("http://example.com@127.0.0.1/", "credentials"),
    ("http://user:pass@example.com/", "credentials"),
    ("file:///etc/passwd", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("gopher://127.0.0.1:6379/_INFO", "scheme"),
    ("ftp://example.com/", "scheme"),
    ("data:text/html,hi", "scheme"),
    ("//example.com/", "scheme"),
    ("http:///nohost", "no host"),
    ("http://exa mple.com/", "whitespace"),
    ("http://example.com:0/", "port 0"),
    ("http://[::1/", "unparsable"),
]

ALLOWED = [
    "http://example.com/",
    "https://www.example.org:8443/a?b=c",
    "http://8.8.8.8/",
    "http://1.1.1.1./",
    "http://[2606:4700:4700::1111]/",
    "http://[64:ff9b::808:808]/",  # NAT64 to 8.8.8.8: how IPv6-only networks reach sites
    "http://[::ffff:8.8.8.8]/",
    "http://134744072/",  # 8.8.8.8 as one number
    "http://999.1.1.1/",  # not an address for anyone: a name, left to DNS
]


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_refused(url: str, why: str) -> None:
    problem = AddressPolicy().url_problem(url)
    assert problem is not None, f"{url} was allowed"
    assert why.lower() in problem.lower(), problem


@pytest.mark.parametrize("url", ALLOWED)
def test_allowed(url: str) -> None:
    assert AddressPolicy().url_problem(url) is None


@pytest.mark.parametrize(
    ("networks", "url", "allowed"),
    [
        (["127.0.0.0/8"], "http://127.0.0.1:8000/", True),
        (["127.0.0.0/8"], "http://[::ffff:127.0.0.1]/", True),  # the IPv4 inside is allowed
        (["127.0.0.0/8"], "http://2130706433/", True),
        (["127.0.0.1/32"], "http://127.0.0.2/", False),
        (["127.0.0.1/32"], "http://10.0.0.1/", False),
        (["10.0.0.0/8"], "http://10.20.30.40/", True),
        (["10.0.0.0/8"], "http://169.254.169.254/", False),
        (["fd00::/8"], "http://[fd00::5]/", True),
        (["10.0.0.0/8"], "http://example.com@10.0.0.1/", False),  # credentials: never
        (["127.0.0.0/8"], "file:///etc/passwd", False),
    ],
)
def test_allowed_networks(networks: list[str], url: str, allowed: bool) -> None:
    assert (AddressPolicy(networks).url_problem(url) is None) == allowed


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"), ("[::1]", "::1"), ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"), ("0177.0.0.01", "127.0.0.1"), ("10.1", "10.0.0.1"),
        ("example.com", None), ("1.2.3.4.5", None), ("1.2.3.256", None),
    ],
)
def test_hosts_are_read_with_inet_aton_rules(host: str, address: str | None) -> None:
    parsed = parse_host(host)
    assert (str(parsed) if parsed else None) == address


def test_a_name_passes_the_syntax_check() -> None:
    assert url_syntax_problem("https://www.clubic.com/pro/entreprises/microsoft/actualite-1.html") is None
