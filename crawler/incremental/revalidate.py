"""Downloader middleware that turns requests for already exported articles into conditional requests.

With incremental state (STATE_PATH, crawler/incremental/state.py) a request for an article that an
earlier run exported carries If-None-Match / If-Modified-Since from that article's
response. A 304 answer means "unchanged": the WARC recorder (closer to the network)
archives it as a server-not-modified revisit, this middleware counts it and drops the
request, and nothing is extracted or exported. Listing pages and feeds never become
conditional: they are fetched in full every run, so new links are found. With
STATE_REVALIDATE = False known articles are not requested at all.

A 304 must replay as the page it confirms, so the recorder archives it as a revisit naming the
archived response those validators came from (crawler/capture/revisits.py `original_for`). When
the WARC files hold no such response a revisit could refer to (the response was stored with its
chunked framing, or it is not in this WARC_DIR), the article is fetched in full instead, without
validators (stat incremental/unconditional/<reason>); an unchanged one is still not exported again.

It also keeps a run to what is new plus what is due (crawler/incremental/revisit.py): a known URL
that is not due is not requested (stat revisit/not_due), nor a page requisite an earlier run archived;
and after each fetch it asks the revisit policy when the URL falls due again (a listing is changed when
its payload digest is; an article unchanged when answered 304, else the item pipeline decides). A dead link
(answered 404 or 410, or redirected for good: 301, 308) is remembered as such, so that the pages linking to it
do not make every run ask for it again. A front page that is neither the home page nor a feed, links to no
article or archive listing and was the same at two fetches in a row (about, privacy, advertising) is a static
page (kind `static`): it backs off as an unchanged archive listing until it changes or links to an article.

It also records every page fetch (time, status, payload digest) in the state. It sits
below HTTP compression (580 < 590) so it sees decoded bodies, and below the WARC recorder
(950) so the recorder archives the conditional headers as sent.
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit, urlunsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse

from crawler import keys
from crawler.capture.addon import WarcCapture
from crawler.components import addon_of
from crawler.incremental.addon import Incremental
from crawler.incremental.policy import ARCHIVE, ARTICLE, BUDGETED, DEAD, FRONT, STATIC
from crawler.incremental.revisit import url_kind
from crawler.incremental.state import payload_digest, utc_iso as utc_now
from crawler.network.robots import is_robots_request

logger = logging.getLogger(__name__)


def state_key(url: str) -> str:
    """The state row of a request URL: the URL without query and fragment (the item's url)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def conditional_headers(known) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a known exported article ({} when it has no validators)."""
    headers = {}
    if known is not None and known.exported:
        if known.etag:
            headers["If-None-Match"] = known.etag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
    return headers


class RevalidateMiddleware:
    def __init__(self, state, stats=None, revalidate: bool = True, crawler=None, revisits=None):
        self.state = state
        self.stats = stats
        self.revalidate = revalidate
        self.crawler = crawler
        self._revisits = None
        #: this run's revisit plan (crawler/incremental/revisit.py): which known pages are due
        self.plan = revisits
        #: archive listings this run fetched, {key: (kind, known, changed)}: scheduled only when the run
        #: finishes, since the links of a listing fetched by a run that is killed or stopped early were not all
        #: followed (without JOBDIR they are lost with the scheduler's queue): the next run fetches it again
        self._listings: dict[str, tuple] = {}
        #: known articles this run fetched in full, {key: known}: the item pipeline reschedules each as it finds it
        #: (changed or unchanged); those it made no item of are scheduled as unchanged when the run closes. Not at
        #: the response: a run killed -9 before the item was exported would have left a correction unexported and
        #: the article not due for days (7 in the weekly sweep, up to 60 settling); so it stays due for the next run
        self._articles: dict[str, object] = {}

    @classmethod
    def from_crawler(cls, crawler):
        addon = addon_of(crawler, Incremental)
        o = cls(addon.state, crawler.stats, crawler.settings.getbool("STATE_REVALIDATE"), crawler, addon.revisits)
        crawler.signals.connect(o.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        return o

    def spider_closed(self, spider=None, reason=None) -> None:
        """A finished run schedules the archive listings it fetched, and the known articles it fetched in full that the
        item pipeline did not reschedule; any other end leaves them due for the next."""
        listings, self._listings = self._listings, {}
        articles, self._articles = self._articles, {}
        if self.plan is None:
            return
        for key, known in articles.items():  # what the item pipeline did not reschedule: no item, no change seen
            if reason == "finished" and not self.plan.rescheduled(key):  # else (stopped early) it may not have
                self.plan.reschedule(key, ARTICLE, self.state.get(key) or known)  # been scraped: due for the next
        if not listings:
            return
        if reason != "finished":
            logger.info("%d listing pages this run fetched stay due for the next run: it did not finish (%s), so "
                        "their links may not all have been followed", len(listings), reason)
            return
        for key, (kind, known, changed) in listings.items():
            self.plan.reschedule(key, kind, known, changed=changed)

    @property
    def revisits(self):
        """The capture's revisit policy (crawler/capture/revisits.py); None when WARC capture is off: then
        every 304 is just "unchanged"."""
        if self._revisits is None and self.crawler is not None:
            capture = addon_of(self.crawler, WarcCapture)
            self._revisits = capture.service.revisits if capture is not None else False
        return self._revisits or None

    def revisit_impossible(self, request, known) -> str | None:
        """Why a 304 for this request could not be archived as a revisit of its response (or None)."""
        revisits = self.revisits
        if revisits is None:
            return None
        original, why = revisits.original_for(request.url, known.etag, known.last_modified)
        return why if original is None else None

    def _inc(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(key)

    #: answers after which a URL is a dead link (kind `dead`), and the redirects that make its source one
    DEAD_STATUSES = (404, 410)
    MOVED_FOR_GOOD = (301, 308)

    def process_request(self, request, spider=None):
        if request.method != "GET" or request.meta.get(keys.META_NOT_IN_STATE):
            return None
        key = state_key(request.url)
        known = self.state.get(key)
        if request.meta.get(keys.META_REQUISITE) and self.plan is not None:
            if known is not None and not self.plan.allowed(key, known):
                self._inc(keys.STAT_REVISIT.format(event="assets_known"))
                raise IgnoreRequest(f"page requisite archived by an earlier run: {request.url}")
            return None
        if request.meta.get(keys.META_DONT_REVALIDATE):
            return None
        if self.plan is not None and known is not None and not is_robots_request(request):
            # (a host's robots.txt is fetched once by each process's robots middleware, whoever fetched it before:
            # in a shared crawl another worker, started later, may have given its row a due time after this run's)
            if not self.plan.allowed(key, known, planned=bool(request.meta.get(keys.META_PLANNED))):
                self._inc(keys.STAT_REVISIT.format(event="not_due"))
                raise IgnoreRequest(f"known and not due: {request.url}")
        if known is None or not known.exported:
            return None
        if not self.revalidate:
            self._inc(keys.STAT_SKIPPED_KNOWN)
            raise IgnoreRequest(f"already archived (STATE_REVALIDATE off): {request.url}")
        headers = conditional_headers(known)
        if headers and not any(name in request.headers for name in headers):
            why = self.revisit_impossible(request, known)
            if why is not None:
                self._inc(keys.STAT_UNCONDITIONAL.format(reason=why))
                return None
            for name, value in headers.items():
                request.headers[name] = value
            request.meta[keys.META_STATE_KNOWN] = known
            self._inc(keys.STAT_CONDITIONAL)
        return None

    def process_response(self, request, response, spider=None):
        if request.meta.get(keys.META_NOT_IN_STATE):
            return response  # the spider keeps its own facts of this request (the backfill: spiders/wayback.py)
        key = state_key(response.url)
        if response.status == 304 and keys.META_STATE_KNOWN in request.meta:
            known = request.meta[keys.META_STATE_KNOWN]
            self._record_fetch(key, 304)
            self._inc(keys.STAT_NOT_MODIFIED)
            self._inc(keys.STAT_INCREMENTAL.format(verdict="unchanged"))
            if self.plan is not None:
                self._count_revalidated(key, request, known)
                self.plan.reschedule(key, ARTICLE, self.state.get(key) or known)
            raise IgnoreRequest(f"not modified since the last run: {response.url}")
        if response.status in self.DEAD_STATUSES and self.plan is not None and self._article_url(key):
            known = self.state.get(key)
            self._record_fetch(key, response.status)
            self.plan.reschedule(key, DEAD, known)
            return response
        if response.status == 200:
            digest = payload_digest(response.body)
            known = self.state.get(key) if self.plan is not None else None
            self._record_fetch(key, 200, digest)
            if self.plan is not None:
                self._count_revalidated(key, request, known)
                kind = (known.kind if known is not None and known.kind and known.kind != DEAD else
                        url_kind(key, self.crawler.spider if self.crawler else None,
                                 bool(request.meta.get(keys.META_REQUISITE))))
                if kind == ARTICLE:
                    if known is not None and known.exported:
                        # rescheduled by the item pipeline, or when the run closes (an item not made: no change seen)
                        self._articles[key] = known
                else:
                    changed = known is not None and known.payload_digest is not None and known.payload_digest != digest
                    if kind == ARCHIVE:  # an archive listing: once the run finishes (spider_closed)
                        self._listings[key] = (kind, known, changed)
                    else:  # front pages are due at every run anyway, static ones less often; requisites never
                        if kind in (FRONT, STATIC):
                            same = known is not None and known.payload_digest == digest
                            kind = STATIC if same and self._static(key, response) else FRONT
                        self.plan.reschedule(key, kind, known, changed=changed)
        return response

    def response_downloaded(self, response, request, spider=None) -> None:
        """Signal response_downloaded: an article URL redirected for good is a dead link. (The redirect middleware,
        above this one, answers a 301 with a request for its target: process_response never sees it, and the
        duplicate filter may drop that request.)"""
        if self.plan is None or request.method != "GET" or response.status not in self.MOVED_FOR_GOOD:
            return
        key = state_key(request.url)
        location = response.headers.get("Location")
        target = state_key(urljoin(request.url, location.decode("latin-1"))) if location else None
        if target in (None, key) or not self._article_url(key):
            return
        known = self.state.get(key)
        self._record_fetch(key, response.status)
        self.plan.reschedule(key, DEAD, known)

    def _static(self, key: str, response) -> bool:
        """Whether a page may be a static page: an HTML page of a known site, not its home page nor a feed, that links
        to no article and no archive listing (so not a section page: fetching it cannot find an article)."""
        spider = self.crawler.spider if self.crawler else None
        site = spider.site(key) if spider is not None and hasattr(spider, "site") else None
        if site is None or not isinstance(response, HtmlResponse):
            return False
        if key == site.profile.home_url or site.feed_re.match(urlsplit(key).path or "/"):
            return False
        for href in response.xpath("//a/@href").getall():
            link = state_key(urljoin(response.url, href.strip()))
            if url_kind(link, spider) in (ARTICLE, ARCHIVE):
                return False
        return True

    def _record_fetch(self, key: str, status: int, digest: str | None = None) -> None:
        """The fetch into the state (time, status, payload digest), and into the run's plan: not requested again."""
        self.state.record_fetch(key, utc_now(), status, digest)
        if self.plan is not None:
            self.plan.fetched(key)

    def _article_url(self, key: str) -> bool:
        """Only an article's URL becomes a dead link: a front page or listing answered 404 is asked every run."""
        return url_kind(key, self.crawler.spider if self.crawler else None) == ARTICLE

    def _count_revalidated(self, key: str, request, known) -> None:
        """A due row of the plan fetched: this worker's plan's, or another's (META_PLANNED) in a shared crawl."""
        planned = request.meta.get(keys.META_PLANNED) and known is not None and known.kind in BUDGETED
        if key in self.plan.plan.taken or planned:
            self._inc(keys.STAT_REVISIT.format(event="revalidated"))
