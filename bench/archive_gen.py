"""Archives of any size for the reprocessing benchmarks: one real replica crawl, repeated with new URLs.

    python -m bench.archive_gen --source-articles 1500 --articles 15000 --out DIR [--workdir W]

The source is one real crawl of the replica (`python -m tests.sites.replica --no-faults`, crawled
with bench/crawl_throughput.py's settings, DEPTH_LIMIT 0), kept in WORKDIR/source-<n> so later
sizes reuse it. An archive of N articles is K = ceil(N / source articles) copies of it:

* copy 0 is the source crawl's records byte for byte (warcinfo, requests, responses, metadata),
  except the home page, which gains a link to the home page of every other copy, so a replay
  (`-a from_warc`, DEPTH_LIMIT=0) reaches every copy from the start page;
* copy k >= 1 repeats every 2xx HTML and RSS response with its request, under new unique URLs
  of the same kind for the site's URL rules (copy_path: /reports/X.html -> /reports/c3_X.html;
  the item's `url` drops the query, so the path must differ), in WARC-Target-URI, in the request
  line, and in the page's links (href, og:url and the like, feed <link>s, made absolute), so copy
  k is a site of its own that links to itself. Record ids are new (uuid5 of the copy and the source id), the request still
  names its response (WARC-Concurrent-To); the body is content-decoded, rewritten, gzip-encoded
  again (no chunked framing, Content-Length set), and both digests are computed anew.

Records go into WARC files of at most --max-size bytes (the crawl's WARC_MAX_SIZE by default),
each opening with a warcinfo record, each with its .cdxj index; `manifest.json` says what was
written. The output depends only on the source crawl and N (no clock, no randomness, gzip
headers without time stamps).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import html
import json
import math
import re
import shutil
import sys
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from warcio.archiveiterator import ArchiveIterator

from crawler.warc.cdxj import write_cdxj
from crawler.warc.http import remove_transfer_codings, transfer_codings

SITE_HOSTS = ("www.spacewar.com", "spacewar.com")
HOME = "https://www.spacewar.com/"
NAMESPACE = uuid.UUID("5b0f6a52-6a1c-4b8e-9d0e-16b0a2c3e4f5")
COPIED_TYPES = ("text/html", "application/xhtml+xml", "application/rss+xml", "application/xml", "text/xml")
#: attribute values and feed elements that hold URLs
_ATTR = re.compile(rb'(\b(?:href|content|action)=")([^"]*)(")', re.I)
_XML_URL = re.compile(rb"(<(?:link|guid|comments)(?:\s[^>]*)?>)\s*(https?://[^<\s]+)\s*(</)", re.I)
MAX_SIZE = 1_000_000_000  # the crawl's WARC_MAX_SIZE (crawler/capture/addon.py)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def gzip_member(data: bytes, level: int = 6) -> bytes:
    """One gzip member, no file name and mtime 0 (deterministic)."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def record_id(copy: int, source_id: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(NAMESPACE, f'{copy}:{source_id}')}>"


# --- URLs of copy k ----------------------------------------------------------------------------
_AFP = re.compile(r"^(/afp/\d{12}\.)([0-9a-z]{8})(\.html)$")
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _ident(copy: int, path: str) -> str:
    """8 base-36 characters, a function of the copy and the source path."""
    n = int.from_bytes(hashlib.sha1(f"{copy}:{path}".encode()).digest()[:8], "big")
    return "".join(_B36[(n // 36 ** i) % 36] for i in range(8))


def copy_path(path: str, copy: int) -> str:
    """The path of `path` in copy `copy`, of the same kind for the site's URL rules: the last segment
    gets a "c<k>_" prefix (/reports/c3_X.html, /news/c3_x-07nov.html, /c3_spacewar.xml), an AFP
    path a new identifier (/afp/<12 digits>.<8 new>.html), the home page /c<k>_index.html."""
    if path in ("", "/", "/index.html"):
        return f"/c{copy}_index.html"
    m = _AFP.match(path)
    if m:
        return m.group(1) + _ident(copy, path) + m.group(3)
    head, _, last = path.rpartition("/")
    return f"{head}/c{copy}_{last}" if last else f"{head}/c{copy}_index.html"


def copy_url(url: str, copy: int) -> str:
    """The URL of `url` in copy `copy` (on-site URLs only; https://www. form, query and fragment kept)."""
    parts = urlsplit(url)
    if parts.hostname not in SITE_HOSTS or parts.scheme not in ("http", "https"):
        return url
    return urlunsplit(("https", "www.spacewar.com", copy_path(parts.path, copy), parts.query, parts.fragment))


def rewrite_links(body: bytes, base: str, copy: int) -> bytes:
    """Every on-site URL in an HTML or RSS body, moved into copy `copy` (made absolute)."""

    def attr(m: re.Match) -> bytes:
        raw = m.group(2)
        value = html.unescape(raw.decode("utf-8", "replace")).strip()
        if not value or value.startswith(("#", "mailto:", "javascript:")):
            return m.group(0)
        if "://" not in value and not value.startswith("/") and m.group(1).lower().startswith(b"content"):
            return m.group(0)  # meta content that is not a URL ("article", "SpaceWar.com")
        absolute = urljoin(base, value)
        new = copy_url(absolute, copy)
        if new == absolute:
            return m.group(0)
        return m.group(1) + html.escape(new, quote=True).encode("utf-8") + m.group(3)

    def xml(m: re.Match) -> bytes:
        url = html.unescape(m.group(2).decode("utf-8", "replace"))
        new = copy_url(url, copy)
        return m.group(1) + html.escape(new, quote=False).encode("utf-8") + m.group(3)

    return _XML_URL.sub(xml, _ATTR.sub(attr, body))


# --- records -----------------------------------------------------------------------------------
def warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    """A WARC/1.1 record (headers in order, Content-Length last), gzip-compressed."""
    lines = ["WARC/1.1"] + [f"{k}: {v}" for k, v in headers if k.lower() != "content-length"]
    lines.append(f"Content-Length: {len(block)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return gzip_member(head + block + b"\r\n\r\n")


@dataclass
class Template:
    """A source response with its request, ready to be written into any copy."""

    url: str
    response_id: str
    date: str
    ip: str | None
    status_line: str  # "HTTP/1.1 200 OK"
    http_headers: list[tuple[str, str]]  # without Transfer-Encoding and Content-Length
    body: bytes  # content-decoded
    content_encoding: str | None  # "gzip" or None
    request_id: str | None = None
    request_head: bytes = b""  # request line + headers + blank line
    request_body: bytes = b""

    def response_record(self, copy: int, level: int = 6) -> tuple[str, bytes]:
        url = copy_url(self.url, copy)
        body = rewrite_links(self.body, url, copy)
        payload = gzip_member(body, level) if self.content_encoding == "gzip" else body
        head = [self.status_line] + [f"{k}: {v}" for k, v in self.http_headers]
        if self.content_encoding:
            head.append(f"Content-Encoding: {self.content_encoding}")
        head.append(f"Content-Length: {len(payload)}")
        block = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace") + payload
        rid = record_id(copy, self.response_id)
        headers = [("WARC-Type", "response"), ("WARC-Record-ID", rid), ("WARC-Date", self.date),
                   ("WARC-Target-URI", url)]
        if self.ip:
            headers.append(("WARC-IP-Address", self.ip))
        if self.request_id:
            headers.append(("WARC-Concurrent-To", record_id(copy, self.request_id)))
        headers += [("Content-Type", "application/http; msgtype=response"),
                    ("WARC-Block-Digest", sha1_b32(block)), ("WARC-Payload-Digest", sha1_b32(payload))]
        return rid, warc_record(headers, block)

    def request_record(self, copy: int) -> bytes | None:
        if not self.request_id:
            return None
        url = copy_url(self.url, copy)
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        line, _, rest = self.request_head.partition(b"\r\n")
        method, _old, version = line.split(b" ", 2)
        block = method + b" " + target.encode("latin-1") + b" " + version + b"\r\n" + rest + self.request_body
        headers = [("WARC-Type", "request"), ("WARC-Record-ID", record_id(copy, self.request_id)),
                   ("WARC-Date", self.date), ("WARC-Target-URI", url),
                   ("WARC-Concurrent-To", record_id(copy, self.response_id)),
                   ("Content-Type", "application/http; msgtype=request"), ("WARC-Block-Digest", sha1_b32(block))]
        return warc_record(headers, block)


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def read_source(files: list[Path]) -> tuple[list[tuple[Path, int, int, str, str]], list[Template], dict]:
    """Every record of the source files as (file, offset, length, type, uri), the templates of the
    2xx HTML/RSS responses (with their requests), and the first warcinfo's fields."""
    index, templates, requests, warcinfo = [], [], {}, {}
    by_id: dict[str, Template] = {}
    for path in files:
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for rec in it:
                rtype = rec.rec_type
                uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
                rid = rec.rec_headers.get_header("WARC-Record-ID")
                raw = rec.raw_stream.read()
                if rtype == "warcinfo" and not warcinfo:
                    warcinfo = {"block": raw}
                elif rtype == "request":
                    requests[rid] = (rec.rec_headers.get_header("WARC-Concurrent-To"), uri, path)
                elif rtype == "response" and rec.http_headers:
                    h = rec.http_headers
                    status = int(h.get_statuscode() or 0)
                    if 200 <= status < 300 and _media(h.get_header("Content-Type")) in COPIED_TYPES \
                            and urlsplit(uri).hostname in SITE_HOSTS:
                        codings = transfer_codings(v for k, v in h.headers if k.lower() == "transfer-encoding")
                        entity = remove_transfer_codings(raw, codings) if codings else raw
                        ce = (h.get_header("Content-Encoding") or "").strip().lower() or None
                        if ce in (None, "identity", "gzip"):
                            body = gzip.decompress(entity) if ce == "gzip" else entity
                            t = Template(
                                url=uri, response_id=rid, date=rec.rec_headers.get_header("WARC-Date"),
                                ip=rec.rec_headers.get_header("WARC-IP-Address"),
                                status_line=f"{h.protocol or 'HTTP/1.1'} {h.statusline}",
                                http_headers=[(k, v) for k, v in h.headers if k.lower() not in (
                                    "transfer-encoding", "content-length", "content-encoding")],
                                body=body, content_encoding="gzip" if ce == "gzip" else None)
                            templates.append(t)
                            by_id[rid] = t
                it.read_to_end(rec)
                index.append((path, it.get_record_offset(), it.get_record_length(), rtype, uri))
                if rtype == "request":
                    requests[rid] += (it.get_record_offset(), it.get_record_length())
    for rid, (concurrent, uri, path, offset, length) in requests.items():
        head, body = _request_block(path, offset, length)
        t = by_id.get(concurrent)
        if t is None:  # pairing by URI when the request does not name its response
            t = next((x for x in templates if x.url == uri and x.request_id is None), None)
        if t is not None and t.request_id is None:
            t.request_id, t.request_head, t.request_body = rid, head, body
    return index, templates, warcinfo


def _request_block(path: Path, offset: int, length: int) -> tuple[bytes, bytes]:
    """(request line + headers + blank line, body) of the request record at offset: its block as stored."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        record = gzip.decompress(fh.read(length))
    warc_head, _, rest = record.partition(b"\r\n\r\n")
    size = int(re.search(rb"(?im)^content-length:\s*(\d+)", warc_head).group(1))
    block = rest[:size]
    head, sep, body = block.partition(b"\r\n\r\n")
    return head + sep, body


class Writer:
    """WARC files of at most max_size bytes, each opening with a warcinfo record, each indexed."""

    def __init__(self, out: Path, prefix: str, max_size: int, info: str, cdxj: bool = True):
        self.out, self.prefix, self.max_size, self.info, self.cdxj = out, prefix, max_size, info, cdxj
        self.serial, self.fh, self.size, self.files, self.records = -1, None, 0, [], 0

    def _open(self) -> None:
        self.close_file()
        self.serial += 1
        path = self.out / f"{self.prefix}-{self.serial:05d}-gen.warc.gz"
        self.fh = open(path, "wb")
        self.files.append(path)
        self.size = 0
        block = (self.info + f"filename: {path.name}\r\n").encode("utf-8")
        self._write(warc_record([("WARC-Type", "warcinfo"),
                                 ("WARC-Record-ID", record_id(-1, f"warcinfo:{path.name}")),
                                 ("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Filename", path.name),
                                 ("Content-Type", "application/warc-fields"),
                                 ("WARC-Block-Digest", sha1_b32(block))], block))

    def _write(self, data: bytes) -> None:
        self.fh.write(data)
        self.size += len(data)
        self.records += 1

    def write(self, data: bytes) -> None:
        if self.fh is None or (self.size + len(data) > self.max_size and self.size > 0):
            self._open()
        self._write(data)

    def close_file(self) -> None:
        if self.fh is not None:
            self.fh.close()
            if self.cdxj:
                write_cdxj(self.files[-1])
            self.fh = None

    def close(self) -> None:
        self.close_file()


def generate(source_dir: Path, out: Path, copies: int, *, max_size: int = MAX_SIZE, level: int = 6,
             source_articles: int | None = None, source_items: int | None = None, cdxj: bool = True) -> dict:
    """Write `copies` copies of the source crawl's archive into `out` (emptied first); the manifest."""
    files = sorted(Path(source_dir).glob("*.warc.gz"))
    if not files:
        raise FileNotFoundError(f"no WARC files in {source_dir}")
    index, templates, _info = read_source(files)
    home = next((t for t in templates if t.url == HOME), None)
    if copies > 1 and home is None:
        raise RuntimeError("the source crawl has no home page response to link the copies from")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    prefix = files[0].name.split("-")[0] + "-" + files[0].name.split("-")[1]  # spacewar-<source start>
    info = ("software: spacewar-archiver bench/archive_gen.py\r\nformat: WARC File Format 1.1\r\n"
            f"description: {copies} copies of the replica crawl {files[0].name}, copy k>=1 under c<k>_ paths\r\n")
    writer = Writer(out, prefix, max_size, info, cdxj)
    responses = 0
    # copy 0: the source records byte for byte (its own warcinfo too), the home page with links to the copies
    handles = {p: open(p, "rb") for p in files}
    try:
        for path, offset, length, rtype, uri in index:
            if rtype == "warcinfo" and writer.fh is not None and writer.size == 0:
                continue
            if rtype == "response" and uri == HOME and copies > 1:
                links = "".join(f'<li><a href="{copy_path("/", k)}">copy {k}</a></li>' for k in range(1, copies))
                patched = Template(**{**home.__dict__, "body": home.body.replace(
                    b"</body>", f'<ul class="archive-copies">{links}</ul></body>'.encode(), 1)})
                # same record id and URL as the source: only the body (and so the digests) differ
                writer.write(_with_source_id(patched, patched.url, level))
                responses += 1
                continue
            handles[path].seek(offset)
            writer.write(handles[path].read(length))
            responses += rtype == "response"
    finally:
        for fh in handles.values():
            fh.close()
    for copy in range(1, copies):
        for t in templates:
            request = t.request_record(copy)
            if request is not None:
                writer.write(request)
            writer.write(t.response_record(copy, level)[1])
            responses += 1
    writer.close()
    # the learned page template the cleaning reads beside the WARC files (-a from_warc, reprocess)
    if (Path(source_dir) / "boilerplate.json").exists():
        shutil.copyfile(Path(source_dir) / "boilerplate.json", out / "boilerplate.json")
    manifest = {
        "copies": copies, "source": str(source_dir), "source_files": [p.name for p in files],
        "source_articles": source_articles, "source_items": source_items,
        "articles": source_articles * copies if source_articles else None,
        "items_expected": source_items * copies if source_items else None,
        "templates_per_copy": len(templates), "records": writer.records, "responses": responses,
        "files": [{"name": p.name, "bytes": p.stat().st_size} for p in writer.files],
        "bytes": sum(p.stat().st_size for p in writer.files),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _with_source_id(t: Template, url: str, level: int) -> bytes:
    """The home page of copy 0: its source URL and record id, the patched body, digests anew."""
    payload = gzip_member(t.body, level) if t.content_encoding == "gzip" else t.body
    head = [t.status_line] + [f"{k}: {v}" for k, v in t.http_headers]
    if t.content_encoding:
        head.append(f"Content-Encoding: {t.content_encoding}")
    head.append(f"Content-Length: {len(payload)}")
    block = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace") + payload
    headers = [("WARC-Type", "response"), ("WARC-Record-ID", t.response_id), ("WARC-Date", t.date),
               ("WARC-Target-URI", url)]
    if t.ip:
        headers.append(("WARC-IP-Address", t.ip))
    if t.request_id:
        headers.append(("WARC-Concurrent-To", t.request_id))
    headers += [("Content-Type", "application/http; msgtype=response"),
                ("WARC-Block-Digest", sha1_b32(block)), ("WARC-Payload-Digest", sha1_b32(payload))]
    return warc_record(headers, block)


# --- the source crawl --------------------------------------------------------------------------
def source_crawl(articles: int, workdir: Path, log=log) -> dict:
    """The real crawl of a replica of `articles` articles (kept in workdir/source-<articles>):
    {"warc_dir", "articles", "items", "pages"}."""
    from bench import ReplicaProcess
    from bench.crawl_throughput import FULL, run_crawl

    outdir = Path(workdir) / f"source-{articles}"
    done = outdir / "source.json"
    if done.exists():
        return json.loads(done.read_text())
    if outdir.exists():
        shutil.rmtree(outdir)
    log(f"[archive_gen] crawling a replica of {articles} articles into {outdir}")
    with ReplicaProcess(articles) as replica:
        run = run_crawl(FULL, outdir, replica.host_map)
    if run.returncode != 0 or not run.items:
        raise RuntimeError(f"the source crawl failed (exit {run.returncode}, {run.items} items): see {outdir}")
    info = {"warc_dir": str(outdir / "warc"), "articles": articles, "items": run.items, "pages": run.pages}
    done.write_text(json.dumps(info))
    return info


def archive(articles: int, source_articles: int, workdir: Path, out: Path | None = None, *,
            max_size: int = MAX_SIZE, log=log) -> dict:
    """An archive of (at least) `articles` articles built from the source crawl; its manifest
    (reused when workdir already holds it)."""
    src = source_crawl(source_articles, workdir, log)
    copies = max(1, math.ceil(articles / source_articles))
    out = Path(out or Path(workdir) / f"archive-{articles}")
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("copies") == copies and manifest.get("source") == src["warc_dir"]:
            return {**manifest, "dir": str(out)}
    log(f"[archive_gen] writing {copies} copies of {source_articles} articles into {out}")
    manifest = generate(Path(src["warc_dir"]), out, copies, max_size=max_size, source_articles=source_articles,
                        source_items=src["items"])
    return {**manifest, "dir": str(out)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, required=True, help="articles in the archive (rounded up to copies)")
    ap.add_argument("--source-articles", type=int, default=1500, help="articles of the replica crawled once")
    ap.add_argument("--workdir", type=Path, required=True, help="where the source crawl is kept")
    ap.add_argument("--out", type=Path, help="output directory (default WORKDIR/archive-N)")
    ap.add_argument("--max-size", type=int, default=MAX_SIZE, help="bytes per WARC file (default: WARC_MAX_SIZE)")
    args = ap.parse_args(argv)
    manifest = archive(args.articles, args.source_articles, args.workdir, args.out, max_size=args.max_size)
    print(json.dumps(manifest, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
