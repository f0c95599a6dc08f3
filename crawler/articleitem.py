"""From an archived article response to the exported item: the one path the crawl's item stages and `scrapy reprocess` share.

The crawl runs these steps spread over its spider and item pipelines (in crawl order); `scrapy reprocess` (crawler/offline/reprocess/) runs
them in one call, `item_from_page`. Both call the same functions, so an item rebuilt from the
archive is the live crawl's item, field by field, except `fetched_at` (the capture's WARC-Date)
and `warc` (the archived record's pointer), which are the capture's in both. A backfill's record
(crawler/warc/archived.py) gives the backfill's item: captured_at its WARC-Date, fetched_at its
WARC-Creation-Date, source the host of its WARC-Source-URI (`provenance`).

The steps, in the crawl's order:

1. `route(url, text, profile, xml=...)` (crawler/site/links.py) and `page_fields(url, html, status,
   profile)`: the spider's decision that a page is an article, and the item it starts;
2. `place_record(fields, pointer, warc_date)`: the spider, from the page's capture (crawler/capture/page.py);
3. `read_page` + `judge_reading` (crawler/extract/extractor.py), then `fill_article(fields,
   article)`: the extraction stage (pipelines/extract.py); `refusal(exc)` says what a refused
   page counts as (not an article with its reason, too deep, or a bug);
4. `invalid(fields)`: the validation stage (pipelines/validate.py): None, or (reason, detail);
5. `exported(fields)`: the export stage (pipelines/export.py): exactly the exported fields.

The de-duplication stage (one item per URL per crawl) has no counterpart per page: reprocess
selects one capture per URL instead (crawler/offline/reprocess/index.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.extract.article import Article, NotAnArticle, PageTooDeep
from crawler.extract.boilerplate import SiteTemplate
from crawler.extract.cleaning import Cleaned
from crawler.extract.extractor import judge_reading, read_page
from crawler.items import EXPORT_FIELDS, INTERNAL_FIELDS, SET_AFTER_VALIDATION, exported_value
from crawler.itemschema import validate
from crawler.site.urls import article_url
from crawler.warc.archived import LIVE, provenance

#: fields an item must carry (the validation stage drops an item missing one: "missing_<field>")
REQUIRED = ("url", "title", "published", "body", "extraction")

#: what a refused page counts as (`refusal`)
NOT_AN_ARTICLE = "not_an_article"
TOO_DEEP = "too_deep"
BUG = "bug"


def iso_seconds(warc_date: str) -> str:
    """The item's fetched_at from a WARC-Date: 2026-11-25T02:00:00.123456Z -> 2026-11-25T02:00:00Z."""
    return warc_date[:19] + "Z" if warc_date and len(warc_date) >= 19 else warc_date


def page_fields(url: str, html: str, status: int, profile) -> dict:
    """The fields the spider starts an article item with: canonical URL (no query), the page, its site."""
    return {"url": article_url(url, profile), "html": html, "status": status, "site": profile.name}


def place_record(fields, pointer: dict, warc_date: str, captured_at: str | None = None, source: str = LIVE) -> None:
    """The archived stage: the response record's pointer and its WARC-Date as fetched_at (a backfill's record: its
    WARC-Creation-Date); captured_at the same time and source "live", unless the page came from an archive (the
    backfill: its capture time and host)."""
    fields["warc"] = pointer
    fields["fetched_at"] = iso_seconds(warc_date)
    fields["captured_at"] = iso_seconds(captured_at) if captured_at else fields["fetched_at"]
    fields["source"] = source


def refusal(exc: BaseException) -> tuple[str, str]:
    """(kind, reason) of a page the extraction refused: NOT_AN_ARTICLE with its reason, TOO_DEEP, or BUG
    with the exception's name (a bug is never counted as not an article)."""
    if isinstance(exc, NotAnArticle):
        return NOT_AN_ARTICLE, exc.reason
    if isinstance(exc, PageTooDeep):
        return TOO_DEEP, "too_deep"
    return BUG, type(exc).__name__


def fill_article(fields, article: Article) -> None:
    """The extraction stage: the article's fields into the item (the page HTML leaves it)."""
    fields.pop("html", None)
    for name, value in article.fields().items():
        fields[name] = value


def invalid(fields, schema_validate=validate) -> tuple[str, str] | None:
    """The validation stage: None for a good item, else (reason, detail): "missing_<field>" or "invalid"."""
    missing = [f for f in REQUIRED if not fields.get(f)]
    if missing:
        return "missing_" + missing[0], f"missing {', '.join(missing)}"
    # a field that a later stage sets (story_group) is checked once set, not before
    errors = schema_validate({f: exported_value(f, fields.get(f)) for f in EXPORT_FIELDS
                              if f not in SET_AFTER_VALIDATION or fields.get(f) is not None})
    if errors:
        return "invalid", "; ".join(errors[:3])
    return None


def exported(fields) -> dict:
    """The export stage: exactly the exported fields, in their order, every one present (null when unknown)."""
    for name in INTERNAL_FIELDS:
        fields.pop(name, None)
    return {name: exported_value(name, fields.get(name)) for name in EXPORT_FIELDS}


@dataclass
class PageResult:
    """What became of one article page: the exported item, or why not (a refusal's kind and reason)."""

    item: dict | None = None
    kind: str | None = None  # None (an item), NOT_AN_ARTICLE, TOO_DEEP, BUG, or "invalid" (validation)
    reason: str | None = None
    detail: str = ""
    cleaned: Cleaned | None = field(default=None, repr=False)
    error: BaseException | None = field(default=None, repr=False)


def item_from_page(url: str, html: str, status: int, profile, pointer: dict, warc_date: str,
                   templates: dict[str, SiteTemplate] | None = None, *, source_uri: str | None = None,
                   creation_date: str | None = None) -> PageResult:
    """Every step in one call, with the sites' learned templates (by site, as BoilerplateStore.sites holds
    them), only read: the item of an archived article page at `url` (the response's URL). A backfill's record
    (its WARC-Source-URI and WARC-Creation-Date given) gives the backfill's captured_at, fetched_at and source."""
    fields = page_fields(url, html, status, profile)
    fetched, captured, source = provenance(warc_date, source_uri, creation_date)
    place_record(fields, pointer, fetched, captured, source)
    rules = profile.rules_at(warc_date)  # the site's rules for the layout it had on the capture day
    try:
        reading = read_page(html, fields["url"], rules)
        cleaned = judge_reading(reading, (templates or {}).get(reading.site), rules)
    except Exception as exc:  # NotAnArticle, PageTooDeep or a bug: refusal() says which
        kind, reason = refusal(exc)
        return PageResult(kind=kind, reason=reason, detail=str(exc), error=exc)
    fill_article(fields, cleaned.article)
    bad = invalid(fields)
    if bad is not None:
        return PageResult(kind="invalid", reason=bad[0], detail=bad[1], cleaned=cleaned)
    return PageResult(item=exported(fields), cleaned=cleaned)
