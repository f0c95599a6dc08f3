"""A page in, a typed article out: `article_from_page(html, url)`, the one function offline tools call, and its two halves.

It finds the article's parts on the page (crawler/extract/regions.py: the site rules, else a
generic fallback) and cleans them into an Article (crawler/extract/cleaning.py: clutter removed,
paragraphs, images with captions, the rights notice, the dateline's parts, further stories),
handing the parsed tree from one to the other. A page that is not an article raises NotAnArticle
with a reason (a stats key part, e.g. "listing-page"); a page nested past the parser's bound
raises PageTooDeep. Any other exception is a bug and propagates: the extraction stage logs it at
ERROR and counts it (pipelines/extract.py); it never becomes "not an article".

The crawl calls the two halves apart, because a page's verdict waits for the pages that follow it
(the learned template's look-ahead, crawler/extract/stream.py) while its reading does not:

* `read_page(html, url)`: everything that needs only the page (parse, regions, images, the site
  rules' clutter, the blocks and their keys): a PageReading, plain data;
* `judge_reading(reading, template)`: the decisions, with the site's learned template
  (crawler/extract/boilerplate.py), which sees the pages in crawl order (crawler/extract/stream.py).

`article_from_page(html, url, template=...)` is both in one call, with a template that is only
read (an offline tool's, `scrapy explain`'s): without one, structure and the site rules decide alone.

Which site rules: those given, else the version of the page's site's rules (its spec,
crawler/site/profiles.py) for the capture date `captured` (None: now, the current rules; a host
of no known site: the network's RULES). `rules_for` says which: the crawl's extraction stage
(pipelines/extract.py) asks it with the item's fetched_at, the response record's WARC-Date.
"""

from __future__ import annotations

from crawler.extract.article import Article
from crawler.extract.boilerplate import SiteTemplate
from crawler.extract.cleaning import Cleaned, PageReading, judge, read
from crawler.extract.regions import extract
from crawler.extract.rules import RULES, SiteRules
from crawler.site.profiles import profile_of


def rules_for(url: str, captured=None) -> SiteRules:
    """The rules of the site of `url` for a capture then (None: now); RULES for a host of no known site."""
    profile = profile_of(url)
    return profile.rules_at(captured) if profile is not None else RULES


def read_page(html: str, url: str, rules: SiteRules | None = None, captured=None) -> PageReading:
    """The page's article parts as blocks, before any decision that needs other pages."""
    rules = rules or rules_for(url, captured)
    return read(extract(html, url, rules), url, rules)


def judge_reading(reading: PageReading, template: SiteTemplate | None = None, rules: SiteRules | None = None,
                  captured=None) -> Cleaned:
    """The article of a read page, with every removal and its reason."""
    return judge(reading, template, rules or rules_for(reading.url, captured))


def article_from_page(html: str, url: str, rules: SiteRules | None = None, template: SiteTemplate | None = None,
                      captured=None) -> Article:
    """The article on the page at `url` (see the module docstring)."""
    rules = rules or rules_for(url, captured)
    return judge(read_page(html, url, rules), template, rules).article
