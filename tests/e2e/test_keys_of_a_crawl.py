"""A real crawl uses no stats key that crawler/keys.py does not define."""

from __future__ import annotations

import re

from crawler import keys

#: stats keys of Scrapy itself and of the Scrapy components the crawl runs (documented by Scrapy)
SCRAPY_STATS = re.compile(
    r"^(downloader/|scheduler/|log_count/|memusage/|robotstxt/|httpcompression/|dupefilter/|offsite/"
    r"|response_received_count$|item_scraped_count$|item_dropped_count$|item_dropped_reasons_count/"
    r"|items_per_minute$|responses_per_minute$|request_depth_max$|request_depth_count/"
    r"|start_time$|finish_time$|finish_reason$|elapsed_time_seconds$|feedexport/|retry/count$"
    r"|retry/max_reached$|retry/reason_count/|spider_exceptions/|httperror/|urllength/)")


def pattern_of(key: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(key)) + "$")


def test_every_stat_of_a_real_crawl_is_defined_in_the_registry(full_crawl):
    patterns = [pattern_of(key) for key in keys.STATS]
    unknown = sorted(key for key in full_crawl.stats
                     if not SCRAPY_STATS.match(key) and not any(p.match(key) for p in patterns))
    assert unknown == []
