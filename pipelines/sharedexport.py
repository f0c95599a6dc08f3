"""Shared-export stage (distributed mode): each article is exported by exactly one worker, the first whose SADD adds its URL."""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.frontier.addon import frontier_key, redis_client


class SharedExportPipeline:
    """Export each article from exactly one worker: the first whose SADD adds its URL."""

    def __init__(self, server, key: str, stats=None):
        self.server = server
        self.key = key
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(redis_client(s), frontier_key(s, crawler.spidercls.name, "exported"), crawler.stats)

    def process_item(self, item, spider=None):
        url = ItemAdapter(item)["url"]
        if self.server.sadd(self.key, url) == 0:
            if self.stats:
                self.stats.inc_value(keys.STAT_DROPPED.format(reason="exported_by_another_worker"))
            raise DropItem(f"exported by another worker: {url}", log_level="DEBUG")
        return item
