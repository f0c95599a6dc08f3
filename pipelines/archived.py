"""Archived stage: an item goes on only once its page's response record is on disk, carrying that record's pointer and time.

The WARC recorder hands every page's response record to the spider as a PendingRecord
(crawler/warc/location.py), still with the WARC writer process or already written. This stage
waits for it, then puts the record's pointer in the item's `warc` field and its WARC-Date in
`fetched_at` (so "latest" in the dataset build means the latest capture). An item whose record
could not be written is dropped ("articles/dropped/warc_write_failed"; the disk guard stops the
crawl and a rerun fetches the page again). An item that came from no archived response (none
was written: WARC off) goes on without a pointer.
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.articleitem import place_record
from crawler.warc.location import PendingRecord


class ArchivedPipeline:
    def __init__(self, stats=None):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        record = ItemAdapter(item).get("warc")
        if record is None or record.done():
            return self._place(item, record)
        return self._when_written(item, record)

    async def _when_written(self, item, record: PendingRecord):
        try:
            await record.wait()
        except OSError:
            pass  # said by _place, with the item's URL
        return self._place(item, record)

    def _place(self, item, record: PendingRecord | None):
        adapter = ItemAdapter(item)
        if record is None:
            adapter.pop("warc", None)
            return item
        try:
            pointer = record.pointer()
        except OSError as exc:
            if self.stats:
                self.stats.inc_value(keys.STAT_DROPPED.format(reason="warc_write_failed"))
            raise DropItem(f"its WARC record could not be written ({exc}): {adapter.get('url')}") from None
        place_record(adapter, pointer, record.date)  # as `scrapy reprocess` does (crawler/articleitem.py)
        return item
