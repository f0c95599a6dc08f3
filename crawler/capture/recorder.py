"""Downloader middleware that hands every HTTP exchange to the capture service, timed: the recorder.

It sits closest to the network (DOWNLOADER_MIDDLEWARES 950), so it sees each exchange as
the download handler produced it: before retries, redirects and decompression; 3xx, 4xx
and 5xx included; body still content-coded. It notes when a request entered it (the WARC-Date of
its records, and the fetch time its metadata record gives) and hands the exchange over: the exact
bytes when the download handler captured them (crawler/capture/handler.py puts a RawExchange in
request.meta["raw_exchange"]), else Scrapy's objects, from which the HTTP messages are rebuilt
(X-Capture-Method: reconstructed, crawler/capture/reconstruct.py). The capture service
(crawler/capture/service.py) builds and writes the records. Responses served from Scrapy's HTTP
cache or from an archive being replayed are not archived again.

A response the spider parses (a 2xx of a request with a callback, not a page requisite) goes on
with its PageCapture in request.meta["warc_capture"] (crawler/capture/page.py): its record's
pointer and date for the item, and its metadata record, written once the spider found its outlinks
(crawler/capture/outlinks.py). Any other response's metadata record is written at once (its outlink:
a redirect's Location). A response whose record could not be written (the disk guard is stopping
the crawl, crawler/capture/diskguard.py) does not reach the spider: no item is exported for a page
that is not archived, and the rerun fetches it again.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK

from crawler import keys
from crawler.capture.addon import WarcCapture
from crawler.components import addon_of


class WarcRecorderMiddleware:
    """Hand each exchange the downloader makes to the capture service; see the module docstring."""

    def __init__(self, service, stats=None):
        self.service = service
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(addon_of(crawler, WarcCapture).service, crawler.stats)

    def process_request(self, request, spider=None):
        request.meta.setdefault(keys.META_FETCH_STARTED, time.time())
        return None

    def process_response(self, request, response, spider=None):
        raw = request.meta.pop(keys.META_RAW_EXCHANGE, None)
        started = request.meta.pop(keys.META_FETCH_STARTED, None)
        request.meta.pop(keys.META_CAPTURE, None)  # none left over from an earlier hop
        if not request.url.startswith(("http://", "https://")):
            return response  # file:, data: (fixtures, contracts): not an HTTP exchange
        if "cached" in response.flags or "from_warc" in response.flags:
            self._inc(keys.STAT_SKIPPED_CACHED)
            return response
        when = datetime.fromtimestamp(started or time.time(), timezone.utc)
        location = self.service.capture_exchange(request, response, raw, when)
        # robots.txt goes to its middleware, a page requisite is only archived
        parsed_by_spider = request.callback is not NO_CALLBACK and not request.meta.get(keys.META_REQUISITE)
        if parsed_by_spider and response.status < 400:
            self._inc(keys.STAT_PAGES_ARCHIVED)  # what the exit status counts (crawler/reporting/outcome.py)
        if location is None:
            if parsed_by_spider:
                raise IgnoreRequest(f"its WARC record could not be written: {request.url}")
            return response
        capture = self.service.page_capture(request, response, raw, location, when, started)
        # 2xx responses of spider requests all reach the spider (decoded only later, so no test on the
        # response class here); others never do: their metadata record is written now
        if parsed_by_spider and 200 <= response.status < 300:
            request.meta[keys.META_CAPTURE] = capture  # its metadata record waits for the outlinks
        else:
            location_header = response.headers.get("Location")
            self.service.write_metadata(capture, [response.urljoin(location_header.decode("latin-1"))]
                                        if location_header else [])
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
                self.service.capture_unparseable(request, raw, when)
            else:
                self.service.capture_exchange(request, None, raw, when)
        return None

    def _inc(self, key, count=1):
        if self.stats:
            self.stats.inc_value(key, count)
