"""Test helper: run `scrapy crawl` in a subprocess against the replica, the way users run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

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
        if not self.items_path.exists():
            return []
        return [json.loads(line) for line in self.items_path.read_text("utf-8").splitlines() if line.strip()]

    @property
    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""

    def warc_files(self) -> list[Path]:
        return sorted(self.warc_dir.glob("*.warc.gz"))


def crawl(outdir: Path, host_map: dict, *, spider: str = "spacewar", settings: dict | None = None,
          args: list[str] | None = None, timeout: float = 300, env: dict | None = None) -> CrawlResult:
    """Run `python -m scrapy crawl SPIDER -O items.jsonl -s WARC_DIR=...` from the repo root."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    items = outdir / "items.jsonl"
    warc = outdir / "warc"
    log = outdir / "crawl.log"
    stats = outdir / "stats.json"
    opts = dict(FAST)
    opts.update({"WARC_DIR": str(warc), "HOST_MAP": json.dumps(host_map), "LOG_FILE": str(log),
                 "STATS_FILE": str(stats), "REPORT_DIR": str(outdir)})
    opts.update(settings or {})
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-O", str(items)]
    for key, value in opts.items():
        cmd += ["-s", f"{key}={value}"]
    cmd += args or []
    proc = subprocess.run(cmd, cwd=REPO, timeout=timeout, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    result = CrawlResult(outdir, items, warc, log, proc.returncode)
    if stats.exists():
        result.stats = json.loads(stats.read_text())
    if proc.returncode != 0:
        print(proc.stdout[-5000:], proc.stderr[-5000:], result.log[-5000:], sep="\n")
    return result


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
