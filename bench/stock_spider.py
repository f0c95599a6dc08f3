"""The second baseline of bench/capture_cost.py: a stock Scrapy spider, as a user would write it.

bench/plain_spider.py is the lean like-for-like baseline (the project's link rules and settings, only
the archiving left out). This one is what "a plain Scrapy spider" means to a user: Scrapy's
CrawlSpider with one LinkExtractor rule over the five sites' domains, started from their home pages
and feeds, and run with Scrapy's default settings (no project: bench/capture_cost.py runs it outside
the checkout) but for what makes the comparison fair: the same politeness (DOWNLOAD_DELAY,
AutoThrottle, requests in flight), robots.txt, host map (the name resolver that reaches the replica)
and User-Agent as the archival crawl (`settings()` below). It writes its final stats as JSON to
STATS_FILE, as the project's StatsFile extension does for the other crawls.

    python -m scrapy runspider bench/stock_spider.py -s STATS_FILE=stats.json -s HOST_MAP='{...}' ...
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

from crawler.site.profiles import PROFILES

#: the network job's five sites (`scrapy crawl network`)
SITES = list(PROFILES.values())


def settings() -> dict:
    """The project's settings a stock spider shares with the archival crawl, as `-s` values."""
    from crawler import __version__
    from crawler import settings as project

    names = ("ROBOTSTXT_OBEY", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY",
             "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY",
             "AUTOTHROTTLE_TARGET_CONCURRENCY", "TWISTED_DNS_RESOLVER")
    values = {name: getattr(project, name) for name in names}
    # the archival spider's own User-Agent (spiders/network.py NetworkSpider.update_settings)
    values["USER_AGENT"] = f"spacewar-archiver/{__version__} (+{project.CONTACT_URL})"
    return values


class StockSpider(CrawlSpider):
    name = "stock"
    allowed_domains = [p.domain for p in SITES]
    start_urls = [url for p in SITES for url in (p.home_url, p.feed_url)]
    rules = (Rule(LinkExtractor(allow_domains=allowed_domains), callback="parse_page", follow=True),)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # once every extension has closed (CoreStats sets the elapsed time when the spider closes)
        crawler.signals.connect(spider.write_stats, signal=signals.engine_stopped)
        return spider

    def parse_page(self, response):
        return ()

    def write_stats(self):
        path = self.settings.get("STATS_FILE")
        if path:
            Path(path).write_text(json.dumps(self.crawler.stats.get_stats(), default=str))
