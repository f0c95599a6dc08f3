"""Extension that stops the crawl cleanly when WARC_DIR runs out of space or a WARC write fails.

Before WARC records are written it checks the free space of WARC_DIR (os.statvfs) at least
once a second, and at once whenever the bytes written since the last check could reach the
margin; below WARC_MIN_FREE_BYTES, or when a write raises OSError (disk full, I/O error,
directory made read-only; with the WARC writer process, when that process reports the failure
through the writer's on_error), it:

* logs one error line naming the cause and what to do,
* sets stats warc/write_failed and finish reason "warc_write_failed",
* leaves the current WARC file `.open` without flushing the failed record's buffered bytes
  (the next run's recovery cuts any partial tail into a `.partial` sidecar),
* marks the crawler (crawler.warc_write_failed = True) so the in-flight journal
  (crawler/inflight.py) stops marking requests finished: every request whose capture may
  not have reached the disk is fetched again by a rerun with the same JOBDIR,
* asks the engine to close the spider.

An unwritable WARC_DIR at start-up is refused by the WARC writer itself (PermissionError).
"""

from __future__ import annotations

import logging
import os
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


def free_bytes(path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class WarcDiskGuard:
    def __init__(self, crawler, min_free: int):
        self.crawler = crawler
        self.min_free = min_free
        self.failed = False
        self._checked_at = float("-inf")  # monotonic time of the last free-space check
        self._headroom = 0  # bytes that could be written before the margin, at that check
        self._since = 0  # bytes written since that check

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("WARC_ENABLED", True):
            raise NotConfigured
        o = cls(crawler, s.getint("WARC_MIN_FREE_BYTES", 0))
        crawler.signals.connect(o.engine_started, signal=signals.engine_started)
        return o

    def engine_started(self):
        recorder = getattr(self.crawler, "warc_recorder", None)
        if recorder is None:
            return
        writer = recorder.writer
        write_record = writer.write_record

        def guarded_write_record(headers, block):
            if self.failed:
                raise OSError("WARC writing stopped after an earlier failure")
            if self.min_free:
                now = time.monotonic()
                if (now - self._checked_at >= 1.0 or self._since + len(block) >= self._headroom) \
                        and writer.directory.exists():  # a directory gone is the write's to report
                    free = free_bytes(writer.directory)
                    self._checked_at, self._since, self._headroom = now, 0, free - self.min_free
                    if free < self.min_free + len(block):
                        exc = OSError(28, f"less than WARC_MIN_FREE_BYTES={self.min_free} free "
                                          f"({free} bytes left)")
                        self._fail(writer, exc)
                        raise exc
                self._since += len(block)
            try:
                return write_record(headers, block)
            except OSError as exc:
                self._fail(writer, exc)
                raise

        writer.write_record = guarded_write_record
        if hasattr(writer, "on_error"):  # the WARC writer process reports its failures later
            writer.on_error = lambda exc: self._fail(writer, exc)

    def _fail(self, writer, exc: OSError) -> None:
        if self.failed:
            return
        self.failed = True
        self.crawler.warc_write_failed = True
        path = writer.current_path
        writer.abandon()  # the file stays .open, without the failed write's buffered bytes
        logger.error("WARC write failed in %s (%s): stopping the crawl. Free space (or fix the "
                     "directory) and rerun with the same JOBDIR and WARC_DIR: %s is recovered and "
                     "the requests in flight are fetched again.", writer.directory, exc,
                     path or "the current file")
        self.crawler.stats.set_value("warc/write_failed", str(exc))
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            self.crawler.stats.set_value("warc/write_failed_file", str(path) if path else None)
            close = getattr(engine, "close_spider_async", None)
            if close is not None:
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(close(reason="warc_write_failed"))
            else:  # pragma: no cover - older Scrapy
                engine.close_spider(engine.spider, "warc_write_failed")
