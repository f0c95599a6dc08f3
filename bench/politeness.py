"""Load on the host from 1 and from N workers sharing one Redis frontier, read from the server's own log (issue 15).

    python -m bench.politeness --workers 1 --articles 100 --latency 0.25 --out /tmp/polite/1w
    python -m bench.politeness --workers 2 --articles 100 --latency 0.25 --out /tmp/polite/2w
    python -m bench.politeness --workers 2 --articles 100 --latency 0.25 --per-process --out /tmp/polite/2w-before
    python -m bench.politeness --workers 2 --articles 60 --latency 0.25 --answer-429 40 --out /tmp/polite/429
    python -m bench.politeness --workers 2 --articles 60 --latency 0.25 --kill-after 20 \\
        -s CONCURRENT_REQUESTS_PER_DOMAIN=1 -s POLITE_LEASE_TTL=10 --out /tmp/polite/kill

Starts its own redis-server (loopback, a free port, its own directory, no persistence) and the
replica in this process (tests/sites/replica/load.py's LoadReplica, whose log is the server's own:
`started` and `finished` per exchange; --latency seconds spent on every answer of the site), then N
`scrapy crawl spacewar` workers with the same REDIS_URL and CRAWL_ID, with the project's politeness
defaults (AutoThrottle, DOWNLOAD_DELAY 0.5, CONCURRENT_REQUESTS_PER_DOMAIN 4; not the tests' FAST
settings), so 1 and N workers differ only in the count. Each worker sends an X-Worker header, so
the log says who sent what. --per-process is the BEFORE: SHARED_POLITENESS=False, each worker
polite on its own. --answer-429 K answers the K-th request to the site with 429 and Retry-After
(--retry-after seconds), once, and reports who started requests meanwhile; --kill-after S kills
worker w1 with SIGKILL at the first moment after S seconds at which it holds a lease, and reports
how long the host waited; --status-at S runs `scrapy frontier` at S seconds.

Writes <out>/exchanges.jsonl (no bodies), <out>/result.json and each worker's crawl.log and
stats.json under <out>/<worker>/; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import REPO, machine_info
from tests.redis_server import RedisServer
from tests.sites.replica.content import WWW
from tests.sites.replica.load import LoadReplica, host_load, host_name, worker_of

HEADERS = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language": "en",
           "Accept-Encoding": "gzip, deflate"}
#: a start within this long after the 429 was answered was already on its way (not a worker ignoring it)
GRACE = 0.25


def start_worker(out: Path, name: str, host_map: dict, redis_url: str, crawl_id: str, settings: dict):
    wdir = out / name
    wdir.mkdir(parents=True, exist_ok=True)
    opts = {"WARC_DIR": str(wdir / "warc"), "HOST_MAP": json.dumps(host_map), "LOG_FILE": str(wdir / "crawl.log"),
            "STATS_FILE": str(wdir / "stats.json"), "REPORT_DIR": str(wdir), "PROGRESS_INTERVAL": "0",
            "REDIS_URL": redis_url, "CRAWL_ID": crawl_id, "WORKER_ID": name, "FRONTIER_IDLE_TIMEOUT": "5",
            "DEFAULT_REQUEST_HEADERS": json.dumps({**HEADERS, "X-Worker": name}), **settings}
    cmd = [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-O", str(wdir / "items.jsonl")]
    for key, value in opts.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.Popen(cmd, cwd=REPO, stdout=open(wdir / "stdout.txt", "wb"), stderr=subprocess.STDOUT)


class LeaseWatcher(threading.Thread):
    """Samples the host's leases every 0.25 s; kills w1 (SIGKILL) at `kill_after` s once it holds a
    lease; runs `scrapy frontier` at `status_at` s."""

    def __init__(self, client, procs, kill_after: float, status_at: float, redis_url: str, crawl_id: str):
        super().__init__(daemon=True)
        self.client, self.procs, self.kill_after, self.status_at = client, procs, kill_after, status_at
        self.redis_url, self.crawl_id = redis_url, crawl_id
        self.samples: list[tuple[float, list[str]]] = []
        self.killed_at = None
        self.status_output = None
        self._halt = threading.Event()

    def run(self):
        began = time.time()
        while not self._halt.wait(0.25):
            now = time.time()
            try:
                leases = [m.decode() for m in self.client.zrange(f"polite:leases:{WWW}", 0, -1)]
            except Exception:
                leases = []
            self.samples.append((now, leases))
            if (self.kill_after and self.killed_at is None and now - began >= self.kill_after
                    and any(x.startswith("w1:") for x in leases)):
                self.procs["w1"].kill()
                self.killed_at = time.time()
            if self.status_at and self.status_output is None and now - began >= self.status_at:
                self.status_output = subprocess.run(
                    [sys.executable, "-m", "scrapy", "frontier", "spacewar", "-s", f"REDIS_URL={self.redis_url}",
                     "-s", f"CRAWL_ID={self.crawl_id}"], cwd=REPO, capture_output=True, text=True).stdout

    def stop(self):
        self._halt.set()
        self.join(5)


def run(workers: int, articles: int, out: Path, *, per_process: bool = False, settings: dict | None = None,
        latency: float = 0.0, answer_429: int = 0, retry_after: int = 5, kill_after: float = 0.0,
        status_at: float = 0.0, timeout: float = 900) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    extra = dict(settings or {})
    if per_process:
        extra["SHARED_POLITENESS"] = "False"
    crawl_id = f"bench-{int(time.time())}"
    with RedisServer() as redis, LoadReplica(n_articles=articles, faults=False, latency=latency,
                                             answer_429=answer_429, retry_after=retry_after) as replica:
        began = time.time()
        procs = {f"w{i + 1}": start_worker(out, f"w{i + 1}", replica.host_map(), redis.url, crawl_id, extra)
                 for i in range(workers)}
        watcher = LeaseWatcher(redis.client(), procs, kill_after, status_at, redis.url, crawl_id)
        watcher.start()
        codes = {}
        for name, proc in procs.items():
            try:
                codes[name] = proc.wait(timeout=max(1, timeout - (time.time() - began)))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        wall = time.time() - began
        watcher.stop()
        commandstats = {k: {"calls": v["calls"], "usec_per_call": v["usec_per_call"]}
                        for k, v in redis.client().info("commandstats").items()}
        log = list(replica.log)
        answered_429 = list(replica.answered_429)
        expected = len(replica.expected_items())

    with open(out / "exchanges.jsonl", "w") as f:
        for e in log:
            f.write(json.dumps({"host": e.host, "path": e.path, "status": e.status, "worker": worker_of(e),
                                "started": e.started, "finished": e.finished}) + "\n")
    site = sorted((e for e in log if host_name(e) == WWW), key=lambda e: e.started)
    gaps = sorted(b.started - a.started for a, b in zip(site, site[1:]))
    stats = {}
    for name in procs:
        path = out / name / "stats.json"
        stats[name] = json.loads(path.read_text()) if path.exists() else {}
    items = sum(1 for name in procs if (out / name / "items.jsonl").exists()
                for line in open(out / name / "items.jsonl") if line.strip())
    result = {
        "workers": workers, "articles": articles, "politeness": "per-process" if per_process else "shared",
        "latency": latency, "settings": extra, "returncodes": codes, "wall_s": round(wall, 1),
        "items": items, "expected_items": expected, "host": host_load(log, WWW).row(),
        "gap_s": {"mean": round(sum(gaps) / len(gaps), 3), "median": round(gaps[len(gaps) // 2], 3),
                  "min": round(gaps[0], 3)} if gaps else {},
        "requests_per_worker": {w: sum(1 for e in site if worker_of(e) == w) for w in procs},
        "redis_script_calls_per_request": round(
            sum(v["calls"] for k, v in commandstats.items() if k in ("cmdstat_evalsha", "cmdstat_eval"))
            / max(1, len(site)), 2),
        "redis_commandstats": commandstats, "machine": machine_info(),
        "worker_stats": {name: {k: v for k, v in s.items() if k.startswith(("polite/", "retry/", "finish_reason",
                                                                           "downloader/response_count"))}
                         for name, s in stats.items()},
    }
    if answer_429:
        result["answered_429"] = answer_429_check(site, answered_429, retry_after)
    if kill_after:
        result["killed"] = kill_check(site, watcher)
    if status_at:
        result["status_output"] = watcher.status_output
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result


def answer_429_check(site, answered, retry_after: float) -> dict:
    """Who started requests on the host while the 429's Retry-After ran."""
    if not answered:
        return {"sent": False}
    t = answered[0]
    during = [e for e in site if t + GRACE < e.started < t + retry_after]
    return {"sent": True, "to_worker": next((worker_of(e) for e in site if e.status == 429), "?"),
            "retry_after": retry_after, "grace_s": GRACE,
            "started_during_retry_after": {w: sum(1 for e in during if worker_of(e) == w)
                                           for w in sorted({worker_of(e) for e in site})},
            "first_start_after_s": round(min((e.started for e in site if e.started > t + GRACE),
                                             default=float("nan")) - t, 3)}


def kill_check(site, watcher: LeaseWatcher) -> dict:
    """How long w1's leases outlived its SIGKILL, and the longest pause of the host's starts after it."""
    t = watcher.killed_at
    if t is None:
        return {"killed": False}
    held = next((ls for ts, ls in watcher.samples if ts >= t), [])
    gone = next((ts - t for ts, ls in watcher.samples if ts >= t and not any(x.startswith("w1:") for x in ls)), None)
    starts = [e.started for e in site if e.started >= t]
    pauses = [b - a for a, b in zip([t] + starts, starts)]
    return {"killed": True, "w1_leases_at_kill": sum(x.startswith("w1:") for x in held),
            "w1_leases_gone_after_s": gone and round(gone, 2), "starts_after_kill": len(starts),
            "longest_pause_after_kill_s": round(max(pauses, default=0), 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--articles", type=int, default=100)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-process", action="store_true", help="SHARED_POLITENESS=False: each worker polite on its own")
    ap.add_argument("--latency", type=float, default=0.25, help="server seconds per site answer (default 0.25)")
    ap.add_argument("--answer-429", type=int, default=0, metavar="K")
    ap.add_argument("--retry-after", type=int, default=5)
    ap.add_argument("--kill-after", type=float, default=0.0, metavar="S", help="SIGKILL worker w1 after S seconds")
    ap.add_argument("--status-at", type=float, default=0.0, metavar="S", help="run scrapy frontier at S s")
    ap.add_argument("-s", action="append", default=[], metavar="NAME=VALUE", help="extra Scrapy setting")
    args = ap.parse_args(argv)
    result = run(args.workers, args.articles, args.out, per_process=args.per_process,
                 settings=dict(kv.split("=", 1) for kv in args.s), latency=args.latency, answer_429=args.answer_429,
                 retry_after=args.retry_after, kill_after=args.kill_after, status_at=args.status_at)
    brief = {k: result[k] for k in ("workers", "politeness", "latency", "wall_s", "items", "expected_items", "host",
                                    "gap_s", "requests_per_worker", "redis_script_calls_per_request", "returncodes")}
    for key in ("answered_429", "killed", "status_output"):
        if key in result:
            brief[key] = result[key]
    print(json.dumps(brief))
    return 0


if __name__ == "__main__":
    sys.exit(main())
