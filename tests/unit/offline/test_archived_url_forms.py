"""An article archived under another form of its URL (http, the bare host, tracking parameters, an upper-case scheme
or host) gives the live crawl's item in `scrapy reprocess`, `-a from_warc` and `scrapy explain` alike."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import scrapy

from crawler.offline.reprocess import reader
from crawler.offline.reprocess.run import Options, run
from crawler.offline.replay import WarcReplayDownloadHandler
from crawler.warc.files import gzip_member, serialize_record
from tests.crawling import project_crawler

FIXTURE = Path(__file__).parents[2] / "fixtures" / "pages" / "kharkiv-2024-05-30"
PAGE = FIXTURE.with_suffix(".html").read_bytes()
ITEM_URL = json.loads(FIXTURE.with_suffix(".expected.json").read_text())["url"]  # what the live crawl gives
PATH = ITEM_URL.split("spacewar.com", 1)[1]

FORMS = {
    "http": f"http://www.spacewar.com{PATH}",
    "bare host": f"https://spacewar.com{PATH}",
    "tracking parameters": f"https://www.spacewar.com{PATH}?utm_source=rss&utm_medium=feed&fbclid=IwAR0x",
    "upper-case scheme and host": f"HTTPS://WWW.SpaceWar.COM{PATH}",
    "upper-case in angle brackets": f"<HTTPS://WWW.SPACEWAR.COM{PATH}>",
}


def response_record(n: int, uri: str, date: str = "2026-01-01T00:00:00Z", body: bytes = PAGE,
                    extra: tuple = ()) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(PAGE)
    return gzip_member(serialize_record(
        [("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{n:08d}-0000-0000-0000-000000000000>"),
         ("WARC-Date", date), ("WARC-Target-URI", uri), ("Content-Type", "application/http; msgtype=response"),
         *extra], http + body))


def write(path: Path, *records: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(records))
    return path


def reprocessed(tmp_path: Path, warc: Path) -> list[dict]:
    out = tmp_path / "out.jsonl"
    summary, status = run(Options(paths=[str(warc)], output=str(out), processes=1, progress_interval=0))
    return [json.loads(line) for line in out.read_text().splitlines()] if status == 0 else []


def replayed(path: Path, url: str):
    crawler = project_crawler(FROM_WARC=str(path))
    handler = WarcReplayDownloadHandler.from_crawler(crawler)
    request = scrapy.Request(url)
    return asyncio.run(handler.download_request(request)), request


@pytest.fixture(params=["fastwarc", "warcio"])
def warc_reader(request, monkeypatch):
    monkeypatch.setattr(reader, "READER", request.param)
    return request.param


@pytest.mark.parametrize("form", ["upper-case scheme and host", "upper-case in angle brackets"])
def test_reprocess_makes_the_item_of_a_target_uri_in_upper_case(tmp_path, warc_reader, form):
    """Scheme and host are case-insensitive (RFC 3986): both readers make the item, under its canonical URL."""
    warc = write(tmp_path / "upper.warc.gz", response_record(1, FORMS[form]))
    items = reprocessed(tmp_path, warc)
    assert [i["url"] for i in items] == [ITEM_URL]


@pytest.mark.parametrize("form", ["upper-case scheme and host", "upper-case in angle brackets"])
def test_from_warc_answers_a_request_archived_with_an_upper_case_scheme_or_host(tmp_path, form):
    """Another tool's archive, without a .cdxj index: scanned (warcio parses no HTTP headers under `HTTPS://`)."""
    warc = write(tmp_path / "warc" / "upper.warc.gz", response_record(1, FORMS[form]))
    response, request = replayed(warc, ITEM_URL)
    assert response.status == 200 and response.body == PAGE
    assert response.url == ITEM_URL
    assert request.meta["warc_capture"].pointer["filename"] == "upper.warc.gz"


@pytest.mark.parametrize("form", ["http", "bare host", "tracking parameters"])
def test_from_warc_answers_a_request_with_the_capture_under_another_form_of_its_url(tmp_path, form):
    """The spider asks for the canonical URL; the archive holds the page under another form of it: the capture
    reprocess would select for that article answers, the response keeps the requested (canonical) URL, which
    becomes the item's `url`, and the record's own pointer (provenance)."""
    (tmp_path / "warc").mkdir()
    other = write(tmp_path / "warc" / "other.warc.gz", response_record(1, FORMS[form]))
    response, request = replayed(other, ITEM_URL)
    assert (response.status, response.body, response.url) == (200, PAGE, ITEM_URL)
    assert "not_archived" not in response.flags
    assert request.meta["warc_capture"].pointer == {
        "filename": "other.warc.gz", "record_id": "<urn:uuid:00000001-0000-0000-0000-000000000000>", "offset": 0}


def test_the_exact_url_is_still_answered_first_and_an_archived_redirect_is_no_fallback(tmp_path):
    """An archived form of the URL is taken only when the URL itself is not archived, and only a capture reprocess
    could select (a 2xx, a revisit): an archived redirect from http:// to the requested URL would loop."""
    redirect = gzip_member(serialize_record(
        [("WARC-Type", "response"), ("WARC-Record-ID", "<urn:uuid:00000009-0000-0000-0000-000000000000>"),
         ("WARC-Date", "2026-03-01T00:00:00Z"), ("WARC-Target-URI", FORMS["http"]),
         ("Content-Type", "application/http; msgtype=response")],
        f"HTTP/1.1 301 Moved Permanently\r\nLocation: {ITEM_URL}\r\nContent-Length: 0\r\n\r\n".encode()))
    warc = write(tmp_path / "warc" / "a.warc.gz", response_record(1, FORMS["bare host"], "2026-01-01T00:00:00Z"),
                 redirect)
    response, request = replayed(warc, ITEM_URL)
    assert (response.status, response.body) == (200, PAGE)
    assert request.meta["warc_capture"].pointer["record_id"] == "<urn:uuid:00000001-0000-0000-0000-000000000000>"
    assert replayed(warc, FORMS["http"])[0].status == 301  # its own URL still gets the redirect


def test_explain_finds_the_article_archived_under_another_form_of_its_url(tmp_path):
    from crawler.commands.explain import page_from_warc

    warc = write(tmp_path / "warc" / "a.warc.gz", response_record(1, FORMS["tracking parameters"]))
    html, where = page_from_warc(ITEM_URL, warc.parent)
    assert "Kharkiv" in html and where.startswith("a.warc.gz at offset 0")


def test_a_page_answered_under_another_form_of_its_url_is_not_counted_never_requested(tmp_path):
    from crawler.offline.replay import FromWarc

    warc = write(tmp_path / "warc" / "a.warc.gz", response_record(1, FORMS["http"]))
    crawler = project_crawler(FROM_WARC=str(warc))
    handler = WarcReplayDownloadHandler.from_crawler(crawler)
    replay = handler.replay
    assert isinstance(replay, FromWarc) and replay.not_requested() == 1
    asyncio.run(handler.download_request(scrapy.Request(ITEM_URL)))
    assert replay.not_requested() == 0


def test_an_error_under_the_url_itself_gives_way_to_a_whole_answer_under_another_form(tmp_path):
    """The crawl retried a 503 and got the page; the archive holds the 503 under the URL, the 200 under a tracking
    form of it: the replay answers with the 200, as the live crawl got it, and reprocess selects it."""
    error = gzip_member(serialize_record(
        [("WARC-Type", "response"), ("WARC-Record-ID", "<urn:uuid:00000009-0000-0000-0000-000000000000>"),
         ("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Target-URI", ITEM_URL),
         ("Content-Type", "application/http; msgtype=response")],
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy"))
    warc = write(tmp_path / "warc" / "a.warc.gz", error,
                 response_record(1, FORMS["tracking parameters"], "2026-01-01T00:00:02Z"))
    response, _ = replayed(warc, ITEM_URL)
    assert (response.status, response.body) == (200, PAGE)
