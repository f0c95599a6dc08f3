"""Test-only extension: the crawl kills itself with SIGKILL at a chosen moment, so a kill test needs no sleep-and-hope.

Loaded by a test with `-s EXTENSIONS=<the project's EXTENSIONS plus "tests.killpoints.KillAt"> -s
KILL_AT=<moment>` (never by the project's settings). Once the worker has exported KILL_AFTER_ITEMS articles, it kills itself
at the first moment that is:

  slot       a request taken from the queue waits in the downloader for its host's shared
             politeness slot (crawler/network/politeness.py)
  lookahead  at least 3 items wait in the cleaning's look-ahead (pipelines/extract.py)
  warc       a page's response record is written and the rest of its capture (metadata record, the
             spider's item) is not yet

Before dying it logs one WARNING line, "KILL_AT <moment>: ...", with what it held, which the test reads.
"""

from __future__ import annotations

import logging
import os
import signal

from scrapy import signals

logger = logging.getLogger(__name__)

MOMENTS = ("slot", "lookahead", "warc")


class KillAt:
    def __init__(self, crawler, moment: str, after: int):
        if moment not in MOMENTS:
            raise ValueError(f"KILL_AT={moment!r}: one of {MOMENTS}")
        self.crawler = crawler
        self.moment = moment
        self.after = after
        self.loop = None

    @classmethod
    def from_crawler(cls, crawler):
        o = cls(crawler, crawler.settings.get("KILL_AT"), crawler.settings.getint("KILL_AFTER_ITEMS", 2))
        crawler.signals.connect(o.opened, signal=signals.spider_opened)
        return o

    @property
    def pages(self) -> int:
        return self.crawler.stats.get_value("downloader/response_count", 0)

    @property
    def items(self) -> int:
        return self.crawler.stats.get_value("item_scraped_count", 0)

    def taken(self) -> int:
        scheduler = self.crawler.engine.scheduler
        return scheduler.server.hlen(scheduler.reliable.inflight_key())

    def die(self, what: str) -> None:
        logger.warning("KILL_AT %s: %s; %d pages downloaded, %d items exported, %d requests taken from the shared "
                       "queue", self.moment, what, self.pages, self.items, self.taken())
        for handler in logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def opened(self, spider=None):
        if self.moment == "warc":
            self._watch_writes()
            return
        from scrapy.utils.asyncio import create_looping_call

        self.loop = create_looping_call(self.check)
        self.loop.start(0.01, now=False)

    def check(self) -> None:
        if self.items < self.after:
            return
        if self.moment == "slot":
            from crawler.frontier.status import worker_figures

            waiting = worker_figures(self.crawler)["waiting"]
            if waiting >= 1:
                self.die(f"{waiting} requests wait for a host slot")
        elif self.moment == "lookahead":
            held = max((getattr(getattr(p, "stream", None), "held", 0)
                        for p in self.crawler.engine.scraper.itemproc.middlewares), default=0)
            if held >= 3:
                self.die(f"{held} items wait in the cleaning's look-ahead")

    def _watch_writes(self) -> None:
        from crawler.capture.addon import WarcCapture
        from crawler.components import addon_of

        files = addon_of(self.crawler, WarcCapture).service.files
        write_record = files.write_record

        def watched(headers, block, *args, **kwargs):
            location = write_record(headers, block, *args, **kwargs)
            fields = dict(headers)
            if (fields.get("WARC-Type") == "response" and "/reports/" in fields.get("WARC-Target-URI", "")
                    and self.items >= self.after):
                # the page's response record is written, its metadata record not yet, and the page has not
                # reached the spider: the kill lands in the middle of the capture's writes
                self.die(f"the response record of {fields['WARC-Target-URI']} is written, the rest of its capture "
                         f"not")
            return location

        files.write_record = watched
