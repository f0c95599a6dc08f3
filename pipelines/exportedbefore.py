"""Exported-before stage (JOBDIR): an article an earlier run of this JOBDIR exported is not exported again.

It reads the URLs of the export journal plus those of the complete lines of the feed files the
earlier runs wrote (crawler/journal/exported.py), which covers a kill between a line's flush and
its journal entry. So every article is exported exactly once across the JSONL files of the runs,
including those in flight when a process died.
"""

from __future__ import annotations

import logging
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

from crawler import keys
from crawler.items import export_key
from crawler.journal.appendlog import journal_dir
from crawler.journal.exported import exported_before

logger = logging.getLogger(__name__)


class ExportedBeforePipeline:
    """Drop an item an earlier run of this JOBDIR already exported (stat
    articles/dropped/exported_before). Off without JOBDIR."""

    def __init__(self, journal_dir: Path, stats=None):
        self.journal_dir = journal_dir
        self.stats = stats
        self.urls: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        directory = journal_dir(crawler.settings)
        if directory is None:
            raise NotConfigured
        # read now, before the feed exporter opens (and with -O truncates) this run's feed
        o = cls(directory, crawler.stats)
        o.urls = exported_before(directory)
        if o.urls:
            logger.info("Resuming JOBDIR: %d articles exported by earlier runs will not be exported again",
                        len(o.urls))
        return o

    def process_item(self, item, spider=None):
        url = export_key(ItemAdapter(item))  # a backfill's item: its URL and capture time
        if url in self.urls:
            if self.stats:
                self.stats.inc_value(keys.STAT_DROPPED.format(reason="exported_before"))
            raise DropItem(f"exported_before: {url} was exported by an earlier run of this JOBDIR", log_level="DEBUG")
        return item
