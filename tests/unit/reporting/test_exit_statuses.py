"""The exit statuses are named once (crawler/reporting/outcome.py) and README's tables show each, with the lines the code gives."""

from __future__ import annotations

import re

from crawler.reporting import outcome
from crawler.settingspec import problems
from tests.crawling import REPO, project_settings

README = (REPO / "README.md").read_text("utf-8")


def test_readme_lists_every_status_of_the_crawl_with_its_sysexits_number():
    table = README.split("### Exit status", 1)[1].split("## What a crawl does", 1)[0]
    rows = {int(m) for m in re.findall(r"^\| (\d+) \|", table, re.M)}
    named = {outcome.OK, outcome.NOTHING_ARCHIVED, outcome.OUTPUT_FAILED, outcome.STOPPED_EARLY, outcome.CONFIG_ERROR}
    assert named == {0, 69, 74, 75, 78} and named <= rows
    assert outcome.WARC_WRITE_FAILED == outcome.OUTPUT_FAILED  # one status, the older name kept
    for command in ("scrapy reprocess", "scrapy explain", "scrapy frontier", "crawler.offline.dataset build"):
        assert re.search(rf"^\| `[^`]*{re.escape(command)}[^`]*` \|", table, re.M), command


def test_the_configuration_error_readme_quotes_is_the_one_the_check_gives():
    quoted = re.search(r"`Configuration error: (WARC_COMPRESS_LEVEL=12: [^`]+)`", README).group(1)
    assert problems(project_settings(WARC_COMPRESS_LEVEL="12")) == [quoted]
    quoted = re.search(r"`Configuration error: (DOWNLOAD_DELAY=abc: [^`(]+?) \(exit status 78\)`", README).group(1)
    assert problems(project_settings(DOWNLOAD_DELAY="abc")) == [quoted]


def test_a_failed_feed_write_is_74_and_says_how_to_rebuild_the_items():
    stats = {"warc/pages_archived": 30, "feed/items_written": 20,
             "feed/write_failed": "out/items.jsonl: [Errno 28] No space left on device"}
    result = outcome.decide(stats, "feed_write_failed", "out/warc")
    assert result.status == outcome.OUTPUT_FAILED
    assert "the feed write failed (out/items.jsonl: [Errno 28] No space left on device)" in result.summary
    assert "`scrapy reprocess out/warc -O NEW.jsonl`" in result.summary
    assert result.summary.endswith("(30 pages archived, 20 articles exported)")


def test_articles_exported_are_the_lines_the_feed_took_not_the_items_scrapy_handed_it():
    stats = {"warc/pages_archived": 30, "item_scraped_count": 22, "feed/items_written": 22}
    assert outcome.decide(stats, "finished").summary == "finished: 30 pages archived, 22 articles exported"
    assert outcome.exported({"item_scraped_count": 22, "feed/items_written": 19}) == 19
    assert outcome.exported({"item_scraped_count": 22}) == 22  # a feed of another format
    stored = outcome.decide({"warc/pages_archived": 3, "feedexport/failed_count/FileFeedStorage": 1}, "finished")
    assert stored.status == outcome.OUTPUT_FAILED


def test_a_failed_warc_write_still_wins_over_a_failed_feed():
    stats = {"warc/write_failed": "[Errno 28] No space left", "feed/write_failed": "x: full"}
    assert "the WARC write failed" in outcome.decide(stats, "warc_write_failed").summary


def test_a_backfill_whose_listings_were_refused_is_not_a_success():
    """A refused or capped CDX listing leaves its captures out: the run says so and exits 75, never 0."""
    stats = {"warc/pages_archived": 40, "feed/items_written": 38, "wayback/listings_left_out": 2}
    result = outcome.decide(stats, "finished")
    assert result.status == outcome.STOPPED_EARLY
    assert result.summary.startswith("incomplete: 2 CDX listing(s) of the archive could not be read whole")
    assert result.summary.endswith("(40 pages archived, 38 articles exported)")
    whole = outcome.decide({"warc/pages_archived": 40, "feed/items_written": 38}, "finished")
    assert whole.status == outcome.OK
