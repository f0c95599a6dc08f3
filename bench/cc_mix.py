"""Reprocess on a Common Crawl-like archive that is mostly other sites: this tree against a baseline checkout, side by side.

    python -m bench.cc_mix --warc DIR_OR_FILE [--off-site 99] [--repeat 1] [--site-pages N] [--rounds 3]
        --baseline CHECKOUT [--workdir DIR]

The archive (`write_common_crawl`, tests/sites/commoncrawl.py) holds the site's responses of a real crawl's WARC files (DIR)
as Common Crawl stores them (WARC/1.0, payloads stored decoded with the original Content-Encoding,
Content-Length and Transfer-Encoding kept as `X-Crawler-*` headers, in
`crawl-data/CC-MAIN-*/segments/*/warc/`), each preceded by --off-site pages of other news sites
(about 20 kB of seeded text each, as a news page is): with 99, 99% of the pages are off-site, as
in a CC-NEWS file (`--repeat N`: the crawl's pages N times, a larger file; `--site-pages N`: only the
first N of them, a smaller one: 60 make the issue's 6,000 off-site pages). Then `scrapy reprocess FILE
-O out.jsonl --processes 2` runs from each checkout (the baseline's cannot search a directory tree: it is
given the file), and from this checkout again with `--index FILE.cdxj` (the file's CDXJ index, written beside it once, as Common Crawl
publishes an index of its files): rounds interleaved, who goes first rotating, the best of each
kept: wall seconds, pages/s (every response record of the file), articles, and the ratios
baseline/this. The items of all three must agree (same URLs), and this tree's with and without
the index be the same bytes.

The tests (tests/e2e/test_foreign_archives.py) build their Common Crawl-like archive with the
same writer.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from bench import REPO, timed_reprocess
from crawler.warc.cdxj import cdxj_path, write_cdxj
from tests.sites.commoncrawl import write_common_crawl

def _run(repo: Path, warc: Path, template: Path | None, out: Path, index: Path | None = None) -> dict:
    options = [*(["--index", str(index)] if index is not None else []),
               *(["--template", str(template)] if template is not None else [])]
    res = timed_reprocess(repo, warc, out, *options)
    res["urls"] = sorted(json.loads(line)["url"] for line in out.read_text().splitlines()) if out.exists() else []
    return res


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warc", type=Path, required=True, help="a real crawl's WARC file or WARC_DIR")
    parser.add_argument("--off-site", type=int, default=99, help="other sites' pages per page of the site")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1, help="write the site's pages this many times (a larger file)")
    parser.add_argument("--site-pages", type=int, default=None,
                        help="only the first N of the site's pages (with --off-site 99: 99 N off-site pages)")
    parser.add_argument("--baseline", type=Path, required=True,
                        help="a checkout of the revision to compare with (e.g. a git worktree of main)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    sources = sorted(args.warc.glob("*.warc.gz")) if args.warc.is_dir() else [args.warc]
    template = (args.warc if args.warc.is_dir() else args.warc.parent) / "boilerplate.json"
    work = Path(args.workdir or tempfile.mkdtemp(prefix="cc-mix-"))
    tree = work / "crawl-data"
    if not tree.exists():
        write_common_crawl(sources * args.repeat, work, args.off_site, site_pages=args.site_pages)
    warc = next(tree.rglob("*.warc.gz"))
    with open(warc, "rb") as fh:
        pages = sum(1 for r in ArchiveIterator(fh) if r.rec_type == "response")
    index = cdxj_path(warc)
    if not index.exists():  # the file's index, as Common Crawl publishes one for its files (cdx-NNNNN.gz)
        write_cdxj(warc)
    print(f"archive: {warc} ({warc.stat().st_size / 1e6:.1f} MB, {pages} pages, {args.off_site} off-site per "
          f"page of the site)")
    best: dict[str, dict] = {}
    for k in range(args.rounds):
        order = [("baseline", args.baseline, None), ("this", REPO, None), ("this --index", REPO, index)]
        order = order[k % 3:] + order[:k % 3]  # who goes first rotates
        for name, repo, idx in order:
            res = _run(repo, warc, template if template.is_file() else None,
                       work / f"{name.replace(' --', '-')}.jsonl", idx)
            print(f"round {k + 1} {name}: {res['wall']:.2f} s wall, {res['cpu']:.2f} s CPU, exit {res['status']}, "
                  f"{len(res['urls'])} articles", flush=True)
            if res["status"] != 0:
                print(res["stderr"])
            if name not in best or res["wall"] < best[name]["wall"]:
                best[name] = res
    b, t, i = best["baseline"], best["this"], best["this --index"]
    print(f"| checkout | wall s (best) | pages/s (wall) | CPU s (process tree) | articles | speed-up, wall | CPU |\n"
          "| --- | --- | --- | --- | --- | --- | --- |")
    for label, r in ((f"baseline ({args.baseline})", b), (f"this ({REPO})", t), (f"this, --index FILE.cdxj", i)):
        print(f"| {label} | {r['wall']:.2f} | {pages / r['wall']:.0f} | {r['cpu']:.2f} | {len(r['urls'])} | "
              f"{b['wall'] / r['wall']:.2f}x | {b['cpu'] / r['cpu']:.2f}x |")
    same = (work / "this.jsonl").read_bytes() == (work / "this-index.jsonl").read_bytes()
    print(f"same articles: {b['urls'] == t['urls'] == i['urls']}; this with and without --index, the same bytes: "
          f"{same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
