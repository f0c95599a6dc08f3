"""Cleaning stage: the raw parts become the item's fields (crawler.cleaning); the page HTML leaves the item.

When the extraction stage ran in a worker process, the worker cleaned the raw parts too (one
round trip per page, crawler/pageworkers.py): their "fields" are applied as they are.
"""

from __future__ import annotations

from itemadapter import ItemAdapter

from crawler.cleaning import clean


class CleanPipeline:
    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        raw = adapter.get("raw")
        if raw is None:  # nothing extracted (the extraction stage is off): leave the item as it is
            return item
        fields = raw.get("fields")
        if fields is None:
            fields = clean(raw, adapter.get("url"))
        for name, value in fields.items():
            adapter[name] = value
        adapter["extraction"] = raw["extraction"]
        adapter.pop("raw", None)
        adapter.pop("html", None)
        return item
