"""Export stage: the item leaves the pipeline with exactly the exported fields, internal ones dropped (crawler/articleitem.py's `exported`, as `scrapy reprocess` writes them)."""

from __future__ import annotations

from itemadapter import ItemAdapter

from crawler import keys
from crawler.articleitem import exported


class ExportPipeline:
    def __init__(self, stats=None):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        for name, value in exported(adapter).items():  # every contract field present, null when unknown
            adapter[name] = value
        if self.stats:
            self.stats.inc_value(keys.STAT_EXPORTED)
            self.stats.inc_value(keys.STAT_EXPORTED_BY.format(method=adapter.get("extraction")))
        return item
