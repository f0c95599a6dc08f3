"""WARC writing speed: MB/s of crawler.warc.files.WarcFileWriter against plain gzip writing of the same bytes.

N realistic response records (the sample pages as HTTP/1.1 responses, gzip-encoded bodies as
the crawl receives them, every record distinct) are written three ways, alternating, same
compression level:
  ours   WarcFileWriter.write_record (record head, block digest, one gzip member per record,
         flush per record)
  gzip   gzip.open(level).write of the same serialised records (one gzip stream)
  zlib   one zlib gzip member per record into a plain file (the WARC framing, no digest, no flush)
MB/s counts the uncompressed record bytes; ratios are ours / baseline.

    python -m bench.warc_write --records 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
import zlib
from pathlib import Path

from bench import REPO, machine_info, median, spread
from crawler.warc.digests import sha1_digest
from crawler.warc.files import WarcFileWriter, serialize_record
from crawler.warc.records import new_record_id, warc_date

SAMPLES = REPO / "tests" / "fixtures" / "samples"
LEVEL = 6  # WarcFileWriter's default compress_level


def realistic_records(n: int, *, content_coding: str = "gzip") -> list[tuple[list[tuple[str, str]], bytes]]:
    """n (WARC headers, HTTP response block) pairs built from the sample pages; bodies differ per record."""
    pages = sorted(SAMPLES.glob("*.html")) + sorted(SAMPLES.glob("*.xml"))
    bodies = [p.read_bytes() for p in pages]
    out = []
    for i in range(n):
        body = bodies[i % len(bodies)].replace(b"</title>", f" [{i}]</title>".encode(), 1)
        if content_coding == "gzip":
            body = gzip.compress(body, compresslevel=6, mtime=0)
        head = (b"HTTP/1.1 200 OK\r\nServer: Apache\r\nContent-Type: text/html; charset=utf-8\r\n"
                + (b"Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" if content_coding == "gzip" else b"")
                + f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n".encode())
        url = f"https://www.spacewar.com/reports/Story_number_{i}_999.html"
        headers = [("WARC-Type", "response"), ("WARC-Record-ID", new_record_id()), ("WARC-Date", warc_date()),
                   ("WARC-Target-URI", url), ("WARC-IP-Address", "127.0.0.1"),
                   ("Content-Type", "application/http;msgtype=response"),
                   ("WARC-Payload-Digest", sha1_digest(body))]
        out.append((headers, head + body))
    return out


def write_ours(records, directory: Path) -> float:
    writer = WarcFileWriter(directory, "bench", max_size=1_000_000_000, host="bench", compress_level=LEVEL)
    t0 = time.perf_counter()
    for headers, block in records:
        writer.write_record(headers, block)
    writer.close()  # includes the fsync a finished WARC file gets
    return time.perf_counter() - t0


def write_gzip(serialised, path: Path) -> float:
    t0 = time.perf_counter()
    with gzip.open(path, "wb", compresslevel=LEVEL) as fh:
        for data in serialised:
            fh.write(data)
    return time.perf_counter() - t0


def write_zlib_members(serialised, path: Path) -> float:
    t0 = time.perf_counter()
    with open(path, "wb") as fh:
        for data in serialised:
            comp = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)
            fh.write(comp.compress(data) + comp.flush())
    return time.perf_counter() - t0


def run(records: int = 2000, rounds: int = 5, *, content_coding: str = "gzip", log=print) -> dict:
    recs = realistic_records(records, content_coding=content_coding)
    serialised = [serialize_record(h, b) for h, b in recs]
    mb = sum(len(s) for s in serialised) / 1e6
    times: dict[str, list[float]] = {"ours": [], "gzip": [], "zlib": []}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as tmp:
        for i in range(rounds):
            order = ["ours", "gzip", "zlib"]
            order = order[i % 3:] + order[:i % 3]  # rotate who goes first
            for kind in order:
                d = Path(tmp) / f"{kind}-{i}"
                d.mkdir()
                if kind == "ours":
                    times[kind].append(write_ours(recs, d))
                elif kind == "gzip":
                    times[kind].append(write_gzip(serialised, d / "out.gz"))
                else:
                    times[kind].append(write_zlib_members(serialised, d / "out.gz"))
                sizes[kind] = sum(p.stat().st_size for p in d.iterdir())
            log(f"  warc round {i + 1}/{rounds}: " + ", ".join(f"{k} {mb / times[k][-1]:.1f} MB/s" for k in order))
    rate = {k: mb / median(v) for k, v in times.items()}
    return {
        "records": records,
        "rounds": rounds,
        "content_coding": content_coding,
        "uncompressed_mb": round(mb, 2),
        "ours_mb_s": round(rate["ours"], 1),
        "gzip_mb_s": round(rate["gzip"], 1),
        "zlib_members_mb_s": round(rate["zlib"], 1),
        "ours_spread_mb_s": spread(mb / t for t in times["ours"]),
        "gzip_spread_mb_s": spread(mb / t for t in times["gzip"]),
        "ratio_vs_gzip": round(rate["ours"] / rate["gzip"], 3),
        "ratio_vs_zlib_members": round(rate["ours"] / rate["zlib"], 3),
        "compressed_mb": {k: round(v / 1e6, 2) for k, v in sizes.items()},
        "ok": all(times.values()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--identity", action="store_true", help="bodies without content-coding (compressible)")
    args = ap.parse_args(argv)
    print(json.dumps(machine_info()))
    result = run(args.records, args.rounds, content_coding="identity" if args.identity else "gzip")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
