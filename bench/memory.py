"""Memory: peak resident set size of the full archival crawl at growing page counts.

One crawl per size (CLOSESPIDER_PAGECOUNT = size) of a replica large enough for the biggest
size, run as `scrapy crawl` subprocesses with the throughput benchmark's settings; the peak
is the largest sum, sampled while the crawl runs, of the crawl process's VmHWM/VmRSS and its
helper processes' VmRSS (extraction worker, WARC writer; /proc/<pid>/status). Target
(issue 6): growth under 1.3x from 1,000 to 20,000 pages.

    python -m bench.memory --pages 1000 5000 20000
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench import ReplicaProcess, machine_info
from bench.crawl_throughput import FULL, run_crawl


def run(sizes=(1000, 5000, 20000), workdir: Path | None = None, *, articles: int | None = None,
        settings: dict | None = None, log=print) -> dict:
    sizes = sorted(sizes)
    # listings and feeds add pages, so this many articles leaves room for the largest size
    articles = articles or int(max(sizes) * 1.05) + 50
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        base = Path(workdir or tmp)
        with ReplicaProcess(articles) as replica:
            for size in sizes:
                r = run_crawl(FULL, base / f"mem-{size}", replica.host_map,
                              {**(settings or {}), "CLOSESPIDER_PAGECOUNT": str(size)}, timeout=3600)
                rows.append({"target_pages": size, "pages": r.pages, "items": r.items,
                             "peak_rss_mb": r.peak_rss_mb, "pages_per_s": round(r.pages_per_s, 1),
                             "returncode": r.returncode})
                log(f"  memory {size} pages: crawled {r.pages}, peak RSS {r.peak_rss_mb} MiB, "
                    f"{r.pages_per_s:.1f} pages/s")
    first, last = rows[0], rows[-1]
    growth = (last["peak_rss_mb"] / first["peak_rss_mb"]) if first["peak_rss_mb"] and last["peak_rss_mb"] else None
    return {
        "replica_articles": articles,
        "rows": rows,
        "growth": round(growth, 3) if growth else None,
        "growth_between": f"{first['target_pages']} -> {last['target_pages']} pages",
        "ok": all(r["returncode"] == 0 and r["pages"] >= 0.9 * r["target_pages"] for r in rows),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--workdir", type=Path, default=None, help="keep the crawls' outputs here")
    args = ap.parse_args(argv)
    print(json.dumps(machine_info()))
    result = run(args.pages, args.workdir)
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
