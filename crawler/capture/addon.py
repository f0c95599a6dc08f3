"""Add-on that switches WARC capture on (WARC_ENABLED): every HTTP exchange archived, byte-exact.

It owns the crawl's capture service (crawler/capture/service.py: the WARC files, the revisit policy
and digest index, every record), which its components reach as `addon_of(crawler, WarcCapture).service`,
and puts in the chain, with their order:
- the byte-exact download handler for http and https (crawler/capture/handler.py);
- the WARC recorder, closest to the network, which times each exchange and hands it to the service
  (downloader middleware 950, crawler/capture/recorder.py);
- the outlinks of each parsed page into its capture metadata record (spider middleware 950,
  crawler/capture/outlinks.py);
- at start-up, the WARC_DIR lock and the recovery of a killed crawl's `.open` files (extension 50,
  crawler/capture/recovery.py), and the disk guard that stops the crawl when a write fails
  (extension 60, crawler/capture/diskguard.py);

and sets the WARC defaults below at add-on priority (the project's settings, a spider and `-s`
override them). WARC_ENABLED=False (set by `-a from_warc`) leaves all of it out.
"""

from __future__ import annotations

from scrapy.exceptions import NotConfigured

from crawler.capture.service import CaptureService
from crawler.components import defaults, register

HANDLER = "crawler.capture.handler.RawCaptureDownloadHandler"

DEFAULTS = {
    #: Directory of the WARC files (created if missing).
    "WARC_DIR": "output/warc",
    #: File name prefix; None = spider name. Files: <prefix>-<UTC ts>-<serial>-<host>.warc.gz
    "WARC_PREFIX": None,
    #: One series of files per site, named for it (the network job sets it: spiders/sites.py)
    "WARC_PREFIX_BY_SITE": False,
    #: Roll over to a new file past this many bytes.
    "WARC_MAX_SIZE": 1_000_000_000,
    #: gzip level of each record (1 = about twice as fast, files about a fifth larger).
    "WARC_COMPRESS_LEVEL": 6,
    #: Operator named in the warcinfo record (person or organisation running the crawl).
    "WARC_OPERATOR": "",
    #: Store a payload already archived (same digest) as a revisit record, within a crawl and
    #: across crawls, using the digest index kept in WARC_DIR (WARC_DIGEST_INDEX).
    "WARC_REVISITS": True,
    #: SQLite file of payload digests already archived; None = <WARC_DIR>/digest-index.sqlite.
    "WARC_DIGEST_INDEX": None,
    #: A metadata record per capture (outlinks, hop path, fetch duration) and the cleaned item as a
    #: JSON record linked to its response (WARC-Refers-To).
    "WARC_METADATA": True,
    #: Recover the `.open` WARC files a killed crawl left in WARC_DIR when a crawl starts (complete
    #: records kept, the partial tail moved to a `.partial` sidecar); WARC_DIR is locked meanwhile.
    "WARC_RECOVER": True,
    #: Stop the crawl cleanly (finish reason warc_write_failed, exit status 74) when a record would
    #: leave less than this free in WARC_DIR, or when a WARC write fails.
    "WARC_MIN_FREE_BYTES": 64 * 1024 * 1024,
    #: Byte-exact capture (crawler/capture/handler.py, pinned to the Scrapy versions it supports);
    #: False: Scrapy's plain HTTP/1.1 handler, records rebuilt and marked "reconstructed".
    "RAWCAPTURE_ENABLED": True,
}


class WarcCapture:
    """Add-on: see the module docstring. `service` is the one capture service its components share."""

    def __init__(self, crawler=None):
        self.crawler = crawler
        self._service = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("WARC_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    @property
    def service(self):
        """The crawl's capture service, made at first use (by then WARC_DIR is locked and recovered:
        crawler/capture/recovery.py), closed when the spider closes."""
        if self._service is None:
            self._service = CaptureService.from_crawler(self.crawler)
        return self._service

    def update_settings(self, settings):
        defaults(settings, DEFAULTS)
        register(settings, "DOWNLOAD_HANDLERS", "http", HANDLER)
        register(settings, "DOWNLOAD_HANDLERS", "https", HANDLER)
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.capture.recorder.WarcRecorderMiddleware", 950)
        register(settings, "SPIDER_MIDDLEWARES", "crawler.capture.outlinks.CaptureMetadataMiddleware", 950)
        register(settings, "EXTENSIONS", "crawler.capture.recovery.WarcRecovery", 50)
        register(settings, "EXTENSIONS", "crawler.capture.diskguard.WarcDiskGuard", 60)
