"""Extension that takes what the crawl built at start-up out of the garbage collector's reach (gc.freeze).

By the time the engine starts, the process holds several hundred thousand objects that live as
long as the crawl: modules, the site rules, the settings, the components, the learned templates.
Python's cyclic collector walks all of them again at every collection of the oldest generation,
and the crawl's short-lived objects (requests, responses, parsed pages) trigger such collections
all along. GC_FREEZE (on by default) moves every object alive when the engine has started into the
permanent generation (`gc.freeze()`), so the later collections walk only what the crawl made
since. There is no collection first: it would cost more CPU (about 0.06 s) than the few cycles of
start-up garbage it would free. Nothing else changes: objects made later are collected as before,
and a frozen object that is freed is freed (reference counting); only a frozen object in a
reference cycle waits until the engine stops, when they all go back to the collector
(`gc.unfreeze()`: a process that runs several crawls, as the tests do, keeps nothing).
bench/RESULTS.md (issue 22) has the measure.
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.exceptions import NotConfigured


class FreezeStartup:
    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GC_FREEZE"):
            raise NotConfigured
        ext = cls()
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_started(self):
        gc.freeze()

    def engine_stopped(self):
        gc.unfreeze()
