"""A shared crawl with one worker killed -9 and restarted: how many of the replica's articles were exported, how often (issue 28).

    python -m bench.killed_worker --articles 300 --kill-after 132 --out /tmp/killed/after
    python -m bench.killed_worker --articles 300 --kill-after 132 --tree /work/main --out /tmp/killed/before
    python -m bench.killed_worker --articles 300 --kill-after 60 --restart-id w1-new --out /tmp/killed/new-id

Starts its own redis-server (loopback, free port, no persistence) and the replica (faults on: slow
pages, 503s, 404s) in this process, then two `scrapy crawl spacewar` workers w1 and w2 on one
REDIS_URL. Once w1's heartbeat says it downloaded --kill-after pages, w1 is killed with SIGKILL and
started again with the same WORKER_ID (as a service manager with a fixed id would; its own -O file;
--restart-id: another id, as with the default host-pid id),
and the run waits for all. --tree runs the crawls from another checkout (e.g. the code before the
reliable queue), so before and after are the same command at the same moment. Settings: the
replica-quick ones of the tests (no AutoThrottle), shared politeness at DOWNLOAD_DELAY 0.05, 8
requests per worker, FRONTIER_WORKER_TTL 10 (ignored by the code before).

Prints one JSON line: articles expected, exported (distinct URLs), duplicates, missing, exit
statuses, seconds; writes it to <out>/result.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import REPO
from tests.crawling import crawl_command, read_items
from tests.redis_server import RedisServer
from tests.sites.replica.server import ReplicaServer

SETTINGS = {"FRONTIER_IDLE_TIMEOUT": "3", "FRONTIER_HEARTBEAT_INTERVAL": "1", "FRONTIER_WORKER_TTL": "10",
            "CONCURRENT_REQUESTS": "8", "DOWNLOAD_DELAY": "0.05"}


def start(tree: Path, out: Path, name: str, run: str, site, redis_url: str, worker: str | None = None):
    wdir = out / name
    wdir.mkdir(parents=True, exist_ok=True)
    cmd = crawl_command(wdir, site, items=wdir / f"{run}.jsonl", log=wdir / f"{run}.log",
                        stats=wdir / f"{run}.stats.json",
                        settings={**SETTINGS, "REDIS_URL": redis_url, "WORKER_ID": worker or name})
    return subprocess.Popen(cmd, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                            stdout=open(wdir / f"{run}.out", "wb"), stderr=subprocess.STDOUT)


def pages_of(client, worker: str) -> int:
    raw = client.hget("spacewar:heartbeat", worker)
    return json.loads(raw).get("pages", 0) if raw else 0


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--kill-after", type=int, default=132, help="kill w1 once it downloaded this many pages")
    ap.add_argument("--restart-id", default="w1", help="the WORKER_ID w1 restarts under (a new one: the dead "
                    "id's requests come back after FRONTIER_WORKER_TTL)")
    ap.add_argument("--tree", type=Path, default=REPO, help="the checkout whose code the workers run")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with ReplicaServer(n_articles=args.articles) as site, RedisServer() as redis:
        client = redis.client()
        w1 = start(args.tree, args.out, "w1", "first", site, redis.url)
        w2 = start(args.tree, args.out, "w2", "run", site, redis.url)
        while pages_of(client, "w1") < args.kill_after and w1.poll() is None:
            time.sleep(0.05)
        killed_at = pages_of(client, "w1")
        w1.kill()
        w1.wait()
        restarted = start(args.tree, args.out, "w1", "second", site, redis.url, args.restart_id)
        statuses = {"w1 first": w1.returncode, "w1 restarted": restarted.wait(timeout=1800),
                    "w2": w2.wait(timeout=1800)}
        expected = {item["url"] for item in site.expected_items()}
    exported = collections.Counter(item["url"] for run in ("w1/first", "w1/second", "w2/run")
                                   for item in read_items(args.out / f"{run}.jsonl"))
    result = {"tree": str(args.tree), "restart_id": args.restart_id, "articles": len(expected), "exported": len(set(exported) & expected),
              "duplicates": sum(n - 1 for n in exported.values() if n > 1),
              "missing": len(expected - set(exported)), "w1_pages_at_kill": killed_at,
              "exit_statuses": statuses, "seconds": round(time.monotonic() - began, 1)}
    (args.out / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    sys.exit(main() and 0)
