"""The capture service builds and writes every record (crawler/capture/service.py), and the recorder hands each
exchange over (crawler/capture/recorder.py): read back from real WARC files, without starting a crawl."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.signalmanager import SignalManager
from warcio.archiveiterator import ArchiveIterator

from crawler.capture.recorder import WarcRecorderMiddleware
from crawler.capture.revisits import RevisitPolicy
from crawler.capture.service import CaptureService
from crawler.capture.signals import warc_write_failed
from crawler.warc.digests import DigestIndex
from crawler.warc.files import WarcFileSet
from crawler.warc.http import build_exchange
from tests.crawling import project_crawler

SITE = "https://www.spacewar.com"
PAGE = b"<html><head><title>A</title></head><body><p>The story.</p></body></html>"
WHEN = datetime(2026, 11, 25, 2, 0, 0, 123456, tzinfo=timezone.utc)


def http_response(body: bytes, status: str = "200 OK", headers: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: text/html\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
            .encode() + body)


def exchange(url: str, received: bytes, sent_headers: str = ""):
    path = url.split("://", 1)[1].split("/", 1)[1]
    sent = f"GET /{path} HTTP/1.1\r\nHost: www.spacewar.com\r\n{sent_headers}\r\n".encode()
    return build_exchange(sent, received)


def response_for(request: Request, raw) -> Response:
    status = int(raw.head.split(b" ", 2)[1])
    headers = {}
    for line in raw.head.split(b"\r\n")[1:]:
        if b": " in line:
            name, value = line.split(b": ", 1)
            headers[name.decode()] = value
    cls = HtmlResponse if status == 200 else Response
    return cls(request.url, status=status, headers=headers, body=raw.body, request=request)


@pytest.fixture
def service(tmp_path):
    crawler = project_crawler()
    crawler.stats.open_spider()
    files = WarcFileSet(tmp_path / "warc", "test", max_size=10**9)
    made = CaptureService(files, RevisitPolicy(DigestIndex(tmp_path / "digest-index.sqlite")), stats=crawler.stats,
                          series={"spacedaily": "spacedaily"},
                          site_of_url=lambda url: "spacedaily" if "spacedaily" in url else None)
    yield made
    made.close()


def read_back(service: CaptureService) -> list:
    service.close()
    out = []
    for path in sorted(service.files.directory.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, no_record_parse=True):  # each block whole, as written
                out.append((path.name, rec.rec_type, dict(rec.rec_headers.headers), rec.raw_stream.read()))
    return out


def capture(service: CaptureService, url: str, received: bytes, sent_headers: str = "", **meta):
    request = Request(url, callback=lambda r: None, meta=meta)
    raw = exchange(url, received, sent_headers)
    for line in sent_headers.split("\r\n"):
        if ": " in line:
            request.headers[line.split(": ", 1)[0]] = line.split(": ", 1)[1]
    response = response_for(request, raw)
    return request, response, raw, service.capture_exchange(request, response, raw, WHEN)


def test_an_exchange_is_a_request_and_a_response_record_linked_to_each_other_where_its_location_says(service):
    _, _, _, location = capture(service, SITE + "/reports/A_999.html", http_response(PAGE))
    records = read_back(service)
    [(name, _, request, sent), (_, _, response, received)] = [r for r in records if r[1] != "warcinfo"]
    assert (request["WARC-Type"], response["WARC-Type"]) == ("request", "response")
    assert request["WARC-Concurrent-To"] == response["WARC-Record-ID"] == location.record_id
    assert response["WARC-Date"] == "2026-11-25T02:00:00.123456Z" and response["X-Capture-Method"] == "raw"
    assert received == http_response(PAGE) and sent.startswith(b"GET /reports/A_999.html HTTP/1.1\r\n")
    assert location.filename == name
    with open(service.files.directory / name, "rb") as fh:  # the pointer leads to the response record
        fh.seek(location.offset)
        rec = next(iter(ArchiveIterator(fh)))
        assert rec.rec_headers.get_header("WARC-Record-ID") == location.record_id


def test_the_same_payload_again_is_an_identical_payload_revisit_keeping_only_the_http_head(service):
    _, _, _, first = capture(service, SITE + "/reports/A_999.html", http_response(PAGE))
    _, _, _, second = capture(service, SITE + "/reports/A_999.html?utm=x", http_response(PAGE))
    records = {r[2]["WARC-Record-ID"]: r for r in read_back(service)}
    _, kind, headers, block = records[second.record_id]
    assert kind == "revisit" and headers["WARC-Refers-To"] == first.record_id
    assert headers["WARC-Profile"].endswith("identical-payload-digest")
    assert block == http_response(PAGE)[:-len(PAGE)]  # the head; the payload is in the original
    assert service.stats.get_value("warc/revisits/identical-payload-digest") == 1


def test_a_304_to_a_conditional_request_is_an_empty_revisit_and_its_head_goes_to_the_metadata_record(service):
    url = SITE + "/reports/A_999.html"
    _, _, _, first = capture(service, url, http_response(PAGE, headers='ETag: "v1"\r\n'))
    request, response, raw, second = capture(service, url, http_response(b"", "304 Not Modified", 'ETag: "v1"\r\n'),
                                              sent_headers='If-None-Match: "v1"\r\n')
    page = service.page_capture(request, response, raw, second, WHEN, started=None)
    service.write_metadata(page, [])
    records = read_back(service)
    [revisit] = [r for r in records if r[1] == "revisit"]
    assert revisit[2]["WARC-Refers-To"] == first.record_id and revisit[2]["WARC-Profile"].endswith("server-not-modified")
    assert revisit[3] == b""
    [metadata] = [r for r in records if r[1] == "metadata"]
    assert metadata[2]["WARC-Concurrent-To"] == second.record_id
    assert b"notModifiedStatus: HTTP/1.1 304 Not Modified" in metadata[3]
    assert set(service.revisits.revalidated) == {url}


def test_the_metadata_record_lists_the_outlinks_and_is_written_once(service):
    request, response, raw, location = capture(service, SITE + "/reports/A_999.html", http_response(PAGE),
                                               hop_path="L")
    page = service.page_capture(request, response, raw, location, WHEN, started=None)
    assert page.pointer == location.pointer()
    service.write_metadata(page, [SITE + "/reports/B_999.html"])
    service.write_metadata(page, [SITE + "/reports/C_999.html"])  # already written: nothing more
    [metadata] = [r for r in read_back(service) if r[1] == "metadata"]
    assert b"hopsFromSeed: L\r\n" in metadata[3] and b"outlink: " + SITE.encode() + b"/reports/B_999.html" in metadata[3]
    assert b"C_999" not in metadata[3]


def test_the_item_record_refers_to_its_response_and_a_site_has_its_own_files(service):
    url = "https://www.spacedaily.com/reports/A_999.html"
    _, _, _, location = capture(service, url, http_response(PAGE), site="spacedaily")
    service.item_scraped({"url": url, "title": "A", "site": "spacedaily", "warc": location.pointer()})
    service.item_scraped({"url": SITE + "/reports/Z_999.html", "title": "Z"})  # from no archived response: none
    records = read_back(service)
    [item] = [r for r in records if r[2].get("X-Record-Kind") == "item"]
    assert item[2]["WARC-Refers-To"] == location.record_id and item[0].startswith("spacedaily-")
    assert {r[0].split("-", 1)[0] for r in records if r[1] != "warcinfo"} == {"spacedaily"}
    assert service.stats.get_value("warc/records/item") == 1


def test_the_recorder_hands_a_parsed_page_its_capture_and_writes_other_metadata_at_once(service):
    recorder = WarcRecorderMiddleware(service, service.stats)
    page = Request(SITE + "/reports/A_999.html", callback=lambda r: None)
    recorder.process_request(page)
    page.meta["raw_exchange"] = raw = exchange(page.url, http_response(PAGE))
    recorder.process_response(page, response_for(page, raw))
    capture = page.meta["warc_capture"]
    assert capture.metadata is not None  # waits for the outlinks
    gone = Request(SITE + "/reports/Gone_999.html", callback=lambda r: None)
    recorder.process_request(gone)
    gone.meta["raw_exchange"] = raw = exchange(gone.url, http_response(b"no", "404 Not Found"))
    recorder.process_response(gone, response_for(gone, raw))
    assert "warc_capture" not in gone.meta
    metadata = [r for r in read_back(service) if r[1] == "metadata"]
    assert [r[2]["WARC-Target-URI"] for r in metadata] == [gone.url]  # the 404's, at once
    assert service.stats.get_value("warc/pages_archived") == 1


def test_a_page_whose_record_could_not_be_written_never_reaches_the_spider(tmp_path):
    files = WarcFileSet(tmp_path / "warc", "test", max_size=10**9, min_free_bytes=2**62)  # never enough room
    failed = []
    signals = SignalManager()
    signals.connect(lambda exc, path: failed.append({"exc": exc, "path": path}), signal=warc_write_failed, weak=False)
    service = CaptureService(files, RevisitPolicy(None), signals_=signals)
    recorder = WarcRecorderMiddleware(service)
    page = Request(SITE + "/reports/A_999.html", callback=lambda r: None)
    page.meta["raw_exchange"] = raw = exchange(page.url, http_response(PAGE))
    with pytest.raises(IgnoreRequest, match="could not be written"):
        recorder.process_response(page, response_for(page, raw))
    assert len(failed) == 1 and "WARC_MIN_FREE_BYTES" in str(failed[0]["exc"])
    service.close()
    assert not list((tmp_path / "warc").glob("*.warc.gz"))


def test_records_are_gzip_members_of_their_own(service):
    capture(service, SITE + "/reports/A_999.html", http_response(PAGE))
    read_back(service)
    [path] = service.files.directory.glob("*.warc.gz")
    assert gzip.decompress(path.read_bytes()).count(b"WARC/1.1\r\n") == 3  # warcinfo, request, response
