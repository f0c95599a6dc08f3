"""The archive as a lookup: which captures a set of WARC files holds, and what each answered.

An index maps each archived URL to its captures, from the `.cdxj` file beside a WARC file when it
is up to date (a line it cannot read costs that line only), else by scanning the file with warcio.
A URL's captures are those archived under the URL itself, else under its canonical form
(`url_key`: query order, percent-encoding); when those are none, or only errors, and a `page_key`
is given (the key `scrapy reprocess` selects captures of one article by: http or https, the bare
host or www., tracking parameters), the captures reprocess could select under that key (2xx
responses and revisits): another tool's archive may hold `https://www.spacewar.com/X` as
`http://spacewar.com/X?utm_source=...`.
`response_for(url)` gives the best of them (the latest whole one that is not a 5xx, as `scrapy
reprocess` selects; a cut-short one, by WARC-Truncated or by its bytes, only when none is whole;
a 5xx only when there is nothing else) as an ArchivedResponse: status, headers in their
archived order, and the entity body
(transfer-codings removed with crawler/warc/http.py, the same code the capture digested with,
content-coding kept). A revisit is answered with its own HTTP headers and the payload of the
record it refers to (WARC-Refers-To, else the same payload digest, else, for a
server-not-modified revisit, the latest full capture of the URL). Pure: the from_warc replay
(crawler/offline/replay.py) turns the answers into Scrapy responses.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecordLoader
from warcio.timeutils import iso_date_to_timestamp

from crawler.warc.cdxj import BadIndexLines, cdxj_path, read_cdxj
from crawler.warc.http import remove_transfer_codings, transfer_codings
from crawler.warc.inputs import EXPECTED, EXTRACTS_ARE, NoInput, find, open_inputs
from crawler.warc.location import RecordLocation
from crawler.warc.truncation import cut_short
from crawler.warc.uris import target_uri

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capture:
    """One archived response or revisit record of a URL."""

    url: str
    timestamp: str  # 14 digits (or more), comparable as text
    status: int
    revisit: bool
    path: Path  # the WARC file
    offset: int  # of the record's gzip member
    digest: str | None = None  # WARC-Payload-Digest, "sha1:..." (None: unknown)
    record_id: str | None = None  # known when the file was scanned, else read on demand
    mime: str | None = None  # the response's media type ("text/html"), None when unknown or a revisit
    name: str | None = None  # the WARC file's name as items point to it, when not `path`'s (a WACZ member, the
    # archive a temporary copy was made of)
    base: int = 0  # where that WARC file starts in `path` (a WACZ member's data): the pointer's offset is relative

    def rank(self) -> tuple:
        """Sort key of the captures, best first once reversed: not a server error, then latest, then last written
        (whether a capture is whole takes reading it: WarcArchive._best)."""
        return (self.status < 500, self.timestamp, self.path.name, self.offset)


def warc_files(path) -> list[Path]:
    """The archive files at PATH: the file itself, or those in a directory, searched recursively
    (crawler/warc/inputs.py's `find`)."""
    return find([path])[0]


def archive_files(path) -> list[Path]:
    """The archive files at PATH (see warc_files); FileNotFoundError when there are none, naming what was found
    and what was expected."""
    files, empty = find([path])
    if not files:
        raise FileNotFoundError(f"{'; '.join(empty) or path}; expected {EXPECTED}")
    return files


def _digest(value: str | None) -> str | None:
    """Payload digest in one spelling ("sha1:BASE32"): CDXJ lines drop the "sha1:" prefix."""
    if not value:
        return None
    return value if ":" in value else f"sha1:{value}"


def _media_type(value: str | None) -> str | None:
    """"text/html" of "text/html; charset=utf-8"; None for nothing and for a revisit's "warc/revisit"."""
    media = (value or "").split(";", 1)[0].strip().lower()
    return media if media and media != "warc/revisit" else None


HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def url_key(url: str) -> str:
    """Secondary lookup key that tolerates query order and percent-encoding differences."""
    return canonicalize_url(url, keep_fragments=False)


def captures_from_cdxj(cdxj: Path, warc: Path, bad: BadIndexLines | None = None) -> list[Capture]:
    """Response and revisit captures listed in a CDXJ index of one WARC file. Lines without a
    status are metadata or resource records, which replay must not answer with; a line that
    cannot be read (bad JSON, a status that is not a number) is skipped and counted in `bad`."""
    out = []
    for _key, timestamp, fields in read_cdxj(cdxj, bad):
        if not fields.get("status") or "url" not in fields:
            continue
        try:
            status, offset = int(fields["status"]), int(fields["offset"])
        except (KeyError, TypeError, ValueError):
            if bad is not None:
                bad.add(cdxj.name, f"unreadable status or offset in {fields.get('url')}")
            continue
        out.append(Capture(
            url=target_uri(fields["url"]), timestamp=timestamp, status=status,
            revisit=fields.get("mime") == "warc/revisit", path=warc,
            offset=offset, digest=_digest(fields.get("digest")),
            mime=_media_type(fields.get("mime")),
        ))
    return out


class _Window:
    """The bytes of an open file up to `end`, positions as in the file: a WACZ member's records end where the next
    ZIP entry begins, and a reader that went on would take that entry's header for a damaged record."""

    def __init__(self, fh, end: int):
        self._fh, self._end = fh, end

    def read(self, size: int = -1) -> bytes:
        left = max(0, self._end - self._fh.tell())
        return self._fh.read(left if size is None or size < 0 else min(size, left))

    def tell(self) -> int:
        return self._fh.tell()


def captures_from_scan(warc: Path, start: int = 0, end: int | None = None, name: str | None = None,
                       base: int = 0) -> list[Capture]:
    """Response and revisit captures of one WARC file (or of its bytes [start, end): a WACZ's member, `name`d and
    starting at `base`), read record by record."""
    out = []
    with open(warc, "rb") as fh:
        fh.seek(start)
        records = ArchiveIterator(fh if end is None else _Window(fh, end))
        for record in records:
            if end is not None and records.get_record_offset() >= end:
                break
            _parse_http(record)
            if record.rec_type not in ("response", "revisit") or not record.http_headers:
                continue
            url = target_uri(record.rec_headers.get_header("WARC-Target-URI"))
            if not url.startswith(("http:", "https:")):
                continue
            try:
                status = int(record.http_headers.get_statuscode())
            except (TypeError, ValueError):
                continue
            out.append(Capture(
                url=url,
                timestamp=iso_date_to_timestamp(record.rec_headers.get_header("WARC-Date")),
                status=status, revisit=record.rec_type == "revisit", path=warc,
                offset=records.get_record_offset(),
                digest=_digest(record.rec_headers.get_header("WARC-Payload-Digest")),
                record_id=record.rec_headers.get_header("WARC-Record-ID"),
                mime=_media_type(record.http_headers.get_header("Content-Type")),
                name=name, base=base,
            ))
    return out


def captures_of(warc: Path, use_cdxj: bool = True, bad: BadIndexLines | None = None) -> list[Capture]:
    """Captures of one WARC file: from its .cdxj when that is at least as new, else by scan."""
    cdxj = cdxj_path(warc)
    if use_cdxj and cdxj.is_file() and cdxj.stat().st_mtime >= warc.stat().st_mtime:
        return captures_from_cdxj(cdxj, warc, bad)
    return captures_from_scan(warc)


@dataclass
class ArchivedResponse:
    """What an archived exchange says, ready to become a Scrapy Response."""

    status: int
    protocol: str
    headers: list[tuple[str, str]]  # archived order, connection headers included
    body: bytes  # chunked framing removed, content-coding kept
    truncated: bool
    ip_address: str | None
    location: RecordLocation  # of the record that answered (the item's `warc` pointer)
    date: str  # its WARC-Date: when the page was fetched (a backfill's: when the archive captured it)
    source_uri: str | None = None  # a backfill's WARC-Source-URI: the archive's `id_` URL (crawler/warc/archived.py)
    creation_date: str | None = None  # a backfill's WARC-Creation-Date: when it was fetched from the archive


class WarcArchive:
    """Index of the captures in a set of WARC files, and the reader of their records."""

    def __init__(self, captures: list[Capture], source: str = "", page_key: Callable[[str], str] | None = None):
        self.source = source
        self.files = sorted({c.path for c in captures})
        self._page_key = page_key
        self._by_url: dict[str, list[Capture]] = defaultdict(list)
        self._by_key: dict[str, list[Capture]] = defaultdict(list)
        self._by_page: dict[str, list[Capture]] = defaultdict(list)  # by page_key: the selectable captures only
        self._by_id: dict[str, Capture] = {}
        self._by_digest: dict[str, Capture] = {}
        for capture in captures:
            self._by_url[capture.url].append(capture)
            self._by_key[url_key(capture.url)].append(capture)
            if page_key is not None and (capture.revisit or 200 <= capture.status < 300):
                self._by_page[page_key(capture.url)].append(capture)
            if capture.record_id:
                self._by_id[capture.record_id] = capture
            if not capture.revisit and capture.digest and capture.status == 200:
                self._by_digest.setdefault(capture.digest, capture)
        self.size = len(captures)
        self.bad_index_lines = BadIndexLines()
        self.inputs = None  # crawler/warc/inputs.py's Inputs, when opened from paths
        self.unreadable: list[tuple[str, str]] = []  # (file, why) of the inputs that could not be read

    @classmethod
    def open(cls, path, use_cdxj: bool = True, tmp_dir: str | None = None,
             page_key: Callable[[str], str] | None = None) -> "WarcArchive":
        """Index every archive at PATH (a file, or a directory searched recursively; crawler/warc/inputs.py says
        what is read and how), with `page_key` for the lookup's last step (the module docstring); `bad_index_lines`
        says what was skipped. A file that cannot be read costs only
        itself: it is logged with its cause and listed in `unreadable`. NoInput (one line) when nothing at
        PATH can be read; call `close()` when done (a decompressed or converted copy is removed)."""
        inputs = open_inputs([path], tmp_dir)
        captures, bad, unreadable = [], BadIndexLines(), list(inputs.refused)
        for source in inputs.sources:
            try:
                if source.note or source.base or source.end < Path(source.path).stat().st_size:
                    found = captures_from_scan(Path(source.path), source.start, source.end, source.name,
                                               source.base)
                else:
                    found = captures_of(Path(source.path), use_cdxj, bad)
            except Exception as exc:  # the library's own error on a damaged file: that file only
                unreadable.append((source.origin, f"unreadable: {type(exc).__name__}: {str(exc).strip()[:200]}"))
                continue
            captures.extend(found)
        for origin, why in unreadable:
            logger.warning("Not read: %s: %s", origin, why)
        if inputs.extracts:
            logger.warning("Left out: %d WAT/WET files (%s)", len(inputs.extracts), EXTRACTS_ARE)
        if not captures and unreadable:
            inputs.close()
            raise NoInput(f"nothing to read at {path}: {'; '.join(f'{f}: {w}' for f, w in unreadable[:3])}; "
                          f"expected {EXPECTED}")
        archive = cls(captures, str(path), page_key)
        archive.inputs = inputs
        archive.unreadable = unreadable
        archive.bad_index_lines = bad
        if bad.count:
            logger.warning("CDXJ index lines skipped: %d (first: %s)", bad.count, bad.first)
        return archive

    def close(self) -> None:
        """Remove what reading the inputs put in a temporary directory."""
        if self.inputs is not None:
            self.inputs.close()

    # --- lookup --------------------------------------------------------------------
    def key_of(self, url: str) -> str:
        """What the captures of URL's page share: its page_key, else its canonical form (url_key)."""
        return self._page_key(url) if self._page_key is not None else url_key(url)

    def captures_for(self, url: str) -> list[Capture]:
        """The captures that answer a request for URL: under URL itself, else its canonical form; else, when none of
        those is an answer (none, or only errors: a 503 retried under another form of the URL), the page's
        selectable captures (page_key, the module docstring) when there are any; [] when nothing is archived."""
        found = self._by_url.get(url) or self._by_key.get(url_key(url)) or []
        if self._page_key is not None and not any(c.revisit or c.status < 400 for c in found):
            found = self._by_page.get(self._page_key(url)) or found
        return found

    def lookup(self, url: str) -> Capture | None:
        """The capture that answers a request for URL (see response_for), or None."""
        best = self._best(url)
        return best[0] if best is not None else None

    def original_of(self, revisit: Capture, refers_to: str | None) -> Capture | None:
        """The full response holding the payload of an identical-payload-digest revisit:
        the record it names (WARC-Refers-To), else any full response with the same digest
        (same digest, same content-coded bytes)."""
        found = self._by_id.get(refers_to) if refers_to else None
        if found is not None and not found.revisit:
            return found
        return self._by_digest.get(revisit.digest) if revisit.digest else None

    def latest_full(self, url: str) -> Capture | None:
        """The latest full 200 response of URL (what a server-not-modified revisit confirms)."""
        full = [c for c in self._by_url.get(url, ()) if not c.revisit and c.status == 200]
        return max(full, key=Capture.rank) if full else None

    def html_pages(self) -> dict[str, Capture]:
        """{key_of: best capture} of every archived page whose best capture answers with a 2xx HTML page (a revisit
        counts by the full response it resolves to): the pages a rebuild can make items from."""
        out = {}
        pages: dict[str, list[Capture]] = defaultdict(list)
        for url, captures in self._by_url.items():
            pages[self.key_of(url)].extend(captures)
        for key, candidates in pages.items():
            best = max(candidates, key=Capture.rank)
            answer = best
            if best.revisit:
                answer = self.original_of(best, None) or self.latest_full(best.url)
            if answer is not None and 200 <= answer.status < 300 and answer.mime in HTML_TYPES:
                out[key] = best
        return out

    # --- reading ---------------------------------------------------------------------
    def response_for(self, url: str) -> ArchivedResponse | None:
        """The archived answer to a request for URL, or None when the URL is not archived."""
        best = self._best(url)
        return best[1] if best is not None else None

    def _best(self, url: str) -> tuple[Capture, ArchivedResponse] | None:
        """The best of URL's captures (captures_for) and its answer: the latest whole one that is not a server error,
        as `scrapy reprocess` selects (a revisit is as whole as its original); the latest cut short one only when
        none is whole (its answer flagged truncated); the latest server error only when there is nothing else.
        Whether a capture is whole takes reading it, so the captures are read latest first until one is."""
        ranked = sorted(self.captures_for(url), key=Capture.rank, reverse=True)
        if not ranked:
            return None
        first = None
        for capture in ranked:
            if (capture.status < 500) != (ranked[0].status < 500):
                break  # a whole server error never wins over a capture of the page, cut short or not
            answer = self._answer(capture, url)
            if not answer.truncated:
                return capture, answer
            first = first or (capture, answer)
        return first

    def _answer(self, capture: Capture, url: str) -> ArchivedResponse:
        """What one capture answers (a revisit: with its original's payload)."""
        rec, http, body, truncated = read_capture(capture)
        if capture.revisit:
            if "server-not-modified" in (rec.get_header("WARC-Profile") or ""):
                # the 304 confirmed an earlier capture: answer with that capture
                original = self.latest_full(target_uri(rec.get_header("WARC-Refers-To-Target-URI")) or capture.url)
                if original is not None:
                    _, http, body, truncated = read_capture(original)
            else:
                original = self.original_of(capture, rec.get_header("WARC-Refers-To"))
                if original is not None:
                    _, _, body, truncated = read_capture(original)
            if original is None:
                logger.warning("Revisit record %s of %s: the original capture is not in the archive",
                               rec.get_header("WARC-Record-ID"), url)
        return ArchivedResponse(
            status=int(http.get_statuscode()),
            protocol=http.protocol or "HTTP/1.1",
            headers=list(http.headers),
            body=body,
            truncated=truncated,
            ip_address=rec.get_header("WARC-IP-Address"),
            location=RecordLocation(capture.name or capture.path.name, rec.get_header("WARC-Record-ID"),
                                    capture.offset - capture.base, 0),
            date=rec.get_header("WARC-Date"),
            source_uri=rec.get_header("WARC-Source-URI"),
            creation_date=rec.get_header("WARC-Creation-Date"),
        )


def read_capture(capture: Capture):
    """(WARC headers, HTTP headers, entity body, truncated) of the record at a capture's offset.
    The body has any chunked transfer-coding removed and keeps its content-coding; a revisit
    record's body is empty (its block holds HTTP headers only)."""
    with open(capture.path, "rb") as fh:
        fh.seek(capture.offset)
        record = _parse_http(next(iter(ArchiveIterator(fh))))
        truncated = bool(record.rec_headers.get_header("WARC-Truncated"))
        if capture.revisit:
            return record.rec_headers, record.http_headers, b"", truncated
        raw = record.raw_stream.read()
        # judged by its bytes too, as `scrapy reprocess` judges it: warcprox stores a cut-off transfer as an
        # ordinary 200 under its full Content-Length, with no WARC-Truncated
        if not truncated and record.http_headers is not None:
            truncated = cut_short(record.http_headers.to_bytes() + raw) is not None
        return record.rec_headers, record.http_headers, _entity_body(record, raw), truncated


def _parse_http(record):
    """The record, its HTTP headers parsed where warcio left them unparsed: warcio parses them only under a target URI
    that starts with `http:` or `https:` as written, not under `HTTPS://...` (scheme and host are case-insensitive,
    crawler/warc/uris.py)."""
    if record.http_headers is None and record.rec_type in ("response", "revisit") and record.length:
        uri = target_uri(record.rec_headers.get_header("WARC-Target-URI"))
        if uri.startswith(("http:", "https:")):
            record.http_headers = ArcWarcRecordLoader().load_http_headers(record.rec_type, uri, record.raw_stream,
                                                                          record.length)
    return record


def _entity_body(record, body: bytes) -> bytes:
    """A response record's payload (`body`, as stored) with its transfer-codings removed, content-coding kept."""
    headers = record.http_headers.headers if record.http_headers else []
    codings = transfer_codings(value for name, value in headers if name.lower() == "transfer-encoding")
    return remove_transfer_codings(body, codings) if codings else body
