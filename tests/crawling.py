"""Test helpers: run `scrapy crawl` in a subprocess against a test site, the way users run it, and read what it left.

`crawl()` runs one crawl to its end and returns a CrawlResult; `start_crawl()` / `run_crawl()`
give the process and the paths of its files, for tests that stop, kill or rerun crawls.
`project_crawler()` builds a Crawler with the project's settings for unit tests of one component.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"

# Settings that make a replica crawl quick; politeness stays on by default for real crawls.
FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "RETRY_TIMES": "2",
    "PROGRESS_INTERVAL": "0",
    "LOG_LEVEL": "INFO",
}


@dataclass
class CrawlResult:
    outdir: Path
    items_path: Path
    warc_dir: Path
    log_path: Path
    returncode: int
    stats: dict = field(default_factory=dict)

    @property
    def items(self) -> list[dict]:
        return read_items(self.items_path)

    @property
    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""

    def warc_files(self) -> list[Path]:
        return sorted(self.warc_dir.glob("*.warc.gz"))


def _host_map(site) -> dict:
    return site.host_map() if hasattr(site, "host_map") else dict(site)


def crawl_command(outdir: Path, site, *, items: Path, settings: dict | None = None, warc_dir: Path | None = None,
                  log: Path | None = None, stats: Path | None = None, spider: str = "spacewar",
                  args: list[str] | None = None) -> list[str]:
    """`python -m scrapy crawl SPIDER -O ITEMS -s ...` for a site (anything with host_map(), or a HOST_MAP
    dict). A site may bring the settings its crawls run with (`crawl_settings`, e.g. short time-outs); else FAST."""
    opts = dict(getattr(site, "crawl_settings", FAST))
    opts.update({"WARC_DIR": str(warc_dir or outdir / "warc"), "HOST_MAP": json.dumps(_host_map(site)),
                 "LOG_FILE": str(log or outdir / "crawl.log"), "STATS_FILE": str(stats or outdir / "stats.json"),
                 "REPORT_DIR": str(outdir)})
    opts.update(settings or {})
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-O", str(items)]
    for key, value in opts.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd + (args or [])


def start_crawl(outdir: Path, site, name: str = "run", **kw) -> tuple[subprocess.Popen, dict]:
    """Start a crawl whose files are <outdir>/<name>.jsonl, .log, .stats.json; (the process, the paths)."""
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {"items": outdir / f"{name}.jsonl", "log": outdir / f"{name}.log", "stats": outdir / f"{name}.stats.json"}
    cmd = crawl_command(outdir, site, items=paths["items"], log=paths["log"], stats=paths["stats"], **kw)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, paths


def run_crawl(outdir: Path, site, name: str = "run", timeout: float = 120, **kw) -> dict:
    """A crawl run to its end: start_crawl()'s paths plus returncode, output, stats_data and log_text."""
    proc, paths = start_crawl(outdir, site, name, **kw)
    out, _ = proc.communicate(timeout=timeout)
    paths["returncode"] = proc.returncode
    paths["output"] = out.decode("utf-8", "replace")
    paths["stats_data"] = json.loads(paths["stats"].read_text()) if paths["stats"].exists() else {}
    paths["log_text"] = paths["log"].read_text("utf-8", "replace") if paths["log"].exists() else ""
    return paths


def crawl(outdir: Path, host_map: dict, *, spider: str = "spacewar", settings: dict | None = None,
          args: list[str] | None = None, timeout: float = 300, env: dict | None = None) -> CrawlResult:
    """Run `python -m scrapy crawl SPIDER -O items.jsonl -s WARC_DIR=...` from the repo root."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    items, warc, log, stats = outdir / "items.jsonl", outdir / "warc", outdir / "crawl.log", outdir / "stats.json"
    cmd = crawl_command(outdir, host_map, items=items, settings=settings, warc_dir=warc, log=log, stats=stats,
                        spider=spider, args=args)
    proc = subprocess.run(cmd, cwd=REPO, timeout=timeout, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    result = CrawlResult(outdir, items, warc, log, proc.returncode)
    if stats.exists():
        result.stats = json.loads(stats.read_text())
    if proc.returncode != 0:
        print(proc.stdout[-5000:], proc.stderr[-5000:], result.log[-5000:], sep="\n")
    return result


# --- what a crawl left --------------------------------------------------------------------------
def read_items(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


class Checked(subprocess.CompletedProcess):
    """What `warcio check` said; true when it passed."""

    def __bool__(self) -> bool:
        return self.returncode == 0


def warcio_check(*paths, verbose: bool = False) -> Checked:
    """What `warcio check` (-v: a line per record) says of WARC files (paths, or lists of paths): warcio's own
    checker, run in this process (the command's code without the cost of starting a Python)."""
    import contextlib
    import io
    import traceback
    from types import SimpleNamespace

    from warcio.checker import Checker

    flat = [str(p) for item in paths for p in (item if isinstance(item, (list, tuple)) else [item])]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            status = Checker(SimpleNamespace(inputs=flat, verbose=verbose)).process_all()
        except Exception:  # the command would die with a traceback and status 1
            err.write(traceback.format_exc())
            status = 1
    return Checked(["warcio", "check", *(["-v"] if verbose else []), *flat], status, out.getvalue(), err.getvalue())


def warc_uris(warc_dir: Path) -> Counter:
    """How many response and revisit records each target URI has in the WARC files of a directory."""
    from warcio.archiveiterator import ArchiveIterator

    uris: Counter = Counter()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in ("response", "revisit"):
                    uris[record.rec_headers.get_header("WARC-Target-URI")] += 1
    return uris


# --- components in unit tests -------------------------------------------------------------------
def an_archive(directory: Path) -> Path:
    """A WARC file of one warcinfo record in `directory`: what a replay (`FROM_WARC`) needs to start, its first bytes
    judged to be a WARC file's, for tests that never read it further."""
    from warcio.warcwriter import WARCWriter

    path = Path(directory) / "a.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
    return path


def project_settings(**overrides) -> dict:
    """The project's settings (crawler/settings.py) as a dict, with `overrides`."""
    from crawler import settings as project

    values = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    values.update(overrides)
    return values


def project_crawler(spidercls=None, **overrides):
    """A Crawler with the project's settings, add-ons and their defaults, plus `overrides`; not started.

    WARC capture is off unless asked for (WARC_ENABLED=True): its start-up extension would lock and
    recover the default WARC_DIR."""
    from scrapy.utils.test import get_crawler

    overrides.setdefault("WARC_ENABLED", False)
    return get_crawler(spidercls, settings_dict=project_settings(**overrides))
