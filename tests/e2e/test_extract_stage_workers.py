"""The extraction stage with the learned template gives the same items whether an extraction worker process reads the
pages or not."""

from __future__ import annotations

import asyncio

import pytest
from twisted.internet.defer import Deferred

from bench.quality import decode_like_scrapy
from crawler.items import ArticleItem
from pipelines.extract import ExtractPipeline
from tests.crawling import project_crawler


def stage(**settings):
    settings.setdefault("CLEANING_LOOKAHEAD_IDLE", 0)  # no reactor here: the held pages go at close
    crawler = project_crawler(**settings)
    crawler.stats.open_spider()
    return ExtractPipeline.from_crawler(crawler), crawler.stats


@pytest.fixture(scope="module")
def cluttered():
    """40 article pages of a cluttered replica in its plain stress variant (only recurrence tells its clutter),
    in crawl order, with their expected items."""
    from tests.sites.replica.content import ReplicaSite
    from tests.sites.replica.pages import Renderer

    site = ReplicaSite(41, faults=False, seed=7002, clutter_seed=2, multi_story=True, fixtures_dir=None,
                       plain_clutter=True)
    renderer = Renderer(site)
    pages = []
    for art in site.articles:
        if art.layout == "legacy":
            page = renderer.render(art.path)
            pages.append((art.url, decode_like_scrapy(art.url, page.body, page.content_type), art.expected()))
    return pages


def items_of(pages):
    return [ArticleItem(url=u, html=h, site="spacewar", status=200) for u, h, _ in pages]


def run_in_process(pipe, items):
    done = []
    for item in items:
        result = pipe.process_item(item)
        if isinstance(result, Deferred):
            result.addCallback(done.append)
        else:
            done.append(result)
    pipe.close_spider()
    return done


def run_with_worker(pipe, items):
    async def main():
        pipe.open_spider()
        tasks = [asyncio.ensure_future(pipe.process_item(item)) for item in items]
        while pipe._fed < len(items):  # every page read and fed, in arrival order
            await asyncio.sleep(0.01)
        pipe.close_spider()  # the crawl's end: the held pages are judged
        return await asyncio.gather(*tasks)
    return asyncio.run(main())


def test_a_worker_reading_the_pages_gives_the_same_items_as_reading_them_in_process(cluttered):
    by_mode = {}
    for workers in (0, 1):
        pipe, stats = stage(EXTRACT_WORKERS=workers, CLEANING_LOOKAHEAD=10)
        items = items_of(cluttered)
        run = run_with_worker if workers else run_in_process
        done = run(pipe, items)
        assert len(done) == len(items)
        by_mode[workers] = [dict(i) for i in items]
        if workers:
            assert stats.get_value("extract/workers/pages") == len(items)
    assert by_mode[0] == by_mode[1]


