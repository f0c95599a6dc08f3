"""One spec per site with dated rules (crawler/site/profiles.py, crawler/extract/rules.py): a layout from before a
redesign gets rules of its own, picked by the page's capture date; the generic fallback reads a layout no rules fit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from crawler.articleitem import item_from_page
from crawler.extract.extractor import article_from_page, rules_for
from crawler.extract.rules import RULES, DatedRules, SiteRules, rules_at
from crawler.site.profiles import PROFILES, profile_of
from tests.crawling import FIXTURES

AFP = "https://www.spacewar.com/reports/Tokyo_reports_cyber_attack_as_tensions_rise_999.html"
POINTER = {"filename": "spacewar-20200101000000000-00000-www.spacewar.com.warc.gz",
           "record_id": "<urn:uuid:0b5e8c1e-6a55-4c0e-9c7a-2f4d7b1e9a10>", "offset": 0}
REDESIGN = date(2021, 6, 30)  # the last day of the old layout
#: the old layout: the same table template, with another marker before the headline
OLD = SiteRules(name="before-2021-redesign", start_comment="body-1-incontainer.php")
#: a spacewar whose spec knows the old layout too
SPACEWAR = replace(PROFILES["spacewar"], rules=(DatedRules(RULES), DatedRules(OLD, valid_until=REDESIGN)))


def old_layout_page() -> str:
    html = (FIXTURES / "samples" / "article-afp.html").read_bytes().decode("cp1252")
    assert "<!--body-2-incontainer.php-->" in html
    return html.replace("<!--body-2-incontainer.php-->", "<!--body-1-incontainer.php-->")


@pytest.mark.parametrize("captured, expected", [
    ("2019-03-01T10:00:00Z", OLD),  # a WARC-Date before the redesign
    (REDESIGN, OLD),  # its last day included
    (date(2021, 7, 1), RULES),  # the day after
    (datetime(2026, 11, 25, 2, tzinfo=timezone.utc), RULES),
    (None, RULES),  # now
])
def test_a_spec_with_two_dated_rule_sets_picks_by_capture_date(captured, expected):
    assert SPACEWAR.rules_at(captured) is expected


def test_versions_are_picked_by_date_whatever_their_order_and_the_earliest_still_valid_wins():
    older = SiteRules(name="2015 layout")
    versions = (DatedRules(RULES), DatedRules(OLD, valid_until=REDESIGN), DatedRules(older, date(2015, 12, 31)))
    assert rules_at(versions, "2014-01-01") is older
    assert rules_at(versions, "2016-01-01") is OLD
    assert rules_at(versions, "2022-01-01") is RULES
    assert rules_at((), "2022-01-01") is RULES  # no versions: the network's rules


def test_a_page_in_the_old_layout_is_read_by_its_rules_when_captured_before_the_redesign():
    html = old_layout_page()
    before = item_from_page(AFP, html, 200, SPACEWAR, POINTER, "2020-01-01T00:00:00Z")
    after = item_from_page(AFP, html, 200, SPACEWAR, POINTER, "2026-11-25T02:00:00Z")
    assert before.item["extraction"] == "site-rules"
    # captured after the redesign the current rules do not fit it: the generic fallback reads it
    assert after.item["extraction"] == "fallback"
    assert before.item["title"] == after.item["title"] == "Tokyo reports cyber attack as tensions rise"


def test_the_shipped_specs_hold_the_current_rules_of_the_network_for_every_site():
    for profile in PROFILES.values():
        assert profile.rules_at() is RULES
        assert rules_for(profile.home_url + "reports/x_999.html") is RULES
    assert profile_of("https://www.spacedaily.com/x.html") is PROFILES["spacedaily"]
    assert profile_of("https://example.org/") is None and rules_for("https://example.org/") is RULES


def test_given_rules_win_over_the_spec():
    assert article_from_page(old_layout_page(), AFP, rules=OLD).extraction == "site-rules"
    assert article_from_page(old_layout_page(), AFP).extraction == "fallback"


@pytest.mark.parametrize("fetched_at, extraction", [("2020-01-01T00:00:00Z", "site-rules"),
                                                    ("2026-11-25T02:00:00Z", "fallback")])
def test_the_crawls_extraction_stage_reads_a_page_with_the_rules_of_the_day_it_was_fetched(
        monkeypatch, fetched_at, extraction):
    # the live crawl and `-a from_warc` alike: the item's fetched_at is its response record's WARC-Date
    from crawler.items import ArticleItem
    from crawler.site import profiles
    from pipelines.extract import ExtractPipeline
    from tests.crawling import project_crawler

    monkeypatch.setitem(profiles._BY_HOST, "www.spacewar.com", SPACEWAR)
    crawler = project_crawler(CLEANING_LOOKAHEAD=3, CLEANING_LOOKAHEAD_IDLE=0)  # held, then judged at close
    crawler.stats.open_spider()
    pipe = ExtractPipeline.from_crawler(crawler)
    item = ArticleItem(url=AFP, html=old_layout_page(), site="spacewar", status=200, fetched_at=fetched_at)
    pipe.process_item(item)
    pipe.close_spider()
    assert item["extraction"] == extraction
    assert item["title"] == "Tokyo reports cyber attack as tensions rise"
