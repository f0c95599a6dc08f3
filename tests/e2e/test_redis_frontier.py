"""Distributed mode on a real redis-server: one worker exports each article, and the incremental state is shared by
every worker."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler.frontier.reliable import ReliableQueue
from crawler.incremental.state import open_state
from pipelines.sharedexport import SharedExportPipeline


# --- exported once, state shared -------------------------------------------------------------------
def test_only_the_first_worker_exports_an_article(redis):
    a = SharedExportPipeline(ReliableQueue(redis, "spacewar", "w1", 60))
    b = SharedExportPipeline(ReliableQueue(redis, "spacewar", "w2", 60))
    item = {"url": "https://www.spacewar.com/reports/X_999.html"}
    assert a.process_item(dict(item))
    with pytest.raises(DropItem):
        b.process_item(dict(item))


def test_incremental_state_in_redis_is_seen_by_every_worker(redis_url, redis):
    url = "https://www.spacewar.com/reports/X_999.html"
    one = open_state("redis", spider="spacewar", redis_url=redis_url)
    other = open_state(redis_url, spider="spacewar")
    one.record_fetch(url, "t", 200, "sha1:abc")
    one.record_export(url, "d1", "t", '"e1"', None)
    row = other.get(url)
    assert (row.item_digest, row.etag, row.payload_digest) == ("d1", '"e1"', "sha1:abc")
    assert len(other) == 1 and other.exported_count() == 1
