"""Work in flight survives kill -9: a journal of the crawl frontier in JOBDIR, and an export journal for items.

Why: Scrapy's JOBDIR persists its request queues only when the spider closes (queuelib writes
the queue's head/tail state, and the LIFO queue's size, on close; the seen-set is written
through a buffered file). After kill -9 the rerun finds an empty or stale queue, and start
requests the seen-set already filters: the crawl stops at once and everything pending or
in flight is lost. The feed exporter loses its buffered lines the same way.

What closes the hole:

* JournalingScheduler (SCHEDULER): Scrapy's scheduler plus an append-only journal
  (JOBDIR/inflight/requests.journal). Every request it accepts is appended ("+ fp request")
  with one os.write, before it can reach the downloader; when the engine has finished a request
  (downloaded, callback run, its items through the pipelines and exported, its links scheduled,
  or its failure handled) "- fp" is appended. fsync at most every INFLIGHT_FSYNC_INTERVAL
  seconds (0: after every append) and on close. A process kill loses nothing written by
  os.write; fsync guards against a crash of the machine. At start-up the journal is read, the
  requests still pending (accepted and not finished: queued, in the downloader, in the
  scraper) are written to a compacted journal, Scrapy's own disk queue (stale after a kill) is
  set aside, and the pending requests are scheduled again with dont_filter=True.
  The seen-set file (JOBDIR/requests.seen) is flushed as each request is accepted, so a
  rerun does not fetch again what the killed run finished.
  A request is finished when the engine drops it from its in-progress set; that hook is
  Scrapy's private ExecutionEngine._slot.remove_request (checked at start-up: without it no
  request is ever marked finished, so a rerun fetches more again but loses nothing).

* JsonLinesFlushingExporter (FEED_EXPORTERS jsonlines/jsonl): writes each item as one line
  with one write and flushes it to the operating system, then appends the item's URL to
  JOBDIR/inflight/exported.journal. Before exporting anything it records the feed file's path
  in JOBDIR/inflight/feeds.journal (fsync'd).

* ExportedBeforePipeline (ITEM_PIPELINES, before export): drops an item whose URL an
  earlier run of this JOBDIR exported: URLs of the export journal, plus the URLs of the
  complete lines of the feed files the earlier runs wrote (which covers a kill between the
  line's flush and the journal append). So every article is exported exactly once across the
  JSONL files of the runs, including those in flight when the process died.

All three do nothing without JOBDIR.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import shutil
import time
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.exporters import JsonLinesItemExporter
from scrapy.utils.job import job_dir
from scrapy.utils.python import to_bytes
from scrapy.utils.request import request_from_dict

logger = logging.getLogger(__name__)

SUBDIR = "inflight"
META_FP = "inflight_fp"  # request.meta: the fingerprint journaled for this request
REQUESTS = "requests.journal"
EXPORTED = "exported.journal"
FEEDS = "feeds.journal"


class AppendJournal:
    """An append-only file of text lines; each line goes to the OS with one os.write (a killed
    process never leaves half of an earlier line), fsync'd at most every `fsync_interval`
    seconds (0: every line). A last line without its newline is ignored when read."""

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


def pending_requests(lines) -> dict[str, str]:
    """{fingerprint: serialised request} of the requests accepted and not finished, in order.
    Counts, not a set: a retry re-schedules the same fingerprint before its first attempt ends."""
    count: dict[str, int] = {}
    latest: dict[str, str] = {}
    for line in lines:
        op, _, rest = line.partition(" ")
        if op == "+":
            fp, _, payload = rest.partition(" ")
            count[fp] = count.get(fp, 0) + 1
            if payload:
                latest[fp] = payload
            latest.setdefault(fp, "")
        elif op == "-":
            fp = rest.strip()
            if count.get(fp, 0) > 0:
                count[fp] -= 1
    return {fp: latest[fp] for fp in latest if count.get(fp, 0) > 0}


def encode_request(request, spider) -> str:
    return base64.b64encode(pickle.dumps(request.to_dict(spider=spider), protocol=4)).decode("ascii")


def decode_request(payload: str, spider):
    return request_from_dict(pickle.loads(base64.b64decode(payload)), spider=spider)


class JournalingScheduler(Scheduler):
    """Scrapy's scheduler with a kill-proof journal of accepted and finished requests; see the module docstring.

    Stats: inflight/rescheduled (pending requests of an earlier run scheduled again),
    inflight/journaled, inflight/finished, inflight/unserializable."""

    journal: AppendJournal | None = None

    @classmethod
    def from_crawler(cls, crawler):
        o = super().from_crawler(crawler)
        o.crawler = crawler
        jobdir = job_dir(crawler.settings)
        o.journal_dir = Path(jobdir, SUBDIR) if jobdir else None
        o.fsync_interval = crawler.settings.getfloat("INFLIGHT_FSYNC_INTERVAL", 1.0)
        return o

    # --- open / close -------------------------------------------------------------
    def open(self, spider):
        self.spider = spider
        if self.journal_dir is None:
            return super().open(spider)
        path = self.journal_dir / REQUESTS
        resumed = path.exists()
        pending = pending_requests(AppendJournal.read_lines(path)) if resumed else {}
        pending = {fp: payload for fp, payload in pending.items() if payload}
        if resumed and self.dqdir and Path(self.dqdir).exists():
            # Scrapy's disk queue is valid only after a clean close, and stale after a kill; the
            # journal holds every pending request either way, so it is the one source.
            shutil.rmtree(self.dqdir)
            Path(self.dqdir).mkdir(parents=True, exist_ok=True)
        self._compact(path, pending)
        self.journal = AppendJournal(path, self.fsync_interval)
        result = super().open(spider)
        self._hook_engine()
        stats = self.crawler.stats
        rescheduled = 0
        for fp, payload in pending.items():
            try:
                request = decode_request(payload, spider)
            except Exception:
                logger.exception("In-flight journal: cannot rebuild a pending request (%s)", fp)
                continue
            request = request.replace(dont_filter=True)
            request.meta[META_FP] = fp
            super().enqueue_request(request)  # already in the compacted journal
            rescheduled += 1
        if resumed:
            logger.info("In-flight journal %s: %d pending requests of the earlier run scheduled again",
                        path, rescheduled)
            stats.set_value("inflight/rescheduled", rescheduled)
        return result

    def _compact(self, path: Path, pending: dict[str, str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".new")
        with open(tmp, "w", encoding="utf-8") as fh:
            for fp, payload in pending.items():
                fh.write(f"+ {fp} {payload}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def close(self, reason):
        result = super().close(reason)
        if self.journal is not None:
            recorder = getattr(self.crawler, "warc_recorder", None)
            if recorder is not None:
                recorder.drain()  # the last "finished" lines wait for the WARC writer process
            self.journal.close()
        return result

    # --- the journal ---------------------------------------------------------------
    def _fingerprint(self, request) -> str:
        return self.crawler.request_fingerprinter.fingerprint(request).hex()

    def enqueue_request(self, request) -> bool:
        if self.journal is None:
            return super().enqueue_request(request)
        # the fingerprint travels in meta: Scrapy's disk queue hands back a new Request object
        request.meta[META_FP] = fp = self._fingerprint(request)
        accepted = super().enqueue_request(request)
        if accepted:
            seen = getattr(self.df, "file", None)  # RFPDupeFilter's requests.seen: buffered by Scrapy
            if seen is not None:
                seen.flush()
            try:
                payload = encode_request(request, self.spider)
            except Exception:  # e.g. a lambda callback: Scrapy keeps it in memory only
                payload = ""
                self.crawler.stats.inc_value("inflight/unserializable")
            self.journal.append(f"+ {fp} {payload}")
            self.crawler.stats.inc_value("inflight/journaled")
        return accepted

    def request_finished(self, request) -> None:
        """The engine is done with `request` (called from the engine hook)."""
        if self.journal is None:
            return
        if getattr(self.crawler, "warc_write_failed", False):
            return  # its capture may not be on disk (crawler/diskguard.py): a rerun fetches it again
        fp = request.meta.get(META_FP) if request.meta else None
        if fp is None:
            return  # not one of ours (robots.txt, engine.download_async)
        recorder = getattr(self.crawler, "warc_recorder", None)
        barrier = recorder.barrier() if recorder is not None else None
        if barrier is not None:
            # records still with the WARC writer process: finished once they are all written
            barrier.add_done_callback(lambda future: self._finished(fp, future))
            return
        self._finished(fp)

    def _finished(self, fp: str, written=None) -> None:
        if written is not None and (written.cancelled() or written.exception() is not None):
            return  # a record could not be written: a rerun fetches the request again
        if self.journal is None or self.journal.closed or getattr(self.crawler, "warc_write_failed", False):
            return
        self.journal.append(f"- {fp}")
        self.crawler.stats.inc_value("inflight/finished")

    def _hook_engine(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        remove = getattr(slot, "remove_request", None)
        if remove is None:
            logger.error("In-flight journal: this Scrapy version has no engine slot hook; requests are "
                         "never marked finished, a rerun after a kill fetches all journaled requests again")
            return

        def remove_request(request, _remove=remove):
            _remove(request)
            self.request_finished(request)

        slot.remove_request = remove_request


# --- items ---------------------------------------------------------------------------


def _jobdir_journal_dir(settings) -> Path | None:
    jobdir = job_dir(settings)
    return Path(jobdir, SUBDIR) if jobdir else None


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
        return cls(file, *args, journal_dir=_jobdir_journal_dir(crawler.settings),
                   fsync_interval=crawler.settings.getfloat("INFLIGHT_FSYNC_INTERVAL", 1.0), **kwargs)

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


def urls_in_feed(path) -> set[str]:
    """URLs of the complete JSON lines of a JSON Lines file (a line cut short is skipped)."""
    urls = set()
    try:
        fh = open(path, "rb")
    except OSError:
        return urls
    with fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            try:
                url = json.loads(line).get("url")
            except (ValueError, AttributeError):
                continue
            if url:
                urls.add(url)
    return urls


def exported_before(journal_dir: Path, skip_paths=()) -> set[str]:
    """Every URL earlier runs of this JOBDIR exported (export journal + their feed files)."""
    urls = set(AppendJournal.read_lines(journal_dir / EXPORTED))
    skip = {os.path.abspath(p) for p in skip_paths}
    for feed in dict.fromkeys(AppendJournal.read_lines(journal_dir / FEEDS)):
        if feed and feed not in skip:
            urls |= urls_in_feed(feed)
    urls.discard("")
    return urls


class ExportedBeforePipeline:
    """Drop an item an earlier run of this JOBDIR already exported (stat
    articles/dropped/exported_before). Off without JOBDIR."""

    def __init__(self, journal_dir: Path, stats=None):
        self.journal_dir = journal_dir
        self.stats = stats
        self.urls: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        journal_dir = _jobdir_journal_dir(crawler.settings)
        if journal_dir is None:
            raise NotConfigured
        # read now, before the feed exporter opens (and with -O truncates) this run's feed
        o = cls(journal_dir, crawler.stats)
        o.urls = exported_before(journal_dir)
        if o.urls:
            logger.info("Resuming JOBDIR: %d articles exported by earlier runs will not be exported again",
                        len(o.urls))
        return o

    def process_item(self, item, spider=None):
        url = ItemAdapter(item).get("url")
        if url in self.urls:
            if self.stats:
                self.stats.inc_value("articles/dropped/exported_before")
            raise DropItem(f"exported_before: {url} was exported by an earlier run of this JOBDIR")
        return item
