"""Every request.meta key and every stats key the project defines, each once, with what it means.

Components pass values to each other through request.meta, and report what they did through the
crawl stats; both kinds of key are named here and nowhere else, so a key can be found, renamed
and documented in one place. docs/reference.md lists them all (a test checks that the list, the
registry below and the code agree).

A key with a variable part is a pattern: `STAT_DROPPED.format(reason="listing-page")` gives
"articles/dropped/listing-page". Scrapy's own keys (meta "depth", "redirect_urls", "retry_times";
stats "downloader/...", "item_scraped_count", ...) are Scrapy's, documented by Scrapy.
"""

from __future__ import annotations

#: key -> what it holds, for docs/reference.md
META: dict[str, str] = {}
#: key or pattern -> what it counts, for docs/reference.md
STATS: dict[str, str] = {}


def _meta(key: str, doc: str) -> str:
    META[key] = doc
    return key


def _stat(key: str, doc: str) -> str:
    STATS[key] = doc
    return key


def prefix(pattern: str) -> str:
    """The fixed start of a key pattern: prefix(STAT_DROPPED) == "articles/dropped/"."""
    return pattern.split("{", 1)[0]


# --- request.meta / response.meta ----------------------------------------------------------------
META_RAW_EXCHANGE = _meta("raw_exchange", "the exact bytes of the exchange (RawExchange), from the capture "
                                          "download handler to the WARC recorder")
META_FETCH_STARTED = _meta("_warc_started", "time.time() when the request entered the WARC recorder "
                                            "(the WARC-Date of its records)")
META_CAPTURE = _meta("warc_capture", "the page's capture (PageCapture): its response record's pointer and date "
                                     "for the item's `warc` and `fetched_at`, and its metadata record waiting for "
                                     "the outlinks; from the recorder or the from_warc replay to the spider and the "
                                     "outlinks middleware")
META_OUTLINKS = _meta("_outlinks", "every on-site link the spider found on the page, requested or not, "
                                   "for the capture metadata record")
META_HOP_PATH = _meta("hop_path", "the hops from the start pages (L: link, R: redirect), Heritrix-style")
META_JOURNAL_FP = _meta("inflight_fp", "the fingerprint under which the crash-safety journal recorded the request")
META_STATE_KNOWN = _meta("state_known", "the incremental state's row that made the request conditional")
META_DONT_REVALIDATE = _meta("dont_revalidate", "set by a spider: never turn this request into a conditional one")
META_NOT_IN_STATE = _meta("not_in_state", "set by a spider: the incremental state neither revalidates, records nor "
                                         "schedules this request's URL (the backfill's archive requests: the "
                                         "spider records the captures it took itself)")
META_FRONTIER_LEASE = _meta("frontier_lease", "the id under which this worker took the request from the shared "
                            "queue (crawler/frontier/reliable.py), acknowledged when its page is settled")
META_POLITE_LEASE = _meta("polite_lease", "(host key, lease id) of the host's shared politeness slot the request "
                                          "holds while it is downloaded")
META_SITE = _meta("site", "the site profile name of a request's URL (spiders/network.py), for the components "
                          "that keep sites apart")
META_PLANNED = _meta("revisit_planned", "set on the requests of a run's revisit plan (crawler/incremental/revisit.py): "
                                        "the worker that takes one from a shared queue fetches it, though its own plan "
                                        "(read at its own start) may not hold it")
META_REQUISITE = _meta("requisite", "set by the spider on a page requisite (an image or stylesheet of a page): "
                                    "fetched and archived like a page, never parsed, never an item")

# --- pages and links (spiders/network.py) ---------------------------------------------------------
STAT_PAGES = _stat("pages/{kind}", "pages routed by the spider: article, listing or feed")
STAT_PAGES_SKIPPED = _stat("pages/skipped/{reason}", "pages archived but not parsed: not_text, truncated, "
                                                     "off_site (on none of the crawl's sites)")
STAT_LINKS_REQUESTED_BEFORE = _stat("links/requested_before", "links not requested again: the spider "
                                                              "requested them before at the same or a smaller depth")
STAT_LINKS_BOUNDED = _stat("links/bounded", "pages with more than LINKS_PER_PAGE_MAX links (the rest not followed)")
STAT_LINKS_LEFT = _stat("links/left_at_bound", "hrefs not looked at on those pages")
STAT_REQUISITES_REQUESTED = _stat("requisites/requested", "page requisites requested (images and stylesheets "
                                                          "on the site's domain and REQUISITE_DOMAINS, each once "
                                                          "per crawl)")
STAT_REQUISITES_OFF_NETWORK = _stat("requisites/off_network", "page requisites not requested: on a host outside "
                                                              "the site's domain and REQUISITE_DOMAINS")
STAT_REQUISITES_STATUS = _stat("requisites/status/{status}", "page requisite responses archived, by HTTP status")

# --- network policy (crawler/network/) ------------------------------------------------------------
STAT_REFUSED = _stat("safety/refused/{reason}", "requests refused by the address policy: private_address, "
                                                "private_peer, offsite_redirect")
STAT_GAVE_UP = _stat("download/gave_up/{exception}", "requests given up after a download failure, by exception")
STAT_UNREACHABLE = _stat("download/unreachable/{host}", "the first network failure of a host, in words "
                                                        "(the exit status quotes it when nothing was archived)")
STAT_RETRY_AFTER_HONOURED = _stat("retry/retry_after_honoured", "retries that waited as a Retry-After asked")
STAT_RETRY_AFTER_TOO_LONG = _stat("retry/retry_after_too_long", "requests given up: Retry-After above RETRY_AFTER_MAX")
STAT_BACKOFF_SECONDS = _stat("retry/backoff_seconds", "seconds waited before retries, in all")
STAT_COOKIES_REFUSED = _stat("cookies/refused/{reason}", "cookies not kept, as a browser would not: too_large, "
                                                         "too_many (for their domain)")
STAT_COOKIES_TRIMMED = _stat("cookies/header_trimmed", "requests whose Cookie header was cut to COOKIES_MAX_HEADER")
STAT_POLITE_ACQUIRED = _stat("polite/acquired", "requests that took their host's shared politeness slot (REDIS_URL)")
STAT_POLITE_WAIT = _stat("polite/wait_seconds", "seconds requests waited for their host's shared slot, in all")
STAT_POLITE_REFUSED = _stat("polite/refused/{reason}", "asks for a host's shared slot refused: spacing (the "
                                                       "delay since the last start), full (requests in flight), "
                                                       "blocked (a 429/503)")
STAT_POLITE_BLOCKED = _stat("polite/host_blocked", "429/503 answers that held the host off for every worker")
STAT_POLITE_BLOCKED_SECONDS = _stat("polite/host_blocked_seconds", "seconds hosts were held off that way, in all")
STAT_POLITE_DELAY = _stat("polite/delay/{host}", "the host's shared delay (s) after this worker's last answer from it")
STAT_POLITE_LEASE_EXPIRED = _stat("polite/lease_expired", "leases that had expired when their request ended "
                                                          "(Redis away or a stalled worker)")
STAT_POLITE_ABANDONED = _stat("polite/lease_abandoned", "leases no longer renewed: their request held them past "
                                                        "DOWNLOAD_TIMEOUT + POLITE_LEASE_TTL")
STAT_POLITE_REDIS_ERRORS = _stat("polite/redis_errors", "Redis calls of the shared politeness that failed "
                                                        "(requests wait meanwhile)")
STAT_ROBOTS_DISALLOW_ALL = _stat("robotstxt/disallow_all/{why}", "hosts treated as disallowed: their robots.txt "
                                                                 "answered 5xx, or could not be fetched (RFC 9309)")

# --- capture (crawler/capture/) -------------------------------------------------------------------
STAT_RAWCAPTURE_EXCHANGES = _stat("rawcapture/exchanges", "exchanges whose exact bytes were captured")
STAT_RAWCAPTURE_FALLBACK = _stat("rawcapture/fallback", "exchanges without captured bytes (records rebuilt)")
STAT_RAWCAPTURE_FALLBACK_WHY = _stat("rawcapture/fallback/{reason}", "why: proxy, unbound")
STAT_RAWCAPTURE_TRUNCATED = _stat("rawcapture/truncated/{reason}", "captures cut short: length, time, "
                                                                   "disconnect, unspecified")
STAT_CAPTURE_METHOD = _stat("warc/capture/{method}", "exchanges archived from their raw bytes, or reconstructed")
STAT_RECORDS = _stat("warc/records/{kind}", "WARC records written: request, response, revisit, metadata, "
                                            "item, resource (bytes that are not an HTTP response)")
STAT_ITEM_RECORD_FAILED = _stat("warc/records/item_failed", "item records that could not be written")
STAT_REVISITS = _stat("warc/revisits/{profile}", "revisit records: identical-payload-digest, server-not-modified")
STAT_NOT_MODIFIED_UNRESOLVED = _stat("warc/not_modified_without_original", "304 revisits whose original is not "
                                                                           "known (written without WARC-Refers-To; "
                                                                           "they replay as a 304)")
STAT_CHUNKED_DIGEST = _stat("warc/chunked_payload_digest", "responses stored with their chunked framing, "
                                                            "their WARC 1.1 digest in X-Entity-Payload-Digest")
STAT_TRUNCATED = _stat("warc/truncated", "response records marked WARC-Truncated")
STAT_UNPARSEABLE = _stat("warc/unparseable", "responses the HTTP parser rejected, archived as resource records")
STAT_BYTES_ARCHIVED = _stat("warc/bytes_archived", "bytes of request and response blocks archived")
STAT_PAGES_ARCHIVED = _stat("warc/pages_archived", "pages archived: response or revisit records of spider "
                                                   "requests with a status below 400 (the exit status counts them)")
STAT_SKIPPED_CACHED = _stat("warc/skipped/cached", "responses from Scrapy's HTTP cache or the archive, not archived again")
STAT_EXCHANGE_FAILED = _stat("warc/exchange_failed/{exception}", "downloads that failed, by exception "
                                                                 "(what arrived is archived, marked truncated)")
STAT_FILES = _stat("warc/files", "names of the WARC files this crawl closed, in order")
STAT_FILES_CLOSED = _stat("warc/files_closed", "WARC files closed")
STAT_WRITE_FAILED = _stat("warc/write_failed", "why the WARC write failed (the crawl stopped)")
STAT_WRITE_FAILED_FILE = _stat("warc/write_failed_file", "the file left .open by the failed write")
STAT_RECOVERY_FILES = _stat("warc/recovery/files", ".open files recovered at start-up")
STAT_RECOVERY_RECORDS = _stat("warc/recovery/records", "complete records kept by the recovery")
STAT_RECOVERY_CUT = _stat("warc/recovery/cut_bytes", "bytes of partial records set aside in .partial sidecars")
STAT_RECOVERY_LOCKED = _stat("warc/recovery/skipped_locked", "1 when another crawl held WARC_DIR's lock")

# --- extraction (pipelines/extract.py) ------------------------------------------------------------
STAT_EXTRACTION = _stat("articles/extraction/{method}", "article pages extracted by site-rules or fallback")
STAT_FALLBACK_RATIO = _stat("articles/extraction/fallback_ratio", "share of article pages that needed the fallback")
STAT_EXTRACTION_ERRORS = _stat("articles/errors/{exception}", "article pages lost to a bug in extraction "
                                                              "(logged at ERROR with the traceback)")
STAT_TOO_DEEP = _stat("articles/too_deep", "article pages nested deeper than the parser's bound (MAX_DEPTH, "
                                           "crawler/extract/page.py) even once simplified: logged, no item")

# --- cleaning (crawler/extract/cleaning.py, docs/cleaning.md) -------------------------------------
STAT_CLEANING_REMOVED = _stat("cleaning/removed/{signal}", "blocks taken out of article bodies, by the signal that "
                                                           "took them: tag, class, phrase, links, markup, "
                                                           "position, credit, author-bio, template, rights, "
                                                           "reader")
STAT_CLEANING_RELATED = _stat("cleaning/related_stories", "further stories split off the pages' bodies "
                                                          "(the items' related_stories)")
STAT_CLEANING_HELD_MAX = _stat("cleaning/held_max", "most article pages held at once for the look-ahead "
                                                    "and the warm-up (CLEANING_LOOKAHEAD, CLEANING_WARMUP)")
STAT_CLEANING_IDLE = _stat("cleaning/idle_releases", "times the held pages were judged before their look-ahead: "
                                                     "no page came for a while (the crawl's end)")
STAT_TEMPLATE_PAGES = _stat("cleaning/template/pages", "pages the learned templates have counted, this crawl's "
                                                       "and earlier ones' (BOILERPLATE_FILE)")
STAT_TEMPLATE_BLOCKS = _stat("cleaning/template/blocks", "blocks the learned templates keep (seen on two pages "
                                                         "or more)")

# --- items (pipelines/) ---------------------------------------------------------------------------
STAT_DROPPED = _stat("articles/dropped/{reason}", "items dropped, by reason: a NotAnArticle reason, "
                                                  "missing_<field>, invalid, duplicate, unchanged, past_itemcount, "
                                                  "exported_before, exported_by_another_worker, warc_write_failed")
STAT_EXPORTED = _stat("articles/exported", "articles exported")
STAT_EXPORTED_BY = _stat("articles/exported/{method}", "articles exported, by extraction method")
STAT_STORY_GROUPS = _stat("stories/{kind}", "articles given a story group (pipelines/storygroup.py): founded (the "
                                            "first copy of its story seen) or joined (a copy of a story seen before)")
STAT_STORY_CPU = _stat("stories/cpu_seconds", "CPU time the story-group stage took (its share of the crawl's CPU: "
                                             "bench/story_groups.py)")

# --- the feed's file (crawler/journal/feedfile.py, crawler/journal/exporter.py) ---------------------
STAT_FEED_WRITTEN = _stat("feed/items_written", "items the JSON Lines feed wrote and flushed to its file (with "
                                                "several feeds, the fewest any of them wrote): the articles "
                                                "the exit status counts as exported")
STAT_FEED_WRITE_FAILED = _stat("feed/write_failed", "the feed's file and why writing it failed (the crawl stopped)")
STAT_STATE_UNREACHABLE = _stat("state/unreachable", "the state's Redis (STATE_PATH) and why it stopped answering "
                                                    "mid-crawl, without a shared frontier (the crawl stopped)")
STAT_STATE_WRITE_FAILED = _stat("state/write_failed", "the state file (STATE_PATH) and why writing it failed (the "
                                                     "crawl stopped)")

# --- crash-safety journal (crawler/journal/) ------------------------------------------------------
STAT_JOURNALED = _stat("inflight/journaled", "requests written to the journal")
STAT_JOURNAL_FINISHED = _stat("inflight/finished", "requests marked finished in the journal")
STAT_RESCHEDULED = _stat("inflight/rescheduled", "pending requests of an earlier run scheduled again")
STAT_UNSERIALIZABLE = _stat("inflight/unserializable", "requests the journal could not store (kept in memory only)")
STAT_JOBDIR_FAILED = _stat("inflight/jobdir_failed", "the JOBDIR and why the crawl could no longer keep its requests "
                                                     "there: it went away, or a write failed (the crawl stopped)")

# --- incremental state (crawler/incremental/) -----------------------------------------------------
STAT_INCREMENTAL = _stat("incremental/{verdict}", "articles new, changed or unchanged since the last run")
STAT_CONDITIONAL = _stat("incremental/conditional_requests", "known articles requested with validators")
STAT_NOT_MODIFIED = _stat("incremental/not_modified", "conditional requests answered 304")
STAT_SKIPPED_KNOWN = _stat("incremental/skipped_known", "known articles not requested (STATE_REVALIDATE off)")
STAT_UNCONDITIONAL = _stat("incremental/unconditional/{reason}", "known articles fetched in full, not revalidated, "
                                                                 "because a 304 revisit could not refer to their "
                                                                 "archived response: chunked (stored with its chunked "
                                                                 "framing), not_archived (no response with those "
                                                                 "validators in WARC_DIR)")

STAT_REVISIT = _stat("revisit/{event}", "the revisit policy (crawler/incremental/revisit.py): planned (due archive "
                                       "listings and articles the run took, oldest-due first, within "
                                       "REVISIT_BUDGET), revalidated (known URLs fetched again because due: 200 "
                                       "or 304), left_due (due but over the budget: left for a later run), "
                                       "overdue (of those left, due for more than a day), not_due (known URLs "
                                       "found on a page but not due: not requested), assets_known (page "
                                       "requisites archived by an earlier run: not requested again), swept (old "
                                       "articles of the weekly sweep the run took, due or its share ahead of "
                                       "time)")

# --- distributed frontier (crawler/frontier/) -----------------------------------------------------
STAT_FRONTIER = _stat("frontier/{event}", "shared queue: enqueued, dequeued, filtered_duplicate, idle_checks; "
                                          "acknowledged (requests settled), requeued_own (taken by this worker "
                                          "and queued again: at a restart under its id, or a stop before they "
                                          "were done), requeued_dead (a dead worker's, queued again by this "
                                          "one), lease_lost (settled after another worker had requeued it: "
                                          "this worker was silent longer than FRONTIER_WORKER_TTL); "
                                          "heartbeat_errors (worker heartbeats Redis did not take)")
STAT_SHARED_PAGES_ARCHIVED = _stat("frontier/crawl_pages_archived", "pages archived by every worker of the "
                                   "shared crawl that ran alongside this one, this one included (its exit status)")
STAT_SHARED_WORKERS_AT_WORK = _stat("frontier/workers_at_work", "other workers of the shared crawl still at work "
                                    "when this one stopped (its exit status)")

# --- offline: replay from WARC files, WACZ (crawler/offline/) -------------------------------------
STAT_REPLAY_FILES = _stat("warcreplay/files", "WARC files indexed for the replay")
STAT_REPLAY_CAPTURES = _stat("warcreplay/captures", "captures in the replay index")
STAT_REPLAY_RESPONSES = _stat("warcreplay/responses", "requests answered from the archive")
STAT_REPLAY_PAGES = _stat("warcreplay/pages", "pages replayed (spider requests, status below 400)")
STAT_REPLAY_STATUS = _stat("warcreplay/status/{status}", "replayed responses by HTTP status")
STAT_REPLAY_MISSING = _stat("warcreplay/missing", "requests for URLs the archive does not hold (answered 404)")
STAT_REPLAY_NOT_REQUESTED = _stat("warcreplay/not_requested", "archived 2xx HTML pages (one per URL) the replay never "
                                  "requested: DEPTH_LIMIT and the link structure decide what it reaches; "
                                  "`scrapy reprocess` rebuilds them")
STAT_REPLAY_UNREADABLE = _stat("warcreplay/unreadable", "input files the replay could not read (not a WARC, damaged "
                                "beyond reading): each costs only itself and is logged with its cause")
STAT_WACZ = _stat("wacz/{fact}", "the WACZ package: path, warc_files (all it holds), earlier_warc_files (of "
                                 "earlier runs, holding the originals of this run's revisits), pages, "
                                 "revalidated_pages (articles answered 304, listed with their earlier item), "
                                 "valid, failed")

# --- backfill from a Wayback-style archive (spiders/wayback.py, crawler/backfill/, docs/wayback.md) ---
META_WAYBACK_LISTING = _meta("wayback_listing", "the CDX listing a request pages through (its query URL without "
                                                "resumeKey, and the site's name), for the next page's request")
META_WAYBACK_CAPTURE = _meta("wayback_capture", "the archived capture (crawler/wayback/cdx.py Capture) an id_ "
                                                "request fetches: its original URL and capture time for the "
                                                "WARC records and the item")
META_WAYBACK_FALLBACKS = _meta("wayback_fallbacks", "the article's older captures, newest first, fetched in turn "
                                                    "when this one is cut off, not a 200 or not an article")
STAT_WAYBACK_CDX_PAGES = _stat("wayback/cdx_pages", "pages of CDX listings read from the archive")
STAT_WAYBACK_LISTED = _stat("wayback/captures_listed", "captures the CDX listings gave")
STAT_WAYBACK_DROPPED = _stat("wayback/dropped/{why}", "listed captures not fetched: off_site, not_article, not_200, "
                                                      "not_html, same_digest (crawler/wayback/select.py), known "
                                                      "(fetched by an earlier run, STATE_PATH)")
STAT_WAYBACK_ARTICLES = _stat("wayback/articles", "articles the listings hold a capture worth fetching of")
STAT_WAYBACK_FETCHED = _stat("wayback/captures_fetched", "id_ captures fetched")
STAT_WAYBACK_FALLBACK = _stat("wayback/fallback/{why}", "captures passed over for the article's next older one: "
                                                        "cut_off, status_<code>, not_text, not_article, failed")
STAT_WAYBACK_NO_CAPTURE = _stat("wayback/no_complete_capture", "articles none of whose captures was complete, a "
                                                              "200 and an article page: no item")
STAT_WAYBACK_BAD_ANSWER = _stat("wayback/bad_answer", "the CDX API's answer was not the JSON shape of the "
                                                      "archive's layout: the one-line reason (the backfill stops, exit "
                                                      "status 78)")
STAT_WAYBACK_LEFT_OUT = _stat("wayback/listings_left_out", "CDX listings whose captures are left out, whole or in "
                                                           "part: the archive refused them (after the retries), or a "
                                                           "pywb listing reached its cap (exit status 75)")
STAT_WAYBACK_REFUSED = _stat("wayback/refused", "requests refused in wayback mode: not the archive's CDX API, an "
                                                "id_ capture or its robots.txt (never the live site)")
STAT_WAYBACK_RECORDS = _stat("wayback/records/{kind}", "WARC records of archive exchanges: response (a capture, "
                                                       "under its original URL and time), resource (a CDX answer), "
                                                       "metadata (the exchange with the archive)")

# --- the outcome (crawler/reporting/outcome.py) ---------------------------------------------------
STAT_EXIT_STATUS = _stat("outcome/exit_status", "the crawl's exit status")
STAT_OUTCOME = _stat("outcome/summary", "the crawl's outcome in words (the last log line)")


def reference() -> str:
    """docs/reference.md: every key above with what it means (`python -m crawler.keys > docs/reference.md`)."""
    from crawler.settingspec import reference_rows

    out = ["# Reference: request.meta keys, stats keys and settings", "",
           "Every key the project defines is named once, in `crawler/keys.py`; this page lists them all",
           "(`tests/unit/test_keys.py` checks that it does, and that no module spells a key of its own;",
           "regenerate it with `python -m crawler.keys > docs/reference.md`).",
           "A `{part}` is the variable part of a key: `articles/dropped/{reason}` is counted as",
           "`articles/dropped/listing-page`, `articles/dropped/duplicate`, and so on.", "",
           "Scrapy's own keys (meta `depth`, `redirect_urls`, `retry_times`, `give_up_log_level`; stats",
           "`downloader/...`, `item_scraped_count`, `retry/count`, ...) are documented by Scrapy.", "",
           "## request.meta", "", "| key | what it holds |", "| --- | --- |"]
    out += [f"| `{key}` | {doc} |" for key, doc in META.items()]
    out += ["", "## Stats", "", "| key | what it counts |", "| --- | --- |"]
    out += [f"| `{key}` | {doc} |" for key, doc in STATS.items()]
    out += ["", "## Settings", "",
            "Every setting the project documents (its own, and Scrapy's that it relies on) is declared once, in",
            "`crawler/settingspec.py`, with its type and what a value may be; `scrapy crawl` checks every value",
            "before the crawl starts and stops with exit status 78 and one line naming the setting, the value and",
            "what is allowed. Sizes are whole numbers of bytes (`WARC_MAX_SIZE=1000000000`; `1GB` is refused).",
            "The defaults are in `crawler/settings.py` and in the DEFAULTS of each add-on.",
            "Two rules tie settings together: `METRICS_PORT` needs `REDIS_URL`, and so does `STATE_PATH=redis`.", "",
            "| setting | type | allowed | what it does |", "| --- | --- | --- | --- |"]
    out += reference_rows()
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
