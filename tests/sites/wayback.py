"""Test harness: pywb presented in the Internet Archive's URL layout, so the backfill is tested against a real Wayback.

    with wayback_archive(warc_files, workdir) as archive:      # pywb (tests/replay/pywb.py) + this proxy
        archive.base                                            # http://127.0.0.1:PORT, the archive's BASE
        GET {base}/cdx/search/cdx?url=spacewar.com/*&output=json&...   IA's CDX API, IA's JSON answer
        GET {base}/web/<14 digits>id_/<original URL>            the capture's original bytes, from pywb

pywb 2.10 serves its CDX API at `/<coll>/cdx`, whose `output=json` is one JSON object per line with its
own field names, and captures at `/<coll>/<ts>id_/<url>`. WaybackProxy, on 127.0.0.1, answers in IA's
layout and shape (the wayback-cdx-server README):

* `/cdx/search/cdx`: `url`, `matchType`, `from`, `to` go to pywb as they are; each `filter=[!]field:regex`
  becomes pywb's regex filter, anchored at both ends like IA's (Java's `matches`); the answer becomes a
  list of lists under the header row `urlkey,timestamp,original,mimetype,statuscode,digest,length`
  (`[]` when nothing matches); `collapse=field[:N]` drops adjacent rows whose field (first N characters)
  repeats; `limit=N` cuts the answer, and with `showResumeKey=true` an empty row and the resume key
  `quote_plus("<urlkey> <timestamp>!")` follow when more remain; `resumeKey` resumes after that key
  (as at IA, a capture with the same urlkey and second as the key's is not repeated). `limit=-N`: the
  last N. `output` other than json: IA's plain text lines. gzip when the client accepts it (unless
  `gzip=false`), as IA does. Other parameters (`fl`, `offset`, `page`, ...) are a 400 naming them.
* `/web/<ts>id_/<url>`: pywb's `/<coll>/<ts>id_/<url>`, status, headers and body as pywb sends them,
  redirects not followed, pywb's own URLs in Location/Content-Location/Link put back in IA's layout.
  A `/web/` URL without `id_` (a rewritten replay) is a 400: the backfill must never use one.
* `get(url)`: a GET as a crawler sends it (no redirect followed, the body as it came, cut-off flagged).
* `collection_url`: pywb's own collection URL (`http://127.0.0.1:PORT/coll`), for the backfill that
  speaks pywb's layout directly (`-a wayback=<collection URL>`); requests there bypass this proxy.
* `answer_next(status, count)` makes the next requests fail (429, 503...) for politeness tests;
  `requests` lists every request target received, in order.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import re
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

from tests.replay.pywb import pywb_server

FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
#: pywb's name for each of IA's fields, in its output=json objects and its filters
PYWB_FIELD = {"urlkey": "urlkey", "timestamp": "timestamp", "original": "url", "mimetype": "mime",
              "statuscode": "status", "digest": "digest", "length": "length"}
CDX_PARAMS = {"url", "matchType", "from", "to", "filter", "collapse", "limit", "showResumeKey", "resumeKey",
              "output", "gzip"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te",
              "trailer", "upgrade"}
CAPTURE = re.compile(r"/web/(\d{14})id_/(.+)", re.S)


class HarnessError(Exception):
    """A request the harness answers with a 400 (the message is the body)."""


class WaybackProxy:
    """IA's URL layout over a pywb collection (see the module docstring); a context manager."""

    def __init__(self, pywb_base: str, coll: str = "coll"):
        self.pywb_base = pywb_base.rstrip("/")
        self.coll = coll
        self.requests: list[str] = []
        self.errors: list[str] = []  # tracebacks of requests the harness failed on (a 500)
        self._faults: list[tuple[int, dict]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base = ""

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> "WaybackProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                try:
                    status, headers, body = proxy.answer(self.path, dict(self.headers.items()))
                except Exception:  # a bug of the harness: a 500 with the traceback, kept for the test to see
                    proxy.errors.append(traceback.format_exc())
                    status, headers, body = 500, [("Content-Type", "text/plain")], proxy.errors[-1].encode()
                self.send_response(status)
                declared = None
                for name, value in headers:
                    if name.lower() == "content-length":  # a cut-off capture: pywb's length, fewer bytes
                        declared = value
                    self.send_header(name, value)
                if declared is None:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if declared is not None:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="wayback-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> "WaybackProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests ask -----------------------------------------------------------------------
    @property
    def collection_url(self) -> str:
        """pywb's collection itself, in pywb's layout (not through this proxy)."""
        return f"{self.pywb_base}/{self.coll}"

    def answer_next(self, status: int, count: int = 1, headers: dict | None = None) -> None:
        """The next `count` requests, whatever they ask, get `status` (e.g. 429 with Retry-After)."""
        with self._lock:
            self._faults += [(status, dict(headers or {}))] * count

    # --- answering ----------------------------------------------------------------------------
    def answer(self, target: str, headers: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._lock:
            self.requests.append(target)
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            status, extra = fault
            return status, [("Content-Type", "text/plain"), *extra.items()], f"harness: answering {status}\n".encode()
        try:
            path, _, query = target.partition("?")
            if path == "/cdx/search/cdx":
                return self._cdx(query, headers)
            if path.startswith("/web/"):
                return self._capture(target, headers)
            return 404, [("Content-Type", "text/plain")], b"harness: not an IA endpoint\n"
        except HarnessError as exc:
            return 400, [("Content-Type", "text/plain")], f"harness: {exc}\n".encode()

    def _pywb(self, target: str, headers: dict | None = None) -> tuple[int, list[tuple[str, str]], bytes, bool]:
        """pywb's status, headers and body for `target`, and whether the body was cut off."""
        parts = urlsplit(self.pywb_base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            # Connection: close, so that a cut-off capture (pywb sends its archived Content-Length and the
            # fewer bytes it holds) ends when pywb closes, as an IncompleteRead
            conn.request("GET", target, headers={**(headers or {}), "Connection": "close"})
            resp = conn.getresponse()
            try:
                return resp.status, resp.getheaders(), resp.read(), False
            except http.client.IncompleteRead as cut:
                return resp.status, resp.getheaders(), cut.partial, True
        finally:
            conn.close()

    def _capture(self, target: str, headers: dict):
        match = CAPTURE.fullmatch(target)
        if match is None:
            raise HarnessError("only id_ captures are served here: /web/<14 digits>id_/<original URL>, "
                               f"not {target}")
        wanted = {k: v for k, v in headers.items() if k.lower() in ("accept-encoding", "user-agent")}
        status, pywb_headers, body, cut = self._pywb(f"/{self.coll}/{match.group(1)}id_/{match.group(2)}", wanted)
        ours, theirs = f"{self.base}/web/", f"{self.pywb_base}/{self.coll}/"
        out = [(name, value.replace(theirs, ours)) for name, value in pywb_headers
               if name.lower() not in HOP_BY_HOP]
        if cut:  # passed on as pywb sent it: the archived length, fewer bytes, then the connection closed
            out.append(("Content-Length", dict((n.lower(), v) for n, v in pywb_headers)["content-length"]))
        return status, out, body

    def _cdx(self, query: str, headers: dict):
        params = parse_qsl(query, keep_blank_values=True)
        unknown = sorted({name for name, _ in params} - CDX_PARAMS)
        if unknown:
            raise HarnessError(f"parameters not supported by the harness: {', '.join(unknown)}")
        one = {}
        for name, value in params:
            if name not in ("filter", "collapse"):
                one[name] = value
        if not one.get("url"):
            raise HarnessError("url= is required")
        upstream = [("url", one["url"]), ("output", "json")]
        upstream += [(name, one[name]) for name in ("matchType", "from", "to") if one.get(name)]
        upstream += [("filter", pywb_filter(value)) for name, value in params if name == "filter"]
        status, _, body, cut = self._pywb(f"/{self.coll}/cdx?" + urlencode(upstream))
        if cut:
            raise RuntimeError(f"pywb's CDX answer was cut off after {len(body)} bytes")
        if status != 200:
            return status, [("Content-Type", "text/plain")], body
        rows = [ia_row(json.loads(line)) for line in body.decode("utf-8").splitlines() if line.strip()]
        for value in (v for name, v in params if name == "collapse"):
            rows = collapse(rows, value)
        if one.get("resumeKey"):
            after = resume_position(one["resumeKey"])
            rows = [row for row in rows if (row[0], row[1]) > after]
        page, key = rows, None
        limit = int_param(one.get("limit"))
        if limit and limit < 0:
            page = rows[limit:]
        elif limit:
            page = rows[:limit]
            if len(rows) > limit and one.get("showResumeKey", "").lower() == "true":
                key = quote_plus(f"{page[-1][0]} {page[-1][1]}!", safe="")
        if one.get("output") == "json":
            out = [list(FIELDS), *page] if page else []
            if key:
                out += [[], [key]]
            text = "[" + ",\n".join(json.dumps(row) for row in out) + "]\n"
        else:
            text = "".join(" ".join(row) + "\n" for row in page) + (f"\n{key}\n" if key else "")
        data, reply = text.encode("utf-8"), [("Content-Type", "text/plain")]
        accepts = "gzip" in (headers.get("Accept-Encoding") or headers.get("accept-encoding") or "").lower()
        if accepts and one.get("gzip", "").lower() != "false":
            data, reply = gzip.compress(data), reply + [("Content-Encoding", "gzip")]
        return 200, reply, data


# --- IA's CDX semantics over pywb's answer ------------------------------------------------------------
def pywb_filter(value: str) -> str:
    """IA's `[!]field:regex` (matched against the whole field) as pywb's regex filter."""
    invert, body = ("!", value[1:]) if value.startswith("!") else ("", value)
    field, sep, regex = body.partition(":")
    if not sep or field not in PYWB_FIELD:
        raise HarnessError(f"filter must be [!]field:regex with field one of {', '.join(FIELDS)}: {value!r}")
    return f"{invert}~{PYWB_FIELD[field]}:(?:{regex})$"


def ia_row(obj: dict) -> list[str]:
    """A pywb output=json object as a row of IA's seven fields, every value a string ("-" when absent)."""
    return [str(obj.get(PYWB_FIELD[name], "-")) for name in FIELDS]


def collapse(rows: list[list[str]], spec: str) -> list[list[str]]:
    """IA's collapse=field[:N]: of adjacent rows whose field (its first N characters) is the same, the first."""
    field, _, n = spec.partition(":")
    if field not in FIELDS or (n and not n.isdigit()):
        raise HarnessError(f"collapse must be field or field:N with field one of {', '.join(FIELDS)}: {spec!r}")
    index, width = FIELDS.index(field), int(n) if n else None
    out, last = [], object()
    for row in rows:
        value = row[index][:width]
        if value != last:
            out.append(row)
        last = value
    return out


def resume_position(key: str) -> tuple[str, str]:
    """(urlkey, timestamp) a resume key ("<urlkey> <timestamp>!", already URL-decoded) resumes after."""
    urlkey, sep, timestamp = key.rstrip("!").rpartition(" ")
    if not sep or not re.fullmatch(r"\d{14}", timestamp):
        raise HarnessError(f"not a resume key of this archive: {key!r}")
    return urlkey, timestamp


def int_param(value: str | None) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except ValueError:
        raise HarnessError(f"limit must be a whole number: {value!r}") from None


@dataclass
class Answer:
    status: int
    headers: dict  # lower-case names
    body: bytes
    cut: bool  # fewer bytes than the Content-Length announced, then the connection closed

    def body_decoded(self) -> bytes:
        """The body without its gzip content-coding (the CDX API gzips when the client accepts it)."""
        return gzip.decompress(self.body) if self.headers.get("content-encoding") == "gzip" else self.body


def get(url: str, accept_encoding: str | None = None, timeout: float = 30) -> Answer:
    """One GET as a crawler sends it, redirects not followed, no proxy; the body as it came (not decoded)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", url[len(f"{parts.scheme}://{parts.netloc}"):] or "/",
                     headers={"Accept-Encoding": accept_encoding or "identity"})
        resp = conn.getresponse()
        headers = {name.lower(): value for name, value in resp.getheaders()}
        try:
            return Answer(resp.status, headers, resp.read(), False)
        except http.client.IncompleteRead as cut:
            return Answer(resp.status, headers, cut.partial, True)
    finally:
        conn.close()


@contextlib.contextmanager
def wayback_archive(sources: list[Path], workdir: Path):
    """pywb serving the WARC files (`sources`) as collection "coll", behind a WaybackProxy; yields the proxy."""
    with pywb_server(sources, workdir) as pywb_base, WaybackProxy(pywb_base, "coll") as proxy:
        yield proxy
