"""`scrapy crawl`, with an exit status that tells a scheduler whether the crawl archived anything, and why not.

Scrapy's own crawl command, plus:
- the exit status of crawler/reporting/outcome.py, and its one-sentence reason as the last log line;
- before anything starts (before Scrapy's logging, the reactor or the crawl): every declared
  setting's value checked (crawler/settingspec.py; a bad one: exit status 78) and every output
  location checked (crawler/outputs.py; one that cannot be written: exit status 74), each refusal
  one line on stderr, also appended to LOG_FILE when that can be written; a -s name no part of
  the crawl reads but close to one it does (`-s STATE_PTH=`: crawler/settingspec.py's `misspelt`) is a
  configuration error too, exit status 78, and any other name no part of the crawl
  reads (an operator's own extension may) is logged as a warning;
- a fatal configuration error met later (crawler.config.ConfigError: a missing extra, an impossible
  setting) printed as one line, without a traceback, with exit status 78; a file or directory the
  crawl cannot write at start-up likewise, with exit status 74.
- a service it names that does not answer (crawler.config.ServiceUnavailable: the Redis of REDIS_URL)
  printed as one line, with exit status 69; an output another running crawl holds (crawler.config.InUse:
  its STATE_PATH) likewise, with exit status 75 (try again once that crawl has ended).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES

from crawler import keys, outputs, settingspec
from crawler.config import ConfigError, InUse, ServiceUnavailable
from crawler.reporting.outcome import (CONFIG_ERROR, NOTHING_ARCHIVED, OUTPUT_FAILED, STOPPED_EARLY, WARC_WRITE_FAILED,
                                       CrawlOutcome, exported)

logger = logging.getLogger("crawler.outcome")


def refuse(settings, message: str, status: int):
    """Stop before the crawl exists: `message` as one log-formatted line on stderr (and at the end of
    LOG_FILE when it can be written), then exit with `status`."""
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} [crawler.outcome] CRITICAL: {message} (exit status {status})"
    print(line, file=sys.stderr, flush=True)
    log_file = settings.get("LOG_FILE")
    if log_file:
        try:
            with open(log_file, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError:
            pass  # the line is on stderr; an unwritable LOG_FILE is itself what was refused
    raise SystemExit(status)


class Command(ScrapyCrawlCommand):
    def process_options(self, args, opts) -> None:
        super().process_options(args, opts)  # -s, -o/-O (FEEDS), -a
        cmdline = SETTINGS_PRIORITIES["cmdline"]
        given = [name for name in self.settings.attributes if self.settings.getpriority(name) == cmdline]
        misspelt = settingspec.misspelt(given)
        bad = [f"-s {name}: no such setting; did you mean {meant}?" for name, meant in misspelt.items()]
        bad += settingspec.problems(self.settings)
        if bad:
            refuse(self.settings, "Configuration error: " + "; ".join(bad), CONFIG_ERROR)
        unwritable = outputs.first_unwritable(self.settings, archiving="from_warc" not in opts.spargs)
        if unwritable:
            refuse(self.settings, unwritable, OUTPUT_FAILED)
        self.unknown_settings = settingspec.unknown(given)
        log_file = self.settings.get("LOG_FILE")
        if log_file:  # Scrapy's log handler, made next, opens the file but makes no directory
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)

    def run(self, args, opts) -> None:
        if len(args) != 1:
            return super().run(args, opts)  # Scrapy's usage errors
        for name in getattr(self, "unknown_settings", ()):
            logger.warning("-s %s: no part of the crawl reads this setting (a typo?); it is ignored "
                           "(docs/reference.md lists the settings)", name)
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        misspelt = unknown_arguments(crawler.spidercls, opts.spargs)
        if misspelt:
            logger.critical("Configuration error: %s (exit status %d)", misspelt, CONFIG_ERROR)
            self.exitcode = CONFIG_ERROR
            return
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        failure = []
        if hasattr(started, "add_done_callback"):  # an asyncio task (AsyncCrawlerProcess)
            started.add_done_callback(lambda task: failure.append(
                None if task.cancelled() else task.exception()))
        else:  # a Deferred (CrawlerProcess)
            started.addErrback(lambda f: failure.append(f.value))
        forced = _watch_forced_stop(self.crawler_process)
        self.crawler_process.start()
        error = next((e for e in failure if e is not None), None)
        error = _cause(error)
        if isinstance(error, ConfigError):
            logger.critical("Configuration error: %s (exit status %d)", error, CONFIG_ERROR)
            self.exitcode = CONFIG_ERROR
            return
        if isinstance(error, ServiceUnavailable):  # e.g. the Redis of REDIS_URL
            logger.critical("Cannot start: %s (exit status %d)", error, NOTHING_ARCHIVED)
            self.exitcode = NOTHING_ARCHIVED
            return
        if isinstance(error, InUse):  # e.g. STATE_PATH held by another running crawl: try again later
            logger.critical("Cannot start: %s (exit status %d)", error, STOPPED_EARLY)
            self.exitcode = STOPPED_EARLY
            return
        if isinstance(error, UsageError):
            raise error
        if isinstance(error, OSError):
            logger.critical("Cannot start: %s (exit status %d)", error, WARC_WRITE_FAILED)
            self.exitcode = WARC_WRITE_FAILED
            return
        try:
            outcome_ext = crawler.get_extension(CrawlOutcome)
        except RuntimeError:  # the crawl never got as far as its extensions
            outcome_ext = None
        if forced and (outcome_ext is None or outcome_ext.outcome is None):
            # a second Ctrl-C (or SIGTERM): Scrapy stopped at once, the engine never closed, so no outcome was
            # decided; it is a stop from outside, as the first signal's, not an error of the crawl
            stats = crawler.stats.get_stats() if crawler.stats is not None else {}
            pages, items = int(stats.get(keys.STAT_PAGES_ARCHIVED) or 0), exported(stats)
            summary = (f"stopped at once by a second Ctrl-C or SIGTERM ({pages} pages archived, {items} articles "
                       f"exported until then; the requests in flight were cut off, a WARC file may be left .open); "
                       f"rerun with the same JOBDIR and WARC_DIR to resume: the rerun recovers the WARC file and "
                       f"fetches again what was not finished")
            logger.error("Crawl outcome: %s (exit status %d)", summary, STOPPED_EARLY)
            _write_stats(crawler, STOPPED_EARLY, summary)  # the engine never stopped: STATS_FILE is written here
            self.exitcode = STOPPED_EARLY
            return
        if error is not None or outcome_ext is None or outcome_ext.outcome is None:
            if error is not None:
                logger.critical("The crawl could not start: %s: %s", type(error).__name__, error)
            self.exitcode = 1
            return
        outcome = outcome_ext.outcome
        (logger.info if outcome.status == 0 else logger.error)(outcome.line())
        self.exitcode = outcome.status


def unknown_arguments(spidercls, spargs: dict) -> str | None:
    """The error line for a spider argument (-a NAME=VALUE) the spider does not read, or None. A spider that lists
    its `arguments` gets only those; a misspelt one (`-a from_warcs=`) would otherwise be an attribute nothing
    reads, and the crawl would fetch the live site instead of rebuilding from the archive. Names starting with
    "_" are the scheduler's own (scrapyd's `_job`)."""
    known = getattr(spidercls, "arguments", None)
    if known is None:
        return None
    bad = [name for name in spargs if name not in known and not name.startswith("_")]
    if not bad:
        return None
    return "; ".join(f"-a {name}={spargs[name]}" for name in bad) + (
        f": spider {spidercls.name} takes no such argument (a typo?); its arguments: {', '.join(sorted(known))}")


def _write_stats(crawler, status: int, summary: str) -> None:
    """STATS_FILE with the outcome, for a crawl whose engine never stopped (the StatsFile extension writes it then)."""
    from crawler.reporting.statsfile import StatsFile

    if crawler.stats is None:
        return
    crawler.stats.set_value(keys.STAT_EXIT_STATUS, status)
    crawler.stats.set_value(keys.STAT_OUTCOME, summary)
    try:
        stats_file = crawler.get_extension(StatsFile)
    except RuntimeError:  # not enabled (no STATS_FILE), or the crawl never got as far as its extensions
        return
    stats_file.engine_stopped()


def _watch_forced_stop(process) -> list[int]:
    """The signals that forced the crawl to stop at once (a second Ctrl-C or SIGTERM), filled as they come: Scrapy
    logs such a signal through its process's `_log_kill`, in the reactor's (or event loop's) thread, with and
    without a reactor."""
    forced: list[int] = []
    log_kill = getattr(process, "_log_kill", None)
    if log_kill is not None:
        def _log_kill(signum: int) -> None:
            forced.append(signum)
            log_kill(signum)

        process._log_kill = _log_kill
    return forced


def _cause(error: BaseException | None) -> BaseException | None:
    """The error a component raised at start-up, when Scrapy's clean-up raised another over it (a scheduler
    that cannot open, e.g. Redis unreachable, leaves no engine slot, and closing the engine then fails
    with "Engine slot not assigned")."""
    seen = error
    while seen is not None:
        if isinstance(seen, (ConfigError, ServiceUnavailable, InUse)):
            return seen
        seen = seen.__context__
    return error
