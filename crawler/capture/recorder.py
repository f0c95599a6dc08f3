"""Downloader middleware that writes every HTTP exchange to WARC: a request and a response record each.

It sits closest to the network (DOWNLOADER_MIDDLEWARES 950), so it sees each exchange as
the download handler produced it: before retries, redirects and decompression; 3xx, 4xx
and 5xx included; body still content-coded. When the download handler captured the exact
bytes (crawler/capture/handler.py puts a RawExchange in request.meta["raw_exchange"]) those
bytes are stored; otherwise the HTTP messages are rebuilt from Scrapy's objects and the records
say so (X-Capture-Method: reconstructed, crawler/capture/reconstruct.py). Responses served from
Scrapy's HTTP cache or from an archive being replayed are not archived again.

A payload already archived (the same digest, in this crawl or an earlier one writing to the same
WARC_DIR: crawler/warc/digests.py) is stored as an identical-payload-digest revisit; a 304 to a
conditional request as a server-not-modified revisit with no block, naming the response its
validators came from (`original_for`, which the revalidation middleware asks first), so that
replay tools show the page and not an empty 304 (docs/replay.md, "Revisits that replay"). A
response stored with its chunked framing is never an original. The names of the earlier files
those originals are in (`referenced_files`) and the URLs confirmed by a 304 (`revalidated`) are
what the WACZ of the crawl needs (crawler/offline/wacz.py). Page requisites (request.meta
"requisite") are archived like pages but never reach the spider as pages. The record headers are spelled by
crawler/warc/records.py and written by the WARC writer (crawler/workers/warcwriter.py: in a
process of its own, or in this one). The response record goes to request.meta["warc_record"]
as a PendingRecord for the item's `warc` field.

Each parsed page also gets a capture metadata record (its outlinks, written once the spider has
found them: crawler/capture/outlinks.py), and each exported item a JSON record referring to its
response. A failed write (the writer's free-space guard, or the disk) sends the
warc_write_failed signal once (crawler/capture/signals.py).

With WARC_PREFIX_BY_SITE (the network job, spiders/sites.py) each site's records go to files of
their own, named for the site (`spacedaily-...warc.gz`, `spacedaily-w1-...` for worker w1; with
an operator's WARC_PREFIX, `<prefix>-spacedaily-...`), each opening with a warcinfo record that
describes that site; records of no site of the crawl (another host's robots.txt or images) stay
in the crawl's own series. A record's site is its request's (request.meta["site"]) or that of
its URL's host.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK

from crawler import keys
from crawler.capture.reconstruct import reconstruct_request, reconstruct_response
from crawler.capture.signals import warc_write_failed
from crawler.capture.warcinfo import warcinfo_fields
from crawler.warc import records
from crawler.warc.cdxj import write_cdxj
from crawler.warc.digests import ArchivedPayload, DigestIndex, ValidatedCapture, sha1_digest
from crawler.warc.http import entity_body
from crawler.warc.location import PendingRecord
from crawler.warc.files import safe_name_part
from crawler.workers.link import helper_setting
from crawler.workers.warcwriter import WarcWriterProcess, default_enabled

logger = logging.getLogger(__name__)


def _header(headers, name: str) -> str | None:
    value = headers.get(name) if headers is not None else None
    return value.decode("latin-1") if value else None


class WarcRecorderMiddleware:
    """Archive each exchange the downloader makes; see the module docstring."""

    def __init__(self, writer: WarcWriterProcess, stats=None, digests: DigestIndex | None = None,
                 metadata: bool = True, signals_=None):
        self.writer = writer
        self.stats = stats
        # payload digests already archived (None: never write revisits)
        self.digests = digests
        # metadata record per capture and a JSON record per exported item
        self.metadata = metadata
        self.signals = signals_
        self.failed: OSError | None = None
        #: response records of pages handed to the writer and not yet on disk (counted once written)
        self._pages_unwritten: set[PendingRecord] = set()
        self._closing = False
        self._indexers: list[threading.Thread] = []  # CDXJ indexing of files closed mid-crawl
        # payloads handed to the writer process and not yet written: digest -> original
        self._unwritten: dict[str, ArchivedPayload] = {}
        # names of the WARC files (in WARC_DIR) of earlier crawls holding originals this crawl's
        # revisits refer to: a WACZ of this crawl must carry them (crawler/offline/wacz.py)
        self.referenced_files: set[str] = set()
        # URLs answered 304 and archived as revisits of a known original: url -> (revisit WARC-Date,
        # the original)
        self.revalidated: dict[str, tuple[str, ArchivedPayload]] = {}
        writer.on_close = self._file_closed
        writer.on_error = self._write_failed
        self.site_prefixes: dict[str, str] = {}  # site name -> its file prefix (WARC_PREFIX_BY_SITE)
        self._site_of_url = None  # url -> site name, or None

    def series_of(self, url: str, site: str | None = None) -> str | None:
        """The file prefix of a record about `url` (of `site` when known); None: the crawl's own."""
        if not self.site_prefixes:
            return None
        if site is None and self._site_of_url is not None:
            site = self._site_of_url(url)
        return self.site_prefixes.get(site) if site else None

    @staticmethod
    def site_series(crawler, base: str) -> dict:
        """Site name -> (file prefix, SiteProfile) for the sites the spider crawls."""
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

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        from crawler.capture.recovery import WarcRecovery

        recovery = crawler.get_extension(WarcRecovery)  # its WARC_DIR lock is held by the writer process too
        base = s.get("WARC_PREFIX") or crawler.spidercls.name
        series = cls.site_series(crawler, base) if s.getbool("WARC_PREFIX_BY_SITE") else {}
        writer = WarcWriterProcess(
            s.get("WARC_DIR"), base,
            max_size=s.getint("WARC_MAX_SIZE"), compress_level=s.getint("WARC_COMPRESS_LEVEL"),
            min_free_bytes=s.getint("WARC_MIN_FREE_BYTES"), warcinfo=warcinfo_fields(crawler),
            warcinfos={prefix: warcinfo_fields(crawler, profile) for prefix, profile in series.values()},
            use_process=helper_setting(s, "WARC_WRITER_PROCESS", s.getbool, default_enabled),
            lock_fd=recovery.lock.fileno() if recovery is not None else None, stats=crawler.stats)
        digests = None
        if s.getbool("WARC_REVISITS"):
            digests = DigestIndex(s.get("WARC_DIGEST_INDEX") or writer.directory / "digest-index.sqlite")
        o = cls(writer, crawler.stats, digests, s.getbool("WARC_METADATA"), crawler.signals)
        if series:
            o.site_prefixes = {name: prefix for name, (prefix, _) in series.items()}
            site_set = crawler.spider.site_set
            o._site_of_url = lambda url: (site.profile.name if (site := site_set.site_of(url)) else None)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        if o.metadata:
            crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        return o

    # --- files and failures -----------------------------------------------------------------
    def _file_closed(self, path: Path, indexed: bool = False) -> None:
        if self.stats:
            self.stats.inc_value(keys.STAT_FILES_CLOSED)
            files = self.stats.get_value(keys.STAT_FILES) or []
            self.stats.set_value(keys.STAT_FILES, files + [path.name])
        if indexed:
            return  # the WARC writer process indexed it
        if self._closing:
            write_cdxj(path)
        else:
            # a roll-over mid-crawl: index the closed file beside the crawl, not in the reactor
            thread = threading.Thread(target=write_cdxj, args=(path,), name=f"cdxj-{path.name}")
            thread.start()
            self._indexers.append(thread)

    def _write_failed(self, exc: OSError) -> None:
        """The writer could not write a record (called once): say so to whoever must react."""
        self.failed = exc
        path = self.writer.current_path
        if self.stats:
            self.stats.set_value(keys.STAT_WRITE_FAILED, str(exc))
            self.stats.set_value(keys.STAT_WRITE_FAILED_FILE, str(path) if path else None)
        if self.signals is not None:
            self.signals.send_catch_log(signal=warc_write_failed, exc=exc, path=path)

    def spider_closed(self, spider, reason):
        self.close()

    def engine_stopped(self):
        self.close()

    def close(self):
        self._closing = True
        self.writer.close()
        for record in [r for r in self._pages_unwritten if r.done()]:  # written by the close's drain
            self._page_written(record)
        for thread in self._indexers:  # every .cdxj is complete when the crawl ends
            thread.join()
        self._indexers.clear()
        if self.digests is not None:
            self.digests.close()

    def barrier(self):
        """A future resolved once every record handed to the writer so far is written, or None
        when they all are (the crash-safety journal waits for it)."""
        return self.writer.barrier()

    def drain(self) -> None:
        """Wait until every record handed to the writer so far is written."""
        self.writer.drain()

    # --- items ------------------------------------------------------------------------------
    def item_scraped(self, item, response=None, spider=None):
        """Archive the exported item as JSON, pointing at the response it came from."""
        data = dict(item)
        pointer = data.get("warc") or {}
        if not pointer.get("record_id"):
            return  # not made from an archived response: nothing to refer to
        headers, block = records.item_record(data, pointer["record_id"])
        written = self.writer.write_record(headers, block, self.series_of(data.get("url") or "", data.get("site")))
        if written.done() and self._error_of(written) is not None:
            logger.error("Could not archive the item record of %s: %s", data.get("url"), self._error_of(written))
            self._inc(keys.STAT_ITEM_RECORD_FAILED)
            return
        self._inc(keys.STAT_RECORDS.format(kind="item"))

    @staticmethod
    def _error_of(record: PendingRecord):
        try:
            record.location()
        except BaseException as exc:  # noqa: BLE001 - what the write raised
            return exc
        return None

    # --- downloader middleware -----------------------------------------------------
    def process_request(self, request, spider=None):
        request.meta.setdefault(keys.META_FETCH_STARTED, time.time())
        return None

    def process_response(self, request, response, spider=None):
        raw = request.meta.pop(keys.META_RAW_EXCHANGE, None)
        started = request.meta.pop(keys.META_FETCH_STARTED, None)
        if not request.url.startswith(("http://", "https://")):
            return response  # file:, data: (fixtures, contracts): not an HTTP exchange
        if "cached" in response.flags or "from_warc" in response.flags:
            self._inc(keys.STAT_SKIPPED_CACHED)
            return response
        when = datetime.fromtimestamp(started or time.time(), timezone.utc)
        record = self.record_exchange(request, response, raw, when)
        request.meta[keys.META_WARC_RECORD] = record
        # robots.txt goes to its middleware, a page requisite is only archived
        parsed_by_spider = request.callback is not NO_CALLBACK and not request.meta.get(keys.META_REQUISITE)
        if parsed_by_spider and response.status < 400:
            self._count_page_when_written(record)  # what the exit status counts (crawler/reporting/outcome.py)
        if self.metadata:
            redirects = len(request.meta.get("redirect_urls", []))
            capture = {
                "record_id": record.record_id,
                "uri": request.url,
                "hop_path": request.meta.get(keys.META_HOP_PATH, "") + "R" * redirects,
                "via": request.headers.get("Referer", b"").decode("latin-1"),
                "fetch_duration": round(time.time() - started, 6) if started else None,
                "status": response.status,
                "series": self.series_of(request.url, request.meta.get(keys.META_SITE)),
            }
            if response.status == 304:  # its block is left empty: the 304's head is kept here
                capture["response_head"] = raw.head if raw is not None else reconstruct_response(response)[0]
            # 2xx responses of spider requests all reach the spider (decoded only later, so no
            # test on the response class here); others never do: their record is written now
            if parsed_by_spider and 200 <= response.status < 300:
                request.meta[keys.META_CAPTURE] = capture  # written once the spider found its outlinks
            else:
                location_header = response.headers.get("Location")
                outlinks = [response.urljoin(location_header.decode("latin-1"))] if location_header else []
                self.write_capture_metadata(capture, outlinks)
        return response

    def process_exception(self, request, exception, spider=None):
        raw = request.meta.pop(keys.META_RAW_EXCHANGE, None)
        started = request.meta.pop(keys.META_FETCH_STARTED, None)
        if isinstance(exception, IgnoreRequest) and raw is None:
            return None  # refused before any exchange (robots.txt, the address policy): nothing to archive
        self._inc(keys.STAT_EXCHANGE_FAILED.format(exception=type(exception).__name__))
        if raw is not None and raw.response_bytes:
            when = datetime.fromtimestamp(started or time.time(), timezone.utc)
            if raw.unparseable:
                self.record_unparseable(request, raw, when)
            else:
                self.record_exchange(request, None, raw, when)
        return None

    def record_unparseable(self, request, raw, when: datetime) -> None:
        """The request record, and the bytes received as a `resource` record saying why they are not
        an HTTP response (they are not a truncated one: the parser rejected them)."""
        date = records.warc_date(when)
        request_id, resource_id = records.new_record_id(), records.new_record_id()
        request_headers, _ = records.exchange_headers(
            request_id=request_id, response_id=resource_id, date=date, uri=request.url, ip=None,
            record_type="resource", digest="", digest_in_extension=False, method="raw")
        series = self.series_of(request.url, request.meta.get(keys.META_SITE))
        self.writer.write_record(request_headers, raw.request_bytes, series)
        self.writer.write_record(records.unparseable_response(
            record_id=resource_id, request_id=request_id, date=date, uri=request.url, ip=None,
            reason=raw.unparseable), raw.interim_bytes + raw.response_bytes, series)
        self._inc(keys.STAT_RECORDS.format(kind="request"))
        self._inc(keys.STAT_RECORDS.format(kind="resource"))
        self._inc(keys.STAT_UNPARSEABLE)
        logger.warning("Unparseable response from %s (%s): its bytes are archived as a resource record",
                       request.url, raw.unparseable)

    # --- records -------------------------------------------------------------------
    def record_exchange(self, request, response, raw, when: datetime) -> PendingRecord:
        """Write the request record and the response (or revisit) record of one exchange;
        return the response/revisit record."""
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

        chunked_framing = raw is not None and raw.chunked
        record_type, revisit = "response", []
        if status == 304 and (b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers):
            record_type = "revisit"
            original, _why = self.original_for(uri, _header(request.headers, "If-None-Match"),
                                               _header(request.headers, "If-Modified-Since"))
            if original is not None:
                # WARC 1.1 6.7.3: no block (Content-Length 0), the original named, its payload digest:
                # replay takes the original's HTTP headers and payload instead of an empty 304 (the
                # 304's own head goes into the capture metadata record)
                revisit = records.not_modified(original.record_id, original.uri, original.date)
                digest = original.digest
                response_block = b""
                self._refer(original)
                self.revalidated[uri] = (date, original)
            else:
                revisit, digest = records.not_modified(), None  # the 304 as received, nothing to refer to
                self._inc(keys.STAT_NOT_MODIFIED_UNRESOLVED)
            self._inc(keys.STAT_REVISITS.format(profile="server-not-modified"))
        elif self.digests is not None and status == 200 and payload and not truncated:
            original = self._unwritten.get(digest) or self.digests.get(digest)
            if original is not None:
                record_type = "revisit"
                response_block = head  # HTTP headers only; the payload is in the original record
                revisit = records.identical_payload(original.record_id, original.uri, original.date)
                self._refer(original)
                self._inc(keys.STAT_REVISITS.format(profile="identical-payload-digest"))
        chunked = record_type == "response" and chunked_framing
        if chunked:
            self._inc(keys.STAT_CHUNKED_DIGEST)
        req_headers, resp_headers = records.exchange_headers(
            request_id=request_id, response_id=response_id, date=date, uri=uri,
            ip=str(ip) if ip is not None else None, record_type=record_type, digest=digest,
            digest_in_extension=chunked, revisit=revisit, truncated=truncated, method=method)
        if truncated:
            self._inc(keys.STAT_TRUNCATED)
        series = self.series_of(request.url, request.meta.get(keys.META_SITE))
        self.writer.write_record(req_headers, request_block, series)
        record = self.writer.write_record(resp_headers, response_block, series)
        if self.digests is not None and status == 200 and payload and not truncated:
            if record_type == "response" and not chunked:
                # an original for later revisits; never one stored chunked (no WARC-Payload-Digest a
                # replay tool can match: crawler/warc/digests.py)
                self._index_when_written(ArchivedPayload(digest, uri, date, response_id, "", -1), record)
            etag, last_modified = _header(response.headers, "ETag"), _header(response.headers, "Last-Modified")
            if etag or last_modified:
                self._when_written(record, lambda: self.digests.add_validated(ValidatedCapture(
                    uri, etag or "", last_modified or "", digest, date, chunked)))
        if request.meta.get(keys.META_REQUISITE) and status is not None:
            self._inc(keys.STAT_REQUISITES_STATUS.format(status=status))
        self._inc(keys.STAT_RECORDS.format(kind="request"))
        self._inc(keys.STAT_RECORDS.format(kind=record_type))
        self._inc(keys.STAT_BYTES_ARCHIVED, len(request_block) + len(response_block))
        return record

    # --- revisit originals ----------------------------------------------------------
    def original_for(self, uri: str, etag: str | None, last_modified: str | None):
        """(the record a 304 to a request for `uri` sending these validators would refer to, or None;
        why not: "not_archived" or "chunked").

        The original is the record holding the payload of the URL's newest capture that carried those
        validators (crawler/warc/digests.py): that capture itself, or the first record of its payload.
        A capture stored chunked has no payload digest replay tools can match, so unless the same
        payload is held whole elsewhere a revisit could not be resolved: "chunked"."""
        if self.digests is None:
            return None, "not_archived"
        capture = self.digests.validated(uri, etag, last_modified)
        if capture is None:
            return None, "not_archived"
        original = self._unwritten.get(capture.digest) or self.digests.get(capture.digest)
        if original is None:
            return None, "chunked" if capture.chunked else "not_archived"
        return original, None

    def _refer(self, original: ArchivedPayload) -> None:
        """A revisit of this crawl refers to `original`: remember its file (the WACZ carries it)."""
        if original.filename:
            self.referenced_files.add(original.filename)

    def _when_written(self, record: PendingRecord, action) -> None:
        """Run `action()` once `record` is on disk (never when its write failed)."""
        def run(_future=None):
            if self._error_of(record) is None:
                action()
        if record.done():
            run()
        else:
            record.future.add_done_callback(run)

    def _count_page_when_written(self, record: PendingRecord) -> None:
        """Count a page as archived once its response record is on disk (never when its write failed)."""
        if record.done():
            self._page_written(record)
            return
        self._pages_unwritten.add(record)
        record.future.add_done_callback(lambda _future: self._page_written(record))

    def _page_written(self, record: PendingRecord) -> None:
        self._pages_unwritten.discard(record)
        if self._error_of(record) is None:
            self._inc(keys.STAT_PAGES_ARCHIVED)

    def _index_when_written(self, payload: ArchivedPayload, record: PendingRecord) -> None:
        """Put a payload in the digest index once its record is on disk (later ones revisit it)."""
        if record.done():
            self._indexed(payload, record)
            return
        self._unwritten[payload.digest] = payload
        record.future.add_done_callback(lambda _future: self._indexed(payload, record))

    def _indexed(self, payload: ArchivedPayload, record: PendingRecord) -> None:
        self._unwritten.pop(payload.digest, None)
        if self.digests is None or self._error_of(record) is not None:
            return
        location = record.location()
        self.digests.add(ArchivedPayload(payload.digest, payload.uri, payload.date, payload.record_id,
                                         location.filename, location.offset))

    def write_capture_metadata(self, capture: dict, outlinks: list[str]) -> None:
        """One metadata record per capture (WARC-Concurrent-To its response)."""
        headers, block = records.capture_metadata(
            response_id=capture["record_id"], uri=capture["uri"], hop_path=capture.get("hop_path") or "",
            via=capture.get("via") or "", fetch_seconds=capture.get("fetch_duration"),
            status=capture.get("status"), outlinks=outlinks, response_head=capture.get("response_head"))
        self.writer.write_record(headers, block, capture.get("series"))
        self._inc(keys.STAT_RECORDS.format(kind="metadata"))

    def _inc(self, key, count=1):
        if self.stats:
            self.stats.inc_value(key, count)
