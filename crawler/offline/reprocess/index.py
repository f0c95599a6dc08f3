"""Which captures a reprocess turns into items: the first pass over the WARC files, into an on-disk SQLite table, and the selection.

`scan(task)` reads the WARC headers of every record of a task's byte range (in a worker) and
returns a row per response and revisit record of the sites asked for (`--sites`, else every site
of the network): URL, its selection key (the item's URL), WARC-Date, HTTP status, digest, the
revisit's profile and what it refers to, the content type, and whether the response is cut short
(crawler/warc/truncation.py: by its bytes, not only by WARC-Truncated). A record of another host
is skipped on its WARC headers, before its payload is read (counted: `off_site`), so an archive of
the whole web (a Common Crawl or CC-NEWS file) costs little more than its headers. `CaptureIndex` keeps the rows in a SQLite
file on disk, so the driver's memory does not grow with the archive, and selects:

* by default, for each article (the item URL the crawl would give it: tracking parameters, http and
  the bare host make no second item) its latest capture (WARC-Date, then file and offset) among
  the whole 2xx responses and the revisits that resolve to one;
* with `all_captures`, every such capture.

A revisit is resolved to the record holding its payload, as crawler/warc/archive.py resolves it
for `-a from_warc`: an identical-payload-digest revisit to the record its WARC-Refers-To names,
else a 200 response with the same payload digest; a server-not-modified revisit (a 304 answer)
to the latest full 200 response of its URL. A revisit that resolves to nothing is not selected
(and counted: `unresolved_revisits`), nor is a capture cut short, or a revisit that resolves only to one (a whole original
is preferred; counted: `truncated`): an earlier whole capture of the same page is taken instead. Captures whose content type is never a page the crawl
reads (images, fonts, audio, video, stylesheets, scripts) are not selected either (counted as
`not_text`, as the spider counts them).

`entries(task)` are the selected records that start in a task's range, in offset order, each with
the file and offset of its payload's record.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from crawler.offline.reprocess import reader
from crawler.offline.reprocess.tasks import ListedTask, Task
from crawler.site.profiles import SiteSet, choose
from crawler.site.urls import article_url
from crawler.warc.truncation import cut_short

#: content types the spider never parses (Scrapy makes no TextResponse of them, or they are requisites)
NOT_TEXT_PREFIXES = ("image/", "audio/", "video/", "font/", "text/css", "application/javascript",
                     "text/javascript", "application/font")


@dataclass
class ScanResult:
    """What the first pass found in one task's range."""

    task: int
    records: int = 0  # WARC records read (every type)
    rows: list[tuple] = field(default_factory=list)
    damage: list[tuple[str, int, str]] = field(default_factory=list)  # (file, offset, what)
    skipped: Counter = field(default_factory=Counter)  # records left out on their headers, by reason
    mismatch: str | None = None  # a ListedTask whose index is not its file's: why (the run reads the file whole)
    first: int | None = None  # the first record read (a byte-range task): where its reading started
    next: int | None = None  # where the next range's first record starts, as this task's reading found it (None:
    # it did not get there); the run checks it against the next task's `first` (run.py, `_chained`)


def _content_type(block: bytes) -> str:
    head = block[:8192]
    for line in head.split(b"\n")[1:]:
        if not line.strip():
            break
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower().decode("latin-1")
    return ""


HTTP = ("http:", "https:")

_SITES: dict = {}


def site_set(names: str | None) -> SiteSet:
    """The sites a reprocess keeps (`--sites`, else every site of the network), compiled once per process."""
    if names not in _SITES:
        _SITES[names] = SiteSet(choose(names))
    return _SITES[names]


_BY_HOST: dict = {}


def site_of(uri: str, sites: SiteSet):
    """The site of a target URI, by its host, which is cut out of the URI with string operations and memoised:
    the first pass asks it of every record of an archive of the whole web (SiteSet.site_of parses the URI)."""
    rest = uri.partition("//")[2]
    for sep in "/?#":
        rest = rest.partition(sep)[0]
    host = rest.rpartition("@")[2]
    if host.startswith("["):  # an IPv6 literal: no site of the network
        return None
    host = host.partition(":")[0]
    key = (id(sites), host)
    if key not in _BY_HOST:
        _BY_HOST[key] = sites.site_of(f"https://{host}/")
    return _BY_HOST[key]


_HINTS: dict = {}


def site_hint(names: str | None) -> tuple[str, ...]:
    """What the raw WARC-Target-URI of every record of the sites holds, lower-cased: one of their domains.
    `site_of` finds a site only for a URI whose host, lower-cased, is a site's host (its domain, or www. and
    its domain), and the host is a part of the URI, so such a URI, lower-cased, holds the domain whatever the
    angle brackets and whitespace around it: a URI that holds none is another host's, turned down by the
    reader without being parsed (one that holds a domain elsewhere, e.g. in its query, is judged in full)."""
    if names not in _HINTS:
        _HINTS[names] = tuple(sorted({p.domain.lower() for p in choose(names)}))
    return _HINTS[names]


def selection_key(uri: str, sites: SiteSet) -> str:
    """What captures of one article share: the item's URL (https, the www host, no query, so no tracking
    parameter), as the crawl's de-duplication keys them; an off-site URI is its own key."""
    site = site_of(uri, sites)
    return article_url(uri, site.profile) if site is not None else uri


def scan(task) -> ScanResult:
    """The first pass over one task: a row per response and revisit record (see the module docstring). A
    ListedTask (an index's on-site records of a file, crawler/offline/reprocess/listing.py) is read at its offsets."""
    if isinstance(task, ListedTask):
        return _scan_listed(task)
    out = ScanResult(task.index)
    sites = site_set(task.sites)

    def damaged(offset: int, what: str) -> None:
        out.damage.append((task.path, offset, what))

    def wanted(kind: str, headers: dict) -> bool:
        # judged on the WARC headers alone: an off-site record's payload is never read
        if kind not in ("response", "revisit"):
            return False
        uri = headers.get("warc-target-uri") or ""
        return uri.startswith(HTTP) and site_of(uri, sites) is not None

    span = reader.Span()
    for rec in reader.records(task.path, task.start, task.end, want_block=wanted, on_damage=damaged, gz=task.gz,
                              hint=site_hint(task.sites), span=span, at_record=task.at_record):
        _row(task.file_no, rec, sites, out)
    out.records = span.records
    if span.skipped_captures:  # responses and revisits of http(s) URIs that `wanted` turned down: other hosts'
        out.skipped["off_site"] += span.skipped_captures
    out.first, out.next = span.first, span.next
    return out


def _scan_listed(task: ListedTask) -> ScanResult:
    """The listed records of a file, each read at its offset; `mismatch` when one is not the listed URL's record."""
    out = ScanResult(task.index, records=task.lines)
    out.skipped["off_site"] += task.off_site
    sites = site_set(task.sites)
    for offset, url in task.listed:
        try:
            rec = reader.read_at(task.path, offset)
        except Exception as exc:  # a library's error on what is not a record: the index is not this file's
            out.mismatch = f"no WARC record at offset {offset} ({type(exc).__name__}: {exc})"
            return out
        got = rec.get("warc-target-uri") or ""
        if rec.offset != offset or got != url:
            out.mismatch = f"the record at offset {offset} is {got or 'without a target URI'}, the index says {url}"
            return out
        _row(task.file_no, rec, sites, out)
    return out


def _row(file_no: int, rec, sites: SiteSet, out: ScanResult) -> None:
    """The row of one record read (a response or revisit of the sites), or what it is skipped as."""
    if rec.type not in ("response", "revisit"):
        return
    uri = rec.get("warc-target-uri") or ""
    if not uri.startswith(HTTP):
        return
    if site_of(uri, sites) is None:
        out.skipped["off_site"] += 1
        return
    revisit = rec.type == "revisit"
    profile = rec.get("warc-profile") or ""
    status = reader.http_status(rec.block)
    if status is None and revisit and "server-not-modified" in profile:
        status = 304  # a 304 revisit may hold no HTTP headers at all (this crawl's hold none)
    if status is None:
        out.skipped["not_http"] += 1
        return
    cut = None
    if revisit:
        pass  # its block holds the headers only (wget marks that `WARC-Truncated: length`, as WARC 1.0 recommends):
        # whether the payload is whole is its original's to say (`cut` of the original, in `select`)
    elif rec.get("warc-truncated"):
        cut = f"WARC-Truncated: {rec.get('warc-truncated')}"
    else:
        cut = cut_short(rec.block)
    out.rows.append((
        file_no, rec.offset, uri, rec.get("warc-date") or "", status, int(revisit),
        int(revisit and "server-not-modified" in profile), rec.get("warc-record-id"),
        rec.get("warc-payload-digest") or rec.get("x-entity-payload-digest"),
        rec.get("warc-refers-to"), rec.get("warc-refers-to-target-uri"), _content_type(rec.block),
        selection_key(uri, sites), cut,
    ))


_SCHEMA = """
CREATE TABLE cap (file INTEGER, off INTEGER, uri TEXT, date TEXT, status INTEGER, revisit INTEGER,
                  snm INTEGER, record_id TEXT, digest TEXT, refers_to TEXT, refers_uri TEXT, mime TEXT,
                  key TEXT, cut TEXT);
"""


class CaptureIndex:
    """The captures of a reprocess in a SQLite file (a temporary one, removed by `close`)."""

    def __init__(self, directory: str | None = None):
        fd, self.path = tempfile.mkstemp(prefix="reprocess-", suffix=".sqlite", dir=directory)
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
                              "PRAGMA cache_size=-2000;" + _SCHEMA)
        self.captures = 0
        self.left_out: dict[int, Counter] = {}  # {file: {reason: captures not selected}}, after select()

    def add(self, rows: list[tuple]) -> None:
        self.db.executemany("INSERT INTO cap VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        self.captures += len(rows)

    def select(self, all_captures: bool = False) -> dict[str, int]:
        """Build the selection (table `sel`); counts of what was left out and why."""
        db = self.db
        db.executescript("""
            CREATE INDEX cap_id ON cap(record_id);
            CREATE INDEX cap_digest ON cap(digest, revisit, status);
            CREATE INDEX cap_uri ON cap(uri, revisit, status, date);
            CREATE TABLE res AS
              SELECT c.file, c.off, c.uri, c.key, c.date, c.mime, c.status, c.revisit,
                     o.file AS src_file, o.off AS src_off, COALESCE(c.cut, o.cut) AS cut
              FROM (SELECT c.*,
                      CASE  -- the capture whose payload this one carries: itself, or a revisit's original
                        WHEN c.revisit = 0 THEN c.rowid
                        WHEN c.snm = 1 THEN (SELECT o.rowid FROM cap o WHERE o.uri = COALESCE(c.refers_uri, c.uri)
                                             AND o.revisit = 0 AND o.status = 200
                                             ORDER BY o.cut IS NOT NULL, o.date DESC, o.file DESC, o.off DESC
                                             LIMIT 1)
                        ELSE COALESCE((SELECT o.rowid FROM cap o WHERE o.record_id = c.refers_to AND o.revisit = 0),
                                      (SELECT o.rowid FROM cap o WHERE o.digest = c.digest AND o.revisit = 0
                                       AND o.status = 200 ORDER BY o.cut IS NOT NULL, o.file, o.off LIMIT 1))
                      END AS src
                    FROM cap c
                    WHERE (c.revisit = 0 AND c.status BETWEEN 200 AND 299)
                       OR (c.revisit = 1 AND c.snm = 0 AND c.status BETWEEN 200 AND 299)
                       OR (c.revisit = 1 AND c.snm = 1 AND c.status = 304)) c
              LEFT JOIN cap o ON o.rowid = c.src;
        """)
        by_file: dict[int, Counter] = {}

        def tally(reason: str, query: str) -> None:
            for file, n in db.execute(query):
                by_file.setdefault(file, Counter())[reason] += n

        tally("unresolved_revisits", "SELECT file, COUNT(*) FROM res WHERE src_off IS NULL GROUP BY file")
        tally("truncated", "SELECT file, COUNT(*) FROM res WHERE src_off IS NOT NULL AND cut IS NOT NULL GROUP BY file")
        where = "src_off IS NOT NULL AND cut IS NULL"  # a cut-short capture is never selected: an earlier whole one is
        not_text = " OR ".join(f"mime LIKE '{p}%'" for p in NOT_TEXT_PREFIXES)
        if all_captures:
            db.execute(f"CREATE TABLE sel AS SELECT file, off, src_file, src_off, mime FROM res WHERE {where}")
        else:
            db.execute(f"""CREATE TABLE sel AS SELECT file, off, src_file, src_off, mime FROM (
                             SELECT *, ROW_NUMBER() OVER (PARTITION BY key ORDER BY date DESC, file DESC, off DESC)
                               AS n FROM res WHERE {where}) WHERE n = 1""")
        tally("not_text", f"SELECT file, COUNT(*) FROM sel WHERE {not_text} GROUP BY file")
        db.execute(f"DELETE FROM sel WHERE {not_text}")
        db.execute("CREATE INDEX sel_pos ON sel(file, off)")
        db.commit()
        self.left_out = by_file
        return {reason: sum(c[reason] for c in by_file.values())
                for reason in ("unresolved_revisits", "truncated", "not_text")}

    def selected_by_file(self) -> dict[int, int]:
        """{file: selected records}."""
        return dict(self.db.execute("SELECT file, COUNT(*) FROM sel GROUP BY file"))

    def selected(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM sel").fetchone()[0]

    def entries(self, task: Task, files: list[str]) -> list[tuple[int, str, int]]:
        """(offset, payload's file, payload's offset) of the selected records starting in the task's range."""
        rows = self.db.execute("SELECT off, src_file, src_off FROM sel WHERE file = ? AND off >= ? AND off < ? "
                               "ORDER BY off", (task.file_no, task.start, task.end))
        return [(off, files[src_file], src_off) for off, src_file, src_off in rows]

    def close(self) -> None:
        self.db.close()
        Path(self.path).unlink(missing_ok=True)
