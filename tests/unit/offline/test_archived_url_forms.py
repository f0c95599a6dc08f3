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
