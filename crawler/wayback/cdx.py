"""A Wayback-style archive's CDX API and captures, in IA's layout or pywb's: query URLs, their JSON answers, capture URLs.

Pure (no Scrapy, no I/O): the caller fetches. Two layouts (archive_layout; `layout` below, IA the default):

IA: the Internet Archive's public layout (wayback-cdx-server's README), which any archive serving it
answers the same way:

* captures are listed by `BASE/cdx/search/cdx?url=...&output=json&from=..&to=..&filter=statuscode:200
  &collapse=digest&showResumeKey=true&limit=N` (CDXQuery.page_url);
* the answer is a JSON list of lists: the header row `urlkey,timestamp,original,mimetype,statuscode,
  digest,length`, one row per capture, every value a string; `[]` when nothing matches; with
  showResumeKey and more captures than `limit`, an empty row then a one-element row holding the
  resume key, which the next page's query carries as `resumeKey` (parse_answer, iter_pages);
* a capture's original bytes are at `BASE/web/<14-digit timestamp>id_/<original URL>` (capture_url).
  Only `id_` URLs are built or accepted here: a replay URL without `id_` gives bytes the archive
  rewrote (links, scripts, a banner), never the page as it was served.

PYWB: a pywb collection (`http://host:8080/my-coll`), as pywb 2.10 serves it:

* captures are listed by `BASE/cdx?url=...&output=json&from=..&to=..&filter==status:200&limit=N`
  (pywb's filter syntax: `[!][=|~]field:value`, `=` exact, `~` regex, neither "contains");
* the answer is JSON lines (Content-Type text/x-ndjson): one object per capture with pywb's field
  names (`urlkey`, `timestamp`, `url`, `mime`, `status`, `digest`, `length`, then `offset`,
  `filename`, `source`...), an empty body when nothing matches. pywb has no resume key (and `page`
  only for ZipNum cluster indexes, not the CDXJ index `wb-manager add` makes), and ignores
  `collapse`: a listing is one answer, capped by `limit` (pywb's own default cap is 100,000, so the
  query always says it: PYWB_LIMIT), and identical captures are dropped client-side
  (crawler/wayback/select.py keeps one capture per digest);
* a capture's original bytes are at `BASE/<14-digit timestamp>id_/<original URL>`.

An answer in any other shape is a CDXAnswerError (a ValueError) naming what was found (and, when it
is the other layout's shape, which layout to ask for).
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
#: The two layouts: the Internet Archive's, and a pywb collection's
IA, PYWB = "ia", "pywb"
LAYOUTS = (IA, PYWB)
#: Where the CDX API is under an archive's base URL, by layout
CDX_PATH = "/cdx/search/cdx"
PYWB_CDX_PATH = "/cdx"
#: Where a capture's `<timestamp>id_/<url>` goes under the base URL, by layout
CAPTURE_PATH = {IA: "/web/", PYWB: "/"}
#: pywb's name for each of the fields (FIELDS) in its output=json objects
PYWB_FIELD = {"urlkey": "urlkey", "timestamp": "timestamp", "original": "url", "mimetype": "mime",
              "statuscode": "status", "digest": "digest", "length": "length"}
#: A pywb listing's cap (its `limit`): pywb has no paging, so a listing is one answer; said outright so that a
#: listing that fills it is seen (pywb's own default is the same number, applied silently)
PYWB_LIMIT = 100_000
#: The bytes a pywb listing answer may have (Scrapy's download_maxsize for it): 1 KiB a capture at the cap (a
#: line is some 400 bytes), over the crawl's DOWNLOAD_MAXSIZE, which is for pages
PYWB_LISTING_MAXSIZE = PYWB_LIMIT * 1024
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
    trailing slash: "https://web.archive.org", or "http://127.0.0.1:8080/my-coll" (a path: a pywb collection
    unless the layout is said, archive_layout)."""
    if not isinstance(base, str):
        raise ValueError(f"archive base URL must be a string, not {type(base).__name__}")
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"archive base URL must be an http(s) URL with a host, not {base!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"archive base URL must have no query or fragment: {base!r}")
    return base.strip().rstrip("/")


def archive_layout(base: str, layout: str | None = None) -> str:
    """IA or PYWB: `layout` when given ("ia", "pywb"); else decided by the base URL: a bare host
    ("https://web.archive.org") is IA's layout, a path after the host ("http://host:8080/my-coll") a
    pywb collection. The rule is the URL's, known before any request, because the two layouts ask
    at different paths (`/cdx/search/cdx`, `/cdx`): the answer's shape cannot choose the first URL."""
    if layout not in (None, "", "None"):
        return _layout(layout)
    return PYWB if urlsplit(archive_base(base)).path.strip("/") else IA


def _layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"the archive's layout is one of {', '.join(LAYOUTS)}, not {layout!r}")
    return layout


def cdx_endpoint(base: str, layout: str = IA) -> str:
    """The archive's CDX API: `BASE/cdx/search/cdx` (IA) or `BASE/cdx` (a pywb collection)."""
    return archive_base(base) + (CDX_PATH if _layout(layout) == IA else PYWB_CDX_PATH)


def capture_url(base: str, timestamp: str, original: str, layout: str = IA) -> str:
    """`BASE/web/<timestamp>id_/<original>` (IA) or `BASE/<timestamp>id_/<original>` (pywb): the
    capture's original bytes, as the archive holds them."""
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        raise ValueError(f"a capture timestamp has 14 digits (yyyyMMddhhmmss), not {timestamp!r}")
    if urlsplit(original).scheme not in ("http", "https"):
        raise ValueError(f"a capture's original URL must be http(s), not {original!r}")
    return f"{archive_base(base)}{CAPTURE_PATH[_layout(layout)]}{timestamp}id_/{quote(original, safe=_URL_SAFE)}"


def parse_capture_url(url: str, base: str, layout: str = IA) -> tuple[str, str]:
    """(timestamp, original URL) of an `id_` capture URL of the archive at `base`; a ValueError for
    any other URL, a replay URL without `id_` among them."""
    prefix = archive_base(base) + CAPTURE_PATH[_layout(layout)]
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
    layout: str = IA

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", archive_base(self.base))
        _layout(self.layout)
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
        return cdx_endpoint(self.base, self.layout)

    def page_url(self, resume_key: str | None = None) -> str:
        """The URL of the first page, or of the page after the one that ended with `resume_key` (IA's
        layout; a pywb listing is one answer of at most `limit` captures, with no resume key)."""
        if self.layout == PYWB:
            return self._pywb_url(resume_key)
        params = self._common_params() + [("filter", "statuscode:200"), ("collapse", "digest"),
                                          ("showResumeKey", "true"), ("limit", str(self.limit))]
        query = urlencode(params, quote_via=quote, safe="")
        if resume_key is not None:
            if not isinstance(resume_key, str) or not resume_key:
                raise ValueError(f"a resume key is a non-empty string, not {resume_key!r}")
            # the answer gives the key URL-encoded ("org%2Carchive%29%2F+19980109140106%21"), ready for a
            # query string; decoding and encoding again keeps such a key as it is and makes any other safe
            query += "&resumeKey=" + quote_plus(unquote_plus(resume_key), safe="")
        return f"{self.endpoint}?{query}"

    def _common_params(self) -> list[tuple[str, str]]:
        """The parameters both layouts take alike: the URL (or prefix), its match type, JSON, the time span."""
        params = [("url", self.url.strip())]
        if self.match_type:
            params.append(("matchType", self.match_type))
        params.append(("output", "json"))
        if self.from_ts:
            params.append(("from", self.from_ts))
        if self.to_ts:
            params.append(("to", self.to_ts))
        return params

    def _pywb_url(self, resume_key) -> str:
        if resume_key is not None:
            raise ValueError("a pywb collection's CDX API has no resume key: a listing is one answer")
        # pywb's filter: "=" matches the whole field (no modifier would mean "contains"); no collapse
        params = self._common_params() + [("filter", "=status:200"), ("limit", str(self.limit))]
        return f"{self.endpoint}?{urlencode(params, quote_via=quote, safe='')}"


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
    layout: str = IA  # the archive's layout, which says where its captures are

    @property
    def capture_url(self) -> str:
        return capture_url(self.base, self.timestamp, self.original, self.layout)


@dataclass(frozen=True)
class CDXPage:
    """The captures of one answer, and the key of the next page (None: this was the last)."""

    captures: tuple[Capture, ...]
    resume_key: str | None = None


def _shown(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_answer(body: bytes | str, base: str, layout: str = IA) -> CDXPage:
    """The captures (and resume key) of an `output=json` answer of the archive at `base`. IA's layout:
    `[]` and the header row alone are both an empty page; pywb's: an empty body is."""
    base = archive_base(base)
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CDXAnswerError(f"CDX answer is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if _layout(layout) == PYWB:
        return _parse_pywb(body, base)
    try:
        rows = json.loads(body)
    except ValueError:
        if _first_line_object(body):
            raise CDXAnswerError(f"CDX answer is JSON lines, pywb's shape, not IA's list of lists: for a pywb "
                                 f"collection give its URL (http://host:port/<coll>) or set WAYBACK_LAYOUT=pywb: "
                                 f"{_shown(body.strip())}") from None
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


def _capture(row, n: int, base: str, layout: str = IA) -> Capture:
    what = "line" if layout == PYWB else "row"
    if not isinstance(row, list) or len(row) != len(FIELDS):
        raise CDXAnswerError(f"CDX answer's {what} {n} is not a list of {len(FIELDS)} values: {_shown(row)}")
    wrong = [name for name, value in zip(FIELDS, row) if not isinstance(value, str)]
    if wrong:
        raise CDXAnswerError(f"CDX answer's {what} {n} has non-string {', '.join(wrong)}: {_shown(row)}")
    values = dict(zip(FIELDS, row))
    try:
        when = timestamp_datetime(values["timestamp"])
    except ValueError:
        raise CDXAnswerError(f"CDX answer's {what} {n} has timestamp {values['timestamp']!r}, not a date and "
                             f"time as 14 digits (yyyyMMddhhmmss)") from None
    if urlsplit(values["original"]).scheme not in ("http", "https"):
        raise CDXAnswerError(f"CDX answer's {what} {n} has original {values['original']!r}, not an http(s) URL")
    return Capture(base=base, captured_at=when, layout=layout, **values)


def _first_line_object(body: str) -> bool:
    try:
        return isinstance(json.loads(body.strip().splitlines()[0]), dict)
    except (ValueError, IndexError):
        return False


def _parse_pywb(body: str, base: str) -> CDXPage:
    """pywb's output=json: one object per line, pywb's field names; an empty body when nothing matches."""
    lines = [(n, line) for n, line in enumerate(body.splitlines(), 1) if line.strip()]
    if lines and lines[0][1].lstrip().startswith("["):
        with_list = False
        try:
            with_list = isinstance(json.loads(body), list)
        except ValueError:
            pass
        if with_list:
            raise CDXAnswerError(f"CDX answer is a JSON list of rows, IA's shape, not pywb's JSON lines: for an "
                                 f"archive in IA's layout give its root (https://host) or set WAYBACK_LAYOUT=ia: "
                                 f"{_shown(body.strip())}")
    captures = []
    for n, line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            raise CDXAnswerError(f"CDX answer's line {n} is not JSON: {_shown(line.strip())}") from None
        if not isinstance(obj, dict):
            raise CDXAnswerError(f"CDX answer's line {n} is a JSON {type(obj).__name__}, not an object: "
                                 f"{_shown(obj)}")
        missing = [PYWB_FIELD[name] for name in ("urlkey", "timestamp", "original") if PYWB_FIELD[name] not in obj]
        if missing:
            raise CDXAnswerError(f"CDX answer's line {n} has no {', '.join(missing)}: {_shown(obj)}")
        # a field pywb's index does not hold (a revisit's status, say) is "-", as in IA's answers
        row = [obj.get(PYWB_FIELD[name], "-") for name in FIELDS]
        captures.append(_capture(row, n, base, PYWB))
    return CDXPage(tuple(captures))


def iter_pages(query: CDXQuery, fetch: Callable[[str], bytes | str]) -> Iterator[CDXPage]:
    """Every page of a listing, in order: `fetch(url)` returns an answer's body; the next page is asked
    for with the resume key the previous one ended with, until a page ends without one."""
    resume_key, seen = None, set()
    while True:
        page = parse_answer(fetch(query.page_url(resume_key)), query.base, query.layout)
        yield page
        if page.resume_key is None:
            return
        if page.resume_key in seen:
            raise CDXAnswerError(f"CDX answer repeats the resume key {page.resume_key!r}: the listing would "
                                 f"never end")
        seen.add(page.resume_key)
        resume_key = page.resume_key
