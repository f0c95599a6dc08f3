"""Downloader middleware that writes every HTTP exchange to WARC: a request and a response record each.

It sits closest to the network (DOWNLOADER_MIDDLEWARES 950), so it sees each exchange as
the download handler produced it: before retries, redirects and decompression; 3xx, 4xx
and 5xx included; body still content-coded. When the download handler captured the exact
bytes (crawler.rawcapture puts a RawExchange in request.meta["raw_exchange"]) those bytes
are stored; otherwise the HTTP messages are rebuilt from Scrapy's objects and the records
say so (X-Capture-Method: reconstructed). Responses served from Scrapy's HTTP cache are not
archived again. The response record's location goes to request.meta["warc_record"] for the
item's `warc` field.
"""

from __future__ import annotations

import logging
import platform
import socket
import time
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.python import to_bytes

from crawler import __version__
from crawler.warcfiles import WarcFileWriter, new_record_id, sha1_digest, warc_date

logger = logging.getLogger(__name__)

META_RECORD = "warc_record"  # request.meta key: pointer to the response record
META_RAW = "raw_exchange"  # request.meta key set by crawler.rawcapture


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

    def __init__(self, writer: WarcFileWriter, stats=None, entity_body=None):
        self.writer = writer
        self.stats = stats
        # function(RawExchange) -> entity body without transfer-coding (crawler.rawcapture)
        self.entity_body = entity_body

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("WARC_ENABLED", True):
            raise NotConfigured
        spider_name = crawler.spidercls.name
        writer = WarcFileWriter(
            s.get("WARC_DIR") or "output/warc",
            s.get("WARC_PREFIX") or spider_name,
            max_size=s.getint("WARC_MAX_SIZE", 1_000_000_000),
            warcinfo=cls.warcinfo_fields(crawler),
            on_close=None,
        )
        try:
            from crawler.rawcapture import entity_body
        except ImportError:  # raw capture not available: reconstructed records only
            entity_body = None
        o = cls(writer, crawler.stats, entity_body)
        writer.on_close = o._file_closed
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
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
            "description": f"Crawl of {getattr(crawler.spidercls, 'start_urls_hint', '') or crawler.spidercls.name}",
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
    def _file_closed(self, path: Path) -> None:
        if self.stats:
            self.stats.inc_value("warc/files_closed")
            files = self.stats.get_value("warc/files") or []
            self.stats.set_value("warc/files", files + [path.name])
        write_cdxj(path)

    def spider_closed(self, spider, reason):
        self.writer.close()

    def engine_stopped(self):
        self.writer.close()

    # --- downloader middleware -----------------------------------------------------
    def process_request(self, request, spider=None):
        request.meta.setdefault("_warc_started", time.time())
        return None

    def process_response(self, request, response, spider=None):
        raw = request.meta.pop(META_RAW, None)
        started = request.meta.pop("_warc_started", None)
        if "cached" in response.flags or "from_warc" in response.flags:
            self._inc("warc/skipped/cached")
            return response
        when = datetime.fromtimestamp(started or time.time(), timezone.utc)
        location = self.record_exchange(request, response, raw, when)
        request.meta[META_RECORD] = location.pointer()
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
        """Write the request and response records of one exchange; return the response's location."""
        date = warc_date(when)
        uri = request.url
        request_id, response_id = new_record_id(), new_record_id()
        ip = getattr(response, "ip_address", None) if response is not None else None
        truncated = None
        if raw is not None:
            method = "raw"
            request_block = raw.request_bytes
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
        common = [("WARC-Date", date), ("WARC-Target-URI", uri)]
        if ip is not None:
            common.append(("WARC-IP-Address", str(ip)))
        resp_headers = [("WARC-Type", "response"), ("WARC-Record-ID", response_id), *common,
                        ("WARC-Concurrent-To", request_id),
                        ("Content-Type", "application/http;msgtype=response"),
                        ("WARC-Payload-Digest", sha1_digest(payload)),
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
        self._inc("warc/records/request")
        self._inc("warc/records/response")
        self._inc("warc/bytes_archived", len(request_block) + len(response_block))
        return location

    def _inc(self, key, count=1):
        if self.stats:
            self.stats.inc_value(key, count)


def write_cdxj(warc_path: Path) -> Path | None:
    """Write <file>.cdxj (sorted CDXJ index, cdxj-indexer) beside a closed WARC file."""
    try:
        from cdxj_indexer.main import write_cdx_index
    except ImportError:  # pragma: no cover - cdxj-indexer is a declared dependency
        return None
    out = warc_path.with_name(warc_path.name + ".cdxj")
    try:
        write_cdx_index(str(out), [str(warc_path)], {"sort": True})
    except Exception:  # an index is derived data: never lose the crawl over it
        logger.exception("CDXJ indexing failed for %s", warc_path)
        return None
    return out
