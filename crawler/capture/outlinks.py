"""Spider middleware that completes each page's WARC metadata record with the outlinks the spider found.

The WARC recorder leaves the capture facts of every parsed page in request.meta; this
middleware collects the URLs of the requests the callback yields and asks the recorder to
write the metadata record once the callback is done (or has failed). A callback that does not
request every link it found (spiders/network.py skips those it requested before) lists them
all in response.meta["_outlinks"]; that list is the record's outlinks then. It also extends
the hop path ("L" per link hop) that the records carry.
"""

from __future__ import annotations

import scrapy
from scrapy.exceptions import NotConfigured

from crawler import keys
from crawler.capture.recorder import WarcRecorderMiddleware


class CaptureMetadataMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self._recorder: WarcRecorderMiddleware | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("WARC_METADATA"):
            raise NotConfigured
        return cls(crawler)

    @property
    def recorder(self) -> WarcRecorderMiddleware | None:
        """The WARC recorder of this crawl (found by class once the engine is up)."""
        if self._recorder is None:
            self._recorder = self.crawler.get_downloader_middleware(WarcRecorderMiddleware)
        return self._recorder

    def _write(self, response, outlinks):
        capture = response.meta.pop(keys.META_CAPTURE, None)
        listed = response.meta.pop(keys.META_OUTLINKS, None)
        if capture is not None and self.recorder is not None:
            self.recorder.write_capture_metadata(capture, outlinks if listed is None else listed)

    @staticmethod
    def _note(entry, hop: str, outlinks: list) -> None:
        if isinstance(entry, scrapy.Request):
            entry.meta.setdefault(keys.META_HOP_PATH, hop + "L")
            outlinks.append(entry.url)

    async def process_spider_output_async(self, response, result, spider=None):
        outlinks, hop = [], response.meta.get(keys.META_HOP_PATH, "")
        async for entry in result:
            self._note(entry, hop, outlinks)
            yield entry
        self._write(response, outlinks)

    def process_spider_output(self, response, result, spider=None):
        outlinks, hop = [], response.meta.get(keys.META_HOP_PATH, "")
        for entry in result:
            self._note(entry, hop, outlinks)
            yield entry
        self._write(response, outlinks)

    def process_spider_exception(self, response, exception, spider=None):
        self._write(response, [])
        return None
