"""The operator's view of a shared crawl: each worker's heartbeat in Redis, and what `scrapy frontier` reads.

Read only, so it works while the crawl runs and after it stopped. Keys (prefix "<spider>[:<CRAWL_ID>]",
crawler/frontier/addon.py; ns = POLITE_NAMESPACE, crawler/network/politeness.py):

  <prefix>:requests    zset (scrapy-redis priority queue)  queue length
  <prefix>:dupefilter  set                                  requests seen
  <prefix>:exported    set                                  articles exported
  <prefix>:workers     set                                  workers in the crawl now
  <prefix>:inflight:<w> hash lease -> request               requests worker w took and has not finished
                       (crawler/frontier/reliable.py); <prefix>:alive:<w> exists while w is alive
  <prefix>:heartbeat   hash worker -> JSON {t, host, state, reason, pages, items, in_flight, waiting}
                       written every FRONTIER_HEARTBEAT_INTERVAL seconds by WorkerHeartbeat and once at
                       the end (state "stopped", the finish reason); kept HEARTBEAT_KEEP after the last
                       write, so a finished crawl still shows how each worker ended
  <ns>:hosts           zset host key -> last start (ms)     the hosts (every crawl on this Redis)
  <ns>:host:<k>        hash delay, blocked_until, ...       current delay, seconds still blocked
  <ns>:leases:<k>      zset lease -> expiry (ms)            requests in flight on the host
  <ns>:starts:<k>      zset lease -> start (ms)             rate over the last 10 s and 60 s
"""

from __future__ import annotations

import json
import logging
import socket
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import keys
from crawler.frontier.addon import frontier_key, key_prefix, redis_client

logger = logging.getLogger(__name__)

#: A worker's last heartbeat is kept this long after it was written (seconds).
HEARTBEAT_KEEP = 7 * 86400
#: The parts of a crawl's prefix; a key "<prefix>:<part>" marks a crawl.
PARTS = ("requests", "dupefilter", "exported", "workers", "heartbeat")


def worker_figures(crawler) -> dict:
    """This worker's pages, items and requests in its downloader: holding a host's slot (in flight) or waiting."""
    from crawler.network.politeness import SharedSlotMiddleware

    stats = crawler.stats
    try:
        downloader = crawler.engine.downloader
        shared = crawler.get_downloader_middleware(SharedSlotMiddleware)
    except (RuntimeError, AttributeError):  # the crawl has not started (or has ended)
        downloader = shared = None
    if shared is not None:
        in_flight = shared.in_flight
    else:  # politeness not shared: what Scrapy's slots are transferring
        in_flight = sum(len(slot.transferring) for slot in downloader.slots.values()) if downloader else 0
    active = len(downloader.active) if downloader is not None else 0
    return {"pages": stats.get_value("downloader/response_count", 0),
            "archived": stats.get_value(keys.STAT_PAGES_ARCHIVED, 0) or stats.get_value(keys.STAT_REPLAY_PAGES, 0),
            "items": stats.get_value("item_scraped_count", 0),
            "in_flight": in_flight, "waiting": max(0, active - in_flight)}


class WorkerHeartbeat:
    """Extension: this worker's heartbeat (time, pages, items, requests in flight) in <prefix>:heartbeat."""

    def __init__(self, crawler, server, key: str, worker: str, interval: float, prefix: str = ""):
        self.crawler = crawler
        self.server = server
        self.key = key
        self.prefix = prefix  # the crawl's key prefix: its workers set and their alive keys
        self.worker = worker
        self.interval = interval
        self.loop = None
        self.started = time.time()

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        interval = s.getfloat("FRONTIER_HEARTBEAT_INTERVAL")
        if not s.get("REDIS_URL") or interval <= 0:
            raise NotConfigured
        o = cls(crawler, redis_client(s, socket_timeout=5, socket_connect_timeout=5),
                frontier_key(s, crawler.spidercls.name, "heartbeat"), s.get("WORKER_ID"), interval,
                key_prefix(s, crawler.spidercls.name))
        crawler.signals.connect(o.opened, signal=signals.spider_opened)
        crawler.signals.connect(o.closed, signal=signals.spider_closed)
        return o

    def beat(self, state: str = "running", reason: str | None = None):
        record = {"t": time.time(), "host": socket.gethostname(), "state": state, **worker_figures(self.crawler)}
        if reason:
            record["reason"] = reason
        try:
            pipe = self.server.pipeline()
            pipe.hset(self.key, self.worker, json.dumps(record))
            pipe.expire(self.key, HEARTBEAT_KEEP)
            pipe.execute()
        except Exception as e:  # the crawl goes on without its heartbeat
            stats = self.crawler.stats
            stats.inc_value(keys.STAT_FRONTIER.format(event="heartbeat_errors"))
            if stats.get_value(keys.STAT_FRONTIER.format(event="heartbeat_errors")) == 1:
                logger.warning("Heartbeat not written to Redis: %s", e)

    def crawl_pages_archived(self) -> int | None:
        """Pages archived by the workers whose last heartbeat came after this one started (this one
        included): the shared crawl this worker was part of. None when Redis does not answer."""
        try:
            beats = self.server.hgetall(self.key)
        except Exception:  # noqa: BLE001 - the exit status then counts this worker alone
            return None
        total = 0
        for raw in beats.values():
            beat = json.loads(raw)
            if beat.get("t", 0) >= self.started:
                total += int(beat.get("archived") or 0)
        return total

    def workers_at_work(self) -> list[str]:
        """The other workers of the crawl still in it and alive (their alive key, crawler/frontier/reliable.py),
        when this one stops: a worker that joined late and found the queue empty, its requests still the others'
        to make (their start requests are queued as they go), did not fail the crawl. [] when Redis does not
        answer."""
        try:
            others = sorted(_text(w) for w in self.server.smembers(f"{self.prefix}:workers") if _text(w) != self.worker)
            return [w for w in others if self.server.exists(f"{self.prefix}:alive:{w}")]
        except Exception:  # noqa: BLE001 - the exit status then counts this worker alone
            return []

    def opened(self, spider=None):
        from scrapy.utils.asyncio import create_looping_call

        self.loop = create_looping_call(self.beat)
        self.loop.start(self.interval, now=True)

    def closed(self, spider=None, reason=None):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        from crawler.frontier.scheduler import UNAVAILABLE

        if reason == UNAVAILABLE:
            return  # Redis went away: the scheduler said so in one line, and nothing more can be written
        self.beat("stopped", reason)
        # a worker whose share of the queue held only errors did not fail the crawl (crawler/reporting/outcome.py)
        shared = self.crawl_pages_archived()
        if shared is not None:
            self.crawler.stats.set_value(keys.STAT_SHARED_PAGES_ARCHIVED, shared)
        at_work = self.workers_at_work()
        if at_work:
            self.crawler.stats.set_value(keys.STAT_SHARED_WORKERS_AT_WORK, len(at_work))


# --- reading ----------------------------------------------------------------------------------------
def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def crawls(server) -> list[str]:
    """The prefixes of the crawls that have keys on this Redis server, sorted."""
    found = set()
    for key in server.scan_iter(match="*:*", count=1000):
        prefix, _, part = _text(key).rpartition(":")
        if part in PARTS and prefix:
            found.add(prefix)
    return sorted(found)


def host_status(server, namespace: str, now_ms: int) -> list[dict]:
    """Per host of the shared politeness: requests in flight, rate over 10 s and 60 s, delay, block."""
    hosts = []
    for host, last in server.zrange(f"{namespace}:hosts", 0, -1, withscores=True):
        k = _text(host)
        state = {_text(f): _text(v) for f, v in server.hgetall(f"{namespace}:host:{k}").items()}
        hosts.append({
            "host": k,
            "in_flight": server.zcount(f"{namespace}:leases:{k}", now_ms, "+inf"),
            "rate_10s": server.zcount(f"{namespace}:starts:{k}", now_ms - 10_000, now_ms) / 10,
            "rate_60s": server.zcount(f"{namespace}:starts:{k}", now_ms - 60_000, now_ms) / 60,
            "delay_s": float(state["delay"]) if "delay" in state else None,
            "latency_s": float(state["latency"]) if "latency" in state else None,
            "blocked_for_s": max(0, int(state.get("blocked_until", 0)) - now_ms) / 1000,
            "starts": int(state.get("starts", 0)),
            "backoffs": int(state.get("backoffs", 0)),
            "last_start_age_s": round((now_ms - last) / 1000, 1),
        })
    return hosts


def frontier_status(server, prefix: str, namespace: str = "polite", now: float | None = None) -> dict:
    """Everything `scrapy frontier` prints about the crawl of `prefix`, as a dict (no key written)."""
    now = time.time() if now is None else now
    seconds, micros = server.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000  # the clock of the politeness slots

    def size(key):
        kind = _text(server.type(key))
        return {"zset": server.zcard, "list": server.llen, "set": server.scard}.get(kind, lambda k: 0)(key)

    workers = {}
    for worker, raw in sorted(server.hgetall(f"{prefix}:heartbeat").items()):
        beat = json.loads(raw)
        beat["age_s"] = round(now - beat["t"], 1)
        workers[_text(worker)] = beat
    # requests each worker took from the queue and has not finished (a dead one's until they are requeued)
    head = f"{prefix}:inflight:"
    for key in server.scan_iter(match=f"{head}*", count=1000):
        worker = _text(key)[len(head):]
        beat = workers.setdefault(worker, {"t": 0, "age_s": None, "state": "?"})
        beat["taken"] = server.hlen(key)
    for worker, beat in workers.items():
        beat.setdefault("taken", 0)
        beat["alive"] = bool(server.exists(f"{prefix}:alive:{worker}"))
    running = [b for b in workers.values() if b.get("state") == "running"]
    return {
        "crawl": prefix,
        "queue": size(f"{prefix}:requests"),
        "seen": size(f"{prefix}:dupefilter"),
        "exported": size(f"{prefix}:exported"),
        "workers_joined": sorted(_text(w) for w in server.smembers(f"{prefix}:workers")),
        # as of each running worker's last heartbeat
        "in_flight": sum(b.get("in_flight", 0) for b in running),
        "taken": sum(b["taken"] for b in workers.values()),
        "waiting": sum(b.get("waiting", 0) for b in running),
        "workers": workers,
        "hosts": host_status(server, namespace, now_ms),
    }


def format_status(st: dict) -> str:
    """The table `scrapy frontier` prints."""
    lines = [f"crawl {st['crawl']}: {st['queue']} queued, {st['in_flight']} in flight, {st['waiting']} waiting "
             f"for a host, {st.get('taken', 0)} taken by workers and not finished, {st['seen']} seen, "
             f"{st['exported']} exported, {len(st['workers_joined'])} worker(s) in"]
    if not st["workers"]:
        lines.append("  no worker heartbeat (none started, or the crawl ended more than a week ago)")
    else:
        lines.append(f"  {'worker':<28} {'state':<8} {'last beat':>10} {'pages':>7} {'items':>7} {'taken':>6} "
                     f"{'in flight':>9} {'waiting':>7}  finish")
        for name, b in st["workers"].items():
            state = b.get("state", "?")
            if b.get("taken") and not b.get("alive"):
                state = "dead"  # silent past FRONTIER_WORKER_TTL: its requests are queued again by the next look
            age = _age(b["age_s"]) if b.get("age_s") is not None else "-"
            lines.append(f"  {name:<28} {state:<8} {age:>10} {b.get('pages', 0):>7} "
                         f"{b.get('items', 0):>7} {b.get('taken', 0):>6} {b.get('in_flight', 0):>9} "
                         f"{b.get('waiting', 0):>7}  {b.get('reason', '')}")
    if not st["hosts"]:
        lines.append("  no host in the shared politeness (politeness not shared, or no request for an hour)")
    else:
        lines.append(f"  {'host (all crawls on this Redis)':<32} {'req/s 10s':>9} {'req/s 60s':>9} {'in flight':>9} "
                     f"{'delay':>7} {'blocked':>8} {'backoffs':>8} {'last start':>10}")
        for h in st["hosts"]:
            delay = f"{h['delay_s']:.2f}s" if h["delay_s"] is not None else "-"
            lines.append(f"  {h['host']:<32} {h['rate_10s']:>9.2f} {h['rate_60s']:>9.2f} {h['in_flight']:>9} "
                         f"{delay:>7} {h['blocked_for_s']:>7.1f}s {h['backoffs']:>8} {_age(h['last_start_age_s']):>10}")
    return "\n".join(lines)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"


def status_prefixes(settings, spider: str | None, server) -> list[str]:
    """The crawls to show: the spider's (with CRAWL_ID), or every crawl on the server."""
    if spider:
        return [key_prefix(settings, spider)]
    return crawls(server)
