"""Server faults never crash the crawl or corrupt a file: each leaves a stat and a log line, other articles unaffected.

The faults run on FaultSite, a small HTTPS site of this module (the shared replica lacks most
of them): www.spacewar.com on 127.0.0.1 through HOST_MAP, articles at /reports/*.html, and one
path per fault linked from the home page. It is also the site of the killed-crawl, security
and soak tests. Item extraction is not what these tests are about: when the project's
extract/clean stages are not installed yet, StubExtractPipeline stands in for them.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SITE = "https://www.spacewar.com"

# --- the site ------------------------------------------------------------------------------


def make_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.spacewar.com")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.spacewar.com"),
                                                        x509.DNSName("spacewar.com")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def article_path(i: int) -> str:
    return f"/reports/Fault_site_story_number_{i}_999.html"


def article_html(i: int, *, charset: str = "utf-8", body: bool = True) -> str:
    paragraphs = "".join(f"<p>Paragraph {k} of story {i}: the defence ministry said the test went well.</p>\r\n"
                         for k in range(3)) if body else ""
    return (f"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset={charset}\">"
            f"<title>Fault site story number {i}</title></head><body>\r\n"
            f"<!--body-2-incontainer.php-->\r\n<span class=\"BHS\">Fault site story number {i}</span>\r\n"
            f"<span class=\"BDC\">by Staff Writers</span>\r\n<span class=\"BDT\">Washington (AFP) May 30, 2024</span>\r\n"
            f"{paragraphs}<a href=\"/\">home</a> <a href=\"{article_path((i + 1))}\">next</a>\r\n"
            "</body></html>")


class FaultSite:
    """A small HTTPS site with faults; `with FaultSite(...) as site: site.host_map()`.

    n_articles good articles are linked from /news/list-<k>.html pages (10 per page) linked
    from the home page; `faults` names extra pages linked from the home page (see ROUTES).
    `delay` seconds are spent before each article response (to keep requests in flight)."""

    def __init__(self, n_articles: int = 20, faults=(), delay: float = 0.0, per_page: int = 10,
                 robots: str = "User-agent: *\nDisallow: /private/\n"):
        self.robots = robots.encode()
        self.n_articles = n_articles
        self.faults = list(faults)
        self.delay = delay
        self.per_page = per_page
        self.hits: Counter = Counter()
        self.lock = threading.Lock()
        self.arrived = threading.Event()  # set when a request for /slow/ arrives
        self.hold = threading.Event()  # /slow/ answers once this is set
        self._tmp = tempfile.TemporaryDirectory()

    # expected outcome
    def article_urls(self) -> set[str]:
        return {SITE + article_path(i) for i in range(self.n_articles)}

    def host_map(self) -> dict:
        return {"www.spacewar.com:443": f"127.0.0.1:{self.port}", "spacewar.com:443": f"127.0.0.1:{self.port}"}

    def __enter__(self):
        cert, key = make_certificate(Path(self._tmp.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                with site.lock:
                    site.hits[path] += 1
                    count = site.hits[path]
                try:
                    site.route(self, path, count)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self._tmp.cleanup()

    # --- responses ---------------------------------------------------------------------
    @staticmethod
    def send(h, status=200, body=b"", headers=(), content_type="text/html; charset=utf-8"):
        h.send_response(status)
        if content_type:
            h.send_header("Content-Type", content_type)
        for name, value in headers:
            h.send_header(name, value)
        if not any(name.lower() == "content-length" for name, _ in headers):
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def home(self) -> bytes:
        pages = (self.n_articles + self.per_page - 1) // self.per_page
        links = [f'<a href="/news/list-{k}.html">page {k}</a>' for k in range(pages)]
        links += [f'<a href="{p}">{p}</a>' for p in self.faults]
        return f"<html><body>{' '.join(links)}</body></html>".encode()

    def listing(self, k: int) -> bytes:
        first = k * self.per_page
        ids = range(first, min(first + self.per_page, self.n_articles))
        links = " ".join(f'<a href="{article_path(i)}?utm_source=x">story {i}</a>' for i in ids)
        return f"<html><body>{links}</body></html>".encode()

    def route(self, h, path, count):
        if path == "/robots.txt":
            return self.send(h, body=self.robots, content_type="text/plain")
        if path in ("/", "/index.html"):
            return self.send(h, body=self.home())
        if path == "/spacewar.xml":
            return self.send(h, body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                                     b"</channel></rss>", content_type="application/rss+xml")
        if path.startswith("/news/list-"):
            return self.send(h, body=self.listing(int(path[len("/news/list-"):-len(".html")])))
        if path.startswith("/reports/Fault_site_story_number_"):
            i = int(path.split("_number_")[1].split("_")[0])
            if i >= self.n_articles:
                return self.send(h, 404, b"<html><body>gone</body></html>")
            if self.delay:
                time.sleep(self.delay)
            return self.send(h, body=article_html(i).encode())
        handler = ROUTES.get(path)
        if handler is not None:
            return handler(self, h, count)
        return self.send(h, 404, b"<html><body>not found</body></html>")


# --- the faults: path -> handler(site, request handler, how many times this path was asked) ---


def _reset(site, h, count):
    h.rfile.read(0)
    sock = h.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.close_connection = True
    sock.close()


def _timeout(site, h, count):
    time.sleep(6)  # DOWNLOAD_TIMEOUT is 2 in these tests
    site.send(h, body=article_html(900).encode())


def _always_503(site, h, count):
    site.send(h, 503, b"<html>down</html>")


def _retry_after(site, h, count):
    if count == 1:
        return site.send(h, 429, b"<html>slow down</html>", headers=[("Retry-After", "2")])
    site.send(h, body=article_html(901).encode())


def _redirect_loop(site, h, count):
    target = "/loop/b.html" if h.path.startswith("/loop/a") else "/loop/a.html"
    site.send(h, 302, b"", headers=[("Location", target)])


def _truncated(site, h, count):
    body = article_html(902).encode()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(body) + 5000))
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()
    h.close_connection = True


def _oversized(site, h, count):
    site.send(h, body=b"<html><body>" + b"x" * (300 * 1024) + b"</body></html>")


def _gzip_bomb(site, h, count):
    bomb = gzip.compress(b"<html><body>" + b"\0" * (50 * 1024 * 1024), 9)  # 50 MiB in ~50 KiB
    site.send(h, body=bomb, headers=[("Content-Encoding", "gzip")])


def _wrong_charset(site, h, count):
    # windows-1252 bytes (curly quotes 0x93/0x94, e acute 0xe9) declared as utf-8
    html = article_html(903, charset="utf-8").replace("the test went well",
                                                       "\u201cthe caf\u00e9 test went well\u201d")
    site.send(h, body=html.encode("cp1252"), content_type="text/html; charset=utf-8")


def _missing_charset(site, h, count):
    html = article_html(904, charset="").replace('; charset="', '"').replace("the test", "the caf\u00e9 test")
    site.send(h, body=html.encode("cp1252"), content_type="text/html")


def _binary(site, h, count):
    site.send(h, body=os.urandom(4096) + b"\0\0\0", content_type="text/html")


def _empty(site, h, count):
    site.send(h, body=b"")


def _malformed(site, h, count):
    site.send(h, body=b"<html><body><p>unclosed <div><table><tr><td><<<>>> &bogus; <a href='/'>x</a")


def _no_body(site, h, count):
    site.send(h, body=article_html(905, body=False).encode())


def _slow(site, h, count):
    site.arrived.set()
    site.hold.wait(30)
    site.send(h, body=article_html(906).encode())


ROUTES = {
    "/reports/Reset_999.html": _reset,
    "/reports/Timeout_999.html": _timeout,
    "/reports/Unavailable_999.html": _always_503,
    "/reports/Retry_after_999.html": _retry_after,
    "/loop/a.html": _redirect_loop,
    "/loop/b.html": _redirect_loop,
    "/reports/Truncated_999.html": _truncated,
    "/reports/Oversized_999.html": _oversized,
    "/reports/Gzip_bomb_999.html": _gzip_bomb,
    "/reports/Wrong_charset_999.html": _wrong_charset,
    "/reports/Missing_charset_999.html": _missing_charset,
    "/reports/Binary_999.html": _binary,
    "/reports/Empty_999.html": _empty,
    "/reports/Malformed_999.html": _malformed,
    "/reports/No_body_999.html": _no_body,
    "/reports/Slow_999.html": _slow,
}


# --- stand-in for the extract/clean stages (used only when those are not installed) -----------


class StubExtractPipeline:
    """Title from <title>, paragraphs from <p>: enough for the validate/export stages."""

    def process_item(self, item, spider=None):
        from parsel import Selector
        from scrapy.exceptions import DropItem

        sel = Selector(text=item.get("html") or "<html></html>")
        title = (sel.css("title::text").get() or "").strip()
        paragraphs = [" ".join(p.split()) for p in sel.css("p").xpath("string()").getall()]
        paragraphs = [p for p in paragraphs if p]
        if not paragraphs:
            raise DropItem("no body")
        item.update(title=title, published="2024-05-30", author=None, location="Washington",
                    agency="AFP", body="\n\n".join(paragraphs), images=[], rights=None,
                    extraction="site-rules")
        return item


def item_pipelines() -> dict:
    """The project's item chain, extract/clean stood in for by the stub when missing."""
    from scrapy.utils.project import get_project_settings

    chain = dict(get_project_settings().getdict("ITEM_PIPELINES"))
    if importlib.util.find_spec("pipelines.extract") is None or importlib.util.find_spec("pipelines.clean") is None:
        chain.pop("pipelines.extract.ExtractPipeline", None)
        chain.pop("pipelines.clean.CleanPipeline", None)
        chain["tests.test_faults.StubExtractPipeline"] = 100
    return chain


# --- running crawls ---------------------------------------------------------------------------

FAST = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "PROGRESS_INTERVAL": "0",
        "RETRY_TIMES": "2", "RETRY_BACKOFF_BASE": "0.2", "DOWNLOAD_TIMEOUT": "2",
        "WARC_MIN_FREE_BYTES": "0", "TELNETCONSOLE_ENABLED": "False", "LOG_LEVEL": "INFO"}


def crawl_command(outdir: Path, site: FaultSite, *, items: Path, settings: dict | None = None,
                  warc_dir: Path | None = None, log: Path | None = None, stats: Path | None = None):
    opts = dict(FAST)
    opts.update({"WARC_DIR": str(warc_dir or outdir / "warc"), "HOST_MAP": json.dumps(site.host_map()),
                 "LOG_FILE": str(log or outdir / "crawl.log"), "STATS_FILE": str(stats or outdir / "stats.json"),
                 "REPORT_DIR": str(outdir), "ITEM_PIPELINES": json.dumps(item_pipelines())})
    opts.update(settings or {})
    cmd = [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-O", str(items)]
    for key, value in opts.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def start_crawl(outdir: Path, site: FaultSite, name: str = "run", **kw) -> tuple[subprocess.Popen, dict]:
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {"items": outdir / f"{name}.jsonl", "log": outdir / f"{name}.log", "stats": outdir / f"{name}.stats.json"}
    cmd = crawl_command(outdir, site, items=paths["items"], log=paths["log"], stats=paths["stats"], **kw)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, paths


def run_crawl(outdir: Path, site: FaultSite, name: str = "run", timeout: float = 120, **kw) -> dict:
    proc, paths = start_crawl(outdir, site, name, **kw)
    out, _ = proc.communicate(timeout=timeout)
    paths["returncode"] = proc.returncode
    paths["output"] = out.decode("utf-8", "replace")
    paths["stats_data"] = json.loads(paths["stats"].read_text()) if paths["stats"].exists() else {}
    paths["log_text"] = paths["log"].read_text("utf-8", "replace") if paths["log"].exists() else ""
    return paths


def read_items(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def warcio_check(path: Path) -> bool:
    return subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", str(path)],
                          capture_output=True).returncode == 0


def warc_uris(warc_dir: Path) -> Counter:
    from warcio.archiveiterator import ArchiveIterator

    uris: Counter = Counter()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in ("response", "revisit"):
                    uris[record.rec_headers.get_header("WARC-Target-URI")] += 1
    return uris


# --- the tests --------------------------------------------------------------------------------

FAULTS = list(ROUTES)
FAULTS.remove("/loop/b.html")
FAULTS.remove("/reports/Slow_999.html")


@pytest.fixture(scope="module")
def faulty_crawl(tmp_path_factory):
    with FaultSite(n_articles=12, faults=FAULTS) as site:
        out = tmp_path_factory.mktemp("faults")
        result = run_crawl(out, site, settings={"DOWNLOAD_MAXSIZE": str(256 * 1024),
                                                "DOWNLOAD_WARNSIZE": str(128 * 1024)})
        result["hits"] = Counter(site.hits)
        result["site"] = site
        result["warc_dir"] = out / "warc"
        yield result


def test_faults_do_not_stop_the_crawl_and_good_articles_are_all_exported(faulty_crawl):
    assert faulty_crawl["returncode"] == 0, faulty_crawl["output"][-3000:]
    stats = faulty_crawl["stats_data"]
    assert stats.get("finish_reason") == "finished"
    urls = [item["url"] for item in read_items(faulty_crawl["items"])]
    assert len(urls) == len(set(urls))
    assert faulty_crawl["site"].article_urls() <= set(urls)
    log = faulty_crawl["log_text"]
    for crash in ("Spider error processing", "Error processing", "Unhandled error", "Error caught on signal",
                  "Scraper bug"):
        assert crash not in log


def test_no_file_is_left_open_or_corrupt(faulty_crawl):
    warc_dir = faulty_crawl["warc_dir"]
    assert list(warc_dir.glob("*.open")) == []
    assert all(warcio_check(p) for p in warc_dir.glob("*.warc.gz"))
    for line in faulty_crawl["items"].read_text("utf-8").splitlines():
        json.loads(line)


def test_a_connection_reset_is_retried_then_given_up_with_a_stat(faulty_crawl):
    # RETRY_TIMES=2; Twisted itself retries once more on a reused keep-alive connection
    assert 3 <= faulty_crawl["hits"]["/reports/Reset_999.html"] <= 6
    assert faulty_crawl["stats_data"].get("retry/max_reached", 0) >= 1
    # one line, in words, without a traceback: an ERROR line the first time the host fails this way
    gave_up = [line for line in faulty_crawl["log_text"].splitlines() if "/reports/Reset_999.html after" in line]
    assert len(gave_up) == 1 and "the connection failed" in gave_up[0], gave_up
    assert faulty_crawl["stats_data"].get("download/gave_up/DownloadFailedError") == 1
    assert "Traceback" not in faulty_crawl["log_text"]


def test_a_timeout_is_retried_and_counted(faulty_crawl):
    stats = faulty_crawl["stats_data"]
    assert any("TimeoutError" in key for key in stats if key.startswith("retry/reason_count/"))
    assert "Timeout_999.html" in faulty_crawl["log_text"]


def test_5xx_is_retried_with_backoff(faulty_crawl):
    assert faulty_crawl["hits"]["/reports/Unavailable_999.html"] == 3
    stats = faulty_crawl["stats_data"]
    assert stats.get("retry/reason_count/503 Service Unavailable") == 2
    assert stats.get("retry/backoff_seconds", 0) >= 0.2 + 0.4
    assert "Gave up retrying" in faulty_crawl["log_text"]


def test_429_retry_after_is_honoured(faulty_crawl):
    assert faulty_crawl["hits"]["/reports/Retry_after_999.html"] == 2
    assert faulty_crawl["stats_data"].get("retry/retry_after_honoured") == 1
    assert "Retry-After 429" in faulty_crawl["log_text"]
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    assert SITE + "/reports/Retry_after_999.html" in urls


def test_a_redirect_loop_ends(faulty_crawl):
    hits = faulty_crawl["hits"]
    # a -> b -> a: the second visit of a is a duplicate request, so the loop stops there
    assert hits["/loop/a.html"] == 1 and hits["/loop/b.html"] == 1
    assert faulty_crawl["stats_data"].get("downloader/response_status_count/302") == 2
    assert faulty_crawl["stats_data"].get("dupefilter/filtered", 0) >= 1


def test_a_truncated_body_is_archived_as_truncated_and_not_exported(faulty_crawl):
    stats = faulty_crawl["stats_data"]
    assert stats.get("warc/truncated", 0) >= 1
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    assert SITE + "/reports/Truncated_999.html" not in urls
    assert "Truncated_999.html" in faulty_crawl["log_text"]


def test_a_response_over_download_maxsize_is_dropped_with_a_log_line(faulty_crawl):
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    assert SITE + "/reports/Oversized_999.html" not in urls
    log = faulty_crawl["log_text"]
    assert "larger than download max size (262144) in request <GET https://www.spacewar.com/reports/Oversized_999" in log
    assert faulty_crawl["stats_data"].get("warc/exchange_failed/DownloadCancelledError") == 1


def test_a_gzip_bomb_is_not_decompressed_past_download_maxsize(faulty_crawl):
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    assert SITE + "/reports/Gzip_bomb_999.html" not in urls
    # decompression stopped right after DOWNLOAD_MAXSIZE (256 KiB) of the 50 MiB
    log = faulty_crawl["log_text"]
    line = next(l for l in log.splitlines() if "Gzip_bomb_999.html" in l and "exceeded DOWNLOAD_MAXSIZE" in l)
    decompressed = int(line.split("B decompressed")[0].rsplit(",", 1)[1].strip())
    assert decompressed < 2 * 256 * 1024


def test_wrong_or_missing_charset_still_gives_an_article(faulty_crawl):
    items = {item["url"]: item for item in read_items(faulty_crawl["items"])}
    for name in ("Wrong_charset_999.html", "Missing_charset_999.html"):
        item = items.get(f"{SITE}/reports/{name}")
        assert item is not None, name
        assert "\ufffd" not in item["body"] or "caf" in item["body"]


def test_binary_empty_malformed_and_bodiless_pages_are_counted_not_fatal(faulty_crawl):
    stats = faulty_crawl["stats_data"]
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    for name in ("Binary_999.html", "Empty_999.html", "No_body_999.html"):
        assert f"{SITE}/reports/{name}" not in urls
    dropped = sum(v for k, v in stats.items() if k.startswith("articles/dropped/") or k.startswith("item_dropped"))
    assert dropped >= 3
    for name in ("Binary_999.html", "Empty_999.html", "Malformed_999.html", "No_body_999.html"):
        assert faulty_crawl["hits"][f"/reports/{name}"] == 1


def test_connection_refused_everywhere_ends_cleanly(tmp_path):
    with FaultSite(n_articles=1) as site:
        pass  # the port is closed now
    result = run_crawl(tmp_path, site, settings={"RETRY_TIMES": "1"})
    assert result["returncode"] == 69, result["output"][-3000:]  # nothing archived: a scheduler is told
    assert "Traceback" not in result["log_text"]
    stats = result["stats_data"]
    assert any("ConnectionRefusedError" in key for key in stats)
    assert stats.get("retry/max_reached", 0) >= 1
    assert "Connection was refused" in result["log_text"] or "ConnectionRefused" in result["log_text"]
    assert list((tmp_path / "warc").glob("*.open")) == []


# --- disk trouble ---------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A size-limited directory (tmpfs; needs root), unmounted afterwards."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()

    def mount(size: str, *options: str) -> Path:
        opts = ",".join((f"size={size}",) + options)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mountpoint)], capture_output=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
        return mountpoint

    def remount(*options: str) -> None:
        subprocess.run(["mount", "-o", ",".join(("remount",) + options), str(mountpoint)], check=True)

    mount.remount = remount
    yield mount
    subprocess.run(["umount", str(mountpoint)], capture_output=True)


def test_a_full_warc_dir_stops_the_crawl_and_a_rerun_loses_nothing(tmp_path, small_disk):
    disk = small_disk("160k")
    with FaultSite(n_articles=120) as site:
        job = {"JOBDIR": str(tmp_path / "job"), "INFLIGHT_FSYNC_INTERVAL": "0",
               "WARC_DIGEST_INDEX": str(tmp_path / "digests.sqlite")}
        first = run_crawl(tmp_path, site, "run1", warc_dir=disk, settings=job)
        stats = first["stats_data"]
        assert stats.get("finish_reason") == "warc_write_failed", first["log_text"][-3000:]
        assert first["returncode"] == 74  # the scheduler learns that the disk failed
        assert "No space left on device" in stats.get("warc/write_failed", "")
        assert "WARC write failed" in first["log_text"] and "stopping the crawl" in first["log_text"]
        exported = {item["url"] for item in read_items(first["items"])}
        assert len(exported) < 120
        small_disk.remount("size=64m")
        second = run_crawl(tmp_path, site, "run2", warc_dir=disk, settings=job)
        assert second["stats_data"].get("finish_reason") == "finished", second["log_text"][-3000:]
        again = [item["url"] for item in read_items(second["items"])]
        assert not exported & set(again)
        assert exported | set(again) == site.article_urls()
        assert list(disk.glob("*.open")) == []
        assert all(warcio_check(p) for p in disk.glob("*.warc.gz"))
        archived = warc_uris(disk)
        assert all(archived[url] for url in site.article_urls())


def test_too_little_free_space_stops_the_crawl_before_writing(tmp_path, small_disk):
    disk = small_disk("1m")
    with FaultSite(n_articles=5) as site:
        result = run_crawl(tmp_path, site, warc_dir=disk, settings={"WARC_MIN_FREE_BYTES": str(8 * 1024 * 1024)})
    assert result["stats_data"].get("finish_reason") == "warc_write_failed"
    assert "less than WARC_MIN_FREE_BYTES" in result["log_text"]
    assert read_items(result["items"]) == []


def test_an_unwritable_warc_dir_is_refused_at_start(tmp_path, small_disk):
    disk = small_disk("1m", "ro")
    with FaultSite(n_articles=2) as site:
        result = run_crawl(tmp_path, site, warc_dir=disk)
    assert result["returncode"] == 74
    assert "is not writable" in result["output"] + result["log_text"]
    assert "Traceback" not in result["output"] + result["log_text"]
    assert read_items(result["items"]) == []
