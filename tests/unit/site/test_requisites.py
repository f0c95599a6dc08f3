"""Page requisites: the images and stylesheets of a page on the network's hosts are requested once, archived, never parsed."""

from scrapy.http import HtmlResponse, Request

from crawler import keys
from spiders.sites import SpacewarSpider
from tests.crawling import an_archive, project_crawler

PAGE = b"""<html><head><link rel="stylesheet" href="/css/spacewar.css"><link REL="Stylesheet" href="/css/b.css">
<link rel="alternate" href="/spacewar.xml"></head><body>
<img src="/images/logo.gif"><img src="https://www.spxdaily.com/images-hg/a-lg.jpg#x">
<img src="https://pagead2.googlesyndication.com/pixel.gif"><img src="data:image/gif;base64,R0lGOD">
<a href="/reports/b_999.html">b</a></body></html>"""


def spider(**settings):
    crawler = project_crawler(SpacewarSpider, **settings)
    return SpacewarSpider.from_crawler(crawler), crawler


def requisites(sp, url="https://www.spacewar.com/reports/a_999.html"):
    response = HtmlResponse(url, body=PAGE, request=Request(url, meta={keys.META_HOP_PATH: "L"}))
    return list(sp.requisites(response))


def test_images_and_stylesheets_on_the_networks_hosts_are_requested_once_and_never_parsed():
    sp, crawler = spider()
    found = requisites(sp)
    assert [r.url for r in found] == ["https://www.spacewar.com/images/logo.gif",
                                      "https://www.spxdaily.com/images-hg/a-lg.jpg",
                                      "https://www.spacewar.com/css/spacewar.css",
                                      "https://www.spacewar.com/css/b.css"]
    for request in found:
        assert request.meta[keys.META_REQUISITE] and request.meta[keys.META_HOP_PATH] == "LE"
        assert request.meta[keys.META_DONT_REVALIDATE] and request.meta["depth_reset"]
        assert list(request.callback(HtmlResponse(request.url, body=b"x"))) == []  # nothing parsed, no item
    assert crawler.stats.get_value(keys.STAT_REQUISITES_REQUESTED) == 4
    assert crawler.stats.get_value(keys.STAT_REQUISITES_OFF_NETWORK) == 1
    assert requisites(sp, "https://www.spacewar.com/reports/c_999.html") == []  # each once per crawl
    assert "spxdaily.com" in sp.allowed_domains  # robots.txt of the image host is fetched too


def test_requisites_are_a_setting_and_never_fetched_when_rebuilding_from_warc(tmp_path):
    an_archive(tmp_path)  # a replay needs an archive to start (never read here)
    for settings in ({"REQUISITES": False}, {"FROM_WARC": str(tmp_path)}):
        sp, _ = spider(**settings)
        assert requisites(sp) == []
        assert sp.allowed_domains == ["spacewar.com"]
