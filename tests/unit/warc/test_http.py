"""HTTP bytes, one decoder for capture and replay: what the archive gives back is what the capture digested."""

from __future__ import annotations

import gzip

import pytest

from crawler.warc.archive import WarcArchive
from crawler.warc.digests import sha1_digest
from crawler.warc.files import WarcFileWriter
from crawler.warc.http import build_exchange, entity_body, remove_transfer_codings, transfer_codings
from crawler.warc.records import exchange_headers, new_record_id, warc_date

PAGE = b"<html><body><p>" + b"The radar station was seen from the air again. " * 50 + b"</p></body></html>"


def chunked(data: bytes, size: int = 300) -> bytes:
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


RESPONSES = {
    "chunked": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(PAGE),
    "gzip, chunked": (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                      + chunked(gzip.compress(PAGE))),
    "truncated chunk": (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + chunked(PAGE)[:700]),
    "content-coded, chunked": (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n" + chunked(gzip.compress(PAGE))),
}


def test_transfer_codings_are_read_in_the_order_applied():
    assert transfer_codings([b"gzip, CHUNKED"]) == ["gzip", "chunked"]
    assert transfer_codings(["deflate", "chunked;ext=1"]) == ["deflate", "chunked"]
    assert remove_transfer_codings(chunked(gzip.compress(PAGE)), ["gzip", "chunked"]) == PAGE
    assert remove_transfer_codings(b"raw", ["br"]) == b"raw"  # unknown: left as it is


@pytest.mark.parametrize("name", list(RESPONSES))
def test_the_archive_replays_exactly_the_payload_the_capture_digested(tmp_path, name):
    exchange = build_exchange(b"GET / HTTP/1.1\r\nHost: www.spacewar.com\r\n\r\n", RESPONSES[name],
                              truncated="disconnect" if name == "truncated chunk" else None)
    captured = entity_body(exchange.head, exchange.body)
    url = "https://www.spacewar.com/reports/Page_999.html"
    _, response_headers = exchange_headers(
        request_id=new_record_id(), response_id=new_record_id(), date=warc_date(), uri=url, ip=None,
        record_type="response", digest=sha1_digest(captured), digest_in_extension=True, method="raw")
    writer = WarcFileWriter(tmp_path, "spacewar", max_size=1_000_000_000)
    writer.write_record(response_headers, exchange.response_bytes)
    writer.close()
    replayed = WarcArchive.open(tmp_path, use_cdxj=False).response_for(url)
    assert sha1_digest(replayed.body) == dict(response_headers)["X-Entity-Payload-Digest"]
    if name == "content-coded, chunked":
        assert gzip.decompress(replayed.body) == PAGE  # the content-coding stays
    elif name != "truncated chunk":
        assert replayed.body == PAGE
