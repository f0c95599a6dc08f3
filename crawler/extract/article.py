"""The typed article the extraction produces (Article), NotAnArticle for a page that holds none, and
PageTooDeep for an article page nested past the parser's bound."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

SITE_RULES = "site-rules"
FALLBACK = "fallback"


class NotAnArticle(Exception):
    """The page holds no article; `reason` is a short slug (stats key part), e.g. "listing-page"."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self):  # raised in an extraction worker (crawler/workers/extraction.py), re-raised here
        return type(self), (self.reason, self.detail)


class PageTooDeep(Exception):
    """The page's markup nests deeper than the parser's bound (crawler/extract/page.py MAX_DEPTH), even after
    the runs of empty nested tags were collapsed and the inline tags taken out: the article on it cannot
    be read. Not a NotAnArticle: the extraction stage counts and logs it as a page past the bound."""

    def __init__(self, depth: int, detail: str = ""):
        super().__init__(f"markup nested deeper than {depth} levels" + (f": {detail}" if detail else ""))
        self.depth = depth
        self.detail = detail

    def __reduce__(self):  # raised in an extraction worker, re-raised in the crawl process
        return type(self), (self.depth, self.detail)


@dataclass
class Article:
    """The article on a page, as the item carries it (README, "Items")."""

    title: str | None
    published: str | None  # ISO 8601 date
    author: str | None  # None when none or a staff byline
    location: str | None  # the dateline's place
    agency: str | None  # the dateline's source: AFP, SPX, UPI...
    body: str  # paragraphs separated by one blank line
    images: list[dict] = field(default_factory=list)  # [{"url", "caption"}]
    rights: str | None = None  # the wire agency's notice
    extraction: str = SITE_RULES  # SITE_RULES or FALLBACK
    #: further stories the page carries below the main one: [{"title", "location", "agency", "published", "body"}]
    related_stories: list[dict] = field(default_factory=list)

    def fields(self) -> dict:
        """The fields as a dict (images and further stories as they are, not copied)."""
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in fields(Article))
