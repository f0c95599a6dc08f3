"""The shared request queue and seen-set in Redis: scrapy-redis' scheduler and dupefilter, made to fit Scrapy 2.19.

Loaded only when REDIS_URL is set (crawler/frontier/addon.py). scrapy-redis 0.9.1 still works with
Scrapy 2.19 once three things are seen to (the thin subclasses below):
- the dupefilter fingerprints requests with the crawler's REQUEST_FINGERPRINTER instead of its own
  JSON-of-URL fingerprint, so "seen" means the same thing as in a one-process crawl;
- the scheduler never blocks the reactor (its queue pop blocks when SCHEDULER_IDLE_BEFORE_CLOSE > 0:
  it stays 0, and the idle extension stops the worker, crawler/frontier/idle.py);
- the frontier is kept while any worker runs and deleted by the last worker to leave (scrapy-redis'
  own non-persistent mode lets the first worker to finish wipe the dupefilter under the others' feet).
"""

from __future__ import annotations

import logging

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from crawler import keys
from crawler.frontier.addon import frontier_key, redis_client

logger = logging.getLogger(__name__)


class RedisDupeFilter(RFPDupeFilter):
    """scrapy-redis' shared seen-set, fingerprinting with the crawler's request fingerprinter."""

    def __init__(self, server, key, debug=False, fingerprinter=None):
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    @classmethod
    def from_spider(cls, spider):
        settings = spider.settings
        key = settings.get("SCHEDULER_DUPEFILTER_KEY") % {"spider": spider.name}
        return cls(redis_client(settings), key, settings.getbool("DUPEFILTER_DEBUG"),
                   spider.crawler.request_fingerprinter)

    def request_fingerprint(self, request) -> str:
        if self.fingerprinter is None:
            return super().request_fingerprint(request)
        return self.fingerprinter.fingerprint(request).hex()


class RedisScheduler(Scheduler):
    """scrapy-redis' scheduler; each worker registers, and the last one out deletes the frontier."""

    def __init__(self, server, keep: bool = False, workers_key: str = "", exported_key: str = "",
                 worker: str = "", **kwargs):
        super().__init__(server, persist=True, **kwargs)
        self.keep = keep
        self.workers_key = workers_key
        self.exported_key = exported_key
        self.worker = worker

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        name = crawler.spidercls.name
        instance = cls(
            redis_client(s),
            keep=s.getbool("FRONTIER_KEEP"),
            workers_key=frontier_key(s, name, "workers"),
            exported_key=frontier_key(s, name, "exported"),
            worker=s.get("WORKER_ID"),  # set by the add-on
            queue_key=s.get("SCHEDULER_QUEUE_KEY"),
            dupefilter_key=s.get("SCHEDULER_DUPEFILTER_KEY"),
            dupefilter_cls=s.get("DUPEFILTER_CLASS"),
        )
        instance.server.ping()  # fail at start-up, not at the first request
        instance.stats = crawler.stats
        return instance

    def open(self, spider):
        super().open(spider)
        self.server.sadd(self.workers_key, self.worker)
        workers = self.server.scard(self.workers_key)
        logger.info("Worker %s joined the shared frontier %s (%d worker(s), %d requests queued)",
                    self.worker, self.queue.key, workers, len(self.queue))

    def close(self, reason):
        self.server.srem(self.workers_key, self.worker)
        if self.server.scard(self.workers_key) == 0 and not self.keep:
            logger.info("Last worker out: deleting the shared frontier %s", self.queue.key)
            self.flush()
            self.server.delete(self.exported_key)

    def enqueue_request(self, request):
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            if self.stats:
                self.stats.inc_value(keys.STAT_FRONTIER.format(event="filtered_duplicate"))
            return False
        if self.stats:
            self.stats.inc_value(keys.STAT_FRONTIER.format(event="enqueued"))
        self.queue.push(request)
        return True

    def next_request(self):
        request = self.queue.pop(0)
        if request is not None and self.stats:
            self.stats.inc_value(keys.STAT_FRONTIER.format(event="dequeued"))
        return request
