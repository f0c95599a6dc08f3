"""WACZ packaging (WACZ=True): the crawl's WARC files as one WACZ file when the crawl ends; its add-on and extension.

The WACZ (https://specs.webrecorder.net/wacz/1.1.1/) holds the WARC files this crawl wrote
(the stat "warc/files", files in WARC_DIR), a CDXJ index of them and pages/pages.jsonl
listing the exported articles (URL, capture time, title), so pywb and ReplayWeb.page open
the crawl as one file. It is written at engine_stopped, after the WARC recorder closed its
files on spider_closed, with the `wacz` package, then checked with `wacz validate`.
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

from crawler import keys
from crawler.components import defaults, register
from crawler.config import require

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
        # after the outcome is decided, before the stats file is written (its stats are in it)
        register(settings, "EXTENSIONS", "crawler.offline.wacz.WaczPackager", 515)


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


def pages_lines(pages: list[dict], warc_dir: Path) -> list[str]:
    """pages.jsonl lines (header first) for articles {"url", "title", "warc"}: each page is
    the archived capture its item came from, so replay opens that exact capture."""
    lines = [json.dumps(PAGES_HEADER)]
    seen = set()
    for page in pages:
        where = capture_time(warc_dir, page.get("warc") or {})
        if where is None:
            continue
        uri, date = where
        if (uri, date) in seen:
            continue
        seen.add((uri, date))
        entry = {"url": uri, "ts": date}
        if page.get("title"):
            entry["title"] = page["title"]
        lines.append(json.dumps(entry, ensure_ascii=False))
    return lines


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


def create_wacz(output: Path, warcs: list[Path], pages: list[str]) -> int:
    """Write a WACZ of the WARC files with the given pages.jsonl lines; returns wacz's exit code."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wacz-pages-") as tmp:
        pages_file = Path(tmp) / "pages.jsonl"
        pages_file.write_text("\n".join(pages) + "\n", encoding="utf-8")
        args = ["create", "-o", str(output), "--pages", str(pages_file), "--copy-pages",
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

    def __init__(self, warc_dir: Path, output: Path, stats=None, validate: bool = True):
        self.warc_dir = Path(warc_dir)
        self.output = Path(output)
        self.stats = stats
        self.validate = validate
        self.pages: list[dict] = []

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        warc_dir = Path(s.get("WARC_DIR"))
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        output = Path(s.get("WACZ_PATH") or warc_dir.parent / f"{crawler.spidercls.name}-{stamp}.wacz")
        o = cls(warc_dir, output, crawler.stats, s.getbool("WACZ_VALIDATE"))
        crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        return o

    def item_scraped(self, item, response=None, spider=None):
        self.pages.append({"url": item.get("url"), "title": item.get("title"), "warc": item.get("warc")})

    def warc_paths(self) -> list[Path]:
        """The closed WARC files of this crawl (stat "warc/files"), in the order written."""
        names = (self.stats.get_value(keys.STAT_FILES) if self.stats else None) or []
        paths = [self.warc_dir / name for name in names]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            logger.error("WACZ: WARC files missing or still open: %s", ", ".join(map(str, missing)))
        return [p for p in paths if p.is_file()]

    def engine_stopped(self):
        warcs = self.warc_paths()
        if not warcs:
            logger.warning("WACZ: this crawl closed no WARC files; no WACZ written")
            return
        pages = pages_lines(self.pages, self.warc_dir)
        code = create_wacz(self.output, warcs, pages)
        if code != 0 or not self.output.is_file():
            logger.error("WACZ: packaging failed (wacz exit code %s)", code)
            self._set(keys.STAT_WACZ.format(fact="failed"), True)
            return
        self._set(keys.STAT_WACZ.format(fact="path"), str(self.output))
        self._set(keys.STAT_WACZ.format(fact="warc_files"), len(warcs))
        self._set(keys.STAT_WACZ.format(fact="pages"), len(pages) - 1)
        logger.info("WACZ written: %s (%d WARC files, %d pages)", self.output, len(warcs), len(pages) - 1)
        if self.validate:
            valid = validate_wacz(self.output)
            self._set(keys.STAT_WACZ.format(fact="valid"), valid)
            if not valid:
                logger.error("WACZ %s does not validate (wacz validate)", self.output)

    def _set(self, key, value):
        if self.stats:
            self.stats.set_value(key, value)
