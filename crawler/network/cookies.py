"""Cookies middleware: Scrapy's, with the public-suffix list shipped with tldextract and browser-like caps.

Scrapy's CookiesMiddleware asks tldextract whether a cookie domain is a public suffix; a default
TLDExtract downloads the current Public Suffix List on first use. An archival job must not fetch
anything it does not archive, so this subclass swaps in an extractor with no suffix-list URLs
(tldextract then uses its bundled snapshot) and no cache directory.

A server may also set cookies no browser would keep (300 cookies of 4 KB each made every later
request carry a 1.2 MB Cookie header, archived in full with each request). As browsers do
(RFC 6265, section 6.1), a cookie larger than COOKIES_MAX_SIZE bytes (name and value) is not kept,
a domain keeps at most COOKIES_MAX_PER_DOMAIN cookies, and a request's Cookie header is cut to
COOKIES_MAX_HEADER bytes (whole cookies only). Stats: cookies/refused/too_large,
cookies/refused/too_many, cookies/header_trimmed.
"""

from __future__ import annotations

from collections import defaultdict

import scrapy.downloadermiddlewares.cookies as _scrapy_cookies
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from tldextract import TLDExtract

from crawler import keys

OFFLINE_EXTRACTOR = TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


class OfflineCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie handling with an offline public-suffix list and caps; see the module docstring."""

    def __init__(self, debug: bool = False, *, max_size: int = 4096, max_per_domain: int = 50,
                 max_header: int = 8192, stats=None):
        super().__init__(debug)
        self.max_size = max_size
        self.max_per_domain = max_per_domain
        self.max_header = max_header
        self.stats = stats
        # The stock middleware reads this module-level extractor in _is_public_domain().
        _scrapy_cookies._split_domain = OFFLINE_EXTRACTOR

    @classmethod
    def from_crawler(cls, crawler):
        o = super().from_crawler(crawler)  # raises NotConfigured without COOKIES_ENABLED
        s = crawler.settings
        o.max_size, o.max_per_domain = s.getint("COOKIES_MAX_SIZE"), s.getint("COOKIES_MAX_PER_DOMAIN")
        o.max_header, o.stats = s.getint("COOKIES_MAX_HEADER"), crawler.stats
        return o

    def process_response(self, request, response, spider=None):
        response = super().process_response(request, response)
        if not request.meta.get("dont_merge_cookies", False):
            self._cap(self.jars[request.meta.get("cookiejar")].jar)
        return response

    def process_request(self, request, spider=None):
        result = super().process_request(request)
        header = request.headers.get("Cookie")
        if header and len(header) > self.max_header:
            kept, size = [], 0
            for pair in header.split(b"; "):
                if size + len(pair) + 2 > self.max_header:
                    break
                kept.append(pair)
                size += len(pair) + 2
            request.headers["Cookie"] = b"; ".join(kept)
            self._inc(keys.STAT_COOKIES_TRIMMED)
        return result

    def _cap(self, jar) -> None:
        """Drop the cookies a browser would not keep: too large, or past the count of their domain."""
        per_domain = defaultdict(int)
        for cookie in list(jar):
            size = len(cookie.name or "") + len(cookie.value or "")
            if size > self.max_size:
                jar.clear(cookie.domain, cookie.path, cookie.name)
                self._inc(keys.STAT_COOKIES_REFUSED.format(reason="too_large"))
                continue
            per_domain[cookie.domain] += 1
            if per_domain[cookie.domain] > self.max_per_domain:
                jar.clear(cookie.domain, cookie.path, cookie.name)
                self._inc(keys.STAT_COOKIES_REFUSED.format(reason="too_many"))

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
