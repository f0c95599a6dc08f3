"""Extraction stage: the page's HTML becomes the cleaned article (crawler/extract/), or the item is dropped.

`article_from_page(html, url)` (crawler/extract/extractor.py) finds the article and cleans it in
one step; its fields go into the item and the page HTML leaves it. Non-articles are dropped with
"articles/dropped/<reason>". Counts "articles/extraction/site-rules" and "articles/extraction/fallback",
and watches the share of fallbacks: more than FALLBACK_WARN_RATIO of the pages (once
FALLBACK_WARN_MIN_PAGES were seen) is logged as a WARNING, once when it happens and again at close
with the final share ("articles/extraction/fallback_ratio"). A rising share means the site's
layout changed and the site rules need updating.

Any other exception is a bug in the extraction: it is logged at ERROR with its traceback, counted
("articles/errors/<exception>"), the item is dropped and the crawl goes on. It is never counted
as "not an article".

With EXTRACT_WORKERS > 0 (the default is 1 where the crawl may use more than one CPU) the page is
extracted in a worker process (crawler/workers/extraction.py); the results, counts and drops are
the same; EXTRACT_WORKERS=0 extracts in the crawl process.
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.extract.article import FALLBACK, SITE_RULES, Article, NotAnArticle
from crawler.extract.extractor import article_from_page
from crawler.workers.extraction import PageWorkers, default_processes
from crawler.workers.link import helper_setting

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
        pipe = cls(crawler.stats, s.getfloat("FALLBACK_WARN_RATIO"), s.getint("FALLBACK_WARN_MIN_PAGES"), workers)
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
        html, url = adapter.get("html") or "", adapter.get("url")
        if self.workers is None:
            try:
                article = article_from_page(html, url)
            except Exception as exc:  # NotAnArticle or a bug: _refuse says which
                self._refuse(exc, url)
            return self._accept(item, adapter, article)
        return self._in_worker(item, adapter, html, url)

    async def _in_worker(self, item, adapter, html: str, url: str):
        try:
            article = await self.workers.run(html, url)
        except Exception as exc:  # NotAnArticle or a bug, as in-process
            self._refuse(exc, url)
        return self._accept(item, adapter, article)

    def _refuse(self, exc: Exception, url):
        """Drop the item: counted as its NotAnArticle reason, or logged and counted as a bug."""
        if isinstance(exc, NotAnArticle):
            if self.stats:
                self.stats.inc_value(keys.STAT_DROPPED.format(reason=exc.reason))
            raise DropItem(f"not an article ({exc.reason}): {url}") from None
        name = type(exc).__name__
        if self.stats:
            self.stats.inc_value(keys.STAT_EXTRACTION_ERRORS.format(exception=name))
        logger.error("Extraction failed on %s with %s (a bug, not the page's fault): %s", url, name, exc,
                     exc_info=exc)
        raise DropItem(f"extraction error ({name}): {url}") from exc

    def _accept(self, item, adapter, article: Article):
        url = adapter.get("url")
        for name, value in article.fields().items():
            adapter[name] = value
        adapter.pop("html", None)
        method = article.extraction
        self.counts[method] += 1
        if self.stats:
            self.stats.inc_value(keys.STAT_EXTRACTION.format(method=method))
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
            self.stats.set_value(keys.STAT_FALLBACK_RATIO, round(self.fallback_ratio, 4))
        if self._too_many_fallbacks():
            logger.warning(
                "Final share of fallback extractions: %d of %d article pages (%.0f%%, warning above %.0f%%)",
                self.counts[FALLBACK], self.pages, 100 * self.fallback_ratio, 100 * self.warn_ratio)
