"""Extraction stage: the page's HTML becomes the article's raw parts (crawler.extraction), or the item is dropped.

Counts "articles/extraction/site-rules" and "articles/extraction/fallback", drops non-articles
with "articles/dropped/<reason>", and watches the share of fallbacks: more than
FALLBACK_WARN_RATIO of the pages (once FALLBACK_WARN_MIN_PAGES were seen) is logged as a WARNING,
once when it happens and again at close with the final share ("articles/extraction/fallback_ratio").
A rising share means the site's layout changed and the site rules need updating.

With EXTRACT_WORKERS > 0 (the default is 1 where the crawl may use more than one CPU) the page goes to a worker process
(crawler/pageworkers.py), which extracts it and cleans the raw parts in one go; the cleaning
stage then finds the cleaned fields ready in the raw parts. The counts, drops and warnings are
the same either way; EXTRACT_WORKERS=0 extracts in the crawl process.

With the WARC writer process (WARC_WRITER_PROCESS, crawler/warcwriter.py) the item's `warc`
field arrives as a PendingRecord: this stage waits until the response record is written and
puts its pointer in place, so no later stage sees an item whose record is not on disk. An item
whose record could not be written is dropped ("articles/dropped/warc_write_failed"; the disk
guard stops the crawl and a rerun fetches the page again).
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.childproc import helper_setting
from crawler.extraction import FALLBACK, SITE_RULES, NotAnArticle, extract
from crawler.pageworkers import PageWorkers, default_processes
from crawler.warcwriter import PendingRecord

logger = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(self, stats=None, warn_ratio: float = 0.2, warn_min_pages: int = 5,
                 workers: PageWorkers | None = None):
        self.stats = stats
        self.workers = workers  # None: extract in the reactor thread
        self.warn_ratio = warn_ratio
        self.warn_min_pages = warn_min_pages
        self.counts = {SITE_RULES: 0, FALLBACK: 0}
        self.warned = False

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        processes = helper_setting(s, "EXTRACT_WORKERS", s.getint, default_processes)
        workers = PageWorkers(processes, crawler.stats) if processes > 0 else None
        pipe = cls(crawler.stats, s.getfloat("FALLBACK_WARN_RATIO", 0.2), s.getint("FALLBACK_WARN_MIN_PAGES", 5),
                   workers)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self, spider=None):
        if self.workers is not None:
            self.workers.start()

    def close_spider(self, spider=None):
        if self.workers is not None:
            self.workers.close()

    @property
    def pages(self) -> int:
        return sum(self.counts.values())

    @property
    def fallback_ratio(self) -> float:
        return self.counts[FALLBACK] / self.pages if self.pages else 0.0

    def _too_many_fallbacks(self) -> bool:
        return self.pages >= self.warn_min_pages and self.fallback_ratio > self.warn_ratio

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        record = adapter.get("warc")
        if self.workers is not None or (isinstance(record, PendingRecord) and not record.done()):
            return self._process_async(item, adapter)
        if isinstance(record, PendingRecord):
            self._record_written(adapter, record)
        url = adapter.get("url")
        try:
            raw = extract(adapter.get("html") or "", url)
        except NotAnArticle as exc:
            self._refuse(exc, url)
        return self._accept(item, adapter, raw)

    async def _process_async(self, item, adapter):
        url = adapter.get("url")
        record = adapter.get("warc")
        if isinstance(record, PendingRecord):
            try:
                await record
            except OSError:
                pass  # raised again below, with the item's URL
            self._record_written(adapter, record)
        try:
            if self.workers is not None:
                raw = await self.workers.run(adapter.get("html") or "", url)
            else:
                raw = extract(adapter.get("html") or "", url)
        except NotAnArticle as exc:
            self._refuse(exc, url)
        return self._accept(item, adapter, raw)

    def _record_written(self, adapter, record: PendingRecord) -> None:
        """Put the written record's pointer in the item, or drop the item."""
        try:
            adapter["warc"] = record.location().pointer()
        except OSError as exc:
            if self.stats:
                self.stats.inc_value("articles/dropped/warc_write_failed")
            raise DropItem(f"its WARC record could not be written ({exc}): {adapter.get('url')}") from None

    def _refuse(self, exc: NotAnArticle, url):
        if self.stats:
            self.stats.inc_value(f"articles/dropped/{exc.reason}")
        raise DropItem(f"not an article ({exc.reason}): {url}") from None

    def _accept(self, item, adapter, raw: dict):
        url = adapter.get("url")
        adapter["raw"] = raw
        method = raw["extraction"]
        self.counts[method] += 1
        if self.stats:
            self.stats.inc_value(f"articles/extraction/{method}")
        if not self.warned and self._too_many_fallbacks():
            self.warned = True
            logger.warning(
                "%d of %d article pages (%.0f%%) needed the generic fallback extractor (warning above %.0f%%): "
                "the site's layout may have changed; last one: %s",
                self.counts[FALLBACK], self.pages, 100 * self.fallback_ratio, 100 * self.warn_ratio, url)
        return item

    def spider_closed(self, spider=None, reason=None):
        if not self.pages:
            return
        if self.stats:
            self.stats.set_value("articles/extraction/fallback_ratio", round(self.fallback_ratio, 4))
        if self._too_many_fallbacks():
            logger.warning(
                "Final share of fallback extractions: %d of %d article pages (%.0f%%, warning above %.0f%%)",
                self.counts[FALLBACK], self.pages, 100 * self.fallback_ratio, 100 * self.warn_ratio)
