"""A page whose encoding Scrapy must guess builds no log record that LOG_LEVEL would drop (charset_normalizer's)."""

import logging

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.reporting.liblogs import CHATTY_LOGGERS, QuietLibraries

# no charset declared, not UTF-8: Scrapy asks charset_normalizer
PAGE = ("<html><head><title>Caf\xe9</title></head><body><p>" + "Na\xefve r\xe9sum\xe9 of the caf\xe9. " * 40
        + "</p></body></html>").encode("cp1252")


class Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.levels = []

    def emit(self, record):
        self.levels.append(record.levelno)


@pytest.fixture
def records():
    handler, logger = Records(), logging.getLogger("charset_normalizer")
    level, root_level = logger.level, logging.root.level
    logging.root.setLevel(logging.NOTSET)  # as a crawl's logging leaves it (Scrapy filters at its handler)
    logger.addHandler(handler)
    yield handler.levels
    logger.removeHandler(handler)
    logger.setLevel(level)
    logging.root.setLevel(root_level)


def _guess(log_level: str | None) -> str:
    if log_level is not None:
        QuietLibraries.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": log_level}))
    return HtmlResponse("https://www.spacewar.com/x.html", body=PAGE).text


def test_without_it_charset_normalizer_builds_records_below_any_level_a_crawl_shows(records):
    logging.getLogger("charset_normalizer").setLevel(logging.NOTSET)
    _guess(None)
    assert sum(1 for level in records if level < logging.DEBUG) > 20


@pytest.mark.parametrize("log_level, shown", [("INFO", logging.INFO), ("DEBUG", logging.DEBUG)])
def test_with_it_only_what_log_level_shows_is_built_and_the_page_reads_the_same(records, log_level, shown):
    logging.getLogger("charset_normalizer").setLevel(logging.NOTSET)
    guessed = _guess(None)  # the same decoding either way
    records.clear()
    assert _guess(log_level) == guessed
    assert all(level >= shown for level in records)
    assert "charset_normalizer" in CHATTY_LOGGERS
