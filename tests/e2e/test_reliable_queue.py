"""The reliable shared queue against a real redis-server, and a Redis that is down or goes away, in one line.

Queue logic (crawler/frontier/reliable.py): a taken request stays the worker's until acknowledged; a
dead worker's requests and unconfirmed export claims come back once its alive key expired, and not
before; a restart under the same id takes its own back at once; the seen-set never blocks a requeue.
Faults (the operator's view): `scrapy crawl` and `scrapy frontier` with no Redis at REDIS_URL
print one line naming the URL and exit 69; Redis killed mid-crawl stops the worker within seconds,
with one ERROR line naming the URL, no traceback and a non-zero status.
"""

from __future__ import annotations

import subprocess
import sys
import time

from crawler.frontier.reliable import ReliableQueue
from tests.crawling import REPO, read_items, run_crawl, start_crawl
from tests.redis_server import free_port, redis_server_or_skip


def queue(redis, worker: str, ttl: float = 60) -> ReliableQueue:
    q = ReliableQueue(redis, "spacewar", worker, ttl)
    q.renew()
    redis.sadd(q.workers_key, worker)
    return q


# --- the queue -----------------------------------------------------------------------------------
def test_a_taken_request_stays_the_workers_until_acknowledged(redis):
    w1 = queue(redis, "w1")
    assert w1.push(b"low", 0, "fp-low") and w1.push(b"high", -5, "fp-high")
    assert not w1.push(b"low again", 0, "fp-low")  # seen: not queued twice
    lease, data = w1.take()
    assert data == b"high"  # the best priority first (scrapy-redis' score is -priority)
    assert redis.zcard("spacewar:requests") == 1 and redis.hlen("spacewar:inflight:w1") == 1
    assert w1.held_by_others() == 0 and queue(redis, "w2").held_by_others() == 1
    assert w1.ack(lease) and not w1.ack(lease)
    assert redis.hlen("spacewar:inflight:w1") == 0


def test_a_dead_workers_requests_and_open_claims_come_back_after_its_ttl(redis):
    dead = queue(redis, "dead", ttl=0.5)
    alive = queue(redis, "alive")
    for i in range(3):
        dead.push(f"r{i}".encode(), 0, f"fp{i}")
    taken = [dead.take() for _ in range(2)]
    assert dead.claim("https://www.spacewar.com/reports/A_1.html")  # claimed, never confirmed
    assert dead.claim("https://www.spacewar.com/reports/B_1.html")
    dead.confirm("https://www.spacewar.com/reports/B_1.html")  # the feed wrote it
    assert alive.recover_dead() == {}  # still alive: nothing moves
    time.sleep(0.6)
    assert alive.recover_dead() == {"dead": (2, 1)}
    assert sorted(redis.zrange("spacewar:requests", 0, -1)) == [b"r0", b"r1", b"r2"]
    assert redis.smembers("spacewar:exported") == {b"https://www.spacewar.com/reports/B_1.html"}
    assert redis.smembers("spacewar:workers") == {b"alive"}
    assert not dead.ack(taken[0][0])  # the late acknowledgement of a worker thought dead changes nothing
    assert alive.recover_dead() == {}  # once only
    assert alive.claim("https://www.spacewar.com/reports/A_1.html")  # whoever fetches it again exports it


def test_a_worker_restarted_under_its_id_takes_its_requests_back_at_once(redis):
    first = queue(redis, "w1")
    first.push(b"r", 0, "fp")
    first.take()
    restarted = ReliableQueue(redis, "spacewar", "w1", 60)
    assert restarted.release() == (1, 0)  # what the scheduler does at open, before it takes anything
    assert redis.zrange("spacewar:requests", 0, -1) == [b"r"]
    assert redis.sismember("spacewar:dupefilter", "fp")  # still seen, yet queued again


# --- Redis down ------------------------------------------------------------------------------------
def test_no_redis_at_start_is_one_line_naming_it_and_exit_69(replica, tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    crawl = run_crawl(tmp_path, replica, settings={"REDIS_URL": url}, timeout=60)
    assert crawl["returncode"] == 69
    [line] = [line for line in crawl["log_text"].splitlines() if "CRITICAL" in line or "ERROR" in line]
    assert f"Redis at {url} is unreachable" in line and "(exit status 69)" in line
    assert "Traceback" not in crawl["log_text"] + crawl["output"]

    status = subprocess.run([sys.executable, "-m", "scrapy", "frontier", "-s", f"REDIS_URL={url}"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert status.returncode == 69
    assert status.stdout == "" and status.stderr.count("\n") == 1 and f"Redis at {url} is unreachable" in status.stderr


def test_redis_going_away_mid_crawl_stops_the_worker_with_one_line(replica, tmp_path):
    with redis_server_or_skip() as server:
        proc, paths = start_crawl(tmp_path, replica, settings={
            "REDIS_URL": server.url, "WORKER_ID": "w1", "CONCURRENT_REQUESTS": "2", "DOWNLOAD_DELAY": "0.1"})
        client = server.client()
        deadline = time.monotonic() + 60
        while int(client.get("spacewar:leases") or 0) < 10:  # ten requests taken: mid-crawl
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        server.proc.kill()
        server.proc.wait()
        gone = time.monotonic()
        out, _ = proc.communicate(timeout=60)
    assert time.monotonic() - gone < 20
    log = paths["log"].read_text("utf-8", "replace")
    assert proc.returncode not in (0, 1), out.decode(errors="replace")[-3000:]
    errors = [line for line in log.splitlines() if " ERROR: " in line and "Crawl outcome" not in line]
    assert len(errors) == 1 and f"Redis at {server.url} is unreachable" in errors[0], errors
    assert "requests it took stay in Redis" in errors[0]
    assert "Traceback" not in log + out.decode(errors="replace")


def test_redis_going_away_with_the_state_in_it_loses_nothing_once_back_and_says_it_in_one_line(replica, tmp_path):
    # a shared crawl with its state and story groups in Redis (STATE_PATH=redis): before, each article the worker
    # had in hand met the story groups' Redis lock with a traceback ("Error processing", ten at the close)
    with redis_server_or_skip(persistent=True) as server:
        settings = {"REDIS_URL": server.url, "STATE_PATH": "redis", "WORKER_ID": "w1", "DOWNLOAD_DELAY": "0.1"}
        before = len(replica.log)
        proc, paths = start_crawl(tmp_path, replica, "run1", settings=settings)
        deadline = time.monotonic() + 60
        while len(replica.log) - before < 30:  # mid-crawl, with pages held by the cleaning's look-ahead
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        server.proc.kill()
        server.proc.wait()
        out, _ = proc.communicate(timeout=60)
        log = paths["log"].read_text("utf-8", "replace")
        assert proc.returncode == 75, out.decode(errors="replace")[-3000:]
        assert "Traceback" not in log + out.decode(errors="replace")
        errors = [line for line in log.splitlines() if " ERROR: " in line and "Crawl outcome" not in line]
        assert len(errors) == 1 and f"Redis at {server.url} is unreachable" in errors[0], errors
        server.start()  # back, with what it held
        rerun = run_crawl(tmp_path, replica, "run2", settings=settings)
    assert rerun["returncode"] == 0, rerun["log_text"][-3000:]
    exported = [item["url"] for name in ("run1", "run2") for item in read_items(tmp_path / f"{name}.jsonl")]
    assert len(exported) == len(set(exported))
    assert set(exported) == {item["url"] for item in replica.expected_items()}
