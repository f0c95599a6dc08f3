"""A response is judged whole or cut short by its bytes: what other tools store as an ordinary 200."""

from __future__ import annotations

import pytest

from crawler.warc.truncation import cut_short

PAGE = b"<html><body><p>The minister said the satellite was ready.</p></body></html>"


def test_a_body_shorter_than_its_content_length_is_cut_short():
    # warcprox stores a transfer the server cut off under the server's own 200 and Content-Length
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\nThe" % len(PAGE)
    assert cut_short(block) == f"body of 3 bytes, Content-Length {len(PAGE)}"
    assert cut_short(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(PAGE) + PAGE) is None


def test_a_chunked_body_without_its_last_chunk_is_cut_short():
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    whole = head + b"%x\r\n" % len(PAGE) + PAGE + b"\r\n0\r\n\r\n"
    assert cut_short(whole) is None
    assert cut_short(whole[:-5]) == "chunked body without its last chunk"
    assert cut_short(head + b"%x\r\n" % len(PAGE) + PAGE[:10]) == "chunked body without its last chunk"


@pytest.mark.parametrize("status", [204, 304, 100])
def test_an_answer_without_a_body_is_never_cut_short(status):
    assert cut_short(b"HTTP/1.1 %d X\r\nContent-Length: 500\r\n\r\n" % status) is None


def test_headers_cut_short():
    assert cut_short(b"HTTP/1.1 200 OK\r\nContent-Ty") == "HTTP headers cut short"
