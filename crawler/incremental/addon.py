"""Add-on for incremental recrawls (STATE_PATH set): known articles revalidated, unchanged ones not exported again.

It owns the crawl's state store (crawler/incremental/state.py: SQLite, or Redis for distributed
workers), opened on first use and closed when the engine stops, and puts in the chain:
- conditional requests for articles exported by earlier runs, and fetch facts into the state,
  below HTTP compression (590) so it sees decoded bodies and below the WARC recorder (950) so the
  recorder archives the conditional headers as sent (downloader middleware 580,
  crawler/incremental/revalidate.py);
- the incremental stage, after de-duplication and before export: articles whose content is the
  one last exported are dropped as unchanged (item pipeline 800, pipelines/incremental.py).
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.components import defaults, register
from crawler.incremental.state import is_redis_spec, open_state

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

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("STATE_PATH"):
            raise NotConfigured
        return cls(crawler)

    def update_settings(self, settings):
        defaults(settings, DEFAULTS)
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.incremental.revalidate.RevalidateMiddleware", 580)
        register(settings, "ITEM_PIPELINES", "pipelines.incremental.IncrementalPipeline", 800)

    @property
    def state(self):
        """The crawl's state store, opened on first use and closed when the engine stops."""
        if self._state is None:
            s = self.crawler.settings
            spec = str(s.get("STATE_PATH"))
            if s.get("REDIS_URL") and not is_redis_spec(spec):
                logger.warning("STATE_PATH is a file while REDIS_URL is set: workers on other machines will not"
                               " see this state; use STATE_PATH=redis to share it (docs/scale-out.md)")
            self._state = open_state(spec, spider=self.crawler.spidercls.name, redis_url=s.get("REDIS_URL"),
                                     redis_key=s.get("STATE_REDIS_KEY"))
            self.crawler.signals.connect(self._state.close, signal=signals.engine_stopped, weak=False)
        return self._state
