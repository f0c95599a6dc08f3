"""The backfill (`scrapy crawl spacewar -a wayback=BASE`) against a real Wayback: pywb in the Internet Archive's layout.

The held-out archive is the shared crawl of the replica (tests/conftest.py full_crawl) served by pywb
behind tests/sites/wayback.py, reached as http://web.archive.org (HOST_MAP sends that host to the
proxy; the replica, "the live site", stays reachable under its own names, so a request that
leaked to it would show in its log). The backfill must give every article the archive holds a
complete capture of as the live crawl's item (all fields but the capture's own: fetched_at, warc,
captured_at, source), with the capture time, from a WARC response record under the article's
URL and capture time, and never ask the live site for anything.
"""

from __future__ import annotations

import json

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.crawling import crawl, warcio_check
from tests.replay import tools
from tests.sites.wayback import wayback_archive

BASE = "http://web.archive.org"
#: the fields a capture has of its own: when and where it was fetched and archived
CAPTURE_FIELDS = ("fetched_at", "warc", "captured_at", "source")


@pytest.fixture(scope="module")
def pywb_installed():
    tools.need("pywb")


@pytest.fixture(scope="module")
def archive(pywb_installed, full_crawl, tmp_path_factory):
    assert full_crawl.returncode == 0
    with wayback_archive(full_crawl.warc_files(), tmp_path_factory.mktemp("wayback")) as proxy:
        yield proxy
    assert not proxy.errors, proxy.errors[0]


def backfill(archive, replica, outdir, settings=None, args=()):
    """A backfill run against the archive; the result with the requests the replica and the archive saw."""
    seen_live, seen_archive = len(replica.log), len(archive.requests)
    host_map = {**replica.host_map(), "web.archive.org:80": archive.base.split("://", 1)[1]}
    result = crawl(outdir, host_map, args=["-a", f"wayback={BASE}", *args],
                   settings={"WAYBACK_PAGE_SIZE": "20", **(settings or {})})
    result.live_requests = replica.log[seen_live:]
    result.archive_requests = archive.requests[seen_archive:]
    return result


@pytest.fixture(scope="module")
def run(archive, replica, tmp_path_factory):
    return backfill(archive, replica, tmp_path_factory.mktemp("backfill"))


def records(paths) -> list:
    out = []
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                out.append((record.rec_type, dict(record.rec_headers.headers), record.content_stream().read()))
    return out


def test_every_archived_article_is_the_live_crawls_item_with_its_capture_time(run, full_crawl, replica):
    assert run.returncode == 0, run.log[-3000:]
    live = {item["url"]: item for item in full_crawl.items}
    items = {item["url"]: item for item in run.items}
    assert len(run.items) == len(items)  # latest only: one item per article
    assert set(items) == set(live) and len(items) >= 40
    for url, item in items.items():
        assert {k: v for k, v in item.items() if k not in CAPTURE_FIELDS} == \
               {k: v for k, v in live[url].items() if k not in CAPTURE_FIELDS}, url
        # the archive holds the live crawl's capture: its time is the live item's fetch time, to the second
        assert item["captured_at"] == live[url]["fetched_at"][:19] + "Z", url
        assert item["source"] == "web.archive.org"
        assert item["fetched_at"] > item["captured_at"]  # fetched from the archive now
    # the truncated article is listed (a 200 in the index) but its only capture is cut off: no item
    truncated = {a.url for a in replica.site.articles if a.fault == "truncated"}
    assert truncated and not truncated & set(items)
    assert run.stats["wayback/no_complete_capture"] == len(truncated)
    assert run.stats["wayback/fallback/cut_off"] == len(truncated)


def test_no_request_reaches_the_live_site(run):
    assert run.live_requests == []
    assert run.archive_requests and all(t.startswith(("/cdx/search/cdx?", "/web/", "/robots.txt"))
                                        for t in run.archive_requests)
    assert all("id_/" in t for t in run.archive_requests if t.startswith("/web/"))
    assert run.stats["wayback/cdx_pages"] >= 3  # pages of 20, by resume key


def test_a_response_record_under_the_original_url_and_capture_time_for_every_item(run):
    assert warcio_check(run.warc_files())
    by_id = {headers["WARC-Record-ID"]: (kind, headers, body) for kind, headers, body in records(run.warc_files())}
    for item in run.items:
        kind, headers, body = by_id[item["warc"]["record_id"]]
        assert kind == "response"
        assert headers["WARC-Target-URI"] == item["url"]
        assert headers["WARC-Date"] == item["captured_at"]
        assert headers["WARC-Source-URI"].startswith(f"{BASE}/web/") and "id_/" in headers["WARC-Source-URI"]
        assert headers["WARC-Creation-Date"][:19] == item["fetched_at"][:19]
    exchanges = [h for kind, h, _ in by_id.values() if kind == "metadata" and h.get("X-Record-Kind") ==
                 "archive-exchange"]
    assert {h["WARC-Refers-To"] for h in exchanges} >= {item["warc"]["record_id"] for item in run.items}
    listings = [body for kind, h, body in by_id.values() if kind == "resource"
                and h["Content-Type"] == "application/json"]
    assert len(listings) == run.stats["wayback/cdx_pages"]
    assert all(json.loads(body)[0][0] == "urlkey" for body in listings)
