"""Downloader middleware of the backfill: only the archive's CDX API, its `id_` captures and its robots.txt go out.

In wayback mode (WAYBACK set, crawler/backfill/addon.py) every request is checked before any other
middleware sees it (50): its URL must be the archive's CDX endpoint (`BASE/cdx/search/cdx?...`), a
capture's original bytes (`BASE/web/<14 digits>id_/<original URL>`, crawler/wayback/cdx.py
parse_capture_url: a replay URL without `id_`, which the archive rewrites, is refused) or the
archive host's robots.txt, and a request the backfill made (with its listing or capture in
request.meta) unless it is the robots.txt. Anything else, the live site above all (a stray start
request, a link, a revisit the incremental state holds), is refused with IgnoreRequest and counted
(wayback/refused), with one WARNING line for the first.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from crawler import keys
from crawler.wayback.cdx import CDX_PATH, archive_base, parse_capture_url

logger = logging.getLogger(__name__)


def allowed(url: str, base: str) -> bool:
    """True when `url` is one the backfill may request from the archive at `base`."""
    base = archive_base(base)
    if url.startswith(base + CDX_PATH + "?"):
        return True
    try:
        parse_capture_url(url, base)
        return True
    except ValueError:
        pass
    root, parts = urlsplit(base), urlsplit(url)
    return (parts.scheme, parts.netloc, parts.path, parts.query) == (root.scheme, root.netloc, "/robots.txt", "")


class ArchiveOnlyMiddleware:
    """See the module docstring."""

    def __init__(self, base: str, stats=None):
        self.base = archive_base(base)
        self.stats = stats
        self.warned = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("WAYBACK"), crawler.stats)

    def process_request(self, request, spider=None):
        ours = keys.META_WAYBACK_LISTING in request.meta or keys.META_WAYBACK_CAPTURE in request.meta
        if allowed(request.url, self.base) and (ours or request.url.endswith("/robots.txt")):
            return None
        if self.stats:
            self.stats.inc_value(keys.STAT_WAYBACK_REFUSED)
        if not self.warned:
            self.warned = True
            logger.warning("wayback mode: refused %s (only %s%s and id_ captures are requested)", request.url,
                           self.base, CDX_PATH)
        raise IgnoreRequest(f"wayback mode: not an archive request: {request.url}")
