"""The replica of www.spacewar.com behaves like the site over real sockets: links, robots.txt, redirects,
faults, compression and framing, encodings, TLS, the exchange log, the expected items and the CLI."""

from __future__ import annotations

import gzip
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest

from tests.crawling import REPO
from tests.sites.replica.server import ReplicaServer
from tests.sites.replica.clutter import DEV_SEEDS
from tests.sites.replica.content import ReplicaSite
from tests.sites.replica.pages import Renderer

SLOW = 0.4
HREF = re.compile(rb'href="([^"]+)"')


@pytest.fixture(scope="module")
def srv():
    with ReplicaServer(n_articles=40, faults=True, slow_seconds=SLOW) as server:
        yield server


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(srv, scheme: str = "https", timeout: float = 10) -> socket.socket:
    port = srv.https_port if scheme == "https" else srv.http_port
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if scheme == "https":
        sock = tls_context().wrap_socket(sock, server_hostname="www.spacewar.com")
    return sock


def request_bytes(path: str, host: str = "www.spacewar.com", *, gzip_ok: bool = False, extra: str = "",
                  close: bool = True) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "User-Agent: replica-test"]
    if gzip_ok:
        lines.append("Accept-Encoding: gzip, deflate")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")


def raw(srv, path: str, scheme: str = "https", **kw) -> bytes:
    """Everything the server sent for one request, read until it closed the connection."""
    with connect(srv, scheme) as sock:
        sock.sendall(request_bytes(path, **kw))
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except (ssl.SSLError, ConnectionResetError):
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def split(response: bytes) -> tuple[int, dict, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def unchunk(body: bytes) -> bytes:
    out, pos = [], 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol], 16)
        if size == 0:
            assert body[eol:] == b"\r\n\r\n"
            return b"".join(out)
        out.append(body[eol + 2:eol + 2 + size])
        assert body[eol + 2 + size:eol + 4 + size] == b"\r\n"
        pos = eol + 4 + size


def get(srv, path: str, **kw) -> tuple[int, dict, bytes]:
    """Status, headers and the decoded body (chunked framing and gzip undone)."""
    status, headers, body = split(raw(srv, path, **kw))
    if headers.get("transfer-encoding") == "chunked":
        body = unchunk(body)
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return status, headers, body


def article(srv, **want):
    for a in srv.site.articles:
        if all(getattr(a, k) == v for k, v in want.items()):
            return a
    raise LookupError(want)


# --- the site ---------------------------------------------------------------------------------------
def test_home_page_links_sections_feed_articles_in_several_forms_and_sister_sites(srv):
    status, headers, body = get(srv, "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert body.count(b"\r\n") > 50 and b"\n" not in body.replace(b"\r\n", b"")  # CRLF line ends
    hrefs = [h.decode() for h in HREF.findall(body)]
    for section in ("/Missile_Defense.html", "/Nuclear_Weapons.html", "/Military_Space.html",
                    "/Cyber_War.html", "/Ukraine.html"):
        assert section in hrefs
    assert "https://www.spacewar.com/spacewar.xml" in hrefs
    joined = " ".join(hrefs)
    assert "?utm_source=" in joined and "?ref=" in joined
    assert "http://spacewar.com/reports/" in joined or "http://spacewar.com/afp/" in joined
    assert re.search(r"/(reports|afp)/[^ ]+#comments", joined)
    assert any(h.startswith(("reports/", "afp/")) for h in hrefs)  # relative without a slash
    assert "https://www.spacedaily.com/" in hrefs
    assert re.search(r"&#\d+;", body.decode("ascii")), "typographic characters come as numeric entities"


def walk(srv) -> tuple[set[str], dict[str, int]]:
    """A breadth-first walk over on-site links, robots.txt obeyed, 503 retried once, as a crawler does:
    (article URLs found, status of every path fetched)."""
    disallowed = tuple(srv.disallowed_paths())
    statuses, queue, found = {}, ["/", "/spacewar.xml"], set()
    while queue:
        path = queue.pop()
        if path in statuses:
            continue
        status, headers, body = get(srv, path, gzip_ok=True)
        if status == 503:
            status, headers, body = get(srv, path, gzip_ok=True)
        statuses[path] = status
        if status != 200:
            continue
        if re.match(r"^/(reports|afp)/", path):
            found.add("https://www.spacewar.com" + path)
        links = [h.decode("latin-1") for h in HREF.findall(body)]
        links += [m.decode("latin-1") for m in re.findall(rb"<link>([^<]+)</link>", body)]
        for link in links:
            parts = urlsplit(urljoin("https://www.spacewar.com" + path, unescape(link)))
            if parts.hostname in ("www.spacewar.com", "spacewar.com") and not parts.path.startswith(disallowed) \
                    and not re.search(r"\.(css|jpg|gif)$", parts.path):
                queue.append(parts.path)
    return found, statuses


def test_every_expected_article_is_reachable_by_following_links_from_home_and_feed(srv):
    found, statuses = walk(srv)
    expected = {i["url"] for i in srv.expected_items()}
    assert expected <= found, expected - found
    assert len(statuses) < 200


def test_a_clean_site_links_no_missing_page():
    with ReplicaServer(n_articles=60, faults=False, fixtures_dir=None) as clean:
        found, statuses = walk(clean)
        assert {p: s for p, s in statuses.items() if s != 200} == {}
        assert found == {i["url"] for i in clean.expected_items()}
        assert len(found) == 60


def test_robots_txt_disallows_paths_that_pages_link_to(srv):
    status, _, body = get(srv, "/robots.txt")
    assert status == 200
    rules = re.findall(r"^Disallow: *(\S+)", body.decode(), re.M)
    assert set(srv.disallowed_paths()) == set(rules) >= {"/cgi-bin/", "/search/", "/private/"}
    home = get(srv, "/")[2]
    for prefix in rules:
        assert re.search(rb'href="(https://www\.spacewar\.com)?' + re.escape(prefix.encode()), home), prefix


def test_http_and_the_bare_host_redirect_permanently_to_https_www(srv):
    status, headers, _ = get(srv, "/reports/Anything_999.html?utm_source=x", scheme="http")
    assert status == 301
    assert headers["location"] == "https://www.spacewar.com/reports/Anything_999.html?utm_source=x"
    status, headers, _ = get(srv, "/Ukraine.html", host="spacewar.com")
    assert (status, headers["location"]) == (301, "https://www.spacewar.com/Ukraine.html")
    status, headers, _ = get(srv, "/", scheme="http", host="spacewar.com")
    assert (status, headers["location"]) == (301, "https://www.spacewar.com/")


def test_old_article_url_redirects_to_the_current_one(srv):
    [(old, new)] = srv.site.redirects.items()
    assert "_old_999" in old and old.replace("_old", "") == new
    status, headers, _ = get(srv, old)
    assert (status, headers["location"]) == (301, "https://www.spacewar.com" + new)
    assert get(srv, new)[0] == 200


def test_withdrawn_story_and_a_dead_link_in_a_listing_answer_404(srv):
    home = get(srv, "/")[2]
    assert srv.site.withdrawn.encode() in home
    assert get(srv, srv.site.withdrawn)[0] == 404
    section = get(srv, "/Missile_Defense.html")[2]
    assert srv.site.dead_link.encode() in section
    assert get(srv, srv.site.dead_link)[0] == 404


def test_flaky_article_answers_503_then_200(srv):
    a = article(srv, fault="flaky")
    first = get(srv, a.path)
    second = get(srv, a.path)
    assert first[0] == 503 and first[1].get("retry-after")
    assert second[0] == 200 and b"<!--body-2-incontainer.php-->" in second[2]
    assert a.url in {i["url"] for i in srv.expected_items()}


def test_slow_article_sends_its_body_late_but_whole(srv):
    a = article(srv, fault="slow")
    began = time.monotonic()
    status, headers, body = get(srv, a.path)
    assert time.monotonic() - began >= SLOW
    assert status == 200 and len(body) == int(headers["content-length"])


def test_truncated_response_is_really_short_and_not_expected(srv):
    a = article(srv, fault="truncated")
    status, headers, body = split(raw(srv, a.path, gzip_ok=True))
    assert status == 200
    assert "content-encoding" not in headers  # cut short as plain bytes
    assert 0 < len(body) < int(headers["content-length"]) // 2
    assert a.url not in {i["url"] for i in srv.expected_items()}


def test_text_is_gzipped_when_asked_and_identity_otherwise(srv):
    a = article(srv, fault=None, layout="legacy", charset="ascii")
    status, h_plain, plain = split(raw(srv, a.path))
    status2, h_gz, zipped = split(raw(srv, a.path, gzip_ok=True))
    assert status == status2 == 200
    assert "content-encoding" not in h_plain and plain.lstrip().startswith(b"<!DOCTYPE")
    assert h_gz["content-encoding"] == "gzip" and "Accept-Encoding" in h_gz["vary"]
    assert zipped[:2] == b"\x1f\x8b" and gzip.decompress(zipped) == plain
    assert int(h_gz["content-length"]) == len(zipped) < len(plain)


def test_feeds_are_chunked_and_articles_have_content_length(srv):
    status, headers, body = split(raw(srv, "/spacewar.xml", gzip_ok=True))
    assert status == 200 and headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    xml = gzip.decompress(unchunk(body))
    assert xml.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>') and xml.count(b"<item>") == 30
    assert b"utm_source=rss&amp;utm_medium=feed" in xml
    listings = ["/"] + [f"/{s}.html" for s in ("Missile_Defense", "Nuclear_Weapons", "Military_Space")]
    framing = [split(raw(srv, p))[1].get("transfer-encoding") for p in listings]
    assert "chunked" in framing and None in framing
    a = article(srv, fault=None)
    assert "content-length" in split(raw(srv, a.path))[1]


def test_keep_alive_serves_several_requests_on_one_connection(srv):
    with connect(srv) as sock:
        reader = sock.makefile("rb")
        for path in ("/robots.txt", "/about.html", "/robots.txt"):
            sock.sendall(request_bytes(path, close=False))
            status_line = reader.readline()
            assert status_line.startswith(b"HTTP/1.1 200")
            length = None
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                assert line.lower() != b"connection: close\r\n"
            reader.read(length)


def test_windows_1252_pages_carry_raw_curly_quotes_and_accents(srv):
    a = article(srv, charset="windows-1252")
    b = article(srv, charset="iso-8859-1")
    for art in (a, b):
        status, headers, body = get(srv, art.path)
        assert status == 200 and f"charset={art.charset}".encode() in body[:400]
        assert b"\x93" in body and b"\x94" in body
        assert re.search(rb"[\xe0-\xfc]", body)
        text = body.decode("cp1252")
        for para in art.paragraphs():
            assert para in text or para.replace("&", "&amp;") in text


def test_the_modern_layout_article_has_no_legacy_markers(srv):
    [a] = [a for a in srv.site.articles if a.layout == "html5"]
    status, headers, body = get(srv, a.path)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert b"<article>" in body and b"<time datetime=" in body and b'"@type": "NewsArticle"' in body
    assert b"body-2-incontainer" not in body and b'class="BHS"' not in body
    exp = [e for e in srv.expected_items() if e["url"] == a.url][0]
    assert exp["extraction"] == "fallback"


def test_the_samples_are_served_byte_for_byte_with_their_expected_items(srv):
    sample = (REPO / "tests/fixtures/samples/article-afp.html").read_bytes()
    expected = json.loads((REPO / "tests/fixtures/samples/article-afp.expected.json").read_text())
    status, _, body = get(srv, urlsplit(expected["url"]).path, gzip_ok=True)
    assert status == 200 and body == sample
    assert expected in srv.expected_items()


def test_articles_answer_304_to_a_matching_conditional_request(srv):
    a = article(srv, fault=None, layout="legacy")
    status, headers, _ = get(srv, a.path)
    etag = headers["etag"]
    status, headers2, body = split(raw(srv, a.path, extra=f"If-None-Match: {etag}\r\n"))
    assert status == 304 and body == b"" and headers2["etag"] == etag
    status, _, _ = split(raw(srv, a.path, extra='If-None-Match: "other"\r\n'))
    assert status == 200


def test_an_edited_article_changes_page_etag_and_expected_item():
    with ReplicaServer(n_articles=12, faults=False) as server:
        a = server.site.articles[1]
        before = get(server, a.path)
        server.site.edit_article(a.url, body_suffix="Editor's note: this story was corrected.")
        after = get(server, a.path)
        assert b"Editor's note: this story was corrected." in after[2]
        assert after[1]["etag"] != before[1]["etag"]
        [exp] = [e for e in server.expected_items() if e["url"] == a.url]
        assert exp["body"].endswith("\n\nEditor's note: this story was corrected.")


def test_sister_hosts_answer_and_show_up_in_the_log(srv):
    before = len(srv.log)
    status, _, body = get(srv, "/reports/x.html", host="www.spacedaily.com")
    assert status == 200 and b"sister site" in body
    assert [(e.host, e.status) for e in srv.log[before:]] == [("www.spacedaily.com", 200)]
    hm = srv.host_map()
    for host in ("www.spacewar.com", "spacewar.com", "www.spacedaily.com", "www.energy-daily.com",
                 "www.terradaily.com", "www.spxdaily.com", "ads.spacemedianetwork.example"):
        assert hm[f"{host}:443"] == f"127.0.0.1:{srv.https_port}"
        assert hm[f"{host}:80"] == f"127.0.0.1:{srv.http_port}"


# --- the exchange log and TLS ---------------------------------------------------------------------
def test_log_records_each_exchange_with_the_exact_bytes(srv):
    before = len(srv.log)
    sent = request_bytes("/spacewar.xml?utm_source=x", gzip_ok=True)
    with connect(srv) as sock:
        sock.sendall(sent)
        received = b""
        while data := sock.recv(65536):
            received += data
    [ex] = srv.log[before:]
    assert (ex.scheme, ex.host, ex.method, ex.path, ex.status) == (
        "https", "www.spacewar.com", "GET", "/spacewar.xml?utm_source=x", 200)
    assert ex.request_head == sent
    assert ex.response_bytes == received
    assert b"Transfer-Encoding: chunked" in ex.response_bytes and ex.finished >= ex.started


def test_https_listener_presents_a_certificate_for_the_site_hosts(srv):
    with connect(srv) as sock:
        der = sock.getpeercert(binary_form=True)
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert {"www.spacewar.com", "spacewar.com", "www.spacedaily.com"} <= set(names)


def test_expected_items_are_at_least_30_distinct_canonical_articles(srv):
    items = srv.expected_items()
    urls = [i["url"] for i in items]
    assert len(items) >= 30 and len(set(urls)) == len(urls)
    for item in items:
        parts = urlsplit(item["url"])
        assert parts.scheme == "https" and parts.netloc == "www.spacewar.com" and not parts.query
    generated = [i for i in items if i.get("extraction") == "site-rules"]
    assert {i["agency"] for i in generated} >= {"AFP", "SPX", "UPI"} and len({i["agency"] for i in generated}) >= 4
    assert any(i["author"] is None for i in generated) and any(i["author"] for i in generated)
    assert {len(i["images"]) for i in generated} >= {0, 1, 2}
    assert any(i["rights"] and "Agence France-Presse" in i["rights"] for i in generated)
    assert any(i["rights"] and "United Press International" in i["rights"] for i in generated)
    assert any(re.match(r"^/afp/\d{12}\.[0-9a-z]{8}\.html$", urlsplit(u).path) for u in urls)
    assert any(re.match(r"^/reports/\w+(?<!_999)\.html$", urlsplit(u).path) for u in urls)
    assert all("\n\n\n" not in i["body"] and i["body"] == i["body"].strip() for i in items if "body" in i)
    assert any("\u201c" in i["body"] for i in generated)


# --- the command line -------------------------------------------------------------------------------
def test_cli_writes_its_info_file_serves_and_stops_on_sigterm(tmp_path):
    info_file = tmp_path / "info.json"
    proc = subprocess.Popen([sys.executable, "-m", "tests.sites.replica", "--articles", "20", "--no-faults",
                             "--info-file", str(info_file)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not info_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        info = json.loads(info_file.read_text())
        assert info["host_map"]["www.spacewar.com:443"] == f"127.0.0.1:{info['https_port']}"
        with socket.create_connection(("127.0.0.1", info["https_port"]), timeout=10) as s:
            with tls_context().wrap_socket(s, server_hostname="www.spacewar.com") as sock:
                sock.sendall(request_bytes("/robots.txt"))
                assert sock.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert json.loads(out.decode().split("\n}")[0] + "\n}")["https_port"] == info["https_port"]


# --- served over HTTP ----------------------------------------------------------------------------------------
def test_a_cluttered_multi_story_replica_serves_every_expected_article_and_no_missing_page():

    with ReplicaServer(n_articles=50, faults=False, fixtures_dir=None, clutter_seed=DEV_SEEDS[2],
                       multi_story=True) as srv:
        found, statuses = walk(srv)
        assert {p: s for p, s in statuses.items() if s != 200} == {}
        expected = srv.expected_items()
        assert found == {i["url"] for i in expected}
        assert any(i["related_stories"] for i in expected)


def test_the_cli_serves_the_cluttered_multi_story_replica():
    import http.client
    import ssl

    from bench import ReplicaProcess

    site = ReplicaSite(20, faults=False, clutter_seed=2, multi_story=True)
    art = next(a for a in site.articles if a.related)
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with ReplicaProcess(20, clutter_seed=2, multi_story=True) as replica:
        port = int(replica.host_map["www.spacewar.com:443"].rsplit(":", 1)[1])
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
        conn.request("GET", art.path, headers={"Host": "www.spacewar.com"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    assert resp.status == 200
    assert body == Renderer(site).render(art.path).body

