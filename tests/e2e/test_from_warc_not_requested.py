"""`-a from_warc` loses no item silently: the archived pages a replay never requested are counted and named.

A replay follows the site's links under the current settings, so with a DEPTH_LIMIT below the live
crawl's it reaches fewer pages; at the close it counts the archived 2xx HTML pages it never asked
for (stat warcreplay/not_requested) and logs a warning that points to `scrapy reprocess`.
"""

from __future__ import annotations

import re

import pytest
from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator

from tests.crawling import crawl

CRAWLED = re.compile(r"Crawled \((\d{3})\) <GET (\S+)>")
WARNING = re.compile(r"WARNING: from_warc: (\d+) archived pages were never requested \(DEPTH_LIMIT=(\d+) and the "
                     r"link structure decide what a replay reaches\): `scrapy reprocess (\S+) -O items.jsonl` "
                     r"rebuilds every archived article")


def archived_pages(warc_dir) -> set[str]:
    """Canonical URLs of the 2xx HTML response records, read with warcio (not the replay's index)."""
    best: dict[str, tuple[str, int, str]] = {}
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response" or not record.http_headers:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                status = int(record.http_headers.get_statuscode())
                mime = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
                date = record.rec_headers.get_header("WARC-Date")
                key = canonicalize_url(url)
                # the best capture of a URL: not a server error, then the latest (crawler/warc/archive.py)
                if key not in best or (status < 500, date) >= (best[key][1] < 500, best[key][0]):
                    best[key] = (date, status, mime)
    return {key for key, (_d, status, mime) in best.items() if 200 <= status < 300 and mime == "text/html"}


def replay(tmp_path, warc_dir, depth: int):
    return crawl(tmp_path, {}, args=["-a", f"from_warc={warc_dir}"],
                 settings={"DEPTH_LIMIT": str(depth), "LOG_LEVEL": "DEBUG"})


def crawled_urls(log: str) -> set[str]:
    return {canonicalize_url(url) for _status, url in CRAWLED.findall(log)}


@pytest.fixture(scope="module")
def archived(full_crawl):
    assert full_crawl.returncode == 0
    pages = archived_pages(full_crawl.warc_dir)
    assert len(pages) > 10
    return pages


def test_a_shallow_replay_counts_and_names_the_pages_it_never_requested(full_crawl, archived, tmp_path):
    result = replay(tmp_path, full_crawl.warc_dir, depth=1)
    assert result.returncode == 0
    expected = len(archived - crawled_urls(result.log))
    assert expected > 0, "DEPTH_LIMIT=1 reached every archived page: the test checks nothing"
    assert result.stats["warcreplay/not_requested"] == expected
    warnings = WARNING.findall(result.log)
    assert warnings == [(str(expected), "1", str(full_crawl.warc_dir))]
    # the items the replay lost are among the pages it did not request
    assert len(result.items) < len(full_crawl.items)


def test_a_replay_without_depth_limit_requests_every_archived_page_and_warns_nothing(full_crawl, archived,
                                                                                     tmp_path):
    result = replay(tmp_path, full_crawl.warc_dir, depth=0)
    assert result.returncode == 0
    assert archived <= crawled_urls(result.log)
    assert result.stats["warcreplay/not_requested"] == 0
    assert "never requested" not in result.log
    assert sorted(i["url"] for i in result.items) == sorted(i["url"] for i in full_crawl.items)
