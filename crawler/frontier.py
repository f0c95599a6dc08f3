"""Distributed mode: with REDIS_URL set, N worker processes share one frontier in Redis.

Built on scrapy-redis 0.9.1, which still works with Scrapy 2.19 once three things are
seen to (the thin subclasses below):
- the dupefilter fingerprints requests with the crawler's REQUEST_FINGERPRINTER instead of
  its own JSON-of-URL fingerprint, so "seen" means the same thing as in a one-process crawl;
- the scheduler never blocks the reactor (its queue pop blocks when
  SCHEDULER_IDLE_BEFORE_CLOSE > 0: we keep it 0 and stop on idle with FrontierIdleClose);
- the frontier is kept while any worker runs and deleted by the last worker to leave
  (scrapy-redis' own non-persistent mode lets the first worker to finish wipe the
  dupefilter under the others' feet).

Pieces (each enabled only when REDIS_URL is set; all NotConfigured otherwise):
- RedisFrontier (add-on, ADDONS): switches SCHEDULER / DUPEFILTER_CLASS to the classes below,
  names the Redis keys, gives the worker its WORKER_ID and per-worker WARC and JSONL names;
- RedisScheduler / RedisDupeFilter: the shared request queue and seen-set;
- FrontierIdleClose (extension): the worker stops once the shared queue has stayed empty for
  FRONTIER_IDLE_TIMEOUT seconds;
- SharedExportPipeline (item pipeline): each article is exported by exactly one worker
  (SADD on a shared set: only the worker whose SADD added the URL exports it).

Keys: "<spider>[:<CRAWL_ID>]:requests|dupefilter|exported|workers". The incremental state
(STATE_PATH=redis, crawler/state.py) is under "<spider>:state" and outlives crawls.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, DropItem, NotConfigured
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def key_prefix(settings, spider_name: str) -> str:
    crawl_id = settings.get("CRAWL_ID")
    return f"{spider_name}:{crawl_id}" if crawl_id else spider_name


def frontier_key(settings, spider_name: str, name: str) -> str:
    """Redis key of one part of the shared frontier: requests, dupefilter, exported, workers."""
    return f"{key_prefix(settings, spider_name)}:{name}"


def redis_client(settings):
    import redis

    return redis.Redis.from_url(settings.get("REDIS_URL"))


def worker_feed_uri(default_feed: str, worker: str) -> str:
    """DEFAULT_FEED with the worker id after the spider name: output/items/spacewar-<worker>-<time>.jsonl."""
    if "%(name)s" in default_feed:
        return default_feed.replace("%(name)s", f"%(name)s-{worker}", 1)
    stem, dot, ext = default_feed.rpartition(".")
    return f"{stem}-{worker}.{ext}" if dot else f"{default_feed}-{worker}"


class RedisFrontier:
    """Add-on: turn on the shared frontier when REDIS_URL is set (see the module docstring)."""

    def __init__(self, spider_name: str):
        self.spider_name = spider_name

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        return cls(crawler.spidercls.name)

    def update_settings(self, settings):
        def put(name, value):  # over the project's defaults, never over -s or a spider's own
            settings.set(name, value, priority=max(settings.getpriority(name) or 0, 15))

        worker = settings.get("WORKER_ID") or default_worker_id()
        put("WORKER_ID", worker)
        put("SCHEDULER", "crawler.frontier.RedisScheduler")
        put("DUPEFILTER_CLASS", "crawler.frontier.RedisDupeFilter")
        put("SCHEDULER_QUEUE_KEY", frontier_key(settings, "%(spider)s", "requests"))
        put("SCHEDULER_DUPEFILTER_KEY", frontier_key(settings, "%(spider)s", "dupefilter"))
        put("SCHEDULER_IDLE_BEFORE_CLOSE", 0)  # never block the reactor
        if not settings.get("WARC_PREFIX"):
            put("WARC_PREFIX", f"{self.spider_name}-{worker}")
        # The spider turned DEFAULT_FEED into FEEDS (no -o/-O given): name this worker's file.
        default_feed = settings.get("DEFAULT_FEED")
        feeds = settings.getdict("FEEDS")
        if default_feed and list(feeds) == [default_feed]:
            put("FEEDS", {worker_feed_uri(default_feed, worker): feeds[default_feed]})


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
            worker=s.get("WORKER_ID") or default_worker_id(),
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
                self.stats.inc_value("frontier/filtered_duplicate")
            return False
        if self.stats:
            self.stats.inc_value("frontier/enqueued")
        self.queue.push(request)
        return True

    def next_request(self):
        request = self.queue.pop(0)
        if request is not None and self.stats:
            self.stats.inc_value("frontier/dequeued")
        return request


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
        if not s.get("REDIS_URL"):
            raise NotConfigured
        o = cls(None, s.getfloat("FRONTIER_IDLE_TIMEOUT", 30), crawler.stats)
        o.crawler = crawler
        crawler.signals.connect(o.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(o.busy, signal=signals.request_scheduled)
        crawler.signals.connect(o.busy, signal=signals.response_received)
        return o

    def _queue_len(self) -> int:
        if self.queue_len is not None:
            return self.queue_len()
        return len(self.crawler.engine.scheduler)  # the Redis queue's length

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
                self.stats.inc_value("frontier/idle_checks")
            raise DontCloseSpider
        logger.info("Shared frontier empty for %.0f s: this worker stops", now - self.empty_since)


class SharedExportPipeline:
    """Export each article from exactly one worker: the first whose SADD adds its URL."""

    def __init__(self, server, key: str, stats=None):
        self.server = server
        self.key = key
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.get("REDIS_URL"):
            raise NotConfigured
        return cls(redis_client(s), frontier_key(s, crawler.spidercls.name, "exported"), crawler.stats)

    def process_item(self, item, spider=None):
        url = ItemAdapter(item)["url"]
        if self.server.sadd(self.key, url) == 0:
            if self.stats:
                self.stats.inc_value("articles/dropped/exported_by_another_worker")
            raise DropItem(f"exported by another worker: {url}")
        return item
