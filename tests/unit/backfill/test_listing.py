"""The backfill spider's listing (spiders/wayback.py) fed with CDX answers in IA's documented shape (tests/fixtures/wayback/)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy import Request
from scrapy.http import TextResponse

from crawler import keys
from crawler.wayback.cdx import CDXQuery
from spiders.sites import SpacewarSpider
from tests.crawling import FIXTURES, project_crawler

BASE = "https://web.archive.org"


@pytest.fixture
def spider():
    crawler = project_crawler(SpacewarSpider, WAYBACK=BASE, WAYBACK_PAGE_SIZE=2, WAYBACK_VERSIONS="latest")
    return SpacewarSpider.from_crawler(crawler)


def answer(request: Request, fixture: str) -> TextResponse:
    body = (FIXTURES / "wayback" / fixture).read_bytes()
    return TextResponse(request.url, body=body, status=200, request=request, encoding="utf-8")


def test_the_listing_asks_for_each_article_prefix_and_is_the_archive_only(spider):
    starts = list(spider.wayback_start())
    assert [parse_qs(urlsplit(r.url).query)["url"] for r in starts] == [["spacewar.com/reports/*"],
                                                                         ["spacewar.com/afp/*"]]
    assert all(r.url.startswith(f"{BASE}/cdx/search/cdx?") and "limit=2" in r.url for r in starts)
    assert spider.allowed_domains == ["web.archive.org"]
    assert all("download_maxsize" not in r.meta for r in starts)  # IA's pages: the crawl's DOWNLOAD_MAXSIZE


def test_the_article_a_page_ends_on_goes_on_with_the_next_page_and_the_latest_capture_is_fetched_first(spider):
    query = CDXQuery(BASE, "spacewar.com/reports/*", limit=2)
    first = spider.listing_request(query, "spacewar")
    out = list(spider.parse_listing_page(answer(first, "cdx-reports-page1.json")))
    # the page ends on Army_restarts...: its captures may go on, so nothing is fetched yet
    [following] = out
    assert parse_qs(urlsplit(following.url).query)["resumeKey"] == [
        "com,spacewar)/reports/army_restarts_reactor_talks_999.html 20080122081501!"]
    carried = following.meta[keys.META_WAYBACK_LISTING][2]
    assert [c.timestamp for c in carried] == ["20080122081501", "20060507132210"]
    out = list(spider.parse_listing_page(answer(following, "cdx-reports-page2.json")))
    fetched = {r.meta[keys.META_WAYBACK_CAPTURE].original: r for r in out}
    army = fetched["http://www.spacewar.com/reports/Army_restarts_reactor_talks_999.html"]
    assert army.url == (f"{BASE}/web/20080122081501id_/"
                        "http://www.spacewar.com/reports/Army_restarts_reactor_talks_999.html")
    assert [c.timestamp for c in army.meta[keys.META_WAYBACK_FALLBACKS]] == ["20060507132210"]
    assert army.meta["dont_redirect"] and army.meta["handle_httpstatus_all"]
    assert len(fetched) == 2  # and Pentagon_warns..., from page 2 (the last page: nothing held)


def test_a_whole_sites_listing_keeps_one_request_per_article_and_says_why_the_rest_were_left(spider):
    query = CDXQuery(BASE, "spacewar.com/*", limit=1000)
    request = spider.listing_request(query, "spacewar")
    out = list(spider.parse_listing_page(answer(request, "cdx-spacewar-2004-2010.json")))
    by_url = {r.meta[keys.META_WAYBACK_CAPTURE].original.split("?")[0].replace(":80", ""): r for r in out}
    assert len(out) == len(by_url) == 3
    # the Pentagon story under four URL variants: its newest 200 HTML capture (2006, with tracking parameters) first,
    # then 2004's; 2005's has the same bytes as 2006's, the 503, the revisit ("-") are left out
    pentagon = by_url["http://www.spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html"]
    assert pentagon.meta[keys.META_WAYBACK_CAPTURE].timestamp == "20060301120000"
    assert [c.timestamp for c in pentagon.meta[keys.META_WAYBACK_FALLBACKS]] == ["20040615103000"]
    assert set(by_url) == {"http://www.spacewar.com/afp/050311083015.k3m9x2pq.html",
                           "http://www.spacewar.com/reports/Story_withdrawn_by_publisher_999.html",
                           "http://www.spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html"}
    stats = spider.crawler.stats.get_stats()
    assert stats[keys.STAT_WAYBACK_LISTED] == 15 and stats[keys.STAT_WAYBACK_CDX_PAGES] == 1
    assert stats["wayback/dropped/not_article"] == 5  # home x2, listing, image, feed
    assert stats["wayback/dropped/not_200"] == 4  # 301, 503, 404 and the revisit's "-"
    assert stats["wayback/dropped/not_html"] == 1 and stats["wayback/dropped/same_digest"] == 1


def test_an_answer_that_is_not_iAs_json_stops_the_backfill_as_a_configuration_error(spider):
    from scrapy.exceptions import CloseSpider

    request = spider.listing_request(CDXQuery(BASE, "spacewar.com/*"), "spacewar")
    html = TextResponse(request.url, body=b"<html>Not found</html>", status=200, request=request, encoding="utf-8")
    with pytest.raises(CloseSpider) as raised:
        list(spider.parse_listing_page(html))
    assert raised.value.reason == "wayback_bad_answer"
    assert "CDX answer is not JSON" in spider.crawler.stats.get_value(keys.STAT_WAYBACK_BAD_ANSWER)


COLL = "http://127.0.0.1:8080/my-coll"


@pytest.fixture
def pywb_spider():
    crawler = project_crawler(SpacewarSpider, WAYBACK=COLL, WAYBACK_PAGE_SIZE=2, WAYBACK_VERSIONS="latest")
    return SpacewarSpider.from_crawler(crawler)


def test_a_pywb_collection_is_listed_through_its_own_cdx_api_one_answer_per_prefix(pywb_spider):
    starts = list(pywb_spider.wayback_start())
    assert [r.url for r in starts] == [
        f"{COLL}/cdx?url=spacewar.com%2Freports%2F%2A&output=json&filter=%3Dstatus%3A200&limit=100000",
        f"{COLL}/cdx?url=spacewar.com%2Fafp%2F%2A&output=json&filter=%3Dstatus%3A200&limit=100000"]
    assert pywb_spider.allowed_domains == ["127.0.0.1"]
    # the one answer may be larger than a page (DOWNLOAD_MAXSIZE, 32 MiB): 1 KiB a capture at the cap of 100,000
    assert [r.meta["download_maxsize"] for r in starts] == [102_400_000] * 2


def test_a_pywb_answer_gives_one_request_per_article_its_latest_id_capture_first(pywb_spider):
    request = pywb_spider.listing_request(CDXQuery(COLL, "spacewar.com/reports/*", layout="pywb"), "spacewar")
    out = list(pywb_spider.parse_listing_page(answer(request, "pywb-cdx-reports.ndjson")))
    by_url = {r.meta[keys.META_WAYBACK_CAPTURE].original: r for r in out}
    assert sorted(r.url for r in out) == [
        f"{COLL}/20040615103000id_/http://www.spacewar.com:80/reports/Pentagon_warns_of_drone_swarms_999.html",
        f"{COLL}/20080122081533id_/http://spacewar.com/reports/Army_restarts_reactor_talks_999.html?utm_source=rss"]
    army = by_url["http://spacewar.com/reports/Army_restarts_reactor_talks_999.html?utm_source=rss"]
    # 2008's https capture has the same bytes as the newest (tracking parameters) one: collapsed here, as pywb
    # does not; the 2006 one is the fallback
    assert [c.capture_url for c in army.meta[keys.META_WAYBACK_FALLBACKS]] == [
        f"{COLL}/20060507132210id_/http://www.spacewar.com/reports/Army_restarts_reactor_talks_999.html"]
    stats = pywb_spider.crawler.stats.get_stats()
    assert stats[keys.STAT_WAYBACK_LISTED] == 8 and stats[keys.STAT_WAYBACK_CDX_PAGES] == 1
    assert stats["wayback/dropped/same_digest"] == 1 and stats["wayback/dropped/not_200"] == 3
    assert keys.STAT_WAYBACK_BAD_ANSWER not in stats and keys.STAT_WAYBACK_LEFT_OUT not in stats


def test_a_pywb_listing_that_fills_its_cap_is_said_since_pywb_cannot_page(pywb_spider, caplog):
    request = pywb_spider.listing_request(CDXQuery(COLL, "spacewar.com/reports/*", limit=8, layout="pywb"), "spacewar")
    out = list(pywb_spider.parse_listing_page(answer(request, "pywb-cdx-reports.ndjson")))
    assert len(out) == 2  # what it holds is still fetched
    assert pywb_spider.crawler.stats.get_value(keys.STAT_WAYBACK_LEFT_OUT) == 1
    assert "reached its cap of 8 captures: captures past it are left out" in caplog.text


def test_an_ia_answer_from_a_pywb_base_stops_the_backfill_naming_the_layout_setting(pywb_spider):
    from scrapy.exceptions import CloseSpider

    request = pywb_spider.listing_request(CDXQuery(COLL, "spacewar.com/*", layout="pywb"), "spacewar")
    with pytest.raises(CloseSpider):
        list(pywb_spider.parse_listing_page(answer(request, "cdx-reports-page2.json")))
    assert "set WAYBACK_LAYOUT=ia" in pywb_spider.crawler.stats.get_value(keys.STAT_WAYBACK_BAD_ANSWER)
