"""Crawl throughput: pages/s of the full archival crawl against the plain link-following spider.

Both crawl the same replica (run in a process of its own) with the same settings, as
`scrapy` subprocesses the way users run them, alternating plain/full; the result is the
median pages/s of each and their ratio (target: full >= 0.85 x plain). `--profile` runs one
full crawl under pyinstrument and prints where its time goes.

    python -m bench.crawl_throughput --articles 1500 --rounds 3 [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import REPO, ReplicaProcess, machine_info, median, spread

#: The settings both crawls share (issue 6): no politeness delays, same concurrency, robots.txt obeyed.
BENCH_SETTINGS = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "ROBOTSTXT_OBEY": "True",
    "DEPTH_LIMIT": "0",
    "RETRY_TIMES": "2",
    "PROGRESS_INTERVAL": "0",
    "LOG_LEVEL": "INFO",
    "USER_AGENT": "spacewar-archiver-bench/1.0 (+https://example.invalid/spacewar-archiver)",
}

FULL = "full"
PLAIN = "plain"


@dataclass
class CrawlRun:
    kind: str
    returncode: int
    pages: int  # responses received
    items: int  # items exported (0 for the plain spider)
    elapsed: float  # seconds, spider open to close (Scrapy's elapsed_time_seconds)
    wall: float  # seconds, the whole process (start-up, imports, closing the WARC files)
    peak_rss_mb: float | None  # largest resident set seen (VmHWM / sampled VmRSS), MiB

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.elapsed if self.elapsed else 0.0

    @property
    def wall_pages_per_s(self) -> float:
        return self.pages / self.wall if self.wall else 0.0


def crawl_command(kind: str, outdir: Path, host_map: dict, settings: dict | None = None,
                  python_args: list[str] | None = None) -> list[str]:
    """The `python -m scrapy ...` command of one benchmark crawl writing into outdir."""
    opts = dict(BENCH_SETTINGS)
    opts.update({"HOST_MAP": json.dumps(host_map), "LOG_FILE": str(outdir / "crawl.log"),
                 "STATS_FILE": str(outdir / "stats.json"), "REPORT_DIR": str(outdir),
                 "WARC_DIR": str(outdir / "warc")})
    opts.update(settings or {})
    cmd = [sys.executable, *(python_args or ["-m"]), "scrapy"]
    if kind == FULL:
        cmd += ["crawl", "spacewar", "-O", str(outdir / "items.jsonl")]
    elif kind == PLAIN:
        cmd += ["runspider", str(REPO / "bench" / "plain_spider.py")]
    else:
        raise ValueError(kind)
    for key, value in opts.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def _rss_kb(pid: int) -> int:
    """max(VmHWM, VmRSS) of a live process in kB; 0 when it is gone."""
    best = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    best = max(best, int(line.split()[1]))
    except (OSError, ValueError, IndexError):
        pass
    return best


def run_crawl(kind: str, outdir: Path, host_map: dict, settings: dict | None = None, *,
              timeout: float = 1800, sample_every: float = 0.1) -> CrawlRun:
    """Run one crawl as a subprocess, sampling its resident memory while it runs."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = crawl_command(kind, outdir, host_map, settings)
    started = time.perf_counter()
    with open(outdir / "stdio.log", "wb") as stdio:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=stdio, stderr=subprocess.STDOUT)
        peak = 0
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            peak = max(peak, _rss_kb(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                break
            time.sleep(sample_every)
    wall = time.perf_counter() - started
    stats_path = outdir / "stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    if proc.returncode != 0 or not stats:
        tail = (outdir / "crawl.log").read_text("utf-8", "replace")[-3000:] if (outdir / "crawl.log").exists() else ""
        tail += (outdir / "stdio.log").read_text("utf-8", "replace")[-3000:]
        print(f"[{kind} crawl exited {proc.returncode}]\n{tail}", file=sys.stderr)
    return CrawlRun(
        kind=kind,
        returncode=proc.returncode,
        pages=int(stats.get("response_received_count") or 0),
        items=int(stats.get("item_scraped_count") or 0),
        elapsed=float(stats.get("elapsed_time_seconds") or 0.0),
        wall=wall,
        peak_rss_mb=round(peak / 1024, 1) if peak else None,
    )


def run(articles: int = 1500, rounds: int = 3, workdir: Path | None = None, *,
        settings: dict | None = None, log=print) -> dict:
    """Alternate plain and full crawls of one replica `rounds` times; medians and their ratio."""
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="bench-crawl-")
        workdir = Path(own_tmp.name)
    runs: dict[str, list[CrawlRun]] = {PLAIN: [], FULL: []}
    try:
        with ReplicaProcess(articles) as replica:
            for i in range(rounds):
                # alternate, and swap who goes first each round so drift hits both alike
                order = (PLAIN, FULL) if i % 2 == 0 else (FULL, PLAIN)
                for kind in order:
                    r = run_crawl(kind, Path(workdir) / f"{kind}-{i}", replica.host_map, settings)
                    runs[kind].append(r)
                    log(f"  crawl round {i + 1}/{rounds} {kind:5s}: {r.pages} pages, {r.items} items, "
                        f"{r.elapsed:.1f} s -> {r.pages_per_s:.1f} pages/s (wall {r.wall:.1f} s, "
                        f"peak RSS {r.peak_rss_mb} MiB)")
    finally:
        if own_tmp is not None:
            own_tmp.cleanup()
    plain_rate = median(r.pages_per_s for r in runs[PLAIN])
    full_rate = median(r.pages_per_s for r in runs[FULL])
    plain_wall = median(r.wall_pages_per_s for r in runs[PLAIN])
    full_wall = median(r.wall_pages_per_s for r in runs[FULL])
    ok = all(r.returncode == 0 and r.pages > 0 for rs in runs.values() for r in rs)
    return {
        "articles": articles,
        "rounds": rounds,
        "ok": ok,
        "plain_pages": median(r.pages for r in runs[PLAIN]),
        "full_pages": median(r.pages for r in runs[FULL]),
        "full_items": median(r.items for r in runs[FULL]),
        "plain_pages_per_s": round(plain_rate, 1),
        "full_pages_per_s": round(full_rate, 1),
        "plain_spread": spread(r.pages_per_s for r in runs[PLAIN]),
        "full_spread": spread(r.pages_per_s for r in runs[FULL]),
        "ratio": round(full_rate / plain_rate, 3) if plain_rate else None,
        "wall_ratio": round(full_wall / plain_wall, 3) if plain_wall else None,
        "plain_peak_rss_mb": median(r.peak_rss_mb for r in runs[PLAIN]),
        "full_peak_rss_mb": median(r.peak_rss_mb for r in runs[FULL]),
        "runs": [asdict(r) | {"pages_per_s": round(r.pages_per_s, 2)} for rs in runs.values() for r in rs],
    }


#: Where a profiled second goes, by the file its frame runs in (first match wins).
COST_GROUPS = (
    ("extraction + cleaning (crawler/extraction, cleaning, dateline)", ("crawler/extraction", "crawler/cleaning",
                                                                       "crawler/dateline")),
    ("WARC: records, gzip, digests, files (crawler/warc*, digestindex)", ("crawler/warc", "crawler/digestindex",
                                                                        "crawler/rawcapture", "crawler/capturemeta")),
    ("our other code (spider, urls, pipelines, extensions)", ("/spiders/", "/pipelines/", "/crawler/")),
    ("trafilatura / htmldate / courlan (fallback)", ("trafilatura", "htmldate", "courlan", "justext")),
    ("item JSON Schema (jsonschema)", ("jsonschema", "referencing", "rpds")),
    ("lxml / parsel / cssselect (parsing, xpath)", ("lxml", "parsel", "cssselect", "w3lib")),
    ("JSON encoding, feed export", ("scrapy/exporters", "scrapy/extensions/feedexport", "/json/")),
    ("Scrapy core (engine, scheduler, middlewares, http)", ("scrapy/",)),
    ("Twisted, TLS, sockets (network I/O)", ("twisted", "OpenSSL", "ssl", "cryptography", "service_identity",
                                          "socket", "selectors", "asyncio")),
)


def summarise_pstats(path: Path, top: int = 15) -> dict:
    """Self time of a pstats file grouped by COST_GROUPS, and the functions with most self time."""
    import pstats

    st = pstats.Stats(str(path))
    total = sum(v[2] for v in st.stats.values()) or 1.0
    groups: dict[str, float] = {}
    rows = []
    for (filename, line, func), (_cc, _nc, tottime, cumtime, _callers) in st.stats.items():
        fn = filename.replace("\\", "/")
        group = "other (stdlib, interpreter)"
        for name, needles in COST_GROUPS:
            if any(n in fn for n in needles):
                group = name
                break
        groups[group] = groups.get(group, 0.0) + tottime
        rows.append((tottime, cumtime, f"{func} ({'/'.join(fn.split('/')[-2:])}:{line})"))
    rows.sort(reverse=True)
    return {
        "profiled_seconds": round(total, 2),
        "by_group": {k: round(100 * v / total, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
        "top_self": [{"self_pct": round(100 * t / total, 1), "cum_pct": round(100 * c / total, 1), "function": f}
                     for t, c, f in rows[:top]],
    }


def profile(articles: int = 1500, workdir: Path | None = None, *, settings: dict | None = None) -> dict:
    """One full crawl run in-process under pyinstrument (`python -m pyinstrument -m scrapy crawl ...`):
    its pages/s, the self time by cost group, the top functions and the text tree (where written)."""
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="bench-profile-")
        workdir = Path(own_tmp.name)
    outdir = Path(workdir) / "profile"
    outdir.mkdir(parents=True, exist_ok=True)
    session = outdir / "crawl.pyisession"
    try:
        with ReplicaProcess(articles) as replica:
            cmd = crawl_command(FULL, outdir, replica.host_map, settings,
                                python_args=["-m", "pyinstrument", "-r", "pyisession", "-o", str(session), "-m"])
            subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600)
        if not session.exists():
            return {"ok": False}
        pyi = [sys.executable, "-m", "pyinstrument", "--load", str(session)]
        subprocess.run([*pyi, "-r", "pstats", "-o", str(outdir / "crawl.pstats")], check=True,
                       stdout=subprocess.DEVNULL)
        tree = subprocess.run([*pyi, "-r", "text", "--no-color", "--unicode",
                               "-p", "processor_options.filter_threshold=0.01"],
                              capture_output=True, text=True).stdout
        stats = json.loads((outdir / "stats.json").read_text()) if (outdir / "stats.json").exists() else {}
        pages = int(stats.get("response_received_count") or 0)
        elapsed = float(stats.get("elapsed_time_seconds") or 0) or None
        return {"ok": True, "pages": pages, "pages_per_s_profiled": round(pages / elapsed, 1) if elapsed else None,
                **summarise_pstats(outdir / "crawl.pstats"), "tree": tree}
    finally:
        if own_tmp is not None:
            own_tmp.cleanup()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="also profile one full crawl with pyinstrument")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the crawls' outputs here")
    args = ap.parse_args(argv)
    print(json.dumps(machine_info()))
    result = run(args.articles, args.rounds, args.workdir)
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    if args.profile:
        prof = profile(args.articles, args.workdir)
        print(prof.pop("tree", ""))
        print(json.dumps(prof, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
