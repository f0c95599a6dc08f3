"""The baseline of the throughput benchmark: a plain Scrapy spider that only follows links.

It visits the same pages as the archival spider (same start URLs, same URL rules, so the
same canonical URLs and the same duplicate filtering) but yields no items, writes no WARC,
runs no item pipelines, no capture-metadata middleware and uses Scrapy's stock download
handlers. Everything else (concurrency, robots.txt, cookies, host map, retries) comes
from the same project settings, so the difference in pages/s is the cost of archiving.

It requests every link it finds, as a stock Scrapy spider does, and leaves duplicates to
Scrapy's duplicate filter; the archival spider skips links it requested before
(crawler.site.urls.RequestedLinks). `-s PLAIN_SKIP_REQUESTED_LINKS=True` makes this spider skip them
too, for the like-for-like comparison (the cost of archiving alone). `-a sites=all` (or a list, as
`scrapy crawl network` takes) covers several sites of the network at once, each URL judged by the
profile of its host: the baseline of the network job (bench/capture_cost.py).

    python -m scrapy runspider bench/plain_spider.py -s HOST_MAP='{...}' ...
"""

from __future__ import annotations

import scrapy
from scrapy.http import TextResponse, XmlResponse
from scrapy.utils.response import get_base_url  # honours <base href>, as response.urljoin does

from crawler.site.profiles import PROFILES, SiteSet, choose
from crawler.site.urls import FEED, RequestedLinks, canonicalize, page_kind, site_links
from crawler.site.links import FEED_LINKS, PAGE_LINKS, hrefs


class PlainSpider(scrapy.Spider):
    name = "plain"
    profile = PROFILES["spacewar"]
    custom_settings = {
        "ITEM_PIPELINES": {},
        "WARC_ENABLED": False,  # turns off the WARC recorder and the capture-metadata middleware
        "DOWNLOAD_HANDLERS": {},  # Scrapy's own HTTP/1.1 handler, no byte-exact capture
        "FEEDS": {},
    }

    def __init__(self, *args, sites: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # None: SpaceWar.com alone (the profile above); else the network job's sites
        self.site_set = SiteSet(choose("" if sites == "all" else sites)) if sites else None

    @property
    def allowed_domains(self) -> list[str]:
        return self.site_set.domains if self.site_set else [self.profile.domain]

    async def start(self):
        self.compiled = self.profile.compiled()
        # PLAIN_SKIP_REQUESTED_LINKS: skip the links already requested, as the archival spider does
        # (crawler.site.urls.RequestedLinks), to compare like with like; off, a stock Scrapy spider
        self.requested = RequestedLinks() if self.settings.getbool("PLAIN_SKIP_REQUESTED_LINKS") else None
        for profile in self.site_set.profiles if self.site_set else [self.profile]:
            yield scrapy.Request(profile.home_url)
            yield scrapy.Request(profile.feed_url)

    def parse(self, response):
        if not isinstance(response, TextResponse):
            return
        compiled = self.site_set.site_of(response.url) if self.site_set else self.compiled
        if compiled is None:
            return
        if isinstance(response, XmlResponse) or page_kind(canonicalize(response.url, compiled.profile),
                                                          compiled) == FEED:
            response.selector.remove_namespaces()
            found = hrefs(response.selector, FEED_LINKS)
        else:
            found = hrefs(response.selector, PAGE_LINKS)
        depth = response.meta.get("depth", 0) + 1
        links, _ = site_links(get_base_url(response), found, compiled)
        for url in links:
            if self.requested is None or self.requested.first_time(url, depth):
                yield scrapy.Request(url)
