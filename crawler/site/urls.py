"""URL rules: canonical form of a site URL, on-site test, and page kind (article, feed, listing)."""

from __future__ import annotations

import fnmatch
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from crawler.site.profiles import CompiledProfile, SiteProfile

ARTICLE = "article"
FEED = "feed"
LISTING = "listing"
SKIP = "skip"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def is_on_site(url: str, profile: SiteProfile) -> bool:
    """True for http(s) URLs on the site's www host or its bare domain (no other subdomain)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and host_of(url) in profile.hosts


def _is_tracking(name: str, patterns: tuple[str, ...]) -> bool:
    name = name.lower()
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def canonicalize(url: str, profile: SiteProfile, *, keep_query: bool = True) -> str:
    """Canonical form of an on-site URL: https, www host, default port dropped, no fragment,
    no tracking parameters (no query at all with keep_query=False), "/index.html" -> "/".

    Off-site URLs come back with only the fragment removed.
    """
    parts = urlsplit(url.strip())
    if host_of(url) not in profile.hosts:
        return urlunsplit(parts._replace(fragment=""))
    path = parts.path or "/"
    if path == "/index.html":
        path = "/"
    query = ""
    if keep_query and parts.query:
        pairs = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _is_tracking(k, profile.tracking_params)
        ]
        query = urlencode(pairs)
    return urlunsplit(("https", profile.www_host, path, query, ""))


def article_url(url: str, profile: SiteProfile) -> str:
    """The item's `url`: canonical form with no query at all."""
    return canonicalize(url, profile, keep_query=False)


#: links judged per site set at most (`followed`, by origin and href), then they are judged afresh
FOLLOWED_MAX = 1 << 16
_UNKNOWN = object()


def site_links(base_url: str, hrefs, compiled: CompiledProfile, limit: int = 0) -> tuple[list[str], int]:
    """The on-site links worth following among `hrefs` found on `base_url`: joined, canonical,
    each once, in page order, without fragments-only, mailto:, javascript: and SKIP paths; and how
    many hrefs were not looked at because `limit` links (0: no limit) were found first.

    `compiled` is the site's CompiledProfile, or a SiteSet (several sites in one crawl: a link is
    on-site when it is on one of them, and judged by that site's rules)."""
    links, seen = [], set()
    origin = None  # the base's scheme://host, computed at the first href that needs it
    for n, href in enumerate(hrefs):
        if limit and len(links) >= limit:
            return links, len(hrefs) - n
        href = href.strip()
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        # joined to the base, an href that starts at the root depends only on the base's scheme and host, and
        # an absolute one only on its scheme: those (most of a page's, its navigation) are judged once per origin
        if href.startswith(("http://", "https://")) or (href.startswith("/") and not href.startswith("//")):
            if origin is None:
                parts = urlsplit(base_url)
                origin = f"{parts.scheme}://{parts.netloc}"
            memo = compiled.followed
            url = memo.get((origin, href), _UNKNOWN)
            if url is _UNKNOWN:
                if len(memo) >= FOLLOWED_MAX:
                    memo.clear()
                url = memo[origin, href] = _follow(urljoin(origin, href), compiled)
        else:
            url = _follow(urljoin(base_url, href), compiled)
        if url is None or url in seen:
            continue
        seen.add(url)
        links.append(url)
    return links, 0


def _follow(url: str, compiled) -> str | None:
    """The canonical form of the absolute `url` when it is on one of `compiled`'s sites and not a SKIP path."""
    site = compiled.site_of(url)
    if site is None or not is_on_site(url, site.profile):
        return None
    url = canonicalize(url, site.profile)
    return None if page_kind(url, site) == SKIP else url


def page_kind(url: str, compiled: CompiledProfile) -> str:
    """ARTICLE, FEED, LISTING or SKIP, judged from the canonical URL's path alone."""
    path = urlsplit(url).path or "/"
    if compiled.skip_re.search(path):
        return SKIP
    if compiled.article_re.match(path):
        return ARTICLE
    if compiled.feed_re.match(path):
        return FEED
    return LISTING


class RequestedLinks:
    """The links a spider already requested, each with the smallest depth it was requested at.

    A link found again at the same or a greater depth need not be requested: Scrapy's duplicate
    filter would drop it, after building the Request and running the spider middlewares and the
    fingerprint for it. One found nearer the start pages must be: the depth middleware may have
    dropped the first request (DEPTH_LIMIT)."""

    def __init__(self):
        self._depth: dict[str, int] = {}

    def first_time(self, url: str, depth: int) -> bool:
        """True (and remembered) unless `url` was requested at `depth` or less."""
        known = self._depth.get(url)
        if known is not None and known <= depth:
            return False
        self._depth[url] = depth
        return True

    def clear(self) -> None:
        self._depth.clear()
