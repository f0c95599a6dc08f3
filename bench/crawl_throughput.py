"""Crawl throughput: pages/s of the full archival crawl against the plain link-following spider.

Both crawl the same replica (run in a process of its own) with the same settings, as
`scrapy` subprocesses the way users run them, alternating plain/full; the result is the
median pages/s of each and their ratio (target: full >= 0.85 x plain). `--profile` runs one
full crawl under pyinstrument and prints where its time goes. `--rawcapture` compares, instead,
the full crawl with byte-exact capture (the default) and with records rebuilt from Scrapy's
objects (RAWCAPTURE_ENABLED=False): the throughput cost of raw capture.

    python -m bench.crawl_throughput --articles 1500 --rounds 3 [--profile]
    python -m bench.crawl_throughput --articles 1500 --rounds 4 --rawcapture
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
    # the plain spider fetches no page requisites: both crawl the same pages (and the figures stay
    # comparable with those recorded before requisites existed)
    "REQUISITES": "False",
}

FULL = "full"
PLAIN = "plain"
#: The plain spider skipping the links it requested before, as the archival spider does.
PLAIN_SKIP = "plain-skip"
PLAIN_SKIP_SETTINGS = {"PLAIN_SKIP_REQUESTED_LINKS": "True"}


@dataclass
class CrawlRun:
    kind: str
    returncode: int
    pages: int  # responses received
    items: int  # items exported (0 for the plain spider)
    elapsed: float  # seconds, spider open to close (Scrapy's elapsed_time_seconds)
    wall: float  # seconds, the whole process (start-up, imports, closing the WARC files)
    peak_rss_mb: float | None  # largest resident set seen, the crawl's process tree, MiB
    # CPU seconds (user + system) of the crawl process and any process it waited for
    # (RUSAGE_CHILDREN counts descendants reaped by their parent), start-up and close included
    cpu: float = 0.0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.elapsed if self.elapsed else 0.0

    @property
    def wall_pages_per_s(self) -> float:
        return self.pages / self.wall if self.wall else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        """CPU per page of the crawl's whole process tree."""
        return 1000 * self.cpu / self.pages if self.pages else 0.0


def crawl_command(kind: str, outdir: Path, host_map: dict, settings: dict | None = None,
                  python_args: list[str] | None = None, repo: Path = REPO) -> list[str]:
    """The `python -m scrapy ...` command of one benchmark crawl writing into outdir, to run in `repo`."""
    opts = dict(BENCH_SETTINGS)
    opts.update({"HOST_MAP": json.dumps(host_map), "LOG_FILE": str(outdir / "crawl.log"),
                 "STATS_FILE": str(outdir / "stats.json"), "REPORT_DIR": str(outdir),
                 "WARC_DIR": str(outdir / "warc")})
    opts.update(settings or {})
    cmd = [sys.executable, *(python_args or ["-m"]), "scrapy"]
    if kind == FULL:
        cmd += ["crawl", "spacewar", "-O", str(outdir / "items.jsonl")]
    elif kind == PLAIN:
        cmd += ["runspider", str(Path(repo) / "bench" / "plain_spider.py")]
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


def _descendants(pid: int) -> list[int]:
    """Processes below `pid` (helper processes a crawl starts)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _tree_rss_kb(pid: int, children: list[int]) -> int:
    """Resident set of a process (its peak) plus that of the given descendants now, in kB."""
    return _rss_kb(pid) + sum(_rss_kb(child) for child in children)


def run_sampled(cmd: list[str], cwd: Path, log_path: Path, *, timeout: float, sample_every: float = 0.1,
                lookup_every: int = 10, env: dict | None = None) -> tuple[subprocess.Popen, int]:
    """Run `cmd` in `cwd` with its output in `log_path`, sampling the resident memory of its process tree
    every `sample_every` s until it exits (killed after `timeout` s): (the ended process, the tree's peak
    in kB). The tree is looked up at each of the first `lookup_every` samples, then every `lookup_every` samples (it
    changes rarely; a lookup reads /proc).
    `env`: the command's environment (None: this process's)."""
    with open(log_path, "wb") as stdio:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=stdio, stderr=subprocess.STDOUT, env=env)
        peak, samples, children = 0, 0, []
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if samples % lookup_every == 0 or samples < lookup_every:
                # at every sample at first: a wrapper (faketime) starts the crawl as its child after the first one
                children = _descendants(proc.pid)
            samples += 1
            # the processes alive now, each at its own peak so far (max(VmHWM, VmRSS))
            peak = max(peak, _tree_rss_kb(proc.pid, children))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                break
            time.sleep(sample_every)
    return proc, peak


def run_crawl(kind: str, outdir: Path, host_map: dict, settings: dict | None = None, *,
              timeout: float = 1800, sample_every: float = 0.1, repo: Path = REPO) -> CrawlRun:
    """Run one crawl as a subprocess, sampling its resident memory while it runs. `repo` is the
    checkout whose code runs (another one measures a patch against this tree)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = crawl_command(kind, outdir, host_map, settings, repo=repo)
    # children that ended and were waited for: the crawl alone (the replica process is still running)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc, peak = run_sampled(cmd, repo, outdir / "stdio.log", timeout=timeout, sample_every=sample_every)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
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
        cpu=round(cpu, 3),
    )


def alternate(variants: dict[str, tuple], articles: int, rounds: int, workdir: Path | None,
              log=print) -> dict[str, list[CrawlRun]]:
    """Crawl one replica `rounds` times with each variant ({label: (kind, settings[, repo])}: a repo
    is another checkout to run the crawl from), alternating, the first of each round rotating so
    drift hits all alike; the runs of each variant."""
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="bench-crawl-")
        workdir = Path(own_tmp.name)
    labels = list(variants)
    runs: dict[str, list[CrawlRun]] = {label: [] for label in labels}
    try:
        with ReplicaProcess(articles) as replica:
            for i in range(rounds):
                for label in labels[i % len(labels):] + labels[:i % len(labels)]:
                    kind, settings, *repo = variants[label]
                    r = run_crawl(kind, Path(workdir) / f"{label}-{i}", replica.host_map, settings,
                                  repo=repo[0] if repo else REPO)
                    runs[label].append(r)
                    log(f"  crawl round {i + 1}/{rounds} {label:5s}: {r.pages} pages, {r.items} items, "
                        f"{r.elapsed:.1f} s -> {r.pages_per_s:.1f} pages/s (wall {r.wall:.1f} s, "
                        f"CPU {r.cpu_ms_per_page:.2f} ms/page, "
                        f"peak RSS {r.peak_rss_mb} MiB)")
    finally:
        if own_tmp is not None:
            own_tmp.cleanup()
    return runs


def all_ok(runs: dict[str, list[CrawlRun]]) -> bool:
    """Every crawl of every variant exited 0 and fetched pages."""
    return all(r.returncode == 0 and r.pages > 0 for rs in runs.values() for r in rs)


def run(articles: int = 1500, rounds: int = 3, workdir: Path | None = None, *,
        settings: dict | None = None, log=print) -> dict:
    """Alternate plain, plain-skip and full crawls of one replica `rounds` times; medians and ratios.

    The target ratio is full/plain (a stock Scrapy spider); full/plain-skip compares like with
    like (both skip the links they requested before), so it is the cost of archiving alone."""
    runs = alternate({PLAIN: (PLAIN, settings or {}), PLAIN_SKIP: (PLAIN, {**(settings or {}), **PLAIN_SKIP_SETTINGS}),
                      FULL: (FULL, settings or {})}, articles, rounds, workdir, log)
    skip_rate = median(r.pages_per_s for r in runs[PLAIN_SKIP])
    plain_rate = median(r.pages_per_s for r in runs[PLAIN])
    full_rate = median(r.pages_per_s for r in runs[FULL])
    plain_wall = median(r.wall_pages_per_s for r in runs[PLAIN])
    full_wall = median(r.wall_pages_per_s for r in runs[FULL])
    ok = all_ok(runs)
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
        # each round's full/plain, the two runs next to each other: drift between rounds cancels out
        "paired_ratios": [round(f.pages_per_s / p.pages_per_s, 3) if p.pages_per_s else None
                          for p, f in zip(runs[PLAIN], runs[FULL])],
        "paired_ratio": round(median(f.pages_per_s / p.pages_per_s for p, f in zip(runs[PLAIN], runs[FULL])
                                     if p.pages_per_s), 3) if runs[PLAIN] else None,
        "wall_ratio": round(full_wall / plain_wall, 3) if plain_wall else None,
        "plain_skip_pages": median(r.pages for r in runs[PLAIN_SKIP]),
        "plain_skip_pages_per_s": round(skip_rate, 1),
        "plain_skip_spread": spread(r.pages_per_s for r in runs[PLAIN_SKIP]),
        "plain_skip_cpu_ms_per_page": round(median(r.cpu_ms_per_page for r in runs[PLAIN_SKIP]), 2),
        "plain_skip_peak_rss_mb": median(r.peak_rss_mb for r in runs[PLAIN_SKIP]),
        "like_for_like_ratio": round(full_rate / skip_rate, 3) if skip_rate else None,
        "like_for_like_paired_ratios": [round(f.pages_per_s / p.pages_per_s, 3) if p.pages_per_s else None
                                        for p, f in zip(runs[PLAIN_SKIP], runs[FULL])],
        "like_for_like_paired_ratio": round(median(f.pages_per_s / p.pages_per_s
                                                   for p, f in zip(runs[PLAIN_SKIP], runs[FULL])
                                                   if p.pages_per_s), 3) if runs[PLAIN_SKIP] else None,
        "plain_cpu_ms_per_page": round(median(r.cpu_ms_per_page for r in runs[PLAIN]), 2),
        "full_cpu_ms_per_page": round(median(r.cpu_ms_per_page for r in runs[FULL]), 2),
        "plain_peak_rss_mb": median(r.peak_rss_mb for r in runs[PLAIN]),
        "full_peak_rss_mb": median(r.peak_rss_mb for r in runs[FULL]),
        "runs": [asdict(r) | {"pages_per_s": round(r.pages_per_s, 2), "cpu_ms_per_page": round(r.cpu_ms_per_page, 2)}
                 for rs in runs.values() for r in rs],
    }


RAW = "raw"
REBUILT = "rebuilt"


def rawcapture_cost(articles: int = 1500, rounds: int = 3, workdir: Path | None = None, *, log=print) -> dict:
    """The cost of byte-exact capture: the full crawl with RAWCAPTURE_ENABLED (the default) against the
    full crawl whose records are rebuilt from Scrapy's objects (RAWCAPTURE_ENABLED=False), alternating."""
    runs = alternate({RAW: (FULL, {"RAWCAPTURE_ENABLED": "True"}), REBUILT: (FULL, {"RAWCAPTURE_ENABLED": "False"})},
                     articles, rounds, workdir, log)
    raw = median(r.pages_per_s for r in runs[RAW])
    rebuilt = median(r.pages_per_s for r in runs[REBUILT])
    return {
        "articles": articles,
        "rounds": rounds,
        "ok": all_ok(runs),
        "raw_pages_per_s": round(raw, 1),
        "rebuilt_pages_per_s": round(rebuilt, 1),
        "raw_spread": spread(r.pages_per_s for r in runs[RAW]),
        "rebuilt_spread": spread(r.pages_per_s for r in runs[REBUILT]),
        "ratio": round(raw / rebuilt, 3) if rebuilt else None,
    }


#: Where a profiled second goes, by the file its frame runs in (first match wins). pyinstrument
#: charges C functions (zlib, sha1, lxml's parser) to the Python function that called them.
COST_GROUPS = (
    ("extraction + cleaning (crawler/extract/, pipelines/extract)",
     ("crawler/extract/", "pipelines/extract")),
    ("trafilatura fallback (trafilatura, htmldate, courlan, jusText)",
     ("trafilatura", "htmldate", "courlan", "justext")),
    ("WARC records: capture, writer, gzip, digests (crawler/capture/, crawler/warc/)",
     ("crawler/capture/", "crawler/warc/")),
    ("CDXJ index of each closed WARC file (cdxj-indexer, warcio)", ("cdxj_indexer", "warcio")),
    ("item JSON Schema validation (jsonschema)", ("jsonschema", "referencing", "rpds", "crawler/itemschema")),
    ("spider routing and link discovery (spiders/, crawler/site/, bench/plain_spider)",
     ("/spiders/", "crawler/site/", "bench/plain_spider")),
    ("other pipelines and extensions of ours", ("/pipelines/", "/crawler/")),
    ("lxml / parsel / w3lib (parsing, xpath, URLs)", ("lxml", "parsel", "cssselect", "w3lib")),
    ("JSON encoding, feed export", ("scrapy/exporters", "scrapy/extensions/feedexport", "/json/")),
    ("Scrapy item machinery (scraper, signals)", ("scrapy/core/scraper", "scrapy/utils/signal", "pydispatch")),
    ("Scrapy core (engine, scheduler, middlewares, http)", ("scrapy/",)),
    ("Twisted, asyncio, TLS, sockets (network I/O)", ("twisted", "OpenSSL", "ssl", "cryptography",
                                                      "service_identity", "socket", "selectors", "asyncio")),
)
OTHER = "other (stdlib, interpreter)"


def _group_of(filename: str) -> str:
    for name, needles in COST_GROUPS:
        if any(n in filename for n in needles):
            return name
    return OTHER


def _load_pstats(path: Path) -> dict[str, tuple[float, float, str]]:
    """{function label: (self seconds, cumulative seconds, group)} of a pstats file."""
    import pstats

    out = {}
    for (filename, line, func), (_cc, _nc, tottime, cumtime, _callers) in pstats.Stats(str(path)).stats.items():
        fn = filename.replace("\\", "/")
        label = f"{func} ({'/'.join(fn.split('/')[-2:])}:{line})"
        old = out.get(label, (0.0, 0.0, ""))
        out[label] = (old[0] + tottime, max(old[1], cumtime), _group_of(fn))
    return out


def summarise_pstats(path: Path, top: int = 15) -> dict:
    """Self time of a pstats file grouped by COST_GROUPS, and the functions with most self time."""
    funcs = _load_pstats(path)
    total = sum(v[0] for v in funcs.values()) or 1.0
    groups: dict[str, float] = {}
    for self_s, _cum, group in funcs.values():
        groups[group] = groups.get(group, 0.0) + self_s
    rows = sorted(((v[0], v[1], k) for k, v in funcs.items()), reverse=True)
    return {
        "profiled_seconds": round(total, 2),
        "by_group_seconds": {k: round(v, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
        "by_group": {k: round(100 * v / total, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
        "top_self": [{"self_pct": round(100 * t / total, 1), "cum_pct": round(100 * c / total, 1), "function": f}
                     for t, c, f in rows[:top]],
    }


def compare_profiles(plain: dict, full: dict, top: int = 15) -> dict:
    """Where the full crawl's extra time goes: per cost group, profiled ms per page of the plain
    and the full crawl and their difference; and the functions whose self time grew most."""
    rows = []
    groups = set(plain["by_group_seconds"]) | set(full["by_group_seconds"])
    p_pages, f_pages = plain["pages"] or 1, full["pages"] or 1
    extra_total = full["profiled_seconds"] * 1000 / f_pages - plain["profiled_seconds"] * 1000 / p_pages
    per_page = {g: (1000 * plain["by_group_seconds"].get(g, 0.0) / p_pages,
                    1000 * full["by_group_seconds"].get(g, 0.0) / f_pages) for g in groups}
    # the groups that grew, as shares of their sum (groups that shrank, e.g. extraction moved to a
    # worker process and Scrapy's share of a slower profiled run, would make a net share meaningless)
    grew = sum(max(0.0, f - p) for p, f in per_page.values())
    for g, (p, f) in per_page.items():
        rows.append({"group": g, "plain_ms_per_page": round(p, 2), "full_ms_per_page": round(f, 2),
                     "extra_ms_per_page": round(f - p, 2),
                     "share_of_growth_pct": round(100 * (f - p) / grew, 1) if grew > 0 and f > p else None})
    rows.sort(key=lambda r: -r["extra_ms_per_page"])
    funcs_p, funcs_f = plain.get("_funcs", {}), full.get("_funcs", {})
    grown = []
    for k in set(funcs_p) | set(funcs_f):
        d = 1000 * (funcs_f.get(k, (0.0,))[0] / f_pages - funcs_p.get(k, (0.0,))[0] / p_pages)
        grown.append((d, k))
    grown.sort(reverse=True)
    return {
        "plain_ms_per_page": round(plain["profiled_seconds"] * 1000 / p_pages, 2),
        "full_ms_per_page": round(full["profiled_seconds"] * 1000 / f_pages, 2),
        "extra_ms_per_page": round(extra_total, 2),
        "groups": rows,
        "top_extra_functions": [{"function": k, "extra_ms_per_page": round(d, 3)} for d, k in grown[:top]],
    }


def profile(articles: int = 1500, workdir: Path | None = None, *, settings: dict | None = None,
            kind: str = FULL) -> dict:
    """One crawl (full by default) run in-process under pyinstrument (`python -m pyinstrument -m scrapy
    crawl ...`): its pages/s, the self time by cost group, the top functions and the call tree."""
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="bench-profile-")
        workdir = Path(own_tmp.name)
    outdir = Path(workdir) / f"profile-{kind}"
    outdir.mkdir(parents=True, exist_ok=True)
    session = outdir / "crawl.pyisession"
    try:
        with ReplicaProcess(articles) as replica:
            cmd = crawl_command(kind, outdir, replica.host_map, settings,
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
        return {"ok": True, "kind": kind, "pages": pages,
                "pages_per_s_profiled": round(pages / elapsed, 1) if elapsed else None,
                **summarise_pstats(outdir / "crawl.pstats"), "tree": tree,
                "_funcs": _load_pstats(outdir / "crawl.pstats")}
    finally:
        if own_tmp is not None:
            own_tmp.cleanup()


def profile_pair(articles: int = 1500, workdir: Path | None = None, *, settings: dict | None = None) -> dict:
    """Profile the plain and the full crawl of the same replica; compare where their time goes."""
    plain = profile(articles, workdir, settings=settings, kind=PLAIN)
    full = profile(articles, workdir, settings=settings, kind=FULL)
    ok = plain.get("ok") and full.get("ok")
    out = {"ok": bool(ok), "plain": plain, "full": full}
    if ok:
        out["comparison"] = compare_profiles(plain, full)
    for p in (plain, full):
        p.pop("_funcs", None)
    return out


def compare_revision(revision: str, articles: int, rounds: int, workdir: Path | None = None, log=print) -> dict:
    """The full crawl of this checkout against the full crawl of git `revision` (a worktree made for
    the run), alternating with the plain spider; each tree's ratio to the plain spider of its round,
    and this tree's paired ratio to the revision's (the figure a refactoring must keep near 1)."""
    with tempfile.TemporaryDirectory(prefix="bench-rev-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(tree), revision], check=True)
        try:
            runs = alternate({"before": (FULL, {}, tree), "after": (FULL, {}), PLAIN: (PLAIN, {})},
                             articles, rounds, workdir, log)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)

    def rate(label):
        return median(r.pages_per_s for r in runs[label])

    pairs = [a.pages_per_s / b.pages_per_s for a, b in zip(runs["after"], runs["before"]) if b.pages_per_s]
    return {
        "revision": revision, "articles": articles, "rounds": rounds, "ok": all_ok(runs),
        "before_pages_per_s": round(rate("before"), 1), "after_pages_per_s": round(rate("after"), 1),
        "plain_pages_per_s": round(rate(PLAIN), 1),
        "after_over_before": round(rate("after") / rate("before"), 3) if rate("before") else None,
        "after_over_before_paired": [round(x, 3) for x in pairs],
        "after_over_before_paired_median": round(median(pairs), 3) if pairs else None,
        "before_over_plain_paired_median": round(median(b.pages_per_s / p.pages_per_s for b, p in
                                                        zip(runs["before"], runs[PLAIN]) if p.pages_per_s), 3),
        "after_over_plain_paired_median": round(median(a.pages_per_s / p.pages_per_s for a, p in
                                                       zip(runs["after"], runs[PLAIN]) if p.pages_per_s), 3),
        "before_cpu_ms_per_page": round(median(r.cpu_ms_per_page for r in runs["before"]), 2),
        "after_cpu_ms_per_page": round(median(r.cpu_ms_per_page for r in runs["after"]), 2),
        "plain_cpu_ms_per_page": round(median(r.cpu_ms_per_page for r in runs[PLAIN]), 2),
        # CPU per page, each round's tree over the plain spider of the same round
        "before_cpu_over_plain_paired_median": round(median(b.cpu_ms_per_page / p.cpu_ms_per_page for b, p in
                                                            zip(runs["before"], runs[PLAIN]) if p.cpu_ms_per_page), 3),
        "after_cpu_over_plain_paired_median": round(median(a.cpu_ms_per_page / p.cpu_ms_per_page for a, p in
                                                           zip(runs["after"], runs[PLAIN]) if p.cpu_ms_per_page), 3),
        "pages": {label: [r.pages for r in runs[label]] for label in runs},
        "items": {label: [r.items for r in runs[label]] for label in runs},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="also profile one full crawl with pyinstrument")
    ap.add_argument("--rawcapture", action="store_true",
                    help="instead: the full crawl with and without byte-exact capture (RAWCAPTURE_ENABLED)")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the crawls' outputs here")
    ap.add_argument("--against", metavar="REVISION",
                    help="instead: this checkout's full crawl against git REVISION's, alternating (paired ratio)")
    args = ap.parse_args(argv)
    print(json.dumps(machine_info()))
    result = {"ok": True}
    if args.against:
        result = compare_revision(args.against, args.articles, args.rounds, args.workdir)
        print(json.dumps(result, indent=1))
        return 0 if result["ok"] else 1
    if args.rawcapture:
        result = rawcapture_cost(args.articles, args.rounds, args.workdir)
        print(json.dumps(result, indent=1))
        return 0 if result["ok"] else 1
    if args.rounds > 0:
        result = run(args.articles, args.rounds, args.workdir)
        print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    if args.profile:
        prof = profile_pair(args.articles, args.workdir)
        for kind in (PLAIN, FULL):
            print(prof[kind].pop("tree", ""))
        print(json.dumps(prof, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
