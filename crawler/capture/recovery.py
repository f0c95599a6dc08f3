"""Extension that, when a crawl starts, locks WARC_DIR and recovers the `.open` WARC files a killed crawl left.

It runs from from_crawler, before the capture service opens its first file. The lock
(crawler/warc/recovery.py, WarcDirLock) is held for the whole crawl, so a second crawl sharing WARC_DIR never "recovers" a file another live process is still
writing; that second crawl leaves the `.open` files alone and says so. With WARC_RECOVER=False
the directory is locked but nothing is recovered.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import signals

from crawler import keys
from crawler.warc.recovery import RecoveryResult, WarcDirLock, recover_directory

logger = logging.getLogger(__name__)


class WarcRecovery:
    """See the module docstring. Stats: warc/recovery/files, records, cut_bytes, skipped_locked."""

    def __init__(self, warc_dir, stats=None, recover: bool = True, index: bool = True):
        self.warc_dir = Path(warc_dir)
        self.stats = stats
        self.recover = recover
        self.index = index
        self.lock = WarcDirLock(self.warc_dir)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        o = cls(s.get("WARC_DIR"), crawler.stats, s.getbool("WARC_RECOVER"))
        o.start()
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        return o

    def start(self) -> list[RecoveryResult]:
        if not self.lock.acquire():
            logger.warning("WARC_DIR %s is locked by another running crawl: its .open files are "
                           "left alone", self.warc_dir)
            if self.stats:
                self.stats.set_value(keys.STAT_RECOVERY_LOCKED, 1)
            return []
        if not self.recover:
            return []
        results = recover_directory(self.warc_dir, index=self.index)
        if self.stats and results:
            self.stats.inc_value(keys.STAT_RECOVERY_FILES, len(results))
            self.stats.inc_value(keys.STAT_RECOVERY_RECORDS, sum(r.records for r in results))
            self.stats.inc_value(keys.STAT_RECOVERY_CUT, sum(r.cut_bytes for r in results))
        return results

    def engine_stopped(self):
        self.lock.release()
