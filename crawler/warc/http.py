"""HTTP messages as bytes: split a received response, read its headers, and remove its transfer-codings (and, for offline readers, its content-coding).

Used on both sides of the archive, so that what replay reads back is what capture digested:
the capture (crawler/capture/) splits the bytes it received into the final response and its
header block and digests the entity body; the archive reader (crawler/warc/archive.py) takes the
same entity body out of a stored record. The entity body is the message body with every
transfer-coding removed (chunked framing, and gzip or deflate sent as a transfer-coding) and the
content-coding kept: the bytes WARC 1.1's payload digest covers.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from http import HTTPStatus


@dataclass
class RawExchange:
    """The bytes of one HTTP/1.1 exchange, as written to and read from the connection."""

    request_bytes: bytes  # request line, headers (Host included), blank line, body
    response_bytes: bytes  # status line, headers, blank line, body as on the wire
    header_length: int  # offset of the body in response_bytes
    chunked: bool  # body uses the chunked transfer-coding
    truncated: str | None = None  # None, "length", "time", "disconnect" or "unspecified"
    http_version: str = "HTTP/1.1"  # from the status line ("" if none arrived)
    interim_bytes: bytes = b""  # 1xx responses received before this one (Twisted skips them)
    unparseable: str | None = None  # why the HTTP parser rejected the response, when it did

    @property
    def head(self) -> bytes:
        return self.response_bytes[:self.header_length]

    @property
    def body(self) -> bytes:
        return self.response_bytes[self.header_length:]


_STATUS = re.compile(rb"(HTTP/\d+\.\d+)[ \t]+(\d{3})")


def reason_phrase(status: int) -> str:
    """The standard reason phrase of a status code ("" for codes HTTP does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _head_end(data: bytes, start: int = 0) -> int | None:
    """Offset just past the blank line ending the header block that starts at `start`.
    Lines end in LF with an optional CR before it, as Twisted's parser reads them."""
    pos = start
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return None
        line = data[pos:nl]
        if line in (b"", b"\r") and pos > start:
            return nl + 1
        pos = nl + 1


def split_response(data: bytes) -> tuple[bytes, bytes, int, str]:
    """(interim 1xx bytes, final response bytes, header length, HTTP version) of received bytes.
    Header length is len(final) while the header block is incomplete."""
    start = 0
    while True:
        end = _head_end(data, start)
        m = _STATUS.match(data, start)
        version = m.group(1).decode("ascii") if m else ""
        if end is None:
            return data[:start], data[start:], len(data) - start, version
        if m and 100 <= int(m.group(2)) < 200 and end < len(data):
            start = end  # Twisted ignores interim responses and parses the next one
            continue
        return data[:start], data[start:], end - start, version


def header_values(head: bytes, name: bytes) -> list[bytes]:
    """Values of a header (case-insensitive) in a raw header block, in order."""
    name = name.lower()
    values = []
    for line in head.split(b"\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            values.append(value.strip())
    return values


def transfer_codings(values) -> list[str]:
    """The transfer-codings named by Transfer-Encoding header values (bytes or str), in the order applied."""
    tokens = []
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        tokens += [t.split(";", 1)[0].strip().lower() for t in value.split(",") if t.strip()]
    return tokens


def is_chunked(head: bytes) -> bool:
    """The header block declares the chunked transfer-coding (as its last coding)."""
    codings = transfer_codings(header_values(head, b"transfer-encoding"))
    return bool(codings) and codings[-1] == "chunked"


def dechunk(data: bytes) -> bytes:
    """Data of a chunked body, framing removed. Stops quietly where the data ends or stops
    making sense (a truncated capture), keeping the part of a chunk that arrived."""
    out = bytearray()
    pos = 0
    n = len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break  # size line cut short
        size_field = data[pos:nl].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            break
        if size <= 0:
            break  # the last chunk (trailers follow), or nonsense
        start = nl + 1
        out += data[start:start + size]
        pos = start + size
        if pos >= n:
            break
        # the CRLF (or bare LF) after the chunk data
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1
        else:
            break
    return bytes(out)


def _inflate(data: bytes, wbits: int) -> bytes:
    """What a gzip or deflate stream decodes to, as far as it goes (a cut-short stream keeps its start)."""
    d = zlib.decompressobj(wbits)
    try:
        return d.decompress(data) + d.flush()
    except zlib.error:
        return b""


def remove_transfer_codings(body: bytes, codings: list[str]) -> bytes:
    """The entity body: the transfer-codings undone, last applied first. chunked, gzip/x-gzip and
    deflate are undone; at an unknown coding the body stays as it is from there on."""
    for coding in reversed(codings):
        if coding == "chunked":
            body = dechunk(body)
        elif coding in ("gzip", "x-gzip"):
            body = _inflate(body, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            body = _inflate(body, zlib.MAX_WBITS)
        elif coding != "identity":
            break
    return body


def decode_content(body: bytes, headers) -> bytes:
    """An entity body without its content-coding (gzip, deflate; `headers`: (name, value) pairs), as the
    crawl's HttpCompressionMiddleware decodes it: for offline readers of archived responses. A body that
    does not decode raises (gzip.BadGzipFile, zlib.error, EOFError)."""
    coding = ",".join(v for k, v in headers if k.lower() == "content-encoding").lower()
    for name in reversed([c.strip() for c in coding.split(",") if c.strip()]):
        if name in ("gzip", "x-gzip"):
            body = gzip.decompress(body)
        elif name == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
    return body


def entity_body(head: bytes, body: bytes) -> bytes:
    """The entity body of a response whose header block is `head` and message body `body`."""
    codings = transfer_codings(header_values(head, b"transfer-encoding"))
    return remove_transfer_codings(body, codings) if codings else body


def build_exchange(sent: bytes, received: bytes, truncated: str | None = None,
                   unparseable: str | None = None) -> RawExchange:
    """A RawExchange from the bytes written and the bytes read for one exchange."""
    interim, final, header_length, version = split_response(received)
    head = final[:header_length]
    return RawExchange(
        request_bytes=sent,
        response_bytes=final,
        header_length=header_length,
        chunked=is_chunked(head),
        truncated=truncated,
        http_version=version,
        interim_bytes=interim,
        unparseable=unparseable,
    )
