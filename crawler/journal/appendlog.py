"""The journal files in JOBDIR/inflight/, each an append-only log of text lines that a killed process never tears.

The crash-safety journal (crawler/journal/) keeps three: requests.journal (every request the
scheduler accepted, and when it was finished), exported.journal (every URL exported) and
feeds.journal (the feed files the runs wrote).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from scrapy.utils.job import job_dir

SUBDIR = "inflight"
REQUESTS = "requests.journal"
EXPORTED = "exported.journal"
FEEDS = "feeds.journal"


def journal_dir(settings) -> Path | None:
    """JOBDIR/inflight, or None without JOBDIR (the journal is off)."""
    jobdir = job_dir(settings)
    return Path(jobdir, SUBDIR) if jobdir else None


class AppendJournal:
    """An append-only file of text lines; each line goes to the OS with one os.write (a killed
    process never leaves half of an earlier line), fsync'd at most every `fsync_interval`
    seconds (0: every line). A last line without its newline is ignored when read.

    `gone` turns true at a sync after which the file has no name any more (its directory deleted, e.g.
    `rm -rf JOBDIR` mid-crawl: the writes still succeed, into a file no rerun can read); one fstat
    per sync, none per line."""

    gone = False

    def __init__(self, path, fsync_interval: float = 1.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fsync_interval = fsync_interval
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._last_sync = time.monotonic()
        self._dirty = False

    def append(self, line: str) -> None:
        data = (line + "\n").encode("utf-8")
        written = os.write(self._fd, data)
        while written < len(data):  # regular files: only on a full disk, which raises next
            written += os.write(self._fd, data[written:])
        self._dirty = True
        if self.fsync_interval <= 0 or time.monotonic() - self._last_sync >= self.fsync_interval:
            self.sync()

    @property
    def closed(self) -> bool:
        return self._fd is None

    def sync(self) -> None:
        if self._dirty and self._fd is not None:
            os.fsync(self._fd)
            self._dirty = False
            self.gone = os.fstat(self._fd).st_nlink == 0
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def read_lines(path):
        """The complete lines of a journal, streamed (a last line without newline is skipped)."""
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            return
        with fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    return
                yield line[:-1].decode("utf-8", errors="replace")
