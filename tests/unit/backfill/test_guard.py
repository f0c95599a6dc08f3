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


COLL = "http://127.0.0.1:8080/my-coll"
PYWB_CAPTURE = f"{COLL}/20060507132210id_/http://www.spacewar.com/reports/Army_restarts_reactor_talks_999.html"


@pytest.mark.parametrize("url, ok", [
    (PYWB_CAPTURE, True),
    (f"{COLL}/cdx?url=spacewar.com%2Freports%2F%2A&output=json", True),
    ("http://127.0.0.1:8080/robots.txt", True),
    ("http://127.0.0.1:8080/robots.txt/", True),  # where pywb redirects its robots.txt (307; then a 404)
    ("http://127.0.0.1:8080/my-coll/robots.txt", False),
    ("https://www.spacewar.com/reports/Army_restarts_reactor_talks_999.html", False),  # the live site
    (PYWB_CAPTURE.replace("id_/", "/"), False),  # a replay URL, rewritten by pywb
    (PYWB_CAPTURE.replace("id_/", "mp_/"), False),
    (PYWB_CAPTURE.replace("/my-coll/", "/my-coll/web/"), False),  # IA's layout under the collection
    (PYWB_CAPTURE.replace("/my-coll/", "/other-coll/"), False),  # another collection of the same pywb
    ("http://127.0.0.1:8080/other-coll/cdx?url=x", False),
    (f"{COLL}/cdx/search/cdx?url=x", False),
    (f"{COLL}/cdx", False),
    ("http://127.0.0.1:8081/my-coll/cdx?url=x", False),  # another port: another origin
])
def test_with_a_pywb_collection_only_its_cdx_api_and_id_captures_are_allowed(url, ok):
    assert allowed(url, COLL, "pywb") is ok


def test_the_guard_takes_the_layout_from_the_base_url_unless_set():
    assert ArchiveOnlyMiddleware(COLL).layout == "pywb" and ArchiveOnlyMiddleware(BASE).layout == "ia"
    assert ArchiveOnlyMiddleware(COLL, layout="ia").layout == "ia"
    ours = Request(PYWB_CAPTURE, meta={keys.META_WAYBACK_CAPTURE: object()})
    assert ArchiveOnlyMiddleware(COLL).process_request(ours) is None
    with pytest.raises(IgnoreRequest):
        ArchiveOnlyMiddleware(COLL, layout="ia").process_request(ours)


def test_pywbs_robots_redirect_is_let_through_without_the_backfills_meta_and_only_for_pywb():
    assert ArchiveOnlyMiddleware(COLL).process_request(Request("http://127.0.0.1:8080/robots.txt/")) is None
    assert not allowed(f"{BASE}/robots.txt/", BASE)
    with pytest.raises(IgnoreRequest):
        ArchiveOnlyMiddleware(BASE).process_request(Request(f"{BASE}/robots.txt/"))
