"""A real crawl uses no stats key that crawler/keys.py does not define."""

from __future__ import annotations

import re

from crawler import keys
from tests.unit.test_keys import SCRAPY_STATS


def pattern_of(key: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(key)) + "$")


def test_every_stat_of_a_real_crawl_is_defined_in_the_registry(full_crawl):
    patterns = [pattern_of(key) for key in keys.STATS]
    unknown = sorted(key for key in full_crawl.stats
                     if not SCRAPY_STATS.match(key) and not any(p.match(key) for p in patterns))
    assert unknown == []
