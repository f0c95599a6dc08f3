"""Where a page of the network links to, and whether a page looks like one of its articles.

The XPaths of the links in pages and in RSS/Atom feeds (namespaces removed first), and the
markers of the network's article template: the comment before the headline, the dateline's class,
og:type "article".

Each place is a query of its own, run one after the other: libxml2 sorts the nodes of an XPath
union (`a | b | c`) into document order, which costs far more than linear time on a large page
(a feed of 40,000 items: 12 s with the union against 0.4 s with separate queries). The links come
out grouped by query, which is all the scheduling needs.
"""

from __future__ import annotations

# Where links are: in pages, and in RSS/Atom feeds (namespaces removed)
PAGE_LINKS = ("//a/@href", "//link[@rel='alternate']/@href")
FEED_LINKS = ("//item/link/text()", "//entry/link/@href", "//item/guid[not(@isPermaLink='false')]/text()")
# A page's requisites, what a browser loads to show it: images and stylesheets
REQUISITE_LINKS = ("//img/@src", "//input[@type='image']/@src",
                   "//link[contains(concat(' ', normalize-space(translate(@rel, 'STYLEH', 'styleh')), ' '),"
                   " ' stylesheet ')]/@href")


def hrefs(selector, queries) -> list[str]:
    """The values of every query in turn, in one list (linear in the size of the page)."""
    found: list[str] = []
    for query in queries:
        found += selector.xpath(query).getall()
    return found

# Markers of the network's article template: the headline marker, then two head markers
ARTICLE_MARKERS = ("<!--body-2-incontainer.php-->", 'class="BHS"', "og:type\" content=\"article")


def route(url: str, text: str, site, *, xml: bool = False) -> str:
    """ARTICLE, FEED or LISTING: how the spider routes a fetched text page of `site` (a CompiledProfile), and
    so which archived responses `scrapy reprocess` turns into items (crawler/articleitem.py). A feed by its
    URL or an XML response; an article by its URL or its markers; anything else a listing."""
    from crawler.site.urls import ARTICLE, FEED, LISTING, canonicalize, page_kind

    kind = page_kind(canonicalize(url, site.profile), site)
    if kind == FEED or xml:
        return FEED
    if kind == ARTICLE or looks_like_article(text):
        return ARTICLE
    return LISTING


def looks_like_article(text: str) -> bool:
    """The headline marker anywhere, or both the dateline class and og:type=article near the top."""
    body_marker, *head_markers = ARTICLE_MARKERS
    head = text[:20000]
    return body_marker in text or all(marker in head for marker in head_markers)
