"""Extension that writes the crawl's final stats as JSON to STATS_FILE (for schedulers, tests and dashboards)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class StatsFile:
    def __init__(self, path: str, stats):
        self.path = Path(path)
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("STATS_FILE")
        if not path:
            raise NotConfigured
        o = cls(path, crawler.stats)
        # after the stats collector has its final values (finish_reason etc.)
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        return o

    def engine_stopped(self):
        data = {k: _jsonable(v) for k, v in sorted(self.stats.get_stats().items())}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(self.path)
