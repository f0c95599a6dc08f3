"""Extension that keeps an idle worker alive while the shared queue may still fill, and stops it once it stayed empty.

"May still fill": requests are queued, or other workers hold requests they took (their pages may
bring links; a dead worker's go back to the queue once its FRONTIER_WORKER_TTL is over)."""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from crawler import keys

logger = logging.getLogger(__name__)


class FrontierIdleClose:
    """Keep an idle worker alive while the shared queue may still fill; stop it once the queue
    has stayed empty for FRONTIER_IDLE_TIMEOUT seconds (Scrapy re-checks idleness every 5 s)."""

    def __init__(self, queue_len, timeout: float, stats=None, clock=time.monotonic):
        self.queue_len = queue_len  # function() -> requests waiting in the shared queue
        self.timeout = timeout
        self.stats = stats
        self.clock = clock
        self.empty_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        o = cls(None, s.getfloat("FRONTIER_IDLE_TIMEOUT"), crawler.stats)
        o.crawler = crawler
        crawler.signals.connect(o.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(o.busy, signal=signals.request_scheduled)
        crawler.signals.connect(o.busy, signal=signals.response_received)
        return o

    def _queue_len(self) -> int:
        if self.queue_len is not None:
            return self.queue_len()
        scheduler = self.crawler.engine.scheduler
        pending = getattr(scheduler, "pending", None)  # queued, or taken by another worker (a dead one too)
        return pending() if pending is not None else len(scheduler)

    def busy(self, *args, **kwargs):
        self.empty_since = None

    def spider_idle(self, spider=None):
        now = self.clock()
        if self._queue_len() > 0:
            self.empty_since = None
            raise DontCloseSpider
        if self.empty_since is None:
            self.empty_since = now
        if now - self.empty_since < self.timeout:
            if self.stats:
                self.stats.inc_value(keys.STAT_FRONTIER.format(event="idle_checks"))
            raise DontCloseSpider
        logger.info("Shared frontier empty for %.0f s: this worker stops", now - self.empty_since)
