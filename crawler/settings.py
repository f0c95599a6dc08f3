"""Scrapy settings of the archival crawler: the whole processing chain, read top to bottom, and the crawl's knobs.

The chain in the order data flows (docs/architecture.md has the picture):

  spider request (spiders/network.py)
    -> downloader middlewares, engine side first:
       offsite 50 -> address policy 60 -> robots.txt 100 -> timeouts 350
       -> default headers 400 (Accept-Encoding: gzip, deflate only) -> user agent 500
       -> retry with backoff 550 -> [revalidation 580: STATE_PATH] -> http compression 590
       -> redirect 600 -> offline cookies 700 -> stats 850 -> http cache 900
       -> [the host's shared politeness slot 940: REDIS_URL; or the slot keyed by address: POLITE_KEY=ip]
       -> WARC recorder 950 (closest to the network: every exchange as sent and received,
          3xx/4xx/5xx included, body as received)
    -> download handler: byte-exact HTTP/1.1 capture (or, with -a from_warc, the archive)
  response
    -> spider middlewares: ... -> outlinks into the capture metadata record 950
    -> spider routing: article / listing / feed; links canonicalised and scheduled
  item
    -> pipelines: extract 100 (the item carries its WARC record's pointer from the spider) -> validate 300
       -> de-duplicate 400 -> [exported before 450: JOBDIR] -> [incremental 800: STATE_PATH]
       -> [shared export 850: REDIS_URL] -> export 900 -> feed exporter (JSON Lines)
  end of the crawl
    -> extensions: outcome 505 (exit status) -> [WACZ 508: WACZ] -> report 510 (shows the WACZ)
       -> stats file 520

Each feature is one add-on (ADDONS below), which puts its components into these chains with
their order and sets its own defaults (at "addon" priority: everything here, a spider's settings
and `-s` override them). A feature that is switched off puts nothing in the chain and imports
nothing it needs.
"""

from crawler.extract.stream import LOOKAHEAD as _LOOKAHEAD
from crawler.extract.stream import WARMUP as _WARMUP
from crawler.items import EXPORT_FIELDS

BOT_NAME = "spacewar-archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
#: `scrapy crawl` with an exit status a scheduler can act on (crawler/reporting/outcome.py)
COMMANDS_MODULE = "crawler.commands"

# --- the features, in the order of the data flow -----------------------------------------------
ADDONS = {
    # where requests may go and how failures are retried (crawler/network/addon.py)
    "crawler.network.addon.NetworkPolicy": 100,
    # WAYBACK (-a wayback): the backfill from a Wayback-style archive, its guard (crawler/backfill/addon.py)
    "crawler.backfill.addon.WaybackBackfill": 120,
    # REDIS_URL: per-host politeness shared by the workers; POLITE_KEY=ip: per server address
    # (crawler/network/politeness.py)
    "crawler.network.politeness.HostPoliteness": 150,
    # REDIS_URL: one frontier shared by N workers (crawler/frontier/addon.py)
    "crawler.frontier.addon.RedisFrontier": 200,
    # JOBDIR: every request and export journaled, kill -9 loses nothing (crawler/journal/addon.py)
    "crawler.journal.addon.CrashSafeJob": 300,
    # STATE_PATH: conditional requests for known articles, unchanged ones not exported (crawler/incremental/addon.py)
    "crawler.incremental.addon.Incremental": 400,
    # FROM_WARC (-a from_warc): the crawl answered from WARC files, nothing archived (crawler/offline/replay.py)
    "crawler.offline.replay.FromWarc": 450,
    # WARC_ENABLED: every exchange archived byte-exact (crawler/capture/addon.py)
    "crawler.capture.addon.WarcCapture": 500,
    # WACZ: the crawl's WARC files packaged as a WACZ at the end (crawler/offline/wacz.py)
    "crawler.offline.wacz.WaczPackage": 900,
}

#: Switches of the features above (their other settings are in their add-on's module).
WARC_ENABLED = True
#: Package the crawl's WARC files as a WACZ file when the crawl ends.
WACZ = False
#: Incremental crawls: where the crawl state lives (URL, fetch time, payload digest, ETag,
#: Last-Modified, exported item digest). A file path is a SQLite database; "redis" (the server
#: of REDIS_URL) or a redis:// URL shares the state between distributed workers. None: every
#: run exports everything it finds.
STATE_PATH = None
#: With STATE_PATH, the revisit policy (crawler/incremental/policy.py; docs/scheduling.md has the table):
#: a run fetches what is new plus what is due. REVISIT_BUDGET: at most this many due archive
#: listings and articles per run, those due every run first, then oldest-due first (the rest waits;
#: stat revisit/left_due); 0: no limit.
REVISIT_BUDGET = 1000
#: Front pages (home, sections, feeds): days between fetches (0: every run).
REVISIT_FRONT_DAYS = 0
#: Archive listings, adaptive: first seen, due within this many days (spread by URL); a change found
#: makes them due every run, no change doubles (GROWTH) the interval, from MIN up to MAX days.
REVISIT_ARCHIVE_START_DAYS = 30
REVISIT_ARCHIVE_MIN_DAYS = 1
REVISIT_ARCHIVE_MAX_DAYS = 90
REVISIT_ARCHIVE_GROWTH = 2
#: Articles: every run while younger than YOUNG days (age from the article's date or its last change
#: found), then every age x FACTOR days (2: looked at again at 9, 27, 81 days, then every MAX), at least MIN and at most MAX days.
#: The targets ask nothing of articles between YOUNG days and a year, and corrections to them are rare: 2 and 60 make a
#: daily run about 30 requests cheaper at 3,000 articles than 1 and 30 (bench/RESULTS.md, issue 23). The sweep: an article older
#: than OLD days (by its own date; undated: old when a first run found it, else dated from the run that did) is due at least once every SWEEP days (a whole number;
#: 0: no sweep): each run takes its exact share of them, least recently looked at first.
REVISIT_ARTICLE_YOUNG_DAYS = 3
REVISIT_ARTICLE_FACTOR = 2
REVISIT_ARTICLE_MIN_DAYS = 1
REVISIT_ARTICLE_MAX_DAYS = 60
REVISIT_ARTICLE_OLD_DAYS = 365
REVISIT_ARTICLE_SWEEP_DAYS = 7
#: Dead links (an article URL answered 404 or 410, or redirected for good): asked again after a day, then
#: after twice as long each time they are still dead, up to this many days.
REVISIT_DEAD_DAYS = 30
#: True: every known URL is due at every run (page requisites included, REVISIT_BUDGET not applied),
#: as before the policy.
REVISIT_EVERY_RUN = False
#: Distributed mode: redis://host:port/db of the shared frontier (WORKER_ID, CRAWL_ID and the
#: other settings of the mode: crawler/frontier/addon.py). None: one process.
REDIS_URL = None
#: Rebuild items from these WARC files instead of the network (`-a from_warc=PATH` sets it).
FROM_WARC = None
#: Backfill from this Wayback-style archive (its root URL) instead of the live site (`-a wayback=BASE`
#: sets it; docs/wayback.md). Its other settings (WAYBACK_FROM, ...): crawler/backfill/addon.py.
WAYBACK = None
#: Distributed mode: the per-host politeness below (delay, AutoThrottle, requests in flight per
#: host, 429/503 backoff) holds for all workers together, through one slot per host in Redis
#: (crawler/network/politeness.py). False: each worker is polite on its own, and N workers put N
#: times the load on a host.
SHARED_POLITENESS = True

# --- politeness ---------------------------------------------------------------------------------
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

# --- crawl bounds -------------------------------------------------------------------------------
#: Link hops from the start pages (home page and site feed); 0 = unbounded.
DEPTH_LIMIT = 8
#: Stop after this many responses; 0 = unbounded (Scrapy's CloseSpider extension).
CLOSESPIDER_PAGECOUNT = 0
#: Archive pages listed in section pages are followed; set False to crawl only the newest
#: listings and feeds (a quick daily run).
FOLLOW_ARCHIVES = True
#: On-site links followed per page at most (a hostile or broken feed of 100,000 items would hold
#: the reactor for seconds); past it the rest are left, with the stat links/bounded and a warning.
LINKS_PER_PAGE_MAX = 5000
#: Page requisites: fetch and archive the images and stylesheets of every article and listing page
#: (as Heritrix, wget -p and browsertrix do), so that the archive replays pages whole and holds
#: the images the items list. Only on the site's own domain and REQUISITE_DOMAINS, through the same
#: robots.txt and politeness rules as pages; they never become items.
REQUISITES = True
#: Domains (and their subdomains) besides the site's own whose requisites are fetched: the Space
#: Media Network's image host.
REQUISITE_DOMAINS = ["spxdaily.com"]

# --- what an archival job does not need ---------------------------------------------------------
TELNETCONSOLE_ENABLED = False  # opens a port
REMOTE_CONTROL_ENABLED = False  # opens a port and runs code sent to it
COOKIES_ENABLED = True

# --- downloading --------------------------------------------------------------------------------
#: Ask only for codings every replay tool understands.
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate",
}
#: Keep what arrived when a server cuts a response short: it is archived with WARC-Truncated and
#: no item is made from it.
DOWNLOAD_FAIL_ON_DATALOSS = False
DOWNLOAD_TIMEOUT = 60
RETRY_TIMES = 2
#: A response (or its decompressed body: a gzip bomb) larger than this is dropped, counted and
#: logged; Scrapy's default is 1 GiB. Warn from DOWNLOAD_WARNSIZE up.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
#: Resolve host names through HOST_MAP first (e.g. the test replica), then DNS. Both are read by
#: the crawler process when the reactor starts, so they live here, not in an add-on.
TWISTED_DNS_RESOLVER = "crawler.network.hostmap.HostMapResolver"
#: {"host[:port]": "ip[:port]"}: connect there instead (hosts still sent as named).
HOST_MAP = {}

# --- items --------------------------------------------------------------------------------------
ITEM_PIPELINES = {
    # page in, cleaned article out
    "pipelines.extract.ExtractPipeline": 100,
    # the item JSON Schema (crawler/schema/item.schema.json)
    "pipelines.validate.ValidatePipeline": 300,
    # one item per canonical URL per crawl
    "pipelines.dedupe.DedupePipeline": 400,
    # story_group: syndicated copies of one story linked across sites and runs
    "pipelines.storygroup.StoryGroupPipeline": 600,
    # exactly the exported fields
    "pipelines.export.ExportPipeline": 900,
}
#: Learn each site's boilerplate (blocks that recur across its article pages) as pages arrive, and
#: let the cleaning use it (docs/cleaning.md). False: structure and the site rules alone decide,
#: nothing is learned, loaded, saved or held back.
CLEANING_LEARN = True
#: The learned templates' JSON file, loaded at start and saved at the end (and every few hundred
#: pages). None: boilerplate.json in WARC_DIR; with -a from_warc, boilerplate.json beside those WARC
#: files, read only.
BOILERPLATE_FILE = None
#: An article page is judged once this many later pages were counted in the template (a bounded
#: look-ahead: a template line new on a page has been seen on the next ones by then); the items
#: wait meanwhile, holding at most half of SCRAPER_SLOT_MAX_ACTIVE_SIZE of pages. 0: on arrival.
CLEANING_LOOKAHEAD = _LOOKAHEAD
#: ...and not before its site's learned template has counted this many pages (a first crawl's first pages
#: wait for the evidence of a warm-up; a template loaded from earlier crawls has it): items wait meanwhile,
#: within the same bound of SCRAPER_SLOT_MAX_ACTIVE_SIZE. 0: the look-ahead alone (CLEANING_LOOKAHEAD=0 turns
#: both off: judged on arrival).
CLEANING_WARMUP = _WARMUP
#: ...or once no article page arrived for a while: eight of the crawl's usual gaps between two
#: pages, at most this many seconds (the end of the crawl).
CLEANING_LOOKAHEAD_IDLE = 3.0
#: Log every block the cleaning removes, with its signal and reason, at INFO (`scrapy explain URL`
#: shows the same for one page).
CLEANING_DEBUG = False
#: Warn when more than this share of article pages needed the generic extractor (a sign the
#: site's layout changed)...
FALLBACK_WARN_RATIO = 0.2
#: ...once at least this many article pages were seen.
FALLBACK_WARN_MIN_PAGES = 5

# --- output -------------------------------------------------------------------------------------
#: JSON Lines output used when no FEEDS and no -o/-O are given: one dated file per run.
DEFAULT_FEED = "output/items/%(name)s-%(time)s.jsonl"
FEEDS = {}
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = list(EXPORT_FIELDS)
#: A local feed file is opened (and with -O replaced) at its first write, and a failed write stops
#: the crawl with exit status 74 (crawler/journal/feedfile.py).
FEED_STORAGES = {
    "": "crawler.journal.feedfile.LazyFileFeedStorage",
    "file": "crawler.journal.feedfile.LazyFileFeedStorage",
}
#: Each JSON line reaches the OS when exported; with JOBDIR each export is journaled too.
FEED_EXPORTERS = {
    "jsonlines": "crawler.journal.exporter.JsonLinesFlushingExporter",
    "jsonl": "crawler.journal.exporter.JsonLinesFlushingExporter",
}
LOG_LEVEL = "INFO"
#: A dropped item is one log line naming why, at the level its pipeline chose (expected drops such as
#: unchanged articles at DEBUG), never the whole item (crawler/reporting/logformatter.py).
LOG_FORMATTER = "crawler.reporting.logformatter.OneLineLogFormatter"

#: `scrapy check spacewar` runs the callbacks on fixture pages (no network).
SPIDER_CONTRACTS = {"spiders.contracts.FixtureContract": 10}

# --- the operator's view ------------------------------------------------------------------------
EXTENSIONS = {
    # one progress line every PROGRESS_INTERVAL seconds
    "crawler.reporting.progress.ProgressLog": 500,
    # the exit status and the last log line, decided before the report and the stats file are
    # written, so both show it
    "crawler.reporting.outcome.CrawlOutcome": 505,
    # Markdown + HTML run report next to the outputs at the end of the crawl
    "crawler.reporting.runreport.RunReport": 510,
    # final stats as JSON when STATS_FILE is set
    "crawler.reporting.statsfile.StatsFile": 520,
    # libraries' log lines below LOG_LEVEL are not even built (charset_normalizer's, ~100 a page it guesses)
    "crawler.reporting.liblogs.QuietLibraries": 530,
    # GC_FREEZE: what start-up built is left out of the garbage collector's walks
    "crawler.gcfreeze.FreezeStartup": 600,
}
#: Once the engine has started, move every object alive (modules, rules, components: they live as long
#: as the crawl) out of the cyclic garbage collector's generations (gc.freeze), so that its collections
#: during the crawl walk only the crawl's own objects (crawler/gcfreeze.py; bench/RESULTS.md, issue 22).
GC_FREEZE = True
#: Write the final crawl stats as JSON here (None: don't).
STATS_FILE = None
#: Seconds between progress lines; 0 turns them off.
PROGRESS_INTERVAL = 60
#: Directory of the run reports; None = beside the WARC directory (WARC_DIR/..), or WARC_DIR itself
#: when its parent is the directory the crawl runs in (`-s WARC_DIR=warc/` from the checkout).
REPORT_DIR = None
