"""A static HTTP server on 127.0.0.1 with HTTP Range requests: ReplayWeb.page and a WACZ from one origin.

    with RangeServer({"/": rwp_dir, "/archive/": wacz_dir}) as srv:
        srv.url("/index.html")

ReplayWeb.page reads a WACZ with Range requests (its ZIP directory, then one index block or one
record at a time), and its service worker must be served with a JavaScript MIME type from the same
origin as the page; Python's http.server does neither. This one serves GET and HEAD, `Range:
bytes=a-b`, `bytes=a-` and `bytes=-n` (one range; a multi-range request gets the whole file as 200,
which RFC 9110 allows), 206 with Content-Range, 416 past the end, `Accept-Ranges: bytes`, no caching,
and `Service-Worker-Allowed: /`. Each mount maps URL paths under a prefix to files under a directory
(the longest prefix wins; `..` cannot leave it). Every request is logged in `log` (method, path,
range, status). Standard library only.
"""

from __future__ import annotations

import email.utils
import mimetypes
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

TYPES = {
    ".js": "application/javascript", ".mjs": "application/javascript", ".json": "application/json",
    ".html": "text/html; charset=utf-8", ".css": "text/css", ".wasm": "application/wasm",
    ".wacz": "application/wacz", ".gz": "application/gzip", ".warc": "application/warc",
    ".svg": "image/svg+xml", ".ico": "image/x-icon", ".png": "image/png", ".jsonl": "application/x-ndjson",
}
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class _Handler(BaseHTTPRequestHandler):
    server_version = "replay-test-range-server/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; requests go to server.log
        pass

    def _resolve(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        best = None
        for prefix, root in self.server.mounts.items():
            if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, root)
        if best is None:
            return None
        prefix, root = best
        target = (root / path[len(prefix):].lstrip("/")).resolve()
        if target != root and root not in target.parents:
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _send(self, status: int, headers: dict, body: bytes = b"", head_only: bool = False) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only and body:
            self.wfile.write(body)

    def _serve(self, head_only: bool) -> None:
        target = self._resolve()
        rng = self.headers.get("Range")
        if target is None:
            self.server.record(self.command, self.path, rng, 404)
            return self._send(404, {"Content-Type": "text/plain"}, b"not found\n", head_only)
        stat = target.stat()
        size = stat.st_size
        common = {
            "Content-Type": content_type(target), "Accept-Ranges": "bytes", "Cache-Control": "no-store",
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "ETag": f'"{stat.st_mtime_ns:x}-{size:x}"',
            # lets a service worker at /sw.js control the whole origin
            "Service-Worker-Allowed": "/",
        }
        start, end, status = 0, size - 1, 200
        m = RANGE.match(rng.strip()) if rng else None
        if m and (m.group(1) or m.group(2)):
            first, last = m.group(1), m.group(2)
            if first == "":  # suffix range: the last N bytes
                start, end = max(0, size - int(last)), size - 1
            else:
                start, end = int(first), (min(int(last), size - 1) if last else size - 1)
            if start >= size or start > end:
                self.server.record(self.command, self.path, rng, 416)
                return self._send(416, {**common, "Content-Range": f"bytes */{size}"}, b"", head_only)
            status = 206
            common["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1 if size else 0
        self.server.record(self.command, self.path, rng, status)
        self.send_response(status)
        for name, value in common.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if head_only or not length:
            return
        with open(target, "rb") as fh:
            fh.seek(start)
            remaining = length
            while remaining:
                chunk = fh.read(min(1 << 20, remaining))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return
                remaining -= len(chunk)

    def do_GET(self):  # noqa: N802
        self._serve(False)

    def do_HEAD(self):  # noqa: N802
        self._serve(True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, mounts: dict[str, Path]):
        self.mounts = mounts
        self.log: list[tuple[str, str, str | None, int]] = []
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def record(self, method, path, rng, status):
        with self._lock:
            self.log.append((method, path, rng, status))


class RangeServer:
    """The server as a context manager on 127.0.0.1 (port 0: a free one)."""

    def __init__(self, mounts: dict[str, str | os.PathLike], port: int = 0, host: str = "127.0.0.1"):
        norm = {}
        for prefix, root in mounts.items():
            prefix = "/" + prefix.strip("/") + ("/" if prefix.strip("/") else "")
            norm[prefix] = Path(root).resolve()
        self._server = _Server((host, port), norm)
        self.host, self.port = self._server.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def log(self):
        return self._server.log

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def start(self) -> "RangeServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="range-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> "RangeServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
