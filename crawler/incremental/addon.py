"""Add-on for incremental recrawls (STATE_PATH set): a run fetches what is new plus what is due, unchanged articles
are not exported again.

It owns the crawl's state store (crawler/incremental/state.py: SQLite, or Redis for distributed
workers), opened on first use and closed when the engine stops, and puts in the chain:
- conditional requests for articles exported by earlier runs, and fetch facts into the state,
  below HTTP compression (590) so it sees decoded bodies and below the WARC recorder (950) so the
  recorder archives the conditional headers as sent (downloader middleware 580,
  crawler/incremental/revalidate.py);
- the incremental stage, after de-duplication and before export: articles whose content is the
  one last exported are dropped as unchanged (item pipeline 800, pipelines/incremental.py);
- the run's revisits (crawler/incremental/revisit.py, policy in crawler/incremental/policy.py, settings
  REVISIT_* in crawler/settings.py): the due URLs of the state added to the start requests (spider
  middleware 10), known URLs that are not due left out (in the downloader middleware above).
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import keys
from crawler.components import defaults, register
from crawler.config import ConfigError, ServiceUnavailable
from crawler.incremental.policy import RevisitPolicy
from crawler.incremental.state import RedisState, SqliteState, is_redis_spec, open_state
from crawler.reporting.outcome import stop_crawl

logger = logging.getLogger(__name__)

DEFAULTS = {
    #: Revalidate articles exported by earlier runs with conditional requests (If-None-Match /
    #: If-Modified-Since; a 304 is archived as a server-not-modified revisit and counted unchanged).
    #: False: do not request known articles at all (listings and feeds are always fetched).
    "STATE_REVALIDATE": True,
    #: Redis hash of the state when STATE_PATH is "redis" or a redis:// URL.
    "STATE_REDIS_KEY": "%(spider)s:state",
}


class Incremental:
    """Add-on: see the module docstring. `state` is the one store its components share."""

    def __init__(self, crawler):
        self.crawler = crawler
        self._state = None
        self._revisits = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("STATE_PATH"):
            raise NotConfigured
        return cls(crawler)

    def update_settings(self, settings):
        defaults(settings, DEFAULTS)
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.incremental.revalidate.RevalidateMiddleware", 580)
        register(settings, "ITEM_PIPELINES", "pipelines.incremental.IncrementalPipeline", 800)
        register(settings, "SPIDER_MIDDLEWARES", "crawler.incremental.revisit.RevisitStartMiddleware", 10)

    @property
    def revisits(self):
        """The run's revisits (crawler/incremental/revisit.py), made on first use."""
        if self._revisits is None:
            from crawler.incremental.revisit import Revisits

            s = self.crawler.settings
            try:
                policy = RevisitPolicy.from_settings(s.get)
                budget = s.getint("REVISIT_BUDGET")
            except ValueError as e:
                raise ConfigError(f"revisit policy: {e}") from None
            if budget < 0:
                raise ConfigError(f"REVISIT_BUDGET={budget}: must be 0 (no limit) or more")
            self._revisits = Revisits(self.state, policy, budget, self.crawler.stats)
            # a run of the first crawl marks it ended (Revisits.stopped; the mark is committed at once)
            self.crawler.signals.connect(self._revisits.stopped, signal=signals.spider_closed, weak=False)
        return self._revisits

    @property
    def state(self):
        """The crawl's state store, opened on first use and closed when the engine stops."""
        if self._state is None:
            s = self.crawler.settings
            spec = str(s.get("STATE_PATH"))
            if s.get("REDIS_URL") and not is_redis_spec(spec):
                logger.warning("STATE_PATH is a file while REDIS_URL is set: workers on other machines will not"
                               " see this state; use STATE_PATH=redis to share it (docs/scale-out.md)")
            state = open_state(spec, spider=self.crawler.spidercls.name, redis_url=s.get("REDIS_URL"),
                               redis_key=s.get("STATE_REDIS_KEY"), hold=True)  # one crawl per SQLite state
            if isinstance(state, RedisState):
                # reach its server now, while the crawl is being made: down, it stops the crawl with one line
                # (exit status 69), not at the first start request (finish reason start_error, exit status 75)
                try:
                    state.server.ping()
                except Exception as exc:  # noqa: BLE001 - redis's ConnectionError, TimeoutError, AuthenticationError...
                    raise ServiceUnavailable(self._unreachable(exc)) from None
                state.on_unreachable = self._state_unreachable
            if isinstance(state, SqliteState):
                state.on_write_failed = self._state_write_failed
                # its last batch is written before the outcome is decided (engine_stopped), so a failure counts
                self.crawler.signals.connect(state.commit, signal=signals.spider_closed, weak=False)
            self._state = state
            self.crawler.signals.connect(self._state.close, signal=signals.engine_stopped, weak=False)
        return self._state

    def _state_write_failed(self, exc) -> None:
        state_write_failed(self.crawler, self.crawler.settings.get("STATE_PATH"), exc)

    def _unreachable(self, exc) -> str:
        return unreachable(self.crawler.settings, exc)

    def _state_unreachable(self, exc) -> None:
        state_unreachable(self.crawler, exc)


def unreachable(settings, exc) -> str:
    """The one line for the state's Redis not answering."""
    spec = str(settings.get("STATE_PATH"))
    if spec == "redis":  # the Redis of REDIS_URL: the line the shared frontier gives
        where, fix = settings.get("REDIS_URL"), "REDIS_URL"
    else:
        where, fix = f"{spec} (STATE_PATH)", "STATE_PATH"
    return f"Redis at {where} is unreachable ({exc}): start it, or fix {fix}"


def state_unreachable(crawler, exc) -> None:
    """The Redis of the state (and of the story groups beside it) stopped answering mid-crawl. In a shared crawl
    the frontier stops this worker with its one line (what it took goes back to the queue once Redis is back);
    else one ERROR line, once, the stat state/unreachable, and the crawl stopped (finish reason state_unreachable,
    exit status 75: rerun once Redis is back, with the same JOBDIR to resume)."""
    from crawler.frontier import frontier_lost

    if crawler is None or frontier_lost(crawler, exc) or crawler.stats.get_value(keys.STAT_STATE_UNREACHABLE):
        return
    line = unreachable(crawler.settings, exc)
    logger.error("%s; stopping the crawl: rerun once it is back (with the same JOBDIR to resume)", line)
    crawler.stats.set_value(keys.STAT_STATE_UNREACHABLE, line)
    stop_crawl(crawler, "state_unreachable")


def state_write_failed(crawler, path, exc) -> None:
    """A write of a SQLite store of the state (the state's own, the story groups' beside it) failed (disk full, ...):
    one ERROR line, the stat, and the crawl stopped (finish reason state_write_failed, exit status 74); the store
    drops its later writes."""
    logger.error("State write failed in %s (%s): stopping the crawl; free space and rerun with the same JOBDIR "
                 "and WARC_DIR", path, exc)
    if crawler is None:
        return
    if not crawler.stats.get_value(keys.STAT_STATE_WRITE_FAILED):  # the first: the last line names what failed first
        crawler.stats.set_value(keys.STAT_STATE_WRITE_FAILED, f"{path}: {exc}")
    stop_crawl(crawler, "state_write_failed")
