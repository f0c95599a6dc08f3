"""The fault site: a small HTTPS site with one page per fault, for the fault, killed-crawl, security and soak tests.

www.spacewar.com on 127.0.0.1 (reached through HOST_MAP), articles at /reports/*.html listed ten
per page, and one path per fault linked from the home page (ROUTES): resets, time-outs, 5xx,
Retry-After, redirect loops, truncated and oversized bodies, gzip bombs, odd charsets, binary,
empty and malformed pages. The shared replica (tests/sites/replica/) lacks most of them.
"""

from __future__ import annotations

import gzip
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.sites.certificate import server_context

SITE = "https://www.spacewar.com"


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

    #: what crawls of the site run with: quick, and a DOWNLOAD_TIMEOUT below the time-out fault's delay
    crawl_settings = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "PROGRESS_INTERVAL": "0",
                      "RETRY_TIMES": "2", "RETRY_BACKOFF_BASE": "0.2", "DOWNLOAD_TIMEOUT": "2",
                      "WARC_MIN_FREE_BYTES": "0", "TELNETCONSOLE_ENABLED": "False", "LOG_LEVEL": "INFO"}

    def __init__(self, n_articles: int = 20, faults=(), delay: float = 0.0, per_page: int = 10,
                 robots: str = "User-agent: *\nDisallow: /private/\n", robots_status: int = 200):
        self.robots = robots.encode()
        self.robots_status = robots_status
        self.cookie_headers: list[int] = []  # the length of each request's Cookie header (0: none)
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
        context = server_context(("www.spacewar.com", "spacewar.com"))
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                with site.lock:
                    site.hits[path] += 1
                    site.cookie_headers.append(len(self.headers.get("Cookie") or ""))
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
            return self.send(h, self.robots_status, body=self.robots, content_type="text/plain")
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


# --- hostile input: pages no well-behaved server sends ---------------------------------------------

HUGE_FEED_ITEMS = 100_000


def huge_feed(items: int = HUGE_FEED_ITEMS) -> bytes:
    """An RSS feed of `items` entries (about 17 MB for 100,000), each a distinct article link."""
    entries = "".join(f"<item><title>Story {i}</title><link>{SITE}/reports/Feed_story_{i}_999.html?utm_source=rss"
                      f"</link><guid>{SITE}/reports/Feed_story_{i}_999.html</guid><description>Story {i} of a feed "
                      f"that never ends.</description></item>\n" for i in range(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Huge</title>{entries}'
            "</channel></rss>").encode()


def deep_article(i: int, wrapper: str, depth: int) -> str:
    """An article whose story sits `depth` levels deep: unclosed <font> tags, or nested <div>s."""
    html = article_html(i)
    start, end = html.index("<p>"), html.index("<a href")
    opening = f"<{wrapper}>" * depth
    closing = "" if wrapper == "font" else f"</{wrapper}>" * depth  # old pages never closed their <font>s
    return html[:start] + opening + html[start:end] + closing + html[end:]


def _huge_feed(site, h, count):
    if not hasattr(site, "_huge_feed"):
        site._huge_feed = huge_feed()
    site.send(h, body=site._huge_feed, content_type="application/rss+xml")


def _deep_font(site, h, count):
    site.send(h, body=deep_article(910, "font", 253).encode())


def _deep_div(site, h, count):
    site.send(h, body=deep_article(911, "div", 100_000).encode())


def _cookie_flood(site, h, count):
    cookies = [("Set-Cookie", f"flood{i}={'c' * 4000}; Path=/") for i in range(300)]
    body = (f'<html><body><a href="{article_path(0)}">a</a> <a href="{article_path(1)}">b</a>'
            '<a href="/reports/After_cookies_999.html">c</a></body></html>').encode()
    site.send(h, body=body, headers=cookies)


def _redirect_to(target: str):
    def handler(site, h, count):
        site.send(h, 301, b"", headers=[("Location", target)], content_type=None)
    return handler


def _target(i: int):
    def handler(site, h, count):
        site.send(h, body=article_html(i).encode())
    return handler


def _bad_status(site, h, count):
    h.wfile.write(b"HTTP/1.1 2x0 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello")
    h.wfile.flush()
    h.close_connection = True


ODD_LINKS = ("/reports/Odd link with spaces_999.html", "/reports/Odd\u2028line_999.html")


def _odd_links(site, h, count):
    links = "".join(f'<a href="{href}">odd</a> ' for href in ODD_LINKS)
    site.send(h, body=f"<html><body>{links}</body></html>".encode())


#: hostile pages, linked from the home page only when a test names them in `faults`
HOSTILE = {
    "/huge-feed.xml": _huge_feed,
    "/reports/Deep_font_999.html": _deep_font,
    "/reports/Deep_div_999.html": _deep_div,
    "/cookies.html": _cookie_flood,
    "/reports/After_cookies_999.html": _target(912),
    "/redirect-port.html": _redirect_to(f"{SITE}:443/reports/Port_target_999.html"),
    "/reports/Port_target_999.html": _target(913),
    "/redirect-dot.html": _redirect_to("https://www.spacewar.com./reports/Dot_target_999.html"),
    "/reports/Dot_target_999.html": _target(914),
    "/reports/Bad_status_999.html": _bad_status,
    "/odd-links.html": _odd_links,
}


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
ROUTES.update(HOSTILE)
