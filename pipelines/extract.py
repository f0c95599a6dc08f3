"""Extraction stage: the page's HTML becomes the cleaned article (crawler/extract/), or the item is dropped.

Each page is read (`read_page`: parse, regions, images, blocks) with its site's rules for the day it
was captured (the item's `captured_at`: the response record's WARC-Date, also with `-a from_warc`, and
the archive's capture time in a backfill:
`SiteProfile.rules_at`, a layout from before a redesign keeps its own rules), then counted in its site's
learned template and judged (crawler/extract/stream.py, docs/cleaning.md): in the order the pages
reached this stage, each once CLEANING_LOOKAHEAD later pages were counted and its site's template
has counted CLEANING_WARMUP pages (a first crawl's first pages wait for that), or once no page came for
a while (eight of the crawl's usual gaps between pages, at most CLEANING_LOOKAHEAD_IDLE seconds:
the crawl's end, or the spider closes). The item waits meanwhile (at most CLEANING_LOOKAHEAD items,
CLEANING_WARMUP during the warm-up, and at most half
of SCRAPER_SLOT_MAX_ACTIVE_SIZE of their pages, so the scraper never backs off because of them). Its request stays in flight, so a crawl killed meanwhile fetches it again
(docs/crash-safety.md). The article's fields go into the item and the page HTML leaves it.

The learned templates live in BOILERPLATE_FILE (default WARC_DIR/boilerplate.json), loaded when
the crawl opens and saved, atomically, when it closes and every SAVE_EVERY pages; with
`-a from_warc` they are read from beside the WARC files and not written. CLEANING_LEARN=False
judges each page on arrival by structure and the site rules alone.

Stats: "cleaning/removed/<signal>" for every block taken out of a body, "cleaning/related_stories",
"cleaning/held_max", "cleaning/idle_releases", "cleaning/template/pages" and ".../blocks" at
close. CLEANING_DEBUG logs every removed block with its reason.

Non-articles are dropped with "articles/dropped/<reason>". A page nested past the parser's bound
is counted as "articles/too_deep" and logged as such. Counts "articles/extraction/site-rules" and
"articles/extraction/fallback", and watches the share of fallbacks: more than FALLBACK_WARN_RATIO
of the pages (once FALLBACK_WARN_MIN_PAGES were seen) is logged as a WARNING, once when it happens
and again at close with the final share ("articles/extraction/fallback_ratio"). A rising share
means the site's layout changed and the site rules need updating.

Any other exception is a bug in the extraction: it is logged at ERROR with its traceback, counted
("articles/errors/<exception>"), the item is dropped and the crawl goes on. It is never counted
as "not an article".
"""

from __future__ import annotations

import logging
import time

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem
from twisted.internet.defer import Deferred

from crawler import keys
from crawler.articleitem import NOT_AN_ARTICLE, TOO_DEEP, fill_article, refusal
from crawler.extract.article import FALLBACK, SITE_RULES
from crawler.extract.boilerplate import BoilerplateStore, store_location
from crawler.extract.cleaning import Cleaned
from crawler.extract.extractor import read_page, rules_for
from crawler.extract.page import MAX_DEPTH
from crawler.extract.stream import StreamCleaner

logger = logging.getLogger(__name__)

#: the learned templates are saved every this many pages counted (a killed crawl loses at most these)
SAVE_EVERY = 500
#: the shortest wait without a page before the held pages are judged (see ExtractPipeline.idle_wait)
IDLE_FLOOR = 0.1


class ExtractPipeline:
    def __init__(self, stats=None, warn_ratio: float = 0.2, warn_min_pages: int = 5, *,
                 stream: StreamCleaner | None = None, save: bool = False, idle: float = 0.0, debug: bool = False,
                 clock=None):
        self.stats = stats
        self.warn_ratio = warn_ratio
        self.warn_min_pages = warn_min_pages
        self.counts = {SITE_RULES: 0, FALLBACK: 0}
        self.warned = False
        #: judges the pages in arrival order (without a stream: on arrival, nothing learned)
        self.stream = stream if stream is not None else StreamCleaner(learn=False)
        self.save = save  # write the learned templates back to their file
        self.idle = idle  # at most this many seconds without a page, then the held pages are judged
        self._gap = None  # typical seconds between two pages (a moving average)
        self._last_page = None
        self.debug = debug
        self._arrived = 0  # pages given a place in the arrival order
        self._waiting: dict[int, list] = {}  # place -> [item, adapter, waiter or None, done]
        self._timer = None
        self._saved_at = 0
        self.clock = clock  # what schedules the idle release (None: the reactor)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        learn = s.getbool("CLEANING_LEARN")
        path, writable = store_location(s.get("BOILERPLATE_FILE"), s.get("WARC_DIR"), s.get("FROM_WARC"))
        store = BoilerplateStore.load(path) if learn else BoilerplateStore()
        if learn and store.sites:
            logger.info("Learned boilerplate loaded from %s: %s", path, "; ".join(
                f"{name}: {t.pages} pages, {len(t)} blocks" for name, t in sorted(store.sites.items())))
        stream = StreamCleaner(store, s.getint("CLEANING_LOOKAHEAD"), learn=learn,
                               max_bytes=s.getint("SCRAPER_SLOT_MAX_ACTIVE_SIZE") // 2,
                               warmup=s.getint("CLEANING_WARMUP"))
        pipe = cls(crawler.stats, s.getfloat("FALLBACK_WARN_RATIO"), s.getint("FALLBACK_WARN_MIN_PAGES"),
                   stream=stream, save=learn and writable, idle=s.getfloat("CLEANING_LOOKAHEAD_IDLE"),
                   debug=s.getbool("CLEANING_DEBUG"))
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def close_spider(self, spider=None):
        self._release(self.stream.flush())  # nothing should be left; never leave an item waiting
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._save()

    @property
    def pages(self) -> int:
        return sum(self.counts.values())

    @property
    def fallback_ratio(self) -> float:
        return self.counts[FALLBACK] / self.pages if self.pages else 0.0

    def _too_many_fallbacks(self) -> bool:
        return self.pages >= self.warn_min_pages and self.fallback_ratio > self.warn_ratio

    # --- the pages, in arrival order ------------------------------------------------------------
    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        html, url = adapter.get("html") or "", adapter.get("url")
        place = self._arrived
        self._arrived += 1
        self._pace()
        # the site's rules on the day the page was captured (a backfill: the archive's capture time)
        rules = rules_for(url, adapter.get("captured_at") or adapter.get("fetched_at"))
        try:
            reading = read_page(html, url, rules)
        except Exception as exc:  # NotAnArticle, PageTooDeep or a bug: _refuse says which
            self._refuse(exc, url)
        return self._hold(place, item, adapter, reading, len(html), rules)

    def _hold(self, place: int, item, adapter, reading, size: int, rules=None):
        """The item once its page is judged: at once when it is due now, else a Deferred that gets it when
        it is."""
        adapter.pop("html", None)  # the reading holds what the verdict needs
        entry = [item, adapter, None, False]
        self._waiting[place] = entry
        self._feed(place, reading, size, rules)
        if entry[3]:
            return item
        entry[2] = Deferred()
        self._arm_timer()
        return entry[2]

    def _feed(self, place: int, reading, size: int, rules=None) -> None:
        """Give the stream the page next in arrival order (judged with `rules`, those it was read with)."""
        self._release(self.stream.push(place, reading, size, rules))
        if self.stats is not None and self.stream.held_max:
            self.stats.max_value(keys.STAT_CLEANING_HELD_MAX, self.stream.held_max)
        if self.save and self.stream.counted - self._saved_at >= SAVE_EVERY:
            self._save()

    def _release(self, judged: list[tuple[int, Cleaned]]) -> None:
        for place, cleaned in judged:
            entry = self._waiting.pop(place, None)
            if entry is None:
                continue
            item, adapter, waiter, _ = entry
            self._accept(item, adapter, cleaned)
            entry[3] = True
            if waiter is not None:
                waiter.callback(item)

    def _pace(self) -> None:
        """Follow how often pages come (the wait before an idle release is a few of those gaps)."""
        now = time.monotonic()
        if self._last_page is not None:
            gap = now - self._last_page
            self._gap = gap if self._gap is None else 0.9 * self._gap + 0.1 * gap
        self._last_page = now

    @property
    def idle_wait(self) -> float:
        """Seconds without a page before the held pages are judged: eight of the crawl's usual gaps between
        two pages, at least IDLE_FLOOR, at most `idle` (a fast crawl ends without waiting long; a polite
        one does not judge its pages early because the next one is a second away)."""
        if self._gap is None:
            return self.idle
        return min(self.idle, max(IDLE_FLOOR, 8 * self._gap))

    def _arm_timer(self) -> None:
        """Judge the held pages when no page came for a while (the crawl waits for them at its end)."""
        if self.idle <= 0 or not self.stream.held:
            return
        if self._timer is not None and self._timer.active():
            self._timer.reset(self.idle_wait)
            return
        clock = self.clock
        if clock is None:
            from twisted.internet import reactor as clock  # installed by the crawl by now (not at import: tests)

        self._timer = clock.callLater(self.idle_wait, self._idle_release)

    def _idle_release(self) -> None:
        self._timer = None
        if not self.stream.held:
            return
        if self.stats is not None:
            self.stats.inc_value(keys.STAT_CLEANING_IDLE)
        self._release(self.stream.flush())

    # --- verdicts --------------------------------------------------------------------------------
    def _refuse(self, exc: Exception, url):
        """Drop the item: counted as its NotAnArticle reason, as too deep, or logged and counted as a bug
        (crawler/articleitem.py's `refusal` tells which, as it does for `scrapy reprocess`)."""
        kind, reason = refusal(exc)
        if kind == NOT_AN_ARTICLE:
            if self.stats:
                self.stats.inc_value(keys.STAT_DROPPED.format(reason=reason))
            raise DropItem(f"not an article ({reason}): {url}", log_level="INFO") from None
        if kind == TOO_DEEP:
            if self.stats:
                self.stats.inc_value(keys.STAT_TOO_DEEP)
            logger.warning("Article page %s not read: its markup nests deeper than %d levels (the parser's "
                           "bound), even with runs of nested empty tags collapsed and inline tags removed",
                           url, MAX_DEPTH)
            raise DropItem(f"page nested past the parser's bound of {MAX_DEPTH} levels: {url}") from None
        if self.stats:
            self.stats.inc_value(keys.STAT_EXTRACTION_ERRORS.format(exception=reason))
        logger.error("Extraction failed on %s with %s (a bug, not the page's fault): %s", url, reason, exc,
                     exc_info=exc)
        raise DropItem(f"extraction error ({reason}): {url}") from exc

    def _accept(self, item, adapter, cleaned: Cleaned):
        article = cleaned.article
        url = adapter.get("url")
        fill_article(adapter, article)  # as `scrapy reprocess` does (crawler/articleitem.py)
        method = article.extraction
        self.counts[method] += 1
        if self.stats:
            self.stats.inc_value(keys.STAT_EXTRACTION.format(method=method))
            for removal in cleaned.removed:
                self.stats.inc_value(keys.STAT_CLEANING_REMOVED.format(signal=removal.signal))
            if article.related_stories:
                self.stats.inc_value(keys.STAT_CLEANING_RELATED, len(article.related_stories))
        if self.debug:
            for removal in cleaned.removed:
                logger.info("Cleaning %s: removed [%s] %s: %r", url, removal.signal, removal.reason,
                            removal.text[:300])
        if not self.warned and self._too_many_fallbacks():
            self.warned = True
            logger.warning(
                "%d of %d article pages (%.0f%%) needed the generic fallback extractor (warning above %.0f%%): "
                "the site's layout may have changed; last one: %s",
                self.counts[FALLBACK], self.pages, 100 * self.fallback_ratio, 100 * self.warn_ratio, url)
        return item

    def _save(self) -> None:
        self._saved_at = self.stream.counted
        store = self.stream.store
        if self.stats is not None and store.sites:
            self.stats.set_value(keys.STAT_TEMPLATE_PAGES, sum(t.pages for t in store.sites.values()))
            self.stats.set_value(keys.STAT_TEMPLATE_BLOCKS, sum(len(t.to_json()["blocks"])
                                                                for t in store.sites.values()))
        if not self.save or not store.sites:
            return
        try:
            store.save()
        except OSError as exc:
            logger.warning("Learned boilerplate could not be saved to %s: %s (the next crawl learns again)",
                           store.path, exc)

    def spider_closed(self, spider=None, reason=None):
        if not self.pages:
            return
        if self.stats:
            self.stats.set_value(keys.STAT_FALLBACK_RATIO, round(self.fallback_ratio, 4))
        if self._too_many_fallbacks():
            logger.warning(
                "Final share of fallback extractions: %d of %d article pages (%.0f%%, warning above %.0f%%)",
                self.counts[FALLBACK], self.pages, 100 * self.fallback_ratio, 100 * self.warn_ratio)
