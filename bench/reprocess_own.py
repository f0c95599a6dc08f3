"""Reprocess of our own crawl's archive, page requisites and all: this tree against a baseline checkout, end to end, side by side.

    python -m bench.reprocess_own --articles 15000 --baseline CHECKOUT [--rounds 3] [--workdir DIR]
        [--processes 2]

1. One real crawl of the replica (`python -m tests.sites.replica --no-faults --articles N`, in its own
   process) with the project's defaults for what is archived (REQUISITES on: images, stylesheets and
   scripts of every page are fetched and archived, with the request, metadata and item records the
   crawl writes), bench/crawl_throughput.py's speed settings otherwise. It is kept in
   WORKDIR/crawl-N and reused by later runs (15,000 articles: 22,221 pages and their requisites in
   224 s on the 2-core machine).
2. `scrapy reprocess WARC_DIR -O out.jsonl --processes P` run from each checkout, rounds interleaved
   (who goes first swaps each round): wall seconds of the whole command as a user times it (start-up
   included), articles/s end to end (items written / wall), CPU seconds of the process tree.
3. The outputs must be the same bytes (this tree's and the baseline's JSON Lines are compared; a
   difference is printed and fails the run, exit 1).

Unlike bench/reprocess_throughput.py, whose archives repeat one crawl's pages under new URLs (fewer
records per article), this is a real crawl's archive: about 4.6 records per article.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench import REPO, ReplicaProcess, machine_info, timed_reprocess
from bench.crawl_throughput import FULL, run_crawl


def crawl(articles: int, workdir: Path) -> Path:
    """The WARC directory of one real crawl (requisites on) of a replica of `articles` articles, made once."""
    outdir = workdir / f"crawl-{articles}"
    done = outdir / "crawl.json"
    if done.exists():
        return Path(json.loads(done.read_text())["warc_dir"])
    print(f"crawling a replica of {articles} articles with page requisites into {outdir}", flush=True)
    with ReplicaProcess(articles) as replica:
        run = run_crawl(FULL, outdir, replica.host_map, {"REQUISITES": "True"}, timeout=4 * 3600)
    if run.returncode != 0 or not run.items:
        raise SystemExit(f"the crawl failed (exit {run.returncode}, {run.items} items): see {outdir}")
    info = {"warc_dir": str(outdir / "warc"), "articles": articles, "items": run.items, "pages": run.pages,
            "crawl_seconds": round(run.wall, 1)}
    done.write_text(json.dumps(info))
    return outdir / "warc"


def reprocess(repo: Path, warc_dir: Path, out: Path, processes: int) -> dict:
    """One `scrapy reprocess` from the checkout `repo`, timed end to end, with its articles and records."""
    res = timed_reprocess(repo, warc_dir, out, processes=processes)
    return {**res, "articles": res["summary"].get("articles", 0), "records": res["summary"].get("records", 0)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=15000, help="articles of the replica crawled")
    parser.add_argument("--baseline", type=Path, required=True,
                        help="a checkout of the revision to compare with (e.g. a git worktree of main)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="keeps the crawl for later runs")
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="reprocess-own-"))
    work.mkdir(parents=True, exist_ok=True)
    warc_dir = crawl(args.articles, work)
    size = sum(p.stat().st_size for p in warc_dir.glob("*.warc.gz"))
    print(f"archive: {warc_dir} ({size / 1e6:.1f} MB); {machine_info()}", flush=True)
    runs: dict[str, list[dict]] = {"baseline": [], "this": []}
    outs = {"baseline": work / "baseline.jsonl", "this": work / "this.jsonl"}
    for k in range(args.rounds):
        order = [("baseline", args.baseline), ("this", REPO)]
        for name, repo in (order if k % 2 == 0 else order[::-1]):
            res = reprocess(repo, warc_dir, outs[name], args.processes)
            runs[name].append(res)
            print(f"round {k + 1} {name}: {res['wall']:.2f} s wall, {res['cpu']:.2f} s CPU, exit {res['status']}, "
                  f"{res['articles']} articles of {res['records']} records, "
                  f"{res['articles'] / res['wall']:.0f} articles/s", flush=True)
            if res["status"] != 0:
                print(res["stderr"])
    same = outs["baseline"].read_bytes() == outs["this"].read_bytes()
    print(f"\nCommand: `python -m bench.reprocess_own --articles {args.articles} --rounds {args.rounds} "
          f"--processes {args.processes} --baseline CHECKOUT`\n")
    print("| checkout | wall s (median) | range | articles/s end to end (median) | CPU s (median) | articles |")
    print("| --- | --- | --- | --- | --- | --- |")
    med = {}
    for name in ("baseline", "this"):
        walls = sorted(r["wall"] for r in runs[name])
        cpus = sorted(r["cpu"] for r in runs[name])
        med[name] = walls[len(walls) // 2]
        arts = runs[name][-1]["articles"]
        print(f"| {name} | {med[name]:.2f} | {walls[0]:.2f}-{walls[-1]:.2f} | {arts / med[name]:.0f} | "
              f"{cpus[len(cpus) // 2]:.2f} | {arts} |")
    print(f"\nspeed-up (baseline / this, median wall): {med['baseline'] / med['this']:.2f}x; "
          f"identical JSON Lines: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
