"""Add-on for the backfill from a Wayback-style archive (`-a wayback=BASE` sets WAYBACK): its settings and its guard.

The spider (spiders/wayback.py) lists the archive's captures through its CDX API and fetches them
through `id_`; this add-on, switched on by WAYBACK, puts in the chain:
- the guard, first of the downloader middlewares (50, crawler/backfill/guard.py): a request that is
  not the archive's CDX API, an `id_` capture or the archive's robots.txt is refused, so that no
  request of a backfill reaches the live site;

and sets the backfill's defaults (DEFAULTS below, at add-on priority), and the politeness the
archive asks for (POLITE below): one request in flight and a second between two, over the
project's settings (which are for the network's own sites) but never over what the user set.
"""

from __future__ import annotations

from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES

from crawler.components import defaults, register

DEFAULTS = {
    #: Captures from this time on (a year, or 1 to 14 digits of yyyyMMddhhmmss); None: from the first.
    "WAYBACK_FROM": None,
    #: Captures up to this time, inclusive (as WAYBACK_FROM); None: up to the last.
    "WAYBACK_TO": None,
    #: Captures per CDX listing page (the CDX API's `limit`; the next page by its resume key).
    "WAYBACK_PAGE_SIZE": 1000,
    #: The archive's layout: "ia" (BASE/cdx/search/cdx, BASE/web/<ts>id_/<url>) or "pywb" (a collection:
    #: BASE/cdx, BASE/<ts>id_/<url>); None: from BASE, a path after the host is a pywb collection.
    "WAYBACK_LAYOUT": None,
    #: "latest": one item per article, from its latest complete capture; "all": one per distinct capture.
    "WAYBACK_VERSIONS": "latest",
}

#: The archive's politeness: set in wayback mode over the project's settings, unless set on the command line.
POLITE = {
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_DELAY": 1.0,
}


class WaybackBackfill:
    """Add-on: see the module docstring."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("WAYBACK"):
            raise NotConfigured
        return cls(crawler)

    def update_settings(self, settings):
        defaults(settings, DEFAULTS)
        user = SETTINGS_PRIORITIES["cmdline"]
        for name, value in POLITE.items():
            if (settings.getpriority(name) or 0) < user:
                settings.set(name, value, priority="spider")
        # the politeness above is the archive's: the delay must not shrink below it
        if (settings.getpriority("AUTOTHROTTLE_ENABLED") or 0) < user:
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.backfill.guard.ArchiveOnlyMiddleware", 50)
