"""Which of a site's archived captures to fetch: per article, its status-200 HTML captures, newest first (pure).

The CDX API lists every capture under a URL prefix: listings, feeds, images, redirects, 404s, and
each article under several URLs (http or https, bare host or www, ":80", tracking parameters). The
selection keeps, for each article (the item's `url`: crawler/site/urls.py article_url), its captures
that

* are on one of the crawl's sites and an article by the site's URL rules (page_kind ARTICLE);
* answered 200 with an HTML page (mimetype text/html): never a redirect, a 404, a 5xx or a revisit
  record ("warc/revisit", status "-");
* carry bytes not already kept for that article (same digest, same bytes: only the newest is kept,
  whichever URL variant it was captured under; the CDX API's collapse=digest only drops *adjacent*
  duplicates of one URL key);

newest first, so that the fetcher takes the first and falls back to the next when a capture turns out
cut off or unreadable (the CDX row cannot say: its `length` is the archive record's, not the page's).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from crawler.site.urls import ARTICLE, article_url, canonicalize, is_on_site, page_kind
from crawler.wayback.cdx import Capture

HTML = "text/html"

# why a capture was left out (Selection.dropped)
OFF_SITE = "off_site"
NOT_ARTICLE = "not_article"
NOT_200 = "not_200"
NOT_HTML = "not_html"
SAME_DIGEST = "same_digest"


@dataclass
class Selection:
    """article URL -> its captures worth fetching, newest first; and how many captures were left out, by why."""

    articles: dict[str, list[Capture]] = field(default_factory=dict)
    dropped: Counter = field(default_factory=Counter)

    def latest(self) -> dict[str, Capture]:
        """Each article's newest capture."""
        return {url: captures[0] for url, captures in self.articles.items()}


def article_prefixes(profile) -> list[str]:
    """The CDX API `url` values that list a site's article captures: "<domain><literal start of each article
    pattern>*", e.g. "spacewar.com/reports/*" and "spacewar.com/afp/*" (one prefix covers http, https, the
    bare host and www: the archive's URL key drops them). A pattern without a literal directory of its own
    lists the whole domain ("spacewar.com/*"); the selection keeps the articles either way."""
    prefixes = []
    for pattern in profile.article_patterns:
        literal = re.match(r"\^(/(?:[A-Za-z0-9_~/-]|\\[./-])*)", pattern)
        path = literal.group(1).replace("\\", "") if literal else "/"
        path = path[: path.rfind("/") + 1]  # up to the last whole directory
        prefix = f"{profile.domain}{path}*"
        if prefix not in prefixes:
            prefixes.append(prefix)
    if any(p == f"{profile.domain}/*" for p in prefixes):
        return [f"{profile.domain}/*"]
    return prefixes


def is_html(mimetype: str) -> bool:
    return mimetype.split(";", 1)[0].strip().lower() == HTML


def select_articles(captures: Iterable[Capture], site) -> Selection:
    """The article captures among `captures` of `site` (a CompiledProfile, or a SiteSet for several sites),
    grouped by article URL (sorted), each group newest first with one capture per digest."""
    found: dict[str, list[Capture]] = {}
    dropped: Counter = Counter()
    for capture in captures:
        compiled = site.site_of(capture.original)
        if compiled is None or not is_on_site(capture.original, compiled.profile):
            dropped[OFF_SITE] += 1
            continue
        if page_kind(canonicalize(capture.original, compiled.profile), compiled) != ARTICLE:
            dropped[NOT_ARTICLE] += 1
            continue
        if capture.statuscode != "200":
            dropped[NOT_200] += 1
            continue
        if not is_html(capture.mimetype):
            dropped[NOT_HTML] += 1
            continue
        found.setdefault(article_url(capture.original, compiled.profile), []).append(capture)
    selection = Selection(dropped=dropped)
    for url in sorted(found):
        kept, digests = [], set()
        for capture in sorted(found[url], key=lambda c: _newest_first(c, url)):
            if capture.digest and capture.digest in digests:
                dropped[SAME_DIGEST] += 1
                continue
            digests.add(capture.digest)
            kept.append(capture)
        selection.articles[url] = kept
    return selection


def _newest_first(capture: Capture, url: str) -> tuple:
    # newest first; at the same second, the capture under the article's own URL, then https, then by URL
    return (-int(capture.timestamp), capture.original != url, not capture.original.startswith("https:"),
            capture.original)
