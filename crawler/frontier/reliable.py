"""The reliable shared queue: a request a worker takes stays recorded as that worker's until its page is settled.

The reliable-queue pattern of the Redis documentation (LMOVE from the queue into a per-worker
list, removed on completion), on the shared priority queue (a sorted set, scrapy-redis's
encoding), with Lua scripts so that every step is one atomic command at the server:

  take     ZRANGE + ZREM the best request of <prefix>:requests, HSET it into <prefix>:inflight:<worker>
           under a new lease id (INCR <prefix>:leases); the worker keeps the id in request.meta
  ack      HDEL the lease: the page is settled (records written, its item exported or dropped, its
           links in the queue, or its failure handled), or its redirect or retry is in the queue
  push     SADD the fingerprint to the seen-set and ZADD the request in one step: a worker killed
           between the two can no longer leave a URL "seen" and never queued
  requeue  every lease of a worker back into the queue (ZADD with its priority, bypassing the
           seen-set), its unconfirmed export claims out of <prefix>:exported, the worker out of
           <prefix>:workers

A worker proves it is alive with <prefix>:alive:<worker>, a key that expires WORKER_TTL after the
worker last renewed it (Redis's clock). Once it is gone, any worker of the crawl (each looks every
WORKER_TTL/3) requeues the dead one's leases; a worker restarted under the same id requeues its
own at start-up, before it takes anything. So a request taken by a worker killed -9 is back in the
queue at most WORKER_TTL + WORKER_TTL/3 seconds later (at once when it restarts under its id).

Export claims (pipelines/sharedexport.py): a worker adds an article's URL to <prefix>:exported
and to <prefix>:claims:<worker> before export, and takes it out of its claims once the feed
wrote the line. A claim still open when the worker died may not be on disk: the requeue removes
it from the exported set, so the refetched page is exported by whichever worker gets it.

Pure redis-py (no Scrapy): the scheduler (crawler/frontier/scheduler.py) drives it.
"""

from __future__ import annotations

#: KEYS: queue, inflight hash, lease counter. Returns {lease id, request} or nil.
TAKE = """
local best = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #best == 0 then return false end
redis.call('ZREM', KEYS[1], best[1])
local lease = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], lease, best[2] .. ' ' .. best[1])
return {lease, best[1]}
"""

#: KEYS: queue, seen-set. ARGV: score, request, fingerprint ('' = not filtered). 1 if queued, 0 if seen.
PUSH = """
if ARGV[3] ~= '' and redis.call('SADD', KEYS[2], ARGV[3]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

#: The requeue of one worker, its keys from KEYS[o + 1] on: queue, inflight hash, claims set, exported set,
#: workers set. ARGV: worker. Returns {requests requeued, claims released}.
_REQUEUE_BODY = """
local queue, inflight, claims, exported, workers = KEYS[o + 1], KEYS[o + 2], KEYS[o + 3], KEYS[o + 4], KEYS[o + 5]
local entries = redis.call('HGETALL', inflight)
local n = 0
for i = 2, #entries, 2 do
  local entry = entries[i]
  local sep = string.find(entry, ' ', 1, true)
  redis.call('ZADD', queue, string.sub(entry, 1, sep - 1), string.sub(entry, sep + 1))
  n = n + 1
end
redis.call('DEL', inflight)
local urls = redis.call('SMEMBERS', claims)
for _, url in ipairs(urls) do redis.call('SREM', exported, url) end
redis.call('DEL', claims)
redis.call('SREM', workers, ARGV[1])
return {n, #urls}
"""

#: KEYS: queue, inflight hash, claims set, exported set, workers set (a worker's own requeue).
REQUEUE = "local o = 0\n" + _REQUEUE_BODY

#: KEYS: alive key, then REQUEUE's. The requeue of a worker whose alive key is gone; nil while it is there.
RECOVER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local o = 1
""" + _REQUEUE_BODY


class ReliableQueue:
    """The shared queue of one crawl (`prefix`, crawler/frontier/addon.py) as seen by one worker; see the module docstring."""

    def __init__(self, server, prefix: str, worker: str, ttl: float, *, queue_key: str | None = None,
                 seen_key: str | None = None):
        self.server = server
        self.prefix = prefix
        self.worker = worker
        self.ttl = ttl
        self.queue_key = queue_key or f"{prefix}:requests"  # (SCHEDULER_QUEUE_KEY, SCHEDULER_DUPEFILTER_KEY)
        self.seen_key = seen_key or f"{prefix}:dupefilter"
        self.exported_key = f"{prefix}:exported"
        self.workers_key = f"{prefix}:workers"
        self.lease_key = f"{prefix}:leases"
        self._take = server.register_script(TAKE)
        self._push = server.register_script(PUSH)
        self._requeue = server.register_script(REQUEUE)
        self._recover = server.register_script(RECOVER)

    # --- the keys of a worker ---------------------------------------------------------------------
    def inflight_key(self, worker: str | None = None) -> str:
        return f"{self.prefix}:inflight:{worker or self.worker}"

    def claims_key(self, worker: str | None = None) -> str:
        return f"{self.prefix}:claims:{worker or self.worker}"

    def alive_key(self, worker: str | None = None) -> str:
        return f"{self.prefix}:alive:{worker or self.worker}"

    # --- this worker --------------------------------------------------------------------------------
    def push(self, data: bytes, score: float, fingerprint: str = "") -> bool:
        """Queue a request (its fingerprint into the seen-set first, unless ''); False if it was seen."""
        return bool(self._push(keys=[self.queue_key, self.seen_key], args=[score, data, fingerprint]))

    def take(self) -> tuple[str, bytes] | None:
        """(lease id, request) of the best queued request, now this worker's; None if the queue is empty."""
        got = self._take(keys=[self.queue_key, self.inflight_key(), self.lease_key])
        if not got:
            return None
        lease, data = got
        return (lease.decode() if isinstance(lease, bytes) else str(lease)), data

    def ack(self, lease: str) -> bool:
        """The request of `lease` is settled; False if it was no longer this worker's (requeued meanwhile)."""
        return bool(self.server.hdel(self.inflight_key(), lease))

    def claim(self, url: str) -> bool:
        """Claim the export of an article: True if no worker did before."""
        pipe = self.server.pipeline()
        pipe.sadd(self.exported_key, url)
        pipe.sadd(self.claims_key(), url)
        added, _ = pipe.execute()
        if not added:
            self.server.srem(self.claims_key(), url)
        return bool(added)

    def confirm(self, url: str) -> None:
        """The feed wrote the article claimed: the claim stays whatever happens to the worker now."""
        self.server.srem(self.claims_key(), url)

    def renew(self) -> None:
        """This worker is alive for `ttl` more seconds."""
        self.server.set(self.alive_key(), 1, px=max(1, int(self.ttl * 1000)))

    def release(self) -> tuple[int, int]:
        """Requeue every lease and claim of this worker (its restart, or its close), and leave the crawl."""
        n, claims = self._requeue(keys=[self.queue_key, self.inflight_key(), self.claims_key(),
                                        self.exported_key, self.workers_key], args=[self.worker])
        self.server.delete(self.alive_key())
        return int(n), int(claims)

    # --- the others ---------------------------------------------------------------------------------
    def holders(self) -> dict[str, int]:
        """{worker: requests taken and not settled} of every worker holding some (this one included)."""
        out = {}
        head = f"{self.prefix}:inflight:"
        for key in self.server.scan_iter(match=f"{head}*", count=1000):
            key = key.decode() if isinstance(key, bytes) else key
            n = self.server.hlen(key)
            if n:
                out[key[len(head):]] = n
        return out

    def held_by_others(self) -> int:
        return sum(n for worker, n in self.holders().items() if worker != self.worker)

    def recover_dead(self) -> dict[str, tuple[int, int]]:
        """Requeue the requests and claims of every worker whose alive key expired: {worker: (requests, claims)}."""
        found = {}
        workers = set(self.holders())
        workers |= {w.decode() if isinstance(w, bytes) else w for w in self.server.smembers(self.workers_key)}
        head = f"{self.prefix}:claims:"
        for key in self.server.scan_iter(match=f"{head}*", count=1000):
            workers.add((key.decode() if isinstance(key, bytes) else key)[len(head):])
        for worker in sorted(workers - {self.worker}):
            got = self._recover(keys=[self.alive_key(worker), self.queue_key, self.inflight_key(worker),
                                      self.claims_key(worker), self.exported_key, self.workers_key], args=[worker])
            if got:
                found[worker] = (int(got[0]), int(got[1]))
        return found
