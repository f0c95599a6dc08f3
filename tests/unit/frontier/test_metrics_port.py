"""The metrics extension is switched on only by METRICS_PORT together with REDIS_URL: else a crawl listens on no port."""

from __future__ import annotations

from spiders.sites import SpacewarSpider
from tests.crawling import project_crawler


def test_without_metrics_port_or_redis_url_nothing_listens():
    for overrides in ({"REDIS_URL": "redis://127.0.0.1:1/0"}, {"METRICS_PORT": 9410}):
        crawler = project_crawler(SpacewarSpider, **overrides)
        assert not any("metrics" in path for path in crawler.settings.getdict("EXTENSIONS"))


