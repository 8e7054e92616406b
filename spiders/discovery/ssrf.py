"""The SSRF guard in Scrapy: a downloader middleware and a resolver that refuse private addresses.

Three checks, so that no request reaches a refused address (FAULTS F14-F19):

1. :class:`SSRFGuardMiddleware` ``process_request`` runs for **every** request, including each
   redirect hop (a redirect is a new request that goes through the downloader middlewares
   again) and robots.txt fetches. It rejects bad schemes, backslashes and credentials, checks a
   literal IP host in any notation, and resolves a name to **all** its A and AAAA records,
   each of which must pass. A refusal raises :class:`~spiders.discovery.errors.BlockedAddress`
   (an ``IgnoreRequest`` whose message starts with ``blocked_address:``).
2. :class:`GuardedResolver`, installed as Scrapy's DNS resolver, checks the address the
   connection itself is about to use: a name that answered a public address to the middleware
   and a private one a moment later (DNS rebinding, F18) fails there. Twisted's connection
   only learns "no address" from a resolver, so the resolver remembers why, and the
   middleware's ``process_exception`` turns that DNS failure into
   :class:`BlockedResolution` (a ``BlockedAddress``): the check is stored as
   ``blocked_address`` with the reason, not as a ``dns_error``, and a retry of that host is
   refused at once instead of connecting again.
3. ``process_response`` checks ``response.ip_address``, the peer the bytes came from.

Settings: ``VEILLE_ALLOW_NETWORKS`` (a list of CIDRs that may be fetched even though private),
``VEILLE_SSRF_GUARD`` (False turns all three off). Enable with::

    DOWNLOADER_MIDDLEWARES = {"spiders.discovery.ssrf.SSRFGuardMiddleware": 50}

The middleware installs the resolver on the reactor itself (Scrapy's ``TWISTED_DNS_RESOLVER``
is only applied by ``CrawlerProcess``, not by the crawler runners veille uses); setting
``TWISTED_DNS_RESOLVER = "spiders.discovery.ssrf.GuardedResolver"`` too covers
``CrawlerProcess``.

Pages rendered in Chromium (scrapy-playwright) are checked by (1) before the browser opens
them, but the browser resolves names and follows redirects itself.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import OrderedDict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import CannotResolveHostError
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from spiders.discovery.errors import BlockedAddress
from spiders.discovery.safety import AddressPolicy, parse_host

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

ALLOW_SETTING = "VEILLE_ALLOW_NETWORKS"
ENABLED_SETTING = "VEILLE_SSRF_GUARD"
# Verdicts per host kept for one crawl: a cycle of 1,000 pages on one site resolves it once.
_VERDICT_CACHE = 4096


def _policy(crawler: Crawler) -> AddressPolicy:
    return AddressPolicy(crawler.settings.getlist(ALLOW_SETTING))


class SSRFGuardMiddleware:
    """Refuse requests whose host is, or resolves to, a forbidden address."""

    def __init__(self, policy: AddressPolicy, *, enabled: bool = True) -> None:
        self.policy = policy
        self.enabled = enabled
        self._verdicts: OrderedDict[str, str | None] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SSRFGuardMiddleware:
        """Scrapy's constructor hook: the allowlist comes from the settings.

        Also installs :class:`GuardedResolver` on the reactor: Scrapy installs its
        ``TWISTED_DNS_RESOLVER`` only in ``CrawlerProcess``, never for the crawler runners
        veille uses, whose connections would otherwise resolve names unchecked.
        """
        enabled = crawler.settings.getbool(ENABLED_SETTING, True)
        if enabled:
            install_resolver(crawler)
        return cls(_policy(crawler), enabled=enabled)

    async def process_request(self, request: Request) -> None:
        """Raise :class:`BlockedAddress` unless every address of the request's host is allowed."""
        if not self.enabled:
            return
        url = request.url
        problem = self.policy.url_problem(url)
        if problem is None:
            parts = urlsplit(url)
            host = parts.hostname or ""
            if parse_host(host) is None:  # a name: what does it resolve to?
                # A retry of a request whose connection's lookup was refused: refuse it now.
                refused = _resolver_refusal(url, host) if request.meta.get("retry_times") else None
                if refused is not None:
                    logger.info("refused %s: %s", url, refused.reason)
                    raise refused
                problem = await self._name_problem(host, parts.port)
        if problem:
            logger.info("refused %s: %s", url, problem)
            raise BlockedAddress(url, problem, urlsplit(url).hostname)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Say ``blocked_address`` when a "DNS failure" was :class:`GuardedResolver` refusing."""
        if self.enabled and isinstance(exception, CannotResolveHostError):
            refused = _resolver_refusal(request.url, urlsplit(request.url).hostname or "")
            if refused is not None:
                raise refused from exception

    def process_response(self, request: Request, response: Response) -> Response:
        """Drop a response that came from a forbidden peer (the address actually connected to)."""
        address = getattr(response, "ip_address", None)
        if self.enabled and address is not None:
            problem = self.policy.address_problem(str(address))
            if problem:
                logger.warning("response for %s came from %s: %s", request.url, address, problem)
                raise BlockedAddress(request.url, problem, str(address))
        return response

    async def _name_problem(self, host: str, port: int | None) -> str | None:
        key = host.lower().rstrip(".")
        if key in self._verdicts:
            self._verdicts.move_to_end(key)
            return self._verdicts[key]
        verdict = await self._resolve_and_check(key, port)
        self._verdicts[key] = verdict
        if len(self._verdicts) > _VERDICT_CACHE:
            self._verdicts.popitem(last=False)
        return verdict

    async def _resolve_and_check(self, host: str, port: int | None) -> str | None:
        """Check every A and AAAA record of ``host``; None when all are allowed (or none came)."""
        try:
            records = await asyncio.get_running_loop().getaddrinfo(
                host, port or 80, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            # No answer: the download fails on its own with a DNS error, and the resolver
            # (GuardedResolver) checks whatever answer the connection gets later.
            logger.debug("could not resolve %s before fetching: %s", host, exc)
            return None
        for *_, sockaddr in records:
            problem = self.policy.address_problem(str(sockaddr[0]))
            if problem:
                return f"{host} resolves to {problem}"
        return None


def _resolver_refusal(url: str, host: str) -> BlockedResolution | None:
    """The refusal of the installed resolver's last lookup of ``host``, for ``url``."""
    from twisted.internet import reactor

    resolver = getattr(reactor, "resolver", None)
    if not isinstance(resolver, GuardedResolver):
        return None
    return resolver.refusal(url, host)


def install_resolver(crawler: Crawler) -> GuardedResolver:
    """Install a :class:`GuardedResolver` with this crawler's allowlist (the latest wins)."""
    from twisted.internet import reactor

    resolver = GuardedResolver.from_crawler(crawler, reactor)  # type: ignore[arg-type]
    current = getattr(reactor, "resolver", None)
    if isinstance(current, GuardedResolver) and current.policy.allowed == resolver.policy.allowed:
        return current
    resolver.install_on_reactor()
    return resolver


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing to hand a forbidden address to a connection."""

    def __init__(
        self, reactor: ReactorBase, cache_size: int, timeout: float, policy: AddressPolicy
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy
        # name -> (address, problem) while its last lookup was refused; what the middleware
        # reads to tell a refusal from a DNS failure (Twisted keeps only "no address").
        self._refused: OrderedDict[str, tuple[str, str]] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> GuardedResolver:
        """Scrapy's constructor hook (same settings as Scrapy's resolver, plus the allowlist)."""
        cache_size = (
            crawler.settings.getint("DNSCACHE_SIZE")
            if crawler.settings.getbool("DNSCACHE_ENABLED") else 0
        )
        policy = _policy(crawler)
        if not crawler.settings.getbool(ENABLED_SETTING, True):
            policy = AddressPolicy(["0.0.0.0/0", "::/0"])
        return cls(reactor, cache_size, crawler.settings.getfloat("DNS_TIMEOUT"), policy)

    def getHostByName(  # noqa: N802 - Twisted's interface
        self, name: str, timeout: Sequence[int] = ()
    ) -> Deferred[str]:
        """Resolve like Scrapy, then refuse a forbidden answer (cached answers included)."""
        deferred = super().getHostByName(name, timeout)
        deferred.addCallbacks(self._check, self._failed, callbackArgs=(name,), errbackArgs=(name,))
        return deferred

    def refusal(self, url: str, host: str) -> BlockedResolution | None:
        """A :class:`BlockedResolution` for ``url`` when the last lookup of ``host`` was refused."""
        key = host.lower().rstrip(".")
        found = self._refused.get(key)
        return BlockedResolution(url, key, *found) if found else None

    def _check(self, address: Any, name: str) -> Any:
        key = name.lower().rstrip(".")
        problem = self.policy.address_problem(str(address))
        if not problem:
            self._refused.pop(key, None)
            return address
        logger.warning("refused to connect to %s: %s", name, problem)
        self._refused[key] = (str(address), problem)
        self._refused.move_to_end(key)
        if len(self._refused) > _VERDICT_CACHE:
            self._refused.popitem(last=False)
        # A DNSLookupError is what Twisted's connection expects from a resolver (anything
        # else is logged as a resolver bug); the middleware says why (process_exception).
        raise DNSLookupError(f"blocked_address: {name} resolves to {problem}")

    def _failed(self, failure: Any, name: str) -> Any:
        self._refused.pop(name.lower().rstrip("."), None)  # a real DNS failure this time
        return failure


class BlockedResolution(BlockedAddress):
    """The connection's own lookup answered a forbidden address (the rebinding backstop).

    Not a DNS failure: the name did resolve, to an address veille must not reach. Being a
    ``BlockedAddress`` (an ``IgnoreRequest``), it is not retried, and
    :func:`spiders.fetchstate.classify_failure` stores it as ``blocked_address``.
    """

    def __init__(self, url: str, name: str, address: str, problem: str) -> None:
        # blocked_address: URL: NAME resolves to loopback (127.0.0.1) when connecting …
        super().__init__(
            url, f"{name} resolves to {problem} when connecting (not what the first lookup "
            "answered: DNS rebinding?)",
        )
        self.name = name
        self.address = address
