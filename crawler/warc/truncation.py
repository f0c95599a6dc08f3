"""Whether an archived HTTP response is whole, judged by its bytes and not only by a WARC-Truncated header.

Other tools store a transfer that was cut off as an ordinary record: warcprox writes what arrived
under the server's `200 OK` and its `Content-Length`. Such a capture is not the page, and an item
made of it would be junk (a body of "The"). `cut_short(block)` says why the HTTP message in a
response record's block is incomplete, or None:

* a body shorter than its `Content-Length` (when no transfer-coding frames it);
* a chunked body without its last (zero-size) chunk;
* the HTTP headers themselves cut short.

(A gzip or deflate content-coding whose stream ends before its end marker shows when the body is
decoded: `decode_content` raises EOFError, or zlib's "incomplete or truncated stream"; the readers
count that as truncated too.)

A response that has no body by definition (1xx, 204, 304) is never cut short. Pure.
"""

from __future__ import annotations

import re

from crawler.warc.http import header_values, is_chunked, split_response

_NO_BODY = (204, 304)
_STATUS = re.compile(rb"HTTP/\d(?:\.\d)?\s+(\d{3})")


def _chunked_complete(data: bytes) -> bool:
    """A chunked body reaches its last chunk (size 0) within `data`."""
    pos, n = 0, len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return False
        try:
            size = int(data[pos:nl].split(b";", 1)[0].strip(), 16)
        except ValueError:
            return False
        if size == 0:
            return True
        pos = nl + 1 + size
        if pos > n:
            return False
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1
        else:
            return False
    return False


def cut_short(block: bytes) -> str | None:
    """Why the HTTP response in a record's block is incomplete (see the module docstring), or None."""
    _, final, header_length, _ = split_response(block)
    m = _STATUS.match(final)
    status = int(m.group(1)) if m else 0
    if header_length >= len(final) and not final.endswith(b"\n\n") and not final.endswith(b"\r\n\r\n"):
        return "HTTP headers cut short"
    if 100 <= status < 200 or status in _NO_BODY:
        return None
    head, body = final[:header_length], final[header_length:]
    if is_chunked(head):
        return None if _chunked_complete(body) else "chunked body without its last chunk"
    if header_values(head, b"transfer-encoding"):
        return None  # another transfer-coding: its framing is its own
    lengths = header_values(head, b"content-length")
    if lengths:
        try:
            want = int(lengths[0].split(b",")[0].strip())
        except ValueError:
            return None
        if len(body) < want:
            return f"body of {len(body)} bytes, Content-Length {want}"
    return None
