"""The capturing download handler hands the WARC recorder the exact bytes of every exchange,
and Scrapy sees the same responses as with its own handler."""

from __future__ import annotations

import gzip
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from crawler.capture import handler as rawcapture
from crawler.capture.handler import RawCaptureDownloadHandler
from crawler.warc.http import RawExchange, build_exchange, dechunk, entity_body


def entity(exchange: RawExchange) -> bytes:
    """The entity body of a captured exchange (the bytes its payload digest covers)."""
    return entity_body(exchange.head, exchange.body)
from tests.sites.rawbytes import OURS, PAGE, STOCK, ScriptedServer, run_crawl


@pytest.fixture(scope="module")
def crawls():
    """One crawl of the scripted server with our handler and one with Scrapy's own."""
    with ScriptedServer() as server:
        ours = run_crawl(server, OURS)
        ours_log = list(server.log)
        server.log.clear()
        stock = run_crawl(server, STOCK)
        yield {"ours": ours, "stock": stock, "server": ours_log}


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _downloaded(result, path) -> dict:
    [seen] = [s for s in result["seen"] if s["where"] == "downloader" and _target(s["url"]) == path]
    return seen


def _spider(result, path) -> dict:
    [seen] = [s for s in result["seen"] if s["where"] == "spider" and _target(s["url"]) == path]
    return seen


def _served(crawls, path):
    [exchange] = [e for e in crawls["server"] if e.path == path]
    return exchange


CAPTURED = ["/fine?n=1", "/fine?n=2", "/gzip-chunked", "/missing", "/moved", "/fine?via=moved",
            "/post", "/fine?n=3", "/trailing", "/short", "/close", "/slow", "/big"]


@pytest.mark.parametrize("path", CAPTURED)
def test_request_bytes_are_exactly_what_the_server_received(crawls, path):
    raw = _downloaded(crawls["ours"], path)["raw"]
    assert isinstance(raw, RawExchange)
    assert raw.request_bytes == _served(crawls, path).received


@pytest.mark.parametrize("path", ["/fine?n=1", "/fine?n=2", "/gzip-chunked", "/missing", "/moved",
                                  "/fine?via=moved", "/post", "/fine?n=3", "/short", "/close", "/slow"])
def test_response_bytes_are_exactly_what_the_server_sent(crawls, path):
    raw = _downloaded(crawls["ours"], path)["raw"]
    assert raw.response_bytes == _served(crawls, path).sent


def test_reason_phrase_and_header_case_and_order_are_kept(crawls):
    raw = _downloaded(crawls["ours"], "/fine?n=1")["raw"]
    head = raw.response_bytes[:raw.header_length]
    assert head.startswith(b"HTTP/1.1 200 Fine\r\nx-Served-BY: scripted\r\nContent-Type: ")
    assert head.index(b"X-Dup: one") < head.index(b"cache-CONTROL") < head.index(b"x-dup: two")
    assert head.endswith(b"CONTENT-LENGTH: %d\r\n\r\n" % len(PAGE))
    assert raw.response_bytes[raw.header_length:] == PAGE
    assert (raw.chunked, raw.truncated, raw.http_version) == (False, None, "HTTP/1.1")


def test_post_body_is_part_of_the_request_bytes(crawls):
    raw = _downloaded(crawls["ours"], "/post")["raw"]
    assert raw.request_bytes.startswith(b"POST /post HTTP/1.1\r\n")
    assert raw.request_bytes.endswith(b"\r\n\r\nname=value&other=1")


def test_chunked_gzip_keeps_its_framing_and_entity_body_gunzips_to_the_page(crawls):
    raw = _downloaded(crawls["ours"], "/gzip-chunked")["raw"]
    assert raw.chunked
    assert b";note=first\r\n" in raw.response_bytes[raw.header_length:]  # framing as on the wire
    assert raw.response_bytes.endswith(b"\r\n0\r\n\r\n")
    assert gzip.decompress(entity(raw)) == PAGE
    # the spider still gets the page decoded by Scrapy's compression middleware
    assert _spider(crawls["ours"], "/gzip-chunked")["body"] == PAGE


def test_redirect_and_not_found_are_captured_like_any_exchange(crawls):
    moved = _downloaded(crawls["ours"], "/moved")["raw"]
    assert moved.response_bytes.startswith(b"HTTP/1.1 301 Moved Permanently\r\nLocation: /fine?via=moved")
    followed = _downloaded(crawls["ours"], "/fine?via=moved")["raw"]
    assert followed.request_bytes.startswith(b"GET /fine?via=moved HTTP/1.1\r\n")
    missing = _downloaded(crawls["ours"], "/missing")["raw"]
    assert missing.response_bytes.startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_exchanges_on_one_keep_alive_connection_are_captured_separately(crawls):
    conns = {}
    for exchange in crawls["server"]:
        conns.setdefault(exchange.conn, []).append(exchange.path)
    reused = max(conns.values(), key=len)
    assert len(reused) >= 5  # one connection served several requests...
    for path in reused:  # ...and each capture holds its own exchange only
        raw = _downloaded(crawls["ours"], path)["raw"]
        assert raw.request_bytes == _served(crawls, path).received
        assert raw.response_bytes.count(b"HTTP/1.1 ") == 1


def test_bytes_past_the_end_of_a_response_are_not_part_of_it(crawls):
    raw = _downloaded(crawls["ours"], "/trailing")["raw"]
    sent = _served(crawls, "/trailing").sent
    assert sent.endswith(b"helloEXTRA")
    assert raw.response_bytes == sent[:-len(b"EXTRA")]
    assert entity(raw) == b"hello"


def test_a_response_cut_short_is_kept_and_marked_disconnect(crawls):
    seen = _downloaded(crawls["ours"], "/short")
    assert "dataloss" in seen["flags"]
    raw = seen["raw"]
    assert raw.truncated == "disconnect"
    assert raw.response_bytes[raw.header_length:] == PAGE[:100]


def test_a_body_ended_by_closing_the_connection_is_complete(crawls):
    seen = _downloaded(crawls["ours"], "/close")
    assert "partial" in seen["flags"]
    assert seen["raw"].truncated is None
    assert entity(seen["raw"]) == PAGE


def test_a_timeout_mid_body_leaves_the_partial_exchange_for_process_exception(crawls):
    seen = _downloaded(crawls["ours"], "/slow")
    assert seen["error"] == "DownloadTimeoutError"
    assert seen["raw"].truncated == "time"
    assert seen["raw"].response_bytes[seen["raw"].header_length:] == PAGE[:100]


def test_the_size_limit_leaves_the_partial_chunked_exchange_marked_length(crawls):
    seen = _downloaded(crawls["ours"], "/big")
    assert seen["error"] == "DownloadCancelledError"
    raw = seen["raw"]
    assert raw.truncated == "length" and raw.chunked
    sent = _served(crawls, "/big").sent
    assert len(sent) >= len(raw.response_bytes) > 10000  # what arrived before the cancel
    assert sent.startswith(raw.response_bytes)
    body = entity(raw)  # de-chunks what arrived, the cut chunk included
    assert len(body) > 10000 and body == b"x" * len(body)


def test_a_proxied_request_is_not_captured_and_counted_as_fallback(crawls):
    seen = _downloaded(crawls["ours"], "/fine?n=proxied")
    assert seen["status"] == 200 and seen["raw"] is None
    stats = crawls["ours"]["stats"]
    assert stats["rawcapture/fallback"] == 1
    assert stats["rawcapture/exchanges"] == len(CAPTURED)


def test_scrapy_sees_the_same_responses_as_with_its_own_handler(crawls):
    def view(result):
        return sorted(({k: v for k, v in s.items() if k != "raw"} for s in result["seen"]),
                      key=lambda s: (s["where"], s["url"]))

    def no_raw(result):
        return all(s.get("raw") is None for s in result["seen"])

    ours, stock = view(crawls["ours"]), view(crawls["stock"])
    # every download reached the middleware, every one but the 301 reached the spider
    assert len(ours) == 2 * (len(CAPTURED) + 1) - 1
    assert ours == stock
    assert no_raw(crawls["stock"])


def test_https_exchanges_are_captured_as_the_plain_http_inside_tls():
    with ScriptedServer(tls=True) as server:
        result = run_crawl(server, OURS, count=4)  # /fine twice, chunked gzip, 404: one connection
        for exchange in server.log:
            raw = _downloaded(result, exchange.path)["raw"]
            assert (raw.request_bytes, raw.response_bytes) == (exchange.received, exchange.sent)
        assert len(server.log) == 4 and len({e.conn for e in server.log}) == 1
    assert gzip.decompress(entity(_downloaded(result, "/gzip-chunked")["raw"])) == PAGE


# --- upgrade guard ------------------------------------------------------------------------

def test_this_scrapy_is_supported_and_every_private_piece_is_there():
    assert rawcapture.missing_private_pieces() == []
    assert rawcapture.unsupported_reason() is None


def test_another_scrapy_version_refuses_to_start_and_names_the_switch(monkeypatch):
    monkeypatch.setattr(scrapy, "__version__", "2.20.0")
    crawler = SimpleNamespace(settings=Settings({"TWISTED_REACTOR_ENABLED": True, "RAWCAPTURE_ENABLED": True}), stats=None)
    with pytest.raises(NotConfigured, match="RAWCAPTURE_ENABLED=False"):
        RawCaptureDownloadHandler(crawler)
    assert "2.20.0" in rawcapture.unsupported_reason()


# --- entity bodies of captured bytes ------------------------------------------------------

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize("body, expected", [
    (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
    (b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", b"hello"),  # extension, trailer
    (b"5\nhello\n0\n\n", b"hello"),  # bare LF framing
    (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),  # upper-case hex
    (b"5\r\nhello\r\n6\r\n wo", b"hello wo"),  # cut inside a chunk
    (b"5\r\nhello\r\n6", b"hello"),  # cut inside a size line
    (b"5\r\nhello\r\nzz\r\n", b"hello"),  # garbage after good data
    (b"", b""),
])
def test_entity_body_removes_chunked_framing_even_from_truncated_captures(body, expected):
    exchange = build_exchange(b"GET / HTTP/1.1\r\n\r\n", HEAD + body)
    assert exchange.chunked and exchange.header_length == len(HEAD)
    assert entity(exchange) == expected == dechunk(body)


def test_entity_body_of_a_length_delimited_response_is_the_body_as_sent():
    exchange = build_exchange(b"", b"HTTP/1.0 200 OK\nContent-Encoding: gzip\nContent-Length: 3\n\nabc")
    assert (exchange.http_version, exchange.chunked, entity(exchange)) == ("HTTP/1.0", False, b"abc")


def test_transfer_encoding_chunked_is_recognised_as_the_last_coding_only():
    assert build_exchange(b"", b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, CHUNKED\r\n\r\n").chunked
    assert not build_exchange(b"", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").chunked


def test_interim_responses_are_kept_apart_from_the_final_response():
    received = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Fine\r\nContent-Length: 2\r\n\r\nok"
    exchange = build_exchange(b"", received)
    assert exchange.interim_bytes == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert exchange.response_bytes.startswith(b"HTTP/1.1 200 Fine\r\n")
    assert exchange.interim_bytes + exchange.response_bytes == received
    assert entity(exchange) == b"ok"


def test_headers_cut_short_have_no_body():
    exchange = build_exchange(b"", b"HTTP/1.1 200 OK\r\nContent-Ty")
    assert exchange.header_length == len(exchange.response_bytes)
    assert entity(exchange) == b""
