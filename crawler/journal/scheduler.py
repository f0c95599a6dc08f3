"""Scheduler whose every accepted request survives kill -9: a journal of the frontier in JOBDIR/inflight/requests.journal.

Why: Scrapy's JOBDIR persists its request queues only when the spider closes (queuelib writes
the queue's head/tail state, and the LIFO queue's size, on close; the seen-set is written
through a buffered file). After kill -9 the rerun finds an empty or stale queue, and start
requests the seen-set already filters: the crawl stops at once and everything pending or
in flight is lost.

JournalingScheduler is Scrapy's scheduler plus an append-only journal: every request it accepts
is appended ("+ fp request") with one os.write, before it can reach the downloader; when the
engine has finished a request (downloaded, callback run, its items through the pipelines and
exported, its links scheduled, or its failure handled) "- fp" is appended; by then its WARC records
are on disk (the capture service writes each record when it is built, crawler/capture/service.py). fsync at most every INFLIGHT_FSYNC_INTERVAL seconds
(0: after every append) and on close. At start-up the journal is read, the requests still pending
(accepted and not finished: queued, in the downloader, in the scraper) are written to a compacted
journal, Scrapy's own disk queue (stale after a kill) is set aside, and the pending requests are
scheduled again with dont_filter=True. The seen-set file (JOBDIR/requests.seen) is flushed as each
request is accepted, so a rerun does not fetch again what the killed run finished. After a failed
WARC write (crawler/capture/signals.py) no request is marked finished any more: a rerun fetches
again everything whose capture may not be on disk.

A JOBDIR that goes away mid-crawl (`rm -rf JOBDIR`: the journal, Scrapy's disk queue and the seen-set
go with it) or cannot be written (its disk full) stops the crawl: one ERROR line naming it, the stat
inflight/jobdir_failed, finish reason "jobdir_failed", exit status 74 (crawler/reporting/outcome.py).
The crawl notices it at the journal's next sync (one fstat: the journal's file has no name left), or
at once when Scrapy's disk queue or the journal fails to read or write; until then, without it, the
requests of the disk queue were dropped with a traceback each and the run ended "finished", exit 0,
with nothing left for a rerun to resume from. No request is marked finished after it; after a failed write the
seen-set is set aside (requests.seen.incomplete), so that the rerun fetches again what no journal line kept.

"Finished" is when the engine drops the request from its in-progress set: Scrapy has no signal
for it, so the scheduler wraps the engine slot's remove_request (a private piece of Scrapy,
checked at start-up: without it no request is ever marked finished, and a rerun fetches more
again but loses nothing). That is the one place the project hooks into Scrapy's internals outside
the byte-exact download handler.

Off without JOBDIR (crawler/journal/addon.py switches it on).
"""

from __future__ import annotations

import base64
import logging
import os
import pickle
import shutil
from pathlib import Path

from scrapy.core.scheduler import Scheduler
from scrapy.utils.request import request_from_dict

from crawler import keys
from crawler.journal.feedfile import feed_write_failed
from crawler.capture.signals import warc_write_failed
from crawler.journal.appendlog import REQUESTS, AppendJournal, journal_dir
from crawler.reporting.outcome import stop_crawl

logger = logging.getLogger(__name__)

#: the finish reason of a crawl whose JOBDIR went away or could not be written (crawler/reporting/outcome.py)
JOBDIR_FAILED = "jobdir_failed"


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
        o.journal_dir = journal_dir(crawler.settings)
        o.fsync_interval = crawler.settings.getfloat("INFLIGHT_FSYNC_INTERVAL")
        o.warc_failed = False
        o.jobdir_failed = False
        crawler.signals.connect(o._warc_write_failed, signal=warc_write_failed)
        crawler.signals.connect(o._warc_write_failed, signal=feed_write_failed)  # the same: items not on disk
        return o

    def _warc_write_failed(self, exc=None, path=None) -> None:
        self.warc_failed = True  # from now on nothing is marked finished: a rerun fetches it again

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
            request.meta[keys.META_JOURNAL_FP] = fp
            super().enqueue_request(request)  # already in the compacted journal
            rescheduled += 1
        if resumed:
            logger.info("In-flight journal %s: %d pending requests of the earlier run scheduled again",
                        path, rescheduled)
            stats.set_value(keys.STAT_RESCHEDULED, rescheduled)
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
        try:
            result = super().close(reason)  # Scrapy writes its disk queue's state into JOBDIR
        except OSError as exc:
            self._jobdir_failed(exc)
            result = self.df.close(reason)
        if self.journal is not None:
            try:
                self.journal.close()
            except OSError as exc:
                self._jobdir_failed(exc)
        return result

    # --- a JOBDIR gone or unwritable --------------------------------------------------
    def _jobdir_failed(self, exc: OSError | None) -> None:
        """JOBDIR went away (`exc` None: the journal's file lost its name; or a FileNotFoundError) or a write into
        it failed: say so once, and stop the crawl (see the module docstring)."""
        if self.jobdir_failed:
            return
        self.jobdir_failed = True
        jobdir = self.journal_dir.parent
        if exc is None or isinstance(exc, FileNotFoundError) or not (self.journal_dir / REQUESTS).exists():
            why = f"JOBDIR at {jobdir} went away"
            then = ("the requests it held went with it: rerun with the same JOBDIR and WARC_DIR, which fetches the site "
                    "again (what this run archived stays in WARC_DIR) and exports only the articles not exported yet")
        else:
            why = f"JOBDIR write failed in {jobdir} ({f'[Errno {exc.errno}] {exc.strerror}' if exc.errno else exc})"
            then = ("free space and rerun with the same JOBDIR and WARC_DIR: it fetches the site again (the requests "
                    "whose journal line was lost are in no journal) and exports only the articles not exported yet")
            self._set_seen_aside(jobdir)
        logger.error("%s: stopping the crawl; %s", why, then)
        self.crawler.stats.set_value(keys.STAT_JOBDIR_FAILED, f"{why}; {then}")
        stop_crawl(self.crawler, JOBDIR_FAILED)

    @staticmethod
    def _set_seen_aside(jobdir: Path) -> None:
        """After a failed journal write, the seen-set holds requests no journal line keeps: a rerun would filter them
        as done and never fetch them (12 of 49 articles lost on a 100 KiB JOBDIR). Renamed (no space needed), it
        starts the rerun's seen-set afresh: the pending requests come from the journal, the rest is fetched again,
        and the exported-before stage keeps exported articles from being exported twice."""
        seen = jobdir / "requests.seen"
        try:
            os.replace(seen, seen.with_name(seen.name + ".incomplete"))
        except OSError:
            pass

    def _append(self, line: str) -> bool:
        """Append `line` to the journal: False when JOBDIR has failed (now or before)."""
        if self.jobdir_failed:
            return False
        try:
            self.journal.append(line)
        except OSError as exc:
            self._jobdir_failed(exc)
            return False
        if self.journal.gone:
            self._jobdir_failed(None)
            return False
        return True

    # --- the journal ---------------------------------------------------------------
    def _fingerprint(self, request) -> str:
        return self.crawler.request_fingerprinter.fingerprint(request).hex()

    def enqueue_request(self, request) -> bool:
        if self.journal is None:
            return super().enqueue_request(request)
        # the fingerprint travels in meta: Scrapy's disk queue hands back a new Request object
        request.meta[keys.META_JOURNAL_FP] = fp = self._fingerprint(request)
        try:
            accepted = super().enqueue_request(request)  # Scrapy's disk queue is in JOBDIR
        except OSError as exc:
            self._jobdir_failed(exc)
            return False
        if accepted:
            seen = getattr(self.df, "file", None)  # RFPDupeFilter's requests.seen: buffered by Scrapy
            if seen is not None:
                seen.flush()
            try:
                payload = encode_request(request, self.spider)
            except Exception:  # e.g. a lambda callback: Scrapy keeps it in memory only
                payload = ""
                self.crawler.stats.inc_value(keys.STAT_UNSERIALIZABLE)
            if self._append(f"+ {fp} {payload}"):
                self.crawler.stats.inc_value(keys.STAT_JOURNALED)
        return accepted

    def next_request(self):
        if self.journal is None:
            return super().next_request()
        if self.jobdir_failed:
            return None  # the crawl is stopping
        try:
            return super().next_request()  # Scrapy's disk queue is in JOBDIR
        except OSError as exc:
            self._jobdir_failed(exc)
            return None

    def request_finished(self, request) -> None:
        """The engine is done with `request` (called from the engine hook)."""
        if self.journal is None:
            return
        if self.warc_failed:
            return  # its capture may not be on disk: a rerun fetches it again
        fp = request.meta.get(keys.META_JOURNAL_FP) if request.meta else None
        if fp is None:
            return  # not one of ours (robots.txt, engine.download_async)
        if self.journal.closed:
            return
        if self._append(f"- {fp}"):
            self.crawler.stats.inc_value(keys.STAT_JOURNAL_FINISHED)

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
