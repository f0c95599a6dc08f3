"""Hostile input on the fault site: a huge feed, deep markup, a cookie flood, odd redirects and links, a bad status line, a robots.txt that fails."""

from __future__ import annotations

import time

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.crawling import read_items, run_crawl, warcio_check
from tests.sites.faultsite import HUGE_FEED_ITEMS, SITE, FaultSite


def records(warc_dir):
    out = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                out.append((record.rec_type, record.rec_headers, record.content_stream().read()))
    return out


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory):
    faults = ["/huge-feed.xml", "/cookies.html", "/redirect-port.html", "/redirect-dot.html",
              "/reports/Bad_status_999.html", "/odd-links.html"]
    with FaultSite(n_articles=4, faults=faults) as site:
        out = tmp_path_factory.mktemp("hostile")
        started = time.monotonic()
        result = run_crawl(out, site, timeout=240, settings={"LINKS_PER_PAGE_MAX": "25"})
        result["seconds"] = time.monotonic() - started
        result["site"] = site
        result["warc_dir"] = out / "warc"
        result["records"] = records(out / "warc")
        yield result


def test_a_feed_of_100000_items_is_crawled_in_bounded_time_and_its_links_are_bounded_with_a_stat(hostile_crawl):
    stats = hostile_crawl["stats_data"]
    assert hostile_crawl["returncode"] == 0, hostile_crawl["output"][-3000:]
    assert hostile_crawl["seconds"] < 120
    assert stats.get("links/bounded") == 1
    assert stats.get("links/left_at_bound", 0) > HUGE_FEED_ITEMS  # links and guids not even looked at
    requested = [p for p in hostile_crawl["site"].hits if p.startswith("/reports/Feed_story_")]
    assert len(requested) == 25
    assert "has more than LINKS_PER_PAGE_MAX=25 links" in hostile_crawl["log_text"]


def test_no_request_carries_a_cookie_header_over_the_cap_and_the_flood_is_counted(hostile_crawl):
    site, stats = hostile_crawl["site"], hostile_crawl["stats_data"]
    assert site.hits["/reports/After_cookies_999.html"] == 1  # requests after the flood went out
    assert max(site.cookie_headers) <= 8192
    assert stats.get("cookies/refused/too_many", 0) >= 300 - 50
    requests = [block for kind, _, block in hostile_crawl["records"] if kind == "request"]
    assert max(len(block) for block in requests) < 10_000  # the archive does not carry the flood either


def test_redirects_to_the_default_port_or_a_trailing_dot_host_stay_on_the_site(hostile_crawl):
    urls = {item["url"] for item in read_items(hostile_crawl["items"])}
    assert f"{SITE}/reports/Port_target_999.html" in urls
    assert f"{SITE}/reports/Dot_target_999.html" in urls
    archived = {h.get_header("WARC-Target-URI") for kind, h, _ in hostile_crawl["records"] if kind == "response"}
    assert f"{SITE}:443/reports/Port_target_999.html" in archived  # archived as requested
    assert not hostile_crawl["stats_data"].get("safety/refused/offsite_redirect")


def test_a_response_the_parser_rejects_is_archived_as_what_it_is_not_as_truncated(hostile_crawl):
    bad = [(kind, h, block) for kind, h, block in hostile_crawl["records"]
           if h.get_header("WARC-Target-URI") == f"{SITE}/reports/Bad_status_999.html" and kind != "request"]
    assert bad and all(kind == "resource" for kind, _, _ in bad)
    for _, headers, block in bad:
        assert headers.get_header("WARC-Truncated") is None
        assert "non-integer status code" in headers.get_header("X-Unparseable-Response")
        assert block.startswith(b"HTTP/1.1 2x0 OK")
    assert hostile_crawl["stats_data"].get("warc/unparseable") == len(bad)
    assert all(warcio_check(p) for p in hostile_crawl["warc_dir"].glob("*.warc.gz"))
    assert "Traceback" not in hostile_crawl["log_text"]


def test_outlinks_in_capture_metadata_records_are_percent_encoded(hostile_crawl):
    [fields] = [block.decode("utf-8") for kind, h, block in hostile_crawl["records"]
                if kind == "metadata" and h.get_header("WARC-Target-URI") == f"{SITE}/odd-links.html"]
    outlinks = [line.split(": ", 1)[1] for line in fields.split("\r\n") if line.startswith("outlink: ")]
    assert f"{SITE}/reports/Odd%20link%20with%20spaces_999.html" in outlinks
    assert f"{SITE}/reports/Odd%E2%80%A8line_999.html" in outlinks
    assert all(" " not in link and "\u2028" not in link for link in outlinks)


def test_articles_behind_deep_markup_are_exported(tmp_path):
    with FaultSite(n_articles=1, faults=["/reports/Deep_font_999.html", "/reports/Deep_div_999.html"]) as site:
        result = run_crawl(tmp_path, site, timeout=240)
    urls = {item["url"] for item in read_items(result["items"])}
    assert {f"{SITE}/reports/Deep_font_999.html", f"{SITE}/reports/Deep_div_999.html"} <= urls
    assert not any(k.startswith("articles/dropped/no-body") for k in result["stats_data"])


@pytest.mark.parametrize("status", [500, 503])
def test_a_robots_txt_answering_5xx_disallows_the_site_as_rfc_9309_asks(tmp_path, status):
    with FaultSite(n_articles=2, robots_status=status) as site:
        result = run_crawl(tmp_path, site)
    assert result["returncode"] == 69
    assert result["stats_data"].get("robotstxt/disallow_all/5xx") == 1
    assert not any(p.startswith("/reports/") for p in site.hits)  # nothing but robots.txt was fetched
    assert f"robots.txt answered {status}, so the host is treated as disallowed (RFC 9309" in result["log_text"]
    assert "robots.txt disallows the start pages" in result["log_text"].strip().splitlines()[-1]
