"""JSON Lines exporter whose every line reaches the operating system when exported; with JOBDIR, each export is journaled.

Scrapy's exporter writes through a buffered file, so a killed crawl loses its last lines. This
one (FEED_EXPORTERS jsonlines/jsonl) writes each item as one line with one write and flushes it.
With JOBDIR it also records the feed file's path in JOBDIR/inflight/feeds.journal (fsync'd)
before exporting anything, and appends each exported URL to JOBDIR/inflight/exported.journal,
which the exported-before stage of a rerun reads (pipelines/exportedbefore.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exporters import JsonLinesItemExporter
from scrapy.utils.python import to_bytes

from crawler.journal.appendlog import EXPORTED, FEEDS, AppendJournal, journal_dir


class JsonLinesFlushingExporter(JsonLinesItemExporter):
    """JSON Lines exporter whose every line reaches the OS when export_item returns; with JOBDIR it
    also journals the feed file and each exported URL (see the module docstring)."""

    def __init__(self, file, *, journal_dir: Path | None = None, fsync_interval: float = 1.0, **kwargs):
        super().__init__(file, **kwargs)
        self.journal_dir = journal_dir
        self.fsync_interval = fsync_interval
        self.exported: AppendJournal | None = None

    @classmethod
    def from_crawler(cls, crawler, file, *args, **kwargs):
        return cls(file, *args, journal_dir=journal_dir(crawler.settings),
                   fsync_interval=crawler.settings.getfloat("INFLIGHT_FSYNC_INTERVAL"), **kwargs)

    def start_exporting(self) -> None:
        super().start_exporting()
        if self.journal_dir is None:
            return
        name = getattr(self.file, "name", None)
        if isinstance(name, str) and os.path.exists(name):
            feeds = AppendJournal(self.journal_dir / FEEDS, fsync_interval=0)
            feeds.append(os.path.abspath(name))
            feeds.close()
        self.exported = AppendJournal(self.journal_dir / EXPORTED, self.fsync_interval)

    def export_item(self, item) -> None:
        itemdict = dict(self.get_serialized_fields(item))
        data = self.encoder.encode(itemdict) + "\n"
        self.file.write(to_bytes(data, self.encoding))  # one write per line
        self.file.flush()
        if self.exported is not None:
            url = ItemAdapter(item).get("url")
            if url:
                self.exported.append(url)

    def finish_exporting(self) -> None:
        super().finish_exporting()
        if self.exported is not None:
            self.exported.close()
            self.exported = None
