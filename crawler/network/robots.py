"""robots.txt middleware that follows RFC 9309 when robots.txt cannot be had: a 5xx or a failed fetch means complete disallow.

Scrapy's RobotsTxtMiddleware allows everything when robots.txt answers with a server error or
cannot be fetched at all. RFC 9309 (section 2.3.1.3 and 2.3.1.4) asks the opposite: the file is
"unreachable", and the crawler must assume complete disallow. A 4xx still means "no robots.txt":
allow all. The request for robots.txt is retried like any other first (RETRY_HTTP_CODES includes
503), so one transient error does not close a site. Stat robotstxt/disallow_all/<why>, one
warning per host.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.misc import build_from_crawler

from crawler import keys
from crawler.network.signals import request_refused

logger = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


def is_robots_request(request) -> bool:
    """Whether `request` is the robots middleware's own request for a host's robots.txt (Scrapy's marks it
    dont_obey_robotstxt): one per host and process, which the crawl must not refuse (without it the host is closed)."""
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


class Rfc9309RobotsTxtMiddleware(RobotsTxtMiddleware):
    def process_request_2(self, rp, request):
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:  # the run report lists the URL
            self.crawler.signals.send_catch_log(signal=request_refused, request=request, reason="robots.txt")
            raise

    async def _parse_robots(self, response, netloc, request):
        if response.status >= 500:
            self._disallow(netloc, f"robots.txt answered {response.status}", "5xx")
            response = response.replace(body=DISALLOW_ALL)
        return await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc, netloc):
        super()._robots_error(exc, netloc)  # counts it and wakes the requests waiting for the parser
        self._disallow(netloc, f"robots.txt could not be fetched ({type(exc).__name__}: {exc})", "unreachable")
        self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)

    def _disallow(self, netloc: str, why: str, kind: str) -> None:
        self._stats.inc_value(keys.STAT_ROBOTS_DISALLOW_ALL.format(why=kind))
        logger.warning("%s: %s, so the host is treated as disallowed (RFC 9309, complete disallow)", netloc, why)
