"""Downloader middleware of the backfill: only the archive's CDX API, its `id_` captures and its robots.txt go out.

In wayback mode (WAYBACK set, crawler/backfill/addon.py) every request is checked before any other
middleware sees it (50): its URL must be the archive's CDX endpoint (`BASE/cdx/search/cdx?...`; a
pywb collection's: `BASE/cdx?...`), a capture's original bytes (`BASE/web/<14 digits>id_/<original URL>`;
pywb's: `BASE/<14 digits>id_/<original URL>`; crawler/wayback/cdx.py parse_capture_url: a replay URL
without `id_`, which the archive rewrites, is refused), the layout being the one WAYBACK_LAYOUT or the
base URL says (crawler/wayback/cdx.py archive_layout), or the archive host's robots.txt (with pywb
also the `/robots.txt/` pywb redirects it to, is_robots); and it must be a request the backfill made
(with its listing or capture in request.meta) unless it is the robots.txt. Anything else, the live site above all (a stray start
request, a link, a revisit the incremental state holds), is refused with IgnoreRequest and counted
(wayback/refused), with one WARNING line for the first.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from crawler import keys
from crawler.wayback.cdx import IA, PYWB, archive_base, archive_layout, cdx_endpoint, parse_capture_url

logger = logging.getLogger(__name__)


def allowed(url: str, base: str, layout: str = IA) -> bool:
    """True when `url` is one the backfill may request from the archive at `base` in `layout`."""
    base = archive_base(base)
    if url.startswith(cdx_endpoint(base, layout) + "?"):
        return True
    try:
        parse_capture_url(url, base, layout)
        return True
    except ValueError:
        pass
    return is_robots(url, base, layout)


def is_robots(url: str, base: str, layout: str = IA) -> bool:
    """True for the archive host's robots.txt; with a pywb archive also `/robots.txt/`, where pywb redirects
    `/robots.txt` (307: it takes the path for a collection's name) and answers 404, which allows everything."""
    root, parts = urlsplit(archive_base(base)), urlsplit(url)
    paths = ("/robots.txt", "/robots.txt/") if layout == PYWB else ("/robots.txt",)
    return (parts.scheme, parts.netloc, parts.query) == (root.scheme, root.netloc, "") and parts.path in paths


class ArchiveOnlyMiddleware:
    """See the module docstring."""

    def __init__(self, base: str, stats=None, layout: str | None = None):
        self.base = archive_base(base)
        self.layout = archive_layout(self.base, layout)
        self.stats = stats
        self.warned = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("WAYBACK"), crawler.stats, crawler.settings.get("WAYBACK_LAYOUT"))

    def process_request(self, request, spider=None):
        ours = keys.META_WAYBACK_LISTING in request.meta or keys.META_WAYBACK_CAPTURE in request.meta
        robots = is_robots(request.url, self.base, self.layout)
        if allowed(request.url, self.base, self.layout) and (ours or robots):
            return None
        if self.stats:
            self.stats.inc_value(keys.STAT_WAYBACK_REFUSED)
        if not self.warned:
            self.warned = True
            logger.warning("wayback mode: refused %s (only %s and id_ captures are requested)", request.url,
                           cdx_endpoint(self.base, self.layout))
        raise IgnoreRequest(f"wayback mode: not an archive request: {request.url}")
