"""`-a from_warc=PATH`: the crawl answered from WARC files instead of the network, through the same callbacks and pipelines.

The FromWarc add-on is switched on by FROM_WARC (the spider sets it from `-a from_warc=PATH`:
a WARC file or a directory of them). It installs WarcReplayDownloadHandler for http and https,
writes no WARC files (WARC_ENABLED off), and turns the politeness delays off: nothing goes to the
network and no name is looked up.

The handler answers each request with the archive's best capture of its URL (crawler/warc/archive.py:
the latest whole one), else, when the URL itself is not archived, with the best capture of its page
under another form of its URL (http or https, the bare host or www., tracking parameters: `page_key`,
the key `scrapy reprocess` selects an article's captures by), rebuilt as the live HTTP/1.1 handler
would have built the Response: status, headers in their archived order (connection headers such as
Transfer-Encoding and Content-Length dropped, as Twisted does), body with the transfer-codings
removed but still content-coded, so HttpCompressionMiddleware decodes it as live and
RedirectMiddleware follows archived 3xx records. A cut-short record (WARC-Truncated, or cut by its
bytes), which answers only when the URL has no whole capture, comes back flagged "dataloss", as the
live crawl saw it. Every
response is flagged "from_warc" (the WARC recorder would not archive it again), and
request.meta["warc_capture"] holds the archived record (a PageCapture, crawler/capture/page.py), so
items keep the `warc` pointer (of the record under whatever URL it was archived; the response, and so
the item's `url`, keep the requested URL) and the fetch time of the original capture (a backfill's record: its
capture time, fetch time and archive, crawler/warc/archived.py provenance). A URL that is not archived gets a 404 flagged "from_warc" and
"not_archived".

A replay follows the site's links under the current settings (DEPTH_LIMIT, the link structure), so
it may never request some archived pages. At the close, FromWarc counts the URLs whose best capture
is a 2xx HTML page and that no request asked for (stat warcreplay/not_requested) and, when there are
any, logs a warning that names `scrapy reprocess`, which rebuilds every archived article whatever
the links.
"""

from __future__ import annotations

import ipaddress
import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.responsetypes import responsetypes

from crawler import keys
from crawler.components import addon_of, defaults, register
from crawler.config import ConfigError
from crawler.offline.reprocess.index import selection_key, site_set
from crawler.warc.archive import ArchivedResponse, WarcArchive, archive_files
from crawler.capture.page import PageCapture
from crawler.warc.archived import provenance
from crawler.warc.inputs import EXPECTED, NoInput, kind_of

logger = logging.getLogger(__name__)

FLAG = "from_warc"
FLAG_MISSING = "not_archived"
HANDLER = "crawler.offline.replay.WarcReplayDownloadHandler"

DEFAULTS = {
    #: Use the .cdxj index beside each WARC file when it is up to date (else the file is scanned).
    "FROM_WARC_USE_CDXJ": True,
}

# Hop-by-hop and framing headers: Twisted keeps these out of a live Response's headers.
CONNECTION_HEADERS = frozenset({
    b"connection", b"content-length", b"keep-alive", b"proxy-connection",
    b"te", b"trailer", b"trailers", b"transfer-encoding", b"upgrade",
})


def page_key(url: str) -> str:
    """What the captures of URL's page share, for a replay's lookup: the key reprocess selects an article's captures
    by (crawler/offline/reprocess/index.py `selection_key`), over every site of the network."""
    return selection_key(url, site_set(None))


class FromWarc:
    """Add-on: answer the crawl from the WARC files at FROM_WARC; owns their index (`archive`)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self._archive: WarcArchive | None = None
        #: the pages (WarcArchive.key_of) of every URL a request asked the archive for
        self.requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("FROM_WARC"):
            raise NotConfigured
        o = cls(crawler)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        return o

    def asked(self, url: str) -> None:
        """A request asked the archive for URL (answered or not)."""
        self.requested.add(self.archive.key_of(url))

    def not_requested(self) -> int:
        """Archived 2xx HTML pages (one per URL) that no request of the replay asked for."""
        if self._archive is None:
            return 0
        return sum(1 for key in self._archive.html_pages() if key not in self.requested)

    def spider_closed(self, spider=None, reason=None):
        if self._archive is not None and self._archive.unreadable:
            self.crawler.stats.set_value(keys.STAT_REPLAY_UNREADABLE, len(self._archive.unreadable))
        missed = self.not_requested()
        if self._archive is not None:
            self._archive.close()
        self.crawler.stats.set_value(keys.STAT_REPLAY_NOT_REQUESTED, missed)
        if missed:
            source = self._archive.source if self._archive is not None else self.crawler.settings.get("FROM_WARC")
            logger.warning(
                "from_warc: %d archived pages were never requested (DEPTH_LIMIT=%s and the link structure "
                "decide what a replay reaches): `scrapy reprocess %s -O items.jsonl` rebuilds every archived "
                "article", missed, self.crawler.settings.getint("DEPTH_LIMIT"), source)

    def update_settings(self, settings):
        # a path without WARC files stops the crawl now, as a configuration error: Scrapy would only log the
        # download handler's failure to load and go on without one (every request failing, exit status 69)
        try:
            files = archive_files(str(settings.get("FROM_WARC")))
        except FileNotFoundError as exc:
            raise ConfigError(f"from_warc: {exc}") from None
        # likewise files none of which is an archive (a JSON Lines file given by name, junk named *.warc.gz): the
        # handler's NoInput would only be logged; by their first bytes, as the archive's reader judges them
        refused = []
        for path in files:
            try:
                kind, why = kind_of(path)
            except OSError as exc:
                kind, why = "refused", f"cannot be read ({exc.strerror or exc})"
            if kind != "refused":
                break
            refused.append(f"{path}: {why}")
        else:
            raise ConfigError(f"from_warc: nothing to read: {'; '.join(refused[:3])}{' ...' if len(refused) > 3 else ''}"
                              f"; expected {EXPECTED}, or a directory holding them")
        defaults(settings, DEFAULTS)
        register(settings, "DOWNLOAD_HANDLERS", "http", HANDLER)
        register(settings, "DOWNLOAD_HANDLERS", "https", HANDLER)
        # a rebuild writes no archive and waits for no server (above the project's settings)
        for name, value in (("WARC_ENABLED", False), ("AUTOTHROTTLE_ENABLED", False), ("DOWNLOAD_DELAY", 0)):
            settings.set(name, value, priority="spider")

    @property
    def archive(self) -> WarcArchive:
        """The index of the captures, built once for the http and the https handler."""
        if self._archive is None:
            s, stats = self.crawler.settings, self.crawler.stats
            path = str(s.get("FROM_WARC"))
            try:
                self._archive = WarcArchive.open(path, s.getbool("FROM_WARC_USE_CDXJ"), page_key=page_key)
            except (FileNotFoundError, NoInput) as exc:
                raise ConfigError(f"from_warc: {exc}") from None
            logger.info("Replaying from %s: %d captures in %d WARC files", path, self._archive.size,
                        len(self._archive.files))
            stats.set_value(keys.STAT_REPLAY_FILES, len(self._archive.files))
            stats.set_value(keys.STAT_REPLAY_CAPTURES, self._archive.size)
        return self._archive


def build_response(request, archived: ArchivedResponse | None) -> Response:
    """The Scrapy Response for a request, as the live HTTP/1.1 handler would have built it."""
    if archived is None:
        return Response(request.url, status=404, flags=[FLAG, FLAG_MISSING], request=request)
    grouped: dict[str, list[str]] = {}
    for name, value in archived.headers:
        if name.lower().encode("latin-1") in CONNECTION_HEADERS:
            continue
        grouped.setdefault(name, []).append(value)
    headers = Headers({name: [v.encode("latin-1", "replace") for v in values]
                       for name, values in grouped.items()})
    flags = [FLAG] + (["dataloss"] if archived.truncated else [])
    ip = None
    if archived.ip_address:
        try:
            ip = ipaddress.ip_address(archived.ip_address)
        except ValueError:
            ip = None
    respcls = responsetypes.from_args(headers=headers, url=request.url, body=archived.body)
    return respcls(url=request.url, status=archived.status, headers=headers, body=archived.body,
                   flags=flags, request=request, ip_address=ip, protocol=archived.protocol)


class WarcReplayDownloadHandler:
    """Download handler for http and https that reads the archive at FROM_WARC (see the module docstring)."""

    lazy = False  # index the archive when the crawl starts, not on the first request

    def __init__(self, archive: WarcArchive, stats=None, replay: FromWarc | None = None):
        self.archive = archive
        self.stats = stats
        self.replay = replay

    @classmethod
    def from_crawler(cls, crawler):
        replay = addon_of(crawler, FromWarc)
        if replay is None:
            raise NotConfigured("FROM_WARC is not set")
        return cls(replay.archive, crawler.stats, replay)

    async def download_request(self, request) -> Response:
        if self.replay is not None:
            self.replay.asked(request.url)
        archived = self.archive.response_for(request.url)
        response = build_response(request, archived)
        if archived is None:
            self._inc(keys.STAT_REPLAY_MISSING)
            logger.debug("Not in the archive: %s", request.url)
            request.meta.pop(keys.META_CAPTURE, None)  # no record left over from a redirect hop
        else:
            fetched, captured, source = provenance(archived.date, archived.source_uri, archived.creation_date)
            request.meta[keys.META_CAPTURE] = PageCapture(archived.location, fetched, captured, source)
            self._inc(keys.STAT_REPLAY_RESPONSES)
            if request.callback is not NO_CALLBACK and archived.status < 400:
                self._inc(keys.STAT_REPLAY_PAGES)  # what the exit status counts (crawler/reporting/outcome.py)
            self._inc(keys.STAT_REPLAY_STATUS.format(status=archived.status))
        return response

    async def close(self) -> None:
        pass

    def _inc(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(key)
