"""Export stage: the item leaves the pipeline with exactly the exported fields, internal ones dropped.

The `warc` pointer is normally in place since the extraction stage; in a pipeline without that
stage it may still be a PendingRecord of the WARC writer process, which is awaited here.
"""

from __future__ import annotations

from itemadapter import ItemAdapter

from crawler.items import EXPORT_FIELDS, INTERNAL_FIELDS, exported_value
from crawler.warcwriter import PendingRecord


class ExportPipeline:
    def __init__(self, stats=None):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        if isinstance(adapter.get("warc"), PendingRecord):
            return self._when_written(item, adapter)
        return self._export(item, adapter)

    async def _when_written(self, item, adapter):
        adapter["warc"] = (await adapter["warc"]).pointer()
        return self._export(item, adapter)

    def _export(self, item, adapter):
        for name in INTERNAL_FIELDS:
            adapter.pop(name, None)
        for name in EXPORT_FIELDS:  # every contract field is present, null when unknown
            adapter[name] = exported_value(name, adapter.get(name))
        if self.stats:
            self.stats.inc_value("articles/exported")
            self.stats.inc_value(f"articles/exported/{adapter.get('extraction')}")
        return item
