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
* a revisit names its original (WARC-Refers-To, -Target-URI, -Date) and carries the original's
  payload digest; a server-not-modified revisit has no block at all (Content-Length 0), so replay
  tools take the original's HTTP headers and payload instead of replaying the 304
  (docs/replay.md, "Revisits that replay");
* an exported item is a JSON `metadata` record that WARC-Refers-To its response, under a URN of
  its own (`urn:x-spacewar-item:<article URL>`): CDXJ indexers drop the scheme of any
  `scheme://host/path` URI, so `metadata://host/path` filed the item under the page's own key and
  replay tools served the JSON in place of the page; a URN has no authority and keeps a key of its
  own.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from functools import lru_cache

from w3lib.url import safe_url_string

PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

Headers = list[tuple[str, str]]

#: an outlink as it is sent (percent-encoded); a site's pages share most of their links (navigation, related
#: headlines), so each distinct one is encoded once: the same string, without w3lib's work per page
_sent_form = lru_cache(maxsize=1 << 16)(safe_url_string)


def warc_date(dt: datetime | None = None) -> str:
    """WARC/1.1 date with microseconds, UTC: 2026-11-25T02:00:00.123456Z."""
    dt = (dt or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def exchange_headers(*, request_id: str, response_id: str, date: str, uri: str, ip: str | None,
                     record_type: str, digest: str | None, digest_in_extension: bool, revisit: Headers = (),
                     truncated: str | None = None, method: str) -> tuple[Headers, Headers]:
    """(request record headers, response or revisit record headers) of one exchange.

    `revisit` holds WARC-Profile and the WARC-Refers-To* headers of a revisit; `method` is "raw"
    (the exact bytes) or "reconstructed" (rebuilt from parsed messages), said in X-Capture-Method.
    `digest` None: no payload digest is known (a 304 whose original is not known)."""
    common = [("WARC-Date", date), ("WARC-Target-URI", uri)]
    if ip is not None:
        common.append(("WARC-IP-Address", ip))
    digest_headers = [] if digest is None else [
        ("X-Entity-Payload-Digest" if digest_in_extension else "WARC-Payload-Digest", digest)]
    response = [("WARC-Type", record_type), ("WARC-Record-ID", response_id), *common,
                ("WARC-Concurrent-To", request_id),
                ("Content-Type", "application/http;msgtype=response"),
                *digest_headers, *revisit,
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


def refers_to_date(original_date: str) -> str:
    """WARC-Refers-To-Date of a revisit: the original's WARC-Date at whole seconds
    (2026-11-25T02:00:00.123456Z -> 2026-11-25T02:00:00Z), the basic W3C-ISO8601 form.

    The same instant as the original's WARC-Date, at the precision the indexes keep: CDXJ and WACZ
    indexes hold 14-digit timestamps, and ReplayWeb.page (wabac.js) looks the original up from this
    value in such an index, so a fraction of a second made it skip the original itself and take the
    URL's next capture (a later 503, say). pywb reads it to 14 digits too; WARC-Refers-To still names
    the exact record."""
    if "." in original_date and original_date.endswith("Z"):
        return original_date.split(".", 1)[0] + "Z"
    return original_date


def _refers_to(refers_to: str, target_uri: str, target_date: str) -> Headers:
    return [("WARC-Refers-To", refers_to), ("WARC-Refers-To-Target-URI", target_uri),
            ("WARC-Refers-To-Date", refers_to_date(target_date))]


def identical_payload(refers_to: str, target_uri: str, target_date: str) -> Headers:
    """Revisit headers: the payload is the one already archived in record `refers_to`."""
    return [("WARC-Profile", PROFILE_IDENTICAL), *_refers_to(refers_to, target_uri, target_date)]


def not_modified(refers_to: str | None = None, target_uri: str | None = None,
                 target_date: str | None = None) -> Headers:
    """Revisit headers: the server answered 304 to a conditional request.

    WARC 1.1 (6.7.3) defines this revisit's payload as "the original payload content from which a
    'Last-Modified' and/or 'ETag' value was taken" and recommends WARC-Refers-To: with the original
    (`refers_to`, its target URI and WARC-Date) known, the record names it; without, only the profile."""
    if refers_to is None:
        return [("WARC-Profile", PROFILE_NOT_MODIFIED)]
    return [("WARC-Profile", PROFILE_NOT_MODIFIED), *_refers_to(refers_to, target_uri, target_date)]


def capture_metadata(*, response_id: str, uri: str, hop_path: str, via: str, fetch_seconds: float | None,
                     status, outlinks: list[str], response_head: bytes | None = None) -> tuple[Headers, bytes]:
    """The metadata record of one capture: hop path, via, fetch time and outlinks (warc-fields).

    `response_head`: the HTTP head of a response whose own record keeps no block (a 304 archived as a
    server-not-modified revisit), one field per line as received: `notModifiedStatus` and a
    `notModifiedHeader` per header line. Replay tools do not index this record (warc-fields)."""
    fields = [("hopsFromSeed", hop_path or ""),
              ("via", via or ""),
              ("fetchTimeMs", "" if fetch_seconds is None else str(int(fetch_seconds * 1000))),
              ("status", "" if status is None else str(status))]
    if response_head:
        lines = [line for line in response_head.decode("latin-1").split("\r\n") if line.strip()]
        fields += [("notModifiedStatus", lines[0])] if lines else []
        fields += [("notModifiedHeader", line) for line in lines[1:]]
    # a link is written as a URL is sent: percent-encoded (a raw space or U+2028 would break the line)
    fields += [("outlink", _sent_form(link)) for link in outlinks]
    block = "".join(f"{k}: {v}\r\n" for k, v in fields).encode("utf-8")
    headers = [("WARC-Type", "metadata"), ("WARC-Record-ID", new_record_id()), ("WARC-Date", warc_date()),
               ("WARC-Target-URI", uri), ("WARC-Concurrent-To", response_id),
               ("Content-Type", "application/warc-fields")]
    return headers, block


ITEM_URN = "urn:x-spacewar-item:"


def item_record_uri(url: str) -> str:
    """The item record's own URI: `urn:x-spacewar-item:<article URL>` (see the module docstring)."""
    return ITEM_URN + (url or "item")


def item_record(item: dict, refers_to: str) -> tuple[Headers, bytes]:
    """The record of an exported item: its JSON, referring to the response it came from."""
    headers = [("WARC-Type", "metadata"), ("WARC-Record-ID", new_record_id()),
               ("WARC-Date", warc_date()), ("WARC-Target-URI", item_record_uri(item.get("url") or "")),
               ("Content-Type", "application/json"), ("X-Record-Kind", "item"),
               ("WARC-Refers-To", refers_to)]
    block = json.dumps(item, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return headers, block
