"""The generic Space Media Network spider: home page and feeds in, articles and listings routed.

One class serves every site of the network; a site is a SiteProfile (crawler/site/profiles.py).
spiders/sites.py makes one named spider per profile (`scrapy crawl spacedaily`) and the network
job, `scrapy crawl network`, which crawls every profile (or those of `-a sites=spacewar,spacedaily`)
in one job: one frontier, each page and link judged by the profile of its host, each item's
`site` the profile of its URL, Scrapy's politeness per host (crawler/network/politeness.py shares
it between workers). The spider only discovers and routes: article pages become ArticleItems
carrying the decoded page, and the item pipelines extract, clean, validate, de-duplicate and
export them.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse, XmlResponse
from scrapy.utils.response import get_base_url  # honours <base href>, as response.urljoin does

from crawler import __version__, keys
from crawler.articleitem import page_fields, place_record
from crawler.items import ArticleItem
from crawler.config import ConfigError
from crawler.network.addresses import on_domains
from crawler.site.links import FEED_LINKS, PAGE_LINKS, REQUISITE_LINKS, hrefs, route
from crawler.site.profiles import CompiledProfile, SiteProfile, SiteSet, choose
from crawler.site.urls import ARTICLE, FEED, RequestedLinks, host_of, site_links
from spiders.wayback import WaybackMode

logger = logging.getLogger(__name__)


def placeholder_contact(settings) -> bool:
    """A live crawl (not rebuilt from WARC files, its hosts not mapped to a test site by HOST_MAP)
    whose CONTACT_URL is still the placeholder of crawler/settings.py (a host under .invalid)."""
    host = (urlsplit(settings.get("CONTACT_URL") or "").hostname or "").rstrip(".")
    placeholder = host == "invalid" or host.endswith(".invalid")
    return placeholder and not settings.get("FROM_WARC") and not settings.getdict("HOST_MAP")


class NetworkSpider(WaybackMode, scrapy.Spider):
    """Crawl sites of the network: a subclass sets `name` and either `profile` (one site) or none
    (the network job: every profile, or those of `-a sites=`)."""

    profile: SiteProfile | None = None
    #: the spider arguments (-a NAME=VALUE) it reads; `scrapy crawl` refuses any other (crawler/commands/crawl.py)
    arguments = ("from_warc", "sites", "wayback")

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        if not settings.get("USER_AGENT"):
            contact = settings.get("CONTACT_URL") or ""
            settings.set("USER_AGENT", f"spacewar-archiver/{__version__} (+{contact})", priority="spider")
        if not settings.getdict("FEEDS") and settings.get("DEFAULT_FEED"):
            # store_empty off: a run that exports nothing (a failed crawl, an incremental run with
            # nothing new) leaves no empty file in output/items/ for `make dataset` to read
            settings.set("FEEDS", {settings["DEFAULT_FEED"]: {"format": "jsonlines", "store_empty": False}},
                         priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        if kwargs.get("from_warc"):
            # `-a from_warc=PATH`: the FromWarc add-on answers every request from the archive
            # (crawler/offline/replay.py), with the same callbacks and pipelines as a live crawl
            crawler.settings.set("FROM_WARC", kwargs["from_warc"], priority="spider")
        # `-a wayback=BASE`: the backfill from a Wayback-style archive (spiders/wayback.py)
        cls.wayback_settings(crawler, kwargs)
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.follow_archives = s.getbool("FOLLOW_ARCHIVES")
        spider.links_max = s.getint("LINKS_PER_PAGE_MAX")
        spider.requested_links = RequestedLinks()
        spider.site_set = cls.sites_of(kwargs.get("sites"))
        # page requisites (images, stylesheets) on the sites' domains and REQUISITE_DOMAINS; not when
        # rebuilding from WARC files (nothing is fetched then)
        spider.requisite_domains = ([*spider.site_set.domains, *s.getlist("REQUISITE_DOMAINS")]
                                    if s.getbool("REQUISITES") and not s.get("FROM_WARC") else [])
        spider.requisites_seen = set()  # each requisite requested once (most pages share the logo and CSS)
        spider.wayback_setup()
        if placeholder_contact(s):
            logger.warning("CONTACT_URL is the placeholder %s: before crawling a live site, set -s CONTACT_URL=<a page "
                           "about this crawl> (it goes into the User-Agent) and -s WARC_OPERATOR=\"Name <mail>\" (it "
                           "goes into the WARC files), so the site's owners know who crawls them",
                           s.get("CONTACT_URL"))
        return spider

    @classmethod
    def sites_of(cls, names: str | None) -> SiteSet:
        """The sites this spider crawls: its profile, or the network job's choice (`-a sites=`)."""
        if cls.profile is not None:
            if names:
                raise ConfigError(f"-a sites= is for `scrapy crawl network`; spider {cls.name} crawls "
                                  f"{cls.profile.name} only")
            return SiteSet([cls.profile])
        try:
            return SiteSet(choose(names))
        except ValueError as e:
            raise ConfigError(f"-a sites={names}: {e}") from None

    @property
    def allowed_domains(self) -> list[str]:
        if self.wayback:  # the backfill reads the archive only (its guard: crawler/backfill/guard.py)
            return [urlsplit(self.wayback).hostname]
        domains = self.site_set.domains
        return [*domains, *(d for d in getattr(self, "requisite_domains", []) if d not in domains)]

    async def start(self):
        if self.wayback:
            for request in self.wayback_start():
                yield request
            return
        for profile in self.site_set.profiles:
            yield scrapy.Request(profile.home_url, callback=self.parse_page, meta={keys.META_SITE: profile.name})
            yield scrapy.Request(profile.feed_url, callback=self.parse_page, meta={keys.META_SITE: profile.name})

    def site(self, url: str) -> CompiledProfile | None:
        """The crawl's site whose host `url` is on (None: on none of them)."""
        return self.site_set.site_of(url)

    # --- routing -------------------------------------------------------------------
    def parse_page(self, response):
        """Route a fetched page: feed, article or listing."""
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value(keys.STAT_PAGES_SKIPPED.format(reason="not_text"))
            return
        if "dataloss" in response.flags:
            # archived (with WARC-Truncated) but never turned into an item
            self.crawler.stats.inc_value(keys.STAT_PAGES_SKIPPED.format(reason="truncated"))
            self.logger.warning("Truncated response, archived but not extracted: %s", response.url)
            return
        site = self.site(response.url)
        if site is None:  # a start page or redirect that left the crawl's sites
            self.crawler.stats.inc_value(keys.STAT_PAGES_SKIPPED.format(reason="off_site"))
            return
        kind = route(response.url, response.text, site, xml=isinstance(response, XmlResponse))
        if kind == FEED:
            yield from self.parse_feed(response)
        elif kind == ARTICLE:
            yield from self.parse_article(response)
        else:
            yield from self.parse_listing(response)

    def parse_article(self, response):
        """An article page: one item carrying the page for the pipelines, and its on-site links.

        @fixture samples/article-afp.html https://www.spacewar.com/reports/Tokyo_reports_cyber_attack_as_tensions_rise_999.html
        @returns items 1 1
        @returns requests 3
        @scrapes url html site status
        """
        self.crawler.stats.inc_value(keys.STAT_PAGES.format(kind="article"))
        yield self.article_item(response)
        yield from self.requisites(response)
        yield from self.follow_links(response)

    def parse_listing(self, response):
        """A home, section or archive page: links only, no item.

        @fixture samples/home.html https://www.spacewar.com/
        @returns items 0 0
        @returns requests 15
        """
        self.crawler.stats.inc_value(keys.STAT_PAGES.format(kind="listing"))
        yield from self.requisites(response)
        yield from self.follow_links(response)

    def parse_feed(self, response):
        """An RSS/Atom feed: the entries' links, canonicalised (tracking parameters dropped).

        @fixture samples/feed-spacewar.xml https://www.spacewar.com/spacewar.xml
        @returns items 0 0
        @returns requests 15 15
        """
        self.crawler.stats.inc_value(keys.STAT_PAGES.format(kind="feed"))
        response.selector.remove_namespaces()
        yield from self.schedule(response, hrefs(response.selector, FEED_LINKS))

    def article_item(self, response) -> ArticleItem:
        profile = self.site(response.url).profile  # the site of the page's own URL, whoever linked it
        # the same fields `scrapy reprocess` starts an item with (crawler/articleitem.py)
        fields = page_fields(response.url, response.text, response.status, profile)
        capture = response.meta.get(keys.META_CAPTURE)  # crawler/capture/page.py, from the recorder or the replay
        if capture is not None:  # the archived response record's pointer and fetch time
            place_record(fields, capture.pointer, capture.date, capture.captured_at, capture.source)
        return ArticleItem(**fields)

    # --- page requisites -----------------------------------------------------------
    def requisites(self, response):
        """The page's images and stylesheets on the network's hosts, fetched and archived (never parsed)
        so that the archived page replays whole. They go through the same downloader chain as pages
        (robots.txt, politeness, retries, the duplicate filter: each once per crawl); they are an
        embed hop ("E") of the page and not bound by DEPTH_LIMIT (they lead nowhere)."""
        if not self.requisite_domains:
            return
        hop = response.meta.get(keys.META_HOP_PATH, "") + "E"
        site = self.site(response.url)  # the page's: its requisites are archived with it
        site_name = site.profile.name if site is not None else response.meta.get(keys.META_SITE)
        for src in hrefs(response.selector, REQUISITE_LINKS):
            url = response.urljoin(src.strip()).split("#", 1)[0]
            if not url.startswith(("http://", "https://")) or url in self.requisites_seen:
                continue
            self.requisites_seen.add(url)
            if not on_domains(host_of(url), self.requisite_domains):
                self.crawler.stats.inc_value(keys.STAT_REQUISITES_OFF_NETWORK)
                continue
            self.crawler.stats.inc_value(keys.STAT_REQUISITES_REQUESTED)
            yield scrapy.Request(url, callback=self.requisite_archived, priority=1, meta={
                keys.META_REQUISITE: True, keys.META_HOP_PATH: hop, keys.META_DONT_REVALIDATE: True,
                keys.META_SITE: site_name, "depth_reset": True})

    def requisite_archived(self, response):
        """A page requisite was fetched (and archived by the recorder): nothing to parse."""
        return ()

    # --- discovery ---------------------------------------------------------------------
    def follow_links(self, response):
        yield from self.schedule(response, hrefs(response.selector, PAGE_LINKS))

    def schedule(self, response, found):
        """Requests for the on-site links among the hrefs `found`.

        A link this spider already requested at the same or a smaller depth is not requested again:
        the duplicate filter would drop it, after a Request object, the spider middlewares and a
        fingerprint, and on article pages most links are navigation and related headlines seen
        many times (stat links/requested_before). One first requested beyond DEPTH_LIMIT (dropped
        by the depth middleware) is requested again when found nearer. The page's capture metadata
        record still lists every link (keys.META_OUTLINKS, crawler/capture/outlinks.py).

        A page with more than LINKS_PER_PAGE_MAX on-site links (a hostile or broken feed) gets the
        first ones followed and the rest left, with a stat and a warning, so one page cannot
        occupy the reactor for minutes."""
        depth = response.meta.get("depth", 0) + 1
        listed = response.meta.setdefault(keys.META_OUTLINKS, [])
        first_time = self.requested_links.first_time
        again = 0
        links, left = site_links(get_base_url(response), found, self.site_set, self.links_max)
        if left:
            self.crawler.stats.inc_value(keys.STAT_LINKS_BOUNDED)
            self.crawler.stats.inc_value(keys.STAT_LINKS_LEFT, left)
            self.logger.warning("%s has more than LINKS_PER_PAGE_MAX=%d links: the first %d are followed, %d "
                                "hrefs are left (stat %s)", response.url, self.links_max, len(links), left,
                                keys.STAT_LINKS_BOUNDED)
        for url in links:
            site = self.site(url)
            if not self.follow_archives and site.archive_re.match(urlsplit(url).path):
                continue
            listed.append(url)
            if not first_time(url, depth):
                again += 1
                continue
            # url is absolute already
            yield scrapy.Request(url, callback=self.parse_page, meta={keys.META_SITE: site.profile.name})
        if again:
            self.crawler.stats.inc_value(keys.STAT_LINKS_REQUESTED_BEFORE, again)
