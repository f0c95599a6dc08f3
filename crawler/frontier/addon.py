"""Add-on that switches the shared Redis frontier on when REDIS_URL is set (scrapy-redis imported only then).

It puts the shared scheduler and seen-set in place (crawler/frontier/scheduler.py), names the
Redis keys, gives this worker its WORKER_ID and its own WARC and JSONL file names, stops an idle
worker once the shared queue stayed empty (crawler/frontier/idle.py), lets exactly one worker
export each article (pipelines/sharedexport.py), and writes this worker's heartbeat for
`scrapy frontier` (crawler/frontier/status.py), with METRICS_PORT also in the Prometheus
text format (crawler/frontier/metrics.py, prometheus-client imported only then).

Keys: "<spider>[:<CRAWL_ID>]:requests|dupefilter|exported|workers|heartbeat". The incremental state
(STATE_PATH=redis, crawler/incremental/state.py) is under "<spider>:state" and outlives crawls.
Per-host politeness shared by the workers is crawler/network/politeness.py's ("polite:*").
"""

from __future__ import annotations

import os
import socket

from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES

from crawler.components import defaults, register
from crawler.config import ServiceUnavailable, require
from crawler.warc.files import safe_name_part

DEFAULTS = {
    #: A worker stops once the shared request queue has stayed empty this many seconds.
    "FRONTIER_IDLE_TIMEOUT": 30,
    #: Keep the shared queue, seen-set and exported-set when the last worker leaves (to resume).
    "FRONTIER_KEEP": False,
    #: Seconds after a worker's last sign of life (renewed every third of it) before the other workers
    #: requeue the requests it had taken and not finished (a worker killed -9).
    "FRONTIER_WORKER_TTL": 60.0,
    #: Seconds between two heartbeats of a worker in Redis (`scrapy frontier`); 0: none.
    "FRONTIER_HEARTBEAT_INTERVAL": 10.0,
    #: Serve this worker's and the shared crawl's figures in the Prometheus text format on
    #: http://127.0.0.1:METRICS_PORT/metrics (needs the "metrics" extra); 0: off. Give each worker
    #: of one machine its own port.
    "METRICS_PORT": 0,
}


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def key_prefix(settings, spider_name: str) -> str:
    crawl_id = settings.get("CRAWL_ID")
    return f"{spider_name}:{crawl_id}" if crawl_id else spider_name


def frontier_key(settings, spider_name: str, name: str) -> str:
    """Redis key of one part of the shared frontier: requests, dupefilter, exported, workers."""
    return f"{key_prefix(settings, spider_name)}:{name}"


def redis_client(settings, **options):
    """A client of REDIS_URL's server (`options`: redis-py's, e.g. socket_timeout)."""
    redis = require("redis", why="REDIS_URL is set", package="redis", extra="distributed")
    return redis.Redis.from_url(settings.get("REDIS_URL"), **options)


def redis_errors() -> tuple[type[BaseException], ...]:
    """redis-py's exceptions for a server that does not answer (imported only in distributed mode)."""
    from redis.exceptions import ConnectionError, TimeoutError

    return ConnectionError, TimeoutError


def unreachable(settings, exc: BaseException) -> ServiceUnavailable:
    """The one line for a Redis that does not answer."""
    return ServiceUnavailable(f"Redis at {settings.get('REDIS_URL')} is unreachable ({exc}): start it, or fix "
                              f"REDIS_URL")


def worker_feed_uri(default_feed: str, worker: str) -> str:
    """DEFAULT_FEED with the worker id after the spider name: output/items/spacewar-<worker>-<time>.jsonl.
    The id goes in as a file-name fragment (no path separator, no leading dot), so the file stays
    where DEFAULT_FEED says whatever WORKER_ID or the host name holds."""
    worker = safe_name_part(worker, "worker")
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
        require("scrapy_redis", why="REDIS_URL is set", package="scrapy-redis", extra="distributed")
        return cls(crawler.spidercls.name)

    def update_settings(self, settings):
        def put(name, value):  # over the project's values and the spider's, never over -s
            if (settings.getpriority(name) or 0) >= SETTINGS_PRIORITIES["cmdline"]:
                return  # (set() at the same priority replaces: -s SCHEDULER=... was overridden)
            settings.set(name, value, priority=max(settings.getpriority(name) or 0, 15))

        defaults(settings, DEFAULTS)
        worker = settings.get("WORKER_ID") or default_worker_id()
        put("WORKER_ID", worker)
        put("SCHEDULER", "crawler.frontier.scheduler.RedisScheduler")
        put("DUPEFILTER_CLASS", "crawler.frontier.scheduler.RedisDupeFilter")
        put("SCHEDULER_QUEUE_KEY", frontier_key(settings, "%(spider)s", "requests"))
        put("SCHEDULER_DUPEFILTER_KEY", frontier_key(settings, "%(spider)s", "dupefilter"))
        put("SCHEDULER_IDLE_BEFORE_CLOSE", 0)  # never block the reactor
        register(settings, "EXTENSIONS", "crawler.frontier.idle.FrontierIdleClose", 700)
        if settings.getfloat("FRONTIER_HEARTBEAT_INTERVAL") > 0:
            register(settings, "EXTENSIONS", "crawler.frontier.status.WorkerHeartbeat", 710)
        if settings.getint("METRICS_PORT"):
            register(settings, "EXTENSIONS", "crawler.frontier.metrics.MetricsEndpoint", 720)
        # after de-duplication and the incremental stage, before export
        register(settings, "ITEM_PIPELINES", "pipelines.sharedexport.SharedExportPipeline", 850)
        if not settings.get("WARC_PREFIX"):
            put("WARC_PREFIX", f"{self.spider_name}-{worker}")
        # The spider turned DEFAULT_FEED into FEEDS (no -o/-O given): name this worker's file.
        default_feed = settings.get("DEFAULT_FEED")
        feeds = settings.getdict("FEEDS")
        if default_feed and list(feeds) == [default_feed]:
            put("FEEDS", {worker_feed_uri(default_feed, worker): feeds[default_feed]})
