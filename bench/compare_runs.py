"""Do two crawls leave the same items and the same WARC records? (issue 22: "no change in behaviour")

Compares two crawl output directories (each with items.jsonl, or *.jsonl, and warc/*.warc.gz):
- the items, by URL, every field but `fetched_at`, `captured_at` and `warc` (the fetch and capture
  times and the record's file and offset, which differ from run to run);
- the WARC records as a multiset (crawl order varies with concurrency): each record's type, its
  headers but those that name other records or times (WARC-Record-ID, WARC-Date, WARC-Concurrent-To,
  WARC-Refers-To, WARC-Refers-To-Date, WARC-Warcinfo-ID, WARC-Filename, WARC-Block-Digest and
  Content-Length, whose blocks hold times), and its block with the times taken out (HTTP `Date:` lines,
  the metadata record's fetchTimeMs, the item record's fetched_at, captured_at and warc), and the metadata record's
  `via` (of several pages linking to one, which came first depends on crawl order: two runs of one tree
  differ there too).

    python -m bench.compare_runs RUN_A RUN_B     # exit status 0: the same; 1: differences listed
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

#: headers that name other records, times, or digest a block holding times
VARYING = {"WARC-Record-ID", "WARC-Date", "WARC-Concurrent-To", "WARC-Refers-To", "WARC-Refers-To-Date",
           "WARC-Warcinfo-ID", "WARC-Filename", "WARC-Block-Digest", "Content-Length"}
ITEM_VARYING = ("fetched_at", "captured_at", "warc")
_HTTP_DATE = re.compile(rb"^(Date|Expires|Last-Modified): .*$", re.M | re.I)
_FETCH_TIME = re.compile(rb"^fetchTimeMs: .*$", re.M)
#: the page that linked first: which of several linking pages came first depends on crawl order
_VIA = re.compile(rb"^via: .*$", re.M)


def _items_file(run: Path) -> Path:
    found = sorted(run.glob("items.jsonl")) or sorted(run.glob("*.jsonl"))
    if not found:
        raise SystemExit(f"no items (*.jsonl) in {run}")
    return found[0]


def items(run: Path) -> dict[str, dict]:
    out = {}
    for line in _items_file(run).read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            out[item["url"]] = {k: v for k, v in item.items() if k not in ITEM_VARYING}
    return out


def _block(rec) -> bytes:
    data = rec.content_stream().read() if rec.rec_type != "response" and rec.rec_type != "revisit" \
        else rec.raw_stream.read()
    kind = rec.rec_headers.get_header("X-Record-Kind")
    if kind == "item":
        item = json.loads(data)
        return json.dumps({k: v for k, v in item.items() if k not in ITEM_VARYING}, sort_keys=True).encode()
    if rec.rec_type == "warcinfo":
        return data
    data = _HTTP_DATE.sub(rb"\1: -", data)
    return _VIA.sub(b"via: -", _FETCH_TIME.sub(b"fetchTimeMs: -", data))


def records(run: Path) -> Counter:
    out: Counter = Counter()
    for path in sorted((run / "warc").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, no_record_parse=False):
                headers = tuple((k, v) for k, v in rec.rec_headers.headers if k not in VARYING)
                out[(rec.rec_type, headers, _block(rec))] += 1
    return out


def compare(a: Path, b: Path) -> dict:
    items_a, items_b = items(a), items(b)
    recs_a, recs_b = records(a), records(b)
    differing = sorted(u for u in items_a.keys() & items_b.keys() if items_a[u] != items_b[u])
    only_a, only_b = recs_a - recs_b, recs_b - recs_a
    return {
        "items": [len(items_a), len(items_b)],
        "items_only_in_a": sorted(items_a.keys() - items_b.keys()),
        "items_only_in_b": sorted(items_b.keys() - items_a.keys()),
        "items_differing": differing,
        "records": [sum(recs_a.values()), sum(recs_b.values())],
        "records_by_type": [dict(Counter(k[0] for k in recs_a.elements())),
                            dict(Counter(k[0] for k in recs_b.elements()))],
        "records_only_in_a": [(k[0], dict(k[1]).get("WARC-Target-URI")) for k in only_a.elements()],
        "records_only_in_b": [(k[0], dict(k[1]).get("WARC-Target-URI")) for k in only_b.elements()],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    result = compare(args.a, args.b)
    same = not any(result[k] for k in ("items_only_in_a", "items_only_in_b", "items_differing",
                                       "records_only_in_a", "records_only_in_b"))
    print(json.dumps(result, indent=1))
    print("same items and records" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
