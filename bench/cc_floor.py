"""Where the wall time of `scrapy reprocess` on a Common Crawl-like file goes, against the floor of reading it whole.

    python -m bench.cc_floor --warc FILE.warc.gz [--rounds 3]

Times, best of --rounds, on this tree, with 2 processes:

* `start`: `python -m scrapy reprocess --help`, Python's and Scrapy's command line start-up and exit,
  which every run pays before it reads anything;
* `inflate`: FastWARC's bare pass over the file in two processes, each over one half (no header
  read, nothing kept): finding where each gzip member ends means inflating it, and nothing exact
  is faster (bench/RESULTS.md);
* `run` and `end to end`: the summary's seconds (from the run's start, after Scrapy's start-up) and
  the whole command from the shell.

So `start + inflate` is what a run that reads the file whole cannot go below on two cores, and
`end to end - (start + inflate)` is everything else: the WARC headers, the site check, the
selection, the second pass, the story groups.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO


def _half(path: Path, start: int, stop: int) -> None:
    from fastwarc.warc import ArchiveIterator

    with open(path, "rb") as fh:
        fh.seek(start)
        for rec in ArchiveIterator(fh, parse_http=False, verify_digests=False, inplace=True):
            if rec.stream_pos >= stop:  # absolute: FastWARC counts from where the file was
                break


def _inflate(path: Path) -> float:
    """Two forked processes, each over one half of the file by its record boundaries (the first found by a bare
    pass): the wall time of both."""
    from fastwarc.warc import ArchiveIterator

    size = path.stat().st_size
    middle = None
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh, parse_http=False, verify_digests=False, inplace=True):
            if rec.stream_pos >= size // 2:
                middle = rec.stream_pos
                break
    started = time.monotonic()
    pids = []
    for start, stop in ((0, middle), (middle, size)):
        pid = os.fork()
        if pid == 0:
            try:
                _half(path, start, stop)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    return time.monotonic() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warc", type=Path, required=True, help="the Common Crawl-like file (bench/cc_mix.py)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, seconds), seconds)

    with tempfile.TemporaryDirectory(prefix="cc-floor-") as tmp:
        out, summary = Path(tmp) / "out.jsonl", Path(tmp) / "summary.json"
        for _ in range(args.rounds):
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "scrapy", "reprocess", "--help"], cwd=REPO, env=env,
                           capture_output=True, check=True)
            keep("start", time.monotonic() - started)
            keep("inflate", _inflate(args.warc))
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "scrapy", "reprocess", str(args.warc), "-O", str(out),
                            "--processes", "2", "--progress-interval", "0", "--summary", str(summary)],
                           cwd=REPO, env=env, capture_output=True, check=True)
            keep("end to end", time.monotonic() - started)
            keep("run", json.loads(summary.read_text())["seconds"])
    floor = best["start"] + best["inflate"]
    print(f"start (scrapy reprocess --help) {best['start']:.2f} s; inflate (FastWARC, 2 halves at once) "
          f"{best['inflate']:.2f} s; floor {floor:.2f} s")
    print(f"run (summary) {best['run']:.2f} s; end to end {best['end to end']:.2f} s; above the floor "
          f"{best['end to end'] - floor:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
