"""The shared per-host politeness slot (crawler/network/politeness.py) on a real redis-server, and its add-on."""

from __future__ import annotations

import asyncio
import random
import statistics

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured

from crawler.config import ConfigError
from crawler.network.politeness import AddressSlotMiddleware, HostPoliteness, SlotKeys, gap_factor
from spiders.sites import SpacewarSpider
from tests.crawling import an_archive, project_crawler


def test_the_gap_factor_reproduces_scrapys_own_slot():
    rng = random.Random(1)
    scrapy_like = [gap_factor(0.5, "scrapy", rng) for _ in range(20000)]
    uniform = [gap_factor(0.5, "uniform", rng) for _ in range(20000)]
    # Scrapy's own slot at the replica, one process, DOWNLOAD_DELAY 0.5: mean gap 0.611 s, median 0.636 s
    assert statistics.mean(scrapy_like) == pytest.approx(1.22, abs=0.02)
    assert statistics.median(scrapy_like) == pytest.approx(1.27, abs=0.02)
    assert min(scrapy_like) >= 0.5 and max(scrapy_like) <= 1.5
    assert statistics.mean(uniform) == pytest.approx(1.0, abs=0.02)
    assert gap_factor(0, "scrapy") == 1.0


def test_without_redis_url_or_switched_off_nothing_changes():
    for overrides in ({}, {"REDIS_URL": "redis://127.0.0.1:1/0", "SHARED_POLITENESS": False}):
        crawler = project_crawler(SpacewarSpider, **overrides)
        with pytest.raises(NotConfigured):
            HostPoliteness.from_crawler(crawler)
        assert crawler.settings.getfloat("DOWNLOAD_DELAY") == 0.5
        assert not any("politeness" in path for path in crawler.settings.getdict("DOWNLOADER_MIDDLEWARES"))


def test_a_replay_from_warc_asks_no_slot(tmp_path):
    an_archive(tmp_path)  # a replay needs an archive to start (never read here)
    crawler = project_crawler(SpacewarSpider, REDIS_URL="redis://127.0.0.1:1/0", FROM_WARC=str(tmp_path))
    with pytest.raises(NotConfigured):
        HostPoliteness.from_crawler(crawler)


def test_a_bad_polite_key_is_a_configuration_error():
    with pytest.raises(ConfigError, match="POLITE_KEY"):
        project_crawler(SpacewarSpider, REDIS_URL="redis://127.0.0.1:1/0", POLITE_KEY="domain")


@pytest.mark.parametrize("key_by, expected", [("host", "www.spacewar.com"), ("ip", "127.0.0.9")])
def test_the_slot_is_keyed_by_host_name_or_by_address(key_by, expected):
    keys = SlotKeys(key_by, {"www.spacewar.com:443": "127.0.0.9:8443"})
    assert asyncio.run(keys.key_for(Request("https://WWW.spacewar.com./reports/X.html"))) == expected
    # the port is left out: two sites of one machine share the key
    both = SlotKeys("ip", {"www.spacewar.com:443": "127.0.0.9:8443", "www.spacedaily.com:443": "127.0.0.9:9443"})
    assert {asyncio.run(both.key_for(Request(f"https://{h}/"))) for h in ("www.spacewar.com", "www.spacedaily.com")} \
        == {"127.0.0.9"}


def test_polite_key_ip_in_one_process_keys_scrapys_own_slot_by_address():
    crawler = project_crawler(SpacewarSpider, POLITE_KEY="ip", HOST_MAP={"www.spacewar.com": "127.0.0.9"})
    assert crawler.settings.getdict("DOWNLOADER_MIDDLEWARES")["crawler.network.politeness.AddressSlotMiddleware"]
    assert crawler.settings.getfloat("DOWNLOAD_DELAY") == 0.5  # Scrapy's own politeness, only keyed otherwise
    mw = AddressSlotMiddleware.from_crawler(crawler)
    request = Request("https://www.spacewar.com/")
    asyncio.run(mw.process_request(request))
    assert request.meta["download_slot"] == "127.0.0.9"


