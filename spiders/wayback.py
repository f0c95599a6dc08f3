"""The spiders' backfill mode: `scrapy crawl spacewar -a wayback=BASE` (and `network`) reads a Wayback-style archive.

Instead of the live site's home pages and feeds, the spider lists the site's captures through the
archive's CDX API, one listing per site and article prefix (crawler/wayback/select.py
article_prefixes: "spacewar.com/reports/*", "spacewar.com/afp/*"), page by page (its resume key;
WAYBACK_FROM, WAYBACK_TO, WAYBACK_PAGE_SIZE; a pywb collection, WAYBACK_LAYOUT=pywb or a BASE with a
path, has no resume key: its listing is one answer of at most PYWB_LIMIT captures), keeps each article's status-200 HTML captures
(select_articles) and fetches them through `id_` (the original bytes), the latest first: a capture
cut off, not a 200, not text or not an article page gives way to the article's next older one
(WAYBACK_VERSIONS=latest); with WAYBACK_VERSIONS=all every distinct capture is fetched and becomes an
item of its own. A good capture goes through the same steps as a live article page, under its
original URL, so the item is the live crawl's item with `captured_at` the capture time and `source`
the archive's host.

The listing holds nothing in memory between pages: the archive lists captures by URL key, so an
article's captures come together, and only the captures of the article the page ends on travel on
with the next page's request (META_WAYBACK_LISTING), which makes the listing resumable with JOBDIR as
any request is. Requests go to the archive only (the guard, crawler/backfill/guard.py), never follow
a redirect (an archived Location is the live site's URL) and see every status (handle_httpstatus_all:
a 404 capture is a reason to fall back, not an error). With STATE_PATH a capture whose digest the
state holds for its article (an earlier backfill fetched it) is not fetched again (wayback/dropped/known).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import TextResponse

from crawler import keys
from crawler.config import ConfigError
from crawler.site.links import route
from crawler.site.urls import ARTICLE, article_url
from crawler.warc.archived import whole_seconds
from crawler.wayback.cdx import (IA_BASE, PYWB, PYWB_LIMIT, PYWB_LISTING_MAXSIZE, CDXAnswerError, CDXQuery, archive_base, archive_layout,
                                 parse_answer)
from crawler.wayback.select import article_prefixes, select_articles


#: the finish reason of a backfill whose archive does not answer as a CDX API (exit status 78)
BAD_ANSWER = "wayback_bad_answer"


def wayback_base(value: str | None) -> str:
    """The archive's root from `-a wayback=` (empty: the Internet Archive), checked; a ConfigError names the cause."""
    try:
        return archive_base(value or IA_BASE)
    except ValueError as e:
        raise ConfigError(f"-a wayback={value}: {e}") from None


class WaybackMode:
    """The backfill's start requests and callbacks, mixed into NetworkSpider (spiders/network.py)."""

    wayback: str | None = None  # the archive's root URL in wayback mode

    @classmethod
    def wayback_settings(cls, crawler, kwargs) -> None:
        """`-a wayback=BASE` into the WAYBACK setting (which switches crawler/backfill/addon.py on)."""
        if "wayback" not in kwargs:
            return
        if kwargs.get("from_warc") or crawler.settings.get("FROM_WARC"):
            raise ConfigError("-a wayback and -a from_warc cannot be used together: one reads a Wayback-style "
                              "archive, the other rebuilds items from WARC files")
        base = wayback_base(kwargs["wayback"])
        try:
            archive_layout(base, crawler.settings.get("WAYBACK_LAYOUT"))
        except ValueError as e:
            raise ConfigError(f"WAYBACK_LAYOUT: {e}") from None
        crawler.settings.set("WAYBACK", base, priority="spider")

    def wayback_setup(self) -> None:
        s = self.crawler.settings
        self.wayback = s.get("WAYBACK") or None
        if not self.wayback:
            return
        self.wayback_host = urlsplit(self.wayback).hostname
        self.wayback_layout = archive_layout(self.wayback, s.get("WAYBACK_LAYOUT"))
        self.wayback_all = s.get("WAYBACK_VERSIONS") == "all"
        self.requisite_domains = []

    @property
    def wayback_known(self):
        """The incremental state (STATE_PATH), which holds a row per capture taken (keyed by its id_ URL), or None
        (asked when the crawl runs: the add-ons are made after the spider)."""
        if not self.crawler.settings.get("STATE_PATH"):
            return None
        from crawler.components import addon_of
        from crawler.incremental.addon import Incremental

        addon = addon_of(self.crawler, Incremental)
        return addon.state if addon is not None else None

    # --- the listing -------------------------------------------------------------------------------
    def wayback_start(self):
        s = self.crawler.settings
        # IA pages by resume key; pywb has none: one answer per listing, capped (PYWB_LIMIT, never reached silently)
        limit = PYWB_LIMIT if self.wayback_layout == PYWB else s.getint("WAYBACK_PAGE_SIZE")
        for profile in self.site_set.profiles:
            for prefix in article_prefixes(profile):
                try:
                    query = CDXQuery(self.wayback, prefix, from_ts=s.get("WAYBACK_FROM") or None,
                                     to_ts=s.get("WAYBACK_TO") or None, limit=limit, layout=self.wayback_layout)
                except ValueError as e:
                    raise ConfigError(f"wayback: {e}") from None
                yield self.listing_request(query, profile.name)

    def listing_request(self, query: CDXQuery, site: str, resume_key: str | None = None, carried=()):
        meta = {keys.META_WAYBACK_LISTING: (query, site, tuple(carried)), keys.META_SITE: site,
                keys.META_DONT_REVALIDATE: True, keys.META_NOT_IN_STATE: True, "dont_redirect": True}
        if query.layout == PYWB:  # one answer for the whole listing: larger than a page may be
            meta["download_maxsize"] = PYWB_LISTING_MAXSIZE
        return scrapy.Request(query.page_url(resume_key), callback=self.parse_listing_page,
                              errback=self.listing_failed, priority=10, meta=meta)

    def parse_listing_page(self, response):
        """One page of a CDX listing: the capture requests of the articles it completes, and the next page."""
        query, site, carried = response.meta[keys.META_WAYBACK_LISTING]
        stats = self.crawler.stats
        if response.status != 200:
            self.logger.error("wayback: the archive answered HTTP %d to %s: this listing is left out",
                              response.status, response.url)
            stats.inc_value(keys.STAT_WAYBACK_LEFT_OUT)
            return
        try:
            page = parse_answer(response.body, self.wayback, query.layout)
        except CDXAnswerError as e:
            stats.set_value(keys.STAT_WAYBACK_BAD_ANSWER, f"{response.url}: {e}")
            self.logger.error("wayback: %s is not a Wayback CDX API in %s layout (%s); check -a wayback=BASE "
                              "(docs/wayback.md)", self.wayback,
                              "a pywb collection's" if query.layout == PYWB else "the Internet Archive's", e)
            raise CloseSpider(BAD_ANSWER)
        if query.layout == PYWB and len(page.captures) >= query.limit:
            # pywb cannot page: the listing may go on past its cap; said, never silent
            stats.inc_value(keys.STAT_WAYBACK_LEFT_OUT)
            self.logger.error("wayback: the listing %s reached its cap of %d captures: captures past it are left "
                              "out; narrow it with WAYBACK_FROM/WAYBACK_TO and run again", response.url, query.limit)
        stats.inc_value(keys.STAT_WAYBACK_CDX_PAGES)
        stats.inc_value(keys.STAT_WAYBACK_LISTED, len(page.captures))
        selection = select_articles([*carried, *page.captures], self.site_set)
        for why, n in selection.dropped.items():
            stats.inc_value(keys.STAT_WAYBACK_DROPPED.format(why=why), n)
        held = ()
        if page.resume_key is not None and page.captures:
            # the article the page ends on may have more captures on the next page: they go on together
            last = page.captures[-1]
            compiled = self.site_set.site_of(last.original)
            if compiled is not None:
                held = tuple(selection.articles.pop(article_url(last.original, compiled.profile), ()))
        for url, captures in selection.articles.items():
            yield from self.article_requests(url, captures)
        if page.resume_key is not None:
            yield self.listing_request(query, site, page.resume_key, held)

    def listing_failed(self, failure):
        request = failure.request
        self.crawler.stats.inc_value(keys.STAT_WAYBACK_LEFT_OUT)
        self.logger.error("wayback: the listing %s could not be read (%s): its captures are left out",
                          request.url, failure.getErrorMessage())

    # --- the captures ------------------------------------------------------------------------------
    def article_requests(self, url: str, captures):
        """The requests for one article's captures (newest first): the first with the rest as fallbacks, or
        with WAYBACK_VERSIONS=all each one; captures whose digest the state holds are not fetched again."""
        if self.wayback_known is not None:
            # a capture an earlier run took (its row in the state, keyed by its id_ URL), and in "latest" mode
            # anything older than it, is not fetched again
            fresh = []
            for capture in captures:
                if self.wayback_known.get(capture.capture_url) is not None:
                    if not self.wayback_all:
                        break
                    continue
                fresh.append(capture)
            if len(fresh) < len(captures):
                self.crawler.stats.inc_value(keys.STAT_WAYBACK_DROPPED.format(why="known"),
                                             len(captures) - len(fresh))
            if not self.wayback_all and len(fresh) < len(captures):
                fresh = fresh[:1] if fresh else []  # a newer capture than the one taken; its fallbacks are older
            captures = fresh
        if not captures:
            return
        self.crawler.stats.inc_value(keys.STAT_WAYBACK_ARTICLES)
        site = self.site(url).profile.name
        if self.wayback_all:
            for capture in captures:
                yield self.capture_request(capture, (), site)
        else:
            yield self.capture_request(captures[0], tuple(captures[1:]), site)

    def capture_request(self, capture, fallbacks, site: str):
        # pywb serves a cut-off record with its archived Content-Length and fewer bytes, then waits on a kept-alive
        # connection until the download times out; with `Connection: close` it closes, and the capture is cut off
        headers = {"Connection": "close"} if capture.layout == PYWB else None
        return scrapy.Request(capture.capture_url, headers=headers, callback=self.parse_capture,
                              errback=self.capture_failed, meta={
            keys.META_WAYBACK_CAPTURE: capture, keys.META_WAYBACK_FALLBACKS: tuple(fallbacks),
            keys.META_SITE: site, keys.META_DONT_REVALIDATE: True, keys.META_NOT_IN_STATE: True,
            "dont_redirect": True, "handle_httpstatus_all": True})

    def parse_capture(self, response):
        """A capture's `id_` bytes: an item when it is a complete 200 article page, else the next older capture."""
        capture = response.meta[keys.META_WAYBACK_CAPTURE]
        self.crawler.stats.inc_value(keys.STAT_WAYBACK_FETCHED)
        if self.wayback_known is not None:  # taken: the next run does not fetch it again
            from crawler.incremental.state import payload_digest, utc_iso as utc_now

            self.wayback_known.record_fetch(capture.capture_url, utc_now(), response.status,
                                            payload_digest(response.body))
        page = None
        if "dataloss" in response.flags:
            why = "cut_off"
        elif response.status != 200:
            why = f"status_{response.status}"
        elif not isinstance(response, TextResponse):
            why = "not_text"
        else:
            page = response.replace(url=capture.original)
            site = self.site(capture.original)
            why = None if site is not None and route(capture.original, page.text, site) == ARTICLE else "not_article"
        if why is not None:
            yield from self.next_capture(response.meta, why)
            return
        self.crawler.stats.inc_value(keys.STAT_PAGES.format(kind="article"))
        item = self.article_item(page)
        item["captured_at"] = whole_seconds(capture.captured_at)
        item["source"] = self.wayback_host
        yield item

    def capture_failed(self, failure):
        yield from self.next_capture(failure.request.meta, "failed")

    def next_capture(self, meta, why: str):
        stats = self.crawler.stats
        stats.inc_value(keys.STAT_WAYBACK_FALLBACK.format(why=why))
        capture, fallbacks = meta[keys.META_WAYBACK_CAPTURE], meta.get(keys.META_WAYBACK_FALLBACKS) or ()
        if fallbacks:
            yield self.capture_request(fallbacks[0], fallbacks[1:], meta.get(keys.META_SITE))
            return
        if not self.wayback_all:
            stats.inc_value(keys.STAT_WAYBACK_NO_CAPTURE)
            self.logger.warning("wayback: no complete capture of %s (the last tried, %s: %s)", capture.original,
                                capture.timestamp, why)
