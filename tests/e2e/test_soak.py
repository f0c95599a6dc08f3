"""Soak: a 20,000-page crawl keeps its memory bounded and loses nothing (opt-in: RUN_SLOW=1).

The site is tests/test_faults.FaultSite with 18,200 articles on 1,820 listing pages (about
20,000 pages with the home page, feed and robots.txt). The crawl runs with a JOBDIR (so the
in-flight journal is exercised at scale); the resident set size of the crawl process is read
from /proc every second and printed against pages served, with the peak, and written to
SOAK_REPORT (default: the test's tmp dir, soak.json).

    RUN_SLOW=1 .venv/bin/pytest -q -s tests/e2e/test_soak.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.crawling import start_crawl, warcio_check
from tests.sites.faultsite import FaultSite

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="soak test: set RUN_SLOW=1 to run it"),
]

N_ARTICLES = 18_200
PEAK_RSS_LIMIT = 1024 * 1024 * 1024


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def test_a_20000_page_crawl_has_bounded_memory_and_loses_nothing(tmp_path):
    with FaultSite(n_articles=N_ARTICLES) as site:
        proc, paths = start_crawl(tmp_path, site, "soak", settings={
            "JOBDIR": str(tmp_path / "job"), "CONCURRENT_REQUESTS": "32",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "LOG_LEVEL": "INFO", "WARC_METADATA": "False"})
        samples = []  # (seconds, pages served, rss bytes)
        started = time.monotonic()
        while proc.poll() is None:
            rss = rss_bytes(proc.pid)
            if rss:
                samples.append((round(time.monotonic() - started, 1), sum(site.hits.values()), rss))
            time.sleep(1.0)
        output = proc.stdout.read().decode(errors="replace")
        pages = sum(site.hits.values())
        expected = site.article_urls()
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, output[-3000:]
    stats = json.loads(paths["stats"].read_text())

    urls = []
    with open(paths["items"], "rb") as fh:
        for line in fh:
            urls.append(json.loads(line)["url"])
    assert len(urls) == len(set(urls)) == len(expected)
    assert set(urls) == expected
    warcs = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert warcs and not list((tmp_path / "warc").glob("*.open"))
    assert all(warcio_check(p) for p in warcs)

    peak = max(rss for _, _, rss in samples)
    peak_at = next(p for _, p, rss in samples if rss == peak)
    quarter = [rss for _, p, rss in samples if p >= pages / 4]
    report = {
        "pages_served": pages, "articles_exported": len(urls), "seconds": round(elapsed, 1),
        "pages_per_second": round(pages / elapsed, 1), "peak_rss_mib": round(peak / 2**20, 1),
        "peak_at_pages": peak_at, "rss_at_quarter_mib": round(quarter[0] / 2**20, 1) if quarter else None,
        "final_rss_mib": round(samples[-1][2] / 2**20, 1),
        "warc_bytes": sum(p.stat().st_size for p in warcs),
        "journal_bytes": sum(p.stat().st_size for p in (tmp_path / "job" / "inflight").glob("*")),
        "samples": [(t, p, round(r / 2**20, 1)) for t, p, r in samples],
        "inflight": {k: v for k, v in stats.items() if k.startswith("inflight/")},
    }
    out = Path(os.environ.get("SOAK_REPORT") or tmp_path / "soak.json")
    out.write_text(json.dumps(report, indent=1))
    print("\nsoak:", json.dumps({k: v for k, v in report.items() if k != "samples"}))
    step = max(1, len(samples) // 20)
    for t, p, r in report["samples"][::step]:
        print(f"  t={t:7.1f}s pages={p:6d} rss={r:7.1f} MiB")
    assert peak < PEAK_RSS_LIMIT
    # bounded: no steady growth with pages crawled once the crawl is under way
    if quarter:
        assert peak < quarter[0] * 2
