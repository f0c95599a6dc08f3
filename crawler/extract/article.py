"""The typed article the extraction produces (Article), and NotAnArticle for a page that holds none."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

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

    def fields(self) -> dict:
        return asdict(self)
