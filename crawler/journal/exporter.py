"""JSON Lines exporter whose every line reaches the operating system when exported; with JOBDIR, each export is journaled.

Scrapy's exporter writes through a buffered file, so a killed crawl loses its last lines. This
one (FEED_EXPORTERS jsonlines/jsonl) writes each item as one line with one write and flushes it.
With JOBDIR it also records the feed file's path in JOBDIR/inflight/feeds.journal (fsync'd)
before exporting anything, and appends each exported URL to JOBDIR/inflight/exported.journal,
which the exported-before stage of a rerun reads (pipelines/exportedbefore.py).

It counts the lines its file took (stat feed/items_written: what the exit status reports as
exported; with several feeds, the fewest any of them wrote). A line whose write failed is neither
counted nor journaled (the feed's file reports the failure and stops the crawl:
crawler/journal/feedfile.py).
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exporters import JsonLinesItemExporter
from scrapy.utils.python import to_bytes

from crawler import keys
from crawler.items import export_key
from crawler.journal.appendlog import EXPORTED, FEEDS, AppendJournal, journal_dir
from crawler.journal.feedfile import FeedFile

#: lines written by each feed exporter of a crawl: stats collector -> {exporter id: lines}
_WRITTEN: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class JsonLinesFlushingExporter(JsonLinesItemExporter):
    """JSON Lines exporter whose every line reaches the OS when export_item returns; with JOBDIR it
    also journals the feed file and each exported URL (see the module docstring)."""

    def __init__(self, file, *, journal_dir: Path | None = None, fsync_interval: float = 1.0, stats=None,
                 **kwargs):
        super().__init__(file, **kwargs)
        self.journal_dir = journal_dir
        self.fsync_interval = fsync_interval
        self.exported: AppendJournal | None = None
        self.stats = stats
        self.written = 0
        if stats is not None:
            _WRITTEN.setdefault(stats, {})[id(self)] = 0
            stats.set_value(keys.STAT_FEED_WRITTEN, min(_WRITTEN[stats].values()))

    @classmethod
    def from_crawler(cls, crawler, file, *args, **kwargs):
        return cls(file, *args, journal_dir=journal_dir(crawler.settings),
                   fsync_interval=crawler.settings.getfloat("INFLIGHT_FSYNC_INTERVAL"), stats=crawler.stats,
                   **kwargs)

    def start_exporting(self) -> None:
        super().start_exporting()
        if self.journal_dir is None:
            return
        name = getattr(self.file, "name", None)
        if isinstance(name, str) and (isinstance(self.file, FeedFile) or os.path.exists(name)):
            feeds = AppendJournal(self.journal_dir / FEEDS, fsync_interval=0)
            feeds.append(os.path.abspath(name))
            feeds.close()
        self.exported = AppendJournal(self.journal_dir / EXPORTED, self.fsync_interval)

    def export_item(self, item) -> None:
        itemdict = dict(self.get_serialized_fields(item))
        data = self.encoder.encode(itemdict) + "\n"
        self.file.write(to_bytes(data, self.encoding))  # one write per line
        self.file.flush()
        if getattr(self.file, "error", None) is not None:
            return  # not on disk: neither counted nor journaled
        self.written += 1
        if self.stats is not None:
            counts = _WRITTEN.setdefault(self.stats, {})
            counts[id(self)] = self.written
            self.stats.set_value(keys.STAT_FEED_WRITTEN, min(counts.values()))
        if self.exported is not None:
            url = export_key(ItemAdapter(item))  # the URL (a backfill's item: and its capture time)
            if url:
                self.exported.append(url)

    def finish_exporting(self) -> None:
        super().finish_exporting()
        if self.exported is not None:
            self.exported.close()
            self.exported = None
