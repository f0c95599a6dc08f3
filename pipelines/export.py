"""Export stage: the item leaves the pipeline with exactly the exported fields, internal ones dropped (crawler/articleitem.py's `exported`, as `scrapy reprocess` writes them).

It also holds the operator's bound CLOSESPIDER_ITEMCOUNT=N to exactly N exported articles: Scrapy's
CloseSpider only starts closing the spider at the Nth item, and the items already on their way
through the pipelines would be exported too (39 or 46 for N=3). Those past N are dropped here, at
DEBUG, counted as articles/dropped/past_itemcount; their pages are archived all the same.
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.articleitem import exported


class ExportPipeline:
    def __init__(self, stats=None, item_bound: int = 0):
        self.stats = stats
        self.item_bound = item_bound
        self.passed = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, crawler.settings.getint("CLOSESPIDER_ITEMCOUNT"))

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        if self.item_bound and self.passed >= self.item_bound:
            if self.stats:
                self.stats.inc_value(keys.STAT_DROPPED.format(reason="past_itemcount"))
            raise DropItem(f"past CLOSESPIDER_ITEMCOUNT={self.item_bound}: {adapter.get('url')}", log_level="DEBUG")
        self.passed += 1
        for name, value in exported(adapter).items():  # every contract field present, null when unknown
            adapter[name] = value
        if self.stats:
            self.stats.inc_value(keys.STAT_EXPORTED)
            self.stats.inc_value(keys.STAT_EXPORTED_BY.format(method=adapter.get("extraction")))
        return item
