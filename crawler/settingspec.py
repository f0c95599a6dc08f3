"""Every setting the project documents, declared once with its type, its range or choices and one line of help; and the start-up check of their values.

crawler/keys.py names the meta and stats keys; this module does the same for the settings: ours,
and Scrapy's own that the project documents (delays, concurrency, AutoThrottle, the
CLOSESPIDER_* bounds, DEPTH_LIMIT, LOG_FILE, ...). Their defaults stay where they are
(crawler/settings.py and the DEFAULTS of each add-on); here is what a value may be.

`scrapy crawl` checks every declared setting before it creates the crawl (crawler/commands/crawl.py):
a bad value stops it with exit status 78 and one line naming the setting, the value and what is
allowed, e.g.

    Configuration error: WARC_COMPRESS_LEVEL=12: allowed: a whole number from 0 to 9 (exit status 78)

A size is a whole number of bytes (WARC_MAX_SIZE=1000000000); units such as "1GB" are refused on
purpose, so that the number the operator typed is the number the crawl uses. docs/reference.md
lists every declaration (`python -m crawler.keys > docs/reference.md`; tests/unit/test_keys.py
checks that the page and this table agree). To add, change or drop a setting, edit its one line
in SETTINGS below.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

BOOL = "bool"
INT = "int"
FLOAT = "float"
TEXT = "text"
PATH = "path"
CHOICE = "choice"
OBJECT = "JSON object"
LIST = "list"
URL = "URL"

_TRUE_FALSE = {True, False, 0, 1, "0", "1", "True", "False", "true", "false"}  # Scrapy's getbool
_UNSET = (None, "", "None")  # what helper settings read as "decide for me" (crawler/workers/link.py)


@dataclass(frozen=True)
class Setting:
    """One setting: its type, its bounds or choices, whether None (unset) is allowed, one line of help."""

    name: str
    kind: str
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False  # None (or "" / "None" from -s) means "unset", with the meaning in `help`
    schemes: tuple[str, ...] = ()  # URL: the schemes allowed
    check: Callable[[object], None] | None = None  # a further check; raises ValueError with what is wrong

    def allowed(self) -> str:
        """What a value may be, in words (the error line and docs/reference.md)."""
        if self.kind == BOOL:
            text = "True or False"
        elif self.kind in (INT, FLOAT):
            what = "a whole number" if self.kind == INT else "a number"
            if self.low is not None and self.high is not None:
                text = f"{what} from {_num(self.low)} to {_num(self.high)}"
            elif self.low is not None:
                text = f"{what} of at least {_num(self.low)}"
            else:
                text = what
        elif self.kind == CHOICE:
            text = "one of " + ", ".join(self.choices)
        elif self.kind == OBJECT:
            text = "a JSON object" + (f" ({self.check.__doc__.strip()})" if self.check and self.check.__doc__ else "")
        elif self.kind == LIST:
            text = "a list (comma-separated, or a JSON list)"
        elif self.kind == URL:
            text = "a URL starting " + " or ".join(f"{s}://" for s in self.schemes)
        elif self.kind == PATH:
            text = "a path"
        elif self.check and self.check.__doc__:
            text = self.check.__doc__.strip()
        else:
            text = "text"
        return text + (" (unset: None)" if self.optional else "")

    def problem(self, value) -> str | None:
        """None when `value` is allowed, else what is wrong with it (for the error line)."""
        if value is None or (self.optional and isinstance(value, str) and value in _UNSET):
            return None  # unset: the default applies (an add-on's DEFAULTS come later than this check)
        try:
            self._parse(value)
        except (TypeError, ValueError) as exc:
            detail = f" ({exc})" if str(exc) else ""
            return f"{self.name}={_shown(value)}: allowed: {self.allowed()}{detail}"
        return None

    def _parse(self, value):
        if self.kind == BOOL:
            if isinstance(value, (bool, int, str)) and value in _TRUE_FALSE and not isinstance(value, float):
                return
            raise ValueError("")
        if self.kind in (INT, FLOAT):
            number = _number(value, whole=self.kind == INT)
            if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
                raise ValueError("")
            return
        if self.kind == CHOICE:
            if value not in self.choices:
                raise ValueError("")
            return
        if self.kind == OBJECT:
            try:
                parsed = json.loads(value) if isinstance(value, str) else value
            except ValueError as exc:
                raise ValueError(f"not JSON: {exc}") from None
            if isinstance(parsed, Mapping):
                parsed = dict(parsed)
            if not isinstance(parsed, dict):
                raise ValueError("")
            if self.check:
                self.check(parsed)
            return
        if self.kind == LIST:
            if isinstance(value, str):
                if value.strip().startswith("[") and not isinstance(json.loads(value), list):
                    raise ValueError("")
                return
            if not isinstance(value, (list, tuple)):
                raise ValueError("")
            return
        if self.kind == URL:
            if not isinstance(value, str) or "://" not in value or value.split("://", 1)[0] not in self.schemes:
                raise ValueError("")
            return
        if self.kind == PATH:
            if not isinstance(value, str) or not value.strip() or "\0" in value:
                raise ValueError("")
            return
        if self.check:  # text of a form of its own (WAYBACK_FROM): the check says what it must be
            self.check(value)
            return
        if value is not None and not isinstance(value, str):
            raise ValueError("")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _shown(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _number(value, whole: bool) -> float:
    if isinstance(value, bool):
        raise ValueError("")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text) if whole else float(text)
        except ValueError:  # "abc", "1GB", "1.5" as a whole number: the line says what is allowed
            raise ValueError("") from None
    elif isinstance(value, (int, float)):
        number = value
        if whole and not float(value).is_integer():
            raise ValueError("")
    else:
        raise ValueError("")
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError("")
    return number


def _host_map_entries(value: dict) -> None:
    """{"host[:port]": "ip[:port]"}"""
    from crawler.network.hostmap import parse_host_map  # the resolver's own reading of it

    for key, target in value.items():
        if not isinstance(key, str) or not isinstance(target, str):
            raise ValueError(f"{key!r}: {target!r} is not a pair of strings")
    try:
        parse_host_map(value)
    except ValueError as exc:
        raise ValueError(f"a port is not a number: {exc}") from None


def _timestamp_bound(value) -> None:
    """a year or 1 to 14 digits of yyyyMMddhhmmss"""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not (text.isdigit() and 1 <= len(text) <= 14):
        raise ValueError("")


SETTINGS: dict[str, Setting] = {}


def _declare(name: str, kind: str, help: str, **kw) -> None:
    SETTINGS[name] = Setting(name, kind, help, **kw)


# One line per setting; the defaults are in crawler/settings.py and the add-ons' DEFAULTS.
# --- features (crawler/settings.py) ---------------------------------------------------------------
_declare("WARC_ENABLED", BOOL, "archive every exchange in WARC files")
_declare("WACZ", BOOL, "package the crawl's WARC files as a WACZ at the end (the replay extra)")
_declare("STATE_PATH", TEXT, "incremental state: a SQLite file, or redis / a redis:// URL", optional=True)
_declare("REDIS_URL", URL, "the shared frontier's Redis server (the distributed extra)", optional=True,
         schemes=("redis", "rediss", "unix"))
_declare("FROM_WARC", PATH, "rebuild items from these WARC files (-a from_warc sets it)", optional=True)
_declare("WAYBACK", URL, "backfill from this Wayback-style archive's root (-a wayback sets it)", optional=True,
         schemes=("http", "https"))
_declare("WAYBACK_FROM", TEXT, "backfill: captures from this time on (a year, or 1-14 digits yyyyMMddhhmmss)",
         optional=True, check=_timestamp_bound)
_declare("WAYBACK_TO", TEXT, "backfill: captures up to this time, inclusive (as WAYBACK_FROM)", optional=True,
         check=_timestamp_bound)
_declare("WAYBACK_PAGE_SIZE", INT, "backfill: captures per CDX listing page (the CDX API's limit)", low=1,
         high=100000)
_declare("WAYBACK_LAYOUT", CHOICE, "backfill: the archive's URL layout, ia or pywb (unset: a path after the "
         "host, a pywb collection, is pywb; a bare host ia)", choices=("ia", "pywb"), optional=True)
_declare("WAYBACK_VERSIONS", CHOICE, "backfill: the latest capture of each article, or every version (one item "
         "per distinct capture)", choices=("latest", "all"))
_declare("SHARED_POLITENESS", BOOL, "with REDIS_URL, per-host politeness shared by all workers")
# --- politeness and bounds (Scrapy's own, documented by the project) ------------------------------
_declare("CONTACT_URL", URL, "URL in the User-Agent", schemes=("http", "https", "mailto"))
_declare("USER_AGENT", TEXT, "User-Agent (None: spacewar-archiver/<version> (+CONTACT_URL))", optional=True)
_declare("ROBOTSTXT_OBEY", BOOL, "obey robots.txt")
_declare("CONCURRENT_REQUESTS", INT, "requests in flight at most, in all", low=1)
_declare("CONCURRENT_REQUESTS_PER_DOMAIN", INT, "requests in flight per host at most", low=1)
_declare("CONCURRENT_REQUESTS_PER_IP", INT, "requests in flight per address at most (0: per host instead)", low=0)
_declare("DOWNLOAD_DELAY", FLOAT, "seconds between two requests to a host", low=0)
_declare("DOWNLOAD_DELAY_JITTER", FLOAT, "random factor of the delay (Scrapy's)", low=0, high=1)
_declare("AUTOTHROTTLE_ENABLED", BOOL, "adapt the delay to the server's latency")
_declare("AUTOTHROTTLE_START_DELAY", FLOAT, "AutoThrottle's first delay (s)", low=0)
_declare("AUTOTHROTTLE_MAX_DELAY", FLOAT, "AutoThrottle's largest delay (s)", low=0)
_declare("AUTOTHROTTLE_TARGET_CONCURRENCY", FLOAT, "requests AutoThrottle aims to have in flight per host",
         low=0.01)
_declare("DEPTH_LIMIT", INT, "link hops from the start pages (0: no bound)", low=0)
_declare("CLOSESPIDER_PAGECOUNT", INT, "stop after this many responses (0: no bound)", low=0)
_declare("CLOSESPIDER_ITEMCOUNT", INT, "stop after this many items (0: no bound)", low=0)
_declare("CLOSESPIDER_TIMEOUT", FLOAT, "stop after this many seconds (0: no bound)", low=0)
_declare("CLOSESPIDER_ERRORCOUNT", INT, "stop after this many errors (0: no bound; exit status 75)", low=0)
_declare("CLOSESPIDER_TIMEOUT_NO_ITEM", FLOAT, "stop after this many seconds without an item (0: no bound; "
                                               "exit status 75)", low=0)
_declare("FOLLOW_ARCHIVES", BOOL, "follow the sections' dated archive pages")
_declare("LINKS_PER_PAGE_MAX", INT, "on-site links followed per page at most", low=1)
_declare("REQUISITES", BOOL, "fetch and archive the images and stylesheets of pages")
_declare("REQUISITE_DOMAINS", LIST, "domains besides the site's whose requisites are fetched")
_declare("COOKIES_ENABLED", BOOL, "keep cookies (offline public-suffix list)")
# --- downloading ----------------------------------------------------------------------------------
_declare("DOWNLOAD_TIMEOUT", FLOAT, "seconds before a download is given up", low=0.001)
_declare("RETRY_TIMES", INT, "retries of a failed request", low=0)
_declare("DOWNLOAD_MAXSIZE", INT, "bytes of a response (or its decompressed body) at most (0: no bound)", low=0)
_declare("DOWNLOAD_WARNSIZE", INT, "bytes of a response from which a warning is logged (0: none)", low=0)
_declare("DEFAULT_REQUEST_HEADERS", OBJECT, "headers of every request (Accept-Encoding: gzip, deflate only)")
_declare("HOST_MAP", OBJECT, "connect to these addresses instead (hosts still sent as named)",
         check=_host_map_entries)
# --- network policy (crawler/network/addon.py) ----------------------------------------------------
_declare("ALLOW_PRIVATE_ADDRESSES", BOOL, "allow hosts on loopback/private addresses")
_declare("RETRY_BACKOFF_BASE", FLOAT, "seconds before the first retry, doubled at each further one", low=0)
_declare("RETRY_BACKOFF_MAX", FLOAT, "longest wait before a retry (s)", low=0)
_declare("RETRY_AFTER_MAX", FLOAT, "longest Retry-After honoured (s)", low=0)
_declare("COOKIES_MAX_SIZE", INT, "bytes of a cookie's name and value at most", low=1)
_declare("COOKIES_MAX_PER_DOMAIN", INT, "cookies kept per domain at most", low=1)
_declare("COOKIES_MAX_HEADER", INT, "bytes of a request's Cookie header at most", low=1)
# --- shared politeness (crawler/network/politeness.py) --------------------------------------------
_declare("POLITE_KEY", CHOICE, "politeness per host name or per resolved address", choices=("host", "ip"))
_declare("POLITE_NAMESPACE", TEXT, "prefix of the shared slots' Redis keys")
_declare("POLITE_LEASE_TTL", FLOAT, "seconds a request holds its host's shared slot unless renewed", low=1)
_declare("POLITE_JITTER_MODEL", CHOICE, "random factor of the shared delay", choices=("scrapy", "uniform"))
_declare("POLITE_POLL_INTERVAL", FLOAT, "seconds between two asks for a full host's slot", low=0.001)
_declare("POLITE_RATE_WINDOW", FLOAT, "seconds of start times kept for the rate", low=1)
_declare("POLITE_STATE_TTL", FLOAT, "seconds a host's slot state outlives its last start", low=1)
_declare("POLITE_DNS_TTL", FLOAT, "seconds a resolved address is used as the key", low=0)
# --- distributed frontier (crawler/frontier/addon.py) ---------------------------------------------
_declare("WORKER_ID", TEXT, "this worker's name (default: host-pid)", optional=True)
_declare("CRAWL_ID", TEXT, "keeps the Redis keys of one shared crawl apart from another's", optional=True)
_declare("FRONTIER_IDLE_TIMEOUT", FLOAT, "seconds the shared queue stays empty before a worker stops", low=0)
_declare("FRONTIER_KEEP", BOOL, "keep the shared queue when the last worker leaves")
_declare("FRONTIER_HEARTBEAT_INTERVAL", FLOAT, "seconds between two heartbeats (0: none)", low=0)
_declare("FRONTIER_WORKER_TTL", FLOAT, "seconds a worker's alive key lasts: a dead worker's requests go back to "
         "the queue this long (up to 4/3 of it) after its last renewal", low=0.001)
_declare("METRICS_PORT", INT, "Prometheus metrics on this port (0: off; needs REDIS_URL and the metrics extra)",
         low=0, high=65535)
# --- crash safety (crawler/journal/addon.py) ------------------------------------------------------
_declare("JOBDIR", PATH, "resumable job directory, safe against kill -9", optional=True)
_declare("INFLIGHT_FSYNC_INTERVAL", FLOAT, "seconds between fsyncs of the journals (0: every append)", low=0)
# --- incremental (crawler/incremental/addon.py) ---------------------------------------------------
_declare("STATE_REVALIDATE", BOOL, "revalidate known articles with conditional requests")
_declare("STATE_REDIS_KEY", TEXT, "Redis hash of the state")
_declare("REVISIT_BUDGET", INT, "due archive listings and articles revalidated per run at most (0: no limit)", low=0)
_declare("REVISIT_FRONT_DAYS", FLOAT, "days between two fetches of home, sections and feeds (0: every run)", low=0)
_declare("REVISIT_ARCHIVE_START_DAYS", FLOAT, "days within which a newly seen archive listing is due again", low=0)
_declare("REVISIT_ARCHIVE_MIN_DAYS", FLOAT, "shortest interval of an archive listing or static page, in days", low=0)
_declare("REVISIT_ARCHIVE_MAX_DAYS", FLOAT, "longest interval of an archive listing or static page, in days", low=0)
_declare("REVISIT_ARCHIVE_GROWTH", FLOAT, "factor an unchanged archive listing's or static page's interval grows by", low=1)
_declare("REVISIT_ARTICLE_YOUNG_DAYS", FLOAT, "an article younger than this is due every run (days)", low=0)
_declare("REVISIT_ARTICLE_FACTOR", FLOAT, "an older article's interval: its age times this", low=0)
_declare("REVISIT_ARTICLE_MIN_DAYS", FLOAT, "shortest interval of an article, in days", low=0)
_declare("REVISIT_ARTICLE_MAX_DAYS", FLOAT, "longest interval of an article, in days", low=0)
_declare("REVISIT_ARTICLE_OLD_DAYS", FLOAT, "an article dated longer ago than this (days) is in the weekly sweep", low=0)
_declare("REVISIT_ARTICLE_SWEEP_DAYS", INT, "an old article is due at least once every this many days, and each run "
         "takes its exact share of them, least recently looked at first (0: no sweep)", low=0)
_declare("REVISIT_DEAD_DAYS", FLOAT, "longest interval of a dead link (an article URL answered 404 or 410, or "
         "redirected for good), in days: asked after 1, then twice as long each time", low=0)
_declare("REVISIT_EVERY_RUN", BOOL, "every known URL due at every run (the behaviour before the revisit policy)")
# --- WARC capture (crawler/capture/addon.py) ------------------------------------------------------
_declare("WARC_DIR", PATH, "directory of the WARC files")
_declare("WARC_PREFIX", TEXT, "file name prefix (None: the spider name)", optional=True)
_declare("WARC_PREFIX_BY_SITE", BOOL, "one series of WARC files per site")
_declare("WARC_MAX_SIZE", INT, "bytes past which a new WARC file is started (a whole number: no units)", low=1)
_declare("WARC_COMPRESS_LEVEL", INT, "gzip level of each record (zlib's)", low=0, high=9)
_declare("WARC_OPERATOR", TEXT, "operator named in the warcinfo record")
_declare("WARC_REVISITS", BOOL, "store an already archived payload as a revisit record")
_declare("WARC_DIGEST_INDEX", PATH, "SQLite file of archived payload digests (None: in WARC_DIR)", optional=True)
_declare("WARC_METADATA", BOOL, "a metadata record per capture and the item as a record")
_declare("WARC_RECOVER", BOOL, "recover a killed crawl's .open WARC files at start")
_declare("WARC_MIN_FREE_BYTES", INT, "bytes left free in WARC_DIR at least (the crawl stops first)", low=0)
_declare("RAWCAPTURE_ENABLED", BOOL, "byte-exact capture (False: records rebuilt)")
# --- replay and WACZ (crawler/offline/) -----------------------------------------------------------
_declare("FROM_WARC_USE_CDXJ", BOOL, "use the .cdxj index beside each WARC file when up to date")
_declare("WACZ_PATH", PATH, "where the WACZ goes (None: beside WARC_DIR)", optional=True)
_declare("WACZ_VALIDATE", BOOL, "check the WACZ with `wacz validate`")
# --- items (crawler/settings.py) ------------------------------------------------------------------
_declare("CLEANING_LEARN", BOOL, "learn each site's boilerplate as pages arrive")
_declare("BOILERPLATE_FILE", PATH, "the learned templates' file (None: in WARC_DIR)", optional=True)
_declare("CLEANING_LOOKAHEAD", INT, "later pages counted before an article page is judged", low=0)
_declare("CLEANING_LOOKAHEAD_IDLE", FLOAT, "seconds without a page after which held pages are judged", low=0)
_declare("CLEANING_WARMUP", INT, "pages a site's template counts before its first pages are judged", low=0)
_declare("CLEANING_DEBUG", BOOL, "log every block the cleaning removes")
_declare("FALLBACK_WARN_RATIO", FLOAT, "share of article pages needing the fallback that gives a warning",
         low=0, high=1)
_declare("FALLBACK_WARN_MIN_PAGES", INT, "article pages seen before that warning can be given", low=1)
# --- outputs and the operator's view --------------------------------------------------------------
_declare("DEFAULT_FEED", PATH, "items file when no -o/-O/FEEDS is given", optional=True)
_declare("FEEDS", OBJECT, "Scrapy's feeds (-o/-O set it)")
_declare("LOG_FILE", PATH, "the log goes here instead of stderr", optional=True)
_declare("LOG_LEVEL", CHOICE, "least severe level logged", choices=("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"))
_declare("STATS_FILE", PATH, "final stats as JSON", optional=True)
_declare("PROGRESS_INTERVAL", FLOAT, "seconds between progress lines (0: none)", low=0)
_declare("REPORT_DIR", PATH, "directory of the run reports (None: the parent of WARC_DIR)", optional=True)
_declare("GC_FREEZE", BOOL, "after start-up, leave the objects alive out of the garbage collector's walks")


def problems(settings) -> list[str]:
    """What is wrong with the declared settings' values in `settings` (Scrapy Settings or a dict),
    one entry per bad setting, plus the rules that tie two settings together."""
    found = [p for name, spec in SETTINGS.items() if (p := spec.problem(settings.get(name))) is not None]
    if found:
        return found
    return [p for rule in RULES if (p := rule(settings)) is not None]


def _metrics_need_redis(settings) -> str | None:
    port = int(settings.get("METRICS_PORT") or 0)
    if port and not settings.get("REDIS_URL"):
        return (f"METRICS_PORT={port}: allowed only with REDIS_URL (the metrics are those of a shared crawl); "
                f"set REDIS_URL or drop METRICS_PORT")
    return None


def _redis_state_needs_redis(settings) -> str | None:
    state = settings.get("STATE_PATH")
    if isinstance(state, str) and state == "redis" and not settings.get("REDIS_URL"):
        return "STATE_PATH=redis: allowed only with REDIS_URL (the state lives on its server); set REDIS_URL"
    return None


#: Checks of two settings together, each giving the error line or None.
RULES: list[Callable[[object], str | None]] = [_metrics_need_redis, _redis_state_needs_redis]


def known_names() -> set[str]:
    """Every setting name a crawl can use: declared here, Scrapy's own, the project's settings.py and the
    add-ons' DEFAULTS."""
    import importlib

    from scrapy.settings import default_settings

    from crawler import settings as project

    names = set(SETTINGS) | {n for n in dir(default_settings) if n.isupper()} | {n for n in dir(project) if n.isupper()}
    for path in project.ADDONS:
        names |= set(getattr(importlib.import_module(path.rsplit(".", 1)[0]), "DEFAULTS", {}))
    return names


def unknown(names) -> list[str]:
    """The names among `names` (e.g. those given with -s) that no part of a crawl reads: a typo, most likely."""
    known = known_names()
    return sorted(name for name in names if name not in known)


def misspelt(names) -> dict[str, str]:
    """{name: the setting it is a typo of} for the names among `names` that no part of a crawl reads but that are
    close to a name it does read (difflib's ratio of at least 0.85, case left aside: a letter left out, doubled,
    swapped or changed): `-s STATE_PTH=` would otherwise leave an incremental run a full crawl. A name close to
    none (an operator's own extension's setting) is not in the answer: it is only unknown (see `unknown`)."""
    known = {name.upper(): name for name in known_names()}
    found = {}
    for name in unknown(names):
        near = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.85)
        if near:
            found[name] = known[near[0]]
    return found


def reference_rows() -> list[str]:
    """The settings table of docs/reference.md."""
    return [f"| `{s.name}` | {s.kind} | {s.allowed()} | {s.help} |" for s in SETTINGS.values()]
