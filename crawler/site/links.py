"""Where a page of the network links to, and whether a page looks like one of its articles.

The XPaths of the links in pages and in RSS/Atom feeds (namespaces removed first), and the
markers of the network's article template: the comment before the headline, the dateline's class,
og:type "article".
"""

from __future__ import annotations

# Where links are: in pages, and in RSS/Atom feeds (namespaces removed)
PAGE_LINKS = "//a/@href | //link[@rel='alternate']/@href"
FEED_LINKS = "//item/link/text() | //entry/link/@href | //item/guid[not(@isPermaLink='false')]/text()"

# Markers of the network's article template: the headline marker, then two head markers
ARTICLE_MARKERS = ("<!--body-2-incontainer.php-->", 'class="BHS"', "og:type\" content=\"article")


def looks_like_article(text: str) -> bool:
    """The headline marker anywhere, or both the dateline class and og:type=article near the top."""
    body_marker, *head_markers = ARTICLE_MARKERS
    head = text[:20000]
    return body_marker in text or all(marker in head for marker in head_markers)
