"""A shared crawl loses nothing when a worker dies: two workers on one Redis, one killed -9 and restarted.

Worker w1 kills itself with SIGKILL at a chosen moment (tests/killpoints.py, once it exported 2 articles), while w2
crawls on; w1 is then started again, as a service manager would. Kill moments:
  slot      - requests w1 took wait in its downloader for the host's shared politeness slot
  lookahead - items wait in w1's cleaning look-ahead (their pages downloaded, not exported)
  warc      - a response record is with w1's WARC writer, not yet written
Restarted under its own id, w1 requeues what its first run had taken at once; restarted under a new
id (the default id is host-pid), the requests come back when the dead id's FRONTIER_WORKER_TTL is over.
Either way: every article of the replica exported exactly once across the three runs' files, both
surviving runs exit 0, and the last worker out leaves nothing in Redis but the heartbeats.
"""

from __future__ import annotations

import collections
import json
import time

import pytest

from crawler import settings as project
from tests.crawling import read_items, run_crawl, start_crawl

SHARED = {
    "FRONTIER_IDLE_TIMEOUT": "1", "FRONTIER_WORKER_TTL": "3", "FRONTIER_HEARTBEAT_INTERVAL": "1",
    # more requests than the host's shared slot takes at once: some wait for it
    "CONCURRENT_REQUESTS": "8", "CONCURRENT_REQUESTS_PER_DOMAIN": "3", "DOWNLOAD_DELAY": "0.05",
    # a short look-ahead and warm-up (both hold items the same way): the killed run has exported articles before
    # it dies
    "CLEANING_LOOKAHEAD": "3", "CLEANING_WARMUP": "5",
}
# the project's extensions plus the test's kill switch (-s EXTENSIONS replaces the project's dict)
KILL = {"EXTENSIONS": json.dumps({**project.EXTENSIONS, "tests.killpoints.KillAt": 0}), "KILL_AFTER_ITEMS": "2"}


@pytest.fixture(scope="module")
def site():
    """A replica without its faults (no slow pages, no 503s to retry): the kills are the faults here."""
    from tests.sites.replica.server import ReplicaServer

    with ReplicaServer(n_articles=30, faults=False) as server:
        yield server


@pytest.mark.parametrize("moment, restart_id", [("slot", "w1"), ("lookahead", "w1"), ("warc", "w1-new")])
def test_a_worker_killed_and_restarted_loses_no_article(site, redis_url, redis, tmp_path, moment, restart_id):
    settings = {**SHARED, "REDIS_URL": redis_url}
    w1, w1_paths = start_crawl(tmp_path / "w1", site, "first", settings={
        **settings, **KILL, "KILL_AT": moment, "WORKER_ID": "w1"})
    began = time.monotonic()
    while not redis.get("spacewar:leases"):  # w2 joins once w1 has taken the start: both get work
        assert w1.poll() is None and time.monotonic() - began < 60
        time.sleep(0.01)
    w2, w2_paths = start_crawl(tmp_path / "w2", site, "run", settings={**settings, "WORKER_ID": "w2"})
    out, _ = w1.communicate(timeout=120)
    died = time.monotonic() - began
    log = w1_paths["log"].read_text("utf-8", "replace")
    assert w1.returncode == -9, out.decode(errors="replace")[-3000:] + log[-3000:]
    [killed] = [line for line in log.splitlines() if f"KILL_AT {moment}:" in line]
    print(killed)
    taken = int(killed.split(" items exported, ")[1].split()[0])
    assert taken >= 1  # the kill came while w1 held requests it had taken from the shared queue

    restarted = run_crawl(tmp_path / "w1", site, "second", timeout=180,
                          settings={**settings, "WORKER_ID": restart_id})
    restarted_done = time.monotonic() - began
    w2_out, _ = w2.communicate(timeout=180)
    w2_done = time.monotonic() - began
    assert restarted["returncode"] == 0, restarted["output"][-3000:] + restarted["log_text"][-3000:]
    assert w2.returncode == 0, w2_out.decode(errors="replace")[-3000:]

    runs = [read_items(w1_paths["items"]), read_items(restarted["items"]), read_items(w2_paths["items"])]
    assert runs[0]  # the killed run had exported articles: they are not exported again
    exported = collections.Counter(item["url"] for items in runs for item in items)
    assert [url for url, n in exported.items() if n > 1] == []
    assert set(exported) == {item["url"] for item in site.expected_items()}

    # the killed run's requests came back: at its restart under its id, or from a survivor's look
    requeued = restarted["log_text"].count("are queued again") + w2_paths["log"].read_text("utf-8").count(
        "are queued again")
    assert requeued >= 1
    assert sorted(redis.keys("spacewar:*")) == [b"spacewar:heartbeat"]
    print(f"{moment}: articles per run {[len(items) for items in runs]}; w1 killed at {died:.1f} s, restart done "
          f"at {restarted_done:.1f} s, w2 at {w2_done:.1f} s")


def test_the_last_worker_stopped_by_sigterm_leaves_the_unfinished_frontier_for_the_next(site, redis_url, redis,
                                                                                         tmp_path):
    """Before, the last worker out deleted the queue whatever its state: SIGTERM mid-crawl lost the rest. Now
    what it had taken goes back to the queue, and the queue, seen-set and exported-set stay."""
    import signal

    settings = {**SHARED, "REDIS_URL": redis_url, "WORKER_ID": "w1", "DOWNLOAD_DELAY": "0.1"}
    first, paths = start_crawl(tmp_path, site, "first", settings=settings)
    deadline = time.monotonic() + 60
    while int(redis.get("spacewar:leases") or 0) < 15:  # mid-crawl
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=60)
    assert first.returncode == 75
    assert redis.zcard("spacewar:requests") > 0 and redis.keys("spacewar:inflight:*") == []
    assert "the crawl unfinished" in paths["log"].read_text("utf-8")

    # (a next worker then finishes the crawl, as the killed-worker runs above show)
    assert redis.scard("spacewar:dupefilter") > redis.zcard("spacewar:requests")
