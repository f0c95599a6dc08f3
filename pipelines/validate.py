"""Validation stage: an item missing a required field, or failing the item JSON Schema, is dropped with a counted reason.

The check itself is crawler/articleitem.py's `invalid`, which `scrapy reprocess` runs too.
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.articleitem import REQUIRED, invalid  # noqa: F401 (REQUIRED: for callers of this module)
from crawler.itemschema import validate


class ValidatePipeline:
    def __init__(self, stats=None, schema_validate=validate):
        self.stats = stats
        self.schema_validate = schema_validate

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, validate)

    def _drop(self, reason: str, detail: str, url):
        if self.stats:
            self.stats.inc_value(keys.STAT_DROPPED.format(reason=reason))
        raise DropItem(f"{reason}: {detail} ({url})")

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        bad = invalid(adapter, self.schema_validate)
        if bad is not None:
            self._drop(bad[0], bad[1], adapter.get("url"))
        return item
