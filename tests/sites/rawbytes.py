"""Test helpers for crawler.capture.handler: a scripted HTTP/1.1 server that logs its exact bytes, and a crawl runner.

ScriptedServer answers on 127.0.0.1 with hand-written responses (odd header case and order,
a "200 Fine" reason, chunked gzip, a redirect, a 404, responses cut short...) over
keep-alive connections, and logs for every exchange the bytes it received and the bytes
it sent. `run_crawl` runs a Scrapy crawl of those pages in a subprocess
(`python -m tests.sites.rawbytes crawl ...`) with a chosen download handler and returns
what a downloader middleware at 950 saw (Response fields, RawExchange, exceptions) and what
the spider callbacks saw. `python -m tests.sites.rawbytes bench` times the stock handler
against the capturing one.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import socket
import socketserver
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.sites.certificate import server_context

REPO = Path(__file__).resolve().parents[2]
STOCK = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
OURS = "crawler.capture.handler.RawCaptureDownloadHandler"

PAGE = (b"<!DOCTYPE html><html><head><title>Raw capture</title></head><body>"
        + b"".join(b"<p>Paragraph %d of a page about orbital debris and launch windows.</p>\n" % i
                   for i in range(120))
        + b"</body></html>")
GZ_PAGE = gzip.compress(PAGE, mtime=0)
MISSING = b"<html><body>No such page</body></html>"
BIG_CHUNK = b"x" * 4096


def _chunked(data: bytes, size: int) -> list[bytes]:
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    out = [b"%x\r\n" % len(p) + p + b"\r\n" for p in parts]
    out[0] = out[0].replace(b"\r\n", b";note=first\r\n", 1)  # a chunk extension
    return out + [b"0\r\n\r\n"]


def response_script(path: str) -> tuple[list, bool]:
    """(segments, close_after) for a request path; a float segment is a pause in seconds."""
    route = urlsplit(path).path  # absolute form when the client talks to a proxy
    if route == "/fine":
        return [b"HTTP/1.1 200 Fine\r\n"
                b"x-Served-BY: scripted\r\n"
                b"Content-Type: text/html; charset=utf-8\r\n"
                b"X-Dup: one\r\n"
                b"cache-CONTROL: max-age=60\r\n"
                b"x-dup: two\r\n"
                b"CONTENT-LENGTH: %d\r\n"
                b"\r\n" % len(PAGE) + PAGE], False
    if route == "/gzip-chunked":
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nVary: Accept-Encoding\r\n\r\n")
        segments: list = [head]
        for chunk in _chunked(GZ_PAGE, 300):
            segments += [0.005, chunk]
        return segments, False
    if route == "/moved":
        return [b"HTTP/1.1 301 Moved Permanently\r\nLocation: /fine?via=moved\r\n"
                b"Content-Length: 0\r\n\r\n"], False
    if route == "/missing":
        return [b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
                % len(MISSING) + MISSING], False
    if route == "/trailing":  # five bytes more than announced: not part of this response
        return [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloEXTRA"], True
    if route == "/short":  # announces 1000 bytes, sends 100, hangs up
        return [b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n"
                + PAGE[:100]], True
    if route == "/slow":  # 100 of 1000 bytes, then silence past the client's timeout
        return [b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n"
                + PAGE[:100], 2.5], True
    if route == "/big":  # chunked, far more than the client's size limit
        segments = [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"]
        for _ in range(40):
            segments += [0.003, b"1000\r\n" + BIG_CHUNK + b"\r\n"]
        return segments + [b"0\r\n\r\n"], True
    if route == "/close":  # no length: the body ends when the server closes
        return [b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n" + PAGE], True
    if route == "/post":
        return [b"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"], False
    return [b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"], False


@dataclass
class ServerExchange:
    conn: int
    path: str
    received: bytes
    sent: bytes


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server: ScriptedServer = self.server.owner  # type: ignore[attr-defined]
        conn_id = server.next_conn()
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            end = buf.index(b"\r\n\r\n") + 4
            head = buf[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(buf) < end + length:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            received, buf = buf[:end + length], buf[end + length:]
            path = head.split(b" ", 2)[1].decode("latin-1")
            segments, close = response_script(path)
            sent = bytearray()
            exchange = ServerExchange(conn_id, path, received, b"")
            server.log.append(exchange)
            try:
                for segment in segments:
                    if isinstance(segment, float):
                        time.sleep(segment)
                        continue
                    sock.sendall(segment)
                    sent += segment
                    exchange.sent = bytes(sent)
            except OSError:
                return
            if close:
                return


class _TLSServer(socketserver.ThreadingTCPServer):
    context: ssl.SSLContext

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True), addr


class ScriptedServer:
    """Threaded HTTP/1.1 server on 127.0.0.1 (HTTPS with `tls`) that logs each exchange's exact bytes."""

    def __init__(self, tls: bool = False):
        self.log: list[ServerExchange] = []
        self._conns = 0
        self._lock = threading.Lock()
        self.scheme = "https" if tls else "http"
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        if tls:
            self._server = _TLSServer(("127.0.0.1", 0), _Handler)
            self._server.context = server_context(days=1)
        else:
            self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.owner = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def next_conn(self) -> int:
        with self._lock:
            self._conns += 1
            return self._conns

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


# --- the crawl, run in a subprocess -----------------------------------------------------

#: (path, meta, method, body) of the requests the test crawl makes, in order.
CRAWL_REQUESTS = [
    ("/fine?n=1", {}, "GET", b""),
    ("/fine?n=2", {}, "GET", b""),
    ("/gzip-chunked", {}, "GET", b""),
    ("/missing", {"handle_httpstatus_list": [404]}, "GET", b""),
    ("/moved", {}, "GET", b""),
    ("/post", {}, "POST", b"name=value&other=1"),
    ("/fine?n=3", {}, "GET", b""),
    ("/trailing", {}, "GET", b""),
    ("/short", {}, "GET", b""),
    ("/close", {}, "GET", b""),
    ("/slow", {"download_timeout": 1}, "GET", b""),
    ("/big", {"download_maxsize": 10000}, "GET", b""),
    # through a plain HTTP proxy (the server itself): not captured, counted as a fallback
    ("/fine?n=proxied", {"proxy": "http://127.0.0.1:{port}"}, "GET", b""),
]

_SEEN: list[dict] = []


class RecordingMiddleware:
    """Downloader middleware at 950 (where the WARC recorder sits): logs what it is handed."""

    def process_response(self, request, response, spider=None):
        _SEEN.append({"where": "downloader", "url": request.url, "status": response.status,
                      "headers": [(k, list(v)) for k, v in response.headers.items()],
                      "body": response.body, "flags": list(response.flags),
                      "protocol": response.protocol, "cls": type(response).__name__,
                      "raw": request.meta.pop("raw_exchange", None)})
        return response

    def process_exception(self, request, exception, spider=None):
        _SEEN.append({"where": "downloader", "url": request.url, "error": type(exception).__name__,
                      "raw": request.meta.pop("raw_exchange", None)})


def _crawl_settings(handler: str, extra: dict | None = None) -> dict:
    settings = {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "RAWCAPTURE_ENABLED": True,  # the WARC capture add-on's default; this crawl runs without add-ons
        "DOWNLOADER_MIDDLEWARES": {"tests.sites.rawbytes.RecordingMiddleware": 950},
        "ROBOTSTXT_OBEY": False,
        "RETRY_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 1,
        "DOWNLOAD_DELAY": 0,
        "DOWNLOAD_FAIL_ON_DATALOSS": False,
        "DEFAULT_REQUEST_HEADERS": {"Accept": "text/html", "Accept-Encoding": "gzip, deflate"},
        "USER_AGENT": "rawcapture-test",
        "LOG_LEVEL": "WARNING",
    }
    settings.update(extra or {})
    return settings


def _crawl_main(base: str, handler: str, out: str, count: int) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from tests.sites import rawbytes as helper  # not __main__: the middleware's module

    seen = helper._SEEN

    class Spider(scrapy.Spider):
        name = "rawcapture"

        async def start(self):
            port = urlsplit(base).port
            for path, meta, method, body in CRAWL_REQUESTS[:count]:
                meta = {k: v.format(port=port) if isinstance(v, str) else v for k, v in meta.items()}
                yield scrapy.Request(base + path, method=method, body=body,
                                     meta=meta, callback=self.parse, errback=self.failed)

        def parse(self, response):
            seen.append({"where": "spider", "url": response.url, "status": response.status,
                          "body": response.body, "flags": list(response.flags)})

        def failed(self, failure):
            seen.append({"where": "spider", "url": failure.request.url,
                          "error": type(failure.value).__name__})

    process = CrawlerProcess(_crawl_settings(handler))
    crawler = process.create_crawler(Spider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    with open(out, "wb") as f:
        pickle.dump({"seen": seen, "stats": {k: v for k, v in stats.items() if isinstance(k, str)
                                              and k.startswith(("rawcapture/", "downloader/"))}}, f)


def run_crawl(server: ScriptedServer, handler: str, *, count: int = len(CRAWL_REQUESTS),
              timeout: float = 120) -> dict:
    """Crawl the first `count` CRAWL_REQUESTS from `server` with `handler` in a subprocess;
    {"seen": [...], "stats": {...}, "log": stderr}."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.pickle")
        proc = subprocess.run([sys.executable, "-m", "tests.sites.rawbytes", "crawl",
                               server.url(""), handler, out, str(count)],
                              cwd=REPO, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"crawl failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
        with open(out, "rb") as f:
            result = pickle.load(f)
        result["log"] = proc.stderr
        return result


# --- the cost of capturing --------------------------------------------------------------

def _bench_main(port: int, handler: str, n: int) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    times = {}

    class Spider(scrapy.Spider):
        name = "rawcapture-bench"

        async def start(self):
            times["start"] = time.perf_counter()
            for i in range(n):
                yield scrapy.Request(f"http://127.0.0.1:{port}/fine?n={i}", callback=self.parse)

        def parse(self, response):
            times["last"] = time.perf_counter()

    settings = _crawl_settings(handler, {"DOWNLOADER_MIDDLEWARES": {}, "CONCURRENT_REQUESTS": 16,
                                         "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "ERROR"})
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(Spider)
    process.crawl(crawler)
    process.start()
    count = crawler.stats.get_value("response_received_count", 0)
    print(json.dumps({"seconds": times["last"] - times["start"], "responses": count}))


def bench(n: int = 500, runs: int = 5) -> dict:
    """Median seconds for `n` downloads with the stock handler and with ours, runs alternating."""
    results: dict[str, list[float]] = {STOCK: [], OURS: []}
    with ScriptedServer() as server:
        for _ in range(runs):
            for handler in (STOCK, OURS):
                proc = subprocess.run([sys.executable, "-m", "tests.sites.rawbytes", "bench-one",
                                       str(server.port), handler, str(n)],
                                      cwd=REPO, capture_output=True, text=True, timeout=300, check=True)
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                assert row["responses"] == n, row
                results[handler].append(row["seconds"])
                server.log.clear()
    stock, ours = statistics.median(results[STOCK]), statistics.median(results[OURS])
    return {"n": n, "runs": runs, "stock_median_s": round(stock, 4), "rawcapture_median_s": round(ours, 4),
            "ratio": round(ours / stock, 3), "stock_runs": results[STOCK], "rawcapture_runs": results[OURS]}


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "crawl":
        _crawl_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif command == "bench-one":
        _bench_main(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif command == "bench":
        print(json.dumps(bench(int(sys.argv[2]) if len(sys.argv) > 2 else 500,
                               int(sys.argv[3]) if len(sys.argv) > 3 else 5), indent=1))
    else:
        raise SystemExit(f"unknown command {command!r}: crawl | bench-one | bench")
