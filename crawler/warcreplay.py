"""Download handler that answers every HTTP(S) request from WARC files instead of the network.

`scrapy crawl spacewar -a from_warc=PATH` (PATH: a WARC file or a directory of them) sets
FROM_WARC and installs WarcReplayDownloadHandler for http and https (spiders/network.py),
so the same callbacks and pipelines run over archived responses: an extraction fix can be
applied to years of archives without fetching anything.

At start an index maps each archived URL to its captures (from the `.cdxj` file beside a
WARC file when it is up to date, else by scanning the file with warcio). A request gets the
best capture of its URL: the latest one that is not a 5xx, else the latest. The response is
rebuilt from the archived record as the live download handler would have produced it:
status, headers in their archived order (connection headers such as Transfer-Encoding and
Content-Length dropped, as Twisted does), body with chunked framing removed but still
content-coded, so HttpCompressionMiddleware decodes it as live and RedirectMiddleware
follows archived 3xx records. Revisit records are answered with their own HTTP headers and
the payload of the record they refer to (WARC-Refers-To, else the payload digest, else the
latest full capture of the URL). A record marked WARC-Truncated comes back flagged
"dataloss", as the live crawl saw it.

Every response is flagged "from_warc" (the WARC recorder does not archive it again) and
request.meta["warc_record"] points at the archived record, so items keep the `warc`
pointer of the original crawl. A URL that is not archived gets a 404 flagged "from_warc"
and "not_archived". Nothing here opens a network connection.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.timeutils import iso_date_to_timestamp

logger = logging.getLogger(__name__)

META_RECORD = "warc_record"  # request.meta key: pointer to the archived response record
FLAG = "from_warc"
FLAG_MISSING = "not_archived"

WARC_SUFFIXES = (".warc.gz", ".warc")

# Hop-by-hop and framing headers: Twisted keeps these out of a live Response's headers.
CONNECTION_HEADERS = frozenset({
    b"connection", b"content-length", b"keep-alive", b"proxy-connection",
    b"te", b"trailer", b"trailers", b"transfer-encoding", b"upgrade",
})


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

    def rank(self) -> tuple:
        """Sort key of the best capture: not a server error, then latest, then last written."""
        return (self.status < 500, self.timestamp, self.path.name, self.offset)


def warc_files(path) -> list[Path]:
    """The WARC files at PATH: the file itself, or the WARC files directly inside a directory."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(WARC_SUFFIXES))
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"from_warc: no WARC file or directory at {path}")


def _digest(value: str | None) -> str | None:
    """Payload digest in one spelling ("sha1:BASE32"): CDXJ lines drop the "sha1:" prefix."""
    if not value:
        return None
    return value if ":" in value else f"sha1:{value}"


def url_key(url: str) -> str:
    """Secondary lookup key that tolerates query order and percent-encoding differences."""
    return canonicalize_url(url, keep_fragments=False)


def captures_from_cdxj(cdxj: Path, warc: Path) -> list[Capture]:
    """Response and revisit captures listed in a CDXJ index of one WARC file. Lines without a
    status are metadata or resource records, which replay must not answer with."""
    out = []
    with open(cdxj, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) < 3:
                continue
            fields = json.loads(parts[2])
            if not fields.get("status") or "url" not in fields:
                continue
            out.append(Capture(
                url=fields["url"], timestamp=parts[1], status=int(fields["status"]),
                revisit=fields.get("mime") == "warc/revisit", path=warc,
                offset=int(fields["offset"]), digest=_digest(fields.get("digest")),
            ))
    return out


def captures_from_scan(warc: Path) -> list[Capture]:
    """Response and revisit captures of one WARC file, read record by record."""
    out = []
    with open(warc, "rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            if record.rec_type not in ("response", "revisit") or not record.http_headers:
                continue
            url = record.rec_headers.get_header("WARC-Target-URI") or ""
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
            ))
    return out


def captures_of(warc: Path, use_cdxj: bool = True) -> list[Capture]:
    """Captures of one WARC file: from its .cdxj when that is at least as new, else by scan."""
    cdxj = warc.with_name(warc.name + ".cdxj")
    if use_cdxj and cdxj.is_file() and cdxj.stat().st_mtime >= warc.stat().st_mtime:
        try:
            return captures_from_cdxj(cdxj, warc)
        except (ValueError, KeyError):
            logger.warning("Unreadable CDXJ index %s; scanning the WARC file instead", cdxj)
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
    pointer: dict  # {"filename", "record_id", "offset"} of the record that answered


class WarcArchive:
    """Index of the captures in a set of WARC files, and the reader of their records."""

    def __init__(self, captures: list[Capture], source: str = ""):
        self.source = source
        self.files = sorted({c.path for c in captures})
        self._by_url: dict[str, list[Capture]] = defaultdict(list)
        self._by_key: dict[str, list[Capture]] = defaultdict(list)
        self._by_id: dict[str, Capture] = {}
        self._by_digest: dict[str, Capture] = {}
        for capture in captures:
            self._by_url[capture.url].append(capture)
            self._by_key[url_key(capture.url)].append(capture)
            if capture.record_id:
                self._by_id[capture.record_id] = capture
            if not capture.revisit and capture.digest and capture.status == 200:
                self._by_digest.setdefault(capture.digest, capture)
        self.size = len(captures)

    @classmethod
    def open(cls, path, use_cdxj: bool = True) -> "WarcArchive":
        """Index every WARC file at PATH (a file or a directory)."""
        files = warc_files(path)
        if not files:
            raise FileNotFoundError(f"from_warc: no WARC files (*.warc.gz, *.warc) in {path}")
        captures = []
        for warc in files:
            captures.extend(captures_of(warc, use_cdxj))
        return cls(captures, str(path))

    # --- lookup --------------------------------------------------------------------
    def lookup(self, url: str) -> Capture | None:
        """The best capture of URL (exact URL first, then its canonical form), or None."""
        candidates = self._by_url.get(url) or self._by_key.get(url_key(url))
        return max(candidates, key=Capture.rank) if candidates else None

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

    # --- reading ---------------------------------------------------------------------
    def response_for(self, url: str) -> ArchivedResponse | None:
        """The archived answer to a request for URL, or None when the URL is not archived."""
        capture = self.lookup(url)
        if capture is None:
            return None
        rec, http, body, truncated = read_capture(capture)
        if capture.revisit:
            if "server-not-modified" in (rec.get_header("WARC-Profile") or ""):
                # the 304 confirmed an earlier capture: answer with that capture
                original = self.latest_full(rec.get_header("WARC-Refers-To-Target-URI") or capture.url)
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
            pointer={"filename": capture.path.name, "record_id": rec.get_header("WARC-Record-ID"),
                     "offset": capture.offset},
        )


def read_capture(capture: Capture):
    """(WARC headers, HTTP headers, entity body, truncated) of the record at a capture's offset.
    The body has any chunked transfer-coding removed and keeps its content-coding; a revisit
    record's body is empty (its block holds HTTP headers only)."""
    with open(capture.path, "rb") as fh:
        fh.seek(capture.offset)
        record = next(iter(ArchiveIterator(fh)))
        body = b"" if capture.revisit else _entity_body(record)
        truncated = bool(record.rec_headers.get_header("WARC-Truncated"))
        return record.rec_headers, record.http_headers, body, truncated


def _entity_body(record) -> bytes:
    """A response record's payload with any chunked transfer-coding removed, content-coding kept."""
    stream = record.raw_stream
    if (record.http_headers.get_header("Transfer-Encoding") or "").lower() == "chunked":
        stream = ChunkedDataReader(stream)  # no decomp_type: gzip stays gzip
    try:
        return stream.read()
    except Exception:  # noqa: BLE001 - a damaged chunked body: replay what the raw bytes hold
        logger.warning("Damaged chunked body of %s", record.rec_headers.get_header("WARC-Target-URI"))
        return b""


def build_response(request, archived: ArchivedResponse | None) -> Response:
    """The Scrapy Response for a request, as the live HTTP/1.1 handler would have built it."""
    if archived is None:
        return Response(request.url, status=404, flags=[FLAG, FLAG_MISSING], request=request)
    grouped: dict[str, list[str]] = {}
    for name, value in archived.headers:
        if name.lower().encode("latin-1") in CONNECTION_HEADERS:
            continue
        grouped.setdefault(name, []).append(value)
    headers = Headers({name: [v.encode("latin-1", "replace") for v in values]
                       for name, values in grouped.items()})
    flags = [FLAG] + (["dataloss"] if archived.truncated else [])
    ip = None
    if archived.ip_address:
        try:
            ip = ipaddress.ip_address(archived.ip_address)
        except ValueError:
            ip = None
    respcls = responsetypes.from_args(headers=headers, url=request.url, body=archived.body)
    return respcls(url=request.url, status=archived.status, headers=headers, body=archived.body,
                   flags=flags, request=request, ip_address=ip, protocol=archived.protocol)


class WarcReplayDownloadHandler:
    """Download handler for http and https that reads the archive at FROM_WARC (see module doc)."""

    lazy = False  # index the archive when the crawl starts, not on the first request

    def __init__(self, archive: WarcArchive, stats=None):
        self.archive = archive
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("FROM_WARC")
        if not path:
            raise NotConfigured("FROM_WARC is not set")
        # http and https get a handler each; they share one index
        archive = getattr(crawler, "warc_replay_archive", None)
        if archive is None or archive.source != str(path):
            archive = WarcArchive.open(path, crawler.settings.getbool("FROM_WARC_USE_CDXJ", True))
            crawler.warc_replay_archive = archive
            logger.info("Replaying from %s: %d captures in %d WARC files", path, archive.size, len(archive.files))
            if crawler.stats:
                crawler.stats.set_value("warcreplay/files", len(archive.files))
                crawler.stats.set_value("warcreplay/captures", archive.size)
        return cls(archive, crawler.stats)

    async def download_request(self, request) -> Response:
        archived = self.archive.response_for(request.url)
        response = build_response(request, archived)
        if archived is None:
            self._inc("warcreplay/missing")
            logger.debug("Not in the archive: %s", request.url)
            request.meta.pop(META_RECORD, None)  # no pointer left over from a redirect hop
        else:
            request.meta[META_RECORD] = archived.pointer
            self._inc("warcreplay/responses")
            if request.callback is not NO_CALLBACK and archived.status < 400:
                self._inc("warcreplay/pages")  # what the crawl's exit status counts (crawler/reporting/outcome.py)
            self._inc(f"warcreplay/status/{archived.status}")
        return response

    async def close(self) -> None:
        pass

    def _inc(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(key)
