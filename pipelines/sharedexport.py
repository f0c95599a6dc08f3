"""Shared-export stage (distributed mode): each article is exported by exactly one worker, the first to claim its URL.

The claim (crawler/frontier/reliable.py) adds the URL to the shared set <prefix>:exported and to
this worker's open claims; once the feed wrote the item (item_scraped), the claim is confirmed.
A worker killed between its claim and the feed's write leaves an open claim, which the requeue of
its requests releases, so the refetched page is exported by whichever worker gets it. Redis gone
at the claim: the item is dropped and this worker stops without acknowledging its request, which
goes back to the queue (crawler/frontier/scheduler.py).
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem

from crawler import keys
from crawler.frontier import frontier_lost
from crawler.frontier.addon import key_prefix, redis_client, redis_errors
from crawler.frontier.reliable import ReliableQueue


class SharedExportPipeline:
    """Export each article from exactly one worker: the first to claim its URL (see the module docstring)."""

    def __init__(self, queue: ReliableQueue, stats=None, crawler=None):
        self.queue = queue
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        queue = ReliableQueue(redis_client(s, socket_timeout=30, socket_connect_timeout=10),
                              key_prefix(s, crawler.spidercls.name), s.get("WORKER_ID"),
                              s.getfloat("FRONTIER_WORKER_TTL"))
        o = cls(queue, crawler.stats, crawler)
        # connected after the feed exporter (an extension, built before the pipelines): runs after its write
        crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        return o

    def process_item(self, item, spider=None):
        url = ItemAdapter(item)["url"]
        try:
            claimed = self.queue.claim(url)
        except redis_errors() as e:
            frontier_lost(self.crawler, e)
            raise DropItem(f"not exported: Redis unreachable at the claim, the page is fetched again: {url}",
                           log_level="INFO") from None  # the worker's one ERROR line says why
        if not claimed:
            if self.stats:
                self.stats.inc_value(keys.STAT_DROPPED.format(reason="exported_by_another_worker"))
            raise DropItem(f"exported by another worker: {url}", log_level="DEBUG")
        return item

    def item_scraped(self, item, response=None, spider=None):
        url = ItemAdapter(item).get("url")
        if not url:
            return
        try:
            self.queue.confirm(url)
        except redis_errors() as e:
            frontier_lost(self.crawler, e)  # acknowledge nothing more: the request goes back to the queue
