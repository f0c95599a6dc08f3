"""`python -m tests.sites.replica`: serve the replica of www.spacewar.com until SIGINT/SIGTERM.

Prints (and with --info-file writes) {"host_map": {...}, "http_port": N, "https_port": N};
pass the host_map to a crawl as HOST_MAP. Used by `make demo` and the benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from tests.sites.replica.server import ReplicaServer

#: The sister sites of the network job (crawler/site/profiles.py), served in full with --sisters.
SISTER_WWW = ("www.spacedaily.com", "www.energy-daily.com", "www.terradaily.com", "www.marsdaily.com")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.sites.replica", description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=40, help="generated articles (default 40)")
    ap.add_argument("--no-faults", action="store_true", help="a clean site: no 301/404/503/slow/truncated faults")
    ap.add_argument("--slow-seconds", type=float, default=1.5, help="delay of the slow article (default 1.5)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--clutter-seed", type=int, default=None,
                    help="articles carry the seeded clutter of tests/sites/replica/clutter.py (one site template per seed)")
    ap.add_argument("--multi-story", action="store_true",
                    help="a share of the articles carry further stories below the main one (related_stories)")
    ap.add_argument("--sisters", type=int, default=0,
                    help="also serve the network's four sister sites in full, with this many articles each")
    ap.add_argument("--info-file", help="also write the JSON info here (written whole, atomically)")
    ap.add_argument("--log", action="store_true", help="keep the exchange log in memory (off: long runs)")
    args = ap.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server = ReplicaServer(n_articles=args.articles, faults=not args.no_faults, slow_seconds=args.slow_seconds,
                           seed=args.seed, record=args.log, clutter_seed=args.clutter_seed,
                           multi_story=args.multi_story,
                           sisters={www: args.sisters for www in SISTER_WWW} if args.sisters else None)
    with server:
        info = {"host_map": server.host_map(), "http_port": server.http_port, "https_port": server.https_port,
                "articles": args.articles, "expected_items": len(server.expected_items()) if args.articles <= 5000
                else None}
        text = json.dumps(info, indent=1)
        print(text, flush=True)
        if args.info_file:
            path = Path(args.info_file)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
        while not stop.wait(0.5):
            pass
    print("replica stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
