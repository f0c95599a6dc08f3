"""The de-duplication and export stages (pipelines/dedupe.py, pipelines/export.py), without a crawl: which items reach
the JSON Lines file, what each line holds, and what the crawl's stats say about it."""

from __future__ import annotations

import io
import json

from scrapy.exceptions import DropItem

from crawler.items import EXPORT_FIELDS, ArticleItem
from crawler.journal.exporter import JsonLinesFlushingExporter
from pipelines.dedupe import DedupePipeline
from pipelines.export import ExportPipeline
from tests.crawling import project_crawler

URL = "https://www.spacewar.com/reports/Story_{}_999.html"


def article(n: int, **fields) -> ArticleItem:
    """An item as the validation stage hands it on: the page HTML already taken out by the extraction."""
    item = ArticleItem(url=URL.format(n), title=f"Story {n}", published="2026-11-25", author=None,
                       location="Washington", agency="AFP", body="A paragraph.", images=[],
                       rights=None, extraction="site-rules", site="spacewar",
                       warc={"filename": "a.warc.gz", "record_id": "<urn:uuid:x>", "offset": 0},
                       fetched_at="2026-11-25T02:00:00Z", status=200)
    item.update(fields)
    return item


class Stages:
    """The two stages in the crawl's order, feeding the project's JSON Lines exporter, with the crawl's stats."""

    def __init__(self):
        crawler = project_crawler()
        crawler.stats.open_spider()
        self.stats = crawler.stats
        self.dedupe = DedupePipeline.from_crawler(crawler)
        self.export = ExportPipeline.from_crawler(crawler)
        self.file = io.BytesIO()
        self.exporter = JsonLinesFlushingExporter(self.file)
        self.exporter.start_exporting()
        self.dropped: list[str] = []

    def feed(self, *items) -> None:
        for item in items:
            try:
                item = self.export.process_item(self.dedupe.process_item(item))
            except DropItem as exc:
                self.dropped.append(str(exc))
                continue
            self.exporter.export_item(item)

    @property
    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.file.getvalue().decode("utf-8").splitlines()]


def test_the_first_item_of_a_url_is_exported_and_a_later_one_dropped_as_a_duplicate():
    stages = Stages()
    stages.feed(article(1), article(2), article(1, title="Story 1, again"))
    assert [(line["url"], line["title"]) for line in stages.lines] == [(URL.format(1), "Story 1"),
                                                                        (URL.format(2), "Story 2")]
    assert stages.dropped == [f"duplicate: {URL.format(1)} already exported in this crawl"]
    assert stages.stats.get_value("articles/dropped/duplicate") == 1
    assert stages.stats.get_value("articles/exported") == 2


def test_each_line_holds_exactly_the_contract_fields_in_order_and_no_internal_one():
    stages = Stages()
    stages.feed(article(1, html="<html>left over</html>"))
    (line,) = stages.lines
    assert list(line) == list(EXPORT_FIELDS)
    assert "html" not in line and "status" not in line


def test_a_field_nobody_found_is_written_null_and_lists_empty():
    stages = Stages()
    item = article(1)
    for name in ("author", "location", "images", "related_stories", "rights"):
        item.pop(name, None)
    stages.feed(item)
    (line,) = stages.lines
    assert line["author"] is None and line["location"] is None and line["rights"] is None
    assert line["images"] == [] and line["related_stories"] == []


def test_exports_are_counted_by_extraction_method():
    stages = Stages()
    stages.feed(article(1), article(2, extraction="fallback"), article(3, extraction="fallback"))
    assert stages.stats.get_value("articles/exported/site-rules") == 1
    assert stages.stats.get_value("articles/exported/fallback") == 2


def test_duplicates_are_per_crawl_a_new_crawl_exports_the_url_again():
    first, second = Stages(), Stages()
    first.feed(article(1))
    second.feed(article(1))
    assert [line["url"] for line in first.lines + second.lines] == [URL.format(1)] * 2


def test_the_same_url_with_a_different_item_class_is_still_a_duplicate():
    stages = Stages()
    stages.feed(article(1), dict(article(1)))  # a plain dict, as an offline tool may hand on
    assert len(stages.lines) == 1 and len(stages.dropped) == 1
