"""WARC record headers and blocks for what a crawl archives: exchanges, revisits, capture metadata, items.

Pure functions: values in, (headers, block) out, written by crawler/warc/files.py. The capture
(crawler/capture/recorder.py) decides what an exchange becomes (a response, or a revisit of a
payload already archived, or of a 304 that confirmed one) and these functions spell it:

* an exchange is a `request` and a `response` (or `revisit`) record, each naming the other in
  WARC-Concurrent-To, with the fetch time, the target URI and the server's address;
* the payload digest covers the entity body (transfer-codings removed, content-coding kept:
  WARC 1.1). warcio, and so `warcio check` and the tools built on it, digests the stored bytes
  after the HTTP headers instead, chunk framing included; for a response stored with its chunked
  framing the two can never agree, so there the WARC 1.1 digest goes into X-Entity-Payload-Digest
  and WARC-Payload-Digest is left out (the record stays byte-exact and valid);
* a capture's `metadata` record (application/warc-fields: hop path, via, fetch time, status,
  outlinks, percent-encoded) is WARC-Concurrent-To its response;
* an exported item is a JSON `metadata` record that WARC-Refers-To its response, under a URI of
  its own so that replay tools never serve it in place of the page.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from w3lib.url import safe_url_string

PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

Headers = list[tuple[str, str]]


def warc_date(dt: datetime | None = None) -> str:
    """WARC/1.1 date with microseconds, UTC: 2026-11-25T02:00:00.123456Z."""
    dt = (dt or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def exchange_headers(*, request_id: str, response_id: str, date: str, uri: str, ip: str | None,
                     record_type: str, digest: str, digest_in_extension: bool, revisit: Headers = (),
                     truncated: str | None = None, method: str) -> tuple[Headers, Headers]:
    """(request record headers, response or revisit record headers) of one exchange.

    `revisit` holds WARC-Profile and the WARC-Refers-To* headers of a revisit; `method` is "raw"
    (the exact bytes) or "reconstructed" (rebuilt from parsed messages), said in X-Capture-Method."""
    common = [("WARC-Date", date), ("WARC-Target-URI", uri)]
    if ip is not None:
        common.append(("WARC-IP-Address", ip))
    digest_header = ("X-Entity-Payload-Digest" if digest_in_extension else "WARC-Payload-Digest", digest)
    response = [("WARC-Type", record_type), ("WARC-Record-ID", response_id), *common,
                ("WARC-Concurrent-To", request_id),
                ("Content-Type", "application/http;msgtype=response"),
                digest_header, *revisit,
                ("X-Capture-Method", method)]
    if truncated:
        response.append(("WARC-Truncated", truncated))
    request = [("WARC-Type", "request"), ("WARC-Record-ID", request_id), *common,
               ("WARC-Concurrent-To", response_id),
               ("Content-Type", "application/http;msgtype=request"),
               ("X-Capture-Method", method)]
    return request, response


def unparseable_response(*, record_id: str, request_id: str, date: str, uri: str, ip: str | None,
                         reason: str) -> Headers:
    """Headers of a `resource` record holding bytes received that are not a valid HTTP response (the
    parser rejected them: nothing was cut short, so no WARC-Truncated). Concurrent to its request."""
    headers = [("WARC-Type", "resource"), ("WARC-Record-ID", record_id), ("WARC-Date", date),
               ("WARC-Target-URI", uri)]
    if ip is not None:
        headers.append(("WARC-IP-Address", ip))
    return headers + [("WARC-Concurrent-To", request_id), ("Content-Type", "application/octet-stream"),
                      ("X-Unparseable-Response", reason), ("X-Capture-Method", "raw")]


def identical_payload(refers_to: str, target_uri: str, target_date: str) -> Headers:
    """Revisit headers: the payload is the one already archived in record `refers_to`."""
    return [("WARC-Profile", PROFILE_IDENTICAL), ("WARC-Refers-To", refers_to),
            ("WARC-Refers-To-Target-URI", target_uri), ("WARC-Refers-To-Date", target_date)]


def not_modified(uri: str) -> Headers:
    """Revisit headers: the server answered 304 to a conditional request for `uri`."""
    return [("WARC-Profile", PROFILE_NOT_MODIFIED), ("WARC-Refers-To-Target-URI", uri)]


def capture_metadata(*, response_id: str, uri: str, hop_path: str, via: str, fetch_seconds: float | None,
                     status, outlinks: list[str]) -> tuple[Headers, bytes]:
    """The metadata record of one capture: hop path, via, fetch time and outlinks (warc-fields)."""
    fields = [("hopsFromSeed", hop_path or ""),
              ("via", via or ""),
              ("fetchTimeMs", "" if fetch_seconds is None else str(int(fetch_seconds * 1000))),
              ("status", "" if status is None else str(status))]
    # a link is written as a URL is sent: percent-encoded (a raw space or U+2028 would break the line)
    fields += [("outlink", safe_url_string(link)) for link in outlinks]
    block = "".join(f"{k}: {v}\r\n" for k, v in fields).encode("utf-8")
    headers = [("WARC-Type", "metadata"), ("WARC-Record-ID", new_record_id()), ("WARC-Date", warc_date()),
               ("WARC-Target-URI", uri), ("WARC-Concurrent-To", response_id),
               ("Content-Type", "application/warc-fields")]
    return headers, block


def item_record_uri(url: str) -> str:
    """The item record's own URI (metadata://host/path, as Heritrix names its metadata)."""
    return "metadata://" + url.split("://", 1)[-1] if url else "metadata://item"


def item_record(item: dict, refers_to: str) -> tuple[Headers, bytes]:
    """The record of an exported item: its JSON, referring to the response it came from."""
    headers = [("WARC-Type", "metadata"), ("WARC-Record-ID", new_record_id()),
               ("WARC-Date", warc_date()), ("WARC-Target-URI", item_record_uri(item.get("url") or "")),
               ("Content-Type", "application/json"), ("X-Record-Kind", "item"),
               ("WARC-Refers-To", refers_to)]
    block = json.dumps(item, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return headers, block
