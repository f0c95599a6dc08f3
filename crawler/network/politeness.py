"""Per-host politeness that holds across the workers of a shared crawl, and politeness keyed by server address.

Scrapy's politeness (DOWNLOAD_DELAY, AutoThrottle, CONCURRENT_REQUESTS_PER_DOMAIN) lives in each
process: N workers on one Redis frontier put N times the configured load on a host. With
REDIS_URL set (and SHARED_POLITENESS, on by default), the add-on below hands all of it to one
slot per host in Redis, which every worker takes before a request goes out and gives back when
its answer (or its error) comes in:

- the host's next allowed start time: DOWNLOAD_DELAY, or AutoThrottle's delay, times a random
  factor drawn once per start the way Scrapy's own slot effectively draws it (gap_factor);
- its requests in flight, at most CONCURRENT_REQUESTS_PER_DOMAIN for all workers together; each
  one is a lease scored by its expiry, renewed every POLITE_LEASE_TTL/3 seconds by the worker that
  holds it, so the leases of a worker killed -9 expire instead of blocking the host;
- AutoThrottle's delay, adjusted in Redis from every worker's latencies with Scrapy's own rule
  (scrapy.extensions.throttle.AutoThrottle._adjust_delay), so the workers share one delay;
- a 429 or 503 blocks the host for every worker: Retry-After seconds (at most RETRY_AFTER_MAX),
  else RETRY_BACKOFF_BASE * 2**(errors-1) (at most RETRY_BACKOFF_MAX), reset by the next answer
  below 500. (BackoffRetryMiddleware still delays the retried request itself.)

The slot is taken and given back by the Lua scripts below, atomically and on the Redis server's
clock (TIME), so the workers' clocks do not matter. A slot is granted only when its start time has
come and a request in flight is free: nothing is reserved ahead. Scrapy's own per-process slot is
opened wide (no delay, no AutoThrottle, per-domain concurrency = CONCURRENT_REQUESTS), so the shared
slot is the one limit, and one worker under it loads a host exactly as one plain process does.

POLITE_KEY = "ip" keys politeness by the host's address (HOST_MAP first, then Scrapy's DNS cache,
then a lookup in a thread) instead of its name, so sites served by one machine share one slot: in
the shared slot with REDIS_URL, and in Scrapy's own slot (request.meta["download_slot"]) without.

Keys (POLITE_NAMESPACE, default "polite", outside the crawl's prefix on purpose: politeness is
about the host, whichever crawl asks, so a daily run beside a backfill shares the slot), with <k>
the host name or address:
  polite:host:<k>     hash   next, delay, blocked_until (ms), errors, starts, backoffs, latency (s)
  polite:leases:<k>   zset   lease id -> expiry (ms, server clock): the requests in flight
  polite:starts:<k>   zset   lease id -> start (ms), the last POLITE_RATE_WINDOW seconds: the rate
  polite:hosts        zset   <k> -> last start (ms): the hosts `scrapy frontier` lists
All expire POLITE_STATE_TTL seconds after the host's last start.

Without REDIS_URL (or with SHARED_POLITENESS=False, or replaying FROM_WARC) and without
POLITE_KEY=ip, the add-on is off: nothing is registered and redis is not imported.
"""

from __future__ import annotations

import itertools
import logging
import random
import socket
import time
from collections import deque
from dataclasses import dataclass

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler import keys
from crawler.components import addon_of, defaults, register

logger = logging.getLogger(__name__)

DEFAULTS = {
    #: Key politeness by the host's "host" name or by its resolved "ip" address (sites served by one
    #: machine then share one slot).
    "POLITE_KEY": "host",
    #: Prefix of the shared slots' Redis keys (shared by every crawl on the Redis server).
    "POLITE_NAMESPACE": "polite",
    #: A request in flight holds its lease this long unless renewed (every third of it): a worker
    #: killed -9 holds its share of a host's concurrency for at most this many seconds.
    "POLITE_LEASE_TTL": 30.0,
    #: The random factor of the delay between two starts: "scrapy" gives the gaps of Scrapy's own
    #: slot in one process (mean 1.22 x DOWNLOAD_DELAY at DOWNLOAD_DELAY_JITTER 0.5), "uniform" the
    #: documented U(1 - jitter, 1 + jitter) (mean 1.0 x).
    "POLITE_JITTER_MODEL": "scrapy",
    #: Seconds between two asks for a host whose requests in flight are all taken (a release by this
    #: worker wakes its waiting requests at once).
    "POLITE_POLL_INTERVAL": 0.05,
    #: Start times kept per host for the rate `scrapy frontier` shows (seconds).
    "POLITE_RATE_WINDOW": 60.0,
    #: A host's slot state expires this long after its last start (seconds).
    "POLITE_STATE_TTL": 3600.0,
    #: How long a resolved address is used as the key (POLITE_KEY = "ip"), seconds.
    "POLITE_DNS_TTL": 300.0,
}

#: Over -s (cmdline, 40): the per-process values would otherwise throttle a second time.
HAND_OVER_PRIORITY = 50

# --- the Redis side -----------------------------------------------------------------------------
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: host hash, leases zset, starts zset, hosts zset
# ARGV: lease id, concurrency, delay of a host nobody timed yet (s), gap factor, lease ttl (ms),
#       rate window (ms), state ttl (ms), host key
# -> {granted 0/1, wait ms, in flight, why: 0 granted, 1 full (wait for a release), 2 blocked, 3 spacing}
ACQUIRE = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[2])
if inflight >= tonumber(ARGV[2]) then
  return {0, 0, inflight, 1}
end
local state = redis.call('HMGET', KEYS[1], 'next', 'blocked_until', 'delay')
local blocked = tonumber(state[2] or '0')
if blocked > now then
  return {0, blocked - now, inflight, 2}
end
local nxt = tonumber(state[1] or '0')
if nxt > now then
  return {0, nxt - now, inflight, 3}
end
local delay = tonumber(state[3] or ARGV[3])
if state[3] == false then
  redis.call('HSET', KEYS[1], 'delay', ARGV[3])
end
redis.call('HSET', KEYS[1], 'next', now + math.floor(delay * 1000 * tonumber(ARGV[4]) + 0.5))
redis.call('HINCRBY', KEYS[1], 'starts', 1)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[1])
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[6]))
redis.call('ZADD', KEYS[4], now, ARGV[8])
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[7])) end
return {1, 0, inflight + 1, 0}
"""

# KEYS: host hash, leases zset
# ARGV: lease id, status (0: no response), latency s ('': none), retry-after s ('': none),
#       autothrottle 0/1, target concurrency, min delay, max delay, start delay,
#       backoff base s, backoff max s, retry-after max s
# -> {the lease was held 0/1, delay now (ms), blocked for (ms)}
RELEASE = """
local held = redis.call('ZREM', KEYS[2], ARGV[1])
""" + _NOW + """
local status = tonumber(ARGV[2])
local delay = tonumber(redis.call('HGET', KEYS[1], 'delay') or ARGV[9])
if ARGV[5] == '1' and ARGV[3] ~= '' and status > 0 then
  -- AutoThrottle's rule, on the one delay every worker uses
  redis.call('HSET', KEYS[1], 'latency', ARGV[3])
  local target = tonumber(ARGV[3]) / tonumber(ARGV[6])
  local new = math.max(target, (delay + target) / 2.0)
  new = math.min(math.max(tonumber(ARGV[7]), new), tonumber(ARGV[8]))
  if not (status ~= 200 and new <= delay) then
    delay = new
    redis.call('HSET', KEYS[1], 'delay', tostring(new))
  end
end
local blocked = 0
if status == 429 or status == 503 then
  local wait
  if ARGV[4] ~= '' then
    wait = math.min(tonumber(ARGV[4]), tonumber(ARGV[12]))
  else
    local errors = redis.call('HINCRBY', KEYS[1], 'errors', 1)
    wait = math.min(tonumber(ARGV[10]) * 2 ^ (errors - 1), tonumber(ARGV[11]))
  end
  local untl = now + math.floor(wait * 1000 + 0.5)
  if untl > tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0') then
    redis.call('HSET', KEYS[1], 'blocked_until', untl)
  end
  redis.call('HINCRBY', KEYS[1], 'backoffs', 1)
  blocked = untl - now
elseif status > 0 and status < 500 then
  redis.call('HDEL', KEYS[1], 'errors')
end
return {held, math.floor(delay * 1000 + 0.5), blocked}
"""

# KEYS: leases zset; ARGV: lease ttl (ms), lease ids... -> leases renewed.
# A plain ZADD (not XX): after a Redis restart without persistence the leases still held are put back.
RENEW = _NOW + """
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
return #ARGV - 1
"""


def gap_factor(jitter: float, model: str = "scrapy", rng=random) -> float:
    """The factor of the delay between two starts on a host, drawn once per start (whoever asks).

    "scrapy" gives the gaps of Scrapy's own slot in one process: Downloader._process_queue draws
    delay * U(1-j, 1+j), waits, and draws again each time its timer fires until a draw is no
    longer than the time already waited, so the gap is the first draw not above the one before
    it (mean 1.22 x DOWNLOAD_DELAY for j = 0.5, never below 1-j). "uniform" is the documented
    U(1-j, 1+j) (mean 1.0 x). One draw per start either way: the load does not grow with the
    number of workers asking.
    """
    if not jitter:
        return 1.0
    lo, hi = max(0.0, 1 - jitter), 1 + jitter
    d = rng.uniform(lo, hi)
    if model == "uniform":
        return d
    while True:
        nxt = rng.uniform(lo, hi)
        if nxt <= d:
            return d
        d = nxt


@dataclass(frozen=True)
class SlotPolicy:
    """What a host's shared slot allows: the crawl's per-host politeness settings, read once."""

    concurrency: int  # CONCURRENT_REQUESTS_PER_DOMAIN
    delay: float  # DOWNLOAD_DELAY: AutoThrottle's floor
    jitter: float  # DOWNLOAD_DELAY_JITTER
    jitter_model: str  # POLITE_JITTER_MODEL
    autothrottle: bool
    start_delay: float
    max_delay: float
    target_concurrency: float
    backoff_base: float
    backoff_max: float
    retry_after_max: float
    lease_ttl: float
    rate_window: float
    state_ttl: float

    @classmethod
    def from_settings(cls, s) -> "SlotPolicy":
        return cls(
            concurrency=max(1, s.getint("CONCURRENT_REQUESTS_PER_IP") or s.getint("CONCURRENT_REQUESTS_PER_DOMAIN")),
            delay=s.getfloat("DOWNLOAD_DELAY"),
            jitter=s.getfloat("DOWNLOAD_DELAY_JITTER"),
            jitter_model=s.get("POLITE_JITTER_MODEL"),
            autothrottle=s.getbool("AUTOTHROTTLE_ENABLED"),
            start_delay=s.getfloat("AUTOTHROTTLE_START_DELAY"),
            max_delay=s.getfloat("AUTOTHROTTLE_MAX_DELAY"),
            target_concurrency=s.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY"),
            backoff_base=s.getfloat("RETRY_BACKOFF_BASE"),
            backoff_max=s.getfloat("RETRY_BACKOFF_MAX"),
            retry_after_max=s.getfloat("RETRY_AFTER_MAX"),
            lease_ttl=s.getfloat("POLITE_LEASE_TTL"),
            rate_window=s.getfloat("POLITE_RATE_WINDOW"),
            state_ttl=s.getfloat("POLITE_STATE_TTL"),
        )

    @property
    def first_delay(self) -> float:
        """The delay of a host nobody has timed yet (AutoThrottle's start delay, never below the floor)."""
        return max(self.delay, self.start_delay) if self.autothrottle else self.delay

    def describe(self) -> str:
        throttle = f", AutoThrottle from {self.first_delay:g}s to {self.max_delay:g}s" if self.autothrottle else ""
        return f"{self.concurrency} in flight per host, delay {self.delay:g}s{throttle}"


@dataclass(frozen=True)
class Grant:
    granted: bool
    wait: float  # refused: seconds until the host's next start or the end of its block; 0 when full
    in_flight: int
    why: str  # "granted", "full", "blocked", "spacing"
    lease: str | None = None


_WHY = ("granted", "full", "blocked", "spacing")


class HostSlots:
    """The shared per-host slots in Redis: acquire, release and renew, one host key at a time (no Scrapy)."""

    def __init__(self, server, policy: SlotPolicy, namespace: str = "polite", owner: str = "worker"):
        self.server = server
        self.policy = policy
        self.ns = namespace
        self.owner = owner
        self._ids = itertools.count(1)
        self._acquire = server.register_script(ACQUIRE)
        self._release = server.register_script(RELEASE)
        self._renew = server.register_script(RENEW)

    def keys(self, host: str) -> list[str]:
        return [f"{self.ns}:host:{host}", f"{self.ns}:leases:{host}", f"{self.ns}:starts:{host}", f"{self.ns}:hosts"]

    def acquire(self, host: str, factor: float | None = None) -> Grant:
        """Ask for a start on `host` now; `factor` (default: drawn by gap_factor) spaces the next one."""
        p = self.policy
        if factor is None:
            factor = gap_factor(p.jitter, p.jitter_model)
        lease = f"{self.owner}:{next(self._ids)}"
        granted, wait, in_flight, why = self._acquire(keys=self.keys(host), args=[
            lease, p.concurrency, p.first_delay, max(0.0, factor), int(p.lease_ttl * 1000),
            int(p.rate_window * 1000), int(p.state_ttl * 1000), host])
        return Grant(bool(granted), wait / 1000, int(in_flight), _WHY[int(why)], lease if granted else None)

    def release(self, host: str, lease: str, status: int = 0, latency: float | None = None,
                retry_after: float | None = None) -> tuple[bool, float, float]:
        """Give the lease back; with a response, adjust the shared delay and apply a 429/503 block.
        -> (the lease was still held, the host's delay now (s), blocked for (s))"""
        p = self.policy
        held, delay_ms, blocked_ms = self._release(keys=self.keys(host)[:2], args=[
            lease, status, "" if latency is None else repr(float(latency)),
            "" if retry_after is None else repr(float(retry_after)), int(p.autothrottle), p.target_concurrency,
            p.delay, p.max_delay, p.first_delay, p.backoff_base, p.backoff_max, p.retry_after_max])
        return bool(held), delay_ms / 1000, blocked_ms / 1000

    def renew(self, host: str, leases) -> int:
        leases = list(leases)
        if not leases:
            return 0
        return self._renew(keys=self.keys(host)[1:2], args=[int(self.policy.lease_ttl * 1000), *leases])


# --- the add-on ---------------------------------------------------------------------------------
class HostPoliteness:
    """Add-on: per-host politeness shared in Redis (REDIS_URL, SHARED_POLITENESS), or keyed by
    address (POLITE_KEY=ip); see the module docstring. Its `policy` is what the shared slot allows."""

    def __init__(self, shared: bool):
        self.shared = shared
        self.policy: SlotPolicy | None = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if s.get("FROM_WARC"):  # answered from an archive: no host is asked anything
            raise NotConfigured
        key = s.get("POLITE_KEY")
        if key not in (None, "host", "ip"):
            from crawler.config import ConfigError

            raise ConfigError(f"POLITE_KEY must be 'host' or 'ip', not {key!r}")
        shared = bool(s.get("REDIS_URL")) and s.getbool("SHARED_POLITENESS")
        if not shared and key != "ip":
            raise NotConfigured
        return cls(shared)

    def update_settings(self, settings):
        defaults(settings, DEFAULTS)
        if not self.shared:  # POLITE_KEY=ip in one process: Scrapy's own slot, keyed by address
            register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.network.politeness.AddressSlotMiddleware", 940)
            return
        self.policy = SlotPolicy.from_settings(settings)
        # Scrapy's own slot opened wide: the shared slot is the one limit
        settings.set("DOWNLOAD_DELAY", 0, priority=HAND_OVER_PRIORITY)
        settings.set("AUTOTHROTTLE_ENABLED", False, priority=HAND_OVER_PRIORITY)
        settings.set("CONCURRENT_REQUESTS_PER_IP", 0, priority=HAND_OVER_PRIORITY)
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", max(1, settings.getint("CONCURRENT_REQUESTS")),
                     priority=HAND_OVER_PRIORITY)
        # before the WARC recorder (950): a record's WARC-Date is when the request really went out
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.network.politeness.SharedSlotMiddleware", 940)


# --- the key --------------------------------------------------------------------------------------
class SlotKeys:
    """The politeness key of a request: its host name, or (POLITE_KEY = "ip") the host's address."""

    def __init__(self, by: str, host_map=None, dns_ttl: float = 300.0, clock=time.monotonic):
        from crawler.network.hostmap import parse_host_map

        self.by = by
        self.host_map = parse_host_map(host_map)
        self.dns_ttl = dns_ttl
        self.clock = clock
        self._addresses: dict[str, tuple[str, float]] = {}

    @classmethod
    def from_settings(cls, s) -> "SlotKeys":
        return cls(s.get("POLITE_KEY"), s.get("HOST_MAP"), s.getfloat("POLITE_DNS_TTL"))

    async def key_for(self, request) -> str:
        host = (urlparse_cached(request).hostname or "").lower().rstrip(".")
        if self.by != "ip" or not host:
            return host
        return await self.address(host, urlparse_cached(request).port)

    async def address(self, host: str, port: int | None = None) -> str:
        """HOST_MAP's address for the host, else the DNS answer (cached POLITE_DNS_TTL); the port is
        left out, so the sites of one machine share one key. A name that does not resolve is its own key."""
        mapped = self.host_map.get((host, port)) or self.host_map.get((host, None))
        if mapped is None:  # HOST_MAP names a port per scheme: any entry of the host will do
            mapped = next((target for (h, _), target in self.host_map.items() if h == host), None)
        if mapped is not None:
            return mapped[0]
        cached = self._addresses.get(host)
        if cached and cached[1] > self.clock():
            return cached[0]
        from scrapy.resolver import dnscache

        addr = dnscache.get(host)
        if addr is None:
            from scrapy.utils.asyncio import run_in_thread

            try:
                addr = await run_in_thread(socket.gethostbyname, host)
            except OSError:
                addr = host  # the download will fail the same way
        self._addresses[host] = (addr, self.clock() + self.dns_ttl)
        return addr


class AddressSlotMiddleware:
    """POLITE_KEY = "ip" in one process: Scrapy's own slot (delay, AutoThrottle, per-domain
    concurrency) keyed by the host's address, through request.meta["download_slot"]."""

    def __init__(self, slot_keys: SlotKeys):
        self.slot_keys = slot_keys

    @classmethod
    def from_crawler(cls, crawler):
        return cls(SlotKeys.from_settings(crawler.settings))

    async def process_request(self, request, spider=None):
        if "download_slot" not in request.meta:
            request.meta["download_slot"] = await self.slot_keys.key_for(request)
        return None


# --- the shared slot in the downloader --------------------------------------------------------------
class _HostQueue:
    """One host's requests waiting in this worker for the shared slot, and whether its one pump runs."""

    __slots__ = ("key", "waiting", "pumping", "nap")

    def __init__(self, key: str):
        self.key = key
        self.waiting: deque = deque()  # Deferreds, first come first served
        self.pumping = False
        self.nap = None  # (Deferred, delayed call, wakeable by a release) while the pump sleeps


class SharedSlotMiddleware:
    """Await the host's shared slot before the download; give it back when the answer comes.

    One pump per host per worker asks Redis on behalf of the first waiting request: a refusal says
    how long until the next start (the pump sleeps that long) or that the host is full (it asks
    again every POLITE_POLL_INTERVAL, or at once when this worker frees a lease of the host)."""

    def __init__(self, crawler, slots: HostSlots, slot_keys: SlotKeys, poll: float, download_timeout: float):
        self.crawler = crawler
        self.stats = crawler.stats
        self.slots = slots
        self.slot_keys = slot_keys
        self.poll = poll
        #: a lease older than this is no longer renewed (its request was lost without an answer)
        self.max_hold = download_timeout + slots.policy.lease_ttl
        self.queues: dict[str, _HostQueue] = {}
        self.held: dict[str, tuple[str, float]] = {}  # lease -> (host key, monotonic time taken)
        self.closing = False
        self._renewer = None
        self._last_error_log = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        addon = addon_of(crawler, HostPoliteness)
        if addon is None or not addon.shared:
            raise NotConfigured
        from crawler.frontier.addon import default_worker_id, redis_client

        s = crawler.settings
        server = redis_client(s, socket_timeout=5, socket_connect_timeout=5)
        slots = HostSlots(server, addon.policy, s.get("POLITE_NAMESPACE"), s.get("WORKER_ID") or default_worker_id())
        o = cls(crawler, slots, SlotKeys.from_settings(s), s.getfloat("POLITE_POLL_INTERVAL"),
                s.getfloat("DOWNLOAD_TIMEOUT"))
        crawler.signals.connect(o.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        return o

    # --- life cycle -----------------------------------------------------------------------------
    def spider_opened(self, spider=None):
        from scrapy.utils.asyncio import create_looping_call

        logger.info("Per-host politeness shared by the workers in Redis (%s:*, keyed by %s): %s",
                    self.slots.ns, self.slot_keys.by, self.slots.policy.describe())
        self._renewer = create_looping_call(self.renew)
        self._renewer.start(max(0.5, self.slots.policy.lease_ttl / 3), now=False)

    def spider_closed(self, spider=None, reason=None):
        self.give_up_waiting()
        if self._renewer is not None and self._renewer.running:
            self._renewer.stop()
        for lease, (key, _) in list(self.held.items()):  # give back what this worker still holds
            self._safe(self.slots.release, key, lease)
        self.held.clear()

    def give_up_waiting(self):
        """The requests waiting for a slot are given up (IgnoreRequest), and no more wait: the crawl closes, or
        Redis went away and the worker stops (crawler/frontier/scheduler.py; the requests stay in Redis)."""
        self.closing = True
        for queue in self.queues.values():
            self._wake(queue, closing=True)

    def renew(self):
        by_host: dict[str, list[str]] = {}
        now = time.monotonic()
        for lease, (key, taken) in list(self.held.items()):
            if now - taken > self.max_hold:  # lost without an answer: let it expire
                del self.held[lease]
                self.stats.inc_value(keys.STAT_POLITE_ABANDONED)
                continue
            by_host.setdefault(key, []).append(lease)
        for key, leases in by_host.items():
            self._safe(self.slots.renew, key, leases)

    @property
    def in_flight(self) -> int:
        """Requests of this worker holding a host's slot now (downloading)."""
        return len(self.held)

    # --- taking and giving back ---------------------------------------------------------------------
    async def process_request(self, request, spider=None):
        if keys.META_POLITE_LEASE in request.meta:  # already holds one (sent again from below)
            return None
        from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
        from twisted.internet.defer import Deferred

        key = await self.slot_keys.key_for(request)
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = _HostQueue(key)
        waiter = Deferred()
        queue.waiting.append(waiter)
        began = time.monotonic()
        if not queue.pumping:  # set here, before the pump runs: one pump per host
            queue.pumping = True
            deferred_from_coro(self._pump(queue)).addErrback(
                lambda f: logger.error("Politeness pump of %s failed: %s", key, f.getTraceback()))
        lease = await maybe_deferred_to_future(waiter)
        if lease is None:  # the crawl is closing
            from scrapy.exceptions import IgnoreRequest

            raise IgnoreRequest(f"the crawl closed while {request.url} waited for its host's slot")
        request.meta[keys.META_POLITE_LEASE] = (key, lease)
        self.stats.inc_value(keys.STAT_POLITE_ACQUIRED)
        self.stats.inc_value(keys.STAT_POLITE_WAIT, round(time.monotonic() - began, 3))
        return None

    async def _pump(self, queue: _HostQueue):
        try:
            while queue.waiting:
                if self.closing:
                    queue.waiting.popleft().callback(None)
                    continue
                try:
                    grant = self.slots.acquire(queue.key)
                except Exception as e:  # Redis away or restarting: fail closed, ask again
                    self._redis_error("acquire", e)
                    await self._nap(queue, 1.0, wakeable=False)
                    continue
                if not grant.granted:
                    self.stats.inc_value(keys.STAT_POLITE_REFUSED.format(reason=grant.why))
                    full = grant.why == "full"
                    await self._nap(queue, self.poll if full else max(grant.wait, 0.001), wakeable=full)
                    continue
                self.held[grant.lease] = (queue.key, time.monotonic())
                queue.waiting.popleft().callback(grant.lease)
        finally:
            queue.pumping = False

    async def _nap(self, queue: _HostQueue, seconds: float, wakeable: bool):
        """Sleep `seconds`; a wakeable nap (the host was full) ends when this worker frees one of its leases."""
        from scrapy.utils.asyncio import call_later
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.defer import Deferred

        d = Deferred()
        call = call_later(seconds, lambda: d.called or d.callback(None))
        queue.nap = (d, call, wakeable)
        try:
            await maybe_deferred_to_future(d)
        finally:
            if queue.nap is not None and queue.nap[0] is d:
                queue.nap = None

    @staticmethod
    def _wake(queue: _HostQueue, closing: bool = False):
        """End the pump's nap if it waits for a release (or the crawl closes)."""
        if queue.nap is not None and (queue.nap[2] or closing):
            d, call, _ = queue.nap
            queue.nap = None
            call.cancel()
            if not d.called:
                d.callback(None)

    def _give_back(self, request, status: int = 0, latency=None, retry_after=None):
        # popped: a retry or redirect copy of the request must take a slot of its own
        taken = request.meta.pop(keys.META_POLITE_LEASE, None)
        if taken is None:
            return
        key, lease = taken
        self.held.pop(lease, None)
        if request.meta.get("autothrottle_dont_adjust_delay") is True:
            latency = None
        result = self._safe(self.slots.release, key, lease, status, latency, retry_after)
        queue = self.queues.get(key)
        if queue is not None:
            self._wake(queue)
        if result is None:
            return
        held, delay, blocked = result
        if not held:
            self.stats.inc_value(keys.STAT_POLITE_LEASE_EXPIRED)  # renewals failed (Redis away) or a long stall
        if blocked:
            self.stats.inc_value(keys.STAT_POLITE_BLOCKED)
            self.stats.inc_value(keys.STAT_POLITE_BLOCKED_SECONDS, round(blocked, 3))
            logger.info("%s answered %s: every worker holds off %s for %.1fs", request.url, status, key, blocked)
        self.stats.set_value(keys.STAT_POLITE_DELAY.format(host=key), round(delay, 3))

    def process_response(self, request, response, spider=None):
        retry_after = None
        if response.status in (429, 503):
            from crawler.network.backoff import retry_after_seconds

            retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
        self._give_back(request, response.status, request.meta.get("download_latency"), retry_after)
        return response

    def process_exception(self, request, exception, spider=None):
        self._give_back(request)
        return None

    # --- Redis errors -----------------------------------------------------------------------------
    def _safe(self, fn, *args):
        try:
            return fn(*args)
        except Exception as e:
            self._redis_error(fn.__name__, e)
            return None

    def _redis_error(self, what: str, e: Exception):
        self.stats.inc_value(keys.STAT_POLITE_REDIS_ERRORS)
        now = time.monotonic()
        if now - self._last_error_log > 10:
            self._last_error_log = now
            logger.warning("Shared politeness: Redis %s failed (%s); requests wait until it answers", what, e)
