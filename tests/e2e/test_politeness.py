"""Two workers on one Redis frontier put the load of one worker on the host, measured at the replica server.

Each run crawls a fresh replica (LoadReplica: 0.4 s per answer, so requests overlap and "in flight"
means something; its 30th request to the site answered 429 with Retry-After: 2) with the project's
politeness shape (AutoThrottle on, CONCURRENT_REQUESTS_PER_DOMAIN 2, DOWNLOAD_DELAY 0.2: smaller
than the defaults to keep the test short), once with one worker and once with two, and reads the
server's own log: peak requests/s over sliding windows and peak requests in flight. The long
measurements at the defaults are bench/politeness.py's (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from tests.crawling import REPO, crawl
from tests.redis_server import redis_server_or_skip
from tests.sites.replica.content import WWW
from tests.sites.replica.load import LoadReplica, host_load, worker_of

ARTICLES = 40
LATENCY = 0.4
PER_HOST = 2
RETRY_AFTER = 2
NTH_429 = 30
SETTINGS = {"AUTOTHROTTLE_ENABLED": "True", "DOWNLOAD_DELAY": "0.2", "CONCURRENT_REQUESTS_PER_DOMAIN": str(PER_HOST),
            "FRONTIER_IDLE_TIMEOUT": "2", "FRONTIER_HEARTBEAT_INTERVAL": "1"}
HEADERS = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language": "en",
           "Accept-Encoding": "gzip, deflate"}


def frontier_status(redis_url: str, crawl_id: str, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "frontier", "spacewar", "-s", f"REDIS_URL={redis_url}",
                           "-s", f"CRAWL_ID={crawl_id}", *extra], cwd=REPO, capture_output=True, text=True, timeout=60)


class Run:
    """One crawl of a fresh LoadReplica by `workers` workers; what the server saw."""

    def __init__(self, workers: int, redis, tmp_path):
        self.crawl_id = f"load-{workers}w"
        self.results = {}
        self.status_running = None
        redis.client().flushdb()
        with LoadReplica(n_articles=ARTICLES, faults=False, latency=LATENCY, answer_429=NTH_429,
                         retry_after=RETRY_AFTER) as replica:
            def worker(name):
                self.results[name] = crawl(tmp_path / name, replica.host_map(), timeout=300, settings={
                    **SETTINGS, "REDIS_URL": redis.url, "CRAWL_ID": self.crawl_id, "WORKER_ID": name,
                    "DEFAULT_REQUEST_HEADERS": json.dumps({**HEADERS, "X-Worker": name})})

            threads = [threading.Thread(target=worker, args=(f"w{i + 1}",)) for i in range(workers)]
            for t in threads:
                t.start()
            # `scrapy frontier` while the crawl runs: once the server has served a third of it
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and sum(e.host.startswith(WWW) for e in replica.log) < 30:
                time.sleep(0.2)
            self.status_running = frontier_status(redis.url, self.crawl_id, "--json")
            for t in threads:
                t.join()
            self.log = list(replica.log)
            self.answered_429 = list(replica.answered_429)
            self.expected = {item["url"] for item in replica.expected_items()}
        self.status_after = frontier_status(redis.url, self.crawl_id)
        self.status_after_json = json.loads(frontier_status(redis.url, self.crawl_id, "--json").stdout)
        self.load = host_load(self.log, WWW)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    with redis_server_or_skip() as redis:
        one = Run(1, redis, tmp_path_factory.mktemp("one-worker"))
        two = Run(2, redis, tmp_path_factory.mktemp("two-workers"))
    print(f"\nat the server, {WWW}: 1 worker {one.load.row()}\n2 workers {two.load.row()}")
    return one, two


def test_both_crawls_archive_the_whole_site(runs):
    for run in runs:
        assert [r.returncode for r in run.results.values()] == [0] * len(run.results)
        exported = [item["url"] for r in run.results.values() for item in r.items]
        assert sorted(exported) == sorted(run.expected)  # every article, each once
    two = runs[1]
    requests_per_worker = {w: sum(1 for e in two.log if worker_of(e) == w) for w in two.results}
    assert min(requests_per_worker.values()) >= 10, requests_per_worker  # both workers really crawled


def test_two_workers_put_the_load_of_one_worker_on_the_host(runs):
    one, two = runs[0].load, runs[1].load
    # requests per second: the peak over any 10 s and 5 s window, within 1.1x
    for window in (10.0, 5.0):
        assert two.peak_rate[window] <= 1.1 * one.peak_rate[window], (window, one.row(), two.row())
    # requests in flight: the peak within 1.1x, and never above the configured limit
    assert one.peak_in_flight == PER_HOST  # requests did overlap: the limit was reached...
    assert two.peak_in_flight <= 1.1 * one.peak_in_flight  # ...and two workers did not pass it
    # and the crawl takes as long: the host's capacity is what the politeness allows, shared
    assert two.span >= 0.8 * one.span


def test_a_429_seen_by_one_worker_slows_the_other(runs):
    two = runs[1]
    (t,) = two.answered_429
    site = sorted((e for e in two.log if e.host.startswith(WWW) and not e.path.startswith("/robots")),
                  key=lambda e: e.started)
    got_it = next(worker_of(e) for e in site if e.status == 429)
    other = next(w for w in two.results if w != got_it)
    # what was already on its way when the 429 was answered may still arrive (0.25 s); after that, no
    # worker starts a request on the host until Retry-After has passed
    held_off = [(worker_of(e), round(e.started - t, 3)) for e in site if t + 0.25 < e.started < t + RETRY_AFTER]
    assert held_off == []
    assert any(worker_of(e) == other for e in site if e.started < t)  # the other worker was crawling...
    assert any(worker_of(e) == other for e in site if e.started >= t + RETRY_AFTER)  # ...and went on after
    assert sum(r.stats.get("polite/host_blocked", 0) for r in two.results.values()) == 1


def test_frontier_status_shows_the_running_and_the_stopped_crawl(runs):
    two = runs[1]
    running = json.loads(two.status_running.stdout)
    assert set(running["workers"]) == {"w1", "w2"}
    assert {b["state"] for b in running["workers"].values()} == {"running"}
    (host,) = [h for h in running["hosts"] if h["host"] == WWW]
    assert 0 < host["rate_10s"] <= 10 and host["in_flight"] <= PER_HOST and host["delay_s"] >= 0.2
    after = two.status_after_json
    assert {w: b["state"] for w, b in after["workers"].items()} == {"w1": "stopped", "w2": "stopped"}
    assert {b["reason"] for b in after["workers"].values()} == {"finished"}
    assert sum(b["pages"] for b in after["workers"].values()) == len(two.log)  # every answer the server gave
    assert after["queue"] == 0 and after["workers_joined"] == []
    text = two.status_after.stdout
    assert text.startswith("crawl spacewar:load-2w: 0 queued") and WWW in text and "finished" in text
