"""Reprocessing throughput: every archived article rebuilt from WARC files, four ways, side by side.

    python -m bench.reprocess_throughput --articles 1500,15000 [--rounds 1] [--workdir DIR]
        [--repo PATH] [--baseline-max 15000] [--variants from_warc,local1,local2,ray]

For each size, on the same files (bench/archive_gen.py: one real replica crawl, repeated under
new URLs beyond its own size), each run a subprocess from the project directory as a user runs it:

  (a) from_warc  `scrapy crawl spacewar -a from_warc=DIR -s DEPTH_LIMIT=0 -O out.jsonl` (the baseline;
                 skipped above --baseline-max articles, 15,000 by default: it runs at about 180
                 pages/s, and the table says when it was skipped)
  (b) local1     `scrapy reprocess DIR -O out.jsonl --processes 1`
  (c) local2     `scrapy reprocess DIR -O out.jsonl --processes 2`
  (d) ray        `scrapy reprocess DIR -O out.jsonl --engine ray`

and for each: wall seconds, articles/s (items written / wall seconds), the ratio to (a), the peak
resident memory of the whole process tree (/proc sampled every 0.1 s: the command and every
process below it, Ray's workers included, each at its own peak so far, VmHWM; not wait4's
ru_maxrss, which Linux carries over fork and exec, so that a command would report this
benchmark's own peak), and whether its items agree with the others' (same
number, same set of `url`; and whether they are identical, field by field, to the first variant's). `scrapy reprocess` is looked for in the checkout it runs from
(--repo, this one by default); where it is missing (or has no --engine ray, or Ray is not
installed) its rows say "not available". Rounds alternate the variants, the first rotating; the
best (shortest) round of each is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import REPO, machine_info
from bench.crawl_throughput import run_sampled

VARIANTS = ("from_warc", "local1", "local2", "ray")
LABELS = {
    "from_warc": "(a) scrapy crawl spacewar -a from_warc=DIR -s DEPTH_LIMIT=0",
    "local1": "(b) scrapy reprocess DIR --processes 1",
    "local2": "(c) scrapy reprocess DIR --processes 2",
    "ray": "(d) scrapy reprocess DIR --engine ray",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Run:
    variant: str
    articles: int  # of the archive
    available: bool = True
    why: str = ""  # why not available / skipped
    returncode: int | None = None
    wall: float | None = None
    items: int | None = None
    peak_rss_mb: float | None = None
    urls_sha1: str | None = None  # of the sorted item URLs
    items_sha1: str | None = None  # of the sorted items (each as JSON with sorted keys): identical items
    summary: dict = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return round(self.items / self.wall, 1) if self.items and self.wall else None


def command(variant: str, warc_dir: Path, outdir: Path) -> list[str]:
    out = outdir / "out.jsonl"
    if variant == "from_warc":
        cmd = [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-a", f"from_warc={warc_dir}",
               "-s", "DEPTH_LIMIT=0", "-O", str(out)]
        for k, v in {"LOG_FILE": outdir / "crawl.log", "STATS_FILE": outdir / "stats.json",
                     "REPORT_DIR": outdir, "PROGRESS_INTERVAL": 0, "LOG_LEVEL": "INFO"}.items():
            cmd += ["-s", f"{k}={v}"]
        return cmd
    cmd = [sys.executable, "-m", "scrapy", "reprocess", str(warc_dir), "-O", str(out),
           "--summary", str(outdir / "summary.json")]
    if variant == "local1":
        cmd += ["--processes", "1"]
    elif variant == "local2":
        cmd += ["--processes", "2"]
    elif variant == "ray":
        cmd += ["--engine", "ray"]
    else:
        raise ValueError(variant)
    return cmd


def availability(repo: Path) -> dict[str, str]:
    """{variant: "" when it can run, else why not} for the checkout at `repo`."""
    out = {"from_warc": ""}
    try:
        proc = subprocess.run([sys.executable, "-m", "scrapy", "reprocess", "-h"], cwd=repo, capture_output=True,
                              text=True, timeout=120)
        text = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        proc, text = None, "timed out"
    if proc is None or proc.returncode != 0 or "Unknown command" in text:
        why = f"not available: no `scrapy reprocess` in {repo}"
        return {**out, "local1": why, "local2": why, "ray": why}
    out["local1"] = out["local2"] = "" if "--processes" in text else "not available: no --processes option"
    if "--engine" not in text:
        out["ray"] = "not available: no --engine option"
    else:
        probe = subprocess.run([sys.executable, "-c", "import ray"], cwd=repo, capture_output=True, timeout=120)
        out["ray"] = "" if probe.returncode == 0 else "not available: Ray is not installed (pip install ray[data])"
    return out


def _count_items(path: Path) -> tuple[int, str | None, str | None]:
    """(items, SHA-1 of their sorted URLs, SHA-1 of the sorted items) of a JSON Lines file."""
    if not path.exists():
        return 0, None, None
    urls, items = [], []
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                item = json.loads(line)
                urls.append(item.get("url") or "")
                items.append(json.dumps(item, sort_keys=True, ensure_ascii=False))
    urls.sort()
    items.sort()
    return (len(urls), hashlib.sha1("\n".join(urls).encode()).hexdigest(),
            hashlib.sha1("\n".join(items).encode()).hexdigest())


def run_one(variant: str, articles: int, warc_dir: Path, outdir: Path, repo: Path, *,
            timeout: float = 7200, sample_every: float = 0.1) -> Run:
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = command(variant, warc_dir, outdir)
    started = time.perf_counter()
    proc, peak = run_sampled(cmd, repo, outdir / "stdio.log", timeout=timeout, sample_every=sample_every,
                             lookup_every=5)
    # wait4's ru_maxrss is not a floor for the tree's peak: Linux carries ru_maxrss over fork
    # and exec, so a command started by this process reports this process's own peak (the items it holds
    # for the comparison: 271 MiB after 15,000 articles, 2.4 GB after 150,000) whatever it used itself.
    # The samples read VmHWM, which exec resets; a peak in the last 0.1 s before exit can escape them.
    wall = time.perf_counter() - started
    items, sha, items_sha = _count_items(outdir / "out.jsonl")
    summary = {}
    if (outdir / "summary.json").exists():
        try:
            summary = json.loads((outdir / "summary.json").read_text())
        except ValueError:
            pass
    if proc.returncode != 0:
        tail = (outdir / "stdio.log").read_text("utf-8", "replace")[-3000:]
        if (outdir / "crawl.log").exists():
            tail += (outdir / "crawl.log").read_text("utf-8", "replace")[-2000:]
        log(f"[{variant} exited {proc.returncode}]\n{tail}")
    return Run(variant, articles, returncode=proc.returncode, wall=round(wall, 2), items=items,
               peak_rss_mb=round(peak / 1024, 1) if peak else None, urls_sha1=sha, items_sha1=items_sha,
               summary=summary)


def run(sizes: list[int], rounds: int = 1, workdir: Path | None = None, *, repo: Path = REPO,
        source_articles: int = 1500, baseline_max: int = 15000, variants=VARIANTS, log=log,
        max_size: int | None = None) -> dict:
    from bench import archive_gen

    own = None
    if workdir is None:
        own = tempfile.TemporaryDirectory(prefix="bench-reprocess-")
        workdir = Path(own.name)
    workdir = Path(workdir)
    try:
        avail = availability(Path(repo))
        results = []
        for size in sizes:
            kw = {"max_size": max_size} if max_size else {}
            man = archive_gen.archive(size, source_articles, workdir, **kw)
            warc_dir = Path(man["dir"])
            articles = man["articles"]
            runnable = []
            best: dict[str, Run] = {}
            for v in variants:
                if avail.get(v):
                    best[v] = Run(v, articles, available=False, why=avail[v])
                elif v == "from_warc" and articles > baseline_max:
                    best[v] = Run(v, articles, available=False,
                                  why=f"skipped above {baseline_max:,} articles (--baseline-max)")
                else:
                    runnable.append(v)
            for i in range(rounds):
                order = runnable[i % len(runnable):] + runnable[:i % len(runnable)] if runnable else []
                for v in order:
                    r = run_one(v, articles, warc_dir, workdir / f"run-{size}-{v}-{i}", Path(repo))
                    log(f"  reprocess {articles} articles, round {i + 1}/{rounds}, {v}: exit {r.returncode}, "
                        f"{r.items} items in {r.wall} s -> {r.rate} articles/s, peak RSS {r.peak_rss_mb} MiB")
                    if v not in best or (r.returncode == 0 and (best[v].returncode != 0 or r.wall < best[v].wall)):
                        best[v] = r
            base = best.get("from_warc")
            base_rate = base.rate if base and base.available and base.returncode == 0 else None
            ran = [r for r in best.values() if r.available and r.returncode == 0]
            reference = ran[0] if ran else None
            rows = []
            for v in variants:
                r = best[v]
                row = asdict(r) | {"label": LABELS[v], "articles_per_s": r.rate}
                row["ratio_vs_from_warc"] = round(r.rate / base_rate, 2) if base_rate and r.rate else None
                if r.available and reference is not None:
                    row["items_agree"] = (r.items == reference.items and r.urls_sha1 == reference.urls_sha1)
                    row["items_identical"] = r.items_sha1 == reference.items_sha1
                rows.append(row)
            results.append({"articles": articles, "requested": size, "copies": man["copies"],
                            "files": len(man["files"]), "bytes": man["bytes"],
                            "items_expected": man.get("items_expected"), "rows": rows})
        ok = all(r.get("returncode") in (0, None) for res in results for r in res["rows"])
        return {"ok": ok, "repo": str(repo), "rounds": rounds, "sizes": results, "availability": avail}
    finally:
        if own is not None:
            own.cleanup()


def render(res: dict, command: str) -> str:
    lines = [f"Command: `{command}` (run from {res['repo']}; best of {res['rounds']} round(s); "
             "peak RSS of the whole process tree).\n",
             "| articles | WARC files, MB | variant | wall s | articles/s | x from_warc | peak RSS MiB | items | "
             "items agree (count, URLs) | items identical | own seconds (--summary) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for size in res["sizes"]:
        for r in size["rows"]:
            head = f"| {size['articles']:,} | {size['files']}, {size['bytes'] / 1e6:.0f} | {r['label']} | "
            if not r["available"]:
                lines.append(head + f"{r['why']} | | | | | | | |")
                continue
            fail = "" if r["returncode"] == 0 else f" (exit {r['returncode']})"
            agree = {True: "yes", False: "NO"}.get(r.get("items_agree"), "")
            same = {True: "yes", False: "no"}.get(r.get("items_identical"), "")
            own = (r.get("summary") or {}).get("seconds", "")
            lines.append(head + f"{r['wall']}{fail} | {r['articles_per_s']} | {r['ratio_vs_from_warc'] or ''} | "
                         f"{r['peak_rss_mb']} | {r['items']:,} | {agree} | {same} | {own} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", default="1500,15000", help="comma-separated archive sizes (articles)")
    ap.add_argument("--source-articles", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--workdir", type=Path, help="keep the source crawl, the archives and the outputs here")
    ap.add_argument("--repo", type=Path, default=REPO, help="the checkout to run the commands from")
    ap.add_argument("--baseline-max", type=int, default=15000, help="skip from_warc above this many articles")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--max-size", type=int, default=None, help="bytes per generated WARC file")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.articles.split(",") if x.strip()]
    variants = [v for v in args.variants.split(",") if v in VARIANTS]
    res = run(sizes, args.rounds, args.workdir, repo=args.repo, source_articles=args.source_articles,
              baseline_max=args.baseline_max, variants=variants, max_size=args.max_size)
    res["machine"] = machine_info()
    cmd = "python -m bench.reprocess_throughput " + " ".join(argv if argv is not None else sys.argv[1:])
    print(render(res, cmd.strip()))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
