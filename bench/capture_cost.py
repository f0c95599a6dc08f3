"""What the network job costs under the shipped settings: CPU per page of the whole process tree, peak RSS, pages/s.

Issue 22 asked whether the helper processes (the WARC writer process and the extraction worker
that crawler/workers/ used to run) pay under the settings users run, and how the crawl's CPU per
page compares with a plain Scrapy spider's. This runs, interleaved on one replica (its own process,
the four sister sites served in full), each variant `rounds` times:

- `scrapy crawl network` (5 sites) at the shipped politeness (DOWNLOAD_DELAY, AutoThrottle, per-host
  concurrency: nothing overridden but where the outputs go), from one checkout or another
  (`--base DIR`: an older tree, e.g. `git archive <rev> | tar -x -C DIR`), with its settings
  (e.g. `EXTRACT_WORKERS=0`);
- the plain link-following spider over the same five sites (bench/plain_spider.py `-a sites=all`): the
  lean like-for-like baseline, the project's link rules and settings without the archiving;
- a stock Scrapy spider over the same five sites (bench/stock_spider.py: a CrawlSpider with one
  LinkExtractor rule, Scrapy's default settings but for the project's politeness, robots.txt, host map
  and User-Agent), run outside the checkout so that no project settings apply: the baseline a user
  would write;
- then `scrapy crawl network -a from_warc=DIR` (the rebuild from the first crawl's WARC files) with
  each crawl variant.

CPU is user + system of the crawl process and every process it waited for (RUSAGE_CHILDREN), per
response received and per page answered 200 (`downloader/response_status_count/200`); each is also
given as a ratio to each baseline's. Peak RSS is the process tree's (bench/crawl_throughput.py
run_sampled). Medians.

    python -m bench.capture_cost --articles 40 --rounds 3 --base /tmp/arch-base \\
        --variant 'base:base' --variant 'base-inproc:base:EXTRACT_WORKERS=0,WARC_WRITER_PROCESS=False' \\
        --variant 'new:.'
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO, ReplicaProcess, median
from bench.crawl_throughput import run_sampled
from bench.stock_spider import settings as stock_settings

#: The network's four sister sites served in full beside SpaceWar.com (tests/sites/replica/__main__.py).
SITES = "all"
#: the two baselines: bench/plain_spider.py and bench/stock_spider.py
BASELINES = ("plain", "stock")


def command(kind: str, outdir: Path, host_map: dict, settings: dict, from_warc: Path | None, repo: Path) -> list[str]:
    opts = {"HOST_MAP": json.dumps(host_map), "LOG_FILE": str(outdir / "crawl.log"),
            "STATS_FILE": str(outdir / "stats.json"), "REPORT_DIR": str(outdir), "WARC_DIR": str(outdir / "warc"),
            "LOG_LEVEL": "INFO", **settings}
    if kind == "stock":
        opts = {key: opts[key] for key in ("HOST_MAP", "LOG_FILE", "STATS_FILE", "LOG_LEVEL")}
        opts.update({key: json.dumps(value) if isinstance(value, (dict, list)) else value
                     for key, value in stock_settings().items()})
        opts.update(settings)
        cmd = [sys.executable, "-m", "scrapy", "runspider", str(repo / "bench" / "stock_spider.py")]
    elif kind == "plain":
        # the archival spider sets its own User-Agent (USER_AGENT None); the plain one needs one for robots.txt
        opts.setdefault("USER_AGENT", "spacewar-archiver-bench/1.0 (+https://example.invalid/spacewar-archiver)")
        cmd = [sys.executable, "-m", "scrapy", "runspider", str(repo / "bench" / "plain_spider.py"), "-a", f"sites={SITES}"]
    else:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "network", "-O", str(outdir / "items.jsonl")]
        if from_warc is not None:
            cmd += ["-a", f"from_warc={from_warc}"]
    for key, value in opts.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def run_one(kind: str, outdir: Path, host_map: dict, settings: dict, repo: Path,
            from_warc: Path | None = None) -> dict:
    """One crawl as a subprocess running `repo`'s code: its figures."""
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = command(kind, outdir, host_map, settings, from_warc, repo)
    env = dict(os.environ, PYTHONPATH=str(repo))
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    # the stock spider runs where no scrapy.cfg is found: Scrapy's default settings, not the project's
    cwd = outdir if kind == "stock" else repo
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc, peak = run_sampled(cmd, cwd, outdir / "stdio.log", timeout=1800, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stats_path = outdir / "stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    pages = int(stats.get("response_received_count") or 0)
    ok_pages = int(stats.get("downloader/response_status_count/200") or 0)
    if proc.returncode != 0 or not pages:
        print(f"[{kind} {outdir.name} exited {proc.returncode}]\n"
              + (outdir / "stdio.log").read_text("utf-8", "replace")[-2000:], file=sys.stderr)
    elapsed = float(stats.get("elapsed_time_seconds") or 0.0)
    return {"returncode": proc.returncode, "pages": pages, "ok_pages": ok_pages,
            "items": int(stats.get("item_scraped_count") or 0),
            "elapsed": elapsed, "wall": round(wall, 2), "cpu": round(cpu, 3),
            "cpu_ms_per_page": round(1000 * cpu / pages, 3) if pages else None,
            "cpu_ms_per_200": round(1000 * cpu / ok_pages, 3) if ok_pages else None,
            "pages_per_s": round(pages / elapsed, 3) if elapsed else None,
            "peak_rss_mb": round(peak / 1024, 1) if peak else None}


def parse_variant(text: str, base: Path | None) -> tuple[str, Path, dict]:
    """'label:tree[:NAME=VALUE,...]' where tree is 'base' (--base) or a checkout directory."""
    label, tree, *rest = text.split(":", 2)
    repo = base if tree == "base" else Path(tree).resolve()
    if repo is None:
        raise SystemExit(f"variant {label} runs the base tree: give --base")
    settings = dict(pair.split("=", 1) for pair in rest[0].split(",") if pair) if rest else {}
    return label, repo, settings


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["returncode"] == 0 and r["pages"]]
    out = {"runs": len(runs), "ok": len(ok)}
    for key in ("pages", "ok_pages", "items", "elapsed", "wall", "cpu_ms_per_page", "cpu_ms_per_200", "pages_per_s",
                "peak_rss_mb"):
        values = [r[key] for r in ok if r[key] is not None]
        out[key] = round(median(values), 3) if values else None
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=40, help="articles of each of the five sites")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--base", type=Path, default=None, help="an older checkout the 'base' variants run")
    ap.add_argument("--variant", action="append", default=[], help="label:tree[:NAME=VALUE,...] (repeatable)")
    ap.add_argument("--no-plain", action="store_true", help="leave the plain spider out")
    ap.add_argument("--no-stock", action="store_true", help="leave the stock Scrapy spider out")
    ap.add_argument("--no-rebuild", action="store_true", help="leave the from_warc rebuilds out")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write every run and the medians here")
    args = ap.parse_args(argv)
    base = args.base.resolve() if args.base else None
    variants = [parse_variant(v, base) for v in args.variant] or [("new", REPO, {})]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-capture-"))
    crawl_labels = ([label for label, _, _ in variants] + ([] if args.no_plain else ["plain"])
                    + ([] if args.no_stock else ["stock"]))
    runs: dict[str, list[dict]] = {label: [] for label in crawl_labels}
    rebuilds: dict[str, list[dict]] = {label: [] for label, _, _ in variants}
    by_label = {label: (repo, settings) for label, repo, settings in variants}
    with ReplicaProcess(args.articles, sisters=args.articles) as replica:
        source = None
        for i in range(args.rounds):
            order = crawl_labels[i % len(crawl_labels):] + crawl_labels[:i % len(crawl_labels)]
            for label in order:
                repo, settings = by_label.get(label, (REPO, {}))
                r = run_one(label if label in BASELINES else "crawl", workdir / f"{label}-{i}",
                            replica.host_map, settings, repo)
                runs[label].append(r)
                print(f"round {i + 1} {label:12s} {json.dumps(r)}", flush=True)
                if source is None and label not in BASELINES and r["returncode"] == 0:
                    source = workdir / f"{label}-{i}" / "warc"
        if not args.no_rebuild and source is not None:
            labels = list(rebuilds)
            for i in range(args.rounds):
                for label in labels[i % len(labels):] + labels[:i % len(labels)]:
                    repo, settings = by_label[label]
                    r = run_one("crawl", workdir / f"rebuild-{label}-{i}", replica.host_map, settings, repo,
                                from_warc=source)
                    rebuilds[label].append(r)
                    print(f"rebuild {i + 1} {label:12s} {json.dumps(r)}", flush=True)
    result = {"articles_per_site": args.articles, "rounds": args.rounds,
              "crawl": {label: summarise(rs) for label, rs in runs.items()},
              "rebuild": {label: summarise(rs) for label, rs in rebuilds.items() if rs},
              "runs": {"crawl": runs, "rebuild": rebuilds}}
    for baseline in BASELINES:  # the ratios of the medians, per response and per page answered 200
        for per in ("cpu_ms_per_page", "cpu_ms_per_200"):
            ref = result["crawl"].get(baseline, {}).get(per)
            if ref:
                result[f"{per}_vs_{baseline}"] = {label: round(s[per] / ref, 3)
                                                  for label, s in result["crawl"].items() if s[per]}
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
