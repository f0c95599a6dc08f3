"""A Common Crawl-like archive made from a crawl's WARC files, for the tests and bench/cc_mix.py.

`write_common_crawl(sources, out, off_site_per_page)` writes the response records of `sources` as Common
Crawl stores them: WARC/1.0, one file in `crawl-data/CC-MAIN-*/segments/*/warc/`, payloads stored decoded
with the original Content-Encoding, Content-Length and Transfer-Encoding kept as `X-Crawler-*` headers, a
base32 SHA-1 payload digest and WARC-Identified-Payload-Type. Each of the site's pages is preceded by
`off_site_per_page` pages of other news sites (about 20 kB of seeded text each, as a news page is): with 99,
99% of the pages are off-site, as in a CC-NEWS file.
"""

from __future__ import annotations

import hashlib
import io
import random
from base64 import b32encode
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

WORDS = ("the minister said on monday that talks would resume after a week of strikes in the capital while "
         "markets rose and analysts expected growth to slow as exports fell and the central bank kept rates "
         "unchanged amid fears over energy prices and a drought that hit farmers across the region").split()
#: the HTTP headers Common Crawl keeps under an X-Crawler- name, as the payload is stored decoded
RENAMED = ("content-encoding", "content-length", "transfer-encoding")


def sha1_digest(data: bytes) -> str:
    return "sha1:" + b32encode(hashlib.sha1(data).digest()).decode()


def _other_page(rng: random.Random, n: int) -> bytes:
    paras = "".join("<p>" + " ".join(rng.choice(WORDS) for _ in range(120)) + ".</p>\n" for _ in range(20))
    return (f"<html><head><title>Other news {n}</title></head><body><h1>Story {n}</h1>\n{paras}"
            "</body></html>").encode()


def write_common_crawl(sources: list[Path], out: Path, off_site_per_page: int, seed: int = 29,
                       site_pages: int | None = None) -> Path:
    """The responses of the WARC files `sources` as Common Crawl stores them (module docstring), each after
    `off_site_per_page` other sites' pages, the first `site_pages` of them only when given; the `crawl-data`
    directory under `out`."""
    rng = random.Random(seed)
    path = out / "crawl-data" / "CC-MAIN-2026-49" / "segments" / "1764000000000.12" / "warc"
    path.mkdir(parents=True)
    warc = path / "CC-MAIN-20261201000000-20261201010000-00000.warc.gz"
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.0")
        writer.write_record(writer.create_warcinfo_record(warc.name, {"software": "Apache Nutch 1.20 (modified)",
                                                                      "format": "WARC File Format 1.0"}))
        n = written = 0
        for source in sources:
            with open(source, "rb") as src:
                for record in ArchiveIterator(src):
                    if record.rec_type != "response" or not record.http_headers:
                        continue
                    if site_pages is not None and written >= site_pages:
                        break
                    written += 1
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    body = record.content_stream().read()  # chunked and content-coding undone, as CC stores it
                    kept = [(f"X-Crawler-{name}" if name.lower() in RENAMED else name, value)
                            for name, value in record.http_headers.headers]
                    kept.append(("Content-Length", str(len(body))))
                    http = StatusAndHeaders(record.http_headers.statusline, kept, protocol="HTTP/1.1")
                    date = record.rec_headers.get_header("WARC-Date")
                    own = {"WARC-Date": date, "WARC-Payload-Digest": sha1_digest(body),
                           "WARC-Identified-Payload-Type": "text/html"}
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
                            warc_headers_dict={"WARC-Date": date, "WARC-Payload-Digest": sha1_digest(other)}))
                    writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                                  http_headers=http, warc_headers_dict=own))
    return out / "crawl-data"
