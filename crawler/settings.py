"""Scrapy settings for the archival crawler: every knob, its default, and the processing chain.

The chain, in the order data flows (Heritrix-style, read it top to bottom):

  spider request
    -> downloader middlewares (engine side first): offsite 50, robots.txt 100,
       timeouts 350, default headers 400 (Accept-Encoding: gzip, deflate only),
       user agent 500, retry 550, http compression 590, redirect 600,
       cookies 700 (offline public-suffix list), stats 850, http cache 900,
       WARC recorder 950 (closest to the network: sees every exchange as sent and
       received, before redirect/retry/decompression, 3xx/4xx/5xx included)
    -> download handler (HTTP/1.1)
  response
    -> spider routing (spiders/network.py): article / listing / feed
  item
    -> pipelines: extract 100 -> clean 200 -> validate 300 -> de-duplicate 400
       -> export 900 -> feed exporter (JSON Lines)
"""

from crawler import __version__
from crawler.items import EXPORT_FIELDS

BOT_NAME = "spacewar-archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- politeness ---------------------------------------------------------------
#: URL people can visit to learn about this crawler; goes into the User-Agent.
CONTACT_URL = "https://example.invalid/spacewar-archiver"
#: None means "spacewar-archiver/<version> (+CONTACT_URL)", set by the spider.
USER_AGENT = None
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# --- crawl bounds -------------------------------------------------------------
#: Link hops from the start pages (home page and site feed); 0 = unbounded.
DEPTH_LIMIT = 8
#: Stop after this many responses; 0 = unbounded (Scrapy's CloseSpider extension).
CLOSESPIDER_PAGECOUNT = 0
#: Archive pages listed in section pages are followed; set False to crawl only
#: the newest listings and feeds (a quick daily run).
FOLLOW_ARCHIVES = True

# --- what an archival job does not need --------------------------------------
TELNETCONSOLE_ENABLED = False  # opens a port
REMOTE_CONTROL_ENABLED = False  # opens a port and runs code sent to it
COOKIES_ENABLED = True

# --- downloading --------------------------------------------------------------
#: Ask only for codings every replay tool understands.
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate",
}
#: Keep what arrived when a server cuts a response short: it is archived with
#: WARC-Truncated and no item is made from it.
DOWNLOAD_FAIL_ON_DATALOSS = False
DOWNLOAD_TIMEOUT = 60
RETRY_TIMES = 2
#: Resolve host names through HOST_MAP first (e.g. the test replica), then DNS.
TWISTED_DNS_RESOLVER = "crawler.hostmap.HostMapResolver"
#: {"host[:port]": "ip[:port]"}: connect there instead (hosts still sent as named).
HOST_MAP = {}

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "crawler.cookies.OfflineCookiesMiddleware": 700,
    "crawler.warcrecorder.WarcRecorderMiddleware": 950,
}

# --- WARC ---------------------------------------------------------------------
#: Directory of the WARC files (created if missing).
WARC_DIR = "output/warc"
#: File name prefix; None = spider name. Files: <prefix>-<UTC ts>-<serial>-<host>.warc.gz
WARC_PREFIX = None
#: Roll over to a new file past this many bytes.
WARC_MAX_SIZE = 1_000_000_000
#: Operator named in the warcinfo record (person or organisation running the crawl).
WARC_OPERATOR = ""
#: Write the WARC files at all (off when rebuilding items from an archive).
WARC_ENABLED = True
#: Package the crawl's WARC files as a WACZ file when the crawl ends (crawler/wacz.py)...
WACZ = False
#: ...at this path (None: <WARC_DIR>/../<spider>-<UTC timestamp>.wacz).
WACZ_PATH = None
#: Store a payload already archived (same digest) as a revisit record, within a crawl and
#: across crawls, using the digest index kept in WARC_DIR (WARC_DIGEST_INDEX).
WARC_REVISITS = True
#: SQLite file of payload digests already archived; None = <WARC_DIR>/digest-index.sqlite.
WARC_DIGEST_INDEX = None
#: Write a metadata record per capture (outlinks, hop path, fetch duration) and the cleaned
#: item as a JSON record linked to its response (WARC-Refers-To).
WARC_METADATA = True

SPIDER_MIDDLEWARES = {
    # outlinks and hop path into each page's WARC metadata record
    "crawler.capturemeta.CaptureMetadataMiddleware": 950,
}

#: `scrapy check spacewar` runs the callbacks on fixture pages (no network).
SPIDER_CONTRACTS = {"crawler.contracts.FixtureContract": 10}

# --- items --------------------------------------------------------------------
ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.validate.ValidatePipeline": 300,
    "pipelines.dedupe.DedupePipeline": 400,
    "pipelines.export.ExportPipeline": 900,
}
#: Warn when more than this share of article pages needed the generic extractor
#: (a sign the site's layout changed)...
FALLBACK_WARN_RATIO = 0.2
#: ...once at least this many article pages were seen.
FALLBACK_WARN_MIN_PAGES = 5

# --- output -------------------------------------------------------------------
#: JSON Lines output used when no FEEDS and no -o/-O are given: one dated file per run.
DEFAULT_FEED = "output/items/%(name)s-%(time)s.jsonl"
FEEDS = {}
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = list(EXPORT_FIELDS)

LOG_LEVEL = "INFO"
SOFTWARE = f"spacewar-archiver/{__version__}"

# --- operator's view ----------------------------------------------------------
EXTENSIONS = {
    # one progress line every PROGRESS_INTERVAL seconds
    "crawler.progress.ProgressLog": 500,
    # Markdown + HTML run report next to the outputs at the end of the crawl
    "crawler.runreport.RunReport": 510,
    # final stats as JSON when STATS_FILE is set
    "crawler.statsfile.StatsFile": 520,
    # WACZ package of the crawl when WACZ=True
    "crawler.wacz.WaczPackager": 600,
}
#: Write the final crawl stats as JSON here (None: don't).
STATS_FILE = None
#: Seconds between progress lines; 0 turns them off.
PROGRESS_INTERVAL = 60
#: Directory of the run reports; None = next to the WARC files (WARC_DIR/..).
REPORT_DIR = None
