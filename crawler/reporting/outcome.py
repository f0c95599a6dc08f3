"""The crawl's outcome as a scheduler sees it: an exit status and one last log line that says why in words.

| status | meaning |
| --- | --- |
| 0 | the crawl finished and archived at least one page (or, rerun with a JOBDIR whose earlier runs did every request, found nothing left to do; or, with STATE_PATH, found nothing due) |
| 69 | nothing archived: start pages refused, unreachable, robots-denied, or answered only with errors |
| 74 | an output cannot be written: refused at start-up (crawler/outputs.py), or a write failed mid-crawl, of the WARC files (disk full, directory gone: rerun with the same JOBDIR and WARC_DIR), of the feed (the line says how to rebuild the items), of the state (STATE_PATH) or of the JOBDIR (gone or full) |
| 75 | stopped early: Ctrl-C or SIGTERM, or an error bound (CLOSESPIDER_ERRORCOUNT, ..._NO_ITEM), or a Redis gone (the shared frontier's, the state's); or refused at start-up: STATE_PATH in use by another crawl (crawler/commands/crawl.py) |
| 78 | fatal configuration error (the line names the setting, a misspelt -s name or -a argument, or the extra to install; crawler/commands/crawl.py), or a backfill's CDX answer not of its layout (wayback_bad_answer) |

(Scrapy's own 1 for an unhandled error and 2 for a usage error stay as they are.) The numbers are
those of sysexits.h, so cron, systemd (`RestartPreventExitStatus=78`) and scrapyd logs read them
as what they are. The operator's bounds CLOSESPIDER_PAGECOUNT, _ITEMCOUNT and _TIMEOUT are not
failures: a crawl they ended that archived a page exits 0.

A page counts as archived when a response or revisit record of a spider request (not robots.txt)
with a status below 400 is on disk (stat warc/pages_archived, counted when the record is written);
an article counts as exported when the feed's file took its line (stat feed/items_written); a rebuild
from WARC files (`-a from_warc`) counts the pages it replayed instead, and says "replayed". A worker of a shared crawl (REDIS_URL) exits
by the crawl it was part of: when its own share of the queue held only errors but the workers that
ran alongside it archived pages (their heartbeats, stat frontier/crawl_pages_archived), or are still at
work when it stops (a worker that joined late finds the queue empty while the others make their own start
requests: stat frontier/workers_at_work), it exits 0 and its last line says both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scrapy import signals

from crawler import keys

logger = logging.getLogger(__name__)

# The exit statuses of every command of the project (crawl, reprocess, explain, frontier, the
# dataset build): README.md's "Exit status" table lists what each means for each command.
OK = 0
NO_INPUT = 66  # EX_NOINPUT: the offline commands' inputs hold nothing they can read (no archive, not a WARC)
NOTHING_ARCHIVED = 69  # EX_UNAVAILABLE: nothing to archive or read (a site, a service, an input unusable)
OUTPUT_FAILED = 74  # EX_IOERR: an output cannot be written (at start-up), or a write failed (mid-crawl)
#: the same status, under the name the WARC write failure had first (kept for the modules that use it)
WARC_WRITE_FAILED = OUTPUT_FAILED
STOPPED_EARLY = 75  # EX_TEMPFAIL: try again (same JOBDIR resumes)
CONFIG_ERROR = 78  # EX_CONFIG

#: finish reasons that are the operator's own bounds, not failures
BOUNDS = {"finished", "closespider_pagecount", "closespider_itemcount", "closespider_timeout"}
#: finish reasons of a stop from outside
SIGNALS = {"shutdown", "cancelled"}


@dataclass(frozen=True)
class Outcome:
    status: int
    summary: str  # one sentence, for the last log line

    def line(self) -> str:
        return f"Crawl outcome: {self.summary} (exit status {self.status})"


def _prefixed(stats: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix) and v}


def _why_nothing(stats: dict) -> str:
    """Why a crawl archived no page, from its stats, most specific cause first."""
    unreachable = _prefixed(stats, keys.prefix(keys.STAT_UNREACHABLE))
    if unreachable:
        hosts = "; ".join(f"{host}: {reason}" for host, reason in sorted(unreachable.items()))
        return f"the site could not be reached ({hosts}); check the network and DNS, or run `make demo`"
    refused = _prefixed(stats, keys.prefix(keys.STAT_REFUSED))
    if refused:
        kinds = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(refused.items()))
        return (f"the start pages were refused by the address policy ({kinds}); see HOST_MAP and "
                f"ALLOW_PRIVATE_ADDRESSES")
    if stats.get("robotstxt/forbidden"):
        return f"robots.txt disallows the start pages ({stats['robotstxt/forbidden']} requests denied)"
    errors = _prefixed(stats, "downloader/response_status_count/")
    if errors:
        shown = ", ".join(f"HTTP {code} x{n}" for code, n in sorted(errors.items()))
        return f"the site answered only with errors ({shown})"
    failed = _prefixed(stats, "downloader/exception_type_count/")
    if failed:
        shown = ", ".join(f"{name.rsplit('.', 1)[-1]} x{n}" for name, n in sorted(failed.items()))
        return f"every download failed ({shown})"
    return "no page was fetched"


def nothing_left(stats: dict) -> bool:
    """A rerun of a JOBDIR whose earlier runs did everything: its journal held no pending request (stat
    inflight/rescheduled 0), the start requests were all done before (filtered as seen), nothing was downloaded."""
    return (stats.get(keys.STAT_RESCHEDULED) == 0 and int(stats.get("dupefilter/filtered") or 0) > 0
            and not stats.get("downloader/request_count"))


def nothing_due(stats: dict) -> bool:
    """An incremental run (STATE_PATH) whose requests were all known and not due (stat revisit/not_due: front pages
    that back off, REVISIT_FRONT_DAYS, and a run soon after the last one), and nothing else went wrong: no host
    unreachable or refused, no robots.txt denial, no HTTP error, no download failure but the refusals themselves."""
    if not stats.get(keys.STAT_REVISIT.format(event="not_due")):
        return False
    if (_prefixed(stats, keys.prefix(keys.STAT_UNREACHABLE)) or _prefixed(stats, keys.prefix(keys.STAT_REFUSED))
            or stats.get("robotstxt/forbidden")):
        return False
    if any(not code.startswith(("2", "304")) for code in _prefixed(stats, "downloader/response_status_count/")):
        return False
    return all(name.endswith(".IgnoreRequest") for name in _prefixed(stats, "downloader/exception_type_count/"))


def exported(stats: dict) -> int:
    """Articles exported: the lines the JSON Lines feed wrote and flushed (feed/items_written), else, for
    a feed of another format, the items Scrapy handed to the feeds."""
    written = stats.get(keys.STAT_FEED_WRITTEN)
    return int(written) if written is not None else int(stats.get("item_scraped_count") or 0)


def _feed_failed(stats: dict) -> str | None:
    """Why the feed's file could not be written, or None."""
    if stats.get(keys.STAT_FEED_WRITE_FAILED):
        return str(stats[keys.STAT_FEED_WRITE_FAILED])
    failed = _prefixed(stats, "feedexport/failed_count/")
    if failed:
        return "the feed could not be stored (" + ", ".join(sorted(failed)) + "; see the ERROR line above)"
    return None


# --- incremental runs (STATE_PATH, crawler/incremental/): their counts in the last line and the run report ---
def incremental_counts(stats: dict) -> str | None:
    """"15 new, 2 changed, 478 unchanged, 494 revalidated, 0 left due" for a run with STATE_PATH; None without."""
    if keys.STAT_INCREMENTAL.format(verdict="new") not in stats:
        return None
    get = lambda key: int(stats.get(key) or 0)  # noqa: E731
    verdicts = [f"{get(keys.STAT_INCREMENTAL.format(verdict=v))} {v}" for v in ("new", "changed", "unchanged")]
    revisits = [f"{get(keys.STAT_REVISIT.format(event=e))} {w}" for e, w in
                (("revalidated", "revalidated"), ("left_due", "left due"))]
    overdue = get(keys.STAT_REVISIT.format(event="overdue"))
    return ", ".join(verdicts + revisits) + (f" ({overdue} overdue)" if overdue else "")


def decide(stats: dict, reason: str | None, warc_dir: str | None = None) -> Outcome:
    """The outcome of a crawl from its final stats and its finish reason (pure: tests call it directly);
    `warc_dir`: where the archive is, for the way to rebuild items the feed lost."""
    reason = reason or stats.get("finish_reason") or "finished"
    archived, replayed = int(stats.get(keys.STAT_PAGES_ARCHIVED) or 0), int(stats.get(keys.STAT_REPLAY_PAGES) or 0)
    pages = archived or replayed
    items = exported(stats)
    done = f"{pages} pages {'replayed' if replayed and not archived else 'archived'}, {items} articles exported"
    incremental = incremental_counts(stats)
    if incremental:
        done += f"; incremental: {incremental}"
    if stats.get(keys.STAT_WRITE_FAILED) or reason == "warc_write_failed":
        return Outcome(WARC_WRITE_FAILED, f"stopped: the WARC write failed ({stats.get(keys.STAT_WRITE_FAILED)}); "
                                          f"free space and rerun with the same JOBDIR and WARC_DIR ({done})")
    feed = _feed_failed(stats)
    if feed or reason == "feed_write_failed":
        rebuild = (f"the pages are archived: rebuild the items with `scrapy reprocess {warc_dir} -O NEW.jsonl`, "
                   f"or free space and rerun with the same JOBDIR and WARC_DIR") if warc_dir and pages else \
            "free space and rerun with the same JOBDIR and WARC_DIR"
        return Outcome(OUTPUT_FAILED, f"stopped: the feed write failed ({feed}); {rebuild} ({done})")
    if stats.get(keys.STAT_STATE_WRITE_FAILED) or reason == "state_write_failed":  # crawler/incremental/addon.py
        return Outcome(OUTPUT_FAILED, f"stopped: the state write failed ({stats.get(keys.STAT_STATE_WRITE_FAILED)}); "
                                      f"free space and rerun with the same JOBDIR and WARC_DIR: the pages are archived, "
                                      f"and articles whose export the state missed are exported again ({done})")
    if stats.get(keys.STAT_STATE_UNREACHABLE) or reason == "state_unreachable":  # crawler/incremental/addon.py
        return Outcome(STOPPED_EARLY, f"stopped: {stats.get(keys.STAT_STATE_UNREACHABLE)}; rerun once it is back, with "
                                      f"the same JOBDIR to resume ({done})")
    if stats.get(keys.STAT_JOBDIR_FAILED) or reason == "jobdir_failed":  # crawler/journal/scheduler.py
        return Outcome(OUTPUT_FAILED, f"stopped: {stats.get(keys.STAT_JOBDIR_FAILED)} ({done})")
    if reason == "wayback_bad_answer":  # spiders/wayback.py: the archive is not a CDX API in its layout
        return Outcome(CONFIG_ERROR, f"stopped: the archive's CDX answer is not the JSON of its layout (IA's or pywb's) "
                                     f"({stats.get(keys.STAT_WAYBACK_BAD_ANSWER)}); check -a wayback=BASE ({done})")
    if reason in SIGNALS:
        return Outcome(STOPPED_EARLY, f"stopped early by a signal (Ctrl-C or SIGTERM); rerun with the same "
                                      f"JOBDIR to resume ({done})")
    if reason not in BOUNDS:
        return Outcome(STOPPED_EARLY, f"stopped early ({reason}) ({done})")
    left_out = int(stats.get(keys.STAT_WAYBACK_LEFT_OUT) or 0)
    if left_out and pages:  # spiders/wayback.py: listings refused, failed or capped
        return Outcome(STOPPED_EARLY, f"incomplete: {left_out} CDX listing(s) of the archive could not be read whole, "
                                      f"so their captures are left out (see the ERROR lines); rerun later, with "
                                      f"STATE_PATH the captures taken are not fetched again ({done})")
    if pages == 0 and nothing_left(stats):
        return Outcome(OK, "finished: nothing left to do: the earlier runs of this JOBDIR did every request (its "
                           "start requests were done before; a new crawl needs a new JOBDIR)")
    if pages == 0 and nothing_due(stats):
        not_due = int(stats.get(keys.STAT_REVISIT.format(event="not_due")) or 0)
        return Outcome(OK, f"finished: nothing due: the {not_due} known URLs this run met are not due yet (the revisit "
                           f"policy, REVISIT_*; `scrapy state` says when they fall due) ({done})")
    if pages == 0:
        shared = int(stats.get(keys.STAT_SHARED_PAGES_ARCHIVED) or 0)
        if shared:
            return Outcome(OK, f"finished: this worker archived no page itself ({_why_nothing(stats)}), "
                               f"the shared crawl archived {shared} pages while it ran ({items} articles exported here)")
        at_work = int(stats.get(keys.STAT_SHARED_WORKERS_AT_WORK) or 0)
        if at_work:
            return Outcome(OK, f"finished: this worker archived no page itself ({_why_nothing(stats)}); "
                               f"{at_work} other worker{'s' if at_work > 1 else ''} of the shared crawl "
                               f"{'are' if at_work > 1 else 'is'} still at work")
        return Outcome(NOTHING_ARCHIVED, f"nothing archived: {_why_nothing(stats)}")
    bound = "" if reason == "finished" else f" (stopped at the bound {reason})"
    return Outcome(OK, f"finished{bound}: {done}")


def stop_crawl(crawler, reason: str) -> None:
    """Close the spider with finish `reason` (one that `decide` reads), if its engine still runs: how a component
    that meets a fault it cannot work past (a write that failed, a service gone) ends the crawl."""
    engine = crawler.engine
    if engine is not None and engine.spider is not None and getattr(engine, "_slot", None) is not None:
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(engine.close_spider_async(reason=reason))


class CrawlOutcome:
    """Extension that decides the crawl's outcome when the engine stops; `scrapy crawl` exits with it."""

    def __init__(self, stats, warc_dir: str | None = None):
        self.stats = stats
        self.warc_dir = warc_dir
        self.reason: str | None = None
        self.outcome: Outcome | None = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        o = cls(crawler.stats, s.get("WARC_DIR") if s.getbool("WARC_ENABLED") else None)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        return o

    def spider_closed(self, spider=None, reason=None):
        self.reason = reason

    def engine_stopped(self):
        self.outcome = decide(self.stats.get_stats(), self.reason, self.warc_dir)
        self.stats.set_value(keys.STAT_EXIT_STATUS, self.outcome.status)
        self.stats.set_value(keys.STAT_OUTCOME, self.outcome.summary)
