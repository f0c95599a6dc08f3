"""Offsite check that reads host names the way URLs mean them: `www.spacewar.com.` and `www.spacewar.com` are one host.

Scrapy's OffsiteMiddleware matches the request's host name against the spider's allowed_domains;
a fully qualified name with its trailing dot (a redirect to `https://www.spacewar.com./...`) does
not match and the page is lost. This subclass judges such a request by its name without the dot
(the port is never part of the host name Scrapy compares).
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.utils.httpobj import urlparse_cached


class OnSiteMiddleware(OffsiteMiddleware):
    def should_follow(self, request, spider) -> bool:
        if super().should_follow(request, spider):
            return True
        parts = urlparse_cached(request)
        host = parts.hostname or ""
        if not host.endswith("."):
            return False
        netloc = parts.netloc.replace(host, host.rstrip("."), 1)  # www.spacewar.com.:443 -> www.spacewar.com:443
        return super().should_follow(request.replace(url=parts._replace(netloc=netloc).geturl()), spider)
