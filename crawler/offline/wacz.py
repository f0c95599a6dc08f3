"""WACZ packaging (WACZ=True): the crawl's WARC files as one WACZ file when the crawl ends; its add-on and extension.

The WACZ (https://specs.webrecorder.net/wacz/1.1.1/) opens in pywb and ReplayWeb.page as one file
and replays on its own. It holds:

* `archive/`: the WARC files this crawl wrote (the stat "warc/files", files in WARC_DIR), and before
  them the files of earlier runs that hold the originals this crawl's revisits refer to (an
  incremental run's unchanged articles are revisits of a 304, or of an identical payload, whose
  payload is in an earlier run's file: without those files the WACZ validates but is hollow);
* `indexes/`: a CDXJ index of all of them;
* `pages/pages.jsonl`: each article of this run, `{"url", "ts", "title", "text"}`, where `ts` is
  the date of the very capture (or revisit) the page is, and `text` its cleaned body, which
  ReplayWeb.page's search reads: the exported articles, the articles fetched again and found
  unchanged, and the articles answered 304 (with the title and text of their newest item record in
  the included files);
* `datapackage.json` with a title and a description, and `datapackage-digest.json`.

It is written at engine_stopped, after the WARC recorder closed its files on spider_closed and
before the run report (which shows it), with the `wacz` package, then checked with `wacz
validate` (hashes and structure only: the replay tests are what show it replays).
Path: WACZ_PATH, else <WARC_DIR>/../<spider>-<UTC timestamp>.wacz.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.archiveiterator import ArchiveIterator

from crawler import __version__, keys
from crawler.capture.addon import WarcCapture
from crawler.components import addon_of, defaults, register
from crawler.config import require
from crawler.warc import records
from crawler.warc.cdxj import cdxj_path, read_cdxj

logger = logging.getLogger(__name__)

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Articles"}

DEFAULTS = {
    #: Where the WACZ goes; None: <WARC_DIR>/../<spider>-<UTC timestamp>.wacz.
    "WACZ_PATH": None,
    #: Check the package with `wacz validate`.
    "WACZ_VALIDATE": True,
}


class WaczPackage:
    """Add-on: package the crawl as a WACZ when it ends (WACZ=True and WARC files written)."""

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("WACZ"):
            raise NotConfigured
        if not s.getbool("WARC_ENABLED"):
            raise NotConfigured("WACZ needs WARC_ENABLED (nothing to package)")
        require("wacz.main", why="WACZ=True is set", package="wacz", extra="replay")
        return cls()

    def update_settings(self, settings):
        defaults(settings, DEFAULTS)
        # after the outcome is decided (505), before the run report (510, which shows the WACZ) and the
        # stats file (520)
        register(settings, "EXTENSIONS", "crawler.offline.wacz.WaczPackager", 508)


def capture_time(warc_dir: Path, pointer: dict) -> tuple[str, str] | None:
    """(WARC-Target-URI, WARC-Date) of the record an item's `warc` pointer names, or None."""
    path = Path(warc_dir) / pointer.get("filename", "")
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        fh.seek(int(pointer.get("offset", 0)))
        for record in ArchiveIterator(fh):
            if record.rec_headers.get_header("WARC-Record-ID") != pointer.get("record_id"):
                return None
            return record.rec_headers.get_header("WARC-Target-URI"), record.rec_headers.get_header("WARC-Date")
    return None


def pages_lines(pages: list[dict], warc_dir: Path, revalidated: list[dict] = ()) -> list[str]:
    """pages.jsonl lines (header first) for articles {"url", "title", "text", "warc"}: each page is
    the archived capture its item came from, so replay opens that exact capture; then the articles
    answered 304 ({"url", "ts", "title", "text"}: the revisit's date)."""
    lines = [json.dumps(PAGES_HEADER)]
    seen = set()
    entries = []
    for page in pages:
        where = capture_time(warc_dir, page.get("warc") or {})
        if where is not None:
            entries.append({"url": where[0], "ts": where[1], "title": page.get("title"), "text": page.get("text")})
    for entry in [*entries, *revalidated]:
        if (entry["url"], entry["ts"]) in seen:
            continue
        seen.add((entry["url"], entry["ts"]))
        lines.append(json.dumps({k: v for k, v in entry.items() if v}, ensure_ascii=False))
    return lines


def newest_items(warc_paths: list[Path], urls: set[str]) -> dict[str, dict]:
    """url -> the newest item record (urn:x-spacewar-item:<url>) for it in these WARC files, found
    through each file's .cdxj index (one record read per hit), or by a scan of a file without one."""
    found: dict[str, tuple[str, dict]] = {}

    def keep(item: dict, date: str) -> None:
        url = item.get("url")
        if url in urls and (url not in found or date > found[url][0]):
            found[url] = (date, item)

    wanted = {records.item_record_uri(url): url for url in urls}
    for path in warc_paths:
        index = cdxj_path(path)
        if index.is_file():
            for _key, _ts, fields in read_cdxj(index):
                if fields.get("url") in wanted:
                    with open(path, "rb") as fh:
                        fh.seek(int(fields["offset"]))
                        record = next(iter(ArchiveIterator(fh)))
                        keep(json.loads(record.content_stream().read()), record.rec_headers.get_header("WARC-Date"))
            continue
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "metadata" and record.rec_headers.get_header("WARC-Target-URI") in wanted:
                    keep(json.loads(record.content_stream().read()), record.rec_headers.get_header("WARC-Date"))
    return {url: item for url, (_date, item) in found.items()}


def _run_wacz(args: list[str]) -> tuple[int, str]:
    """Run the `wacz` command line in-process; return (exit code, what it printed)."""
    from wacz.main import main as wacz_main  # the `wacz` package, not this module

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            code = wacz_main(args)
        except SystemExit as exc:  # argparse errors
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # noqa: BLE001 - report, never lose the crawl over packaging
            logger.exception("wacz %s failed", args[0])
            code = 1
    return int(code or 0), out.getvalue()


def create_wacz(output: Path, warcs: list[Path], pages: list[str], title: str = "", desc: str = "") -> int:
    """Write a WACZ of the WARC files with the given pages.jsonl lines; returns wacz's exit code."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wacz-pages-") as tmp:
        pages_file = Path(tmp) / "pages.jsonl"
        pages_file.write_text("\n".join(pages) + "\n", encoding="utf-8")
        args = ["create", "-o", str(output), "--pages", str(pages_file), "--copy-pages",
                *(["--title", title] if title else []), *(["--desc", desc] if desc else []),
                *[str(w) for w in warcs]]
        code, printed = _run_wacz(args)
    logger.debug("wacz create: %s", printed.strip())
    return code


def validate_wacz(path: Path) -> bool:
    code, printed = _run_wacz(["validate", "-f", str(path)])
    logger.debug("wacz validate: %s", printed.strip())
    return code == 0


class WaczPackager:
    """Package the crawl as a WACZ file at the end of the crawl; see the module docstring."""

    def __init__(self, warc_dir: Path, output: Path, stats=None, validate: bool = True, crawler=None):
        self.warc_dir = Path(warc_dir)
        self.output = Path(output)
        self.stats = stats
        self.validate = validate
        self.crawler = crawler
        self.pages: list[dict] = []

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        warc_dir = Path(s.get("WARC_DIR"))
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        output = Path(s.get("WACZ_PATH") or warc_dir.parent / f"{crawler.spidercls.name}-{stamp}.wacz")
        o = cls(warc_dir, output, crawler.stats, s.getbool("WACZ_VALIDATE"), crawler)
        crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(o.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        return o

    def item_scraped(self, item, response=None, spider=None):
        self.pages.append({"url": item.get("url"), "title": item.get("title"), "text": item.get("body"),
                           "warc": item.get("warc")})

    def item_dropped(self, item, response=None, exception=None, spider=None):
        """An article fetched in full again and found unchanged (not exported again) is still a page of
        this run: its capture is this run's."""
        from pipelines.incremental import UnchangedItem  # the incremental stage's verdict

        if isinstance(exception, UnchangedItem) and isinstance(item.get("warc"), dict):
            self.item_scraped(item, response, spider)

    def warc_paths(self) -> list[Path]:
        """The closed WARC files of this crawl (stat "warc/files"), in the order written."""
        names = (self.stats.get_value(keys.STAT_FILES) if self.stats else None) or []
        paths = [self.warc_dir / name for name in names]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            logger.error("WACZ: WARC files missing or still open: %s", ", ".join(map(str, missing)))
        return [p for p in paths if p.is_file()]

    def revisits(self):
        """The crawl's revisit policy (crawler/capture/revisits.py), None when nothing is archived."""
        capture = addon_of(self.crawler, WarcCapture) if self.crawler is not None else None
        return capture.service.revisits if capture is not None else None

    def earlier_paths(self, own: list[Path]) -> list[Path]:
        """Earlier runs' WARC files (in WARC_DIR) holding the originals of this crawl's revisits,
        oldest first (their names start with their UTC time)."""
        names = sorted(set(getattr(self.revisits(), "referenced_files", ())) - {p.name for p in own})
        paths = [self.warc_dir / name for name in names if (self.warc_dir / name).is_file()]
        if len(paths) < len(names):
            logger.error("WACZ: WARC files holding originals of this crawl's revisits are not in %s: %s; their "
                         "revisits will not replay from the WACZ", self.warc_dir,
                         ", ".join(sorted(set(names) - {p.name for p in paths})))
        return paths

    def revalidated_pages(self, earlier: list[Path], own: list[Path]) -> list[dict]:
        """Pages for the articles this crawl confirmed with a 304: at the revisit's date, with the title
        and text of their newest item record in the WACZ's files."""
        revalidated = dict(getattr(self.revisits(), "revalidated", {}) or {})
        if not revalidated:
            return []
        items = newest_items(earlier + own, set(revalidated))
        return [{"url": url, "ts": date, "title": (items.get(url) or {}).get("title"),
                 "text": (items.get(url) or {}).get("body")} for url, (date, _original) in sorted(revalidated.items())]

    def describe(self, pages: int, own: int, earlier: int) -> tuple[str, str]:
        """The datapackage's title and description (ReplayWeb.page shows them)."""
        spider = self.crawler.spidercls if self.crawler is not None else None
        profile = getattr(spider, "profile", None)
        site = getattr(profile, "home_url", "") or getattr(spider, "name", "crawl")
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        title = f"{getattr(profile, 'title', '') or site} crawl, {when}"
        desc = (f"Articles of {site} archived by spacewar-archiver {__version__}: {pages} pages; {own} WARC "
                f"file(s) of this run" + (f" and {earlier} of earlier runs that its revisits refer to" if earlier else ""))
        return title, desc + "."

    def engine_stopped(self):
        own = self.warc_paths()
        if not own:
            logger.warning("WACZ: this crawl closed no WARC files; no WACZ written")
            return
        earlier = self.earlier_paths(own)
        warcs = earlier + own
        revalidated = self.revalidated_pages(earlier, own)
        pages = pages_lines(self.pages, self.warc_dir, revalidated)
        title, desc = self.describe(len(pages) - 1, len(own), len(earlier))
        code = create_wacz(self.output, warcs, pages, title, desc)
        if code != 0 or not self.output.is_file():
            logger.error("WACZ: packaging failed (wacz exit code %s)", code)
            self._set(keys.STAT_WACZ.format(fact="failed"), True)
            return
        self._set(keys.STAT_WACZ.format(fact="path"), str(self.output))
        self._set(keys.STAT_WACZ.format(fact="warc_files"), len(warcs))
        self._set(keys.STAT_WACZ.format(fact="earlier_warc_files"), len(earlier))
        self._set(keys.STAT_WACZ.format(fact="pages"), len(pages) - 1)
        self._set(keys.STAT_WACZ.format(fact="revalidated_pages"), len(revalidated))
        logger.info("WACZ written: %s (%d WARC files, %d of them of earlier runs; %d pages)", self.output,
                    len(warcs), len(earlier), len(pages) - 1)
        if self.validate:
            valid = validate_wacz(self.output)
            self._set(keys.STAT_WACZ.format(fact="valid"), valid)
            if not valid:
                logger.error("WACZ %s does not validate (wacz validate)", self.output)

    def _set(self, key, value):
        if self.stats:
            self.stats.set_value(key, value)
