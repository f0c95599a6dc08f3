"""Validation stage: an item missing a required field, or failing the item JSON Schema, is dropped with a counted reason."""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.items import EXPORT_FIELDS, exported_value
from crawler.itemschema import validate

REQUIRED = ("url", "title", "published", "body", "extraction")


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
        url = adapter.get("url")
        missing = [f for f in REQUIRED if not adapter.get(f)]
        if missing:
            self._drop("missing_" + missing[0], f"missing {', '.join(missing)}", url)
        exported = {f: exported_value(f, adapter.get(f)) for f in EXPORT_FIELDS}
        errors = self.schema_validate(exported)
        if errors:
            self._drop("invalid", "; ".join(errors[:3]), url)
        return item
