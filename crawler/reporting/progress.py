"""Extension that logs one progress line every PROGRESS_INTERVAL seconds, and a last one when the crawl ends.

    progress: pages=1234 (+56) responses=2345 articles=789 fallbacks=3 dropped=4 errors=2
    rate=12.3 pages/min, 8.1 articles/min, elapsed 0:12:34

(one line in the log). `pages` are pages archived, as the outcome line and the run report count
them; `responses` every HTTP answer (crawler/reporting/counts.py). The rates are over the last
interval; the final line's are over the whole run.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from crawler.reporting.counts import Counts, format_elapsed

logger = logging.getLogger(__name__)


def progress_line(now: Counts, before: Counts, interval: float, elapsed: float, prefix: str = "progress") -> str:
    """The progress line for counts `now`, `before` being the counts `interval` seconds earlier."""
    minutes = interval / 60 if interval > 0 else 0
    page_rate = (now.pages - before.pages) / minutes if minutes else 0.0
    article_rate = (now.articles - before.articles) / minutes if minutes else 0.0
    return (f"{prefix}: pages={now.pages} (+{now.pages - before.pages}) responses={now.responses} "
            f"articles={now.articles} "
            f"fallbacks={now.fallbacks} dropped={now.dropped} errors={now.errors} "
            f"rate={page_rate:.1f} pages/min, {article_rate:.1f} articles/min, elapsed {format_elapsed(elapsed)}")


class ProgressLog:
    def __init__(self, stats, interval: float = 60.0, clock=time.monotonic):
        self.stats = stats
        self.interval = interval
        self.clock = clock
        self.task = None
        self.started = self.last_time = clock()
        self.last = Counts()

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        o = cls(crawler.stats, interval)
        crawler.signals.connect(o.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        return o

    def spider_opened(self, spider=None):
        self.started = self.last_time = self.clock()
        self.last = Counts()
        # the same looping call as Scrapy's LogStats: asyncio's loop when available, else Twisted's
        self.task = create_looping_call(self.log_progress)
        self.task.start(self.interval, now=False)

    def counts(self) -> Counts:
        return Counts.from_stats(self.stats.get_stats())

    def log_progress(self) -> str:
        now_time, now = self.clock(), self.counts()
        line = progress_line(now, self.last, now_time - self.last_time, now_time - self.started)
        self.last, self.last_time = now, now_time
        logger.info(line)
        return line

    def spider_closed(self, spider=None, reason: str = "finished"):
        if self.task is not None and self.task.running:
            self.task.stop()
        now_time = self.clock()
        line = progress_line(self.counts(), Counts(), now_time - self.started, now_time - self.started,
                             prefix=f"progress (end, {reason})")
        logger.info(line)
        return line
