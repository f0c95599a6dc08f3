"""Story-group stage: each article gets `story_group`, shared by every copy of its story across sites and runs.

The rule and the ids are crawler/syndication/'s. The store of earlier articles is chosen from the
settings: a SQLite file beside STATE_PATH's (state.sqlite -> state.stories.sqlite), Redis when
STATE_PATH is "redis" / a redis:// URL or when REDIS_URL is set (shared by the workers: an article one
worker finds joins the group another worker founded; without STATE_PATH the keys last as long as the
shared frontier, and the last worker out deletes them with it), JOBDIR's stories.sqlite when only JOBDIR is set (a
resumed job keeps its groups), else memory (groups within this run).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.config import require
from crawler.frontier import frontier_deleted, frontier_lost
from crawler.frontier.addon import key_prefix
from crawler.incremental.addon import state_unreachable, state_write_failed
from crawler.incremental.state import StateWriteFailed, is_redis_spec
from crawler.syndication.groups import StoryGrouper, group_id
from crawler.syndication.stores import MemoryStore, RedisStore, SqliteStore


def stories_path(state_path: str) -> Path:
    """The groups' SQLite file beside the state's: state.sqlite -> state.stories.sqlite. A file of its own, since
    the state commits in batches and one SQLite file takes one writer at a time."""
    path = Path(state_path)
    return path.with_name(f"{path.stem}.stories{path.suffix or '.sqlite'}")


def open_store(settings, spider_name: str):
    """The store the settings ask for (module docstring)."""
    state = str(settings.get("STATE_PATH") or "")
    is_redis = is_redis_spec(state)
    if state and not is_redis:
        try:
            return SqliteStore(stories_path(state))
        except sqlite3.OperationalError as exc:  # disk full, read-only: as the state's own file (exit status 74)
            raise StateWriteFailed(f"STATE_PATH at {stories_path(state)} cannot be written ({exc})") from None
    if is_redis or settings.get("REDIS_URL"):
        redis = require("redis", why="REDIS_URL is set", package="redis", extra="distributed")
        url = settings.get("REDIS_URL") if state in ("", "redis") else state
        # kept with the state across crawls (as STATE_REDIS_KEY), or for this shared crawl only (its CRAWL_ID)
        prefix = spider_name if is_redis else key_prefix(settings, spider_name)
        return RedisStore(redis.Redis.from_url(url), f"{prefix}:stories")
    if settings.get("JOBDIR"):  # a resumed job keeps the groups its earlier runs gave
        path = Path(settings.get("JOBDIR")) / "stories.sqlite"
        try:
            return SqliteStore(path)
        except sqlite3.OperationalError as exc:  # disk full, read-only: as the JOBDIR's journal (exit status 74)
            raise OSError(f"JOBDIR at {settings.get('JOBDIR')} cannot be written ({path}: {exc})") from None
    return MemoryStore()


class StoryGroupPipeline:
    """A write of a SQLite store that fails (disk full, ...) is reported once, as the state's are
    (crawler/incremental/addon.py): one ERROR line, the stat state/write_failed, the crawl stopped (exit status 74);
    the article keeps a group of its own and is exported, the later ones are grouped in memory.

    A Redis store whose server went away mid-crawl in a shared crawl (REDIS_URL): the article is dropped and the
    shared frontier stops this worker with its one line, its request unacknowledged, so the page is fetched
    again once Redis is back (as the shared export's claim does); without a shared frontier (STATE_PATH=redis://...)
    the crawl stops as for the state's Redis (crawler/incremental/addon.py state_unreachable), the article keeps a
    group of its own and is exported. Before, each article met a traceback ("Error processing"), a dozen at the worker's close."""

    def __init__(self, store, stats=None, crawler=None):
        self.grouper = StoryGrouper(store)
        self.store = store
        self.stats = stats
        self.crawler = crawler
        self.failed = False
        if isinstance(store, RedisStore):
            from crawler.frontier.addon import redis_errors

            self.redis_errors: tuple[type[BaseException], ...] = redis_errors()
        else:
            self.redis_errors = ()

    @classmethod
    def from_crawler(cls, crawler):
        o = cls(open_store(crawler.settings, crawler.spidercls.name), crawler.stats, crawler)
        crawler.signals.connect(o.close, signal=signals.engine_stopped)
        if isinstance(o.store, SqliteStore):  # its last batch written before the outcome is decided
            crawler.signals.connect(o.flush, signal=signals.spider_closed)
        if isinstance(o.store, RedisStore) and not crawler.settings.get("STATE_PATH"):
            # groups for the shared crawl only: gone with the frontier when the crawl is complete
            crawler.signals.connect(o.forget, signal=frontier_deleted)
        return o

    def forget(self):
        self.store.clear()

    def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        url = adapter["url"]
        started = time.process_time()
        try:
            group = self.grouper.assign(url, adapter.get("body"), adapter.get("agency"), adapter.get("published"))
        except sqlite3.OperationalError as exc:
            self._write_failed(exc)
            group = group_id(url)
        except self.redis_errors as exc:
            if frontier_lost(self.crawler, exc):
                raise DropItem(f"not exported: Redis unreachable at the story group, the page is fetched again: "
                               f"{url}", log_level="INFO") from None  # the worker's one ERROR line says why
            state_unreachable(self.crawler, exc)  # the state's Redis (STATE_PATH=redis://...): the crawl stops
            self.grouper = StoryGrouper(MemoryStore())
            group = group_id(url)
        adapter["story_group"] = group
        if self.stats:
            self.stats.inc_value(keys.STAT_STORY_CPU, time.process_time() - started)
            kind = "founded" if group == group_id(url) else "joined"
            self.stats.inc_value(keys.STAT_STORY_GROUPS.format(kind=kind))
        return item

    def flush(self):
        if not self.failed:
            try:
                self.store.commit()
            except sqlite3.OperationalError as exc:
                self._write_failed(exc)

    def close(self):
        try:
            self.store.close()
        except sqlite3.OperationalError as exc:
            self._write_failed(exc)

    def _write_failed(self, exc) -> None:
        if self.failed:
            return
        self.failed = True
        self.grouper = StoryGrouper(MemoryStore())
        state_write_failed(self.crawler, getattr(self.store, "path", "the story-group store"), exc)
