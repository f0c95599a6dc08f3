"""From an archived article page to the exported item (crawler/articleitem.py): the one path the crawl's item stages
and `scrapy reprocess` share. What a user finds in the JSON Lines, or why a page gives no item."""

from __future__ import annotations

import json

import pytest

from crawler.articleitem import (BUG, NOT_AN_ARTICLE, TOO_DEEP, exported, invalid, item_from_page, iso_seconds,
                                 refusal)
from crawler.extract.article import NotAnArticle, PageTooDeep
from crawler.items import EXPORT_FIELDS
from crawler.site.profiles import PROFILES
from tests.crawling import FIXTURES

SPACEWAR = PROFILES["spacewar"]
AFP = "https://www.spacewar.com/reports/Tokyo_reports_cyber_attack_as_tensions_rise_999.html"
POINTER = {"filename": "spacewar-20261125020000-00000-www.spacewar.com.warc.gz",
           "record_id": "<urn:uuid:0b5e8c1e-6a55-4c0e-9c7a-2f4d7b1e9a10>", "offset": 1234}
WARC_DATE = "2026-11-25T02:00:00.123456Z"


def sample(name: str) -> tuple[str, dict]:
    folder = "samples" if (FIXTURES / "samples" / f"{name}.html").exists() else "pages"
    html = (FIXTURES / folder / f"{name}.html").read_bytes().decode("cp1252")
    return html, json.loads((FIXTURES / folder / f"{name}.expected.json").read_text("utf-8"))


def test_an_article_page_gives_exactly_the_exported_fields_in_order():
    html, expected = sample("article-afp")
    result = item_from_page(AFP + "?utm_source=feed#top", html, 200, SPACEWAR, POINTER, WARC_DATE)
    assert result.kind is None and result.reason is None
    item = result.item
    assert list(item) == list(EXPORT_FIELDS)
    assert item["url"] == AFP  # canonical: the query and fragment gone
    for name in ("title", "published", "author", "location", "agency", "body", "images"):
        assert item[name] == expected[name], name
    assert item["site"] == "spacewar"
    assert item["warc"] == POINTER
    assert item["fetched_at"] == "2026-11-25T02:00:00Z"  # the capture's WARC-Date, to the second
    assert item["extraction"] == "site-rules"
    assert "html" not in item and "status" not in item


def test_a_listing_page_is_not_an_article_and_says_why():
    html, expected = sample("listing-section")
    result = item_from_page("https://www.spacewar.com/reports/Listing_999.html", html, 200, SPACEWAR, POINTER,
                            WARC_DATE)
    assert result.item is None
    assert (result.kind, result.reason) == (NOT_AN_ARTICLE, expected["not_an_article"])


def test_an_empty_page_is_not_an_article():
    result = item_from_page(AFP, "", 200, SPACEWAR, POINTER, WARC_DATE)
    assert (result.item, result.kind, result.reason) == (None, NOT_AN_ARTICLE, "empty-page")


def test_refusals_name_what_the_page_counts_as_and_a_bug_is_never_not_an_article():
    assert refusal(NotAnArticle("listing-page")) == (NOT_AN_ARTICLE, "listing-page")
    assert refusal(PageTooDeep("deep")) == (TOO_DEEP, "too_deep")
    assert refusal(KeyError("x")) == (BUG, "KeyError")


def test_an_item_missing_a_required_field_is_refused_naming_the_first_one():
    item = {"url": AFP, "title": "", "published": None, "body": "Text.", "extraction": "site-rules"}
    assert invalid(item) == ("missing_title", "missing title, published")


def test_an_item_the_schema_refuses_is_invalid_with_the_schemas_words():
    html, _ = sample("article-afp")
    good = item_from_page(AFP, html, 200, SPACEWAR, POINTER, WARC_DATE).item
    assert invalid(dict(good)) is None
    reason, detail = invalid(dict(good, published="26 January 2023"))
    assert reason == "invalid" and "published" in detail


def test_export_drops_internal_fields_and_writes_every_contract_field():
    fields = {"url": AFP, "title": "T", "html": "<html>", "status": 200}
    out = exported(fields)
    assert list(out) == list(EXPORT_FIELDS)
    assert out["images"] == [] and out["related_stories"] == []  # lists, never null
    assert out["author"] is None and out["rights"] is None  # unknown: null, but present
    assert "html" not in fields and "status" not in fields


@pytest.mark.parametrize("warc_date, fetched_at", [
    ("2026-11-25T02:00:00.123456Z", "2026-11-25T02:00:00Z"),
    ("2026-11-25T02:00:00Z", "2026-11-25T02:00:00Z"),
    ("", ""),
])
def test_fetched_at_is_the_captures_time_to_the_second(warc_date, fetched_at):
    assert iso_seconds(warc_date) == fetched_at
