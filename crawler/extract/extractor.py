"""A page in, a typed article out: `article_from_page(html, url)`, the one function the crawl and offline tools call.

It finds the article's parts on the page (crawler/extract/regions.py: the site rules, else a
generic fallback) and cleans them into an Article (crawler/extract/cleaning.py: clutter removed,
paragraphs, images with captions, the rights notice, the dateline's parts), handing the parsed
tree from one to the other. A page that is not an article raises NotAnArticle with a reason (a
stats key part, e.g. "listing-page"). Any other exception is a bug and propagates: the
extraction stage logs it at ERROR and counts it (pipelines/extract.py); it never becomes "not an
article".
"""

from __future__ import annotations

from crawler.extract.article import Article
from crawler.extract.cleaning import clean
from crawler.extract.regions import extract
from crawler.extract.rules import RULES, SiteRules


def article_from_page(html: str, url: str, rules: SiteRules = RULES) -> Article:
    """The article on the page at `url` (see the module docstring)."""
    return clean(extract(html, url, rules), url, rules)
