"""Records of captures fetched from a Wayback-style archive (crawler/warc/archived.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from crawler.warc.archived import archive_exchange, capture_response, is_capture, restored_head

# an id_ answer as pywb and IA give it: the capture's status, original headers prefixed, the archive's own
ANSWER = (b"HTTP/1.1 200 OK\r\n"
          b"Memento-Datetime: Wed, 07 Jun 2006 08:09:10 GMT\r\n"
          b"Link: <http://www.spacewar.com/>; rel=\"original\"\r\n"
          b"Content-Type: text/html; charset=utf-8\r\n"
          b"Content-Encoding: gzip\r\n"
          b"X-Archive-Orig-Server: Apache/1.3.33\r\n"
          b"X-Archive-Orig-Last-Modified: Tue, 06 Jun 2006 10:00:00 GMT\r\n"
          b"X-Archive-Orig-Transfer-Encoding: chunked\r\n"
          b"X-Archive-Orig-Content-Length: 9999\r\n"
          b"X-Archive-Orig-Content-Encoding: gzip\r\n"
          b"Date: Mon, 07 Dec 2026 17:00:00 GMT\r\n"
          b"Content-Length: 1234\r\n\r\n")


def test_the_original_headers_are_restored_and_those_of_the_bytes_made_to_agree_with_them():
    head = restored_head(ANSWER, 1234)
    assert head == (b"HTTP/1.1 200 OK\r\n"
                    b"Content-Type: text/html; charset=utf-8\r\n"
                    b"Content-Encoding: gzip\r\n"
                    b"Server: Apache/1.3.33\r\n"
                    b"Last-Modified: Tue, 06 Jun 2006 10:00:00 GMT\r\n"
                    b"Content-Length: 1234\r\n\r\n")


def test_a_payload_the_archive_decoded_keeps_no_content_encoding():
    decoded = ANSWER.replace(b"Content-Encoding: gzip\r\n", b"", 1)
    assert b"Content-Encoding" not in restored_head(decoded, 10)


def test_the_archives_own_refusal_is_not_a_capture():
    assert is_capture(ANSWER)
    assert not is_capture(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Type: text/plain\r\n\r\n")


def test_the_response_record_is_under_the_original_url_and_capture_time_with_where_and_when_it_was_fetched():
    captured = datetime(2006, 6, 7, 8, 9, 10, tzinfo=timezone.utc)
    fetched = datetime(2026, 12, 7, 17, 0, 0, 123456, tzinfo=timezone.utc)
    source = "https://web.archive.org/web/20060607080910id_/http://www.spacewar.com/reports/A_999.html"
    headers = dict(capture_response(record_id="<urn:uuid:1>", original="http://www.spacewar.com/reports/A_999.html",
                                    captured=captured, source_uri=source, fetched=fetched, payload_digest="sha1:X"))
    assert headers["WARC-Target-URI"] == "http://www.spacewar.com/reports/A_999.html"
    assert headers["WARC-Date"] == "2006-06-07T08:09:10Z"
    assert headers["WARC-Source-URI"] == source
    assert headers["WARC-Creation-Date"] == "2026-12-07T17:00:00.123456Z"
    assert "WARC-Truncated" not in headers


def test_the_exchange_with_the_archive_keeps_what_was_sent_and_received():
    headers, block = archive_exchange(uri="https://web.archive.org/web/x", refers_to="<urn:uuid:1>",
                                      fetched=datetime(2026, 12, 7, tzinfo=timezone.utc),
                                      request_head=b"GET /web/x HTTP/1.1\r\nHost: web.archive.org\r\n",
                                      response_head=ANSWER)
    assert dict(headers)["WARC-Refers-To"] == "<urn:uuid:1>" and dict(headers)["WARC-Type"] == "metadata"
    lines = block.decode().split("\r\n")
    assert lines[:3] == ["requestLine: GET /web/x HTTP/1.1", "requestHeader: Host: web.archive.org",
                         "responseStatus: HTTP/1.1 200 OK"]
    assert "responseHeader: Memento-Datetime: Wed, 07 Jun 2006 08:09:10 GMT" in lines
