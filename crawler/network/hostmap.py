"""Name resolver that sends chosen host:port pairs to other addresses (HOST_MAP), then falls back to DNS.

Used to point the unchanged spider at the project's replica of the site on 127.0.0.1: the
URL, the Host header and TLS SNI still name www.spacewar.com, only the TCP connection goes
elsewhere. Installed as TWISTED_DNS_RESOLVER; an empty HOST_MAP changes nothing.

HOST_MAP = {"www.spacewar.com:443": "127.0.0.1:8443", "spacewar.com": "127.0.0.1"}
A key without a port matches every port; a value without a port keeps the requested port.
"""

from __future__ import annotations

import json
import logging

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution
from zope.interface import implementer

from scrapy.resolver import CachingThreadedResolver

logger = logging.getLogger(__name__)


def parse_host_map(value) -> dict[tuple[str, int | None], tuple[str, int | None]]:
    """{"host[:port]": "ip[:port]"} (dict or JSON text) -> {(host, port|None): (ip, port|None)}."""
    if not value:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    out = {}
    for key, target in dict(value).items():
        out[_split(key)] = _split(target)
    return out


def _split(text: str) -> tuple[str, int | None]:
    text = text.strip().lower()
    if text.startswith("["):  # [::1]:8080
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, None


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:  # resolution is immediate
        pass


@implementer(IHostnameResolver)
class HostMapResolver:
    """IHostnameResolver answering mapped hosts at once and delegating the rest."""

    def __init__(self, reactor, host_map, fallback=None):
        self.reactor = reactor
        self.host_map = parse_host_map(host_map)
        self.fallback = fallback

    @classmethod
    def from_crawler(cls, crawler, reactor):
        # Keep Scrapy's default caching resolver for everything HOST_MAP does not name.
        default = CachingThreadedResolver.from_crawler(crawler, reactor)
        default.install_on_reactor()
        return cls(reactor, crawler.settings.get("HOST_MAP"), fallback=reactor.nameResolver)

    def install_on_reactor(self) -> None:
        if self.host_map:
            logger.info("HOST_MAP in force: %s", {f"{h}:{p or '*'}": f"{a}:{q or '='}"
                                                   for (h, p), (a, q) in self.host_map.items()})
        self.reactor.installNameResolver(self)

    def lookup(self, host: str, port: int) -> tuple[str, int] | None:
        host = host.lower().rstrip(".")
        target = self.host_map.get((host, port)) or self.host_map.get((host, None))
        if target is None:
            return None
        addr, new_port = target
        return addr, new_port if new_port is not None else port

    def resolveHostName(self, resolutionReceiver, hostName, portNumber=0,
                        addressTypes=None, transportSemantics="TCP"):
        mapped = self.lookup(hostName, portNumber)
        if mapped is None:
            return self.fallback.resolveHostName(
                resolutionReceiver, hostName, portNumber, addressTypes, transportSemantics
            )
        addr, port = mapped
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        cls = IPv6Address if ":" in addr else IPv4Address
        resolutionReceiver.addressResolved(cls("TCP", addr, port))
        resolutionReceiver.resolutionComplete()
        return resolution
