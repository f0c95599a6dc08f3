"""`make demo`: start the replica of the site on 127.0.0.1, crawl it with the unchanged spider, say where the outputs are.

It needs only the base install (`pip install -e .`) and the replica in tests/sites/: nothing here or
in what it imports comes from the test extras. Each run writes demo-output/run-<UTC time>/.

    make demo                                # one crawl
    make demo ARGS=--incremental             # run it twice: the second run fetches only what is due, exports nothing new
    make demo ARGS="-s WACZ=True"            # a WACZ too
    make demo ARGS="-a from_warc=DIR"        # rebuild the items from WARC files, nothing fetched

Scrapy options (-s NAME=VALUE, -a NAME=VALUE) pass through to `scrapy crawl`. Incremental runs
(--incremental, or -s STATE_PATH=...) share one WARC directory, demo-output/warc/, unless
WARC_DIR is given: a 304 is archived as a revisit of the response it confirms, which must be in
that WARC directory. Ctrl-C is passed on to the crawl, which finishes what it has in hand, writes
its report and exits 75; the demo then says where the outputs are.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler import keys
from tests.crawling import REPO, crawl_command, read_items


def shown(path: Path | str) -> str:
    """A path relative to the current directory when it is below it (as the README shows them), else absolute."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run(cmd: list[str]) -> tuple[int, bool]:
    """Run the crawl in a process group of its own and wait for it; (exit status, interrupted).

    Ctrl-C reaches only this process (the crawl is not in the terminal's process group), and each
    Ctrl-C is passed on once: the first makes Scrapy finish cleanly, a second forces it."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    interrupted = False
    while True:
        try:
            proc.communicate()
            return proc.returncode, interrupted
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            print("\nCtrl-C: the crawl is finishing what it has in hand and writing its report "
                  f"({'forced now' if interrupted else 'Ctrl-C again to force it'})...", flush=True)
            interrupted = True


def outcome(stats: dict, log_path: Path) -> str:
    """The crawl's outcome in words: from its stats, else the log's last outcome or CRITICAL line (a
    configuration error stops the crawl before there are stats)."""
    if stats.get(keys.STAT_OUTCOME):
        return stats[keys.STAT_OUTCOME]
    lines = log_path.read_text("utf-8", "replace").splitlines() if log_path.exists() else []
    for line in reversed(lines):
        for mark in ("Crawl outcome: ", "CRITICAL: "):
            if mark in line:
                return line.split(mark, 1)[1]
    return f"no outcome recorded: see {shown(log_path)}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(REPO / "demo-output"), help="output directory (default: demo-output/)")
    parser.add_argument("--articles", type=int, default=40, help="generated articles on the replica")
    parser.add_argument("--polite", action="store_true", help="keep AutoThrottle and delays on (slower)")
    parser.add_argument("--incremental", action="store_true",
                        help="keep a crawl state (OUT/state.sqlite) and one WARC directory (OUT/warc) across runs")
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
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = {} if not args.polite else {"AUTOTHROTTLE_ENABLED": "True", "DOWNLOAD_DELAY": "0.5"}
    if args.incremental:
        settings["STATE_PATH"] = str(out / "state.sqlite")
    settings.update(overrides)
    replaying = any(pair.startswith("from_warc=") for pair in args.spider_args)
    warc_dir = Path(settings.get("WARC_DIR") or (out / "warc" if settings.get("STATE_PATH") else run_dir / "warc"))
    items_path, stats_path, log_path = run_dir / "items.jsonl", run_dir / "stats.json", run_dir / "crawl.log"
    with ReplicaServer(n_articles=args.articles, faults=True, slow_seconds=1.5) as server:
        print(f"Replica of www.spacewar.com serving on 127.0.0.1: https port {server.https_port}, "
              f"http port {server.http_port}", flush=True)
        cmd = crawl_command(run_dir, server, items=items_path, settings=settings, warc_dir=warc_dir,
                            log=log_path, stats=stats_path,
                            args=[arg for pair in args.spider_args for arg in ("-a", pair)])
        started = time.monotonic()
        status, interrupted = run(cmd)
        elapsed = time.monotonic() - started
        expected = len(server.expected_items())

    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    items = read_items(items_path)
    files = [warc_dir / name for name in stats.get(keys.STAT_FILES) or []]
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)],
                           capture_output=True, text=True) if files else None
    fallbacks = sum(1 for i in items if i.get("extraction") == "fallback")
    print()
    stopped = interrupted and stats.get(keys.STAT_EXIT_STATUS, status) != 0
    late = " (Ctrl-C came as it was ending)" if interrupted and not stopped else ""
    print(f"Crawl {'stopped by Ctrl-C' if stopped else 'finished'} in {elapsed:.1f} s{late} (exit status {status})")
    print(f"  outcome       : {outcome(stats, log_path)}")
    pages = int(stats.get(keys.STAT_REPLAY_PAGES if replaying else keys.STAT_PAGES_ARCHIVED) or 0)
    print(f"  pages         : {pages} {'replayed' if replaying else 'archived'} (spider pages answered below 400); "
          f"{stats.get('downloader/response_count', 0)} responses in all, with robots.txt, images, stylesheets, errors")
    print(f"  articles      : {len(items)} exported of {expected} on the replica ({fallbacks} by fallback extraction)")
    if settings.get("STATE_PATH"):
        verdict = {k: int(stats.get(keys.STAT_INCREMENTAL.format(verdict=k)) or 0) for k in ("new", "changed", "unchanged")}
        print(f"  incremental   : {verdict['new']} new, {verdict['changed']} changed, {verdict['unchanged']} unchanged "
              f"({int(stats.get(keys.STAT_NOT_MODIFIED) or 0)} revalidated: answered 304; "
              f"{int(stats.get(keys.STAT_REVISIT.format(event='not_due')) or 0)} known pages not due yet); "
              f"state {shown(settings['STATE_PATH'])}")
    print(f"  items (JSONL) : {shown(items_path)}")
    if replaying:
        print(f"  WARC files    : none written (the pages came from {stats.get(keys.STAT_REPLAY_FILES, '?')} "
              f"archived WARC file(s))")
    else:
        print(f"  WARC files    : {shown(warc_dir)}/ ({len(files)} file(s) written by this run, "
              f"{sum(f.stat().st_size for f in files if f.exists()) / 1024:.0f} KiB; warcio check: "
              f"{'passed' if check and check.returncode == 0 else 'FAILED' if check else 'nothing to check'})")
    print(f"  crawl log     : {shown(log_path)}")
    print(f"  stats (JSON)  : {shown(stats_path)}")
    for report in sorted(run_dir.glob("*-report.md")):
        print(f"  run report    : {shown(report)} (and {report.with_suffix('.html').name}, with charts)")
    if stats.get(keys.STAT_WACZ.format(fact="path")):
        print(f"  WACZ          : {shown(stats[keys.STAT_WACZ.format(fact='path')])} (wacz validate: "
              f"{'passed' if stats.get(keys.STAT_WACZ.format(fact='valid')) else 'FAILED'})")
    left_open = sorted(p.name for p in warc_dir.glob("*.open")) if warc_dir.is_dir() else []
    if left_open:
        print(f"  left open     : {', '.join(left_open)} (the crawl was forced to stop; the next run recovers them)")
    if items and not interrupted:
        first = items[0]
        print("\nFirst item:")
        print(json.dumps({k: (v[:160] + "..." if isinstance(v, str) and len(v) > 160 else v)
                          for k, v in first.items()}, indent=1, ensure_ascii=False))
    if status == 0 and check is not None and check.returncode != 0:
        return 1
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C before or after the crawl: nothing to wait for
        sys.exit(130)
