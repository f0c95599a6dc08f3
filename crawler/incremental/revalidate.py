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

It also records every page fetch (time, status, payload digest) in the state. It sits
below HTTP compression (580 < 590) so it sees decoded bodies, and below the WARC recorder
(950) so the recorder archives the conditional headers as sent.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

from scrapy.exceptions import IgnoreRequest

from crawler import keys
from crawler.capture.addon import WarcCapture
from crawler.components import addon_of
from crawler.incremental.addon import Incremental
from crawler.incremental.state import payload_digest


def state_key(url: str) -> str:
    """The state row of a request URL: the URL without query and fragment (the item's url)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    def __init__(self, state, stats=None, revalidate: bool = True, crawler=None):
        self.state = state
        self.stats = stats
        self.revalidate = revalidate
        self.crawler = crawler
        self._revisits = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(addon_of(crawler, Incremental).state, crawler.stats, crawler.settings.getbool("STATE_REVALIDATE"),
                   crawler)

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

    def process_request(self, request, spider=None):
        if request.method != "GET" or request.meta.get(keys.META_DONT_REVALIDATE):
            return None
        known = self.state.get(state_key(request.url))
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
        key = state_key(response.url)
        if response.status == 304 and keys.META_STATE_KNOWN in request.meta:
            self.state.record_fetch(key, utc_now(), 304)
            self._inc(keys.STAT_NOT_MODIFIED)
            self._inc(keys.STAT_INCREMENTAL.format(verdict="unchanged"))
            raise IgnoreRequest(f"not modified since the last run: {response.url}")
        if response.status == 200:
            self.state.record_fetch(key, utc_now(), 200, payload_digest(response.body))
        return response
