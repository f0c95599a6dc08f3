"""Extension that stops the crawl cleanly when a WARC write fails: nothing is exported that is not archived.

The WARC writer refuses a record that would leave less than WARC_MIN_FREE_BYTES free in
WARC_DIR, and fails on a full disk or a vanished directory (crawler/warc/files.py); the capture
service (crawler/capture/service.py) then sends warc_write_failed
(crawler/capture/signals.py). This extension answers it: one ERROR line that says what to do, and
the spider closed with the finish reason "warc_write_failed" (exit status 74,
crawler/reporting/outcome.py). The file being written stays `.open` without the failed record;
a page whose record was not written never reaches the spider (crawler/capture/recorder.py), so no
item is exported that is not archived; the crash-safety journal
stops marking requests finished, so a rerun with the same JOBDIR and WARC_DIR recovers the file
and fetches again everything that may not be on disk.

An unwritable WARC_DIR is refused before the crawl starts by `scrapy crawl` (crawler/outputs.py,
exit status 74), and otherwise by the WARC writer itself (PermissionError). A record zlib cannot
compress fails like a write (crawler/warc/files.py). The feed's file has its own guard
(crawler/journal/feedfile.py).
"""

from __future__ import annotations

import logging

from crawler.capture.signals import warc_write_failed
from crawler.reporting.outcome import stop_crawl

logger = logging.getLogger(__name__)


class WarcDiskGuard:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        o = cls(crawler)
        crawler.signals.connect(o.write_failed, signal=warc_write_failed)
        return o

    def write_failed(self, exc: OSError, path=None):
        logger.error("WARC write failed in %s (%s): stopping the crawl. Free space (or fix the directory) "
                     "and rerun with the same JOBDIR and WARC_DIR: %s is recovered and the requests in "
                     "flight are fetched again.", self.crawler.settings.get("WARC_DIR"), exc,
                     path or "the current file")
        stop_crawl(self.crawler, "warc_write_failed")
