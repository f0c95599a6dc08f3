"""`make demo`: start the replica of the site on 127.0.0.1, crawl it with the unchanged spider, show the outputs.

Scrapy options pass through to the crawl: `make demo ARGS="-s WACZ=True"` (a WACZ too),
`make demo ARGS="-s STATE_PATH=demo-output/state.sqlite"` (incremental), `-a from_warc=DIR`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from tests.crawling import REPO, crawl


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(REPO / "demo-output"), help="output directory (default: demo-output/)")
    parser.add_argument("--articles", type=int, default=40, help="generated articles on the replica")
    parser.add_argument("--polite", action="store_true", help="keep AutoThrottle and delays on (slower)")
    parser.add_argument("-s", dest="set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting for the crawl (repeatable), e.g. -s WACZ=True")
    parser.add_argument("-a", dest="spider_args", action="append", default=[], metavar="NAME=VALUE",
                        help="a spider argument (repeatable), e.g. -a from_warc=DIR")
    args = parser.parse_args(argv)
    overrides = {}
    for pair in args.set:
        name, sep, value = pair.partition("=")
        if not sep:
            parser.error(f"-s needs NAME=VALUE, got {pair!r}")
        overrides[name] = value

    from tests.sites.replica.server import ReplicaServer

    out = Path(args.out).resolve()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    run_dir = out / f"run-{stamp}"
    with ReplicaServer(n_articles=args.articles, faults=True, slow_seconds=1.5) as server:
        print(f"Replica of www.spacewar.com serving on 127.0.0.1: https port {server.https_port}, "
              f"http port {server.http_port}")
        settings = {} if not args.polite else {"AUTOTHROTTLE_ENABLED": "True", "DOWNLOAD_DELAY": "0.5"}
        settings.update(overrides)
        started = time.monotonic()
        result = crawl(run_dir, server.host_map(), settings=settings,
                       args=[arg for pair in args.spider_args for arg in ("-a", pair)])
        elapsed = time.monotonic() - started
        expected = len(server.expected_items())

    items = result.items
    files = result.warc_files()
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)],
                           capture_output=True, text=True) if files else None
    fallbacks = sum(1 for i in items if i.get("extraction") == "fallback")
    print()
    print(f"Crawl finished in {elapsed:.1f} s (exit status {result.returncode})")
    outcome = [line for line in result.log.splitlines() if "Crawl outcome:" in line]
    if outcome:
        print(f"  outcome       : {outcome[-1].split('Crawl outcome: ', 1)[1]}")
    elif result.returncode != 0:  # refused before it started (a bad setting, an unwritable output)
        said = [line for line in result.log.splitlines() if line.strip()]
        print(f"  stopped       : {said[-1].split(': ', 1)[-1] if said else 'see the output above'}")
    print(f"  pages fetched : {result.stats.get('response_received_count', 0)}")
    print(f"  articles      : {len(items)} exported of {expected} on the replica ({fallbacks} by fallback extraction)")
    print(f"  items (JSONL) : {result.items_path}")
    print(f"  WARC files    : {result.warc_dir}/ ({len(files)} file(s), "
          f"{sum(f.stat().st_size for f in files) / 1024:.0f} KiB; warcio check: "
          f"{'no file to check' if check is None else 'passed' if check.returncode == 0 else 'FAILED'})")
    print(f"  crawl log     : {result.log_path}")
    print(f"  stats (JSON)  : {result.outdir / 'stats.json'}")
    reports = sorted(result.outdir.glob("*-report.md"))
    if reports:
        print(f"  run report    : {reports[-1]}")
    if result.stats.get("wacz/path"):
        print(f"  WACZ          : {result.stats['wacz/path']} (wacz validate: "
              f"{'passed' if result.stats.get('wacz/valid') else 'FAILED'})")
    if items:
        first = items[0]
        print("\nFirst item:")
        print(json.dumps({k: (v[:160] + "..." if isinstance(v, str) and len(v) > 160 else v)
                          for k, v in first.items()}, indent=1, ensure_ascii=False))
    return 0 if result.returncode == 0 and (check is None or check.returncode == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
