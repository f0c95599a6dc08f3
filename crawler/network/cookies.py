"""Cookies middleware whose public-suffix checks use the list shipped with tldextract, never the network.

Scrapy's CookiesMiddleware asks tldextract whether a cookie domain is a public suffix; a
default TLDExtract downloads the current Public Suffix List on first use. An archival job
must not fetch anything it does not archive, so this subclass swaps in an extractor with
no suffix-list URLs (tldextract then uses its bundled snapshot) and no cache directory.
"""

from __future__ import annotations

import scrapy.downloadermiddlewares.cookies as _scrapy_cookies
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from tldextract import TLDExtract

OFFLINE_EXTRACTOR = TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


class OfflineCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie handling with an offline public-suffix list."""

    def __init__(self, debug: bool = False):
        super().__init__(debug)
        # The stock middleware reads this module-level extractor in _is_public_domain().
        _scrapy_cookies._split_domain = OFFLINE_EXTRACTOR
