"""Export stage: the item leaves the pipeline with exactly the exported fields, internal ones dropped."""

from __future__ import annotations

from itemadapter import ItemAdapter

from crawler import keys
from crawler.items import EXPORT_FIELDS, INTERNAL_FIELDS, exported_value


class ExportPipeline:
    def __init__(self, stats=None):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        for name in INTERNAL_FIELDS:
            adapter.pop(name, None)
        for name in EXPORT_FIELDS:  # every contract field is present, null when unknown
            adapter[name] = exported_value(name, adapter.get(name))
        if self.stats:
            self.stats.inc_value(keys.STAT_EXPORTED)
            self.stats.inc_value(keys.STAT_EXPORTED_BY.format(method=adapter.get("extraction")))
        return item
