"""The learned template of a site: which blocks recur across its article pages, counted as pages arrive, kept on disk.

Pure (no Scrapy): the extraction stage, `scrapy explain` and offline tools use it the same way.

A **block** is a paragraph-level text unit of a page (crawler/extract/blocks.py), compared across
pages by its key: its text normalised (lower case, digits, month names and the page's author
masked). For every key the template keeps, per site:

* `df`: on how many pages it appeared (in the story region or after it);
* `out`: on how many of them it stood where no story text stands: after the end of the story
  (Related Links, the cross-network blocks), or in the story region in a markup of its own (a
  box, small print, a link line) rather than the page's paragraph style;
* `first`, `last`: the site's page counter when it was first and last seen, so that its rate is
  measured over the span it was in use (a wording that replaced another mid-archive is judged by
  the pages since it appeared, the one it replaced by the pages before);
* how often it appeared on each agency's pages (a wire agency's closing sentence is on that
  agency's stories only; a template line is on all of them);
* `tail`: the sum over its pages of how many of its story's plain sentences followed it (at most
  TAIL_CAP), and `share`: the sum of the share (in percent) of its story's other plain sentences that
  followed it: a stock closing sentence stands at its story's end, 0 to 2 sentences before it; a
  line the template puts mid-story has half the story after it.

`evidence(key)` turns these into what the cleaning decides with (crawler/extract/cleaning.py):
template when seen out of place on OUT_PAGES pages, or when its rate over its span (taken at its
lower confidence bound, so that a rate measured on a handful of pages counts for little) reaches a
threshold that depends on how story-like the block is and where it sits. Story text that repeats
legitimately (an agency's "No further details were given.", a company's "about" paragraph)
recurs on 12-40% of matching articles, never out of place and often on one agency's pages only;
plain template lines recur on 60% of pages or more: see docs/cleaning.md for the thresholds.

**Repetition across agencies** (`Evidence.spread`): a block that recurs on SPREAD_PAGES pages or more,
from SPREAD_AGENCIES agencies or more, missing from no agency on whose pages in its span its rate
would have put it SPREAD_ABSENT_EXPECTED times or more, at a rate whose lower bound reaches
RATE_SPREAD (a label that is not a sentence needs no rate), is template wherever it stands, mid-story included; unless it is a story-like sentence
that stands, on average, at most STOCK_TAIL sentences and STOCK_SHARE of its story's sentences before
its story's end (a stock closing sentence, "No further details were given."). One agency's lines and a follow-up's reused quote
(one agency) never reach SPREAD_AGENCIES. The cleaning asks it only of lines that name nobody,
quote nobody and (sentences) state no figure (crawler/extract/cleaning.py).

**Persistence.** `BoilerplateStore.load(path)` / `save()` keep the templates of all sites in one
JSON file beside the WARC files (WARC_DIR/boilerplate.json), written atomically (temporary file,
fsync, rename), so incremental runs, `-a from_warc` and offline reprocessing start from what
earlier crawls learned. Keys seen on one page only are dropped after PRUNE_AFTER pages and never
written; keys not seen for FORGET_AFTER pages are forgotten (the site changed its template).
Each URL is counted once per session, so a page seen twice (a warm-up, a redirect) does not
count double.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

FORMAT = "spacewar-archiver boilerplate 1"
#: the file's name beside the WARC files
FILE_NAME = "boilerplate.json"

#: a key needs this many pages before its rate counts
MIN_PAGES = 4
#: the rate a threshold is compared with is the lower Wilson bound at this many standard errors: 4 of
#: the first 7 pages is weak evidence of a template line (a story's closing sentence does that by
#: chance), 18 of 30 is strong
RATE_Z = 1.0
#: seen out of place (outside the story, or boxed/linked) on this many pages: template
OUT_PAGES = 2
#: rate over its span from which a plain story-style paragraph after (or before) the story is template
RATE_TAIL = 0.5
#: ... inside the story (between two story paragraphs)
RATE_INSIDE = 0.8
#: ... for a block that is not quite story-like (a link, a bold lead-in, not a sentence)
RATE_SUSPICIOUS = 0.25
#: an agency's pages in a key's span without it: the key belongs to the other agencies' stories
AGENCY_ABSENT_PAGES = 8
#: repetition across agencies (Evidence.spread): at least this many pages ...
SPREAD_PAGES = 4
#: ... from at least this many agencies ...
SPREAD_AGENCIES = 2
#: ... at a rate over its span whose lower bound reaches this ...
RATE_SPREAD = 0.04
#: ... missing from no agency whose pages in its span should have carried it this many times at its rate (a template
#: line misses such an agency's pages by chance with a probability of about e^-4, 2%; docs/cleaning.md)
SPREAD_ABSENT_EXPECTED = 4.0
#: agencies whose pages are logged one byte a page (SiteTemplate.pages_in_span); more are estimated
LOG_AGENCIES = 64
#: sentences after a block that count towards its tail (a long story's mid-story line counts as this many)
TAIL_CAP = 8
#: a sentence with at most this many of its story's sentences after it, on average, ...
STOCK_TAIL = 3.0
#: ... and at most this share (percent) of them, is a stock closing sentence
STOCK_SHARE = 27
#: keys seen on one page only are dropped this many pages later
PRUNE_AFTER = 400
#: keys not seen for this many pages are forgotten
FORGET_AFTER = 20_000
#: most keys kept per site (the least frequent go first)
MAX_KEYS = 50_000


def wilson_low(rate: float, trials: int, z: float = RATE_Z) -> float:
    """The lower Wilson score bound of a share `rate` measured on `trials` pages (0 on none)."""
    if trials <= 0:
        return 0.0
    z2 = z * z / trials
    return (rate + z2 / 2 - z * math.sqrt(rate * (1 - rate) / trials + z2 / (4 * trials))) / (1 + z2)


class Evidence:
    """What the template knows about one key."""

    __slots__ = ("df", "out", "rate", "_span", "_low", "_specific", "agencies", "tail", "share", "_missing")

    def __init__(self, df: int, out: int, rate: float, agency_specific=False, span: int = 0, agencies: int = 0,
                 tail: int = 0, share: int = 0, missing=False):
        self.df = df  # pages it appeared on
        self.out = out  # pages where it stood out of the story's place
        self.rate = rate  # share of the pages of its span that carried it
        self._span = span  # the pages the rate is measured on
        self._low: float | None = None  # computed when asked
        self._specific = agency_specific  # a bool, or a function that tells (computed when asked)
        self.agencies = agencies  # how many agencies' pages carried it
        self.tail = tail  # the sum of the sentences after it in its story, over its pages
        self.share = share  # the sum of the share (percent) of its story's other sentences after it
        self._missing = missing  # a bool, or a function that tells (computed when asked)

    @property
    def low(self) -> float:
        """What the rate is at least, given how few pages it is measured on (its lower Wilson bound)."""
        if self._low is None:
            self._low = wilson_low(self.rate, self._span)
        return self._low

    @property
    def agency_specific(self) -> bool:
        """Absent from the pages of an agency that had plenty of pages in its span."""
        if callable(self._specific):
            self._specific = self._specific()
        return self._specific

    def __repr__(self) -> str:
        return f"Evidence(df={self.df}, out={self.out}, rate={self.rate:.3f})"

    def template(self, threshold: float, story_like: bool) -> bool:
        """Template at this rate threshold: out of place on OUT_PAGES pages, or frequent enough (a
        story-like block that one agency's pages never carry is that agency's text, not template)."""
        if self.out >= OUT_PAGES:
            return True
        if self.df < MIN_PAGES or self.low < threshold:
            return False
        return not (story_like and self.agency_specific)

    @property
    def missing(self) -> bool:
        """Missing from an agency whose pages in its span should have carried it SPREAD_ABSENT_EXPECTED times."""
        if callable(self._missing):
            self._missing = self._missing()
        return self._missing

    def spread(self, story_like: bool) -> bool:
        """Template by repetition across agencies, wherever it stands (see the module docstring)."""
        if self.df < SPREAD_PAGES or self.agencies < SPREAD_AGENCIES or (story_like and self.low < RATE_SPREAD):
            return False
        if story_like and self.stock_closing():
            return False
        return not self.missing

    def stock_closing(self) -> bool:
        """A sentence that stands at its story's end: at most STOCK_TAIL sentences and STOCK_SHARE of its
        story's sentences after it, on average."""
        return self.df >= MIN_PAGES and self.tail <= STOCK_TAIL * self.df and self.share <= STOCK_SHARE * self.df


NO_EVIDENCE = Evidence(0, 0, 0.0, False)



class SiteTemplate:
    """One site's learned blocks (see the module docstring)."""

    def __init__(self, pages: int = 0, agency_pages: dict | None = None, blocks: dict | None = None,
                 log_agencies: list | None = None, agency_log: bytes = b""):
        self.pages = pages
        self.agency_pages: dict[str, int] = dict(agency_pages or {})
        #: each page's agency (its index in `log_agencies`), one byte per page, for the last len(agency_log)
        #: pages: how many pages an agency had within a key's span, counted rather than estimated
        self.log_agencies: list[str] = list(log_agencies or [])
        self._log_ids = {a: i for i, a in enumerate(self.log_agencies)}
        self.agency_log = bytearray(agency_log)
        #: key -> (df, out, first, last, {agency: df}, tail, share): tuples of numbers and a dict of numbers, which the
        #: garbage collector does not track (tens of thousands of lists would cost every collection)
        self.blocks: dict[str, tuple] = blocks if blocks is not None else {}
        self._seen_urls: set[bytes] = set()

    def __len__(self) -> int:
        return len(self.blocks)

    # --- learning -----------------------------------------------------------------------------
    def observe(self, url: str, agency: str | None, keys: dict[str, bool], tails: dict | None = None) -> bool:
        """Count one page: `keys` maps each key on it to True when (one of) its occurrences stood out of
        the story's place; `tails`: {key: (sentences of its story after it, their share of the story's other
        sentences in percent)} of its plain sentences (a key not in it counts (TAIL_CAP, 100)). A URL already counted in this session is not counted again (False)."""
        digest = hashlib.blake2b(url.encode("utf-8", "replace"), digest_size=8).digest()
        if digest in self._seen_urls:
            return False
        self._seen_urls.add(digest)
        n = self.pages
        self.pages = n + 1
        agency = agency or ""
        self.agency_pages[agency] = self.agency_pages.get(agency, 0) + 1
        ident = self._log_ids.get(agency)
        if ident is None and len(self.log_agencies) < LOG_AGENCIES:
            ident = self._log_ids[agency] = len(self.log_agencies)
            self.log_agencies.append(agency)
        if ident is None:  # too many agencies to log: their pages are estimated from here on
            self.agency_log = bytearray()
        else:
            self.agency_log.append(ident)
        blocks = self.blocks
        get = blocks.get
        tail_of = (tails or {}).get
        no_tail = (TAIL_CAP, 100)
        for key, out in keys.items():
            entry = get(key)
            tail, share = tail_of(key, no_tail)
            if tail > TAIL_CAP:
                tail = TAIL_CAP
            if entry is None:
                blocks[key] = (1, 1 if out else 0, n, n, {agency: 1}, tail, share)
            else:
                df, was_out, first, _, per, tails_sum, shares = entry
                per[agency] = per.get(agency, 0) + 1
                blocks[key] = (df + 1, was_out + 1 if out else was_out, first, n, per, tails_sum + tail, shares + share)
        if self.pages % PRUNE_AFTER == 0:
            self.prune()
        return True

    def prune(self) -> None:
        """Drop keys seen on one page long ago, and keys not seen for FORGET_AFTER pages."""
        now = self.pages
        self.blocks = {k: e for k, e in self.blocks.items()
                       if not ((e[0] < 2 and now - e[3] > PRUNE_AFTER) or now - e[3] > FORGET_AFTER)}
        if len(self.blocks) > MAX_KEYS:
            keep = sorted(self.blocks.items(), key=lambda kv: (kv[1][0], kv[1][3]), reverse=True)[:MAX_KEYS]
            self.blocks = dict(keep)

    # --- judging --------------------------------------------------------------------------------
    def evidence(self, key: str) -> Evidence:
        entry = self.blocks.get(key)
        if entry is None or (entry[0] < MIN_PAGES and entry[1] < OUT_PAGES):
            return NO_EVIDENCE  # too little to say anything
        df, out, first, last, per, tail, share = entry
        span = last - first
        rate = (df - 1) / span if span > 0 else 0.0

        def specific() -> bool:
            total = self.pages
            return any(not per.get(agency) and pages * (span + 1) >= AGENCY_ABSENT_PAGES * total
                       for agency, pages in self.agency_pages.items())

        def missing() -> bool:
            return any(not per.get(agency) and rate * self.pages_in_span(agency, first, last) >= SPREAD_ABSENT_EXPECTED
                       for agency in self.agency_pages if agency)

        return Evidence(df, out, rate, specific, span, len(per) - ('' in per), tail, share,
                        missing)

    def pages_in_span(self, agency: str, first: int, last: int) -> float:
        """How many of the pages `first`..`last` were the agency's: counted where the log reaches back that
        far, else estimated from the agency's share of all pages."""
        log = self.agency_log
        start = self.pages - len(log)
        ident = self._log_ids.get(agency)
        if first >= start and ident is not None:
            return log.count(ident, first - start, last - start + 1)
        return self.agency_pages.get(agency, 0) * (last - first + 1) / max(1, self.pages)

    def summary(self, limit: int = 20) -> list[tuple[str, tuple]]:
        """The keys seen on most pages, with their counts (for `scrapy explain` and the logs)."""
        return sorted(self.blocks.items(), key=lambda kv: kv[1][0], reverse=True)[:limit]

    # --- persistence ----------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"pages": self.pages, "agency_pages": self.agency_pages,
                "log_agencies": self.log_agencies, "agency_log": self.agency_log.decode("latin-1"),
                "blocks": {k: e for k, e in self.blocks.items() if e[0] >= 2}}

    @classmethod
    def from_json(cls, data: dict) -> "SiteTemplate":
        blocks = {}
        for key, entry in (data.get("blocks") or {}).items():
            # five numbers before issue 24 (no tail: read as mid-story, TAIL_CAP and 100% a page)
            if isinstance(entry, list) and len(entry) in (5, 7) and isinstance(entry[4], dict):
                df = int(entry[0])
                blocks[str(key)] = (df, int(entry[1]), int(entry[2]), int(entry[3]),
                                    {str(a): int(n) for a, n in entry[4].items()},
                                    int(entry[5]) if len(entry) == 7 else TAIL_CAP * df,
                                    int(entry[6]) if len(entry) == 7 else 100 * df)
        log_agencies = [str(a) for a in data.get("log_agencies") or []]
        log = str(data.get("agency_log") or "").encode("latin-1", "replace")
        if len(log_agencies) > LOG_AGENCIES or any(b >= len(log_agencies) for b in set(log)):
            log_agencies, log = [], b""  # not a log this code wrote: estimate instead
        return cls(int(data.get("pages") or 0), {str(a): int(n) for a, n in (data.get("agency_pages") or {}).items()},
                   blocks, log_agencies, log)


def store_location(explicit: str | None, warc_dir: str | None, from_warc: str | None) -> tuple[Path | None, bool]:
    """(the learned templates' file, whether to write it): `explicit` (BOILERPLATE_FILE) if given;
    with `from_warc`, FILE_NAME beside those WARC files, read only (a rebuild does not change the
    archive it reads); else FILE_NAME in `warc_dir`; (None, False) when there is no directory."""
    if explicit:
        return Path(explicit), True
    if from_warc:
        source = Path(str(from_warc).split(",")[0])
        is_file = source.is_file() or source.name.endswith((".warc", ".warc.gz"))
        return (source.parent if is_file else source) / FILE_NAME, False
    if warc_dir:
        return Path(warc_dir) / FILE_NAME, True
    return None, False


class BoilerplateStore:
    """The learned templates of all sites, and the JSON file they live in (None: memory only)."""

    def __init__(self, path: str | Path | None = None, sites: dict[str, SiteTemplate] | None = None):
        self.path = Path(path) if path else None
        self.sites: dict[str, SiteTemplate] = sites or {}

    def site(self, name: str) -> SiteTemplate:
        template = self.sites.get(name)
        if template is None:
            template = self.sites[name] = SiteTemplate()
        return template

    @classmethod
    def load(cls, path: str | Path | None) -> "BoilerplateStore":
        """The store kept at `path`; an empty one when the file does not exist. A file that cannot be read
        (damaged, another format) is logged and set aside: learning starts again, the crawl goes on."""
        store = cls(path)
        if path is None or not Path(path).exists():
            return store
        try:
            data = json.loads(Path(path).read_text("utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            store.sites = {str(name): SiteTemplate.from_json(site) for name, site in data["sites"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("Learned boilerplate %s could not be read (%s): learning starts afresh", path, exc)
            store.sites = {}
        return store

    def to_json(self) -> dict:
        return {"format": FORMAT, "sites": {name: t.to_json() for name, t in sorted(self.sites.items())}}

    def save(self) -> Path | None:
        """Write the store to its file atomically (a reader sees the old file or the new one, never half)."""
        if self.path is None:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return self.path
