"""Two workers on one Redis frontier against the replica: every URL fetched once, every article exported once."""

from __future__ import annotations

import collections
import json
import threading
import time
from pathlib import Path

import pytest

from tests.crawling import crawl
from tests.sites.replica.server import ReplicaServer

# --- two workers against the replica ---------------------------------------------------------------
def test_two_workers_fetch_every_url_once_and_export_every_article_once(replica, redis_url, redis, tmp_path):
    start = len(replica.log)
    results = {}

    def worker(name):
        results[name] = crawl(tmp_path / name, replica.host_map(), timeout=240, settings={
            "REDIS_URL": redis_url, "WORKER_ID": name, "FRONTIER_IDLE_TIMEOUT": "3",
            # slow enough that one worker cannot finish the replica before the other joins
            "CONCURRENT_REQUESTS": "2", "DOWNLOAD_DELAY": "0.1",
        })

    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(name,)) for name in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began

    # both workers stopped by themselves, each with its own WARC files (a worker that never got
    # a request, because the other emptied the queue first, has none)
    for name, result in results.items():
        assert result.returncode == 0
        assert result.stats.get("finish_reason") == "finished"
        assert all(p.name.startswith(f"spacewar-{name}-") for p in result.warc_files())
    assert sum(len(r.warc_files()) for r in results.values()) >= 1

    # every article exported exactly once across the workers
    exported = [item["url"] for result in results.values() for item in result.items]
    duplicates = [url for url, n in collections.Counter(exported).items() if n > 1]
    assert duplicates == []
    assert set(exported) == {item["url"] for item in replica.expected_items()}

    # every URL fetched once: count final answers per URL; a 5xx that was retried and each
    # worker's own robots.txt are not duplicates
    exchanges = replica.log[start:]
    answers = collections.Counter((e.scheme, e.host, e.path) for e in exchanges
                                  if e.status < 500 and not e.path.startswith("/robots.txt"))
    assert [key for key, n in answers.items() if n > 1] == []
    robots = [e for e in exchanges if e.path.startswith("/robots.txt") and e.host == "www.spacewar.com"]
    assert len(robots) <= 2

    # the last worker out left nothing behind in Redis but the workers' last heartbeats, which
    # expire (`scrapy frontier` shows how each worker ended meanwhile)
    assert redis.keys("spacewar:*") == [b"spacewar:heartbeat"]
    assert 0 < redis.ttl("spacewar:heartbeat") <= 7 * 86400
    assert {json.loads(b)["reason"] for b in redis.hvals("spacewar:heartbeat")} == {"finished"}
    print(f"two workers: {len(exchanges)} exchanges, {len(exported)} articles, {elapsed:.1f} s, "
          f"pages per worker {[r.stats.get('downloader/response_count', 0) for r in results.values()]}")


def test_incremental_state_in_redis_carries_over_to_the_next_distributed_run(replica, redis_url, redis, tmp_path):
    # REVISIT_EVERY_RUN: every known article revalidated by the second run (the revisit policy would leave
    # these old articles for later runs)
    settings = {"REDIS_URL": redis_url, "STATE_PATH": "redis", "FRONTIER_IDLE_TIMEOUT": "2", "REVISIT_EVERY_RUN": "True"}
    first = crawl(tmp_path / "run1", replica.host_map(), timeout=240, settings={**settings, "CRAWL_ID": "run1"})
    second = crawl(tmp_path / "run2", replica.host_map(), timeout=240, settings={**settings, "CRAWL_ID": "run2"})
    expected = len(replica.expected_items())
    assert first.returncode == 0 and second.returncode == 0
    assert len(first.items) == expected and first.stats["incremental/new"] == expected
    assert second.items == [] and second.stats["incremental/unchanged"] == expected
    # the frontiers are gone (the heartbeats expire), the state stays
    assert sorted(redis.keys("spacewar:run*")) == [b"spacewar:run1:heartbeat", b"spacewar:run2:heartbeat"]
    assert redis.hlen("spacewar:state") >= expected


def test_two_workers_sharing_a_redis_state_each_read_robots_txt_and_export_every_article(replica, redis_url, redis,
                                                                                          tmp_path):
    """A shared incremental crawl (STATE_PATH=redis, the default revisit policy): each worker fetches robots.txt for
    itself. The state's robots.txt rows are written by whichever worker came first; a worker that took the other's
    fetch for its own refused its robots.txt ("known and not due"), treated the hosts as disallowed, and dropped
    every request it took from the shared queue: 26-27 of 50 articles, exit 0."""
    results = {}

    def worker(name):
        results[name] = crawl(tmp_path / name, replica.host_map(), timeout=240, settings={
            "REDIS_URL": redis_url, "WORKER_ID": name, "STATE_PATH": "redis", "CRAWL_ID": "shared-state",
            "FRONTIER_IDLE_TIMEOUT": "3", "CONCURRENT_REQUESTS": "2", "DOWNLOAD_DELAY": "0.1"})

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, result in results.items():
        assert result.returncode == 0, name
        assert not any(k.startswith("robotstxt/disallow_all/") for k in result.stats), (name, result.stats)
        assert result.stats.get("revisit/not_due", 0) == 0, name  # a first run: nothing known is refused
    exported = [item["url"] for result in results.values() for item in result.items]
    assert sorted(exported) == sorted({item["url"] for item in replica.expected_items()})


FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")


@pytest.mark.skipif(not FAKETIME_LIB.exists(), reason="faketime (Debian package) is not installed")
def test_a_worker_that_joins_a_shared_run_fetches_the_other_workers_planned_revalidations(redis_url, redis, tmp_path):
    """Day 0: one worker crawls a 200-article replica with STATE_PATH=redis. Day 1 (faketime): worker 1 plans the
    day's revalidations (the weekly sweep's share of the old articles) and queues them; worker 2 joins 3 s later,
    reads its own plan (the share already swept: none) and takes some of worker 1's requests from the shared queue.
    Every planned revalidation is looked at by one worker or the other; before, worker 2 dropped those it took as
    "known and not due" (13 of 45 in one run, exit 0, nothing said)."""
    fake = {"LD_PRELOAD": str(FAKETIME_LIB), "FAKETIME": "+1d", "FAKETIME_DONT_RESET": "1"}
    with ReplicaServer(n_articles=200, faults=False) as replica:
        base = {"REDIS_URL": redis_url, "STATE_PATH": "redis", "FRONTIER_IDLE_TIMEOUT": "3", "DOWNLOAD_DELAY": "0.05"}
        day0 = crawl(tmp_path / "day0", replica.host_map(), timeout=600, settings={**base, "CRAWL_ID": "day0"})
        assert day0.returncode == 0
        results = {}

        def worker(name):
            results[name] = crawl(tmp_path / name, replica.host_map(), timeout=600, env=fake, settings={
                **base, "CRAWL_ID": "day1", "WORKER_ID": name, "CONCURRENT_REQUESTS": "2", "DOWNLOAD_DELAY": "0.3"})

        first = threading.Thread(target=worker, args=("w1",))
        first.start()
        time.sleep(3)
        second = threading.Thread(target=worker, args=("w2",))
        second.start()
        first.join()
        second.join()
    stats = {name: result.stats for name, result in results.items()}
    assert [results[n].returncode for n in ("w1", "w2")] == [0, 0]
    planned = stats["w1"]["revisit/planned"]
    assert planned > 10  # the sweep's share of the replica's old articles
    looked = sum(s.get("incremental/unchanged", 0) + s.get("incremental/changed", 0) for s in stats.values())
    assert looked == planned, stats
    assert sum(s.get("revisit/revalidated", 0) for s in stats.values()) == planned
