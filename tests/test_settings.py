"""An archival job opens no port, asks only for replayable codings, and never fetches the suffix list."""

import socket

from scrapy.http import HtmlResponse, Request
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

import scrapy.downloadermiddlewares.cookies as scrapy_cookies
from crawler.network.cookies import OfflineCookiesMiddleware
from spiders.sites import SpacewarSpider


def test_no_listener_and_only_gzip_deflate():
    s = get_project_settings()
    assert not s.getbool("TELNETCONSOLE_ENABLED")
    assert not s.getbool("REMOTE_CONTROL_ENABLED")
    assert s.getdict("DEFAULT_REQUEST_HEADERS")["Accept-Encoding"] == "gzip, deflate"
    assert s.getbool("ROBOTSTXT_OBEY")
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 4
    assert s.getbool("AUTOTHROTTLE_ENABLED")


def test_user_agent_names_the_project_and_the_contact_url():
    s = get_project_settings()
    s.set("CONTACT_URL", "https://archive.example.org/crawler", priority="cmdline")
    SpacewarSpider.update_settings(s)
    assert s["USER_AGENT"].startswith("spacewar-archiver/")
    assert "https://archive.example.org/crawler" in s["USER_AGENT"]


def test_cookies_work_without_touching_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    crawler = get_crawler(SpacewarSpider, settings_dict={"COOKIES_ENABLED": True})
    mw = OfflineCookiesMiddleware.from_crawler(crawler)
    # the stock middleware still reads the module-level extractor we replace (guard for upgrades)
    assert scrapy_cookies._split_domain is not None
    req = Request("https://www.spacewar.com/")
    resp = HtmlResponse(req.url, request=req, headers={"Set-Cookie": "sid=1; Domain=spacewar.com; Path=/"})
    mw.process_response(req, resp)
    nxt = Request("https://www.spacewar.com/reports/x_999.html")
    mw.process_request(nxt)
    assert nxt.headers.get("Cookie") == b"sid=1"
    # a cookie set for a public suffix is refused, using the bundled list
    bad = HtmlResponse(req.url, request=req, headers={"Set-Cookie": "evil=1; Domain=com; Path=/"})
    mw.process_response(req, bad)
    other = Request("https://www.spacedaily.com/")
    mw.process_request(other)
    assert b"evil" not in (other.headers.get("Cookie") or b"")
