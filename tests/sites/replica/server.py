"""The replica's HTTP(S) server on 127.0.0.1: routes by Host, speaks HTTP/1.1, plays the faults, logs exchanges.

    with ReplicaServer(n_articles=40, faults=True, slow_seconds=1.5) as srv:
        srv.host_map()        # HOST_MAP for the crawler: every site and sister host, ports 80 and 443
        srv.log               # one Exchange per HTTP exchange served, with the exact bytes

Two listeners on ephemeral ports: plain HTTP and HTTPS (a self-signed certificate for all the
hosts, made at start-up with `cryptography`). www.spacewar.com over https is the site;
http:// and the bare host spacewar.com answer 301 to https://www.spacewar.com/...; sister
hosts get a tiny page, or an image for an image path (www.spxdaily.com/images-hg/..., the network's
image host: a real JPEG of a few pixels, one per URL, as for the site's own /images-lg/). Text responses are gzipped when the client accepts gzip; feeds and
every third listing page are sent chunked, the rest with Content-Length; connections are
kept alive. Faults (faults=True): a 301 from an old article URL, 404s, an article answering
503 to every other request (so each crawl sees a 503, then a 200 on retry), a slow article
and a truncated one (Content-Length larger than what is sent, then the connection closes).
With `clutter_seed=N` the articles carry the seeded clutter of tests/sites/replica/clutter.py, and with
`multi_story=True` some carry further stories (`related_stories` in the expected items); the
reader-service pages that clutter links to answer with a small page. With
`sisters={"www.spacedaily.com": 12}` a sister host is served in full instead of its tiny page: a
site of its own (another seed, no faults) in the network's one template (SisterSite), so one job
can crawl two sites; `sister_expected_items(host)` is what a crawl of it must export.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import socketserver
import ssl
import threading
import time
from dataclasses import dataclass, replace
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path

from tests.sites.certificate import server_context
from tests.sites.replica.content import FIXTURES, SISTER_HOSTS, SITE_HOSTS, WWW, ReplicaSite
from tests.sites.replica.pages import NOT_FOUND, Page, Renderer, sister_page

REASONS = {200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 404: "Not Found",
           405: "Method Not Allowed", 429: "Too Many Requests", 503: "Service Unavailable"}
COMPRESSIBLE = ("text/", "application/rss+xml", "application/xml")
MAX_HEAD = 65536
CHUNK = 2048


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as it went over the wire (inside TLS for https)."""

    scheme: str  # "http" or "https"
    host: str  # the Host header as received
    method: str
    path: str  # request target, with query
    status: int
    request_head: bytes  # request line and headers as received, up to the blank line
    response_bytes: bytes  # everything written for this exchange: status line, headers, framed body
    started: float  # time.time()
    finished: float


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    content_type: str | None = None
    chunked: bool = False
    compressible: bool = False
    delay: float = 0.0  # seconds between the head and the body
    truncate: bool = False  # send only part of the body, then close
    close: bool = False


# --- HTTP helpers ------------------------------------------------------------------------------
def read_head(reader) -> bytes | None:
    """Request line and headers up to the blank line (None at EOF or on an oversized head)."""
    lines = []
    size = 0
    while True:
        line = reader.readline(MAX_HEAD + 1)
        if not line:
            return None
        if not lines and line in (b"\r\n", b"\n"):
            continue  # stray CRLF between requests
        lines.append(line)
        size += len(line)
        if size > MAX_HEAD:
            return None
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)


def accepts_gzip(value: str) -> bool:
    for part in value.split(","):
        token, _, params = part.strip().partition(";")
        if token.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return True
            return True
    return False


@lru_cache(maxsize=1024)
def gzipped(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def chunked(body: bytes) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + CHUNK]), body[i:i + CHUNK]) for i in range(0, len(body), CHUNK)]
    return b"".join(parts) + b"0\r\n\r\n"


def small_html(title: str, text: str) -> bytes:
    return (f"<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n<html><head><title>{title}</title></head>"
            f"<body>\r\n<h1>{title}</h1>\r\n<p>{text}</p>\r\n</body></html>\r\n").encode("ascii")


# --- a sister site served in full ---------------------------------------------------------------------
class SisterSite:
    """A sister host served as a site of its own: a replica of another seed, rendered in the network's
    template with the host and the site feed renamed (https://www.spacedaily.com/spacedaily.xml)."""

    def __init__(self, www: str, n_articles: int, seed: int):
        self.www = www
        self.bare = www.removeprefix("www.")
        self.site = ReplicaSite(n_articles, faults=False, seed=seed, fixtures_dir=None)
        self.renderer = Renderer(self.site)
        self.feed_path = "/" + self.bare.split(".")[0].replace("-", "") + ".xml"  # the profile's feed

    def _translate(self, data: bytes) -> bytes:
        return data.replace(b"spacewar.com", self.bare.encode()).replace(b"/spacewar.xml", self.feed_path.encode())

    def render(self, path: str) -> Page | None:
        page = self.renderer.render("/spacewar.xml" if path == self.feed_path else path)
        return None if page is None else replace(page, body=self._translate(page.body))

    def expected_items(self) -> list[dict]:
        return [json.loads(self._translate(json.dumps(item).encode())) for item in self.site.expected_items()]


# --- the server --------------------------------------------------------------------------------
class _Listener(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, replica: "ReplicaServer", scheme: str, tls: ssl.SSLContext | None):
        self.replica = replica
        self.scheme = scheme
        self.tls = tls
        super().__init__((replica.bind, 0), _Connection)


class _Connection(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        listener: _Listener = self.server
        replica = listener.replica
        sock = self.request
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if listener.tls is not None:
                sock.settimeout(10)
                sock = listener.tls.wrap_socket(sock, server_side=True)
            sock.settimeout(replica.idle_timeout)
        except (OSError, ValueError):
            return
        replica._track(sock, True)
        reader = sock.makefile("rb")
        try:
            while replica._exchange(sock, reader, listener.scheme):
                pass
        except (OSError, ValueError):
            pass
        finally:
            replica._track(sock, False)
            for closer in (reader.close, sock.close):
                try:
                    closer()
                except OSError:
                    pass


class ReplicaServer:
    """A replica of www.spacewar.com (and stubs of its sister hosts) on 127.0.0.1, HTTP and HTTPS."""

    def __init__(self, n_articles: int = 40, faults: bool = True, slow_seconds: float = 1.5, *,
                 seed: int = 2024, record: bool = True, fixtures_dir: Path | None = FIXTURES,
                 bind: str = "127.0.0.1", idle_timeout: float = 30.0, clutter_seed: int | None = None,
                 multi_story: bool = False, plain_clutter: bool = False, sisters: dict[str, int] | None = None,
                 syndication_seed: int | None = None, instory: bool = False):
        """`clutter_seed`, `multi_story`, `plain_clutter` and `instory`: see ReplicaSite (seeded clutter in the articles,
        pages with further stories and `related_stories` in the expected items, the clutter's plain stress
        variant); off, the site is as it always was. `sisters`: {www host of SISTER_HOSTS: articles}
        served in full (SisterSite). `syndication_seed`: the sites repost each other's wire stories, with
        look-alikes and follow-ups beside them (syndication.py; `expected_story_groups()`)."""
        self.site = ReplicaSite(n_articles, faults=faults, seed=seed, fixtures_dir=fixtures_dir,
                                clutter_seed=clutter_seed, multi_story=multi_story, plain_clutter=plain_clutter, instory=instory)
        self.renderer = Renderer(self.site)
        self.faults = faults
        self.slow_seconds = slow_seconds
        self.record = record
        self.bind = bind
        self.idle_timeout = idle_timeout
        self.sisters = {www: SisterSite(www, n, seed + k + 1)
                        for k, (www, n) in enumerate((sisters or {}).items())}
        self._sister_of = {h: sister for sister in self.sisters.values() for h in (sister.www, sister.bare)}
        self.stories = None
        if syndication_seed is not None:
            from tests.sites.replica.syndication import syndicate

            sites = {WWW: self.site, **{www: sister.site for www, sister in self.sisters.items()}}
            self.stories = syndicate(sites, syndication_seed)
        self.log: list[Exchange] = []
        self._log_lock = threading.Lock()
        self._hits: dict[str, int] = {}  # path -> requests so far (for the 503 fault)
        self._hits_lock = threading.Lock()
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        self._listeners: list[_Listener] = []
        self._threads: list[threading.Thread] = []
        self.http_port = self.https_port = 0

    # --- life cycle --------------------------------------------------------------------------
    def start(self) -> "ReplicaServer":
        tls = server_context(SITE_HOSTS + SISTER_HOSTS)
        http, https = _Listener(self, "http", None), _Listener(self, "https", tls)
        self._listeners = [http, https]
        self.http_port, self.https_port = http.server_address[1], https.server_address[1]
        for listener in self._listeners:
            t = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.2},
                                 name=f"replica-{listener.scheme}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for listener in self._listeners:
            listener.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:  # idle keep-alive connections would otherwise linger
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for listener in self._listeners:
            listener.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._listeners, self._threads = [], []

    def __enter__(self) -> "ReplicaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests ask ------------------------------------------------------------------------
    def host_map(self) -> dict[str, str]:
        """HOST_MAP for the crawler: every host the replica answers for, ports 443 and 80."""
        out = {}
        for host in SITE_HOSTS + SISTER_HOSTS:
            out[f"{host}:443"] = f"{self.bind}:{self.https_port}"
            out[f"{host}:80"] = f"{self.bind}:{self.http_port}"
        return out

    def expected_items(self) -> list[dict]:
        return self.site.expected_items()

    def sister_expected_items(self, www: str) -> list[dict]:
        return self.sisters[www].expected_items()

    def expected_story_groups(self) -> dict[str, str]:
        """{article URL: its story's key} with `syndication_seed`: copies share their source's key."""
        from tests.sites.replica.syndication import expected_groups

        return expected_groups(self.stories or {})

    def disallowed_paths(self) -> list[str]:
        return self.site.disallowed_paths()

    # --- one exchange --------------------------------------------------------------------------
    def _track(self, sock, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(sock)

    def _exchange(self, sock, reader, scheme: str) -> bool:
        """Read one request, answer it; False when the connection must close."""
        head = read_head(reader)
        if head is None:
            return False
        started = time.time()
        lines = head.decode("latin-1").splitlines()
        parts = lines[0].split()
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            method, target, version = (parts + ["", "", ""])[:3]
            reply = Reply(400, [], small_html("Bad Request", "Bad request."), "text/html", close=True)
        else:
            method, target, version = parts
            length = headers.get("content-length", "0")
            if length.isdigit() and int(length):
                reader.read(int(length))
            reply = self._route(scheme, headers.get("host", ""), method, target, headers)
        keep = (version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()) or \
               (version == "HTTP/1.0" and "keep-alive" in headers.get("connection", "").lower())
        keep = keep and not reply.close and not reply.truncate
        sent = self._send(sock, reply, method, version, headers, keep)
        if self.record:
            ex = Exchange(scheme, headers.get("host", ""), method, target, reply.status, head, sent,
                          started, time.time())
            with self._log_lock:
                self.log.append(ex)
        return keep

    def _send(self, sock, reply: Reply, method: str, version: str, req_headers: dict, keep: bool) -> bytes:
        body = reply.body
        headers = [("Date", formatdate(usegmt=True)), ("Server", "Apache/2.4.62 (Unix)")]
        if reply.content_type:
            headers.append(("Content-Type", reply.content_type))
        headers += reply.headers
        if reply.compressible:
            headers.append(("Vary", "Accept-Encoding"))
            if not reply.truncate and accepts_gzip(req_headers.get("accept-encoding", "")):
                body = gzipped(body)
                headers.append(("Content-Encoding", "gzip"))
        use_chunked = reply.chunked and version == "HTTP/1.1" and reply.status == 200
        if use_chunked:
            headers.append(("Transfer-Encoding", "chunked"))
            payload = chunked(body)
        else:
            if reply.status != 304:
                headers.append(("Content-Length", str(len(body))))
            payload = body
        if reply.status == 304 or method == "HEAD":
            payload = b""
        headers.append(("Connection", "keep-alive" if keep else "close"))
        head = (f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'OK')}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("latin-1")
        if reply.truncate and payload:
            payload = payload[: len(payload) // 3]
        if reply.delay and payload:
            sock.sendall(head)
            time.sleep(reply.delay)
            sock.sendall(payload)
        else:
            sock.sendall(head + payload)
        if reply.truncate:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return head + payload

    # --- routing ---------------------------------------------------------------------------------
    def _route(self, scheme: str, host: str, method: str, target: str, headers: dict) -> Reply:
        if target.startswith(("http://", "https://")):  # absolute form
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        hostname = hostname.lower().rstrip(".")
        path = target.split("#")[0].split("?")[0] or "/"
        if hostname in SITE_HOSTS and (scheme == "http" or hostname != WWW):
            location = f"https://{WWW}{target.split('#')[0]}"
            return Reply(301, [("Location", location)], small_html("Moved Permanently", f"Moved to {location}"),
                         "text/html; charset=iso-8859-1", compressible=True)
        sister = self._sister_of.get(hostname)
        if sister is not None:
            if scheme == "http" or hostname != sister.www:
                location = f"https://{sister.www}{target.split('#')[0]}"
                return Reply(301, [("Location", location)], small_html("Moved Permanently", f"Moved to {location}"),
                             "text/html; charset=iso-8859-1", compressible=True)
            page = sister.render(path)
            if page is None:
                return Reply(404, [], NOT_FOUND, "text/html; charset=iso-8859-1", compressible=True)
            return self._page_reply(page, headers)
        if hostname in SISTER_HOSTS:
            return self._page_reply(sister_page(hostname, path), headers)
        if hostname != WWW:
            return Reply(404, [], NOT_FOUND, "text/html; charset=iso-8859-1", compressible=True)
        if method not in ("GET", "HEAD"):
            return Reply(405, [("Allow", "GET, HEAD")], small_html("Method Not Allowed", "GET or HEAD only."),
                         "text/html; charset=iso-8859-1", compressible=True)
        if path in self.site.redirects:
            location = f"https://{WWW}{self.site.redirects[path]}"
            return Reply(301, [("Location", location)], small_html("Moved Permanently", f"Moved to {location}"),
                         "text/html; charset=iso-8859-1", compressible=True)
        page = self.renderer.render(path)
        if page is None:
            return Reply(404, [], NOT_FOUND, "text/html; charset=iso-8859-1", compressible=True)
        fault = page.article.fault if page.article is not None else None
        if fault == "flaky":
            with self._hits_lock:
                n = self._hits[path] = self._hits.get(path, 0) + 1
            if n % 2 == 1:
                return Reply(503, [("Retry-After", "1")],
                             small_html("Service Unavailable", "The server is temporarily busy, try again."),
                             "text/html; charset=iso-8859-1", compressible=True)
        reply = self._page_reply(page, headers)
        if fault == "slow":
            reply.delay = self.slow_seconds
        elif fault == "truncated":
            reply.truncate = True
        return reply

    def _page_reply(self, page: Page, req_headers: dict) -> Reply:
        extra = []
        if page.kind == "article":
            etag = '"%s"' % hashlib.sha1(page.body).hexdigest()[:16]
            extra.append(("ETag", etag))
            if page.last_modified:
                extra.append(("Last-Modified", page.last_modified))
            if self._not_modified(req_headers, etag, page.last_modified):
                return Reply(304, extra)
        return Reply(page.status, extra, page.body, page.content_type, chunked=page.chunked,
                     compressible=page.content_type.startswith(COMPRESSIBLE))

    @staticmethod
    def _not_modified(req_headers: dict, etag: str, last_modified: str | None) -> bool:
        inm = req_headers.get("if-none-match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = req_headers.get("if-modified-since")
        if ims and last_modified:
            try:
                return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False
