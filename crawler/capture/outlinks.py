"""Spider middleware that completes each page's WARC metadata record with the outlinks the spider found.

The WARC recorder leaves the capture of every parsed page in request.meta (a PageCapture,
crawler/capture/page.py); this middleware collects the URLs of the requests the callback yields
and hands them to the capture service (crawler/capture/service.py), which writes the metadata
record, once the callback is done (or has failed). A callback that does not
request every link it found (spiders/network.py skips those it requested before) lists them
all in response.meta["_outlinks"]; that list is the record's outlinks then. It also extends
the hop path ("L" per link hop) that the records carry.
"""

from __future__ import annotations

import scrapy
from scrapy.exceptions import NotConfigured

from crawler import keys
from crawler.capture.addon import WarcCapture
from crawler.components import addon_of


class CaptureMetadataMiddleware:
    def __init__(self, service):
        self.service = service

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("WARC_METADATA"):
            raise NotConfigured
        return cls(addon_of(crawler, WarcCapture).service)

    def _write(self, response, outlinks):
        capture = response.meta.get(keys.META_CAPTURE)
        listed = response.meta.pop(keys.META_OUTLINKS, None)
        if capture is not None:
            self.service.write_metadata(capture, outlinks if listed is None else listed)

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
