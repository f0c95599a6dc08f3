"""Pages judged in crawl order, each once the learned template has seen the pages that follow it (a bounded look-ahead).

Pure (no Scrapy): the extraction stage (pipelines/extract.py) and the cleaning benchmark
(bench/cleaning_quality.py) use it alike, so a benchmark figure is the crawl's.

`StreamCleaner.push(token, reading)` counts the page in its site's template (boilerplate.py) at
once, and holds it; a held page is judged when `lookahead` more pages have been counted after it,
so its verdict uses the evidence of those pages too: a template line that appears for the first
time on it (a box reworded mid-archive, the first pages of a crawl with nothing learned yet) has
been seen on the next pages by then. A page is also not judged before its site's template has counted
`warmup` pages (a first crawl's first pages: a line on a tenth of the pages has been seen a few times
in 30; a template loaded from earlier crawls has its pages, and its pages wait for the look-ahead
alone). `flush()` judges every page still held (the crawl's end, or no page for a while). At most
max(`lookahead`, `warmup`) pages are held at any time (fewer when their sizes, given to `push`, would
pass `max_bytes`): the cost is latency and that much memory, never an unbounded buffer.

Verdicts depend only on the order of `push` calls and the readings: the crawl feeds the pages in
the order they reached the extraction stage, whether they were read in-process or by a worker.
"""

from __future__ import annotations

from collections import deque

from crawler.extract.boilerplate import BoilerplateStore
from crawler.extract.cleaning import Cleaned, PageReading, judge
from crawler.extract.extractor import rules_for
from crawler.extract.rules import SiteRules

#: pages counted after a page before it is judged (the CLEANING_LOOKAHEAD setting's default; docs/cleaning.md
#: says why 30)
LOOKAHEAD = 30
#: a page is not judged before its site's template has counted this many pages (the CLEANING_WARMUP setting's
#: default; docs/cleaning.md says why 90)
WARMUP = 90


class StreamCleaner:
    """See the module docstring. `learn=False`: judge with what the store holds, learn nothing (and hold nothing)."""

    def __init__(self, store: BoilerplateStore | None = None, lookahead: int = LOOKAHEAD, *, learn: bool = True,
                 max_bytes: int = 0, rules: SiteRules | None = None, warmup: int = WARMUP):
        self.store = store if store is not None else BoilerplateStore()
        self.lookahead = max(0, int(lookahead)) if learn else 0
        #: a page waits until its site's template has counted this many pages (a first crawl's first pages)
        self.warmup = max(0, int(warmup)) if learn and self.lookahead else 0
        self._bound = max(self.lookahead, self.warmup)  # the most pages held at any time
        self.learn = learn
        self.max_bytes = max_bytes  # 0: no bound but the number of pages
        self.rules = rules  # None: each page's own (push), else its site's current rules (extractor.rules_for)
        self._held: deque = deque()  # (token, reading, size, rules)
        self._held_bytes = 0
        self.held_max = 0
        self.counted = 0  # pages counted in the templates by this stream

    @property
    def held(self) -> int:
        return len(self._held)

    def push(self, token, reading: PageReading, size: int = 0,
             rules: SiteRules | None = None) -> list[tuple[object, Cleaned]]:
        """Count a page (of `size` bytes) and hold it, to be judged with `rules` (those it was read with: its
        site's rules for its capture date; None: the stream's); the (token, Cleaned) of the pages that are now
        due, oldest first."""
        if self.learn:
            if self.store.site(reading.site).observe(reading.url, reading.agency, reading.observed_keys(),
                                                       reading.tails()):
                self.counted += 1
        held = self._held
        held.append((token, reading, size, rules))
        self._held_bytes += size
        out = []
        while len(held) > self.lookahead and (len(held) > self._bound or self._warm(held[0][1])) \
                or (self.max_bytes and self._held_bytes > self.max_bytes and len(held) > 1):
            token, reading, size, page_rules = held.popleft()
            self._held_bytes -= size
            out.append(self._judge(token, reading, page_rules))
        if len(held) > self.held_max:
            self.held_max = len(held)
        return out

    def _warm(self, reading: PageReading) -> bool:
        """Its site's template has counted the warm-up's pages (a template loaded from earlier crawls has)."""
        if not self.warmup:
            return True
        template = self.store.sites.get(reading.site)
        return template is not None and template.pages >= self.warmup

    def flush(self) -> list[tuple[object, Cleaned]]:
        """Judge every held page now (oldest first)."""
        out = [self._judge(token, reading, rules) for token, reading, _, rules in self._held]
        self._held.clear()
        self._held_bytes = 0
        return out

    def _judge(self, token, reading: PageReading, rules: SiteRules | None = None) -> tuple[object, Cleaned]:
        template = self.store.sites.get(reading.site)
        return token, judge(reading, template, rules or self.rules or rules_for(reading.url))
