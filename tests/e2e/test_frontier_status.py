"""What `scrapy frontier` and METRICS_PORT show of a shared crawl, read from a real redis-server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from crawler.config import ConfigError
from crawler.frontier.status import crawls, format_status, frontier_status
from crawler.network.politeness import HostSlots, SlotPolicy
from spiders.sites import SpacewarSpider
from tests.crawling import REPO, project_crawler
from tests.redis_server import free_port


def a_crawl_in_redis(redis):
    """A crawl "spacewar:c1" with two queued requests, one worker running (alive, 2 requests taken), one
    stopped, one killed (no heartbeat, alive key expired, 1 request taken), and a host whose slot has had
    one answer and holds one request in flight."""
    p = SlotPolicy(concurrency=4, delay=0.5, jitter=0, jitter_model="scrapy", autothrottle=True, start_delay=1.0,
                   max_delay=30, target_concurrency=2, backoff_base=1, backoff_max=60, retry_after_max=120,
                   lease_ttl=30, rate_window=60, state_ttl=3600)
    slots = HostSlots(redis, p, owner="w1")
    g = slots.acquire("www.spacewar.com")
    slots.release("www.spacewar.com", g.lease, 200, latency=0.3)
    redis.hdel("polite:host:www.spacewar.com", "next")
    slots.acquire("www.spacewar.com")
    redis.zadd("spacewar:c1:requests", {b"r1": 0, b"r2": 0})
    redis.sadd("spacewar:c1:dupefilter", "a", "b", "c")
    redis.sadd("spacewar:c1:workers", "w1")
    redis.hset("spacewar:c1:inflight:w1", mapping={"1": b"0 r3", "2": b"0 r4"})
    redis.set("spacewar:c1:alive:w1", 1, ex=60)
    redis.hset("spacewar:c1:inflight:w3", mapping={"3": b"0 r5"})
    redis.hset("spacewar:c1:heartbeat", mapping={
        "w1": json.dumps({"t": time.time() - 3, "state": "running", "pages": 7, "items": 5, "in_flight": 1,
                          "waiting": 2}),
        "w2": json.dumps({"t": time.time() - 600, "state": "stopped", "reason": "finished", "pages": 4,
                          "items": 1, "in_flight": 0, "waiting": 0})})


def test_frontier_status_reads_queue_workers_and_hosts(redis):
    a_crawl_in_redis(redis)
    st = frontier_status(redis, "spacewar:c1")
    assert (st["queue"], st["seen"], st["in_flight"], st["waiting"], st["workers_joined"]) == (2, 3, 1, 2, ["w1"])
    assert st["workers"]["w1"]["pages"] == 7 and 2 < st["workers"]["w1"]["age_s"] < 10
    assert st["workers"]["w2"]["reason"] == "finished"
    (host,) = st["hosts"]
    assert host["host"] == "www.spacewar.com" and host["in_flight"] == 1
    assert host["rate_10s"] == pytest.approx(0.2)  # 2 starts in the last 10 s
    assert host["delay_s"] == pytest.approx(0.575)  # the mean of the 1.0 start delay and the 0.3/2 target
    text = format_status(st)
    assert "2 queued, 1 in flight" in text and "www.spacewar.com" in text and "0.57s" in text
    assert "3 taken by workers and not finished" in text
    assert (st["workers"]["w1"]["taken"], st["workers"]["w3"]["taken"], st["workers"]["w2"]["taken"]) == (2, 1, 0)
    [w3] = [line.split() for line in text.splitlines() if line.strip().startswith("w3 ")]
    assert w3[:2] == ["w3", "dead"]  # its requests wait for the next live worker's look
    assert crawls(redis) == ["spacewar:c1"]


def test_the_command_prints_the_crawl_and_says_when_there_is_none(redis, redis_url):
    def status(*args):
        return subprocess.run([sys.executable, "-m", "scrapy", "frontier", *args, "-s", f"REDIS_URL={redis_url}"],
                              cwd=REPO, capture_output=True, text=True, timeout=60)

    assert "no crawl on" in status().stdout
    a_crawl_in_redis(redis)
    out = status("spacewar", "-s", "CRAWL_ID=c1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("crawl spacewar:c1: 2 queued")
    assert "w1" in out.stdout and "w2" in out.stdout and "finished" in out.stdout
    as_json = json.loads(status("spacewar", "-s", "CRAWL_ID=c1", "--json").stdout)
    assert as_json["queue"] == 2 and as_json["hosts"][0]["host"] == "www.spacewar.com"
    assert "spacewar:c1" in status().stdout  # without a spider name: every crawl found


def test_metrics_port_serves_the_prometheus_text_on_loopback_only(redis, redis_url):
    from crawler.frontier.metrics import MetricsEndpoint

    a_crawl_in_redis(redis)
    port = free_port()
    crawler = project_crawler(SpacewarSpider, REDIS_URL=redis_url, CRAWL_ID="c1", WORKER_ID="w1", METRICS_PORT=port)
    endpoint = crawler.get_extension(MetricsEndpoint)  # listening from start-up on
    try:
        assert endpoint.address == ("127.0.0.1", port)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        assert "archiver_queue_requests 2.0" in text
        assert 'archiver_host_delay_seconds{host="www.spacewar.com"} 0.575' in text
        assert 'archiver_worker_heartbeat_age_seconds{worker="w2"}' in text
        assert 'archiver_worker_taken{worker="w3"} 1.0' in text
        with pytest.raises(ConfigError, match=f"METRICS_PORT={port}: cannot listen"):  # a second worker, same port
            project_crawler(SpacewarSpider, REDIS_URL=redis_url, METRICS_PORT=port)
    finally:
        endpoint.stop()


def test_metrics_port_without_prometheus_client_stops_with_one_line_naming_the_extra(redis_url, monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if not installed
    with pytest.raises(ConfigError, match=r'METRICS_PORT is set but prometheus-client is not installed: '
                                          r'pip install -e "\.\[metrics\]"'):
        project_crawler(SpacewarSpider, REDIS_URL=redis_url, METRICS_PORT=free_port())


def test_a_worker_counts_the_pages_of_the_workers_that_ran_alongside_it(redis, redis_url):
    """The heartbeats of workers alive during this worker's run count towards its exit status; a
    heartbeat from before it started (an earlier crawl with the same prefix) does not."""
    from crawler.frontier.status import WorkerHeartbeat

    crawler = project_crawler(SpacewarSpider, REDIS_URL=redis_url, WORKER_ID="w-errors")
    hb = WorkerHeartbeat.from_crawler(crawler)  # not started: its heartbeat has no downloader figures
    redis.hset(hb.key, mapping={
        "w-busy": json.dumps({"t": time.time() + 1, "state": "stopped", "archived": 40}),
        "w-earlier": json.dumps({"t": hb.started - 600, "state": "stopped", "archived": 99})})
    crawler.stats.set_value("downloader/response_status_count/404", 3)
    hb.closed(reason="finished")
    assert crawler.stats.get_value("frontier/crawl_pages_archived") == 40
    assert json.loads(redis.hget(hb.key, "w-errors"))["state"] == "stopped"


def test_a_worker_counts_the_other_workers_still_at_work_when_it_stops(redis, redis_url):
    """A worker that stops with nothing archived while another is still in the crawl and alive exits 0; a worker
    gone from the crawl, or whose alive key expired (killed), does not count."""
    from crawler.frontier.status import WorkerHeartbeat

    crawler = project_crawler(SpacewarSpider, REDIS_URL=redis_url, WORKER_ID="w-late")
    hb = WorkerHeartbeat.from_crawler(crawler)
    redis.sadd(f"{hb.prefix}:workers", "w-late", "w-busy", "w-killed")
    redis.set(f"{hb.prefix}:alive:w-busy", 1, px=60_000)
    hb.closed(reason="finished")
    assert crawler.stats.get_value("frontier/workers_at_work") == 1
    redis.delete(f"{hb.prefix}:alive:w-busy")
    crawler = project_crawler(SpacewarSpider, REDIS_URL=redis_url, WORKER_ID="w-late")
    hb = WorkerHeartbeat.from_crawler(crawler)
    hb.closed(reason="finished")
    assert crawler.stats.get_value("frontier/workers_at_work") is None
