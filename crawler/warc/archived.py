"""WARC records of what the backfill fetches from a Wayback-style archive: the capture under its own URL and time.

Pure (values in, (headers, block) out; crawler/capture/service.py writes them). A capture fetched
through `BASE/web/<timestamp>id_/<original URL>` becomes, as pywb itself records a page loaded from a
remote archive (pywb/warcserver/resource/responseloader.py), a `response` record

* whose WARC-Target-URI is the original URL and WARC-Date the capture time (so replay tools show it
  under its URL at its time), WARC-Source-URI the `id_` URL it was loaded from and
  WARC-Creation-Date when we fetched it (WARC 1.1 extension fields; `WARC-Creation-Date` is the name
  iipc/warc-specifications settled on);
* whose HTTP block is the capture's status line, its original headers (the archive sends them
  prefixed `X-Archive-Orig-`; the prefix is removed, the archive's own headers such as
  Memento-Datetime, Link or its Date are left out), and as payload the `id_` bytes, with
  Content-Encoding as the bytes kept are coded and Content-Length their length (the archived
  Transfer-Encoding is dropped: the bytes are stored de-chunked).

The exchange really made (a GET of the `id_` URL, now) is kept as a `metadata` record
(`archive_exchange`): WARC-Target-URI the `id_` URL, WARC-Refers-To the response record, the request
line and headers sent and the archive's status line and headers as received, one warc-field per line
(the payload is the response record's). A CDX listing answer is a `resource` record
(`listing_resource`): WARC-Target-URI the query URL, Content-Type application/json, the JSON as
the archive gave it (content-coding removed), so that a run's decisions can be read again.

Read back (`provenance`), a response record says when its page was captured and fetched, and where
from: what `scrapy reprocess` and `-a from_warc` put in an item's captured_at, fetched_at and source,
so that an item rebuilt from a backfill's records is the one the backfill exported.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from crawler.warc.records import Headers, new_record_id, warc_date

#: an item's `source` when its page was fetched from the site itself
LIVE = "live"
ORIG_PREFIX = b"x-archive-orig-"
#: original headers that must agree with the bytes kept: set from them, never restored as archived
BYTES_HEADERS = {b"content-length", b"transfer-encoding", b"content-encoding"}


def whole_seconds(when: datetime) -> str:
    """A capture time as a WARC-Date at the archive's precision: 2004-05-06T07:08:09Z."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lines(head: bytes) -> list[bytes]:
    return [line for line in head.split(b"\r\n") if line.strip()]


def is_capture(head: bytes) -> bool:
    """True when an answer of the archive to an `id_` URL is an archived capture (it carries
    Memento-Datetime or original headers), not the archive's own answer (a 429, a 503, its 404 page)."""
    for line in _lines(head)[1:]:
        name = line.split(b":", 1)[0].strip().lower()
        if name == b"memento-datetime" or name.startswith(ORIG_PREFIX):
            return True
    return False


def restored_head(head: bytes, payload_length: int) -> bytes:
    """The capture's HTTP head as originally served: status line, original headers (prefix removed),
    Content-Type and Content-Encoding as sent with the payload, Content-Length of the payload."""
    lines = _lines(head)
    out = [lines[0]] if lines else [b"HTTP/1.1 200 OK"]
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        lower = name.strip().lower()
        if lower.startswith(ORIG_PREFIX):
            original = name.strip()[len(ORIG_PREFIX):]
            if original.lower() not in BYTES_HEADERS:
                out.append(original + b":" + value)
        elif lower in (b"content-type", b"content-encoding"):  # as the payload is sent: its coding
            out.append(line)
    out.append(b"Content-Length: " + str(payload_length).encode())
    return b"\r\n".join(out) + b"\r\n\r\n"


def capture_response(*, record_id: str, original: str, captured: datetime, source_uri: str, fetched: datetime,
                     payload_digest: str, truncated: str | None = None) -> Headers:
    """Headers of the response record of a capture (see the module docstring)."""
    headers = [("WARC-Type", "response"), ("WARC-Record-ID", record_id), ("WARC-Date", whole_seconds(captured)),
               ("WARC-Target-URI", original), ("Content-Type", "application/http;msgtype=response"),
               ("WARC-Payload-Digest", payload_digest), ("WARC-Source-URI", source_uri),
               ("WARC-Creation-Date", warc_date(fetched))]
    if truncated:
        headers.append(("WARC-Truncated", truncated))
    return headers


def listing_resource(*, record_id: str, uri: str, fetched: datetime) -> Headers:
    """Headers of the resource record of a CDX listing answer (its JSON)."""
    return [("WARC-Type", "resource"), ("WARC-Record-ID", record_id), ("WARC-Date", warc_date(fetched)),
            ("WARC-Target-URI", uri), ("Content-Type", "application/json")]


def archive_exchange(*, uri: str, refers_to: str, fetched: datetime, request_head: bytes,
                     response_head: bytes) -> tuple[Headers, bytes]:
    """The metadata record of one exchange with the archive: what was sent and what came back (heads only)."""
    sent, received = _lines(request_head), _lines(response_head)
    fields = [("requestLine", sent[0] if sent else b"")]
    fields += [("requestHeader", line) for line in sent[1:]]
    fields += [("responseStatus", received[0] if received else b"")]
    fields += [("responseHeader", line) for line in received[1:]]
    block = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in fields)
    headers = [("WARC-Type", "metadata"), ("WARC-Record-ID", new_record_id()), ("WARC-Date", warc_date(fetched)),
               ("WARC-Target-URI", uri), ("WARC-Refers-To", refers_to), ("Content-Type", "application/warc-fields"),
               ("X-Record-Kind", "archive-exchange")]
    return headers, block


def provenance(warc_date: str, source_uri: str | None = None, creation_date: str | None = None) -> tuple[str, str, str]:
    """(fetched, captured, source) of a response record from its WARC-Date, WARC-Source-URI and WARC-Creation-Date:
    a backfill's capture was captured at its WARC-Date by the archive at the source URI's host, and fetched at its
    WARC-Creation-Date; a record of the live site was fetched and captured at its WARC-Date, "live"."""
    host = urlsplit(source_uri).hostname if source_uri else None
    return creation_date or warc_date, warc_date, host or LIVE
