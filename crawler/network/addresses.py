"""Downloader middleware refusing requests to loopback/private/reserved addresses and off-site redirect targets.

Policy (docs/crash-safety.md, "Address policy"):

* A request is refused (IgnoreRequest, stat safety/refused/<reason>, one warning line) when its
  host is, or resolves to, an address that is not globally routable: loopback (127/8, ::1),
  private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 — cloud metadata
  services live there — fe80::/10), carrier-grade NAT (100.64/10), unspecified, multicast
  or reserved. Initial requests, links and redirect targets are all checked, because each
  passes through the downloader middlewares.
* Hosts named in HOST_MAP are exempt, on the ports HOST_MAP names them for: HOST_MAP is the
  operator's own, explicit choice of where a host lives (the test replica on 127.0.0.1). A mapped
  `host:443` does not exempt `http://host/` (port 80), which resolves through ordinary DNS.
* ALLOW_PRIVATE_ADDRESSES = True turns the check off (a crawl of an intranet mirror); so does
  a rebuild from WARC files (-a from_warc=..., nothing goes to the network, no name is looked up).
* A name that does not resolve is let through: the download fails the same way.
* The check is repeated on the response's peer address (response.ip_address), so a name that
  resolved differently at connection time (DNS rebinding) yields no response to the spider.
* Redirect targets (requests carrying redirect_urls) must stay inside the spider's
  allowed_domains (host names compared without port and trailing dot) even when dont_filter is set (Scrapy's OffsiteMiddleware lets dont_filter
  requests through, and a redirect inherits dont_filter from its source). Robots rules apply
  to redirect targets through Scrapy's RobotsTxtMiddleware, which sees every request.
"""

from __future__ import annotations

import ipaddress
import logging

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler import keys
from crawler.network.hostmap import parse_host_map
from crawler.network.signals import request_refused

logger = logging.getLogger(__name__)


def address_problem(address: str) -> str | None:
    """Why an IP address must not be crawled ("loopback", "private", ...), or None when it is public."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    for name in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if not ip.is_global:  # 100.64/10 and other special-purpose ranges
        return "non-global"
    return None


def on_domains(host: str, domains) -> bool:
    """A host name (lower case, no trailing dot) is one of `domains` or a subdomain of one. The port
    is not part of the name: a redirect to https://www.spacewar.com:443/ stays on the site."""
    return any(host == d or host.endswith("." + d) for d in (d.lower().rstrip(".") for d in domains))


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


class PrivateAddressMiddleware:
    """See the module docstring. Constructor takes plain values; `resolve(host)` returns an
    awaitable of one address (the reactor's resolver in a crawl)."""

    def __init__(self, mapped=(), stats=None, resolve=None):
        # (host, port) pairs of HOST_MAP; a port of None maps every port of the host
        self.mapped = {(h.lower().rstrip("."), port) for h, port in mapped}
        self.stats = stats
        self.resolve = resolve
        self.signals = None  # the crawler's, in a crawl

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if s.getbool("ALLOW_PRIVATE_ADDRESSES") or s.get("FROM_WARC"):
            raise NotConfigured  # off by choice, or rebuilding from WARC files (no network at all)
        mapped = list(parse_host_map(s.get("HOST_MAP")))

        def resolve(host):
            from twisted.internet import reactor

            from scrapy.utils.defer import maybe_deferred_to_future

            return maybe_deferred_to_future(reactor.resolve(host))

        o = cls(mapped, crawler.stats, resolve)
        o.crawler = crawler
        o.signals = crawler.signals
        return o

    def _refuse(self, reason: str, request, detail: str):
        if self.stats:
            self.stats.inc_value(keys.STAT_REFUSED.format(reason=reason))
        logger.warning("Refused %s: %s", request.url, detail)
        if self.signals is not None:  # the run report lists the URL
            self.signals.send_catch_log(signal=request_refused, request=request,
                                        reason=f"address policy ({reason.replace('_', ' ')})")
        raise IgnoreRequest(f"refused ({reason}): {detail}")

    def _allowed_domains(self):
        spider = getattr(getattr(self, "crawler", None), "spider", None)
        return getattr(spider, "allowed_domains", None) or []

    def is_mapped(self, request) -> bool:
        """HOST_MAP names this request's host on this request's port (or on every port)."""
        parts = urlparse_cached(request)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return (host, port) in self.mapped or (host, None) in self.mapped

    async def process_request(self, request, spider=None):
        host = (urlparse_cached(request).hostname or "").lower().rstrip(".")
        if request.meta.get("redirect_urls"):
            domains = self._allowed_domains()
            if domains and not on_domains(host, domains):
                self._refuse("offsite_redirect", request,
                             f"redirect from {request.meta['redirect_urls'][0]} leaves {domains}")
        if not host or self.is_mapped(request):
            return None
        if is_ip_literal(host):
            problem = address_problem(host)
            if problem:
                self._refuse("private_address", request, f"{host} is a {problem} address")
            return None
        if self.resolve is None:
            return None
        try:
            address = await self.resolve(host)
        except Exception:  # no such name: the download reports it
            return None
        problem = address_problem(str(address))
        if problem:
            self._refuse("private_address", request, f"{host} resolves to {address}, a {problem} address")
        return None

    def process_response(self, request, response, spider=None):
        host = (urlparse_cached(request).hostname or "").lower().rstrip(".")
        ip = getattr(response, "ip_address", None)
        if ip is not None and not self.is_mapped(request) and not is_ip_literal(host):
            problem = address_problem(str(ip))
            if problem:
                self._refuse("private_peer", request, f"{host} was served from {ip}, a {problem} address")
        return response
