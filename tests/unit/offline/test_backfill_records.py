"""A backfill's records read back (crawler/warc/archived.py provenance): `-a from_warc` and `scrapy reprocess` give the
item the backfill exported (captured_at the WARC-Date, fetched_at the WARC-Creation-Date, source the archive's host)."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timezone

from scrapy import Request
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import keys
from crawler.articleitem import place_record
from crawler.offline.replay import WarcReplayDownloadHandler
from crawler.warc.archive import WarcArchive
from crawler.warc.archived import capture_response, provenance
from crawler.warc.records import new_record_id

OLD = "https://www.spacewar.com/reports/Old_Story_999.html"
LIVE = "https://www.spacewar.com/reports/New_Story_999.html"
SOURCE = "https://web.archive.org/web/20060102030405id_/http://spacewar.com/reports/Old_Story_999.html"


def test_a_backfills_record_was_captured_by_the_archive_and_fetched_later():
    assert provenance("2006-01-02T03:04:05Z", SOURCE, "2026-12-07T17:00:00.123456Z") == (
        "2026-12-07T17:00:00.123456Z", "2006-01-02T03:04:05Z", "web.archive.org")
    # a record of the live site: fetched and captured at once, there
    assert provenance("2026-12-07T17:00:00Z") == ("2026-12-07T17:00:00Z", "2026-12-07T17:00:00Z", "live")


def write_warc(path):
    body = b"<html><body><h1>Old story</h1></body></html>"
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                            protocol="HTTP/1.1")
    headers = dict(capture_response(record_id=new_record_id(), original=OLD,
                                    captured=datetime(2006, 1, 2, 3, 4, 5, tzinfo=timezone.utc), source_uri=SOURCE,
                                    fetched=datetime(2026, 12, 7, 17, 0, 0, 123456, tzinfo=timezone.utc),
                                    payload_digest="sha1:AAAA"))
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, extra in ((OLD, {k: v for k, v in headers.items() if k.startswith("WARC-") and k not in (
                "WARC-Target-URI", "WARC-Type", "WARC-Payload-Digest")}),
                           (LIVE, {"WARC-Date": "2026-12-07T16:00:00Z"})):
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=http, warc_headers_dict=extra))


def test_the_replay_gives_a_backfilled_page_its_capture_time_fetch_time_and_archive(tmp_path):
    write_warc(tmp_path / "backfill.warc.gz")
    archive = WarcArchive.open(tmp_path, use_cdxj=False)
    handler = WarcReplayDownloadHandler(archive)
    items = {}
    for url in (OLD, LIVE):
        request = Request(url)
        response = asyncio.run(handler.download_request(request))
        assert response.status == 200
        capture = request.meta[keys.META_CAPTURE]
        fields = {}
        place_record(fields, capture.pointer, capture.date, capture.captured_at, capture.source)  # the spider's
        items[url] = fields
    assert (items[OLD]["captured_at"], items[OLD]["fetched_at"], items[OLD]["source"]) == (
        "2006-01-02T03:04:05Z", "2026-12-07T17:00:00Z", "web.archive.org")
    assert (items[LIVE]["captured_at"], items[LIVE]["fetched_at"], items[LIVE]["source"]) == (
        "2026-12-07T16:00:00Z", "2026-12-07T16:00:00Z", "live")


def test_explain_says_when_a_backfilled_page_was_captured_and_fetched_and_from_where(tmp_path):
    from crawler.commands.explain import page_from_warc

    write_warc(tmp_path / "backfill.warc.gz")
    html, where = page_from_warc(OLD, tmp_path)
    assert "Old story" in html
    assert where.endswith(f"captured 2006-01-02T03:04:05Z, fetched 2026-12-07T17:00:00.123456Z from {SOURCE}")
    assert page_from_warc(LIVE, tmp_path)[1].endswith("fetched 2026-12-07T16:00:00Z")
