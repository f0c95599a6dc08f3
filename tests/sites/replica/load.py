"""The load a crawl put on one host, read from the replica's own exchange log; and a replica that answers slowly or with a 429.

    load = host_load(server.log, host="www.spacewar.com", windows=(1.0, 5.0, 10.0))
    load.peak_rate[5.0]      # most requests started in any 5 s window, per second
    load.peak_in_flight      # most exchanges the server was serving at one instant
    load.share_2_in_flight   # share of the time it was serving 2 or more

An exchange is "in flight" at the server from `started` (its request head read) to `finished`
(its response written). The rate counts `started` times in a sliding window [t, t + W) that may
start anywhere (at every request start, where the maximum always is), so a burst that straddles a
second boundary is not split in two. Works on any objects with `host`, `started` and `finished`
attributes, or on (started, finished) pairs (`peak_rate`, `peak_in_flight`).

LoadReplica (for tests/e2e/test_politeness.py and bench/politeness.py) spends `latency` seconds on
every answer of the site between `started` and `finished` (on loopback an answer takes about 1 ms,
and "in flight" would measure nothing), and answers its `answer_429`-th request to the site with a
429 and Retry-After, once.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from dataclasses import dataclass, field

from tests.sites.replica.content import WWW
from tests.sites.replica.server import Reply, ReplicaServer, small_html


def peak_rate(starts, window: float) -> float:
    """Most start times in any half-open window [t, t + window), divided by `window` (requests/s)."""
    times = sorted(starts)
    best = 0
    for i, t in enumerate(times):
        best = max(best, bisect_left(times, t + window, lo=i) - i)
    return best / window


def _events(intervals):
    events = []
    for started, finished in intervals:
        events.append((started, 1))
        events.append((max(finished, started), -1))
    events.sort()  # a finish (-1) at t before a start (+1) at t
    return events


def peak_in_flight(intervals) -> int:
    """Most (started, finished) intervals open at one instant (a finish at t closes before a start at t)."""
    now = best = 0
    for _, step in _events(intervals):
        now += step
        best = max(best, now)
    return best


def share_in_flight(intervals, at_least: int = 2) -> float:
    """Share of the span (first start to last finish) with at least `at_least` intervals open: a
    steadier figure than the peak, which one overlap of a few milliseconds sets."""
    events = _events(intervals)
    if not events:
        return 0.0
    now, covered, last = 0, 0.0, events[0][0]
    for t, step in events:
        if now >= at_least:
            covered += t - last
        now += step
        last = t
    span = events[-1][0] - events[0][0]
    return covered / span if span > 0 else 0.0


def worker_of(exchange) -> str:
    """The X-Worker request header a test or benchmark crawl sent (which worker made the request)."""
    for line in exchange.request_head.decode("latin-1").splitlines():
        if line.lower().startswith("x-worker:"):
            return line.split(":", 1)[1].strip()
    return "?"


def host_name(exchange) -> str:
    host = (exchange.host or "").lower()
    return host if host.endswith("]") else host.rsplit(":", 1)[0].rstrip(".")


@dataclass
class HostLoad:
    host: str | None
    requests: int
    span: float  # first start to last finish, seconds
    mean_rate: float  # requests / span
    peak_rate: dict[float, float] = field(default_factory=dict)  # window seconds -> requests/s
    peak_in_flight: int = 0
    share_2_in_flight: float = 0.0  # share of the span with 2 or more in flight

    def row(self) -> dict:
        return {"host": self.host, "requests": self.requests, "span_s": round(self.span, 2),
                "mean_rate": round(self.mean_rate, 3), "peak_in_flight": self.peak_in_flight,
                "share_2_in_flight": round(self.share_2_in_flight, 4),
                **{f"peak_rate_{w:g}s": round(r, 3) for w, r in self.peak_rate.items()}}


def host_load(exchanges, host: str | None = WWW, windows=(1.0, 5.0, 10.0)) -> HostLoad:
    """Requests, span, mean and peak rates (per window) and peak in flight for `host` (None: every host)."""
    chosen = [e for e in exchanges if host is None or host_name(e) == host]
    if not chosen:
        return HostLoad(host, 0, 0.0, 0.0, {w: 0.0 for w in windows}, 0)
    starts = [e.started for e in chosen]
    span = max(e.finished for e in chosen) - min(starts)
    pairs = [(e.started, e.finished) for e in chosen]
    return HostLoad(host, len(chosen), span, len(chosen) / span if span > 0 else float("nan"),
                    {w: peak_rate(starts, w) for w in windows}, peak_in_flight(pairs), share_in_flight(pairs, 2))


class LoadReplica(ReplicaServer):
    """The replica, spending `latency` s on every answer of the site (not robots.txt) and answering
    its `answer_429`-th request to the site once with 429 and `Retry-After: retry_after`."""

    def __init__(self, *args, latency: float = 0.0, answer_429: int = 0, retry_after: int = 5, **kwargs):
        super().__init__(*args, **kwargs)
        self.latency = latency
        self.answer_429 = answer_429
        self.retry_after = retry_after
        self._count = 0
        self._count_lock = threading.Lock()
        self.answered_429: list[float] = []  # when

    def _route(self, scheme, host, method, target, headers):
        on_site = host.split(":")[0].lower() == WWW and scheme == "https" and not target.startswith("/robots")
        if on_site and self.answer_429:
            with self._count_lock:
                self._count += 1
                hit = self._count == self.answer_429
            if hit:
                self.answered_429.append(time.time())
                return Reply(429, [("Retry-After", str(self.retry_after))], small_html("Too Many Requests", "Slow down."),
                             "text/html; charset=iso-8859-1", compressible=True)
        if on_site and self.latency:
            time.sleep(self.latency)
        return super()._route(scheme, host, method, target, headers)
