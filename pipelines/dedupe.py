"""De-duplication stage: one item per canonical URL per crawl (the first one archived wins); in a backfill, per URL and capture time."""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.items import export_key


class DedupePipeline:
    def __init__(self, stats=None):
        self.stats = stats
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        # a backfill: one item per capture (WAYBACK_VERSIONS=all gives several versions of one URL)
        adapter = ItemAdapter(item)
        adapter["url"]  # noqa: B018 (an item without a URL is a bug: KeyError)
        url = export_key(adapter)
        if url in self.seen:
            if self.stats:
                self.stats.inc_value(keys.STAT_DROPPED.format(reason="duplicate"))
            raise DropItem(f"duplicate: {url} already exported in this crawl", log_level="DEBUG")
        self.seen.add(url)
        return item
