"""A Wayback-style archive's CDX API in the Internet Archive's layout: query URLs, their JSON answers, capture URLs.

Pure (no Scrapy, no I/O): the caller fetches. The layout is the Internet Archive's public one
(wayback-cdx-server's README), which any archive serving it answers the same way:

* captures are listed by `BASE/cdx/search/cdx?url=...&output=json&from=..&to=..&filter=statuscode:200
  &collapse=digest&showResumeKey=true&limit=N` (CDXQuery.page_url);
* the answer is a JSON list of lists: the header row `urlkey,timestamp,original,mimetype,statuscode,
  digest,length`, one row per capture, every value a string; `[]` when nothing matches; with
  showResumeKey and more captures than `limit`, an empty row then a one-element row holding the
  resume key, which the next page's query carries as `resumeKey` (parse_answer, iter_pages);
* a capture's original bytes are at `BASE/web/<14-digit timestamp>id_/<original URL>` (capture_url).
  Only `id_` URLs are built or accepted here: a replay URL without `id_` gives bytes the archive
  rewrote (links, scripts, a banner), never the page as it was served.

An answer in any other shape is a CDXAnswerError (a ValueError) naming what was found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, Iterator
from urllib.parse import quote, quote_plus, unquote_plus, urlencode, urlsplit

#: The Internet Archive's Wayback Machine, the default archive
IA_BASE = "https://web.archive.org"
#: Where the CDX API is under an archive's base URL
CDX_PATH = "/cdx/search/cdx"
#: The header row of a JSON answer: the fields of every row, in this order
FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
#: Captures asked for per page unless told otherwise
DEFAULT_LIMIT = 1000
MATCH_TYPES = ("exact", "prefix", "host", "domain")

_TIMESTAMP = re.compile(r"\d{14}")
_PARTIAL_TIMESTAMP = re.compile(r"\d{1,14}")
# characters left as they are in an original URL placed after `id_/` (RFC 3986 reserved, unreserved, and
# "%" so that existing escapes stay as they are); anything else (spaces, non-ASCII, quotes) is escaped
_URL_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


class CDXAnswerError(ValueError):
    """A CDX API answer that is not the documented JSON shape; the message names what was found."""


# --- the archive -----------------------------------------------------------------------------------
def archive_base(base: str) -> str:
    """The archive's root URL, checked (http or https, a host, no query or fragment), without a
    trailing slash: "https://web.archive.org", or "http://127.0.0.1:8080/some/prefix"."""
    if not isinstance(base, str):
        raise ValueError(f"archive base URL must be a string, not {type(base).__name__}")
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"archive base URL must be an http(s) URL with a host, not {base!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"archive base URL must have no query or fragment: {base!r}")
    return base.strip().rstrip("/")


def capture_url(base: str, timestamp: str, original: str) -> str:
    """`BASE/web/<timestamp>id_/<original>`: the capture's original bytes, as the archive holds them."""
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        raise ValueError(f"a capture timestamp has 14 digits (yyyyMMddhhmmss), not {timestamp!r}")
    if urlsplit(original).scheme not in ("http", "https"):
        raise ValueError(f"a capture's original URL must be http(s), not {original!r}")
    return f"{archive_base(base)}/web/{timestamp}id_/{quote(original, safe=_URL_SAFE)}"


def parse_capture_url(url: str, base: str) -> tuple[str, str]:
    """(timestamp, original URL) of an `id_` capture URL of the archive at `base`; a ValueError for
    any other URL, a replay URL without `id_` among them."""
    prefix = archive_base(base) + "/web/"
    if not url.startswith(prefix):
        raise ValueError(f"not a capture URL of {base}: {url!r}")
    match = re.fullmatch(r"(\d{14})id_/(https?://.+)", url[len(prefix):], re.S)
    if match is None:
        raise ValueError(f"not an id_ capture URL (<14 digits>id_/<original URL>): {url!r}")
    return match.group(1), match.group(2)


def timestamp_datetime(timestamp: str) -> datetime:
    """A 14-digit capture timestamp as an aware datetime in UTC (the archive's timestamps are UTC)."""
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        raise ValueError(f"a capture timestamp has 14 digits (yyyyMMddhhmmss), not {timestamp!r}")
    return datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


def timestamp_param(value) -> str:
    """A `from`/`to` value: a year (int), 1 to 14 digits of yyyyMMddhhmmss (str), a date, or a
    datetime (naive ones are taken as UTC). The archive reads the bounds as inclusive."""
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and _PARTIAL_TIMESTAMP.fullmatch(value.strip()):
        return value.strip()
    raise ValueError(f"a from/to bound is a year, 1 to 14 digits of yyyyMMddhhmmss, a date or a datetime, "
                     f"not {value!r}")


# --- the query -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CDXQuery:
    """One listing of captures: `url` as the CDX API takes it ("spacewar.com/reports/*" for a prefix),
    the time bounds, and how many captures a page holds. Only status-200 captures are asked for, and
    adjacent captures with the same digest (the same bytes) come once."""

    base: str
    url: str
    from_ts: str | None = None
    to_ts: str | None = None
    limit: int = DEFAULT_LIMIT
    match_type: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", archive_base(self.base))
        if not isinstance(self.url, str) or not self.url.strip():
            raise ValueError(f"a CDX query needs a url, not {self.url!r}")
        for name in ("from_ts", "to_ts"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, timestamp_param(value))
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"a CDX page limit is a positive number of captures, not {self.limit!r}")
        if self.match_type is not None and self.match_type not in MATCH_TYPES:
            raise ValueError(f"matchType is one of {', '.join(MATCH_TYPES)}, not {self.match_type!r}")

    @property
    def endpoint(self) -> str:
        return self.base + CDX_PATH

    def page_url(self, resume_key: str | None = None) -> str:
        """The URL of the first page, or of the page after the one that ended with `resume_key`."""
        params = [("url", self.url.strip())]
        if self.match_type:
            params.append(("matchType", self.match_type))
        params.append(("output", "json"))
        if self.from_ts:
            params.append(("from", self.from_ts))
        if self.to_ts:
            params.append(("to", self.to_ts))
        params += [("filter", "statuscode:200"), ("collapse", "digest"), ("showResumeKey", "true"),
                   ("limit", str(self.limit))]
        query = urlencode(params, quote_via=quote, safe="")
        if resume_key is not None:
            if not isinstance(resume_key, str) or not resume_key:
                raise ValueError(f"a resume key is a non-empty string, not {resume_key!r}")
            # the answer gives the key URL-encoded ("org%2Carchive%29%2F+19980109140106%21"), ready for a
            # query string; decoding and encoding again keeps such a key as it is and makes any other safe
            query += "&resumeKey=" + quote_plus(unquote_plus(resume_key), safe="")
        return f"{self.endpoint}?{query}"


# --- the answer ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Capture:
    """One row of a CDX answer: the archive's fields as it gave them (strings), the capture time, and
    the URL of the capture's original bytes."""

    base: str
    urlkey: str
    timestamp: str
    original: str
    mimetype: str
    statuscode: str
    digest: str
    length: str
    captured_at: datetime  # the timestamp, in UTC

    @property
    def capture_url(self) -> str:
        return capture_url(self.base, self.timestamp, self.original)


@dataclass(frozen=True)
class CDXPage:
    """The captures of one answer, and the key of the next page (None: this was the last)."""

    captures: tuple[Capture, ...]
    resume_key: str | None = None


def _shown(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_answer(body: bytes | str, base: str) -> CDXPage:
    """The captures (and resume key) of an `output=json` answer of the archive at `base`. `[]` and the
    header row alone are both an empty page."""
    base = archive_base(base)
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CDXAnswerError(f"CDX answer is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        rows = json.loads(body)
    except ValueError:
        raise CDXAnswerError(f"CDX answer is not JSON: {_shown(body.strip())}") from None
    if not isinstance(rows, list):
        raise CDXAnswerError(f"CDX answer is a JSON {type(rows).__name__}, not a list of rows: {_shown(rows)}")
    if not rows:
        return CDXPage(())
    header = rows[0]
    if header != list(FIELDS):
        raise CDXAnswerError(f"CDX answer's first row is {_shown(header)}, not the header row {list(FIELDS)}")
    captures, resume_key = [], None
    n = 1
    while n < len(rows):
        row = rows[n]
        if row == []:
            tail = rows[n + 1:]
            if len(tail) != 1 or not isinstance(tail[0], list) or len(tail[0]) != 1 \
                    or not isinstance(tail[0][0], str) or not tail[0][0]:
                raise CDXAnswerError(f"CDX answer's empty row {n} is not followed by one row holding only the "
                                     f"resume key, but by {_shown(tail)}")
            resume_key = tail[0][0]
            break
        captures.append(_capture(row, n, base))
        n += 1
    return CDXPage(tuple(captures), resume_key)


def _capture(row, n: int, base: str) -> Capture:
    if not isinstance(row, list) or len(row) != len(FIELDS):
        raise CDXAnswerError(f"CDX answer's row {n} is not a list of {len(FIELDS)} values: {_shown(row)}")
    wrong = [name for name, value in zip(FIELDS, row) if not isinstance(value, str)]
    if wrong:
        raise CDXAnswerError(f"CDX answer's row {n} has non-string {', '.join(wrong)}: {_shown(row)}")
    values = dict(zip(FIELDS, row))
    try:
        when = timestamp_datetime(values["timestamp"])
    except ValueError:
        raise CDXAnswerError(f"CDX answer's row {n} has timestamp {values['timestamp']!r}, not a date and "
                             f"time as 14 digits (yyyyMMddhhmmss)") from None
    if urlsplit(values["original"]).scheme not in ("http", "https"):
        raise CDXAnswerError(f"CDX answer's row {n} has original {values['original']!r}, not an http(s) URL")
    return Capture(base=base, captured_at=when, **values)


def iter_pages(query: CDXQuery, fetch: Callable[[str], bytes | str]) -> Iterator[CDXPage]:
    """Every page of a listing, in order: `fetch(url)` returns an answer's body; the next page is asked
    for with the resume key the previous one ended with, until a page ends without one."""
    resume_key, seen = None, set()
    while True:
        page = parse_answer(fetch(query.page_url(resume_key)), query.base)
        yield page
        if page.resume_key is None:
            return
        if page.resume_key in seen:
            raise CDXAnswerError(f"CDX answer repeats the resume key {page.resume_key!r}: the listing would "
                                 f"never end")
        seen.add(page.resume_key)
        resume_key = page.resume_key
