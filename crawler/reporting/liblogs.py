"""Extension that keeps chatty libraries from building log records that LOG_LEVEL drops anyway.

Scrapy leaves the root logger at NOTSET and filters at its handler (LOG_LEVEL), so every call of
every logger builds a LogRecord (and looks up its caller) before the handler drops it.
charset_normalizer, which Scrapy asks for the encoding of a page that declares none and is not
UTF-8 (scrapy/http/response/text.py), logs about a hundred lines at its TRACE level (5) for
every page it guesses: on the replica's network job, a hundred pages, 10,000 records and 1.2 ms of
CPU a page, for nothing shown. The loggers named in CHATTY_LOGGERS get LOG_LEVEL as their own level
when the crawl starts, so what the log shows is the same at every LOG_LEVEL, and what it would not
show is not built.
"""

from __future__ import annotations

import logging

#: libraries that log per call below any level a crawl shows
CHATTY_LOGGERS = ("charset_normalizer",)


class QuietLibraries:
    @classmethod
    def from_crawler(cls, crawler):
        level = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL") or "DEBUG").upper())
        if isinstance(level, int):
            for name in CHATTY_LOGGERS:
                logging.getLogger(name).setLevel(level)
        return cls()
