"""The extraction stage with the learned template: items held
for a bounded look-ahead and all released, what was removed counted by signal, deep pages kept or counted as such."""

from __future__ import annotations

import logging

import pytest
from scrapy.exceptions import DropItem
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


def test_items_wait_for_the_look_ahead_then_all_come_out_clean(cluttered):
    pipe, stats = stage(CLEANING_LOOKAHEAD=10, CLEANING_WARMUP=0)
    items = items_of(cluttered)
    results = [pipe.process_item(item) for item in items]
    assert all(isinstance(r, Deferred) for r in results[:10])  # nothing judged before 10 more pages came
    assert stats.get_value("cleaning/held_max") == 10
    done = []
    for r in results:
        r.addCallback(done.append) if isinstance(r, Deferred) else done.append(r)
    pipe.close_spider()
    assert len(done) == len(items)
    for item, (_, _, expected) in zip(items, cluttered):
        assert item["body"] == expected["body"], item["url"]
        assert item["related_stories"] == expected["related_stories"]
        assert "html" not in item
    assert stats.get_value("cleaning/removed/template") > 0
    assert stats.get_value("cleaning/related_stories") == sum(len(e["related_stories"]) for _, _, e in cluttered)


def test_a_first_crawls_first_items_wait_for_the_warm_up_and_none_is_lost_at_close(cluttered):
    pipe, stats = stage(CLEANING_LOOKAHEAD=5, CLEANING_WARMUP=30)
    items = items_of(cluttered)
    results = [pipe.process_item(item) for item in items]
    done = []
    for r in results:
        r.addCallback(done.append) if isinstance(r, Deferred) else done.append(r)
    # the first 25 waited until the site's template had counted 30 pages, the later ones the look-ahead alone
    assert all(isinstance(r, Deferred) for r in results[:30])
    assert [i["url"] for i in done] == [i["url"] for i in items[:len(items) - 5]]
    assert stats.get_value("cleaning/held_max") == 29
    pipe.close_spider()  # the spider closes: every held item comes out, judged, in order
    assert [i["url"] for i in done] == [i["url"] for i in items]
    for item, (_, _, expected) in zip(items, cluttered):
        assert item["body"] == expected["body"], item["url"]


def test_a_crawl_shorter_than_the_warm_up_releases_its_items_when_no_page_comes(cluttered):
    from twisted.internet.task import Clock

    clock = Clock()
    pipe, stats = stage(CLEANING_LOOKAHEAD=5, CLEANING_WARMUP=100, CLEANING_LOOKAHEAD_IDLE=3.0)
    pipe.clock = clock
    items = items_of(cluttered[:12])
    done = []
    for item in items:
        result = pipe.process_item(item)
        assert isinstance(result, Deferred)  # 12 pages: far from the warm-up's 100
        result.addCallback(done.append)
    clock.advance(0.05)  # less than the shortest wait (IDLE_FLOOR, 0.1 s)
    assert done == []
    clock.advance(3.0)  # no page came for CLEANING_LOOKAHEAD_IDLE seconds (at most): all judged, in order
    assert [i["url"] for i in done] == [i["url"] for i in items]
    assert all(i["body"] for i in done) and stats.get_value("cleaning/idle_releases") == 1
    pipe.close_spider()


def test_the_learned_template_is_saved_beside_the_warc_files(cluttered, tmp_path):
    pipe, stats = stage(CLEANING_LOOKAHEAD=5, BOILERPLATE_FILE=str(tmp_path / "b.json"))
    run_in_process(pipe, items_of(cluttered))
    assert (tmp_path / "b.json").exists()
    assert stats.get_value("cleaning/template/pages") == len(cluttered)
    assert stats.get_value("cleaning/template/blocks") > 10
    # with learning off, nothing is held, loaded or saved
    pipe, stats = stage(CLEANING_LEARN=False, BOILERPLATE_FILE=str(tmp_path / "off.json"))
    assert not isinstance(pipe.process_item(items_of(cluttered)[0]), Deferred)
    pipe.close_spider()
    assert not (tmp_path / "off.json").exists()


def test_cleaning_debug_logs_each_removed_block_with_its_reason(cluttered, caplog):
    pipe, _ = stage(CLEANING_LOOKAHEAD=0, CLEANING_DEBUG=True)
    with caplog.at_level(logging.INFO, logger="pipelines.extract"):
        pipe.process_item(items_of(cluttered)[0])
    lines = [r.getMessage() for r in caplog.records if "removed [" in r.getMessage()]
    assert lines and all(cluttered[0][0] in line for line in lines)
    assert any("[markup] markup <" in line or "[links]" in line for line in lines)


# --- deep markup (issue 18) --------------------------------------------------------------------------------
PARAS = ["The first paragraph of a story on an old page.", "The second paragraph, deep inside.",
         "The third and last paragraph."]


def deep_page(opening: str, n: int) -> str:
    body = "\r\n".join(f"<p>{p}" for p in PARAS)
    return ("<html><head><title>Deep</title></head><body><table><tr><td>\r\n<!--body-2-incontainer.php-->\r\n"
            '<h1>Deep story<br></h1>\r\n<span class="BHS">Washington (AFP) May 30, 2024</span>\r\n'
            + opening * n + body + "\r\n<!--RELATED LINKS-->\r\n</td></tr></table></body></html>")


@pytest.mark.parametrize("opening, n", [
    ('<font face="Verdana">', 253),  # unclosed <font>s: past libxml2's default 256 levels
    ('<font size="2">', 1500),
    ("<div>", 100_000),  # past even huge_tree's 2048: collapsed runs of empty tags
])
def test_an_article_under_deep_markup_is_kept_whole(opening, n):
    from crawler.extract.extractor import article_from_page

    a = article_from_page(deep_page(opening, n), "https://www.spacewar.com/reports/Deep_999.html")
    assert a.body == "\n\n".join(PARAS) and a.title == "Deep story"


def test_a_page_past_the_parsers_bound_is_counted_and_logged_as_such_not_as_a_non_article(caplog):
    pipe, stats = stage(CLEANING_LOOKAHEAD=0)
    html = deep_page("<div>x <table><tr><td>y ", 1500)  # text at every level: nothing to collapse
    with caplog.at_level(logging.WARNING, logger="pipelines.extract"), pytest.raises(DropItem, match="bound"):
        pipe.process_item(ArticleItem(url="https://www.spacewar.com/reports/Deep_999.html", html=html))
    assert stats.get_value("articles/too_deep") == 1
    assert not any(k.startswith("articles/dropped/") for k in stats.get_stats())
    assert "deeper than 2048 levels" in caplog.text
