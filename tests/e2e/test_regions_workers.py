"""The extraction stage counts and drops pages the same way when an extraction worker process reads them."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem
from pipelines.extract import ExtractPipeline
from tests.crawling import FIXTURES, project_crawler


AFP_URL = "https://www.spacewar.com/reports/Tokyo_reports_cyber_attack_as_tensions_rise_999.html"


def page(name: str) -> str:
    folder = "samples" if (FIXTURES / "samples" / name).exists() else "pages"
    return (FIXTURES / folder / name).read_bytes().decode("cp1252")


# --- the pipeline stage ------------------------------------------------------------------------------
def make_pipeline(**settings):
    settings.setdefault("EXTRACT_WORKERS", 0)  # in-process...
    settings.setdefault("CLEANING_LOOKAHEAD", 0)  # ...and judged on arrival: process_item returns the item itself
    crawler = project_crawler(**settings)
    crawler.stats.open_spider()
    return ExtractPipeline.from_crawler(crawler), crawler.stats


def item_of(name: str, url: str = AFP_URL) -> ArticleItem:
    return ArticleItem(url=url, html=page(name), site="spacewar", status=200)


def test_with_a_worker_the_stage_counts_and_drops_the_same_way():
    pipe, stats = make_pipeline(EXTRACT_WORKERS=1)

    async def stage():
        pipe.open_spider()
        try:
            item = await pipe.process_item(item_of("article-afp.html"))
            with pytest.raises(DropItem, match="listing-page"):
                await pipe.process_item(item_of("section-Missile_Defense.html"))
            return item
        finally:
            pipe.close_spider()

    item = asyncio.run(stage())
    assert item["extraction"] == "site-rules"
    assert item["title"] == "Tokyo reports cyber attack as tensions rise"
    assert stats.get_value("articles/extraction/site-rules") == 1
    assert stats.get_value("articles/dropped/listing-page") == 1
    assert stats.get_value("extract/workers/pages") == 1


