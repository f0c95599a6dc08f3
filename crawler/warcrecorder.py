"""Downloader middleware that writes every HTTP exchange to WARC: a request and a response record each.

It sits closest to the network (DOWNLOADER_MIDDLEWARES 950), so it sees each exchange as
the download handler produced it: before retries, redirects and decompression; 3xx, 4xx
and 5xx included; body still content-coded. When the download handler captured the exact
bytes (crawler.rawcapture puts a RawExchange in request.meta["raw_exchange"]) those bytes
are stored; otherwise the HTTP messages are rebuilt from Scrapy's objects and the records
say so (X-Capture-Method: reconstructed). Responses served from Scrapy's HTTP cache are not
archived again. The response record's location goes to request.meta["warc_record"] for the
item's `warc` field: a pointer dict, or, when the records are written by the WARC writer process
(WARC_WRITER_PROCESS, crawler/warcwriter.py), a PendingRecord the extraction stage resolves.
"""

from __future__ import annotations

import json
import logging
import platform
import socket
import threading
import time
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.python import to_bytes

from crawler import __version__
from crawler.childproc import helper_setting
from crawler.digestindex import ArchivedPayload, DigestIndex
from crawler.warcfiles import RecordLocation, WarcFileWriter, new_record_id, sha1_digest, warc_date, write_cdxj
from crawler.warcwriter import WarcWriterProcess, default_enabled

logger = logging.getLogger(__name__)

META_RECORD = "warc_record"  # request.meta key: pointer to the response record
META_RAW = "raw_exchange"  # request.meta key set by crawler.rawcapture
META_CAPTURE = "_warc_capture"  # request.meta key: capture facts awaiting outlinks (CaptureMetadataMiddleware)

PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _header_lines(headers) -> bytes:
    out = []
    for name, values in headers.items():
        for value in values:
            out.append(to_bytes(name) + b": " + to_bytes(value))
    return b"".join(line + b"\r\n" for line in out)


def _description(spidercls) -> str:
    """warcinfo description: what the crawl starts from (the site profile's home page and feed)."""
    profile = getattr(spidercls, "profile", None)
    if profile is None:
        return f"Crawl by spider {spidercls.name}"
    return f"Crawl of {profile.home_url} and {profile.feed_url} (spider {spidercls.name})"


def reconstruct_request(request: scrapy.Request) -> bytes:
    """HTTP/1.1 request message rebuilt from a Scrapy Request (Host first, then its headers)."""
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rsplit("@", 1)[-1]
    head = f"{request.method} {target} HTTP/1.1\r\nHost: {host}\r\n".encode("latin-1")
    head += _header_lines(request.headers)
    if request.body and b"Content-Length" not in request.headers:
        head += f"Content-Length: {len(request.body)}\r\n".encode()
    return head + b"\r\n" + request.body


def reconstruct_response(response: scrapy.http.Response) -> tuple[bytes, bytes]:
    """(head, body) of an HTTP/1.1 response rebuilt from a Scrapy Response. Twisted hands
    Scrapy no connection headers, so Content-Length is restated for the body received."""
    protocol = getattr(response, "protocol", None) or "HTTP/1.1"
    if not protocol.startswith("HTTP/1"):
        protocol = "HTTP/1.1"  # an HTTP/2 exchange is stored in HTTP/1.1 form
    head = f"{protocol} {response.status} {_reason(response.status)}\r\n".encode("latin-1")
    head += _header_lines(response.headers)
    head += f"Content-Length: {len(response.body)}\r\n\r\n".encode()
    return head, response.body


class WarcRecorderMiddleware:
    """Archive each exchange the downloader makes; see the module docstring."""

    def __init__(self, writer: WarcFileWriter, stats=None, entity_body=None,
                 digests: DigestIndex | None = None, metadata: bool = True):
        self.writer = writer
        self.stats = stats
        # function(RawExchange) -> entity body without transfer-coding (crawler.rawcapture)
        self.entity_body = entity_body
        # payload digests already archived (None: never write revisits)
        self.digests = digests
        # metadata record per capture and a JSON record per exported item
        self.metadata = metadata
        self._closing = False
        self._indexers: list[threading.Thread] = []  # CDXJ indexing of files closed mid-crawl
        # payloads handed to the writer process and not yet written: digest -> original
        self._unwritten: dict[str, ArchivedPayload] = {}

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("WARC_ENABLED", True):
            raise NotConfigured
        spider_name = crawler.spidercls.name
        options = dict(
            max_size=s.getint("WARC_MAX_SIZE", 1_000_000_000),
            compress_level=s.getint("WARC_COMPRESS_LEVEL", 6),
            warcinfo=cls.warcinfo_fields(crawler),
            on_close=None,
        )
        directory, prefix = s.get("WARC_DIR") or "output/warc", s.get("WARC_PREFIX") or spider_name
        if helper_setting(s, "WARC_WRITER_PROCESS", s.getbool, default_enabled):
            lock = getattr(crawler, "warc_dir_lock", None)  # held by the writer process too
            writer = WarcWriterProcess(directory, prefix, **options, stats=crawler.stats,
                                       lock_fd=lock.fileno() if lock is not None else None)
        else:
            writer = WarcFileWriter(directory, prefix, **options)
        try:
            from crawler.rawcapture import entity_body
        except ImportError:  # raw capture not available: reconstructed records only
            entity_body = None
        digests = None
        if s.getbool("WARC_REVISITS", True):
            digests = DigestIndex(s.get("WARC_DIGEST_INDEX") or writer.directory / "digest-index.sqlite")
        o = cls(writer, crawler.stats, entity_body, digests, s.getbool("WARC_METADATA", True))
        writer.on_close = o._file_closed
        crawler.warc_recorder = o  # CaptureMetadataMiddleware finds the recorder here
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        if o.metadata:
            crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        return o

    @staticmethod
    def warcinfo_fields(crawler) -> dict:
        s = crawler.settings
        robots = "obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore"
        return {
            "software": f"spacewar-archiver/{__version__} (Scrapy/{scrapy.__version__}; "
                        f"Python/{platform.python_version()})",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "isPartOf": crawler.spidercls.name,
            "description": _description(crawler.spidercls),
            "hostname": socket.gethostname(),
            "operator": s.get("WARC_OPERATOR") or "",
            "http-header-user-agent": s.get("USER_AGENT") or "",
            "robots": robots,
            "crawl-settings": (
                f"CONCURRENT_REQUESTS={s.getint('CONCURRENT_REQUESTS')}; "
                f"CONCURRENT_REQUESTS_PER_DOMAIN={s.getint('CONCURRENT_REQUESTS_PER_DOMAIN')}; "
                f"DOWNLOAD_DELAY={s.getfloat('DOWNLOAD_DELAY')}; "
                f"AUTOTHROTTLE_ENABLED={s.getbool('AUTOTHROTTLE_ENABLED')}; "
                f"DEPTH_LIMIT={s.getint('DEPTH_LIMIT')}; "
                f"CLOSESPIDER_PAGECOUNT={s.getint('CLOSESPIDER_PAGECOUNT')}; "
                f"Accept-Encoding={s.getdict('DEFAULT_REQUEST_HEADERS').get('Accept-Encoding', '')}"
            ),
        }

    # --- signals -----------------------------------------------------------------
    def _file_closed(self, path: Path, indexed: bool = False) -> None:
        if self.stats:
            self.stats.inc_value("warc/files_closed")
            files = self.stats.get_value("warc/files") or []
            self.stats.set_value("warc/files", files + [path.name])
        if indexed:
            return  # the WARC writer process indexed it
        if self._closing:
            write_cdxj(path)
        else:
            # a roll-over mid-crawl: index the closed file beside the crawl, not in the reactor
            thread = threading.Thread(target=write_cdxj, args=(path,), name=f"cdxj-{path.name}")
            thread.start()
            self._indexers.append(thread)

    def spider_closed(self, spider, reason):
        self.close()

    def engine_stopped(self):
        self.close()

    def close(self):
        self._closing = True
        self.writer.close()
        for thread in self._indexers:  # every .cdxj is complete when the crawl ends
            thread.join()
        self._indexers.clear()
        if self.digests is not None:
            self.digests.close()

    def item_scraped(self, item, response=None, spider=None):
        """Archive the exported item as JSON, pointing at the response it came from."""
        data = dict(item)
        pointer = data.get("warc") or {}
        if not pointer.get("record_id"):
            return  # not made from an archived response (e.g. a rebuild): nothing to refer to
        headers = [("WARC-Type", "metadata"), ("WARC-Record-ID", new_record_id()),
                   ("WARC-Date", warc_date()), ("WARC-Target-URI", item_record_uri(data.get("url") or "")),
                   ("Content-Type", "application/json"), ("X-Record-Kind", "item")]
        headers.append(("WARC-Refers-To", pointer["record_id"]))
        block = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        try:
            self.writer.write_record(headers, block)
        except OSError as exc:  # disk trouble: the disk guard stops the crawl; say it once here
            logger.error("Could not archive the item record of %s: %s", data.get("url"), exc)
            self._inc("warc/records/item_failed")
            return
        self._inc("warc/records/item")

    # --- downloader middleware -----------------------------------------------------
    def process_request(self, request, spider=None):
        request.meta.setdefault("_warc_started", time.time())
        return None

    def process_response(self, request, response, spider=None):
        raw = request.meta.pop(META_RAW, None)
        started = request.meta.pop("_warc_started", None)
        if not request.url.startswith(("http://", "https://")):
            return response  # file:, data: (fixtures, contracts): not an HTTP exchange
        if "cached" in response.flags or "from_warc" in response.flags:
            self._inc("warc/skipped/cached")
            return response
        when = datetime.fromtimestamp(started or time.time(), timezone.utc)
        location = self.record_exchange(request, response, raw, when)
        request.meta[META_RECORD] = location.pointer() if isinstance(location, RecordLocation) else location
        parsed_by_spider = request.callback is not NO_CALLBACK  # robots.txt goes to its middleware
        if parsed_by_spider and response.status < 400:
            self._inc("warc/pages_archived")  # what the crawl's exit status counts (crawler/reporting/outcome.py)
        if self.metadata:
            capture = {
                "record_id": location.record_id,
                "uri": request.url,
                "hop_path": request.meta.get("hop_path", "") + "R" * len(request.meta.get("redirect_urls", [])),
                "via": request.headers.get("Referer", b"").decode("latin-1"),
                "fetch_duration": round(time.time() - started, 6) if started else None,
                "status": response.status,
            }
            # 2xx responses of spider requests all reach the spider (decoded only later, so no
            # test on the response class here); others never do: their record is written now
            if parsed_by_spider and 200 <= response.status < 300:
                request.meta[META_CAPTURE] = capture  # written once the spider found its outlinks
            else:
                location_header = response.headers.get("Location")
                outlinks = [response.urljoin(location_header.decode("latin-1"))] if location_header else []
                self.write_capture_metadata(capture, outlinks)
        return response

    def process_exception(self, request, exception, spider=None):
        raw = request.meta.pop(META_RAW, None)
        started = request.meta.pop("_warc_started", None)
        self._inc(f"warc/exchange_failed/{type(exception).__name__}")
        if raw is not None and raw.response_bytes:
            when = datetime.fromtimestamp(started or time.time(), timezone.utc)
            self.record_exchange(request, None, raw, when)
        return None

    # --- records -------------------------------------------------------------------
    def record_exchange(self, request, response, raw, when: datetime):
        """Write the request record and the response (or revisit) record of one exchange;
        return the location of the response/revisit record."""
        date = warc_date(when)
        uri = request.url
        request_id, response_id = new_record_id(), new_record_id()
        ip = getattr(response, "ip_address", None) if response is not None else None
        truncated = None
        if raw is not None:
            method = "raw"
            request_block = raw.request_bytes
            head = raw.response_bytes[:raw.header_length]
            response_block = raw.response_bytes
            payload = self.entity_body(raw) if self.entity_body else raw.response_bytes[raw.header_length:]
            truncated = raw.truncated
            self._inc("warc/capture/raw")
        else:
            method = "reconstructed"
            request_block = reconstruct_request(request)
            head, payload = reconstruct_response(response)
            response_block = head + payload
            self._inc("warc/capture/reconstructed")
        if truncated is None and response is not None and "dataloss" in response.flags:
            truncated = "disconnect"
        status = response.status if response is not None else None
        digest = sha1_digest(payload)

        common = [("WARC-Date", date), ("WARC-Target-URI", uri)]
        if ip is not None:
            common.append(("WARC-IP-Address", str(ip)))
        record_type, extra = "response", []
        original = None
        if status == 304 and (b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers):
            record_type = "revisit"
            extra = [("WARC-Profile", PROFILE_NOT_MODIFIED), ("WARC-Refers-To-Target-URI", uri)]
            self._inc("warc/revisits/server-not-modified")
        elif self.digests is not None and status == 200 and payload and not truncated:
            original = self._unwritten.get(digest) or self.digests.get(digest)
            if original is not None:
                record_type = "revisit"
                response_block = head  # HTTP headers only; the payload is in the original record
                extra = [("WARC-Profile", PROFILE_IDENTICAL),
                         ("WARC-Refers-To", original.record_id),
                         ("WARC-Refers-To-Target-URI", original.uri),
                         ("WARC-Refers-To-Date", original.date)]
                self._inc("warc/revisits/identical-payload-digest")
        # The payload digest covers the entity body with the chunked transfer-coding removed and
        # the content-coding kept (WARC 1.1). warcio (check, and the tools built on it) digests the
        # stored bytes after the HTTP headers instead, chunk framing included, so for a response
        # stored with its chunked framing the two disagree: there the digest goes into our own
        # header and WARC-Payload-Digest is left out, keeping the record byte-exact and valid.
        if record_type == "response" and raw is not None and raw.chunked:
            digest_header = ("X-Entity-Payload-Digest", digest)
            self._inc("warc/chunked_payload_digest")
        else:
            digest_header = ("WARC-Payload-Digest", digest)
        resp_headers = [("WARC-Type", record_type), ("WARC-Record-ID", response_id), *common,
                        ("WARC-Concurrent-To", request_id),
                        ("Content-Type", "application/http;msgtype=response"),
                        digest_header, *extra,
                        ("X-Capture-Method", method)]
        if truncated:
            resp_headers.append(("WARC-Truncated", truncated))
            self._inc("warc/truncated")
        req_headers = [("WARC-Type", "request"), ("WARC-Record-ID", request_id), *common,
                       ("WARC-Concurrent-To", response_id),
                       ("Content-Type", "application/http;msgtype=request"),
                       ("X-Capture-Method", method)]
        self.writer.write_record(req_headers, request_block)
        location = self.writer.write_record(resp_headers, response_block)
        if record_type == "response" and self.digests is not None and status == 200 and payload and not truncated:
            if isinstance(location, RecordLocation):
                self.digests.add(ArchivedPayload(digest, uri, date, response_id, location.filename, location.offset))
            else:  # written by the writer process: indexed once it is on disk
                self._unwritten[digest] = ArchivedPayload(digest, uri, date, response_id, "", -1)
                location.future.add_done_callback(lambda future, d=digest: self._written(d, future))
        self._inc("warc/records/request")
        self._inc(f"warc/records/{record_type}")
        self._inc("warc/bytes_archived", len(request_block) + len(response_block))
        return location

    def _written(self, digest: str, future) -> None:
        original = self._unwritten.pop(digest, None)
        if original is None or future.cancelled() or future.exception() is not None or self.digests is None:
            return
        location = future.result()
        self.digests.add(ArchivedPayload(digest, original.uri, original.date, original.record_id,
                                         location.filename, location.offset))

    def barrier(self):
        """A future resolved once every record handed to the writer so far is written, or None
        when they all are (always None when writing in-process)."""
        barrier = getattr(self.writer, "barrier", None)
        return barrier() if barrier is not None else None

    def drain(self) -> None:
        """Wait until the writer process has written every record handed to it so far."""
        drain = getattr(self.writer, "drain", None)
        if drain is not None:
            drain()

    def write_capture_metadata(self, capture: dict, outlinks: list[str]) -> None:
        """One metadata record per capture (WARC-Concurrent-To its response): hop path, via,
        fetch duration and outlinks, in WARC's application/warc-fields form."""
        fields = [("hopsFromSeed", capture.get("hop_path") or ""),
                  ("via", capture.get("via") or ""),
                  ("fetchTimeMs", "" if capture.get("fetch_duration") is None
                   else str(int(capture["fetch_duration"] * 1000))),
                  ("status", str(capture.get("status", "")))]
        fields += [("outlink", link) for link in outlinks]
        block = "".join(f"{k}: {v}\r\n" for k, v in fields).encode("utf-8")
        self.writer.write_record([
            ("WARC-Type", "metadata"), ("WARC-Record-ID", new_record_id()), ("WARC-Date", warc_date()),
            ("WARC-Target-URI", capture["uri"]), ("WARC-Concurrent-To", capture["record_id"]),
            ("Content-Type", "application/warc-fields"),
        ], block)
        self._inc("warc/records/metadata")

    def _inc(self, key, count=1):
        if self.stats:
            self.stats.inc_value(key, count)


def item_record_uri(url: str) -> str:
    """The item record's own URI (metadata://host/path, as Heritrix names its metadata), so replay
    tools that index every record by URI never serve the item JSON in place of the page."""
    return "metadata://" + url.split("://", 1)[-1] if url else "metadata://item"
