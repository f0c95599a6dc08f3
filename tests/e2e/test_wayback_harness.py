"""The backfill's groundwork against a real Wayback: pywb over a replica crawl's WARC files, in IA's layout.

The shared crawl of the replica (tests/conftest.py full_crawl: a 301, 404s, a 503 then a 200, a
truncated article) becomes a pywb collection behind tests/sites/wayback.py, which answers as
web.archive.org does: `/cdx/search/cdx` with IA's JSON and resume keys, `/web/<ts>id_/<url>` with the
capture's bytes. crawler/wayback/cdx.py lists the site's captures page by page, crawler/wayback/select.py
picks the article captures, and each article's latest capture comes back byte for byte as the crawl
archived it; nothing reaches the replica (the "live site") while the archive is read.
"""

from __future__ import annotations

import gzip
from urllib.parse import parse_qs, urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.site.profiles import PROFILES
from crawler.wayback.cdx import CDXQuery, iter_pages, parse_answer
from crawler.wayback.select import select_articles
from tests.crawling import REPO
from tests.replay import tools
from tests.sites.wayback import get, wayback_archive

SW = PROFILES["spacewar"].compiled()
DOC = REPO / "docs" / "wayback.md"
LIMIT = 20


@pytest.fixture(scope="module")
def pywb_installed():
    tools.need("pywb")  # before the crawl: a missing pywb skips without crawling first


@pytest.fixture(scope="module")
def archive(pywb_installed, full_crawl, tmp_path_factory):
    assert full_crawl.returncode == 0
    with wayback_archive(full_crawl.warc_files(), tmp_path_factory.mktemp("wayback")) as proxy:
        yield proxy
    assert not proxy.errors, proxy.errors[0]


@pytest.fixture(scope="module")
def listing(archive, replica):
    """The site's captures, page by page, as the backfill lists them; and the replica's log length before."""
    before = len(replica.log)
    query = CDXQuery(archive.base, "spacewar.com/*", limit=LIMIT)
    pages = list(iter_pages(query, lambda url: get(url, "gzip").body_decoded()))
    return query, pages, before


@pytest.fixture(scope="module")
def archived(full_crawl) -> dict:
    """(target URI, 14-digit WARC-Date, payload digest) -> (HTTP headers, raw payload) of every response record."""
    out = {}
    for path in full_crawl.warc_files():
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                headers = record.rec_headers
                when = "".join(ch for ch in headers.get_header("WARC-Date") if ch.isdigit())[:14]
                digest = (headers.get_header("WARC-Payload-Digest") or ":").split(":", 1)[1]  # none: no body
                out[(headers.get_header("WARC-Target-URI"), when, digest)] = (record.http_headers,
                                                                             record.raw_stream.read())
    return out


def test_the_listing_pages_through_resume_keys_and_loses_nothing(archive, listing):
    query, pages, _ = listing
    assert len(pages) >= 3
    assert all(len(page.captures) == LIMIT and page.resume_key for page in pages[:-1])
    assert 0 < len(pages[-1].captures) <= LIMIT and pages[-1].resume_key is None
    whole = parse_answer(get(CDXQuery(archive.base, "spacewar.com/*", limit=10_000).page_url()).body, archive.base)
    assert [c for page in pages for c in page.captures] == list(whole.captures)
    assert f"the site's {len(whole.captures)} captures listed in pages of {LIMIT}" in " ".join(DOC.read_text().split())
    # each later page was asked for with the key the page before it ended with
    asked = [parse_qs(urlsplit(t).query).get("resumeKey", [None])[0] for t in archive.requests
             if t.startswith("/cdx/") and "limit=20&" in t + "&"]
    assert asked[:len(pages)] == [None] + [parse_qs("k=" + p.resume_key)["k"][0] for p in pages[:-1]]


def test_the_selection_is_every_article_the_crawl_archived_with_a_200(listing, replica, full_crawl):
    _, pages, _ = listing
    selection = select_articles([c for page in pages for c in page.captures], SW)
    expected = {item["url"] for item in replica.expected_items()}
    truncated = {a.url for a in replica.site.articles if a.fault == "truncated"}
    assert set(selection.articles) >= expected
    assert set(selection.articles) - expected == truncated  # a 200 in the index; only its bytes show it cut off
    assert {item["url"] for item in full_crawl.items} <= set(selection.articles)
    gone = {f"https://www.spacewar.com{path}" for path in [*replica.site.redirects, replica.site.withdrawn]}
    assert not gone & set(selection.articles)
    assert all(c.statuscode == "200" and c.mimetype == "text/html" for cs in selection.articles.values() for c in cs)


def test_each_articles_latest_capture_is_the_archived_payload_byte_for_byte(archive, listing, archived, replica):
    _, pages, replica_log_before = listing
    selection = select_articles([c for page in pages for c in page.captures], SW)
    truncated = {a.url for a in replica.site.articles if a.fault == "truncated"}
    decoded_checked = 0
    for url, capture in selection.latest().items():
        http_headers, payload = archived[(capture.original, capture.timestamp, capture.digest)]
        assert http_headers.get_statuscode() == "200"
        answer = get(capture.capture_url, "gzip")
        assert answer.status == 200, url
        assert answer.body == payload, url
        assert answer.cut == (url in truncated), url  # the cut-off capture comes back cut off
        if http_headers.get_header("Content-Encoding") == "gzip" and not decoded_checked:
            # asked for without gzip, pywb decodes; the bytes are still the archived page's
            assert get(capture.capture_url).body == gzip.decompress(payload)
            decoded_checked += 1
    assert len(selection.latest()) >= 40 and decoded_checked == 1
    assert len(replica.log) == replica_log_before, "a request reached the live site while reading the archive"


def test_archived_redirects_are_passed_on_unfollowed_and_replay_urls_are_refused(archive, listing, replica):
    _, pages, replica_log_before = listing
    unfiltered = parse_answer(get(f"{archive.base}/cdx/search/cdx?url=spacewar.com/reports/*&output=json"
                                  "&filter=statuscode:301").body, archive.base)
    [moved] = unfiltered.captures
    answer = get(moved.capture_url)
    # pywb's id_ leaves the archived Location as it was: the live site's URL, which must not be followed
    assert answer.status == 301 and answer.headers["location"].startswith("https://www.spacewar.com/reports/")
    replay = f"{archive.base}/web/{moved.timestamp}/{moved.original}"
    assert get(replay).status == 400
    assert len(replica.log) == replica_log_before
    first = pages[0].captures[0]
    assert get(first.capture_url.replace("id_/", "im_/")).status == 400


def test_time_bounds_unknown_parameters_and_the_archives_refusals(archive):
    before_any = CDXQuery(archive.base, "spacewar.com/*", to_ts=2004).page_url()
    assert parse_answer(get(before_any).body, archive.base).captures == ()
    assert get(before_any).body == b"[]\n"
    unsupported = get(f"{archive.base}/cdx/search/cdx?url=spacewar.com/*&output=json&fl=urlkey")
    assert unsupported.status == 400 and b"fl" in unsupported.body
    archive.answer_next(429, 1, {"Retry-After": "7"})
    archive.answer_next(503)
    url = CDXQuery(archive.base, "spacewar.com/*", limit=1).page_url()
    refused = get(url)
    assert (refused.status, refused.headers.get("retry-after")) == (429, "7")
    assert get(url).status == 503
    assert len(parse_answer(get(url).body, archive.base).captures) == 1
