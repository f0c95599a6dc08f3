"""bench/capture_cost.py's baselines: the stock Scrapy spider shares only politeness, robots, host map and User-Agent."""

import json
from pathlib import Path

from bench.capture_cost import command
from bench.stock_spider import StockSpider
from crawler import settings as project
from crawler.site.profiles import PROFILES
from tests.crawling import REPO

HOST_MAP = {"www.spacewar.com:80": "127.0.0.1:8080"}


def _settings(cmd: list[str]) -> dict:
    return dict(cmd[i + 1].split("=", 1) for i, arg in enumerate(cmd) if arg == "-s")


def test_the_stock_spider_runs_with_the_archival_crawl_s_politeness_robots_host_map_and_user_agent():
    cmd = command("stock", Path("/tmp/out"), HOST_MAP, {}, None, REPO)
    assert cmd[cmd.index("runspider") + 1] == str(REPO / "bench" / "stock_spider.py")
    s = _settings(cmd)
    assert json.loads(s["HOST_MAP"]) == HOST_MAP
    assert s["TWISTED_DNS_RESOLVER"] == project.TWISTED_DNS_RESOLVER  # how HOST_MAP reaches the replica
    for name in ("DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY",
                 "AUTOTHROTTLE_TARGET_CONCURRENCY", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN",
                 "ROBOTSTXT_OBEY"):
        assert s[name] == str(getattr(project, name)), name
    assert s["USER_AGENT"].startswith("spacewar-archiver/") and project.CONTACT_URL in s["USER_AGENT"]
    # nothing of the project's own: no WARC, no pipelines, no report, Scrapy's CONCURRENT_ITEMS...
    assert not {"WARC_DIR", "REPORT_DIR", "ITEM_PIPELINES", "CONCURRENT_ITEMS", "GC_FREEZE"} & set(s)
    assert s["STATS_FILE"] == "/tmp/out/stats.json"


def test_the_stock_spider_is_a_crawl_spider_over_the_five_sites_from_their_home_pages_and_feeds():
    assert set(StockSpider.allowed_domains) == {p.domain for p in PROFILES.values()}
    assert len(StockSpider.allowed_domains) == 5
    assert set(StockSpider.start_urls) == {u for p in PROFILES.values() for u in (p.home_url, p.feed_url)}
    (rule,) = StockSpider.rules
    assert rule.follow and rule.link_extractor.allow_domains == set(StockSpider.allowed_domains)


def test_the_lean_baseline_and_the_crawl_keep_the_project_settings():
    plain = command("plain", Path("/tmp/out"), HOST_MAP, {}, None, REPO)
    crawl = command("crawl", Path("/tmp/out"), HOST_MAP, {"REQUISITES": "False"}, None, REPO)
    assert plain[plain.index("-a") + 1] == "sites=all" and "USER_AGENT" in _settings(plain)
    assert _settings(crawl)["REQUISITES"] == "False" and "network" in crawl
