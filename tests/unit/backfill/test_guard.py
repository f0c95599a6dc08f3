"""The backfill's guard (crawler/backfill/guard.py) and its add-on's settings (crawler/backfill/addon.py)."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import Settings

from crawler import keys
from crawler.backfill.addon import WaybackBackfill
from crawler.backfill.guard import ArchiveOnlyMiddleware, allowed

BASE = "https://web.archive.org"
CAPTURE = f"{BASE}/web/20060507132210id_/http://www.spacewar.com/reports/Army_restarts_reactor_talks_999.html"
LISTING = f"{BASE}/cdx/search/cdx?url=spacewar.com%2Freports%2F%2A&output=json"


@pytest.mark.parametrize("url, ok", [
    (CAPTURE, True),
    (LISTING, True),
    (f"{BASE}/robots.txt", True),
    ("https://www.spacewar.com/reports/Army_restarts_reactor_talks_999.html", False),  # the live site
    (CAPTURE.replace("id_/", "/"), False),  # a replay URL, rewritten by the archive
    (CAPTURE.replace("id_/", "im_/"), False),
    (f"{BASE}/web/2006id_/http://www.spacewar.com/", False),  # not 14 digits
    ("http://web.archive.org/cdx/search/cdx?url=x", False),  # another scheme: another origin
    (f"{BASE}/cdx/search/cdx", False),
    ("https://web.archive.org.evil.example/cdx/search/cdx?url=x", False),
])
def test_only_the_archives_cdx_api_id_captures_and_robots_txt_are_allowed(url, ok):
    assert allowed(url, BASE) is ok


def test_a_request_the_backfill_did_not_make_is_refused_even_on_the_archive():
    guard = ArchiveOnlyMiddleware(BASE)
    ours = Request(CAPTURE, meta={keys.META_WAYBACK_CAPTURE: object()})
    assert guard.process_request(ours) is None
    assert guard.process_request(Request(f"{BASE}/robots.txt")) is None
    for stray in (Request(CAPTURE), Request("https://www.spacewar.com/"),
                  Request("https://www.spacewar.com/", meta={keys.META_WAYBACK_CAPTURE: object()})):
        with pytest.raises(IgnoreRequest):
            guard.process_request(stray)


def settings_after(values: dict, priority: str) -> Settings:
    settings = Settings()
    settings.setdict({"DOWNLOAD_DELAY": 0.5, "CONCURRENT_REQUESTS_PER_DOMAIN": 4, "AUTOTHROTTLE_ENABLED": True},
                     priority="project")
    settings.setdict(values, priority=priority)
    WaybackBackfill(None).update_settings(settings)
    return settings


def test_the_archive_gets_one_request_in_flight_and_a_second_between_two_unless_the_user_says_otherwise():
    polite = settings_after({}, "project")
    assert polite.getfloat("DOWNLOAD_DELAY") == 1.0 and polite.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert not polite.getbool("AUTOTHROTTLE_ENABLED")
    assert polite.get("WAYBACK_VERSIONS") == "latest" and polite.getint("WAYBACK_PAGE_SIZE") == 1000
    assert "crawler.backfill.guard.ArchiveOnlyMiddleware" in polite.getdict("DOWNLOADER_MIDDLEWARES")
    user = settings_after({"DOWNLOAD_DELAY": 3, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}, "cmdline")
    assert user.getfloat("DOWNLOAD_DELAY") == 3 and user.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 2
