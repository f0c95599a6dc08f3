"""Two runs of the replica into one WARC_DIR, the second incremental, each packaged as a WACZ: what the replay tests replay.

`two_runs(outdir, replica)` runs `scrapy crawl spacewar` twice, the way scheduled runs go (one WARC_DIR,
one STATE_PATH, `-s WACZ=True` with a WACZ per run) and, between the runs, edits a few articles on the
replica (an editor's correction), so run 2 holds changed articles (new responses) and unchanged ones
(revisits of 304s pointing into run 1's files). `repo` runs the crawls with another checkout's code
(for before/after figures: `python -m tests.replay.measure`).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from tests.crawling import REPO, CrawlResult, crawl_command


@dataclass
class Run:
    number: int
    result: CrawlResult
    warc_files: list[Path]  # the files this run wrote, in WARC_DIR
    wacz: Path

    @property
    def stats(self) -> dict:
        return self.result.stats


@dataclass
class TwoRuns:
    outdir: Path
    warc_dir: Path
    runs: list[Run]
    expected: list[str]  # article URLs a correct crawl exports
    edited: list[str]  # articles changed between the runs
    items: dict[str, list[dict]] = field(default_factory=dict)  # url -> items exported by run 1, 2

    def all_warc_files(self) -> list[Path]:
        return [p for run in self.runs for p in run.warc_files]

    def latest_item(self, url: str) -> dict:
        return self.items[url][-1]


def two_runs(outdir: Path, replica, *, settings: dict | None = None, edit: int = 2, repo: Path | None = None,
             timeout: float = 600) -> TwoRuns:
    outdir = Path(outdir)
    warc_dir, state = outdir / "warc", outdir / "state.sqlite"
    expected = sorted(item["url"] for item in replica.expected_items())
    runs, edited = [], []
    for number in (1, 2):
        if number == 2 and edit:
            edited = [a.url for a in replica.site.articles if a.fault is None and a.url in expected][:edit]
            for url in edited:
                replica.site.edit_article(url, f"Correction added before run 2 to {url.rsplit('/', 1)[-1]}.")
        before = set(warc_dir.glob("*.warc.gz")) if warc_dir.exists() else set()
        run_dir = outdir / f"run{number}"
        wacz = run_dir / "crawl.wacz"
        # REVISIT_EVERY_RUN: run 2 revalidates every known article (the revisit policy would leave old ones for later)
        opts = {"WARC_DIR": str(warc_dir), "STATE_PATH": str(state), "WACZ": "True", "WACZ_PATH": str(wacz),
                "REVISIT_EVERY_RUN": "True", **(settings or {})}
        result = run_crawl(run_dir, replica, opts, timeout, repo)
        runs.append(Run(number, result, sorted(set(warc_dir.glob("*.warc.gz")) - before), wacz))
    out = TwoRuns(outdir, warc_dir, runs, expected, edited)
    for run in runs:
        for item in run.result.items:
            out.items.setdefault(item["url"], []).append(item)
    return out


def run_crawl(run_dir: Path, replica, settings: dict, timeout: float, repo: Path | None) -> CrawlResult:
    """tests.crawling.crawl(), run from `repo` (default: this checkout), whose `crawler` package it imports."""
    run_dir.mkdir(parents=True, exist_ok=True)
    items, log, stats = run_dir / "items.jsonl", run_dir / "crawl.log", run_dir / "stats.json"
    cmd = crawl_command(run_dir, replica, items=items, settings=settings, warc_dir=Path(settings["WARC_DIR"]),
                        log=log, stats=stats)
    proc = subprocess.run(cmd, cwd=repo or REPO, timeout=timeout, capture_output=True, text=True, env=dict(os.environ))
    result = CrawlResult(run_dir, items, Path(settings["WARC_DIR"]), log, proc.returncode)
    if stats.exists():
        result.stats = json.loads(stats.read_text())
    if proc.returncode != 0:
        print(proc.stdout[-5000:], proc.stderr[-5000:], result.log[-5000:], sep="\n")
    return result


def records(paths, types=("response", "revisit")):
    """(path, record headers, HTTP status or None) of the records of these WARC files."""
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in types:
                    status = int(record.http_headers.get_statuscode()) if record.http_headers else None
                    yield path, record.rec_headers, status


def save_manifest(runs: TwoRuns) -> Path:
    """outdir/manifest.json: what each run wrote, for looking at a run by hand."""
    data = {"warc_dir": str(runs.warc_dir), "expected": runs.expected, "edited": runs.edited,
            "runs": [{"run": r.number, "returncode": r.result.returncode, "warc_files": [p.name for p in r.warc_files],
                      "wacz": str(r.wacz), "stats": {k: v for k, v in r.stats.items()
                                                     if k.startswith(("incremental/", "wacz/", "requisites/",
                                                                      "warc/revisits", "warc/not_modified"))}}
                     for r in runs.runs]}
    path = runs.outdir / "manifest.json"
    path.write_text(json.dumps(data, indent=1))
    return path
