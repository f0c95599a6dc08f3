"""Scrapy settings for the archival crawler: every knob, its default, and the processing chain.

The chain, in the order data flows (Heritrix-style, read it top to bottom):

  spider request
    -> downloader middlewares (engine side first): offsite 50, robots.txt 100,
       timeouts 350, default headers 400 (Accept-Encoding: gzip, deflate only),
       user agent 500, retry 550, http compression 590, redirect 600,
       cookies 700 (offline public-suffix list), stats 850, http cache 900,
       WARC recorder 950 (closest to the network: sees every exchange as sent and
       received, before redirect/retry/decompression, 3xx/4xx/5xx included; the
       records are compressed and written by the WARC writer process)
    -> download handler (HTTP/1.1)
  response
    -> spider routing (spiders/network.py): article / listing / feed
  item
    -> pipelines: extract 100 -> clean 200 -> validate 300 -> de-duplicate 400
       -> export 900 -> feed exporter (JSON Lines)
"""

from crawler.items import EXPORT_FIELDS

BOT_NAME = "spacewar-archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
#: `scrapy crawl` with an exit status a scheduler can act on (crawler/reporting/outcome.py)
COMMANDS_MODULE = "crawler.commands"

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

#: Byte-exact capture: the HTTP/1.1 handler subclass in crawler/rawcapture.py keeps the bytes
#: sent and received for the WARC recorder (supported Scrapy versions are pinned there; on any
#: other version it turns itself off loudly and records are rebuilt and marked "reconstructed").
DOWNLOAD_HANDLERS = {
    "http": "crawler.rawcapture.RawCaptureDownloadHandler",
    "https": "crawler.rawcapture.RawCaptureDownloadHandler",
}
#: False: plain Scrapy handler behaviour, reconstructed WARC records.
RAWCAPTURE_ENABLED = True

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
#: gzip level of each record (1 = about twice as fast, files about a fifth larger).
WARC_COMPRESS_LEVEL = 6
#: Operator named in the warcinfo record (person or organisation running the crawl).
WARC_OPERATOR = ""
#: Write the WARC files at all (off when rebuilding items from an archive).
WARC_ENABLED = True
#: Package the crawl's WARC files as a WACZ file when the crawl ends (crawler/wacz.py)...
WACZ = False
#: ...at this path (None: <WARC_DIR>/../<spider>-<UTC timestamp>.wacz)...
WACZ_PATH = None
#: ...and check it with `wacz validate`.
WACZ_VALIDATE = True
#: Rebuild items from these WARC files instead of the network (`-a from_warc=PATH` sets it).
FROM_WARC = None
#: Use the .cdxj index beside each WARC file when it is up to date (else the file is scanned).
FROM_WARC_USE_CDXJ = True
#: Store a payload already archived (same digest) as a revisit record, within a crawl and
#: across crawls, using the digest index kept in WARC_DIR (WARC_DIGEST_INDEX).
WARC_REVISITS = True
#: SQLite file of payload digests already archived; None = <WARC_DIR>/digest-index.sqlite.
WARC_DIGEST_INDEX = None
#: Write a metadata record per capture (outlinks, hop path, fetch duration) and the cleaned
#: item as a JSON record linked to its response (WARC-Refers-To).
WARC_METADATA = True
#: Compress and write the WARC records in a process of their own beside the crawl
#: (crawler/warcwriter.py); items wait for their record to be on disk. None: on when the crawl
#: may use more than one CPU; False writes in the crawl process.
WARC_WRITER_PROCESS = None

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
#: Worker processes that extract and clean article pages beside the crawl (crawler/pageworkers.py),
#: so the reactor's one core is left to downloading and link discovery. None: 1 when the crawl
#: may use more than one CPU, else 0; 0 extracts in the crawl process.
EXTRACT_WORKERS = None
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

# --- operator's view ----------------------------------------------------------
EXTENSIONS = {
    # the exit status and the last log line (crawler/reporting/outcome.py), decided before the
    # report and the stats file are written, so both show it
    "crawler.reporting.outcome.CrawlOutcome": 505,
    # one progress line every PROGRESS_INTERVAL seconds
    "crawler.progress.ProgressLog": 500,
    # Markdown + HTML run report next to the outputs at the end of the crawl
    "crawler.runreport.RunReport": 510,
    # final stats as JSON when STATS_FILE is set
    "crawler.statsfile.StatsFile": 520,
    # WACZ package of the crawl when WACZ=True (before StatsFile, so its stats are in the file)
    "crawler.wacz.WaczPackager": 515,
}
#: Write the final crawl stats as JSON here (None: don't).
STATS_FILE = None
#: Seconds between progress lines; 0 turns them off.
PROGRESS_INTERVAL = 60
#: Directory of the run reports; None = next to the WARC files (WARC_DIR/..).
REPORT_DIR = None

# --- incremental state and distributed mode (crawler/state.py, crawler/frontier/) ---
#: Incremental crawls: where the crawl state lives (URL, fetch time, payload digest, ETag,
#: Last-Modified, exported item digest). A file path is a SQLite database; "redis" (the server
#: of REDIS_URL) or a redis:// URL shares the state between distributed workers. None: every
#: run exports everything it finds (the incremental components are off).
STATE_PATH = None
#: Revalidate articles exported by earlier runs with conditional requests (If-None-Match /
#: If-Modified-Since; a 304 is archived as a server-not-modified revisit and counted unchanged).
#: False: do not request known articles at all (listings and feeds are always fetched).
STATE_REVALIDATE = True
#: Redis hash of the state when STATE_PATH is "redis" or a redis:// URL.
STATE_REDIS_KEY = "%(spider)s:state"
#: Distributed mode: redis://host:port/db of the shared frontier (scrapy-redis scheduler and
#: dupefilter). None: one process, Scrapy's own scheduler.
REDIS_URL = None
#: This worker's name in WARC file names (WARC_PREFIX <spider>-<worker> when unset), in the
#: default JSONL name and in the frontier's worker set; None = <hostname>-<pid>.
WORKER_ID = None
#: Name of one distributed crawl: workers with the same CRAWL_ID share a frontier. Give each
#: scheduled run its own (e.g. the date) so a left-over frontier never swallows a new run.
CRAWL_ID = None
#: A worker stops once the shared request queue has stayed empty this many seconds.
FRONTIER_IDLE_TIMEOUT = 30
#: Keep the shared queue, seen-set and exported-set when the last worker leaves (to resume).
FRONTIER_KEEP = False

# conditional requests for known articles, fetch facts into the state: below HTTP
# compression (590) to see decoded bodies, below the WARC recorder (950) so it archives them
DOWNLOADER_MIDDLEWARES["crawler.revalidate.RevalidateMiddleware"] = 580
# drop articles unchanged since the last run (after de-duplication, before export)
ITEM_PIPELINES["pipelines.incremental.IncrementalPipeline"] = 800
# distributed mode switch (REDIS_URL): scheduler, dupefilter, Redis keys, worker file names, the
# idle-stop extension and the shared-export stage (crawler/frontier/addon.py)
ADDONS = {"crawler.frontier.addon.RedisFrontier": 0}

# --- crash safety (crawler/recovery.py, crawler/inflight.py, crawler/safety.py) ---
#: Recover the `.open` WARC files a killed crawl left in WARC_DIR when a crawl starts (complete
#: records kept, the partial tail moved to a `.partial` sidecar); WARC_DIR is locked meanwhile.
WARC_RECOVER = True
#: With JOBDIR: fsync the request and export journals at most this often (seconds; 0 = every
#: append). Appends reach the OS at once, so a killed process loses nothing either way.
INFLIGHT_FSYNC_INTERVAL = 1.0
#: Crawl hosts that are or resolve to loopback/private/link-local/reserved addresses (hosts
#: named in HOST_MAP are always allowed). See docs/crash-safety.md, "Address policy".
ALLOW_PRIVATE_ADDRESSES = False

# JOBDIR survives kill -9: every accepted request journaled until the engine is done with it
SCHEDULER = "crawler.inflight.JournalingScheduler"
# each JSON line reaches the OS when exported; with JOBDIR the exported URLs are journaled
FEED_EXPORTERS = {
    "jsonlines": "crawler.inflight.JsonLinesFlushingExporter",
    "jsonl": "crawler.inflight.JsonLinesFlushingExporter",
}
# after Scrapy's offsite check (50), before robots.txt (100): no request to private addresses
DOWNLOADER_MIDDLEWARES["crawler.safety.PrivateAddressMiddleware"] = 60
# resuming a JOBDIR: drop articles an earlier run already exported (after de-duplication)
ITEM_PIPELINES["crawler.inflight.ExportedBeforePipeline"] = 450
# recover .open WARC files at start-up, before the recorder opens its first file
EXTENSIONS["crawler.recovery.WarcRecovery"] = 50
# retries wait: Retry-After on 429/503 (at most RETRY_AFTER_MAX s), else exponential backoff
DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.retry.RetryMiddleware"] = None
DOWNLOADER_MIDDLEWARES["crawler.backoff.BackoffRetryMiddleware"] = 550
#: Seconds before the first retry, doubled at each further one, at most RETRY_BACKOFF_MAX.
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0
#: Longest Retry-After honoured; a server asking for more gets the request given up.
RETRY_AFTER_MAX = 120.0
#: A response (or its decompressed body: a gzip bomb) larger than this is dropped, counted and
#: logged; Scrapy's default is 1 GiB. Warn from DOWNLOAD_WARNSIZE up.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
#: Stop the crawl cleanly (finish reason warc_write_failed) when WARC_DIR has less free space
#: than this before a record, or when a WARC write fails (crawler/diskguard.py).
WARC_MIN_FREE_BYTES = 64 * 1024 * 1024
EXTENSIONS["crawler.diskguard.WarcDiskGuard"] = 60
