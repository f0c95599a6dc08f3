"""The item JSON Schema: what it accepts, what it rejects and how it says why, and that it is versioned."""

from __future__ import annotations

import copy
import json
import re

import pytest

from crawler import itemschema
from crawler.itemschema import SCHEMA_VERSION, load_schema, validate
from crawler.items import EXPORT_FIELDS, OPTIONAL_FIELDS
from tests.crawling import FIXTURES, REPO

SAMPLES = FIXTURES / "samples"
CHANGELOG = REPO / "crawler" / "schema" / "CHANGELOG.md"


def article(url="https://www.spacewar.com/reports/Moscow_court_upholds_ban_against_satellite_image_distributor_999.html",
            **fields) -> dict:
    """A realistic exported item, written by hand (the shape of a JSON Lines line)."""
    item = {
        "url": url,
        "title": "Moscow court upholds ban against satellite image distributor",
        "published": "2024-05-30",
        "author": None,
        "location": "Moscow",
        "agency": "AFP",
        "body": "A Moscow court on Thursday upheld a ban.\n\nThe company said it would appeal.",
        "images": [{"url": "https://www.spxdaily.com/images-lg/satellite-image-lg.jpg",
                    "caption": "Illustration only"}],
        "related_stories": [],
        "rights": "\u00a9 2024 AFP",
        "extraction": "site-rules",
        "warc": {"filename": "spacewar-20240530101500123-00000-crawler1.warc.gz",
                 "record_id": "<urn:uuid:0f6f7a36-93c6-4a3b-9a51-4b0a4c1f2e11>", "offset": 18734},
        "site": "spacewar",
        "fetched_at": "2024-05-30T10:15:02Z",
    }
    item.update(fields)
    return item


def test_a_complete_article_is_valid():
    assert validate(article()) == []


def test_the_schema_is_a_valid_draft_2020_12_schema():
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    Draft202012Validator.check_schema(load_schema())
    broken = {**load_schema(), "properties": {"url": {"type": "no-such-type"}}}
    with pytest.raises(SchemaError):
        Draft202012Validator.check_schema(broken)


def test_a_valid_item_is_judged_without_the_reference_validator():
    """jsonschema is loaded (and the schema checked by it) only for a refused item: a crawl of valid
    items does not pay for it; a refused one still gets the reference's wording."""
    itemschema._validator.cache_clear()
    assert validate(article()) == []
    assert itemschema._validator.cache_info().currsize == 0
    assert validate(article(published="2024-02-30")) == ['published: "2024-02-30" is not a \'date\'']
    assert itemschema._validator.cache_info().currsize == 1


@pytest.mark.parametrize("name", ["article-afp", "article-spx"])
def test_the_sample_pages_expected_items_are_valid(name):
    expected = json.loads((SAMPLES / f"{name}.expected.json").read_text("utf-8"))
    item = article(**expected)
    item["images"] = [{"url": "https://www.spxdaily.com/images-lg/x-lg.jpg", "caption": None, **img}
                      for img in expected.get("images", [])]
    assert validate(item) == []


def test_nullable_fields_may_be_null_and_images_empty():
    item = article(author=None, location=None, agency=None, rights=None, images=[], warc=None)
    assert validate(item) == []
    assert validate(article(images=[{"url": "https://www.spxdaily.com/images-lg/a.jpg", "caption": None}])) == []


@pytest.mark.parametrize("field, value", [
    ("url", "http://www.spacewar.com/reports/a.html"),
    ("url", "https://spacewar.com/reports/a.html"),
    ("url", "https://www.spacewar.com/reports/a.html?utm_source=x"),
    ("url", "https://www.spacewar.com/reports/a.html#top"),
    ("title", ""),
    ("published", "May 30, 2024"),
    ("published", "2024-05-30T10:00:00Z"),
    ("published", "2024-02-30"),
    ("published", None),
    ("author", ""),
    ("agency", 3),
    ("body", ""),
    ("body", "one\n\n\n\ntwo"),
    ("body", "\n\npara"),
    ("body", "para "),
    ("images", [{"url": "https://www.spxdaily.com/a.jpg"}]),
    ("images", [{"url": "a.jpg", "caption": None}]),
    ("images", "https://www.spxdaily.com/a.jpg"),
    ("extraction", "readability"),
    ("warc", {"filename": "x.warc.gz", "record_id": "<urn:uuid:0f6f7a36-93c6-4a3b-9a51-4b0a4c1f2e11>"}),
    ("warc", {"filename": "x.warc.gz", "record_id": "abc", "offset": 1}),
    ("warc", {"filename": "x.warc.gz", "record_id": "<urn:uuid:0f6f7a36-93c6-4a3b-9a51-4b0a4c1f2e11>", "offset": -1}),
    ("site", ""),
    ("fetched_at", "2024-05-30"),
    ("fetched_at", "2024-05-30T12:15:02+02:00"),
])
def test_a_bad_field_is_reported_by_name(field, value):
    errors = validate(article(**{field: value}))
    assert errors, (field, value)
    assert all(e.split(":")[0].split(".")[0] == field for e in errors), errors


@pytest.mark.parametrize("field", [f for f in EXPORT_FIELDS if f not in OPTIONAL_FIELDS])
def test_every_contract_field_is_required(field):
    item = article()
    del item[field]
    assert validate(item) == [f"item: '{field}' is a required property"]


def test_unknown_fields_are_rejected_so_a_schema_change_must_be_deliberate():
    errors = validate(article(html="<html>"))
    assert len(errors) == 1 and "'html' was unexpected" in errors[0]


def test_errors_are_short_even_for_a_huge_body():
    errors = validate(article(body="x" * 100_000 + " ", title=["x" * 10_000], agency=12345))
    assert len(errors) == 3 and all(len(e) < 200 for e in errors), errors


def test_validate_does_not_change_the_item():
    item = article(published="bad")
    before = copy.deepcopy(item)
    validate(item)
    assert item == before


def test_schema_is_versioned_and_the_version_is_in_the_changelog():
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert re.fullmatch(r"\d+\.\d+\.\d+", SCHEMA_VERSION)
    assert SCHEMA_VERSION in schema["$id"]
    # the newest changelog entry is the current version
    versions = re.findall(r"^## (\d+\.\d+\.\d+)", CHANGELOG.read_text("utf-8"), re.M)
    assert versions and versions[0] == SCHEMA_VERSION


def test_schema_covers_exactly_the_exported_fields():
    schema = load_schema()
    assert list(schema["properties"]) == list(EXPORT_FIELDS)
    assert set(schema["required"]) == set(EXPORT_FIELDS) - set(OPTIONAL_FIELDS)
    # an optional field is one a minor version added: the changelog names it
    changelog = CHANGELOG.read_text("utf-8")
    assert all(f"`{name}`" in changelog for name in OPTIONAL_FIELDS)


def test_an_item_exported_before_related_stories_existed_is_still_valid():
    item = article()
    del item["related_stories"]
    assert validate(item) == []


def test_further_stories_are_validated_field_by_field():
    story = {"title": "Washington weighs new sanctions", "location": "Washington", "agency": "AFP",
             "published": "2024-01-29", "body": "US officials said on Monday.\n\nNo decision was made."}
    assert validate(article(related_stories=[story])) == []
    for bad in ({**story, "published": "Jan 29, 2024"}, {**story, "body": ""}, {**story, "extra": 1},
                {k: v for k, v in story.items() if k != "agency"}):
        errors = validate(article(related_stories=[bad]))
        assert errors and all(e.startswith("related_stories") for e in errors), (bad, errors)


def test_the_validation_stage_drops_a_schema_invalid_item_with_a_counted_reason():
    from scrapy.exceptions import DropItem
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from pipelines.validate import ValidatePipeline

    crawler = get_crawler()
    stats = MemoryStatsCollector(crawler)
    pipeline = ValidatePipeline(stats, validate)
    good = dict(article(), html="<html>", raw={}, status=200)  # internal fields are not validated
    assert pipeline.process_item(good) is good
    with pytest.raises(DropItem, match="published"):
        pipeline.process_item(article(published="2024-13-01"))
    assert stats.get_value("articles/dropped/invalid") == 1
