"""The feed's local file (FEED_STORAGES file): opened at the first write, and a failed write stops the crawl.

Scrapy's file storage opens the feed when the spider opens, so `-O items.jsonl` empties an
existing items.jsonl even when the crawl then fails before exporting anything (a bad setting
met late, Redis down, nothing archived). Here the file is opened (and, with -O, replaced) only
when the first bytes are written: a crawl that exports nothing leaves an existing file as it was,
and still creates an empty one where there was none, as Scrapy does.

The lines go straight to the named file as they are exported (not to a file beside it renamed at
the end): after kill -9 the exported lines are where the operator looks, and the rerun's
exported-before stage reads them (docs/crash-safety.md). So once a crawl has exported its first
item, `-O` has replaced the old file; give each run its own file.

A write that fails (disk full, file system gone read-only) is reported once, as the WARC disk
guard does for the archive (crawler/capture/diskguard.py): the stat feed/write_failed, one ERROR
line naming the file and the way to get the items back, the signal feed_write_failed (the
crash-safety journal then stops marking requests finished, so a rerun with the same JOBDIR
fetches them again), and the spider closed with the finish reason "feed_write_failed" (exit
status 74, crawler/reporting/outcome.py). Later writes are dropped without a traceback per item.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from scrapy.extensions.feedexport import FileFeedStorage

from crawler import keys
from crawler.reporting.outcome import stop_crawl

logger = logging.getLogger(__name__)

#: Sent once when a write of the feed's file fails: handler(exc, path).
feed_write_failed = object()

FINISH_REASON = "feed_write_failed"


class FeedFile(io.RawIOBase):
    """A binary file that opens `path` with `mode` at the first write; an OSError of a write, a
    flush or the close goes to `on_error(exc)` once and later writes are dropped."""

    def __init__(self, path: str, mode: str, on_error):
        super().__init__()
        self.path = path
        self.mode = mode
        self.on_error = on_error
        self.error: OSError | None = None
        self._file = None

    @property
    def name(self) -> str:
        return self.path

    def writable(self) -> bool:
        return True

    def _fail(self, exc: OSError) -> None:
        if self.error is None:
            self.error = exc
            self.on_error(exc)

    def write(self, data) -> int:
        size = len(data)
        if self.error is not None:
            return size
        start = None
        try:
            if self._file is None:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, self.mode, buffering=0)  # each write reaches the OS now
            start = self._file.seek(0, os.SEEK_END)
            view = memoryview(data)
            while view:
                view = view[self._file.write(view):]
        except OSError as exc:
            self._cut(start)
            self._fail(exc)
        return size

    def _cut(self, start: int | None) -> None:
        """Take a write that failed half-way back off the file: no line is left cut short."""
        if start is None:
            return
        try:
            self._file.truncate(start)
        except OSError:
            pass  # the reader of a JSON Lines file skips a last line cut short (crawler/journal/exported.py)

    def flush(self) -> None:
        pass  # unbuffered: each write is on its way to the disk when it returns

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._file is not None:
                self._file.close()
            elif self.error is None and not os.path.exists(self.path):
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                open(self.path, self.mode).close()  # an empty feed, as Scrapy leaves one
        except OSError as exc:
            self._fail(exc)
        finally:
            super().close()


class LazyFileFeedStorage(FileFeedStorage):
    """FileFeedStorage whose file is a FeedFile (see the module docstring)."""

    def __init__(self, uri: str, *, feed_options=None, crawler=None):
        super().__init__(uri, feed_options=feed_options)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler, uri: str, *, feed_options=None):
        return cls(uri, feed_options=feed_options, crawler=crawler)

    def open(self, spider) -> FeedFile:
        return FeedFile(str(self.path), self.write_mode, self._write_failed)

    def _write_failed(self, exc: OSError) -> None:
        why = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
        crawler = self.crawler
        s = crawler.settings if crawler is not None else None
        warc_dir = s.get("WARC_DIR") if s is not None and s.getbool("WARC_ENABLED") else None
        rebuild = (f"the pages are archived: rebuild the items with `scrapy reprocess {warc_dir} -O NEW.jsonl`, "
                   f"or free space and rerun with the same JOBDIR and WARC_DIR") if warc_dir else \
            "free space and rerun with the same JOBDIR"
        logger.error("Feed write failed in %s (%s): stopping the crawl; %s", self.path, why, rebuild)
        if crawler is None:
            return
        crawler.stats.set_value(keys.STAT_FEED_WRITE_FAILED, f"{self.path}: {why}")
        crawler.signals.send_catch_log(signal=feed_write_failed, exc=exc, path=self.path)
        stop_crawl(crawler, FINISH_REASON)
