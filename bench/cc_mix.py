"""Reprocess on a Common Crawl-like archive that is mostly other sites: this tree against a baseline checkout, side by side.

    python -m bench.cc_mix --warc DIR_OR_FILE [--off-site 99] [--rounds 3] [--baseline /work/main]
        [--workdir DIR]

The archive (`write_common_crawl`) holds the site's responses of a real crawl's WARC files (DIR)
as Common Crawl stores them (WARC/1.0, payloads stored decoded with the original Content-Encoding,
Content-Length and Transfer-Encoding kept as `X-Crawler-*` headers, in
`crawl-data/CC-MAIN-*/segments/*/warc/`), each preceded by --off-site pages of other news sites
(about 20 kB of seeded text each, as a news page is): with 99, 99% of the pages are off-site, as
in a CC-NEWS file. Then `scrapy reprocess FILE -O out.jsonl --processes 2` runs from each checkout
(the baseline's cannot search a directory tree: it is given the file), rounds interleaved, the
best of each kept: wall seconds, pages/s (every response record of the file), articles, and the
ratio baseline/this. The items of both must agree (same URLs).

The tests (tests/e2e/test_foreign_archives.py) build their Common Crawl-like archive with the
same writer.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from base64 import b32encode
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench import REPO

WORDS = ("the minister said on monday that talks would resume after a week of strikes in the capital while "
         "markets rose and analysts expected growth to slow as exports fell and the central bank kept rates "
         "unchanged amid fears over energy prices and a drought that hit farmers across the region").split()


def _sha1(data: bytes) -> str:
    return "sha1:" + b32encode(hashlib.sha1(data).digest()).decode()


def _other_page(rng: random.Random, n: int) -> bytes:
    paras = "".join("<p>" + " ".join(rng.choice(WORDS) for _ in range(120)) + ".</p>\n" for _ in range(20))
    return (f"<html><head><title>Other news {n}</title></head><body><h1>Story {n}</h1>\n{paras}"
            "</body></html>").encode()


def write_common_crawl(sources: list[Path], out: Path, off_site_per_page: int, seed: int = 29) -> Path:
    """The responses of the WARC files `sources` as Common Crawl stores them, each after `off_site_per_page`
    other sites' pages (see the module docstring); the `crawl-data` directory."""
    rng = random.Random(seed)
    path = out / "crawl-data" / "CC-MAIN-2026-49" / "segments" / "1764000000000.12" / "warc"
    path.mkdir(parents=True)
    warc = path / "CC-MAIN-20261201000000-20261201010000-00000.warc.gz"
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.0")
        writer.write_record(writer.create_warcinfo_record(warc.name, {"software": "Apache Nutch 1.20 (modified)",
                                                                      "format": "WARC File Format 1.0"}))
        n = 0
        for source in sources:
            with open(source, "rb") as src:
                for record in ArchiveIterator(src):
                    if record.rec_type != "response" or not record.http_headers:
                        continue
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    body = record.content_stream().read()  # chunked and content-coding undone, as CC stores it
                    kept = [(f"X-Crawler-{name}" if name.lower() in ("content-encoding", "content-length",
                                                                      "transfer-encoding") else name, value)
                            for name, value in record.http_headers.headers]
                    kept.append(("Content-Length", str(len(body))))
                    http = StatusAndHeaders(record.http_headers.statusline, kept, protocol="HTTP/1.1")
                    date = record.rec_headers.get_header("WARC-Date")
                    own = {"WARC-Date": date, "WARC-Payload-Digest": _sha1(body)}
                    if record.rec_headers.get_header("WARC-Truncated"):  # CC keeps the flag of a cut transfer
                        own["WARC-Truncated"] = record.rec_headers.get_header("WARC-Truncated")
                    for _ in range(off_site_per_page):
                        n += 1
                        other = _other_page(rng, n)
                        writer.write_record(writer.create_warc_record(
                            f"https://news{n % 97}.example.org/2026/story-{n}.html", "response",
                            payload=io.BytesIO(other), http_headers=StatusAndHeaders(
                                "200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                           ("Content-Length", str(len(other)))], protocol="HTTP/1.1"),
                            warc_headers_dict={"WARC-Date": date, "WARC-Payload-Digest": _sha1(other)}))
                    writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                                  http_headers=http, warc_headers_dict=own))
    return out / "crawl-data"


def _run(repo: Path, warc: Path, template: Path | None, out: Path) -> dict:
    summary = out.with_suffix(".summary.json")
    cmd = [sys.executable, "-m", "scrapy", "reprocess", str(warc), "-O", str(out), "--processes", "2",
           "--summary", str(summary), "--progress-interval", "0"]
    if template is not None:
        cmd += ["--template", str(template)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    urls = sorted(json.loads(line)["url"] for line in out.read_text().splitlines()) if out.exists() else []
    return {"seconds": seconds, "cpu": cpu, "status": proc.returncode, "urls": urls,
            "summary": json.loads(summary.read_text()) if summary.exists() else None, "stderr": proc.stderr[-2000:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warc", type=Path, required=True, help="a real crawl's WARC file or WARC_DIR")
    parser.add_argument("--off-site", type=int, default=99, help="other sites' pages per page of the site")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1, help="write the site's pages this many times (a larger file)")
    parser.add_argument("--baseline", type=Path, default=Path("/work/main"), help="the checkout to compare with")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    sources = sorted(args.warc.glob("*.warc.gz")) if args.warc.is_dir() else [args.warc]
    template = (args.warc if args.warc.is_dir() else args.warc.parent) / "boilerplate.json"
    work = Path(args.workdir or tempfile.mkdtemp(prefix="cc-mix-"))
    tree = work / "crawl-data"
    if not tree.exists():
        write_common_crawl(sources * args.repeat, work, args.off_site)
    warc = next(tree.rglob("*.warc.gz"))
    with open(warc, "rb") as fh:
        pages = sum(1 for r in ArchiveIterator(fh) if r.rec_type == "response")
    print(f"archive: {warc} ({warc.stat().st_size / 1e6:.1f} MB, {pages} pages, {args.off_site} off-site per "
          f"page of the site)")
    best: dict[str, dict] = {}
    for k in range(args.rounds):
        order = [("baseline", args.baseline), ("this", REPO)]
        for name, repo in (order if k % 2 == 0 else order[::-1]):
            res = _run(repo, warc, template if template.is_file() else None, work / f"{name}.jsonl")
            print(f"round {k + 1} {name}: {res['seconds']:.2f} s wall, {res['cpu']:.2f} s CPU, exit {res['status']}, "
                  f"{len(res['urls'])} articles", flush=True)
            if res["status"] != 0:
                print(res["stderr"])
            if name not in best or res["seconds"] < best[name]["seconds"]:
                best[name] = res
    b, t = best["baseline"], best["this"]
    print(f"| checkout | wall s | pages/s (wall) | CPU s (process tree) | articles |\n| --- | --- | --- | --- | --- |")
    for label, r in ((f"baseline ({args.baseline})", b), (f"this ({REPO})", t)):
        print(f"| {label} | {r['seconds']:.2f} | {pages / r['seconds']:.0f} | {r['cpu']:.2f} | {len(r['urls'])} |")
    print(f"speed-up (baseline / this): wall {b['seconds'] / t['seconds']:.2f}x, CPU {b['cpu'] / t['cpu']:.2f}x; "
          f"same articles: {b['urls'] == t['urls']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
