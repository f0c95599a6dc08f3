"""Distributed mode (REDIS_URL): the add-on switches the shared frontier on, workers stop when it stays empty, one worker exports each article."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.frontier.addon import RedisFrontier, worker_feed_uri
from crawler.frontier.idle import FrontierIdleClose
from spiders.sites import SpacewarSpider


def frontier_settings(**overrides) -> Settings:
    s = Settings()
    s.setmodule(project_settings, priority="project")
    s.set("FEEDS", {s["DEFAULT_FEED"]: {"format": "jsonlines"}}, priority="spider")  # as the spider does
    for key, value in overrides.items():
        s.set(key, value, priority="cmdline")
    RedisFrontier("spacewar").update_settings(s)
    return s


# --- switching the mode on ---------------------------------------------------------------
def test_without_redis_url_the_crawl_is_a_plain_one():
    with pytest.raises(NotConfigured):
        RedisFrontier.from_crawler(get_crawler(SpacewarSpider))
    s = Settings()
    s.setmodule(project_settings, priority="project")
    assert "crawler.frontier.idle.FrontierIdleClose" not in s.getdict("EXTENSIONS")
    assert "pipelines.sharedexport.SharedExportPipeline" not in s.getdict("ITEM_PIPELINES")


def test_the_shared_frontier_registers_its_idle_stop_and_its_export_stage():
    s = frontier_settings(REDIS_URL="redis://127.0.0.1:1/0", WORKER_ID="w1")
    assert "crawler.frontier.idle.FrontierIdleClose" in s.getdict("EXTENSIONS")
    assert s.getdict("ITEM_PIPELINES")["pipelines.sharedexport.SharedExportPipeline"] == 850


def test_each_worker_gets_its_own_file_names_and_the_shared_scheduler():
    s = frontier_settings(REDIS_URL="redis://127.0.0.1:1/0", WORKER_ID="w1")
    assert s["SCHEDULER"] == "crawler.frontier.scheduler.RedisScheduler"
    assert s["DUPEFILTER_CLASS"] == "crawler.frontier.scheduler.RedisDupeFilter"
    assert s["WARC_PREFIX"] == "spacewar-w1"
    assert list(s.getdict("FEEDS")) == ["output/items/%(name)s-w1-%(time)s.jsonl"]
    assert s["SCHEDULER_QUEUE_KEY"] == "%(spider)s:requests"


def test_explicit_names_and_crawl_id_are_respected():
    s = frontier_settings(REDIS_URL="redis://127.0.0.1:1/0", WARC_PREFIX="mine", CRAWL_ID="2024-06-01")
    assert s["WARC_PREFIX"] == "mine"
    assert s["WORKER_ID"]  # hostname-pid by default
    assert s["SCHEDULER_DUPEFILTER_KEY"] == "%(spider)s:2024-06-01:dupefilter"
    assert worker_feed_uri("out/items.jsonl", "w2") == "out/items-w2.jsonl"


def test_a_hostile_worker_id_cannot_move_the_items_file_out_of_its_directory():
    uri = worker_feed_uri("output/items/%(name)s-%(time)s.jsonl", "../../../etc/x y")
    assert uri.startswith("output/items/%(name)s-") and "/" not in uri[len("output/items/"):]
    s = frontier_settings(REDIS_URL="redis://127.0.0.1:1/0", WORKER_ID="evil/../../host")
    [feed] = s.getdict("FEEDS")
    assert feed.startswith("output/items/") and feed.count("/") == 2  # no separator from the id


# --- stopping -------------------------------------------------------------------------------
def test_an_idle_worker_waits_for_the_shared_queue_then_stops():
    now = [0.0]
    queued = [3]
    ext = FrontierIdleClose(lambda: queued[0], timeout=10, clock=lambda: now[0])
    with pytest.raises(DontCloseSpider):  # others' work is waiting
        ext.spider_idle()
    queued[0] = 0
    with pytest.raises(DontCloseSpider):  # empty, but not for long enough
        ext.spider_idle()
    now[0] = 6
    with pytest.raises(DontCloseSpider):
        ext.spider_idle()
    ext.busy()  # got work meanwhile: the clock starts again
    now[0] = 12
    with pytest.raises(DontCloseSpider):
        ext.spider_idle()
    now[0] = 22
    ext.spider_idle()  # empty for 10 s: may close
