"""`scrapy crawl network`: every site profile, or those of `-a sites=`, in one job; each page judged by its own site."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.http import HtmlResponse, Request

from crawler import keys
from crawler.config import ConfigError
from crawler.site.profiles import PROFILES, choose
from spiders.sites import SpacewarSpider, WholeNetworkSpider
from tests.crawling import FIXTURES, project_crawler


def spider(cls=WholeNetworkSpider, **kwargs):
    crawler = project_crawler(cls)
    return cls.from_crawler(crawler, **kwargs)


def start_urls(sp) -> list[str]:
    async def collect():
        return [r.url async for r in sp.start()]

    return asyncio.run(collect())


def test_the_network_job_starts_every_site_or_those_named():
    everything = spider()
    # the sites' domains, and the image host of their pages (REQUISITE_DOMAINS)
    assert everything.allowed_domains == [p.domain for p in PROFILES.values()] + ["spxdaily.com"]
    assert len(start_urls(everything)) == 2 * len(PROFILES)
    two = spider(sites="spacewar, SpaceDaily")
    assert start_urls(two) == ["https://www.spacewar.com/", "https://www.spacewar.com/spacewar.xml",
                               "https://www.spacedaily.com/", "https://www.spacedaily.com/spacedaily.xml"]
    assert two.allowed_domains == ["spacewar.com", "spacedaily.com", "spxdaily.com"]


def test_an_unknown_site_stops_the_job_with_one_line_naming_the_sites():
    with pytest.raises(ConfigError, match=r"-a sites=spacewar,moondaly: no site profile named moondaly; the sites "
                                          r"are: spacewar, spacedaily"):
        spider(sites="spacewar,moondaly")
    with pytest.raises(ConfigError, match="is for `scrapy crawl network`"):
        spider(SpacewarSpider, sites="spacedaily")
    assert [p.name for p in choose("")] == list(PROFILES)


def page(url: str, body: bytes) -> HtmlResponse:
    return HtmlResponse(url, body=body, request=Request(url, meta={"depth": 0}), encoding="utf-8")


def test_each_page_and_link_is_judged_by_its_own_sites_rules_and_items_carry_the_site_of_their_url():
    body = (FIXTURES / "samples" / "article-afp.html").read_bytes()
    # the same page served by SpaceDaily: the item belongs to spacedaily, whatever page linked to it
    sp = spider(sites="spacewar,spacedaily")
    out = list(sp.parse_page(page("https://spacedaily.com/reports/Tokyo_999.html?utm_source=x", body)))
    (item,) = [o for o in out if not isinstance(o, Request)]
    assert (item["site"], item["url"]) == ("spacedaily", "https://www.spacedaily.com/reports/Tokyo_999.html")
    requests = [o for o in out if isinstance(o, Request) and not o.meta.get(keys.META_REQUISITE)]
    hosts = {r.url.split("/")[2] for r in requests}
    assert hosts == {"www.spacewar.com", "www.spacedaily.com"}  # the page links to both, both are crawled
    assert all(r.meta[keys.META_SITE] == ("spacewar" if "spacewar" in r.url else "spacedaily") for r in requests)
    # its images are the page's: archived with the page's site, wherever they are
    requisites = [o for o in out if isinstance(o, Request) and o.meta.get(keys.META_REQUISITE)]
    assert requisites and all(r.meta[keys.META_SITE] == "spacedaily" for r in requisites)
    # a one-site crawl follows only its own site's links, as before
    alone = spider(SpacewarSpider)
    hosts = {r.url.split("/")[2] for r in alone.parse_page(page("https://www.spacewar.com/reports/Tokyo_999.html", body))
             if isinstance(r, Request) and not r.meta.get(keys.META_REQUISITE)}
    assert hosts == {"www.spacewar.com"}


def test_a_page_on_none_of_the_crawls_sites_is_not_parsed():
    sp = spider(sites="spacedaily")
    assert list(sp.parse_page(page("https://www.spacewar.com/", b"<html><a href='/x.html'>x</a></html>"))) == []
    assert sp.crawler.stats.get_value(keys.STAT_PAGES_SKIPPED.format(reason="off_site")) == 1
