"""`scrapy crawl`, with an exit status that tells a scheduler whether the crawl archived anything, and why not.

Scrapy's own crawl command, plus:
- the exit status of crawler/reporting/outcome.py, and its one-sentence reason as the last log line;
- a fatal configuration error (crawler.config.ConfigError: a missing extra, an impossible setting)
  printed as one line, without a traceback, with exit status 78; a service it names that does not
  answer (crawler.config.ServiceUnavailable: the Redis of REDIS_URL) likewise, with exit status 69; a file or directory the crawl
  cannot write at start-up (an unwritable WARC_DIR) likewise, with exit status 74.
"""

from __future__ import annotations

import logging

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.config import ConfigError, ServiceUnavailable
from crawler.reporting.outcome import CONFIG_ERROR, NOTHING_ARCHIVED, WARC_WRITE_FAILED, CrawlOutcome

logger = logging.getLogger("crawler.outcome")


class Command(ScrapyCrawlCommand):
    def run(self, args, opts) -> None:
        if len(args) != 1:
            return super().run(args, opts)  # Scrapy's usage errors
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        failure = []
        if hasattr(started, "add_done_callback"):  # an asyncio task (AsyncCrawlerProcess)
            started.add_done_callback(lambda task: failure.append(
                None if task.cancelled() else task.exception()))
        else:  # a Deferred (CrawlerProcess)
            started.addErrback(lambda f: failure.append(f.value))
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
        if error is not None or outcome_ext is None or outcome_ext.outcome is None:
            if error is not None:
                logger.critical("The crawl could not start: %s: %s", type(error).__name__, error)
            self.exitcode = 1
            return
        outcome = outcome_ext.outcome
        (logger.info if outcome.status == 0 else logger.error)(outcome.line())
        self.exitcode = outcome.status


def _cause(error: BaseException | None) -> BaseException | None:
    """The error a component raised at start-up, when Scrapy's clean-up raised another over it (a scheduler
    that cannot open, e.g. Redis unreachable, leaves no engine slot, and closing the engine then fails
    with "Engine slot not assigned")."""
    seen = error
    while seen is not None:
        if isinstance(seen, (ConfigError, ServiceUnavailable)):
            return seen
        seen = seen.__context__
    return error
