"""The shared request queue and seen-set in Redis: scrapy-redis' scheduler and dupefilter, made reliable and fit for Scrapy 2.19.

Loaded only when REDIS_URL is set (crawler/frontier/addon.py). scrapy-redis 0.9.1 still works with
Scrapy 2.19 once these things are seen to (the thin subclasses below):
- the dupefilter fingerprints requests with the crawler's REQUEST_FINGERPRINTER instead of its own
  JSON-of-URL fingerprint, so "seen" means the same thing as in a one-process crawl;
- the scheduler never blocks the reactor (SCHEDULER_IDLE_BEFORE_CLOSE stays 0, and the idle
  extension stops the worker, crawler/frontier/idle.py);
- a request taken from the queue stays this worker's in Redis until the engine is done with it
  (crawler/frontier/reliable.py: taken into the worker's in-flight hash, acknowledged once its
  page is settled and every WARC record handed over until then is written); a dead worker's
  requests go back to the queue when its alive key expires (FRONTIER_WORKER_TTL);
- the frontier is kept while any worker runs or holds requests, and deleted by the last worker to
  leave a finished crawl (scrapy-redis' own non-persistent mode lets the first worker to finish
  wipe the dupefilter under the others' feet).

"Done with it" is when the engine drops the request from its in-progress set (downloaded, its
callback run, its items through the pipelines and exported, its links queued; or its redirect or
retry queued; or its failure handled): Scrapy has no signal for it, so the scheduler wraps the
engine slot's remove_request, as the crash-safety journal does (crawler/journal/scheduler.py).

Redis unreachable at start-up stops the crawl with one line naming REDIS_URL (exit status 69);
Redis going away mid-crawl stops the worker with one line (finish reason "frontier_unavailable"):
what it had taken stays in Redis, and is requeued once the server is back and its alive key expired.
"""

from __future__ import annotations

import logging

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler import keys
from crawler.capture.signals import warc_write_failed
from crawler.config import ConfigError
from crawler.frontier import frontier_deleted
from crawler.frontier.addon import frontier_key, key_prefix, redis_client, redis_errors, unreachable
from crawler.frontier.reliable import ReliableQueue
from crawler.reporting.outcome import stop_crawl

logger = logging.getLogger(__name__)

#: the stop reason of a worker whose Redis went away mid-crawl (crawler/reporting/outcome.py: non-zero)
UNAVAILABLE = "frontier_unavailable"


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
    """scrapy-redis' scheduler on the reliable queue; each worker registers, and the last one out of a
    finished crawl deletes the frontier."""

    def __init__(self, server, keep: bool = False, workers_key: str = "", exported_key: str = "",
                 worker: str = "", prefix: str = "", worker_ttl: float = 60.0, **kwargs):
        super().__init__(server, persist=True, **kwargs)
        self.keep = keep
        self.workers_key = workers_key
        self.exported_key = exported_key
        self.worker = worker
        self.prefix = prefix
        self.worker_ttl = worker_ttl
        self.reliable: ReliableQueue | None = None
        self.crawler = None
        self.stats = None
        self.loop = None
        self.failed = False  # Redis went away, or a WARC write failed: acknowledge nothing more
        self.unavailable = False

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        name = crawler.spidercls.name
        instance = cls(
            redis_client(s, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30),
            keep=s.getbool("FRONTIER_KEEP"),
            workers_key=frontier_key(s, name, "workers"),
            exported_key=frontier_key(s, name, "exported"),
            worker=s.get("WORKER_ID"),  # set by the add-on
            prefix=key_prefix(s, name),
            worker_ttl=s.getfloat("FRONTIER_WORKER_TTL"),
            queue_key=s.get("SCHEDULER_QUEUE_KEY"),
            dupefilter_key=s.get("SCHEDULER_DUPEFILTER_KEY"),
            dupefilter_cls=s.get("DUPEFILTER_CLASS"),
            queue_cls=s.get("SCHEDULER_QUEUE_CLASS") or "scrapy_redis.queue.PriorityQueue",
        )
        if instance.worker_ttl <= 0:
            raise ConfigError(f"FRONTIER_WORKER_TTL={s.get('FRONTIER_WORKER_TTL')}: give the seconds after which "
                              f"a silent worker's requests are requeued (more than 0; default 60)")
        try:
            instance.server.ping()  # fail at start-up (one line, exit 69: crawler/commands/crawl.py), not later
        except redis_errors() as e:
            raise unreachable(s, e) from None
        instance.stats = crawler.stats
        instance.crawler = crawler
        crawler.signals.connect(instance._warc_write_failed, signal=warc_write_failed)
        return instance

    # --- open / close -------------------------------------------------------------------------------
    def open(self, spider):
        super().open(spider)
        if not isinstance(self.queue, PriorityQueue):
            raise ConfigError(f"SCHEDULER_QUEUE_CLASS={type(self.queue).__module__}.{type(self.queue).__name__}: "
                              f"the shared frontier needs scrapy_redis.queue.PriorityQueue (its reliable queue)")
        self.reliable = ReliableQueue(self.server, self.prefix, self.worker, self.worker_ttl,
                                      queue_key=self.queue.key, seen_key=self.df.key)
        own, claims = self.reliable.release()  # an earlier run under this id was killed: its requests go back
        if own or claims:
            logger.warning("Worker %s restarted: %d requests it had taken before it stopped are queued again "
                           "(%d unconfirmed exports released)", self.worker, own, claims)
            self._count("requeued_own", own)
        self.reliable.renew()
        self.server.sadd(self.workers_key, self.worker)
        self._hook_engine()
        self._recover()
        from scrapy.utils.asyncio import create_looping_call

        self.loop = create_looping_call(self._tick)
        self.loop.start(self.worker_ttl / 3, now=False)
        workers = self.server.scard(self.workers_key)
        logger.info("Worker %s joined the shared frontier %s (%d worker(s), %d requests queued; a silent worker's "
                    "requests are requeued after %.0f s)", self.worker, self.queue.key, workers, len(self.queue),
                    self.worker_ttl)

    def close(self, reason):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.reliable is None:
            return
        try:
            held = self.server.hlen(self.reliable.inflight_key())
            if held and not self.failed:  # stopped before they were done (SIGTERM): back to the queue
                n, claims = self.reliable.release()
                logger.info("Worker %s stops with %d requests not done: queued again for the other workers",
                            self.worker, n)
                self._count("requeued_own", n)
            elif self.failed:  # not all is known to be on disk: leave them to the requeue of a dead worker
                self.server.srem(self.workers_key, self.worker)
                logger.warning("Worker %s stops holding %d requests: they are queued again %.0f s from now "
                               "(FRONTIER_WORKER_TTL), or when a worker with its id starts", self.worker, held,
                               self.worker_ttl)
                return  # its alive key expires by itself
            else:
                self.reliable.release()  # leaves the crawl
            if self.server.scard(self.workers_key) == 0 and not self.keep:
                if len(self.queue) or self.reliable.holders():
                    logger.info("Last worker out, the crawl unfinished (%d queued, %d held): the shared frontier "
                                "%s stays for the next worker", len(self.queue),
                                sum(self.reliable.holders().values()), self.queue.key)
                else:
                    logger.info("Last worker out: deleting the shared frontier %s", self.queue.key)
                    self.flush()
                    self.server.delete(self.exported_key, self.reliable.lease_key)
                    self.crawler.signals.send_catch_log(frontier_deleted)
        except redis_errors() as e:
            self.lost(e)

    # --- the queue ----------------------------------------------------------------------------------
    def enqueue_request(self, request):
        # a redirect or a retry is a copy of a taken request: it is a new request, with a lease of its own
        request.meta.pop(keys.META_FRONTIER_LEASE, None)
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        try:
            queued = self.reliable.push(self.queue._encode_request(request), -request.priority, fingerprint)
        except redis_errors() as e:
            self.lost(e)
            return False
        if not queued:
            self.df.log(request, self.spider)
            self._count("filtered_duplicate")
            return False
        self._count("enqueued")
        return True

    def next_request(self):
        if self.unavailable:
            return None
        try:
            taken = self.reliable.take()
        except redis_errors() as e:
            self.lost(e)
            return None
        if taken is None:
            return None
        lease, data = taken
        request = self.queue._decode_request(data)
        request.meta[keys.META_FRONTIER_LEASE] = lease
        self._count("dequeued")
        return request

    def has_pending_requests(self) -> bool:
        return not self.unavailable and super().has_pending_requests()

    def pending(self) -> int:
        """Requests queued, and taken by the other workers (alive or dead): the crawl is not done while any is."""
        if self.unavailable:
            return 0
        try:
            return len(self.queue) + self.reliable.held_by_others()
        except redis_errors() as e:
            self.lost(e)
            return 0

    # --- settled: acknowledged ----------------------------------------------------------------------
    def request_finished(self, request) -> None:
        """The engine is done with `request` (the engine hook): its records are on disk by then (the capture
        service writes each record before the response goes on), so its lease is acknowledged."""
        lease = request.meta.get(keys.META_FRONTIER_LEASE) if request.meta else None
        if lease is None or self.failed:
            return  # not taken from the queue (robots.txt), or nothing more is known to be on disk
        self._ack(lease)

    def _ack(self, lease: str) -> None:
        try:
            if self.reliable.ack(lease):
                self._count("acknowledged")
            else:  # this worker was silent longer than FRONTIER_WORKER_TTL: another requeued the request
                self._count("lease_lost")
        except redis_errors() as e:
            self.lost(e)

    def _warc_write_failed(self, exc=None, path=None) -> None:
        self.failed = True  # from now on nothing is acknowledged: another worker fetches it again

    def _hook_engine(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        remove = getattr(slot, "remove_request", None)
        if remove is None:
            raise ConfigError("the shared frontier needs Scrapy's engine slot (remove_request), which this Scrapy "
                              "version does not have: use the Scrapy version of pyproject.toml")

        def remove_request(request, _remove=remove):
            _remove(request)
            self.request_finished(request)

        slot.remove_request = remove_request

    # --- the other workers --------------------------------------------------------------------------
    def _tick(self) -> None:
        """Every FRONTIER_WORKER_TTL / 3: this worker is alive; a dead worker's requests go back to the queue."""
        if self.unavailable:
            return
        try:
            self.reliable.renew()
            self._recover()
        except redis_errors() as e:
            self.lost(e)

    def _recover(self) -> None:
        for worker, (n, claims) in self.reliable.recover_dead().items():
            logger.warning("Worker %s stopped answering (no sign of life for %.0f s): its %d unfinished requests "
                           "are queued again (%d unconfirmed exports released)", worker, self.worker_ttl, n, claims)
            self._count("requeued_dead", n)

    def lost(self, exc: BaseException) -> None:
        """Redis went away: say so once and stop this worker; what it took stays in Redis."""
        self.failed = True
        if self.unavailable:
            return
        self.unavailable = True
        logger.error("%s; this worker stops, and the requests it took stay in Redis (queued again once it is "
                     "back)", unreachable(self.crawler.settings, exc))
        from crawler.network.politeness import SharedSlotMiddleware

        polite = self.crawler.get_downloader_middleware(SharedSlotMiddleware)
        if polite is not None:  # else its waiting requests would wait for Redis, and the close with them
            polite.give_up_waiting()
        stop_crawl(self.crawler, UNAVAILABLE)

    def _count(self, event: str, n: int = 1) -> None:
        if self.stats and n:
            self.stats.inc_value(keys.STAT_FRONTIER.format(event=event), n)
