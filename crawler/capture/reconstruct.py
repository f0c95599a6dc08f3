"""HTTP messages rebuilt from Scrapy's Request and Response objects, for exchanges without captured bytes.

Where the download handler kept no raw bytes (HTTP/2, a proxy, RAWCAPTURE_ENABLED=False) the
recorder archives these instead, and the records say so (X-Capture-Method: reconstructed).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import scrapy
from scrapy.utils.python import to_bytes

from crawler.warc.http import reason_phrase


def _header_lines(headers) -> bytes:
    out = []
    for name, values in headers.items():
        for value in values:
            out.append(to_bytes(name) + b": " + to_bytes(value))
    return b"".join(line + b"\r\n" for line in out)


def reconstruct_request(request: scrapy.Request) -> bytes:
    """HTTP/1.1 request message rebuilt from a Scrapy Request (Host first, then its headers)."""
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rsplit("@", 1)[-1]
    head = f"{request.method} {target} HTTP/1.1\r\nHost: {host}\r\n".encode("latin-1")
    head += _header_lines(request.headers)
    if request.body and b"Content-Length" not in request.headers:
        head += f"Content-Length: {len(request.body)}\r\n".encode()
    return head + b"\r\n" + request.body


def reconstruct_response(response: scrapy.http.Response) -> tuple[bytes, bytes]:
    """(head, body) of an HTTP/1.1 response rebuilt from a Scrapy Response. Twisted hands
    Scrapy no connection headers, so Content-Length is restated for the body received."""
    protocol = getattr(response, "protocol", None) or "HTTP/1.1"
    if not protocol.startswith("HTTP/1"):
        protocol = "HTTP/1.1"  # an HTTP/2 exchange is stored in HTTP/1.1 form
    head = f"{protocol} {response.status} {reason_phrase(response.status)}\r\n".encode("latin-1")
    head += _header_lines(response.headers)
    head += f"Content-Length: {len(response.body)}\r\n\r\n".encode()
    return head, response.body
