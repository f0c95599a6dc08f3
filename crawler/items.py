"""The article item: the exported contract fields plus internal fields the pipelines consume."""

import scrapy

#: Fields exported to JSON Lines, in this order (see README, "Items").
EXPORT_FIELDS = (
    "url",
    "title",
    "published",
    "author",
    "location",
    "agency",
    "body",
    "related_stories",
    "images",
    "rights",
    "extraction",
    "warc",
    "site",
    "fetched_at",
    "story_group",
    "captured_at",
    "source",
)

#: Exported fields added by a minor version of the item schema: always written by this crawler, but not
#: required by the schema, so that items exported before them stay valid (crawler/schema/CHANGELOG.md).
OPTIONAL_FIELDS = ("related_stories", "story_group", "captured_at", "source")

#: Exported fields set after the validation stage (story_group: pipelines/storygroup.py in the crawl, a pass over
#: the whole output in `scrapy reprocess`): validation checks an item without them.
SET_AFTER_VALIDATION = ("story_group",)

def export_key(item) -> str | None:
    """What one exported item stands for, in the de-duplication stage and a JOBDIR's export journal: its URL (one
    item per article), or for an item from an archive (a backfill: `source` not "live") its URL and capture time,
    WAYBACK_VERSIONS=all exporting several versions of one article. None for an item without a URL."""
    url = item.get("url")
    if not url:
        return None
    source = item.get("source")
    return url if source in (None, "live") else f"{url} {item.get('captured_at')}"


#: Fields that only travel between spider and pipelines; the export stage drops them.
INTERNAL_FIELDS = ("html", "status")


def exported_value(name: str, value):
    """The value a field is exported with: every contract field present, images a list, unknowns null."""
    if value is None and name in ("images", "related_stories"):
        return []
    return value


class ArticleItem(scrapy.Item):
    # --- contract fields (README, "Items") ---
    url = scrapy.Field()  # canonical: https, www host, no query, no fragment
    title = scrapy.Field()
    published = scrapy.Field()  # ISO 8601 date from the dateline
    author = scrapy.Field()  # None when none or "Staff Writers"
    location = scrapy.Field()  # dateline place, e.g. "Washington"
    agency = scrapy.Field()  # dateline source, e.g. "AFP", "SPX", "UPI"
    body = scrapy.Field()  # paragraphs separated by one blank line (the main story only)
    related_stories = scrapy.Field()  # further stories on the page: [{title, location, agency, published, body}]
    images = scrapy.Field()  # list of {"url", "caption"}
    rights = scrapy.Field()  # the wire agency's copyright notice, or None
    extraction = scrapy.Field()  # "site-rules" or "fallback"
    warc = scrapy.Field()  # the response record: {"filename", "record_id", "offset"} (crawler/capture/page.py)
    # --- extras ---
    site = scrapy.Field()  # site profile name, e.g. "spacewar"
    fetched_at = scrapy.Field()  # ISO 8601 UTC time of the capture (the response record's WARC-Date)
    story_group = scrapy.Field()  # id shared by every copy of one story across sites and runs (crawler/syndication/)
    captured_at = scrapy.Field()  # ISO 8601 UTC time the page was captured (live: fetched_at; backfill: the archive's)
    source = scrapy.Field()  # where the capture came from: "live", or the archive's host ("web.archive.org")
    # --- internal ---
    html = scrapy.Field()  # decoded page HTML (the extraction stage takes it out)
    status = scrapy.Field()  # HTTP status of the archived response
