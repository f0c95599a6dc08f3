"""GC_FREEZE: start-up's objects leave the collector's walks while the engine runs, and come back when it stops."""

import gc
import weakref

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.gcfreeze import FreezeStartup


class Node:
    pass


def _cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_start_up_objects_are_frozen_while_the_engine_runs_and_the_crawl_s_garbage_is_still_collected():
    ext = FreezeStartup.from_crawler(get_crawler(settings_dict={"GC_FREEZE": True}))
    kept = Node()
    kept.self = kept  # alive at start-up, in a cycle
    ext.engine_started()
    try:
        assert gc.get_freeze_count() > 0
        later = _cycle()  # the crawl's own garbage
        gc.collect()
        assert later() is None
        frozen = weakref.ref(kept)
        del kept  # a frozen object in a cycle waits for the engine to stop...
        gc.collect()
        assert frozen() is not None
    finally:
        ext.engine_stopped()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert frozen() is None  # ...and is collected once it has


def test_gc_freeze_false_leaves_the_collector_alone():
    with pytest.raises(NotConfigured):
        FreezeStartup.from_crawler(get_crawler(settings_dict={"GC_FREEZE": False}))


def test_the_project_freezes_by_default():
    from scrapy.utils.project import get_project_settings

    s = get_project_settings()
    assert s.getbool("GC_FREEZE")
    assert "crawler.gcfreeze.FreezeStartup" in s.getdict("EXTENSIONS")
