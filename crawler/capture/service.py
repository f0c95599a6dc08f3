"""The capture service: every WARC record of the crawl is built and written here, in one place.

The `WarcCapture` add-on owns one (`addon_of(crawler, WarcCapture).service`); the components that
archive ask it, never each other. It owns:
- the writer: rolling `.warc.gz` files behind the free-space guard (crawler/warc/files.py), one series
  per site with WARC_PREFIX_BY_SITE (see below), each file's CDXJ index made as its records are
  written and written beside it when it is closed (crawler/warc/cdxj.py, CdxjLines);
- the revisit policy and its digest index (crawler/capture/revisits.py);
- the records: request and response (or revisit, or `resource` for bytes no HTTP parser accepts) of
  each exchange (`capture_exchange`, `capture_unparseable`, called by the recorder,
  crawler/capture/recorder.py), the capture metadata record of each capture (`write_metadata`: at once
  for responses the spider never parses, else once the spider found the page's outlinks,
  crawler/capture/outlinks.py), and the JSON record of each exported item, referring to its response
  (`item_scraped`).

Records are written when they are built, in the crawl process: a record handed to the service is on
disk (written to the file, flushed) when the call returns, so nothing downstream waits for it. A
failed write (the free-space guard, or the disk) sends the warc_write_failed signal once
(crawler/capture/signals.py) and every later write fails too.

With WARC_PREFIX_BY_SITE (the network job, spiders/sites.py) each site's records go to files of
their own, named for the site (`spacedaily-...warc.gz`, `spacedaily-w1-...` for worker w1; with
an operator's WARC_PREFIX, `<prefix>-spacedaily-...`), each opening with a warcinfo record that
describes that site; records of no site of the crawl (another host's robots.txt or images) stay
in the crawl's own series. A record's site is its request's (request.meta["site"]) or that of
its URL's host.
"""

from __future__ import annotations

import logging
import time
import zlib
from datetime import datetime
from pathlib import Path

from scrapy import signals

from crawler import keys
from crawler.capture.page import PageCapture
from crawler.capture.reconstruct import reconstruct_request, reconstruct_response
from crawler.capture.revisits import EMPTY, HEAD, RevisitPolicy
from crawler.capture.signals import warc_write_failed
from crawler.capture.warcinfo import warcinfo_fields
from crawler.warc import archived, records
from crawler.warc.digests import DigestIndex, sha1_digest
from crawler.warc.files import WarcFileSet, safe_name_part
from crawler.warc.http import decode_content, entity_body
from crawler.warc.location import RecordLocation

logger = logging.getLogger(__name__)


def _header(headers, name: str) -> str | None:
    value = headers.get(name) if headers is not None else None
    return value.decode("latin-1") if value else None


def from_archive(request, response, raw) -> tuple[bytes, bytes] | None:
    """The response's head and body when it is an exchange of the backfill that the archive answered with a
    capture (`id_`) or a CDX listing (a 200), else None: its own refusals (429, 503, an error page) are
    archived as any exchange."""
    capture = request.meta.get(keys.META_WAYBACK_CAPTURE) is not None
    if not capture and (request.meta.get(keys.META_WAYBACK_LISTING) is None or response.status != 200):
        return None
    head, body = _head_and_body(response, raw)
    return (head, body) if not capture or archived.is_capture(head) else None


def _head_and_body(response, raw) -> tuple[bytes, bytes]:
    if raw is not None:
        return raw.head, raw.body
    return reconstruct_response(response)


def site_series(crawler, base: str) -> dict:
    """Site name -> (its file series: the prefix of its files, SiteProfile) for the sites the spider crawls."""
    sites = getattr(crawler.spider, "site_set", None)
    if sites is None:
        return {}
    spider = crawler.spidercls.name
    series = {}
    for profile in sites.profiles:
        if base == spider or base.startswith(spider + "-"):  # the spider's own name (and worker)
            prefix = profile.name + base[len(spider):]
        else:  # the operator's WARC_PREFIX
            prefix = f"{base}-{profile.name}"
        series[profile.name] = (safe_name_part(prefix, profile.name), profile)
    return series


class CaptureService:
    """See the module docstring."""

    def __init__(self, files: WarcFileSet, revisits: RevisitPolicy, *, stats=None, metadata: bool = True,
                 signals_=None, series: dict[str, str] | None = None, site_of_url=None):
        self.files = files
        self.revisits = revisits
        self.stats = stats
        # a metadata record per capture and a JSON record per exported item
        self.metadata = metadata
        self.signals = signals_
        self.failed: OSError | None = None
        self._closed = False
        self.series = dict(series or {})  # site name -> its file series (WARC_PREFIX_BY_SITE)
        self._site_of_url = site_of_url  # url -> site name, or None
        files.on_close = self._file_closed
        files.on_error = self._write_failed

    @classmethod
    def from_crawler(cls, crawler) -> "CaptureService":
        s = crawler.settings
        base = s.get("WARC_PREFIX") or crawler.spidercls.name
        series = site_series(crawler, base) if s.getbool("WARC_PREFIX_BY_SITE") else {}
        files = WarcFileSet(
            s.get("WARC_DIR"), base, max_size=s.getint("WARC_MAX_SIZE"),
            compress_level=s.getint("WARC_COMPRESS_LEVEL"), min_free_bytes=s.getint("WARC_MIN_FREE_BYTES"),
            warcinfo=warcinfo_fields(crawler), index=True,
            warcinfos={prefix: warcinfo_fields(crawler, profile) for prefix, profile in series.values()})
        digests = None
        if s.getbool("WARC_REVISITS"):
            digests = DigestIndex(s.get("WARC_DIGEST_INDEX") or files.directory / "digest-index.sqlite")
        site_of_url = None
        if series:
            site_set = crawler.spider.site_set
            site_of_url = lambda url: (site.profile.name if (site := site_set.site_of(url)) else None)  # noqa: E731
        o = cls(files, RevisitPolicy(digests), stats=crawler.stats, metadata=s.getbool("WARC_METADATA"),
                signals_=crawler.signals, series={name: prefix for name, (prefix, _) in series.items()},
                site_of_url=site_of_url)
        crawler.signals.connect(o.close, signal=signals.spider_closed)
        crawler.signals.connect(o.close, signal=signals.engine_stopped)
        if o.metadata:
            crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        return o

    # --- the file series ------------------------------------------------------------------------
    def series_of(self, url: str, site: str | None = None) -> str | None:
        """The file series of a record about `url` (of `site` when known); None: the crawl's own."""
        if not self.series:
            return None
        if site is None and self._site_of_url is not None:
            site = self._site_of_url(url)
        return self.series.get(site) if site else None

    def _write(self, headers, block: bytes, series: str | None) -> RecordLocation:
        """Write one record (raises OSError when it could not be: said once by _write_failed)."""
        return self.files.write_record(headers, block, series)

    def _file_closed(self, path: Path) -> None:
        self._inc(keys.STAT_FILES_CLOSED)
        if self.stats:
            files = self.stats.get_value(keys.STAT_FILES) or []
            self.stats.set_value(keys.STAT_FILES, files + [path.name])

    def _write_failed(self, exc: OSError) -> None:
        """The writer could not write a record (called once): say so to whoever must react."""
        self.failed = exc
        path = self.files.current_path
        if self.stats:
            self.stats.set_value(keys.STAT_WRITE_FAILED, str(exc))
            self.stats.set_value(keys.STAT_WRITE_FAILED_FILE, str(path) if path else None)
        if self.signals is not None:
            self.signals.send_catch_log(signal=warc_write_failed, exc=exc, path=path)

    def close(self, *args, **kwargs) -> None:
        """Close the files (each indexed) and the digest index; every .cdxj is complete on return."""
        if self._closed:
            return
        self._closed = True
        self.files.close()
        self.revisits.close()

    # --- exchanges ------------------------------------------------------------------------------
    def capture_exchange(self, request, response, raw, when: datetime) -> RecordLocation | None:
        """Write the request record and the response (or revisit) record of one exchange (`raw`: the
        exact bytes, else rebuilt from `response`; `response` None: a download that failed after bytes
        came); the response record's location, or None when it could not be written."""
        answer = from_archive(request, response, raw) if response is not None else None
        if answer is not None:
            return self.capture_archived(request, response, raw, when, *answer)
        date = records.warc_date(when)
        uri = request.url
        request_id, response_id = records.new_record_id(), records.new_record_id()
        ip = getattr(response, "ip_address", None) if response is not None else None
        truncated = None
        if raw is not None:
            method = "raw"
            request_block = raw.request_bytes
            head = raw.head
            response_block = raw.response_bytes
            payload = entity_body(head, raw.body)
            truncated = raw.truncated
        else:
            method = "reconstructed"
            request_block = reconstruct_request(request)
            head, payload = reconstruct_response(response)
            response_block = head + payload
        self._inc(keys.STAT_CAPTURE_METHOD.format(method=method))
        if truncated is None and response is not None and "dataloss" in response.flags:
            truncated = "disconnect"
        status = response.status if response is not None else None
        digest = sha1_digest(payload)

        sent = request.headers
        conditional = ((_header(sent, "If-None-Match"), _header(sent, "If-Modified-Since"))
                       if b"If-None-Match" in sent or b"If-Modified-Since" in sent else None)
        revisit = self.revisits.decide(uri=uri, date=date, status=status, conditional=conditional, digest=digest,
                                       has_payload=bool(payload), truncated=truncated)
        record_type = "response" if revisit is None else "revisit"
        if revisit is not None:
            digest = revisit.digest
            if revisit.block == EMPTY:
                response_block = b""
            elif revisit.block == HEAD:
                response_block = head  # HTTP headers only; the payload is in the original record
            if revisit.original is None:
                self._inc(keys.STAT_NOT_MODIFIED_UNRESOLVED)
            self._inc(keys.STAT_REVISITS.format(profile=revisit.profile))
        chunked = record_type == "response" and raw is not None and raw.chunked
        if chunked:
            self._inc(keys.STAT_CHUNKED_DIGEST)
        req_headers, resp_headers = records.exchange_headers(
            request_id=request_id, response_id=response_id, date=date, uri=uri,
            ip=str(ip) if ip is not None else None, record_type=record_type, digest=digest,
            digest_in_extension=chunked, revisit=revisit.headers if revisit is not None else [],
            truncated=truncated, method=method)
        if truncated:
            self._inc(keys.STAT_TRUNCATED)
        series = self.series_of(uri, request.meta.get(keys.META_SITE))
        location = None
        try:
            self._write(req_headers, request_block, series)
            location = self._write(resp_headers, response_block, series)
        except OSError:
            pass  # said once by _write_failed; the counts below are of what was captured, as before
        if location is not None and status == 200 and payload and not truncated:
            # an original for later revisits (never one stored chunked: no WARC-Payload-Digest a replay
            # tool can match, crawler/warc/digests.py), and what a 304 for its validators stands for
            self.revisits.archived(uri=uri, date=date, location=location, digest=digest,
                                   original=record_type == "response" and not chunked,
                                   validators=(_header(response.headers, "ETag"),
                                               _header(response.headers, "Last-Modified")),
                                   chunked=chunked)
        if request.meta.get(keys.META_REQUISITE) and status is not None:
            self._inc(keys.STAT_REQUISITES_STATUS.format(status=status))
        self._inc(keys.STAT_RECORDS.format(kind="request"))
        self._inc(keys.STAT_RECORDS.format(kind=record_type))
        self._inc(keys.STAT_BYTES_ARCHIVED, len(request_block) + len(response_block))
        return location

    def capture_archived(self, request, response, raw, when: datetime, head: bytes,
                         body: bytes) -> RecordLocation | None:
        """An exchange with a Wayback-style archive (the backfill, spiders/wayback.py): a capture fetched through
        `id_` as a response record under its original URL and capture time, a CDX listing answer as a resource
        record, and the exchange itself as a metadata record referring to it (crawler/warc/archived.py).
        `head`, `body`: the response's, as from_archive read them. The record's location, or None when it could not
        be written."""
        capture = request.meta.get(keys.META_WAYBACK_CAPTURE)
        truncated = (raw.truncated if raw is not None else None) or ("disconnect" if "dataloss" in response.flags
                                                                       else None)
        record_id = records.new_record_id()
        if capture is not None:
            kind = "response"
            payload = entity_body(head, body) if raw is not None else body
            headers = archived.capture_response(
                record_id=record_id, original=capture.original, captured=capture.captured_at,
                source_uri=request.url, fetched=when, payload_digest=sha1_digest(payload), truncated=truncated)
            block = archived.restored_head(head, len(payload)) + payload
            site_url = capture.original
        else:
            kind = "resource"
            block = entity_body(head, body) if raw is not None else body
            coding = [(k.decode("latin-1"), b", ".join(v).decode("latin-1")) for k, v in response.headers.items()]
            try:
                block = decode_content(block, coding)
            except (OSError, EOFError, zlib.error):  # cut off: kept as it came (the listing refuses it)
                pass
            headers = archived.listing_resource(record_id=record_id, uri=request.url, fetched=when)
            site_url = request.url
        request_head = raw.request_bytes if raw is not None else reconstruct_request(request)
        exchange = archived.archive_exchange(uri=request.url, refers_to=record_id, fetched=when,
                                             request_head=request_head.split(b"\r\n\r\n", 1)[0], response_head=head)
        series = self.series_of(site_url, request.meta.get(keys.META_SITE))
        location = None
        try:
            location = self._write(headers, block, series)
            self._write(*exchange, series)
        except OSError:
            pass  # said once by _write_failed
        if truncated:
            self._inc(keys.STAT_TRUNCATED)
        for name in (kind, "metadata"):
            self._inc(keys.STAT_WAYBACK_RECORDS.format(kind=name))
        self._inc(keys.STAT_RECORDS.format(kind=kind))
        self._inc(keys.STAT_RECORDS.format(kind="metadata"))
        self._inc(keys.STAT_BYTES_ARCHIVED, len(block) + len(exchange[1]))
        return location

    def capture_unparseable(self, request, raw, when: datetime) -> None:
        """The request record, and the bytes received as a `resource` record saying why they are not
        an HTTP response (they are not a truncated one: the parser rejected them)."""
        date = records.warc_date(when)
        request_id, resource_id = records.new_record_id(), records.new_record_id()
        request_headers, _ = records.exchange_headers(
            request_id=request_id, response_id=resource_id, date=date, uri=request.url, ip=None,
            record_type="resource", digest="", digest_in_extension=False, method="raw")
        series = self.series_of(request.url, request.meta.get(keys.META_SITE))
        try:
            self._write(request_headers, raw.request_bytes, series)
            self._write(records.unparseable_response(
                record_id=resource_id, request_id=request_id, date=date, uri=request.url, ip=None,
                reason=raw.unparseable), raw.interim_bytes + raw.response_bytes, series)
        except OSError:
            pass  # said once by _write_failed
        self._inc(keys.STAT_RECORDS.format(kind="request"))
        self._inc(keys.STAT_RECORDS.format(kind="resource"))
        self._inc(keys.STAT_UNPARSEABLE)
        logger.warning("Unparseable response from %s (%s): its bytes are archived as a resource record",
                       request.url, raw.unparseable)

    def page_capture(self, request, response, raw, location: RecordLocation, when: datetime,
                     started: float | None) -> PageCapture:
        """The capture of a response whose record is at `location`, with the facts of its metadata record
        (when WARC_METADATA is on) still to be written."""
        capture = PageCapture(location, records.warc_date(when))
        if self.metadata:
            redirects = len(request.meta.get("redirect_urls", []))
            capture.metadata = {
                "uri": request.url,
                "hop_path": request.meta.get(keys.META_HOP_PATH, "") + "R" * redirects,
                "via": request.headers.get("Referer", b"").decode("latin-1"),
                "fetch_seconds": round(time.time() - started, 6) if started else None,
                "status": response.status,
                "series": self.series_of(request.url, request.meta.get(keys.META_SITE)),
            }
            if response.status == 304:  # its block is left empty: the 304's head is kept here
                capture.metadata["response_head"] = raw.head if raw is not None else reconstruct_response(response)[0]
        return capture

    # --- metadata and item records --------------------------------------------------------------
    def write_metadata(self, capture: PageCapture, outlinks: list[str]) -> None:
        """The capture's metadata record (WARC-Concurrent-To its response), once: its outlinks now known."""
        facts, capture.metadata = capture.metadata, None
        if facts is None:
            return
        series = facts.pop("series", None)
        headers, block = records.capture_metadata(response_id=capture.location.record_id, outlinks=outlinks, **facts)
        try:
            self._write(headers, block, series)
        except OSError:
            return  # said once by _write_failed
        self._inc(keys.STAT_RECORDS.format(kind="metadata"))

    def item_scraped(self, item, response=None, spider=None):
        """Archive the exported item as JSON, pointing at the response it came from."""
        data = dict(item)
        pointer = data.get("warc") or {}
        if not pointer.get("record_id"):
            return  # not made from an archived response: nothing to refer to
        headers, block = records.item_record(data, pointer["record_id"])
        try:
            self._write(headers, block, self.series_of(data.get("url") or "", data.get("site")))
        except OSError as exc:
            logger.error("Could not archive the item record of %s: %s", data.get("url"), exc)
            self._inc(keys.STAT_ITEM_RECORD_FAILED)
            return
        self._inc(keys.STAT_RECORDS.format(kind="item"))

    def _inc(self, key, count=1):
        if self.stats:
            self.stats.inc_value(key, count)
