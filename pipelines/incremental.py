"""Incremental stage: export only articles that are new or changed since the runs recorded in STATE_PATH.

An item whose content digest (crawler/incremental/state.py, CONTENT_FIELDS) equals the one last exported
for its URL is dropped as unchanged; otherwise it goes on, counted as new or changed. The
state learns of an export only when the item has really been scraped (item_scraped), with
the validators of the response it came from. Articles answered 304 to a conditional request
never get here (crawler/incremental/revalidate.py counts them as unchanged). Each verdict also tells the
revisit policy when the article falls due again (crawler/incremental/revisit.py: a change found resets
its interval; its own date, `published`, is kept in the state). The crawl ends with a log line:
"Incremental crawl: N new, N changed, N unchanged articles; N revalidated, N left due (N overdue)".
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.components import addon_of
from crawler.incremental.addon import Incremental
from crawler.incremental.policy import ARTICLE, latest_publication
from crawler.incremental.state import item_digest, utc_iso as utc_now

logger = logging.getLogger(__name__)


class UnchangedItem(DropItem):
    """Dropped because the same content was exported by an earlier run."""


def _header(response, name: str) -> str | None:
    if response is None:
        return None
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class IncrementalPipeline:
    def __init__(self, state, stats=None, revisits=None):
        self.state = state
        self.stats = stats
        self.revisits = revisits

    @classmethod
    def from_crawler(cls, crawler):
        addon = addon_of(crawler, Incremental)
        o = cls(addon.state, crawler.stats, addon.revisits)
        crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(o.item_dropped, signal=signals.item_dropped)
        return o

    def _inc(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(key)

    def classify(self, item) -> tuple[str, str]:
        """("new" | "changed" | "unchanged", digest) of an item against the state."""
        adapter = ItemAdapter(item)
        digest = item_digest(adapter)
        known = self.state.get(adapter["url"])
        if known is None or not known.exported:
            return "new", digest
        return ("unchanged" if known.item_digest == digest else "changed"), digest

    def process_item(self, item, spider=None):
        verdict, digest = self.classify(item)
        self._inc(keys.STAT_INCREMENTAL.format(verdict=verdict))
        if verdict == "unchanged":
            self._inc(keys.STAT_DROPPED.format(reason="unchanged"))
            raise UnchangedItem(f"unchanged since the last run: {ItemAdapter(item)['url']}", log_level="DEBUG")
        return item

    # --- signals: what the state learns --------------------------------------------------
    def item_scraped(self, item, response=None, spider=None):
        adapter = ItemAdapter(item)
        known = self.state.get(adapter["url"]) if self.revisits is not None else None
        self.state.record_export(adapter["url"], item_digest(adapter), utc_now(),
                                 _header(response, "ETag"), _header(response, "Last-Modified"))
        if self.revisits is not None:
            # new: no change yet (its age counts from its own date); exported again: a change found
            changed = known is not None and known.exported
            self.revisits.reschedule(adapter["url"], ARTICLE, known, changed=changed,
                                     published=latest_publication(adapter.get("published")))

    def item_dropped(self, item, response=None, exception=None, spider=None):
        if isinstance(exception, UnchangedItem):
            adapter = ItemAdapter(item)
            self.state.refresh_validators(adapter["url"], _header(response, "ETag"),
                                          _header(response, "Last-Modified"))
            if self.revisits is not None:
                self.revisits.reschedule(adapter["url"], ARTICLE, self.state.get(adapter["url"]),
                                         published=latest_publication(adapter.get("published")))

    def close_spider(self, spider=None):
        get = (self.stats.get_value if self.stats else (lambda key, default=0: default))
        counts = {k: get(keys.STAT_INCREMENTAL.format(verdict=k), 0) for k in ("new", "changed", "unchanged")}
        for k, v in counts.items():  # present in the stats even when zero
            if self.stats:
                self.stats.set_value(keys.STAT_INCREMENTAL.format(verdict=k), v)
        revisit = {k: get(keys.STAT_REVISIT.format(event=k), 0) for k in ("revalidated", "left_due", "overdue")}
        if self.stats and self.revisits is not None:
            for k, v in revisit.items():
                self.stats.set_value(keys.STAT_REVISIT.format(event=k), v)
        logger.info("Incremental crawl: %(new)d new, %(changed)d changed, %(unchanged)d unchanged articles;"
                    " %(revalidated)d revalidated, %(left_due)d left due (%(overdue)d overdue)"
                    " (%(not_modified)d answered 304, %(skipped)d known ones not requested)",
                    {**counts, **revisit, "not_modified": get(keys.STAT_NOT_MODIFIED, 0),
                     "skipped": get(keys.STAT_SKIPPED_KNOWN, 0) + get(keys.STAT_REVISIT.format(event="not_due"), 0)})
        self.state.commit()
