"""The shared per-host politeness slot (crawler/network/politeness.py) on a real redis-server, and its add-on."""

from __future__ import annotations

import time

import pytest
from scrapy.exceptions import NotConfigured

from crawler.components import addon_of
from crawler.network.politeness import HostPoliteness, HostSlots, SharedSlotMiddleware, SlotPolicy
from spiders.sites import SpacewarSpider
from tests.crawling import project_crawler


def policy(**overrides) -> SlotPolicy:
    base = dict(concurrency=2, delay=0.2, jitter=0.0, jitter_model="scrapy", autothrottle=False, start_delay=1.0,
                max_delay=30.0, target_concurrency=2.0, backoff_base=1.0, backoff_max=60.0, retry_after_max=120.0,
                lease_ttl=5.0, rate_window=60.0, state_ttl=3600.0)
    return SlotPolicy(**{**base, **overrides})


def slots(redis, owner, **overrides) -> HostSlots:
    return HostSlots(redis, policy(**overrides), owner=owner)


# --- the slot, two workers ------------------------------------------------------------------------
def test_two_workers_share_one_in_flight_limit_and_one_start_spacing(redis):
    a, b = slots(redis, "A"), slots(redis, "B")
    g1, g2 = a.acquire("h"), b.acquire("h")
    assert g1.granted and g1.lease.startswith("A:")
    assert not g2.granted and g2.why == "spacing" and g2.wait == pytest.approx(0.2, abs=0.03)  # A's start spaces B
    time.sleep(g2.wait + 0.01)
    g2 = b.acquire("h")
    assert g2.granted and g2.in_flight == 2
    time.sleep(0.22)
    g3 = a.acquire("h")
    assert not g3.granted and g3.why == "full"  # 2 in flight, whoever holds them
    a.release("h", g1.lease, 200)
    assert a.acquire("h").granted


def test_a_429_seen_by_one_worker_holds_off_the_other(redis):
    a, b = slots(redis, "A"), slots(redis, "B")
    g = a.acquire("h")
    held, _, blocked = a.release("h", g.lease, 429, latency=0.01, retry_after=3)
    assert held and blocked == pytest.approx(3, abs=0.05)
    other = b.acquire("h")
    assert not other.granted and other.why == "blocked" and other.wait == pytest.approx(3, abs=0.1)
    # a Retry-After above RETRY_AFTER_MAX blocks for RETRY_AFTER_MAX
    assert slots(redis, "C", retry_after_max=10).release("h3", "-", 503, retry_after=3600)[2] == pytest.approx(10)


def test_a_503_without_retry_after_backs_off_exponentially_for_all_and_a_success_resets_it(redis):
    c = slots(redis, "C", backoff_base=0.2)
    assert [round(c.release("h", "-", 503)[2], 1) for _ in range(3)] == [0.2, 0.4, 0.8]
    assert slots(redis, "D").acquire("h").why == "blocked"
    c.release("h", "-", 200)
    assert redis.hget("polite:host:h", "errors") is None
    assert c.release("h", "-", 503)[2] == pytest.approx(0.2, abs=0.01)


def test_autothrottle_delay_is_adjusted_from_every_workers_latency(redis):
    at = dict(autothrottle=True, delay=0.5, start_delay=1.0, target_concurrency=2.0)
    a, b = slots(redis, "A", **at), slots(redis, "B", **at)
    g = a.acquire("h")
    assert a.release("h", g.lease, 200, latency=4.0)[1] == pytest.approx(2.0)  # target 4/2 above the mean
    g = b.acquire("h")
    assert not g.granted and g.wait == pytest.approx(1.0, abs=0.05)  # A's start was spaced by the start delay
    time.sleep(g.wait + 0.01)
    g = b.acquire("h")
    assert g.granted
    assert b.release("h", g.lease, 200, latency=0.1)[1] == pytest.approx((2.0 + 0.05) / 2)  # B's latency, A's delay
    assert b.release("h", "-", 404, latency=0.0)[1] == pytest.approx(1.025)  # a non-200 never lowers it
    assert a.release("h", "-", 200, latency=0.0)[1] == pytest.approx(0.5125, abs=0.001)
    for _ in range(20):
        delay = a.release("h", "-", 200, latency=0.0)[1]
    assert delay == pytest.approx(0.5)  # never below DOWNLOAD_DELAY


def test_a_dead_workers_leases_expire_and_a_live_workers_are_renewed(redis):
    dead, live = slots(redis, "dead", lease_ttl=1.0, delay=0), slots(redis, "live", lease_ttl=1.0, delay=0)
    held = [dead.acquire("h"), live.acquire("h")]
    assert all(g.granted for g in held) and not live.acquire("h").granted
    time.sleep(0.6)
    live.renew("h", [held[1].lease])  # the live worker renews; the killed one cannot
    time.sleep(0.6)
    assert live.acquire("h").granted  # the dead worker's lease expired...
    assert not live.acquire("h").granted  # ...the renewed one did not
    assert redis.zscore("polite:leases:h", held[0].lease) is None


def test_a_redis_restart_loses_the_state_but_not_the_bounds(redis):
    a = slots(redis, "A", delay=0)
    g1, g2 = a.acquire("h"), a.acquire("h")
    assert g1.granted and g2.granted
    redis.flushdb()  # what a restart without persistence leaves
    redis.script_flush()  # and the script cache is gone: redis-py loads the scripts again
    a.renew("h", [g1.lease, g2.lease])  # the leases still held are put back
    assert not a.acquire("h").granted
    assert a.release("h", g1.lease, 200)[0] and a.acquire("h").granted


def test_the_state_expires_after_the_hosts_last_start(redis):
    a = slots(redis, "A", state_ttl=1.0)
    a.acquire("h")
    assert 0 < redis.pttl("polite:host:h") <= 1000 and 0 < redis.pttl("polite:hosts") <= 1000


# --- the add-on -------------------------------------------------------------------------------------
def test_with_redis_url_the_addon_hands_the_per_process_politeness_to_the_shared_slot(redis_url):
    crawler = project_crawler(SpacewarSpider, REDIS_URL=redis_url, DOWNLOAD_DELAY=2, CONCURRENT_REQUESTS=8)
    s = crawler.settings
    addon = addon_of(crawler, HostPoliteness)
    assert addon is not None and addon.shared
    p = addon.policy
    assert (p.delay, p.first_delay, p.concurrency, p.autothrottle) == (2.0, 2.0, 4, True)
    assert s.getfloat("DOWNLOAD_DELAY") == 0 and not s.getbool("AUTOTHROTTLE_ENABLED")
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 8
    assert s.getdict("DOWNLOADER_MIDDLEWARES")["crawler.network.politeness.SharedSlotMiddleware"] == 940


def test_the_middleware_needs_the_shared_addon(redis_url):
    with pytest.raises(NotConfigured):
        SharedSlotMiddleware.from_crawler(project_crawler(SpacewarSpider, REDIS_URL=redis_url,
                                                          SHARED_POLITENESS=False))
