"""Scrapy LogFormatter that logs a dropped item as one line naming why, at the level its pipeline chose.

Scrapy logs every DropItem at WARNING (DEFAULT_DROPITEM_LOG_LEVEL) followed by the whole item: an
incremental run that finds 3,000 unchanged articles writes 3,000 warnings and their bodies. Here a
drop is one line, "Dropped: <the exception's message>" (the message names the URL), at the level
the pipeline gave the DropItem: DEBUG for the expected ones (unchanged since the last run, duplicate
in this crawl, exported before by this JOBDIR or by another worker), INFO for pages that are not
articles, WARNING (the default) for what an operator should look at (a schema failure, an
extraction error, a WARC record that could not be written). The counts by reason are in the stats
and the run report either way.
"""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter

#: The level of a drop whose DropItem names none.
DEFAULT_LEVEL = logging.WARNING


class OneLineLogFormatter(LogFormatter):
    def dropped(self, item, exception, response, spider):
        level = getattr(exception, "log_level", None)
        if level is None:
            level = spider.crawler.settings.get("DEFAULT_DROPITEM_LOG_LEVEL") or DEFAULT_LEVEL
        if isinstance(level, str):
            level = logging.getLevelName(level.upper())
        return {"level": level, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}
