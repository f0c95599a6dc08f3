"""The crawl's outcome as a scheduler sees it: an exit status and one last log line that says why in words.

| status | meaning |
| --- | --- |
| 0 | the crawl finished and archived at least one page |
| 69 | nothing archived: start pages refused, unreachable, robots-denied, or answered only with errors |
| 74 | the WARC write failed (disk full, directory gone): rerun with the same JOBDIR and WARC_DIR |
| 75 | stopped early: Ctrl-C or SIGTERM, or an error bound (CLOSESPIDER_ERRORCOUNT, ..._NO_ITEM) |
| 78 | fatal configuration error (the line names the setting or the extra to install) |

(Scrapy's own 1 for an unhandled error and 2 for a usage error stay as they are.) The numbers are
those of sysexits.h, so cron, systemd (`RestartPreventExitStatus=78`) and scrapyd logs read them
as what they are. The operator's bounds CLOSESPIDER_PAGECOUNT, _ITEMCOUNT and _TIMEOUT are not
failures: a crawl they ended that archived a page exits 0.

A page counts as archived when a response or revisit record of a spider request (not robots.txt)
with a status below 400 was written (stat warc/pages_archived); a rebuild from WARC files
(`-a from_warc`) counts the pages it replayed instead. A worker of a shared crawl (REDIS_URL) exits
by the crawl it was part of: when its own share of the queue held only errors but the workers that
ran alongside it archived pages (their heartbeats, stat frontier/crawl_pages_archived), it exits 0
and its last line says both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scrapy import signals

from crawler import keys

logger = logging.getLogger(__name__)

OK = 0
NOTHING_ARCHIVED = 69  # EX_UNAVAILABLE
WARC_WRITE_FAILED = 74  # EX_IOERR
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


def decide(stats: dict, reason: str | None) -> Outcome:
    """The outcome of a crawl from its final stats and its finish reason (pure: tests call it directly)."""
    reason = reason or stats.get("finish_reason") or "finished"
    pages = int(stats.get(keys.STAT_PAGES_ARCHIVED) or 0) or int(stats.get(keys.STAT_REPLAY_PAGES) or 0)
    items = int(stats.get("item_scraped_count") or 0)
    done = f"{pages} pages archived, {items} articles exported"
    incremental = incremental_counts(stats)
    if incremental:
        done += f"; incremental: {incremental}"
    if stats.get(keys.STAT_WRITE_FAILED) or reason == "warc_write_failed":
        return Outcome(WARC_WRITE_FAILED, f"stopped: the WARC write failed ({stats.get(keys.STAT_WRITE_FAILED)}); "
                                          f"free space and rerun with the same JOBDIR and WARC_DIR ({done})")
    if reason in SIGNALS:
        return Outcome(STOPPED_EARLY, f"stopped early by a signal (Ctrl-C or SIGTERM); rerun with the same "
                                      f"JOBDIR to resume ({done})")
    if reason not in BOUNDS:
        return Outcome(STOPPED_EARLY, f"stopped early ({reason}) ({done})")
    if pages == 0:
        shared = int(stats.get(keys.STAT_SHARED_PAGES_ARCHIVED) or 0)
        if shared:
            return Outcome(OK, f"finished: this worker archived no page itself ({_why_nothing(stats)}), "
                               f"the shared crawl archived {shared} pages while it ran ({items} articles exported here)")
        return Outcome(NOTHING_ARCHIVED, f"nothing archived: {_why_nothing(stats)}")
    bound = "" if reason == "finished" else f" (stopped at the bound {reason})"
    return Outcome(OK, f"finished{bound}: {done}")


class CrawlOutcome:
    """Extension that decides the crawl's outcome when the engine stops; `scrapy crawl` exits with it."""

    def __init__(self, stats):
        self.stats = stats
        self.reason: str | None = None
        self.outcome: Outcome | None = None

    @classmethod
    def from_crawler(cls, crawler):
        o = cls(crawler.stats)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        return o

    def spider_closed(self, spider=None, reason=None):
        self.reason = reason

    def engine_stopped(self):
        self.outcome = decide(self.stats.get_stats(), self.reason)
        self.stats.set_value(keys.STAT_EXIT_STATUS, self.outcome.status)
        self.stats.set_value(keys.STAT_OUTCOME, self.outcome.summary)
